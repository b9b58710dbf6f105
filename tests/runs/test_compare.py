"""timemory.runs.compare: verdicts per node (slower / faster / no change / not enough data /
added / removed), the whole-run row, the error rates on seeded simulations (properties, not
one seed's outcome), the text, JSON and plot outputs."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pytest
from timemory.runs import _compare
from timemory.runs._errors import RunsError

PATHS = [("main",), ("main", "a"), ("main", "b"), ("main", "a", "c")]
BASE = np.array([1e9, 4e8, 5e8, 1e8])


def sides(rng, base=BASE, repeats=10, sigma=0.02, change=None, shared=0.0):
    def one(factor):
        noise = rng.normal(0.0, sigma, (len(base), repeats))
        noise += rng.normal(0.0, shared, (1, repeats))
        return (base * factor)[:, None] * np.exp(noise)

    return one(np.ones(len(base))), one(np.ones(len(base)) if change is None else change)


def by_path(comparison):
    return {row.path: row for row in comparison.rows}


def compare(a, b, **options):
    options.setdefault("normalize", "none")
    return _compare.compare_arrays(
        PATHS, {"wall_clock": a}, {"wall_clock": b}, {"wall_clock": "ns"}, **options
    )


def test_a_node_twice_as_slow_is_slower_the_others_unchanged():
    a, b = sides(np.random.default_rng(1), change=np.array([1.0, 1.0, 1.0, 2.0]))
    rows = by_path(compare(a, b))
    slow = rows[("main", "a", "c")]
    assert slow.verdict == "slower"
    assert slow.low <= 2.0 <= slow.high and slow.ratio == pytest.approx(2.0, rel=0.05)
    assert slow.q <= 0.01 and slow.p <= slow.q
    assert [rows[p].verdict for p in PATHS[:3]] == ["no change"] * 3
    # and the other way round
    assert by_path(compare(b, a))[("main", "a", "c")].verdict == "faster"


def test_a_significant_change_below_the_minimum_effect_is_no_change():
    a, b = sides(np.random.default_rng(2), sigma=0.001, change=np.array([1.0, 1.0, 1.0, 1.03]))
    row = by_path(compare(a, b))[("main", "a", "c")]
    assert row.q <= 0.01 and row.ratio == pytest.approx(1.03, rel=0.005)
    assert row.verdict == "no change"
    assert by_path(compare(a, b, min_effect=0.01))[("main", "a", "c")].verdict == "slower"


def test_added_removed_and_partly_missing_nodes():
    a, b = sides(np.random.default_rng(3))
    a[2] = np.nan  # b only in B: added
    b[1] = np.nan  # a only in A: removed
    b[3, :4] = np.nan  # c missing from 4 of B's repeats
    rows = by_path(compare(a, b))
    assert rows[("main", "b")].verdict == "added"
    assert rows[("main", "a")].verdict == "removed"
    partial = rows[("main", "a", "c")]
    assert partial.verdict == "not enough data" and "B 6 of 10" in partial.note
    assert (partial.n_a, partial.n_b) == (10, 6)


def test_too_few_repeats_is_not_enough_data_naming_how_many():
    a, b = sides(np.random.default_rng(4), repeats=3, change=np.array([1.0, 1.0, 1.0, 3.0]))
    result = compare(a, b)
    assert {row.verdict for row in result.rows} == {"not enough data"}
    # with alpha 0.01 the smallest p needed is 0.01: 2 / C(10, 5) = 0.008 (5 per side)
    assert "needs 5 per side" in result.rows[0].note
    # normalize="run" shares alpha between two families: 0.005 needs 6 per side
    result = compare(a, b, normalize="run")
    assert all("needs 6 per side" in row.note for row in result.rows if row.path)
    # and the whole-run row of a larger tree says the same
    paths, a, b = simulate(np.random.default_rng(4), repeats=3)
    whole = run(paths, a, b).rows[0]
    assert whole.path == () and whole.verdict == "not enough data"
    assert "needs 6 per side" in whole.note


def test_rows_sorted_changes_first_then_by_effect():
    rng = np.random.default_rng(5)
    a, b = sides(rng, change=np.array([1.2, 1.0, 0.5, 1.5]))
    order = [row.path for row in compare(a, b).rows]
    assert order[:3] == [("main", "b"), ("main", "a", "c"), ("main",)]


def test_zero_values_do_not_break_the_comparison():
    a, b = sides(np.random.default_rng(6))
    a[1], b[1] = 0.0, 0.0
    b[2, :] = 0.0  # B spends nothing there any more
    rows = by_path(compare(a, b))
    assert rows[("main", "a")].verdict == "no change" and rows[("main", "a")].p == 1.0
    assert rows[("main", "b")].verdict == "faster"
    assert rows[("main", "b")].ratio == pytest.approx(0.0)


# --------------------------------------------------------------------- normalize="run"
def tree(rng, nodes):
    paths = [("main",)]
    for i in range(1, nodes):
        paths.append((*paths[int(rng.integers(0, i))], f"f{i}"))
    return paths, np.exp(rng.uniform(math.log(1e4), math.log(1e9), nodes))


def simulate(rng, nodes=100, repeats=10, shared=0.1, own=0.02, change=None):
    paths, base = tree(rng, nodes)

    def one(factor):
        noise = rng.normal(0.0, shared, (1, repeats)) + rng.normal(0.0, own, (nodes, repeats))
        return (base * factor)[:, None] * np.exp(noise)

    factor = np.ones(nodes) if change is None else change(nodes)
    return paths, one(np.ones(nodes)), one(factor)


def flagged(result):
    return [row for row in result.rows if row.verdict in ("slower", "faster")]


def run(paths, a, b, **options):
    return _compare.compare_arrays(
        paths, {"wall_clock": a}, {"wall_clock": b}, {"wall_clock": "ns"}, **options
    )


@pytest.mark.parametrize(("shared", "own"), [(0.1, 0.02), (0.0, 0.1), (0.1, 0.1)])
def test_a_a_comparisons_rarely_flag_anything(shared, own):
    # the target: any row flagged in at most 1% of A/A comparisons; the bound here
    # allows for the simulation's error (200 trials: 1% + 3 standard errors = 3.1%)
    rng = np.random.default_rng(100)
    trials = 200
    hits = sum(bool(flagged(run(*simulate(rng, shared=shared, own=own)))) for _ in range(trials))
    assert hits / trials <= 0.01 + 3 * math.sqrt(0.01 * 0.99 / trials)


def test_one_node_ten_percent_slower_is_found_under_shared_noise():
    rng = np.random.default_rng(200)
    trials, found, others = 100, 0, 0
    for _ in range(trials):
        target = int(rng.integers(0, 100))

        def change(nodes, target=target):
            factor = np.ones(nodes)
            factor[target] = 1.10
            return factor

        paths, a, b = simulate(rng, change=change)
        result = run(paths, a, b)
        rows = flagged(result)
        found += any(r.path == paths[target] and r.verdict == "slower" for r in rows)
        others += any(r.path != paths[target] for r in rows)
    assert found / trials >= 0.9
    assert others / trials <= 0.05


def test_without_normalizing_shared_noise_hides_the_node():
    # the same ten-percent node under shared noise, compared as raw values: the whole
    # repeat's factor (sigma 0.1) drowns it (why normalize="run" is the default)
    rng = np.random.default_rng(300)
    trials, found = 60, 0
    for _ in range(trials):
        paths, a, b = simulate(rng, change=lambda n: np.r_[np.ones(n - 1), 1.10])
        found += any(r.path == paths[-1] for r in flagged(run(paths, a, b, normalize="none")))
    assert found / trials < 0.5


def test_a_global_slowdown_is_the_whole_run_row():
    rng = np.random.default_rng(400)
    trials, hits = 40, 0
    for _ in range(trials):
        paths, a, b = simulate(rng, shared=0.02, change=lambda n: np.full(n, 1.3))
        result = run(paths, a, b)
        whole = result.rows[0]
        assert whole.path == () and whole.label == "(whole run)"
        hits += whole.verdict == "slower" and whole.low <= 1.3 <= whole.high
        # relative to the run, the nodes did not change
        assert all(row.path == () for row in flagged(result))
    assert hits / trials >= 0.9


def test_normalization_needs_enough_nodes():
    a, b = sides(np.random.default_rng(7), change=np.array([1.0, 1.0, 1.0, 2.0]))
    result = compare(a, b, normalize="run")
    assert all(row.path for row in result.rows)  # no whole-run row
    assert any("not normalized" in note for note in result.notes)
    assert by_path(result)[("main", "a", "c")].verdict == "slower"


def test_the_factor_comes_from_self_values():
    # a deep node slower: the inclusive values of its ancestors (most of this chain) move
    # too, the self values do not; the factor from self values leaves the chain as it is
    rng = np.random.default_rng(8)
    nodes = 30
    paths = [tuple(f"f{j}" for j in range(i + 1)) for i in range(nodes)]
    own_a = np.full((nodes, 10), 1e6) * np.exp(rng.normal(0, 0.01, (nodes, 10)))
    own_b = np.full((nodes, 10), 1e6) * np.exp(rng.normal(0, 0.01, (nodes, 10)))
    own_b[-1] *= 3.0
    inclusive_a = np.cumsum(own_a[::-1], axis=0)[::-1]
    inclusive_b = np.cumsum(own_b[::-1], axis=0)[::-1]
    result = _compare.compare_arrays(
        paths,
        {"wall_clock": inclusive_a},
        {"wall_clock": inclusive_b},
        {"wall_clock": "ns"},
        self_a={"wall_clock": own_a},
        self_b={"wall_clock": own_b},
    )
    assert result.rows[0].path == () and result.rows[0].verdict == "no change"
    rows = by_path(result)
    assert rows[paths[-1]].verdict == "slower"
    assert rows[paths[-1]].ratio == pytest.approx(3.0, rel=0.05)
    assert rows[paths[0]].ratio == pytest.approx(32.0 / 30.0, rel=0.02)


# ------------------------------------------------------------------------------ outputs
def test_text_json_and_counts():
    a, b = sides(np.random.default_rng(9), change=np.array([1.0, 1.0, 1.0, 2.0]))
    a[2] = np.nan
    result = compare(a, b)
    assert result.counts()["slower"] == 1 and result.counts()["added"] == 1
    assert [row.path for row in result.slower()] == [("main", "a", "c")]
    assert result.regressions() == result.slower() and result.faster() == []
    text = result.text()
    lines = text.splitlines()
    assert "1 slower, 0 faster, 2 no change, 0 not enough data, 1 added, 0 removed" in lines
    slow = next(line for line in lines if line.lstrip().startswith("c "))
    assert slow.startswith("    c ")  # indented by depth
    assert " ms " in slow and "[" in slow and slow.endswith("slower")
    assert "... 2 more rows" in result.text(limit=2)
    document = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert document["format"] == "timemory-comparison"
    assert document["counts"]["slower"] == 1
    row = document["rows"][0]
    assert row["path"] == ["main", "a", "c"] and row["verdict"] == "slower"
    assert set(row) >= {"ratio", "low", "high", "p", "q", "n_a", "n_b", "median_a", "unit"}
    added = next(r for r in document["rows"] if r["verdict"] == "added")
    assert added["median_a"] is None and added["ratio"] is None


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    a, b = sides(np.random.default_rng(10), change=np.array([1.0, 1.0, 1.0, 2.0]))
    target = tmp_path / "ratios.png"
    assert compare(a, b).plot(target) == str(target)
    assert target.read_bytes().startswith(b"\x89PNG")


def test_plot_without_matplotlib_is_one_line(tmp_path, monkeypatch):
    from timemory.plotting import figure

    def missing():
        raise figure.MatplotlibMissing("matplotlib is required for plots: pip install x")

    monkeypatch.setattr(figure, "require_matplotlib", missing)
    a, b = sides(np.random.default_rng(11))
    with pytest.raises(RunsError, match="^matplotlib is required") as caught:
        compare(a, b).plot(tmp_path / "x.png")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"metric": "total"}, "choices: inclusive, self"),
        ({"normalize": "yes"}, "choices: run, none"),
        ({"alpha": 0.0}, "alpha must be a number between 0 and 1"),
        ({"min_effect": -1}, "min_effect must be a number at least 0"),
        ({"confidence": 95}, "confidence must be a number between 0 and 1"),
    ],
)
def test_bad_settings_are_one_line(options, text):
    a, b = sides(np.random.default_rng(12))
    with pytest.raises(RunsError, match=text):
        compare(a, b, **options)


# ------------------------------------------------------------ Tables, folders, the command
def table(paths, values, units=None):
    from timemory.runs import Table

    return Table(
        ["wall_clock"],
        units or {"wall_clock": "ns"},
        list(paths),
        {"wall_clock": {"inclusive": values, "self": values, "count": np.ones_like(values)}},
        values.shape[1],
    )


def test_compare_tables_and_lists_of_tables():
    from timemory.runs import Table, compare

    a, b = sides(np.random.default_rng(13), change=np.array([1.0, 1.0, 1.0, 2.0]))
    result = compare(table(PATHS, a), table(PATHS, b), normalize="none")
    assert [row.path for row in result.slower()] == [("main", "a", "c")]
    # repeats pooled: 5 + 5 on each side is the same comparison
    halves = compare(
        [table(PATHS, a[:, :5]), table(PATHS, a[:, 5:])],
        [table(PATHS, b[:, :5]), table(PATHS, b[:, 5:])],
        normalize="none",
    )
    assert [(r.path, r.verdict, r.n_a) for r in halves.rows] == [
        (r.path, r.verdict, r.n_a) for r in result.rows
    ]
    assert isinstance(Table.concat([table(PATHS, a)]), Table)
    with pytest.raises(RunsError, match="'cpu_clock' is not measured on both sides"):
        compare(table(PATHS, a), table(PATHS, b), components="cpu_clock")
    with pytest.raises(RunsError, match="cannot compare a int: expected a Run, a Table"):
        compare(1, table(PATHS, b))


def test_compare_run_folders_and_bad_folders(tmp_path):
    from timemory.runs import compare

    a, b = sides(np.random.default_rng(14), change=np.array([1.0, 1.0, 1.0, 2.0]))
    for name, values in (("a", a), ("b", b)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "table.json").write_text(json.dumps(table(PATHS, values).to_json()))
    result = compare(tmp_path / "a", tmp_path / "b", normalize="none")
    assert [row.path for row in result.slower()] == [("main", "a", "c")]
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "table.json").write_text("{")
    with pytest.raises(RunsError, match="cannot read .*table.json"):
        compare(tmp_path / "bad", tmp_path / "b")
    with pytest.raises(RunsError, match="does not exist: expected an output folder"):
        compare(tmp_path / "missing", tmp_path / "b")


SCRIPT = """
import os
REPEAT = int(os.environ["REPEAT"])
SLOW = os.environ.get("SLOW") == "1"

def work():
    nap(0.010 + 0.0001 * REPEAT + (0.005 if SLOW else 0.0))

def other():
    nap(0.020 + 0.0001 * ((REPEAT * 3) % 5))

def main():
    work()
    other()

main()
"""


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    """5 output folders of a script, and 5 of it with ``work`` 5 ms slower (fake clock)."""
    from fakeclock import PRELUDE, run_tool_with_fake_clock

    where = tmp_path_factory.mktemp("compare")
    (where / "script.py").write_text(PRELUDE + SCRIPT)
    folders: dict[str, list[str]] = {"a": [], "b": []}
    for side in ("a", "b"):
        for repeat in range(5):
            out = f"{side}{repeat}"
            env = {"REPEAT": str(repeat), "SLOW": "1" if side == "b" else "0"}
            proc = run_tool_with_fake_clock(
                "timemory.profiler", "-d", out, "--", "script.py", cwd=where, env=env
            )
            assert proc.returncode == 0, proc.stderr
            folders[side].append(str(where / out))
    return folders


def compare_command(argv, capsys):
    from timemory import _command

    status = _command.main(["compare", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_command_finds_the_slower_function(profiled, capsys):
    a, b = ",".join(profiled["a"]), ",".join(profiled["b"])
    argv = [a, b, "--alpha", "0.05", "--normalize", "none", "--json", "-"]
    status, out, err = compare_command([*argv, "--fail-on", "slower"], capsys)
    assert status == 1
    document = json.loads(out)
    verdicts = {row["path"][-1]: row["verdict"] for row in document["rows"]}
    # work got 5 ms slower, and with it main and the module (inclusive values)
    assert verdicts["work"] == "slower" and verdicts["other"] == "no change"
    assert verdicts["main"] == "slower"
    assert document["repeats"] == [5, 5]
    work = next(row for row in document["rows"] if row["path"][-1] == "work")
    assert 1.4 <= work["ratio"] <= 1.6 and work["unit"] == "ns"
    assert "slower" in err and "work" in err  # the table, on stderr
    # -c before A and B, a comma list
    status, out, err = compare_command(["-c", "wall_clock", *argv], capsys)
    assert status == 0 and json.loads(out)["counts"] == document["counts"]
    status, out, err = compare_command(["-c", "cpu_clock,wall_clock", *argv], capsys)
    assert status == 2 and "'cpu_clock' is not measured on both sides" in err
    # faster: none; B against itself: no change at all
    assert compare_command([*argv, "--fail-on", "faster"], capsys)[0] == 0
    status, out, err = compare_command([*argv, "--fail-on", "change"], capsys)
    assert status == 1
    status, out, err = compare_command([b, b, *argv[2:], "--fail-on", "change"], capsys)
    assert status == 0
    assert {row["verdict"] for row in json.loads(out)["rows"]} == {"no change"}
    # the defaults need 6 repeats per side: 5 is not enough, and the table says so
    status, out, err = compare_command([b, b, "--fail-on", "change"], capsys)
    assert status == 0 and out == ""
    assert "needs 6 per side" in err and "\n0 slower, 0 faster, 7 no change," in err
    assert re.search(r"^A: b0 \+ 4 more \(5 repeats\)  B: b0 \+ 4 more", err, re.M)


def test_command_json_file_and_self_metric(profiled, capsys, tmp_path):
    a, b = ",".join(profiled["a"]), ",".join(profiled["b"])
    target = tmp_path / "diff.json"
    status, out, err = compare_command(
        [
            a,
            b,
            "--metric",
            "self",
            "--alpha",
            "0.05",
            "--normalize",
            "none",
            "--json",
            str(target),
            "--limit",
            "0",
        ],
        capsys,
    )
    assert status == 0 and out == ""
    rows = json.loads(target.read_text())["rows"]
    verdicts = {row["path"][-2:][0]: row["verdict"] for row in rows if row["path"][-1] == "nap"}
    # self values: the nap under work alone changed; main's own time is nothing (all
    # zero), outside the correction
    assert verdicts == {"work": "slower", "other": "no change"}
    main = next(row for row in rows if row["path"][-1] == "main")
    assert main["verdict"] == "no change" and main["q"] is None
    assert main["note"] == "the same value in every repeat"


def test_command_plot(profiled, capsys, tmp_path):
    pytest.importorskip("matplotlib")
    a, b = ",".join(profiled["a"]), ",".join(profiled["b"])
    target = tmp_path / "ratios.png"
    status, out, err = compare_command([a, b, "--plot", str(target)], capsys)
    assert status == 0 and out == ""
    assert target.read_bytes().startswith(b"\x89PNG")
    assert f"wrote {target}" in err
    status, out, err = compare_command([a, b, "--plot", str(tmp_path / "x.nope")], capsys)
    assert status == 2 and "cannot write the plot" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["missing-a", "missing-b"], "'missing-a' does not exist: expected an output folder"),
        (["A", "B", "--metric", "total"], "argument --metric: invalid choice: 'total'"),
        (["A", "B", "--fail-on", "worse"], "'worse' (choose from 'slower', 'faster', 'change')"),
        (["A", "B", "--alpha", "2"], "must be at most 0.5"),
        (["A"], "the following arguments are required: B"),
    ],
)
def test_command_usage_errors_are_one_line(argv, text, capsys):
    status, out, err = compare_command(argv, capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("timemory compare: error: ")
    assert text in err


def test_command_unreadable_folder_is_status_1(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "other").mkdir()
    status, out, err = compare_command([str(tmp_path / "empty"), str(tmp_path / "other")], capsys)
    assert status == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith("timemory compare: error: ")


def test_command_with_a_store(tmp_path, capsys):
    _store = pytest.importorskip("timemory.runs._store")
    store = _store.Store(str(tmp_path / "store"))
    rng = np.random.default_rng(15)
    a, b = sides(rng, change=np.array([1.0, 1.0, 1.0, 2.0]))
    first = store.save({"n": 1}, table(PATHS, a), code="v1", components=["wall_clock"])
    store.save({"n": 1}, table(PATHS, b), code="v2", components=["wall_clock"])
    options = ["--store", str(tmp_path / "store"), "--normalize", "none", "--json", "-"]
    status, out, err = compare_command(["code=v1", "n=1,code=v2", *options], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert [row["path"] for row in document["rows"] if row["verdict"] == "slower"] == [
        ["main", "a", "c"]
    ]
    assert "code=v1 (1 run)" in err
    # a run id names it too; a filter that matches nothing is a usage error
    status, out, err = compare_command([first.id, "code=v2", *options], capsys)
    assert status == 0 and json.loads(out)["counts"]["slower"] == 1
    status, out, err = compare_command(["code=v3", "code=v2", *options], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "no finished run in" in err and "matches 'code=v3'" in err
    status, out, err = compare_command(["n__about=1", "code=v2", *options], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
    status, out, err = compare_command(["code=v1", "code=v2", "--store", str(tmp_path)], capsys)
    assert status == 2 and out == "" and err.count("\n") == 1
