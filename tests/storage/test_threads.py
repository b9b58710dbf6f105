"""Markers on several threads: per-thread storage merged at read time."""

from __future__ import annotations

import re
import threading
import time

import pytest
import timemory
from timemory import settings
from timemory.bundle import marker
from timemory.storage import WallClockStorage

THREADS = 8
REPEAT = 25


def work(barrier, n=REPEAT):
    barrier.wait()  # all threads alive at once: distinct threads, real concurrency
    for _ in range(n):
        with marker(["wall_clock"], key="outer"):
            with marker(["wall_clock"], key="inner"):
                pass


def run_threads(target=work, count=THREADS):
    barrier = threading.Barrier(count)
    threads = [threading.Thread(target=target, args=(barrier,)) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return threads


def test_collapsed_threads_merge_exactly():
    assert settings.collapse_threads is True  # the default
    run_threads()
    got = [(e.prefix(), e.depth(), e.data().laps()) for e in WallClockStorage.get()]
    assert got == [(">>> outer", 0, THREADS * REPEAT), (">>> |_inner", 1, THREADS * REPEAT)]
    stats = WallClockStorage.get()[0].stats()
    assert stats.count() == THREADS * REPEAT
    tree = WallClockStorage.get_tree()
    assert len(tree) == 1  # one merged tree
    outer = tree[0].children()[0].value()
    assert isinstance(outer.tid(), set) and len(outer.tid()) >= 1
    assert outer.inclusive().data().laps() == THREADS * REPEAT


def test_per_thread_entries_when_not_collapsed(monkeypatch):
    run_threads()
    monkeypatch.setattr(settings, "collapse_threads", False)
    entries = WallClockStorage.get()
    assert len(entries) == 2 * THREADS
    tids = set()
    widths = set()
    for outer, inner in zip(entries[::2], entries[1::2]):
        m_outer = re.fullmatch(r"\|(\d+)>>> outer", outer.prefix())
        m_inner = re.fullmatch(r"\|(\d+)>>> \|_inner", inner.prefix())
        assert m_outer and m_inner, (outer.prefix(), inner.prefix())
        assert m_outer.group(1) == m_inner.group(1)
        assert int(m_outer.group(1)) == outer.tid() == inner.tid()
        assert outer.data().laps() == inner.data().laps() == REPEAT
        assert (outer.depth(), inner.depth()) == (0, 1)
        tids.add(outer.tid())
        widths.add(len(m_outer.group(1)))
    assert len(tids) == THREADS
    assert len(widths) == 1  # zero-padded to the same width
    # one root per thread in the tree view
    roots = WallClockStorage.get_tree()
    assert len(roots) == THREADS
    assert {next(iter(r.value().tid())) for r in roots} == tids
    # the JSON carries the same prefixes
    graph = timemory.get()["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert [g["prefix"] for g in graph] == [e.prefix() for e in entries]
    monkeypatch.undo()
    assert [e.data().laps() for e in WallClockStorage.get()] == [THREADS * REPEAT] * 2


def test_thread_and_main_thread_merge_under_the_same_labels():
    with marker(["wall_clock"], key="outer"):
        with marker(["wall_clock"], key="inner"):
            pass
    run_threads(count=2)
    got = [(e.prefix(), e.data().laps()) for e in WallClockStorage.get()]
    assert got == [(">>> outer", 2 * REPEAT + 1), (">>> |_inner", 2 * REPEAT + 1)]


def test_thread_markers_are_not_nested_under_the_main_thread():
    with marker(["wall_clock"], key="main-only"):
        run_threads(count=2)
    got = [(e.prefix(), e.depth()) for e in WallClockStorage.get()]
    assert (">>> main-only", 0) in got
    assert (">>> outer", 0) in got and (">>> |_inner", 1) in got


def test_one_marker_object_shared_by_threads():
    shared = marker(["wall_clock"], key="shared")

    def use_shared(barrier):
        barrier.wait()
        for _ in range(REPEAT):
            with shared:
                time.sleep(0.0005)  # let the other threads enter while this one is inside

    run_threads(use_shared, count=4)
    # each thread's measurements stay its own: never nested under another thread's
    assert [(e.prefix(), e.depth(), e.data().laps()) for e in WallClockStorage.get()] == [
        (">>> shared", 0, 4 * REPEAT)
    ]
    with shared:
        with shared:
            pass
    assert [e.data().laps() for e in WallClockStorage.get()] == [4 * REPEAT + 1, 1]


def test_data_of_exited_threads_is_kept():
    threads = run_threads(count=3)
    assert not any(t.is_alive() for t in threads)
    del threads
    import gc

    gc.collect()
    assert [e.data().laps() for e in WallClockStorage.get()] == [3 * REPEAT] * 2


def test_reading_while_threads_record_does_not_crash():
    stop = threading.Event()
    recording = threading.Semaphore(0)

    def keep_recording():
        first = True
        while first or not stop.is_set():
            with marker(["wall_clock"], key="busy"):
                with marker(["wall_clock"], key="nested"):
                    pass
            if first:
                recording.release()
                first = False

    threads = [threading.Thread(target=keep_recording) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in threads:
            assert recording.acquire(timeout=30)
        end = time.monotonic() + 0.2
        reads = 0
        while reads < 50 or time.monotonic() < end:
            timemory.get(hierarchy=True)
            timemory.get()
            WallClockStorage.get_tree()
            timemory.get_text()
            reads += 1
    finally:
        stop.set()
        for t in threads:
            t.join()
    entries = WallClockStorage.get()
    assert [e.prefix() for e in entries] == [">>> busy", ">>> |_nested"]
    assert entries[0].data().laps() == entries[1].data().laps() >= 4


@pytest.mark.parametrize("collapse", [True, False])
def test_thread_count_in_json(monkeypatch, collapse):
    monkeypatch.setattr(settings, "collapse_threads", collapse)
    run_threads(count=2)
    wc = timemory.get()["timemory"]["wall_clock"]
    assert wc["thread_count"] >= 2
