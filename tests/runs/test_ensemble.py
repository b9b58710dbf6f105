"""Ensembles of stored runs: the performance table (node x run) and the metadata table.

The stores are written here in the store's on-disk format (timemory-store.json, then per run
runs/<id>/run.json and runs/<id>/table.json from ``Table.to_json``), so the ensemble is tested
on the files alone, with values whose statistics are known exactly.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import sys

import numpy as np
import pytest
from timemory.runs import RunsError, Table, _ensemble
from timemory.runs._ensemble import ensemble, node_name

pd = pytest.importorskip("pandas")

NAN = float("nan")


def make_table(values, repeats, unit="ns", component="wall_clock"):
    """A Table from {path: [inclusive value per repeat]} (self = inclusive / 2, count = 1;
    None where a repeat lacks the node)."""
    paths = list(values)
    inclusive = np.array(
        [[NAN if v is None else float(v) for v in values[p]] for p in paths], dtype=np.float64
    ).reshape(len(paths), repeats)
    per = {
        "inclusive": inclusive,
        "self": inclusive / 2.0,
        "count": np.where(np.isnan(inclusive), NAN, 1.0),
    }
    return Table([component], {component: unit}, paths, {component: per}, repeats)


def write_run(store, run_id, parameters, table, *, status="done", created=None, env=None):
    folder = os.path.join(store, "runs", run_id)
    os.makedirs(folder)
    if table is not None:
        with open(os.path.join(folder, "table.json"), "w") as stream:
            json.dump(table.to_json(), stream)
    manifest = {
        "format": "timemory-run",
        "version": 1,
        "id": run_id,
        "parameters": parameters,
        "code": "v1",
        "environment": env or {"python": "3.11.7", "timemory": "0.1.0", "cpu": "test cpu"},
        "target": {"kind": "callable", "name": "app:solve", "args": []},
        "components": ["wall_clock"],
        "repeats": table.repeats if table is not None else 0,
        "requested": 4,
        "done": status == "done",
        "status": status,
        "error": None,
        "result": None,
        "runtime": [0.5, 0.25],
        "created": created
        or f"2026-01-01T00:00:{len(os.listdir(os.path.join(store, 'runs'))):02d}",
        "finished": None,
    }
    with open(os.path.join(folder, "run.json"), "w") as stream:
        json.dump(manifest, stream)


def new_store(tmp_path):
    store = str(tmp_path / "store")
    os.makedirs(os.path.join(store, "runs"))
    with open(os.path.join(store, "timemory-store.json"), "w") as stream:
        json.dump({"format": "timemory-run-store", "version": 1, "created": "2026"}, stream)
    return store


MAIN, SOLVE, INNER, IO = ("main",), ("main", "solve"), ("main", "solve", "inner"), ("main", "io")


@pytest.fixture
def store(tmp_path):
    """Three runs: a (n=10, fast), b (n=20, fast; lacks inner, has io), c (n=20, safe)."""
    path = new_store(tmp_path)
    write_run(
        path,
        "a" * 16,
        {"n": 10, "mode": "fast"},
        make_table({MAIN: [10, 20, 30, 100], SOLVE: [4, 8, 6, 2], INNER: [1, 1, None, 4]}, 4),
    )
    write_run(
        path,
        "b" * 16,
        {"n": 20, "mode": "fast"},
        make_table({MAIN: [5, 7, 9], SOLVE: [1, 2, 3], IO: [3, 3, 3]}, 3),
    )
    write_run(
        path,
        "c" * 16,
        {"n": 20, "mode": "safe", "grid": [1, 2]},
        make_table({MAIN: [50, 50], SOLVE: [40, 42], INNER: [7, 9]}, 2),
    )
    return path


A, B, C = "a" * 16, "b" * 16, "c" * 16


def cell(frame, path, run, column):
    return frame.loc[(node_name(path), run), column]


# ------------------------------------------------------------------ the performance table
def test_frame_index_and_columns(store):
    ens = ensemble(store)
    frame = ens.dataframe
    assert list(frame.index.names) == ["node", "run"]
    assert ens.nodes == ["main", "main/solve", "main/solve/inner", "main/io"]
    assert ens.paths == [MAIN, SOLVE, INNER, IO]
    assert ens.runs == [A, B, C]
    # every node has a row for every run, node-major
    assert frame.shape[0] == 4 * 3
    assert list(frame.index[:3]) == [("main", A), ("main", B), ("main", C)]
    stats = ["median", "mean", "std", "min", "max", "n"]
    assert list(frame.columns) == ["name", "depth"] + [
        f"wall_clock.{metric}.{s}" for metric in ("inclusive", "self") for s in stats
    ]
    assert (
        list(frame["name"].astype(str)) == ["main"] * 3 + ["solve"] * 3 + ["inner"] * 3 + ["io"] * 3
    )
    assert list(frame["depth"]) == [0] * 3 + [1] * 3 + [2] * 3 + [1] * 3
    assert frame.attrs["units"] == {"wall_clock": "ns"}
    assert ens.units == {"wall_clock": "ns"}
    assert frame["wall_clock.inclusive.n"].dtype == np.int64


def test_statistics_are_exact(store):
    frame = ensemble(store).dataframe
    col = "wall_clock.inclusive."
    # main of a: 10, 20, 30, 100
    assert cell(frame, MAIN, A, col + "median") == 25.0
    assert cell(frame, MAIN, A, col + "mean") == 40.0
    assert cell(frame, MAIN, A, col + "min") == 10.0
    assert cell(frame, MAIN, A, col + "max") == 100.0
    assert cell(frame, MAIN, A, col + "n") == 4
    assert cell(frame, MAIN, A, col + "std") == pytest.approx(np.std([10, 20, 30, 100], ddof=1))
    # inner of a lacks its third repeat: 1, 1, 4
    assert cell(frame, INNER, A, col + "median") == 1.0
    assert cell(frame, INNER, A, col + "mean") == 2.0
    assert cell(frame, INNER, A, col + "n") == 3
    assert cell(frame, INNER, A, col + "max") == 4.0
    # odd count: the middle value; self is half of inclusive
    assert cell(frame, SOLVE, B, col + "median") == 2.0
    assert cell(frame, SOLVE, B, "wall_clock.self.median") == 1.0
    assert cell(frame, IO, B, col + "std") == 0.0
    # two repeats
    assert cell(frame, SOLVE, C, col + "median") == 41.0
    assert cell(frame, SOLVE, C, col + "std") == pytest.approx(math.sqrt(2.0))


def test_a_node_a_run_lacks_is_nan(store):
    frame = ensemble(store).dataframe
    for column in ("median", "mean", "std", "min", "max"):
        assert math.isnan(cell(frame, INNER, B, f"wall_clock.inclusive.{column}"))
        assert math.isnan(cell(frame, IO, A, f"wall_clock.self.{column}"))
    assert cell(frame, INNER, B, "wall_clock.inclusive.n") == 0
    assert cell(frame, IO, C, "wall_clock.inclusive.n") == 0


def test_statistics_match_numpy_on_random_blocks():
    rng = np.random.default_rng(7)
    block = rng.lognormal(size=(500, 9))
    block[rng.random(block.shape) < 0.3] = np.nan
    block[0] = np.nan  # no value at all
    block[1, 1:] = np.nan  # one value: std NaN
    out = _ensemble._block_stats(block, _ensemble.STATS)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        expected = {
            "median": np.nanmedian(block, axis=1),
            "mean": np.nanmean(block, axis=1),
            "std": np.nanstd(block, axis=1, ddof=1),
            "min": np.nanmin(block, axis=1),
            "max": np.nanmax(block, axis=1),
        }
    for name, values in expected.items():
        np.testing.assert_allclose(out[name], values, rtol=1e-12, equal_nan=True, err_msg=name)
    np.testing.assert_array_equal(out["n"], np.count_nonzero(~np.isnan(block), axis=1))


def test_metric_and_stats_choices(store):
    ens = ensemble(store, "wall_clock", metric="count", stats=["median", "n"])
    assert list(ens.dataframe.columns) == [
        "name",
        "depth",
        "wall_clock.count.median",
        "wall_clock.count.n",
    ]
    assert cell(ens.dataframe, INNER, A, "wall_clock.count.median") == 1.0
    with pytest.raises(
        RunsError, match=r"unknown metric 'total' \(valid: inclusive, self, count\)"
    ):
        ensemble(store, metric="total")
    with pytest.raises(RunsError, match="unknown statistic 'p99'"):
        ensemble(store, stats="median,p99")
    with pytest.raises(
        RunsError, match=r"component 'wal_clock' is in none of the runs.*wall_clock"
    ):
        ensemble(store, ["wal_clock"])


def test_repeats_gives_the_raw_values(store):
    ens = ensemble(store, repeats=True)
    frame = ens.dataframe
    assert list(frame.index.names) == ["node", "run", "repeat"]
    # every node x every repeat of every run: 4 nodes x (4 + 3 + 2) repeats
    assert frame.shape[0] == 4 * 9
    assert list(frame.columns) == ["name", "depth", "wall_clock.inclusive", "wall_clock.self"]
    main_a = frame.loc[("main", A), "wall_clock.inclusive"]
    assert list(main_a) == [10.0, 20.0, 30.0, 100.0]
    assert list(main_a.index) == [0, 1, 2, 3]
    inner_a = frame.loc[(node_name(INNER), A), "wall_clock.inclusive"].to_numpy()
    np.testing.assert_array_equal(inner_a, [1.0, 1.0, NAN, 4.0])
    assert frame.loc[("main/io", C), "wall_clock.self"].isna().all()
    assert list(frame.loc[("main/io", B), "wall_clock.self"]) == [1.5, 1.5, 1.5]
    # the statistics of the raw values are those of the statistics table
    stats = ensemble(store).dataframe
    medians = frame.groupby(level=["node", "run"], sort=False)["wall_clock.inclusive"].median()
    np.testing.assert_array_equal(
        medians.reindex(stats.index).to_numpy(), stats["wall_clock.inclusive.median"].to_numpy()
    )


def test_node_names_escape_the_separator():
    assert node_name(("main", "solve")) == "main/solve"
    assert node_name(("a/b", "c")) == "a\\/b/c"
    assert node_name(("a", "b/c")) == "a/b\\/c"
    assert node_name(("a\\", "b")) == "a\\\\/b"
    assert node_name(("a", "\\/b")) != node_name(("a\\", "/b"))
    assert _ensemble.Ensemble.node_name(("a/b", "c")) == "a\\/b/c"


def test_union_keeps_pre_order(tmp_path):
    path = new_store(tmp_path)
    write_run(path, "1" * 16, {"k": 1}, make_table({MAIN: [1], SOLVE: [1], IO: [1]}, 1))
    # a node under solve that the first run lacks comes inside solve's subtree
    write_run(path, "2" * 16, {"k": 2}, make_table({MAIN: [1], SOLVE: [1], INNER: [1]}, 1))
    assert ensemble(path).paths == [MAIN, SOLVE, INNER, IO]


# ------------------------------------------------------------------ metadata, filters, groups
def test_metadata_table(store):
    ens = ensemble(store)
    meta = ens.metadata
    assert meta.index.name == "run"
    assert list(meta.index) == [A, B, C]
    assert list(meta.columns[:3]) == ["grid", "mode", "n"]
    assert list(meta["n"]) == [10, 20, 20]
    assert meta["n"].dtype == np.int64
    assert list(meta["mode"]) == ["fast", "fast", "safe"]
    assert meta["grid"].tolist() == [None, None, (1, 2)]
    for column in ("code", "status", "repeats", "python", "timemory", "cpu", "target.name"):
        assert column in meta.columns
    assert list(meta["repeats"]) == [4, 3, 2]
    assert list(meta["python"]) == ["3.11.7"] * 3
    assert list(meta["runtime"]) == [0.75] * 3
    assert meta.loc[A, "target.name"] == "app:solve"


def test_a_parameter_named_like_a_field_keeps_its_name(tmp_path):
    path = new_store(tmp_path)
    write_run(path, "1" * 16, {"status": "warm", "python": 3}, make_table({MAIN: [1]}, 1))
    meta = ensemble(path).metadata
    assert meta.loc["1" * 16, "status"] == "warm"
    assert meta.loc["1" * 16, "run.status"] == "done"
    assert meta.loc["1" * 16, "python"] == 3
    assert meta.loc["1" * 16, "environment.python"] == "3.11.7"


def test_filter_metadata(store):
    ens = ensemble(store)
    sub = ens.filter_metadata(n__ge=20)
    assert sub.runs == [B, C]
    assert list(sub.metadata.index) == [B, C]
    assert set(sub.dataframe.index.get_level_values("run")) == {B, C}
    assert sub.dataframe.shape[0] == 4 * 2
    only_b = ens.filter_metadata(mode="fast", n=20)
    assert only_b.runs == [B]
    # the nodes none of the runs left has are gone
    assert only_b.nodes == ["main", "main/solve", "main/io"]
    assert only_b.dataframe.shape[0] == 3
    assert cell(only_b.dataframe, MAIN, B, "wall_clock.inclusive.median") == 7.0
    assert ens.filter_metadata(mode=["safe", "other"]).runs == [C]
    assert ens.filter_metadata(mode__ne="safe").runs == [A, B]
    # a run without the parameter never matches it
    assert ens.filter_metadata(grid=[[1, 2]]).runs == [C]
    assert ens.filter_metadata(id=A).runs == [A]
    assert ens.filter_metadata(python="3.11.7", status="done").runs == [A, B, C]
    # Thicket's form: a function of the metadata row
    assert ens.filter_metadata(lambda row: row["n"] == 10).runs == [A]
    empty = ens.filter_metadata(n=99)
    assert empty.runs == [] and empty.dataframe.shape[0] == 0 and len(empty) == 0
    with pytest.raises(RunsError, match=r"no metadata column 'mod'.*mode") as info:
        ens.filter_metadata(mod="fast")
    assert "\n" not in str(info.value)
    with pytest.raises(RunsError, match="suffix") as info:
        ens.filter_metadata(n__about=10)
    assert "\n" not in str(info.value)
    # the original is left as it was
    assert ens.runs == [A, B, C] and ens.dataframe.shape[0] == 12
    # the raw repeats: the same selection
    raw = ensemble(store, repeats=True).filter_metadata(mode="fast", n=20)
    assert raw.runs == [B] and raw.nodes == ["main", "main/solve", "main/io"]
    assert raw.dataframe.shape[0] == 3 * 3
    assert list(raw.dataframe.loc[("main/io", B), "wall_clock.inclusive"]) == [3.0, 3.0, 3.0]


def test_groupby(store):
    ens = ensemble(store)
    groups = ens.groupby("mode")
    assert list(groups) == ["fast", "safe"]
    assert groups["fast"].runs == [A, B]
    assert groups["safe"].runs == [C]
    assert groups["safe"].nodes == ["main", "main/solve", "main/solve/inner"]
    pairs = ens.groupby(["n", "mode"])
    assert list(pairs) == [(10, "fast"), (20, "fast"), (20, "safe")]
    assert pairs[(20, "safe")].runs == [C]
    grids = ens.groupby("grid")
    assert list(grids) == [(1, 2), None]
    assert grids[None].runs == [A, B]
    with pytest.raises(RunsError, match="no metadata column 'nn'"):
        ens.groupby("nn")


# ------------------------------------------------------------------ sources and bad input
def test_sources(store, tmp_path):
    from pathlib import Path

    assert ensemble(Path(store)).runs == [A, B, C]
    with pytest.raises(RunsError, match="not a run store"):
        ensemble(str(tmp_path))
    with pytest.raises(RunsError, match="the folder does not exist"):
        ensemble(str(tmp_path / "missing"))
    assert not os.path.exists(tmp_path / "missing")  # a source is read, never created
    with open(os.path.join(store, "timemory-store.json"), "w") as stream:
        json.dump({"format": "timemory-run-store", "version": 7}, stream)
    with pytest.raises(RunsError, match="format version 7"):
        ensemble(store)
    with pytest.raises(RunsError, match="a source is a Store, the path of a store or a list"):
        ensemble(42)
    with pytest.raises(RunsError, match="holds Run objects"):
        ensemble(["not a run"])


def test_a_corrupt_table_is_skipped_with_one_line(store, capfd):
    with open(os.path.join(store, "runs", B, "table.json"), "w") as stream:
        stream.write('{"format": "timemory-run-table", "version": 1, "repeats": ')
    ens = ensemble(store)
    assert ens.runs == [A, C]
    assert B in ens.skipped
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line]
    assert len(lines) == 1
    assert B in lines[0] and "table.json" in lines[0]
    # the node only the skipped run had is not in the table
    assert "main/io" not in ens.nodes


def test_a_table_with_wrong_shape_is_skipped(store, capfd):
    path = os.path.join(store, "runs", C, "table.json")
    with open(path) as stream:
        doc = json.load(stream)
    doc["components"]["wall_clock"]["self"] = [[1.0]]
    with open(path, "w") as stream:
        json.dump(doc, stream)
    ens = ensemble(store)
    assert ens.runs == [A, B]
    lines = [line for line in capfd.readouterr().err.splitlines() if line]
    assert len(lines) == 1 and C in lines[0] and "wall_clock.self" in lines[0]


def test_a_run_without_nodes(tmp_path):
    path = new_store(tmp_path)
    write_run(path, "1" * 16, {"k": 1}, make_table({}, 3))
    write_run(path, "2" * 16, {"k": 2}, make_table({MAIN: [1, 2, 3]}, 3))
    ens = ensemble(path)
    assert ens.runs == ["1" * 16, "2" * 16]
    assert cell(ens.dataframe, MAIN, "1" * 16, "wall_clock.inclusive.n") == 0
    assert cell(ens.dataframe, MAIN, "2" * 16, "wall_clock.inclusive.median") == 2.0
    assert ensemble(path, repeats=True).dataframe.shape[0] == 6
    empty = ensemble(path).filter_metadata(k=1)
    assert empty.runs == ["1" * 16] and empty.nodes == [] and empty.dataframe.shape[0] == 0


def test_runs_not_done_are_left_out(tmp_path):
    path = new_store(tmp_path)
    write_run(path, "1" * 16, {"k": 1}, make_table({MAIN: [1]}, 1))
    write_run(path, "2" * 16, {"k": 2}, None, status="pending")
    write_run(path, "3" * 16, {"k": 3}, None, status="failed")
    ens = ensemble(path)
    assert ens.runs == ["1" * 16]
    assert ens.skipped == {"2" * 16: "status pending", "3" * 16: "status failed"}


def test_a_corrupt_manifest_is_skipped_with_one_line(store, capfd):
    with open(os.path.join(store, "runs", A, "run.json"), "w") as stream:
        stream.write("{")
    assert ensemble(store).runs == [B, C]
    lines = [line for line in capfd.readouterr().err.splitlines() if line]
    assert len(lines) == 1 and A in lines[0] and "skipped" in lines[0]


def test_pandas_missing_is_one_line(store, monkeypatch):
    real_import = builtins.__import__

    def without(name, *args, **kwargs):
        if name == "pandas" or name.startswith("pandas."):
            raise ImportError("No module named 'pandas'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
    with pytest.raises(ImportError) as info:
        ensemble(store)
    message = str(info.value)
    assert "\n" not in message
    assert "timemory.runs needs the pandas package" in message and "pip install" in message


# ------------------------------------------------------------------ Thicket
def test_thicket_missing_is_one_line(store, monkeypatch):
    ens = ensemble(store)
    monkeypatch.setitem(sys.modules, "thicket", None)
    with pytest.raises(ImportError) as info:
        ens.to_thicket()
    message = str(info.value)
    assert "\n" not in message
    assert "llnl-thicket" in message and "pip install" in message


#: thicket 2026.1.1's statistics aggregate with numpy functions, which pandas 2 warns about
thicket_numpy_aggregates = pytest.mark.filterwarnings(
    "ignore:The provided callable <function median:FutureWarning"
)


@thicket_numpy_aggregates
@pytest.mark.parametrize("repeats", [False, True])
def test_to_thicket(store, repeats):
    thicket = pytest.importorskip("thicket")
    ens = ensemble(store, repeats=repeats)
    tk = ens.to_thicket()
    assert isinstance(tk, thicket.Thicket)
    assert list(tk.dataframe.index.names) == ["node", "profile"]
    assert tk.metadata.index.name == "profile"
    names = sorted({n.frame["name"] for n in tk.graph.traverse()})
    assert names == ["inner", "io", "main", "solve"]
    by_name = {name: profile for profile, name in tk.profile_mapping.items()}
    assert sorted(tk.profile) == sorted(by_name.values())
    if repeats:
        assert len(tk.profile) == 9
        assert sorted(by_name)[:4] == [f"{A}/{k}" for k in range(4)]
        row = tk.metadata.loc[by_name[f"{B}/1"]]
        assert (row["run"], row["repeat"], row["n"]) == (B, 1, 20)
        assert "wall_clock.inclusive" in tk.inc_metrics
        assert "wall_clock.self" in tk.exc_metrics
        column = "wall_clock.inclusive"
    else:
        assert sorted(by_name) == [A, B, C]
        assert tk.metadata.loc[by_name[C], "mode"] == "safe"
        assert tk.metadata.loc[by_name[C], "run"] == C
        assert "wall_clock.inclusive.median" in tk.inc_metrics
        column = "wall_clock.inclusive.median"
    main = next(n for n in tk.graph.roots if n.frame["name"] == "main")
    assert len(tk.dataframe.loc[main]) == len(tk.profile)
    # Thicket's own statistics and selections work on it
    thicket.stats.median(tk, columns=[column])
    medians = tk.statsframe.dataframe[f"{column}_median"]
    if repeats:  # the median of main over every repeat of every run
        assert medians[main] == 20.0
    else:  # the median of the runs' medians: 25, 7, 50
        assert medians[main] == 25.0
    fast = tk.filter_metadata(lambda row: row["mode"] == "fast")
    assert set(fast.metadata["mode"]) == {"fast"}
    assert set(fast.metadata["run"]) == {A, B}


def test_blocks_do_not_change_the_table(store, monkeypatch):
    """Runs read in blocks of one run each (their statistics computed block by block) give
    the table of one block."""
    whole = ensemble(store)
    raw = ensemble(store, repeats=True)
    monkeypatch.setattr(_ensemble, "_BLOCK_VALUES", 1)
    pd.testing.assert_frame_equal(ensemble(store).dataframe, whole.dataframe)
    pd.testing.assert_frame_equal(ensemble(store, repeats=True).dataframe, raw.dataframe)


# ------------------------------------------------------------------ with the store
def _measured_graph(fake_clock, solve_seconds):
    """One repeat measured with timemory's markers on the fake clock: main (0.25 s of its
    own) around solve."""
    import timemory
    from timemory.bundle import marker
    from timemory.runs import from_live

    timemory.clear()
    with marker(["wall_clock"], key="main"):
        fake_clock.advance(0.25)
        with marker(["wall_clock"], key="solve"):
            fake_clock.advance(solve_seconds)
    graph = from_live(["wall_clock"])
    timemory.clear()
    return graph


def test_a_store_of_measured_runs(tmp_path, fake_clock):
    from timemory.runs import Store

    store = Store(tmp_path / "store")
    for n, solve in ((10, (0.5, 0.75, 1.0)), (20, (2.0, 3.0, 4.0))):
        graphs = [_measured_graph(fake_clock, s) for s in solve]
        store.save({"n": n}, Table.from_graphs(graphs), code="v1", components=["wall_clock"])
    # a run that failed has no table
    store.save({"n": 30}, None, code="v1", components=["wall_clock"], status="failed", error="x")
    ens = ensemble(store)
    assert len(ens.runs) == 2 and len(ens.skipped) == 1
    frame = ens.dataframe
    first, second = ens.runs
    assert ens.nodes == ["main", "main/solve"]
    assert cell(frame, SOLVE, first, "wall_clock.inclusive.median") == 750_000_000
    assert cell(frame, MAIN, first, "wall_clock.inclusive.median") == 1_000_000_000
    assert cell(frame, MAIN, second, "wall_clock.self.median") == 250_000_000
    assert cell(frame, SOLVE, second, "wall_clock.inclusive.min") == 2_000_000_000
    assert cell(frame, SOLVE, second, "wall_clock.self.n") == 3
    meta = ens.metadata
    assert list(meta["n"]) == [10, 20]
    assert list(meta["code"]) == ["v1", "v1"]
    assert list(meta["repeats"]) == [3, 3]
    # the store's environment fingerprint: its fields are columns
    run = store.get(first)
    assert {k for k in run.environment if not isinstance(run.environment[k], dict)} <= set(
        meta.columns
    )
    # the same from the folder, from a selection of runs and from one run
    pd.testing.assert_frame_equal(ensemble(store.path).dataframe, frame)
    assert ensemble(store.get_runs_with(n__ge=20)).runs == [second]
    assert ensemble(run).runs == [first]
    assert ensemble(store.runs).skipped == ens.skipped


def test_several_components(tmp_path):
    path = new_store(tmp_path)
    both = make_table({MAIN: [4, 6], SOLVE: [1, 3]}, 2)
    memory = make_table({MAIN: [1000, 3000], SOLVE: [500, 500]}, 2, unit="bytes", component="m")
    both.components.append("m")
    both.units["m"] = "bytes"
    both.values["m"] = memory.values["m"]
    write_run(path, "1" * 16, {"k": 1}, both)
    write_run(path, "2" * 16, {"k": 2}, make_table({MAIN: [8, 8], SOLVE: [2, 2]}, 2))
    ens = ensemble(path, stats="median,n")
    assert ens.units == {"wall_clock": "ns", "m": "bytes"}
    assert list(ens.dataframe.columns[2:]) == [
        f"{key}.{metric}.{stat}"
        for key in ("wall_clock", "m")
        for metric in ("inclusive", "self")
        for stat in ("median", "n")
    ]
    frame = ens.dataframe
    assert cell(frame, MAIN, "1" * 16, "m.inclusive.median") == 2000.0
    assert cell(frame, MAIN, "2" * 16, "wall_clock.inclusive.median") == 8.0
    # the second run has no "m": NaN, n 0
    assert math.isnan(cell(frame, MAIN, "2" * 16, "m.inclusive.median"))
    assert cell(frame, SOLVE, "2" * 16, "m.self.n") == 0
    only = ensemble(path, "m", stats="median")
    assert list(only.dataframe.columns) == ["name", "depth", "m.inclusive.median", "m.self.median"]
    assert only.units == {"m": "bytes"}
