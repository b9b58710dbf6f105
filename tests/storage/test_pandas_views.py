"""The pandas DataFrame and the hatchet GraphFrame of a NumPy snapshot of the call graph."""

from __future__ import annotations

import builtins

import fakeclock
import pytest
import timemory
from timemory import _core
from timemory.bundle import marker
from timemory.storage import WallClockStorage, _frames

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")

#: The snapshot's fields before the component values (the NumPy snapshot's contract).
HEAD = [
    ("node", "i8"),
    ("parent", "i8"),
    ("depth", "i4"),
    ("rank", "i4"),
    ("pid", "i8"),
    ("thread", "i4"),
    ("label", "i4"),
    ("file", "i4"),
    ("line", "i4"),
    ("hash", "u8"),
    ("count", "i8"),
]
VALUES = ("sum", "min", "max", "sum_sq", "self", "inclusive")


def value_fields(n):
    shape = () if n == 1 else (n,)
    return [(name, "f8", shape) if shape else (name, "f8") for name in VALUES]


def snapshot_dtype(components):
    """The structured dtype of a snapshot: {key: number of values}; one component has its
    values at the top level, a bundle one struct per component (starting with its count)."""
    if len(components) == 1:
        (n,) = components.values()
        return np.dtype(HEAD + value_fields(n))
    nested = [(key, np.dtype([("count", "i8"), *value_fields(n)])) for key, n in components.items()]
    return np.dtype(HEAD + nested)


class FakeSnapshot:
    """What ``timemory.storage.Snapshot`` exposes, over an array of the contract's dtype."""

    def __init__(self, arr, labels, files, value_names):
        self._arr = arr
        self._arr.flags.writeable = False
        self.labels = labels
        self.files = files
        self.components = list(value_names)
        self.value_names = value_names
        self.units = {key: "" for key in value_names}

    def as_numpy(self):
        return self._arr


def divisor(key, k=0):
    return _core.unit_info(_core.find_component(key))[0][k]


def record(components=("wall_clock",)):
    """main (10 ms itself) > child x2 (5 ms, then 7 ms), other > grandchild (2 ms)."""
    comps = list(components)
    clock = fakeclock.FakeClock()
    with marker(comps, key="main"):
        clock.advance(0.01)
        for seconds in (0.005, 0.007):
            with marker(comps, key="child"):
                clock.advance(seconds)
        with marker(comps, key="other"):
            with marker(comps, key="grandchild"):
                clock.advance(0.002)


def synthetic(n_threads=1, view="thread"):
    """A hand-made snapshot: a > b > c and a > d, per view (thread or rank), with known
    values."""
    base = [  # parent, depth, label, file, line, hash, count, sum (ns), self (ns), min, max
        (-1, 0, 0, 0, 10, 11, 1, 100.0, 40.0, 100.0, 100.0),
        (0, 1, 1, -1, 0, 22, 2, 50.0, 30.0, 20.0, 30.0),
        (1, 2, 2, 1, 7, 33, 4, 20.0, 20.0, 5.0, 5.0),
        (0, 1, 3, -1, 0, 44, 1, 10.0, 10.0, 10.0, 10.0),
    ]
    rows = []
    for t in range(n_threads):
        offset = len(rows)
        for row in base:
            parent = row[0] + offset if row[0] >= 0 else -1
            rows.append((parent, *row[1:], t))
    arr = np.zeros(len(rows), dtype=snapshot_dtype({"wall_clock": 1}))
    for i, (parent, depth, label, file, line, h, count, s, own, lo, hi, t) in enumerate(rows):
        rec = arr[i]
        rec["node"], rec["parent"], rec["depth"], rec[view] = i, parent, depth, t
        rec["pid"], rec["label"], rec["file"], rec["line"], rec["hash"] = 99, label, file, line, h
        rec["count"], rec["sum"], rec["self"], rec["inclusive"] = count, s, own, s
        rec["min"], rec["max"], rec["sum_sq"] = lo, hi, s * s / count
    return FakeSnapshot(arr, ["a", "b", "c", "d"], ["a.py", "c.py"], {"wall_clock": ["wall_clock"]})


def test_columns_are_the_snapshots():
    snap = synthetic()
    arr = snap.as_numpy()
    df = _frames.snapshot_to_pandas(snap)
    assert df.index.name == "node" and list(df.index) == list(arr["node"])
    for field in ("parent", "depth", "rank", "pid", "thread", "line", "hash", "count"):
        assert (df[field].to_numpy() == arr[field]).all(), field
        assert df[field].dtype == arr.dtype[field], field
    u = divisor("wall_clock")
    np.testing.assert_allclose(df["sum.wall_clock (inc)"], arr["sum"] / u)
    np.testing.assert_allclose(df["sum.wall_clock"], arr["self"] / u)
    np.testing.assert_allclose(df["min.wall_clock"], arr["min"] / u)
    np.testing.assert_allclose(df["max.wall_clock (inc)"], arr["max"] / u)
    np.testing.assert_allclose(df["sqr.wall_clock (inc)"], arr["sum_sq"] / u**2)
    np.testing.assert_allclose(df["mean.wall_clock (inc)"], arr["sum"] / arr["count"] / u)
    # exclusive squares: the node's less its children's (b: 1250 - 100)
    assert df.loc[1, "sqr.wall_clock"] * u**2 == pytest.approx(1250.0 - 100.0)
    # one lap: no deviation
    assert df.loc[0, "stddev.wall_clock (inc)"] == 0.0
    # the frame is the user's: writable, the snapshot unchanged
    df.loc[0, "line"] = 5
    df.loc[0, "sum.wall_clock"] = 1.0
    df.loc[0, "min.wall_clock"] = 1.0
    assert arr["line"][0] == 10
    assert df.loc[0, "min.wall_clock (inc)"] == arr["min"][0] / u


def test_mean_and_deviation_as_the_files_compute_them():
    snap = synthetic()
    arr = snap.as_numpy().copy()
    arr["sum_sq"][1] = 20.0**2 + 30.0**2  # b's two laps: 20 and 30 ns
    df = _frames.snapshot_to_pandas(FakeSnapshot(arr, snap.labels, snap.files, snap.value_names))
    u = divisor("wall_clock")
    assert df.loc[1, "mean.wall_clock (inc)"] * u == pytest.approx(25.0)
    assert df.loc[1, "stddev.wall_clock (inc)"] * u == pytest.approx(50.0**0.5)
    # exclusive: b's 30 ns of its own over 2 laps; its squares less c's (20 ns / 4 laps: 100)
    assert df.loc[1, "mean.wall_clock"] * u == pytest.approx(15.0)
    var = (1300.0 - 100.0 - 30.0**2 / 2) / 1
    assert df.loc[1, "stddev.wall_clock"] * u == pytest.approx(var**0.5)


def test_labels_and_files_are_categoricals_from_the_codes():
    df = _frames.snapshot_to_pandas(synthetic())
    assert isinstance(df["name"].dtype, pd.CategoricalDtype)
    assert list(df["name"]) == ["a", "b", "c", "d"]
    assert list(df["name"].cat.codes) == [0, 1, 2, 3]
    assert isinstance(df["file"].dtype, pd.CategoricalDtype)
    assert df["file"].tolist()[0] == "a.py" and df["file"].tolist()[2] == "c.py"
    assert df["file"].isna().tolist() == [False, True, False, True]


def test_a_label_table_with_the_same_text_twice_is_folded():
    snap = synthetic()
    snap.labels = ["a", "b", "a", "d"]
    df = _frames.snapshot_to_pandas(snap)
    assert list(df["name"]) == ["a", "b", "a", "d"]
    assert list(df["name"].cat.categories) == ["a", "b", "d"]


def test_units_and_metrics_in_attrs():
    df = _frames.snapshot_to_pandas(synthetic())
    unit = _core.unit_info(_core.find_component("wall_clock"))[1][0]
    assert df.attrs["units"] == {"wall_clock": unit}
    assert df.attrs["default_metric"] == "sum.wall_clock"
    assert df.attrs["exc_metrics"] == [f"{s}.wall_clock" for s in _frames.STATS]
    assert df.attrs["inc_metrics"] == [f"{s}.wall_clock (inc)" for s in _frames.STATS]
    assert df.attrs["components"] == ["wall_clock"]


def test_call_path():
    df = _frames.snapshot_to_pandas(synthetic(n_threads=2))
    assert _frames.call_path(df, 2) == ("a", "b", "c")
    assert _frames.call_path(df, 7) == ("a", "d")
    assert _frames.call_path(df, 4) == ("a",)
    # a slice that keeps the ancestors
    assert _frames.call_path(df[df["thread"] == 1], 6) == ("a", "b", "c")


def test_empty_snapshot():
    arr = np.zeros(0, dtype=snapshot_dtype({"wall_clock": 1}))
    snap = FakeSnapshot(arr, [], [], {"wall_clock": ["wall_clock"]})
    df = _frames.snapshot_to_pandas(snap)
    assert len(df) == 0 and "sum.wall_clock (inc)" in df.columns


def test_bundle_columns(fake_clock):
    record(("wall_clock", "cpu_clock"))
    snap = timemory.snapshot(["wall_clock", "cpu_clock"])
    assert snap.as_numpy().dtype["wall_clock"].names[0] == "count"
    df = _frames.snapshot_to_pandas(snap)
    for key in ("wall_clock", "cpu_clock"):
        for stat in _frames.STATS:
            assert f"{stat}.{key}" in df.columns and f"{stat}.{key} (inc)" in df.columns
    by_name = df.set_index("name")
    assert by_name.loc["main", "sum.wall_clock (inc)"] == pytest.approx(0.024)
    assert by_name.loc["main", "sum.wall_clock"] == pytest.approx(0.01)
    assert by_name.loc["child", "count"] == 2
    assert set(df.attrs["units"]) == {"wall_clock", "cpu_clock"}


def test_several_values_are_named_as_hatchet_names_them():
    assert _frames.metric_names("papi", ["Total cycles", "L2_misses"]) == [
        "Total-cycles",
        "L2-misses",
    ]
    assert _frames.metric_names("wall_clock", ["wall_clock"]) == ["wall_clock"]


@pytest.mark.parametrize(
    ("package", "extra", "view"),
    [
        ("pandas", "pandas", _frames.snapshot_to_pandas),
        ("pandas", "pandas", _frames.snapshot_to_hatchet),
        ("hatchet", "hatchet", _frames.snapshot_to_hatchet),
    ],
)
def test_a_missing_package_is_one_line(monkeypatch, package, extra, view):
    real_import = builtins.__import__

    def without(name, *args, **kwargs):
        if name == package or name.startswith(package + "."):
            raise ImportError(f"No module named {package!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without)
    with pytest.raises(ImportError) as info:
        view(synthetic())
    message = str(info.value)
    assert "\n" not in message
    assert f"timemory.storage needs the {package} package" in message
    assert "pip install" in message and f"[{extra}]" in message


# ------------------------------------------------------------------ hatchet
#: hatchet 2026.2.0's filter splits the frame with DataFrame.swapaxes, deprecated by pandas
hatchet_swapaxes = pytest.mark.filterwarnings(
    "ignore:'DataFrame.swapaxes' is deprecated:FutureWarning"
)


def hatchet_or_skip():
    return pytest.importorskip("hatchet")


def _by_name(gf):
    df = gf.dataframe
    assert df["name"].is_unique
    return df.set_index("name")


def _same_frames(ours, theirs, columns):
    a, b = _by_name(ours), _by_name(theirs)
    assert sorted(a.index) == sorted(b.index)
    assert set(columns) <= set(a.columns) and set(columns) <= set(b.columns)
    for column in columns:
        for name in b.index:
            expected = b.loc[name, column]
            if isinstance(expected, float):
                expected = pytest.approx(expected, rel=1e-9, abs=1e-15)
            assert a.loc[name, column] == expected, (name, column)


@hatchet_swapaxes
def test_hatchet_operations(fake_clock):
    hatchet_or_skip()
    record()
    gf = timemory.to_hatchet(["wall_clock"])
    text = gf.tree()
    assert "main" in text and "grandchild" in text

    # filter then squash: the graph keeps the rows that pass, inclusive values recomputed
    kept = gf.filter(lambda row: row["name"] != "other", squash=True)
    names = sorted(n.frame["name"] for n in kept.graph.traverse())
    assert names == ["child", "grandchild", "main"]
    grand = next(n for n in kept.graph.traverse() if n.frame["name"] == "grandchild")
    assert [p.frame["name"] for p in grand.parents] == ["main"]

    # the difference of two runs of the same program
    other = WallClockStorage.to_hatchet()
    diff = gf - other
    assert len(diff.graph) == 4
    assert (diff.dataframe["sum.wall_clock"].abs() < 1e-12).all()

    # a copy and a deep copy keep the frame whole
    assert len(gf.deepcopy().dataframe) == 4


def test_hatchet_several_threads_index_levels():
    hatchet_or_skip()
    gf = _frames.snapshot_to_hatchet(synthetic(n_threads=2))
    assert gf.dataframe.index.names == ["node", "thread"]
    assert len(gf.graph) == 4  # one node per call path
    assert len(gf.dataframe) == 8  # a row per thread view
    node_c = next(n for n in gf.graph.traverse() if n.frame["name"] == "c")
    assert [p.frame["name"] for p in node_c.parents] == ["b"]
    rows = gf.dataframe.xs(node_c, level="node")
    assert sorted(rows.index) == [0, 1]


def test_hatchet_several_ranks_and_threads_index_levels():
    hatchet_or_skip()
    snap = synthetic(n_threads=2, view="rank")
    assert _frames.snapshot_to_hatchet(snap).dataframe.index.names == ["node", "rank"]
    arr = snap.as_numpy().copy()
    arr["thread"][[1, 5]] = 3  # b's rows on a second thread of each rank
    snap = FakeSnapshot(arr, snap.labels, snap.files, snap.value_names)
    gf = _frames.snapshot_to_hatchet(snap)
    assert gf.dataframe.index.names == ["node", "rank", "thread"]
    assert len(gf.graph) == 4 and len(gf.dataframe) == 8


def test_to_pandas_uses_the_snapshot(monkeypatch):
    seen = []

    def fake(components=None, source=None):
        seen.append((components, source))
        return synthetic()

    monkeypatch.setattr(_frames, "_snapshot", fake)
    df = _frames.to_pandas(["wall_clock"], None)
    assert seen == [(["wall_clock"], None)] and len(df) == 4


# ------------------------------------------------------------------ the real snapshot
@pytest.mark.parametrize("where", ["live", "folder"])
def test_to_hatchet_equals_from_timemory(fake_clock, tmp_path, where):
    """timemory.to_hatchet (this process's graphs, or the saved folder read back natively)
    gives the GraphFrame hatchet's own reader makes of the same run's folder."""
    hatchet = hatchet_or_skip()
    record(("wall_clock", "cpu_clock"))
    timemory.report(str(tmp_path))
    theirs = hatchet.GraphFrame.from_timemory(str(tmp_path))
    source = None if where == "live" else str(tmp_path)
    ours = timemory.to_hatchet(["wall_clock", "cpu_clock"], source=source)
    assert len(ours.graph) == len(theirs.graph) == 4
    assert len(ours.dataframe) == len(theirs.dataframe)
    assert sorted(ours.exc_metrics) == sorted(theirs.exc_metrics)
    assert sorted(ours.inc_metrics) == sorted(theirs.inc_metrics)
    assert ours.default_metric == theirs.default_metric == "sum.wall_clock"
    metrics = [c for c in theirs.dataframe.columns if c.startswith(_frames.STATS)]
    _same_frames(ours, theirs, [*metrics, "count", "file", "type", "thread"])
    for metric in ("sum.wall_clock", "sum.wall_clock (inc)", "stddev.wall_clock (inc)"):
        assert ours.tree(metric_column=metric, precision=6) == theirs.tree(
            metric_column=metric, precision=6
        )


def test_storage_and_snapshot_frames(fake_clock):
    record()
    snap = WallClockStorage.snapshot()
    arr = snap.as_numpy()
    df = snap.to_pandas()
    assert df.equals(WallClockStorage.to_pandas())
    assert df.equals(timemory.to_pandas(["wall_clock"]))
    assert list(df["name"]) == [snap.labels[c] for c in arr["label"]]
    for field in ("parent", "depth", "rank", "pid", "thread", "line", "hash", "count"):
        assert (df[field].to_numpy() == arr[field]).all(), field
    by_name = df.set_index("name")
    assert by_name.loc["main", "sum.wall_clock (inc)"] == pytest.approx(0.024)
    assert by_name.loc["main", "sum.wall_clock"] == pytest.approx(0.01)
    assert by_name.loc["child", "count"] == 2
    assert by_name.loc["child", "max.wall_clock"] == pytest.approx(0.007)
    assert _frames.call_path(df, int(by_name.index.get_loc("grandchild"))) == (
        "main",
        "other",
        "grandchild",
    )
    assert df.attrs["units"] == {"wall_clock": "sec"}
    gf = snap.to_hatchet()
    assert len(gf.graph) == 4 and len(WallClockStorage.to_hatchet().graph) == 4


def test_bundle_from_the_real_snapshot(fake_clock):
    record(("wall_clock", "peak_rss"))
    df = timemory.to_pandas(["wall_clock", "peak_rss"])
    for key in ("wall_clock", "peak_rss"):
        assert f"sum.{key}" in df.columns and f"sum.{key} (inc)" in df.columns
    assert set(df.attrs["units"]) == {"wall_clock", "peak_rss"}
    assert len(df) == 4


def test_the_stand_in_has_the_snapshots_fields(fake_clock):
    """The hand-made snapshots above have the real snapshot's fields, in its order."""
    record(("wall_clock", "cpu_clock"))

    def fields(dtype):
        return [(n, fields(dtype[n]) if dtype[n].names else dtype[n].str) for n in dtype.names]

    real = WallClockStorage.snapshot().as_numpy().dtype
    assert fields(real) == fields(snapshot_dtype({"wall_clock": 1}))
    real = timemory.snapshot(["wall_clock", "cpu_clock"]).as_numpy().dtype
    assert fields(real) == fields(snapshot_dtype({"wall_clock": 1, "cpu_clock": 1}))
