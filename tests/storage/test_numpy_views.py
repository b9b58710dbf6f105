"""The NumPy snapshot (timemory.storage.Snapshot): the records against the tree view, threads,
multi-valued components, bundles, read-only views and their lifetime, views read while other
threads record, and a saved output folder as the source.

This folder runs under ASan and UBSan in CI (tests/native/sanitize.sh): a view that read freed
or moved memory would fail there."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import timemory
from fakeclock import PRELUDE
from timemory import _core, settings
from timemory.bundle import marker
from timemory.storage import (
    CurrentPeakRssStorage,
    Snapshot,
    TripCountStorage,
    WallClockStorage,
    load_folder,
)
from tool_helpers import clean_env

HEADER = ["node", "parent", "depth", "rank", "pid", "thread", "label", "file", "line", "hash"]
VALUES = ["sum", "min", "max", "sum_sq", "self", "inclusive"]


def record(clock):
    """main (20 ms itself) > child x2 (10 ms each), other (5 ms) > grandchild (0), on the
    fake clock: wall_clock and trip_count recorded by the same markers."""
    with marker(["wall_clock", "trip_count"], key="main"):
        clock.advance(0.02)
        for _ in range(2):
            with marker(["wall_clock", "trip_count"], key="child"):
                clock.advance(0.01)
        with marker(["wall_clock", "trip_count"], key="other"):
            clock.advance(0.005)
            with marker(["wall_clock", "trip_count"], key="grandchild"):
                pass


def tree_rows(roots):
    """(node, parent row, depth) of every non-dummy node of the tree view, in pre-order."""
    out = []
    stack = [(r, -1) for r in reversed(roots)]
    while stack:
        tree, parent = stack.pop()
        value = tree.value()
        row = parent
        if not value.is_dummy():
            row = len(out)
            out.append((value, parent, value.depth()))
        stack.extend((c, row) for c in reversed(tree.children()))
    return out


def display(index, raw):
    """The display values of raw values before unit division (what self/inclusive hold)."""
    divisors = _core.unit_info(index)[0]
    got = _core.entry_component(index, raw).get()
    got = got if isinstance(got, (tuple, list)) else [got]
    return [g * d for g, d in zip(got, divisors)]


def assert_rows_match_tree(arr, snap, storage, index):
    rows = tree_rows(storage.get_tree())
    assert len(arr) == len(rows) == len(snap)
    labels = snap.labels
    for i, (value, parent, depth) in enumerate(rows):
        rec = arr[i]
        inc = value.inclusive()._entry
        exc = value.exclusive()._entry
        assert rec["node"] == i
        assert rec["parent"] == parent
        assert rec["depth"] == depth
        assert labels[rec["label"]] == value.prefix()
        assert rec["hash"] == value.hash()
        assert rec["thread"] == min(value.tid())
        assert rec["pid"] == min(value.pid())
        assert rec["count"] == inc.laps
        n = len(_core.unit_info(index)[0])
        assert list(np.atleast_1d(rec["sum"])) == inc.stats_sum[:n]
        assert list(np.atleast_1d(rec["min"])) == inc.stats_min[:n]
        assert list(np.atleast_1d(rec["max"])) == inc.stats_max[:n]
        assert list(np.atleast_1d(rec["sum_sq"])) == inc.stats_sqr[:n]
        assert list(np.atleast_1d(rec["inclusive"])) == pytest.approx(
            display(index, inc), rel=1e-12
        )
        assert list(np.atleast_1d(rec["self"])) == pytest.approx(display(index, exc), rel=1e-12)


def test_records_equal_the_tree_view_node_for_node(fake_clock):
    record(fake_clock)
    snap = WallClockStorage.snapshot()
    arr = snap.as_numpy()
    assert isinstance(snap, Snapshot) and not snap.nested
    assert list(arr.dtype.names) == HEADER + ["count"] + VALUES
    assert arr.dtype.itemsize == 64 + 6 * 8
    assert arr.dtype["node"] == np.int64 and arr.dtype["thread"] == np.int32
    assert arr.dtype["hash"] == np.uint64 and arr.dtype["self"] == np.float64
    assert_rows_match_tree(arr, snap, WallClockStorage, WallClockStorage._index)
    # the exact numbers (ns) of the fake clock
    assert [snap.labels[c] for c in arr["label"]] == ["main", "child", "other", "grandchild"]
    assert arr["parent"].tolist() == [-1, 0, 0, 2]
    assert arr["depth"].tolist() == [0, 1, 1, 2]
    assert arr["count"].tolist() == [1, 2, 1, 1]
    assert arr["inclusive"].tolist() == [45e6, 20e6, 5e6, 0.0]
    assert arr["self"].tolist() == [20e6, 20e6, 5e6, 0.0]
    assert arr["sum"].tolist() == [45e6, 20e6, 5e6, 0.0]
    assert arr["min"].tolist() == [45e6, 10e6, 5e6, 0.0]
    assert arr["max"].tolist() == [45e6, 10e6, 5e6, 0.0]
    assert arr["sum_sq"].tolist() == [45e6**2, 2 * 10e6**2, 5e6**2, 0.0]
    assert (arr["file"] == -1).all() and (arr["line"] == 0).all() and snap.files == []
    assert (arr["rank"] == 0).all()
    assert snap.components == ["wall_clock"]
    assert snap.units == {"wall_clock": "ns"} and snap.value_names == {"wall_clock": ["wall"]}
    # the convenience forms
    assert WallClockStorage.as_numpy().tolist() == arr.tolist()
    assert TripCountStorage.as_numpy()["sum"].tolist() == [1.0, 2.0, 1.0, 1.0]


@pytest.mark.parametrize("collapse", [True, False])
def test_threads_parent_depth_and_thread(fake_clock, monkeypatch, collapse):
    barrier = threading.Barrier(2)

    def work(n):
        barrier.wait()
        for _ in range(n):
            with marker(["wall_clock"], key="outer"):
                with marker(["wall_clock"], key="inner"):
                    pass
                with marker(["wall_clock"], key=f"only{n}"):
                    pass

    threads = [threading.Thread(target=work, args=(n,)) for n in (2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    monkeypatch.setattr(settings, "collapse_threads", collapse)
    snap = WallClockStorage.snapshot()
    arr = snap.as_numpy()
    flat = WallClockStorage.get()
    assert len(arr) == len(flat)
    got = [(int(r["depth"]), snap.labels[r["label"]], int(r["count"])) for r in arr]
    assert got == [(e.depth(), e.label(), e.data().laps()) for e in flat]
    if not collapse:  # merged nodes carry the lowest of their threads (see the tree check)
        assert arr["thread"].tolist() == [e.tid() for e in flat]
    # a row's parent: the nearest row before it of one level up (in the same thread view)
    for i, rec in enumerate(arr):
        parent = rec["parent"]
        if rec["depth"] == 0:
            assert parent == -1
        else:
            assert 0 <= parent < i and arr[parent]["depth"] == rec["depth"] - 1
            assert arr[parent]["thread"] == rec["thread"]
            assert all(arr[k]["depth"] >= rec["depth"] for k in range(parent + 1, i))
    outer = [r for r in arr if snap.labels[r["label"]] == "outer"]
    if collapse:
        assert [int(r["count"]) for r in outer] == [5]
        assert len(arr) == 4  # outer, inner, only2, only3
    else:
        assert sorted(int(r["count"]) for r in outer) == [2, 3]
        assert len({int(r["thread"]) for r in outer}) == 2
        assert len(arr) == 6
    assert_rows_match_tree(arr, snap, WallClockStorage, WallClockStorage._index)


def test_multi_valued_component_has_subarrays():
    for _ in range(3):
        with marker(["current_peak_rss"], key="outer"):
            with marker(["current_peak_rss"], key="inner"):
                bytearray(1 << 16)
    snap = CurrentPeakRssStorage.snapshot()
    arr = snap.as_numpy()
    n = len(snap.value_names["current_peak_rss"])
    assert n == 2 and snap.value_names["current_peak_rss"] == ["start peak rss", "stop peak rss"]
    assert snap.units == {"current_peak_rss": "B"}
    for field in VALUES:
        assert arr.dtype[field].shape == (2,)
        assert arr[field].shape == (len(arr), 2)
    assert arr["count"].tolist() == [3, 3]
    assert_rows_match_tree(arr, snap, CurrentPeakRssStorage, CurrentPeakRssStorage._index)


def test_bundle_nests_components_and_keeps_nodes_of_one(fake_clock):
    record(fake_clock)
    with marker(["wall_clock"], key="wall_only"):
        fake_clock.advance(0.001)
    snap = timemory.snapshot(["wall_clock", "trip_count"])
    arr = snap.as_numpy()
    assert snap.nested and snap.components == ["wall_clock", "trip_count"]
    assert list(arr.dtype.names) == HEADER + ["count", "wall_clock", "trip_count"]
    for key in snap.components:
        assert list(arr.dtype[key].names) == ["count"] + VALUES
    labels = [snap.labels[c] for c in arr["label"]]
    assert labels == ["main", "child", "other", "grandchild", "wall_only"]
    assert arr["wall_clock"]["self"].tolist() == [20e6, 20e6, 5e6, 0.0, 1e6]
    assert arr["wall_clock"]["count"].tolist() == [1, 2, 1, 1, 1]
    # the node trip_count does not have: count 0 and every value 0
    assert arr["trip_count"]["count"].tolist() == [1, 2, 1, 1, 0]
    assert arr["trip_count"]["sum"].tolist() == [1.0, 2.0, 1.0, 1.0, 0.0]
    assert arr["trip_count"]["inclusive"].tolist() == [1.0, 2.0, 1.0, 1.0, 0.0]
    assert [arr[-1]["trip_count"][f] for f in VALUES] == [0.0] * 6
    assert arr["count"].tolist() == [1, 2, 1, 1, 1]
    assert snap.units == {"wall_clock": "ns", "trip_count": ""}
    # every component with data by default, in enum order; the same rows as each one alone
    everything = timemory.snapshot()
    order = sorted(snap.components, key=lambda k: int(getattr(timemory.component.id, k)))
    assert everything.components == order
    every = everything.as_numpy()
    for name in HEADER:
        assert every[name].tolist() == arr[name].tolist()
    for key in order:
        assert every[key].tolist() == arr[key].tolist()
    wall = WallClockStorage.as_numpy()
    assert arr["wall_clock"]["sum"].tolist() == wall["sum"].tolist()


def test_nothing_recorded_is_an_empty_snapshot():
    arr = WallClockStorage.as_numpy()
    assert arr.shape == (0,) and arr.dtype.names[-1] == "inclusive"
    snap = timemory.snapshot()
    assert len(snap) == 0 and snap.components == [] and snap.labels == []
    assert snap.as_numpy().dtype.names == (*HEADER, "count")
    with pytest.raises(ValueError, match=r"wall_clock has no data .*nothing was recorded yet"):
        timemory.snapshot("wall_clock")


def test_bad_components_are_one_line():
    with marker(["wall_clock"], key="x"):
        pass
    with pytest.raises(ValueError, match=r"no_such_clock") as err:
        timemory.snapshot("no_such_clock")
    assert "\n" not in str(err.value)
    with pytest.raises(
        ValueError, match=r"peak_rss has no data .*components with data: wall_clock"
    ):
        timemory.as_numpy(["wall_clock", "peak_rss"])
    with pytest.raises(TypeError, match="output folder"):
        timemory.snapshot(source=42)  # type: ignore[arg-type]


def test_views_are_read_only(fake_clock):
    record(fake_clock)
    arr = WallClockStorage.as_numpy()
    assert not arr.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        arr[0]["count"] = 1
    with pytest.raises(ValueError, match="read-only"):
        arr["self"][:] = 0
    with pytest.raises(ValueError):
        arr.flags.writeable = True
    assert memoryview(WallClockStorage.snapshot().table).readonly


def test_to_numpy_is_writable_and_independent(fake_clock):
    record(fake_clock)
    snap = WallClockStorage.snapshot()
    view = snap.as_numpy()
    copy = snap.to_numpy()
    assert copy.flags.writeable and copy.flags.owndata
    copy["count"] = 99
    copy[0]["self"] = -1.0
    assert view["count"].tolist() == [1, 2, 1, 1]
    assert view[0]["self"] == 20e6
    assert snap.to_numpy()["count"].tolist() == [1, 2, 1, 1]


def test_base_keeps_the_snapshot_alive_after_clear(fake_clock):
    record(fake_clock)
    snap = WallClockStorage.snapshot()
    arr = snap.as_numpy()
    expected = arr.tolist()
    base = arr.base
    while isinstance(base, (np.ndarray, memoryview)):
        base = base.obj if isinstance(base, memoryview) else base.base
    assert isinstance(base, _core.GraphTable)
    del snap, base
    timemory.clear()
    gc.collect()
    # new recording reuses the memory the cleared graphs held
    for i in range(200):
        with marker(["wall_clock"], key=f"after{i}"):
            fake_clock.advance(0.001)
    assert arr.tolist() == expected
    assert len(WallClockStorage.as_numpy()) == 200


# per thread: sized so that the test runs in seconds under ASan (the benchmark adds 1M nodes)
NEW_NODES = 3000


def test_view_read_while_threads_add_nodes():
    with marker(["wall_clock"], key="before"):
        pass
    snap = WallClockStorage.snapshot()
    arr = snap.as_numpy()
    expected = arr.tolist()
    total = float(arr["sum"].sum())
    start = threading.Barrier(5)
    failures = []

    def add(t):
        try:
            start.wait()
            with marker(["wall_clock"], key=f"thread{t}"):
                for i in range(NEW_NODES):
                    with marker(["wall_clock"], key=f"t{t}n{i}"):
                        pass
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=add, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    start.wait()
    reads = 0
    sizes = []
    while any(t.is_alive() for t in threads) or reads < 3:
        assert arr.tolist() == expected
        assert float(arr["sum"].sum()) == total
        sizes.append(len(WallClockStorage.as_numpy()))  # a snapshot taken while they record
        reads += 1
    for t in threads:
        t.join()
    assert not failures
    assert arr.tolist() == expected
    final = WallClockStorage.snapshot()
    assert len(final) == 1 + 4 * (NEW_NODES + 1)
    assert all(1 <= s <= len(final) for s in sizes)
    labels = final.labels
    assert len(labels) == len(final)  # one code per distinct label
    assert sorted(labels[c] for c in final.as_numpy()["label"]) == sorted(labels)


SCRIPT = """
import sys
import numpy as np
import timemory
from timemory.bundle import marker

with marker(["wall_clock", "peak_rss"], key="main"):
    nap(0.02)
    for _ in range(3):
        with marker(["wall_clock", "peak_rss"], key="child"):
            nap(0.01)
    with marker(["wall_clock"], key="wall_only"):
        nap(0.004)
np.save(sys.argv[1], timemory.as_numpy(["wall_clock", "peak_rss"]).copy())
np.save(sys.argv[2], timemory.storage.WallClockStorage.to_numpy())
"""


def test_folder_source_gives_the_live_rows(tmp_path):
    out = tmp_path / "out"
    (tmp_path / "prog.py").write_text(PRELUDE + textwrap.dedent(SCRIPT))
    proc = subprocess.run(
        [sys.executable, "prog.py", str(tmp_path / "live.npy"), str(tmp_path / "wall.npy")],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": str(out), "TIMEMORY_TREE_OUTPUT": "ON"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    live = np.load(tmp_path / "live.npy")
    snap = timemory.snapshot(["wall_clock", "peak_rss"], source=out)
    loaded = snap.as_numpy()
    assert loaded.dtype == live.dtype and len(loaded) == len(live) == 3
    assert [snap.labels[c] for c in loaded["label"]] == ["main", "child", "wall_only"]
    for name in [*HEADER[:6], *HEADER[7:], "count"]:  # the label codes: compared as labels
        assert loaded[name].tolist() == live[name].tolist(), name
    for key in ("wall_clock", "peak_rss"):
        assert loaded[key]["count"].tolist() == live[key]["count"].tolist()
        for field in VALUES:
            np.testing.assert_allclose(loaded[key][field], live[key][field], rtol=1e-12, atol=0)
    assert loaded["wall_clock"]["self"].tolist() == pytest.approx([20e6, 30e6, 4e6], rel=1e-12)
    assert loaded["peak_rss"]["count"].tolist() == [1, 3, 0]
    # one component, the rows as WallClockStorage's
    wall = timemory.as_numpy("wall_clock", source=str(out))
    np.testing.assert_allclose(
        wall["wall_clock"]["sum"], np.load(tmp_path / "wall.npy")["sum"], rtol=1e-12
    )
    # load_folder: the (index, ranks) of each component, ranks of root trees
    [(index, ranks)] = load_folder(out, "peak_rss")
    assert index == int(timemory.component.id.peak_rss) and len(ranks) == 1
    assert [t.value().is_dummy() for t in ranks[0]] == [True]


def test_folder_problems_are_one_line(tmp_path):
    with pytest.raises(OSError, match="no such folder"):
        timemory.snapshot(source=tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError, match="not a folder"):
        load_folder(tmp_path / "file")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"no tree JSON files \(<label>.tree.json\)") as err:
        load_folder(empty)
    assert "tree_output" not in str(err.value)
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "wall.json").write_text(json.dumps({"timemory": {"wall_clock": {"ranks": []}}}))
    with pytest.raises(ValueError, match="flat .json files alone are not enough.*tree_output"):
        timemory.as_numpy(source=flat)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "wall.tree.json").write_text(json.dumps({"timemory": {"wall_clock": {"graph": []}}}))
    with pytest.raises(
        ValueError, match=r"no data of peak_rss in it \(components in it: wall_clock\)"
    ):
        load_folder(tree, ["peak_rss"])
    with pytest.raises(ValueError, match="no_such_clock"):
        load_folder(tree, "no_such_clock")
    (tree / "odd.tree.json").write_text(json.dumps({"timemory": {"no_such_clock": {"graph": []}}}))
    with pytest.raises(ValueError, match="odd.tree.json.*unknown component 'no_such_clock'"):
        load_folder(tree)
    (tree / "odd.tree.json").write_text("[1, 2")
    with pytest.raises(ValueError, match="odd.tree.json") as err:
        load_folder(tree)
    assert "\n" not in str(err.value)
