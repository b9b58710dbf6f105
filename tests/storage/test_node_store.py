"""The call graph's compact storage: node values in a per-graph arena sized by the
component, an open-addressing node index and label database. Many nodes (so both tables
grow and rehash several times), several components with different widths in one bundle, and
threads merged: every node keeps its own values."""

from __future__ import annotations

import threading

import pytest
import timemory
from timemory.bundle import marker
from timemory.storage import CurrentPeakRssStorage, TripCountStorage, WallClockStorage

N = 3000  # past the first tables' sizes (64 node slots, 1024 label slots) several times


def label(i):
    return f"node_store_{i}"


def test_many_nodes_keep_their_own_values(fake_clock):
    # node i: top level, i+1 laps of (i+1) ms each, and one child of 1 ms under it
    for i in range(N):
        for _ in range(i % 3 + 1):
            with marker(["wall_clock", "trip_count", "current_peak_rss"], key=label(i)):
                fake_clock.advance((i + 1) * 1e-3)
                with marker(["wall_clock"], key="child"):
                    fake_clock.advance(1e-3)
    entries = WallClockStorage.get()
    assert len(entries) == 2 * N
    for i in range(N):
        top, child = entries[2 * i], entries[2 * i + 1]
        laps = i % 3 + 1
        assert timemory.get_hash_identifier(top.hash()) == label(i)
        assert top.prefix() == f">>> {label(i)}"
        assert child.prefix() == ">>> |_child"
        assert top.data().laps() == laps and child.data().laps() == laps
        stats = top.stats()
        assert stats.count() == laps
        # in seconds: each lap is (i + 1) ms of its own plus the child's 1 ms
        assert stats.min() == pytest.approx((i + 2) * 1e-3, rel=1e-12)
        assert stats.max() == pytest.approx((i + 2) * 1e-3, rel=1e-12)
        assert stats.sum() == pytest.approx(laps * (i + 2) * 1e-3, rel=1e-12)
        assert child.stats().sum() == pytest.approx(laps * 1e-3, rel=1e-12)
    trips = TripCountStorage.get()
    assert [e.data().laps() for e in trips] == [i % 3 + 1 for i in range(N)]
    # a component keeping two values per interval (peak RSS at start and at stop)
    peaks = CurrentPeakRssStorage.get()
    assert len(peaks) == N
    for e in peaks:
        start, stop = e.stats().min()
        assert 0 < start <= stop


def test_threads_merge_node_by_node(fake_clock):
    barrier = threading.Barrier(4)

    def work(t):
        barrier.wait()
        for i in range(N // 10):
            # shared labels on every thread, and one label of this thread's own
            with marker(["wall_clock"], key=label(i)):
                fake_clock.advance(0)
        with marker(["wall_clock"], key=f"only_{t}"):
            pass

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = WallClockStorage.get()
    got = {timemory.get_hash_identifier(e.hash()): e.data().laps() for e in entries}
    expected = {label(i): 4 for i in range(N // 10)}
    expected.update({f"only_{t}": 1 for t in range(4)})
    assert got == expected
    assert all(e.stats().count() == e.data().laps() for e in entries)


def test_clear_then_record_again(fake_clock):
    for i in range(200):
        with marker(["wall_clock"], key=label(i)):
            fake_clock.advance(1e-3)
    timemory.clear(["wall_clock"])
    assert WallClockStorage.get() == []
    for i in range(5):
        with marker(["wall_clock"], key=label(i)):
            fake_clock.advance(2e-3)
    entries = WallClockStorage.get()
    assert [timemory.get_hash_identifier(e.hash()) for e in entries] == [label(i) for i in range(5)]
    assert [(e.data().laps(), e.stats().sum()) for e in entries] == [
        (1, pytest.approx(2e-3, rel=1e-12))
    ] * 5
