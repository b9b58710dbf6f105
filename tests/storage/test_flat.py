"""The flat (pre-order) view of the call graph: WallClockStorage.get()."""

from __future__ import annotations

import collections
import math
import os

import pytest
import timemory
from timemory import component
from timemory.bundle import marker
from timemory.storage import TripCountStorage, WallClockStorage


@marker(["wall_clock"])
def fibonacci(n):
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def calls_per_depth(n, depth=0, acc=None):
    """How many calls of the plain recursion happen at each depth."""
    acc = collections.Counter() if acc is None else acc
    acc[depth] += 1
    if n >= 2:
        calls_per_depth(n - 1, depth + 1, acc)
        calls_per_depth(n - 2, depth + 1, acc)
    return acc


def decorated(label, depth):
    return ">>> " + ("" if depth == 0 else "  " * (depth - 1) + "|_") + label


@pytest.mark.parametrize("n", [1, 2, 5, 8])
def test_recursive_function_depths_and_counts(n):
    assert fibonacci(n) == [0, 1, 1, 2, 3, 5, 8, 13, 21][n]
    expected = calls_per_depth(n)
    entries = WallClockStorage.get()
    assert [e.depth() for e in entries] == sorted(expected)
    assert [e.data().laps() for e in entries] == [expected[d] for d in sorted(expected)]
    assert [e.prefix() for e in entries] == [decorated("fibonacci", d) for d in sorted(expected)]
    assert [e.stats().count() for e in entries] == [expected[d] for d in sorted(expected)]
    assert timemory.size(["wall_clock"]) == {int(component.WallClock.index()): len(expected)}


def test_repeated_calls_accumulate():
    fibonacci(5)
    fibonacci(5)
    expected = calls_per_depth(5)
    assert [e.data().laps() for e in WallClockStorage.get()] == [
        2 * expected[d] for d in sorted(expected)
    ]


def build_tree():
    """a > (b > c), d ; then e at the top level."""
    with marker(["wall_clock"], key="a"):
        with marker(["wall_clock"], key="b"):
            with marker(["wall_clock"], key="c"):
                pass
        with marker(["wall_clock"], key="d"):
            pass
    with marker(["wall_clock"], key="e"):
        pass


def test_pre_order_prefix_and_depth():
    build_tree()
    got = [(e.prefix(), e.depth()) for e in WallClockStorage.get()]
    assert got == [(">>> a", 0), (">>> |_b", 1), (">>>   |_c", 2), (">>> |_d", 1), (">>> e", 0)]


def test_hierarchy_hash_and_rolling_hash():
    build_tree()
    entries = WallClockStorage.get()
    by_label = {timemory.get_hash_identifier(e.hash()): e for e in entries}
    assert sorted(by_label) == ["a", "b", "c", "d", "e"]
    for label, e in by_label.items():
        # the node hash is the registered hash of its label
        assert e.hash() == timemory.get_hash(label)
        assert e.hierarchy()[-1] == e.hash()
        assert len(e.hierarchy()) == e.depth() + 1
        assert e.rolling_hash() == sum(e.hierarchy()) % 2**64
        assert 0 <= e.rolling_hash() < 2**64
    h = {k: v.hash() for k, v in by_label.items()}
    assert by_label["c"].hierarchy() == [h["a"], h["b"], h["c"]]
    assert by_label["d"].hierarchy() == [h["a"], h["d"]]
    assert by_label["e"].hierarchy() == [h["e"]]
    # same label, different parents: same hash, different rolling hash
    with marker(["wall_clock"], key="c"):
        pass
    cs = [e for e in WallClockStorage.get() if e.hash() == h["c"]]
    assert len(cs) == 2 and cs[0].rolling_hash() != cs[1].rolling_hash()


def test_entry_thread_and_process_ids():
    build_tree()
    entries = WallClockStorage.get()
    assert {e.pid() for e in entries} == {os.getpid()}
    # one thread recorded everything
    assert len({e.tid() for e in entries}) == 1
    assert isinstance(entries[0].tid(), int) and entries[0].tid() >= 0


def test_data_is_a_new_component_object(fake_clock):
    with marker(["wall_clock"], key="sleepy"):
        fake_clock.advance(0.05)
    entry = WallClockStorage.get()[0]
    data = entry.data()
    assert type(data) is component.WallClock
    assert data.laps() == 1
    assert data.get() == 0.05
    assert data.get_raw() == 50_000_000
    data.reset()
    # the storage is not changed through the copy
    assert WallClockStorage.get()[0].data().laps() == 1


def test_stats_are_consistent_with_the_samples(fake_clock):
    naps = [0.01, 0.02, 0.03]
    for nap in naps:
        with marker(["wall_clock"], key="naps"):
            fake_clock.advance(nap)
    entry = WallClockStorage.get()[0]
    stats = entry.stats()
    n = stats.count()
    assert n == 3 == entry.data().laps()
    assert (stats.min(), stats.max()) == (0.01, 0.03)
    assert stats.sum() == pytest.approx(0.06, abs=1e-15)
    assert stats.sqr() == pytest.approx(0.0014, abs=1e-15)  # 0.01^2 + 0.02^2 + 0.03^2
    assert stats.min() <= stats.mean() <= stats.max()
    assert stats.sum() == pytest.approx(entry.data().get(), rel=1e-9)
    assert stats.mean() == pytest.approx(stats.sum() / n)
    # the sum of squares of three samples each within [min, max]
    assert n * stats.min() ** 2 <= stats.sqr() * (1 + 1e-9)
    assert stats.sqr() <= n * stats.max() ** 2 * (1 + 1e-9)
    variance = (stats.sqr() - stats.sum() ** 2 / n) / (n - 1)
    assert stats.variance() == pytest.approx(variance)
    assert stats.stddev() == pytest.approx(math.sqrt(abs(variance)))
    # the naps differ by 10 ms: the sample standard deviation is 10 ms
    assert stats.stddev() == pytest.approx(0.01, rel=1e-9)


def test_stats_exact_with_trip_count():
    for _ in range(4):
        with marker(["trip_count"], key="trips"):
            pass
    stats = TripCountStorage.get()[0].stats()
    assert stats.count() == 4
    assert stats.sum() == 4 and stats.sqr() == 4
    assert stats.min() == 1 and stats.max() == 1 and stats.mean() == 1
    assert stats.variance() == 0 and stats.stddev() == 0


def test_single_sample_has_zero_stddev():
    with marker(["wall_clock"], key="once"):
        pass
    stats = WallClockStorage.get()[0].stats()
    assert stats.count() == 1 and stats.stddev() == 0.0
    assert stats.min() == stats.max() == stats.sum()


def test_get_is_a_snapshot():
    with marker(["wall_clock"], key="snap"):
        pass
    snapshot = WallClockStorage.get()
    with marker(["wall_clock"], key="snap"):
        pass
    assert snapshot[0].data().laps() == 1
    assert WallClockStorage.get()[0].data().laps() == 2


def test_running_marker_is_visible_as_a_node():
    with marker(["wall_clock"], key="running"):
        inside = WallClockStorage.get()
    assert [e.prefix() for e in inside] == [">>> running"]
    assert inside[0].data().laps() == 0
    assert WallClockStorage.get()[0].data().laps() == 1


def test_size_keyed_by_enum_int():
    build_tree()
    idx = component.WallClock.index()
    sizes = timemory.size([idx])
    assert sizes[idx] == 5 and sizes[int(idx)] == 5
    assert list(sizes) == [int(idx)] and type(list(sizes)[0]) is int
    both = timemory.size(["wall_clock", "peak_rss"])
    assert both == {int(idx): 5, int(component.PeakRss.index()): 0}
    everything = timemory.size()
    assert everything[int(idx)] == 5
    assert all(v == 0 for k, v in everything.items() if k != int(idx))


def test_clear_all_and_some():
    with marker(["wall_clock", "peak_rss"], key="x"):
        pass
    assert sorted(timemory.get()["timemory"]) == ["peak_rss", "wall_clock"]
    timemory.clear(["peak_rss"])
    assert sorted(timemory.get()["timemory"]) == ["wall_clock"]
    timemory.clear()
    assert timemory.get() == {"timemory": {}}
    assert WallClockStorage.get() == []
    assert timemory.size(["wall_clock"])[component.WallClock.index()] == 0


def test_clear_while_a_marker_is_running():
    with marker(["wall_clock"], key="outer"):
        timemory.clear()
        with marker(["wall_clock"], key="after-clear"):
            pass
    # the marker started before the clear records nothing into the new graph; no crash
    assert [e.prefix() for e in WallClockStorage.get()] == [">>> after-clear"]
    assert WallClockStorage.get()[0].depth() == 0


def test_hash_round_trip():
    h = timemory.get_hash("some label")
    assert isinstance(h, int) and 0 < h < 2**64
    assert timemory.get_hash("some label") == h
    assert timemory.add_hash_id("some label") == h
    assert timemory.get_hash("other label") != h
    assert timemory.get_hash_identifier(h) == "some label"
    assert timemory.get_hash_identifier(timemory.add_hash_id("ünïcode ✓")) == "ünïcode ✓"
