"""Component objects measure what they say.

Durations that only stand for "some time passed" come from the fake clock (the ``fake_clock``
fixture) and are checked exactly. Where the real clocks are the subject (wall_clock reads the
monotonic clock, CPU clocks leave out sleeps, cpu_util, context switches when sleeping), real time
is measured, and every check has a tolerance that holds on a loaded machine.
"""

from __future__ import annotations

import gc
import mmap
import os
import resource
import time

import pytest
import timemory
from timemory import component
from timemory.component import (
    CpuClock,
    CpuUtil,
    CurrentPeakRss,
    NetworkStats,
    NumMajorPageFaults,
    NumMinorPageFaults,
    PageRss,
    PeakRss,
    PriorityContextSwitch,
    ProcessCpuClock,
    ReadChar,
    ThreadCpuClock,
    TripCount,
    VoluntaryContextSwitch,
    WallClock,
    WrittenChar,
)

MB = 1_000_000  # the default memory unit (display "MB")


def busy(cpu_seconds: float) -> None:
    """Spin until this thread has used ``cpu_seconds`` of CPU, however loaded the machine is
    (a wall-time loop gets a fraction of a core when other processes compete)."""
    end = time.thread_time() + cpu_seconds
    x = 0
    while time.thread_time() < end:
        x += 1


def measured(cls, action, *args):
    obj = cls("probe")
    obj.start()
    action(*args)
    obj.stop()
    return obj


def test_wall_clock_around_sleep():
    # real time: wall_clock reads the real clock when the fake one is off. A loaded machine
    # only makes the sleep longer; the upper bound catches a wrong unit (x1000), not lateness
    w = WallClock("sleep")
    assert w.start() is w
    time.sleep(0.05)
    assert w.stop() is w
    assert 0.045 <= w.get() <= 10.0
    raw = w.get_raw()
    assert isinstance(raw, int) and 45_000_000 <= raw <= 10_000_000_000
    assert w.get() == pytest.approx(raw / 1e9)
    assert w.laps() == 1
    assert w.key() == "sleep"
    assert w.available is True and w.has_value is True


def test_laps_accumulate_and_reset_zeroes(fake_clock):
    w = WallClock()
    for lap in (0.01, 0.02, 0.03):
        w.start()
        fake_clock.advance(lap)
        w.stop()
    assert w.laps() == 3
    assert w.get() == 0.06
    # the last interval alone
    assert (w.get_value(), w.get_raw()) == (30_000_000, 60_000_000)
    assert w.reset() is w
    assert w.laps() == 0 and w.get() == 0.0 and w.get_raw() == 0


def test_stop_without_start_records_nothing():
    w = WallClock()
    w.stop()
    assert w.laps() == 0 and w.get_raw() == 0


def test_default_key_is_the_label():
    assert WallClock().key() == "wall"
    assert WallClock("mine").key() == "mine"
    w = WallClock("a")
    assert w.rekey("b") is w and w.key() == "b"


def test_addition_and_subtraction(fake_clock):
    a = measured(WallClock, fake_clock.advance, 0.02)
    b = measured(WallClock, fake_clock.advance, 0.01)
    assert (a.get_raw(), b.get_raw()) == (20_000_000, 10_000_000)
    total = a + b
    assert type(total) is WallClock
    assert total.laps() == 2
    assert total.get_raw() == a.get_raw() + b.get_raw()
    diff = total - b
    assert diff.get_raw() == a.get_raw() and diff.laps() == 1
    # the operands are unchanged
    assert a.laps() == 1 and b.laps() == 1
    a_raw = a.get_raw()
    a += b
    assert a.get_raw() == a_raw + b.get_raw() and a.laps() == 2
    a -= b
    assert a.get_raw() == a_raw and a.laps() == 1


def test_combining_different_components_is_a_type_error():
    with pytest.raises(TypeError):
        WallClock() + CpuClock()
    with pytest.raises(TypeError):
        WallClock() + 1


def test_str_and_repr(fake_clock):
    w = measured(WallClock, fake_clock.advance, 0.0125)
    text = str(w)
    assert "sec" in text and "wall" in text
    assert "0.013" in text  # 3 decimals
    assert "WallClock" in repr(w)
    assert "MB" in str(PeakRss()) and "peak_rss" in str(PeakRss())


def test_record_is_a_raw_reading(fake_clock):
    first = WallClock.record()
    fake_clock.advance(0.01)
    second = WallClock.record()
    assert isinstance(first, int)
    assert (first, second - first) == (fake_clock.wall_ns - 10_000_000, 10_000_000)


@pytest.mark.parametrize("cls", [CpuClock, ThreadCpuClock, ProcessCpuClock])
def test_cpu_clocks_count_a_busy_loop(cls):
    c = measured(cls, busy, 0.3)
    # times()-based clocks tick every 10 ms; a loaded machine may preempt the loop a little
    assert 0.1 <= c.get() <= 1.0


@pytest.mark.parametrize("cls", [CpuClock, ThreadCpuClock])
def test_cpu_clocks_do_not_count_sleep(cls):
    c = measured(cls, time.sleep, 0.2)
    assert 0.0 <= c.get() < 0.05


def _util_and_expected(action, *args) -> tuple[float, float]:
    """cpu_util around ``action`` and the same ratio from process_time / perf_counter."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    util = measured(CpuUtil, action, *args).get()
    expected = 100.0 * (time.process_time() - cpu0) / (time.perf_counter() - wall0)
    return util, expected


def test_cpu_util_busy_versus_sleeping():
    # on a loaded machine the busy loop gets less than a core: compare with what the
    # interpreter's own clocks saw over the same interval
    util, expected = _util_and_expected(busy, 0.2)
    assert util >= 15.0 and abs(util - expected) <= 15.0, (util, expected)
    util, expected = _util_and_expected(time.sleep, 0.2)
    assert 0.0 <= util < 10.0 and abs(util - expected) <= 10.0, (util, expected)


PAGE = mmap.PAGESIZE


def touch_new_memory(nbytes: int) -> mmap.mmap:
    """Fresh anonymous pages, each written once: the kernel must fault every one in (a
    bytearray could reuse memory the allocator already holds)."""
    block = mmap.mmap(-1, nbytes)
    for i in range(0, nbytes, PAGE):
        block[i] = 1
    return block


def _current_rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_peak_rss_grows_after_touching_100_mb():
    gc.collect()
    # the high-water mark only moves once the process exceeds its previous peak
    peak_bytes = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    headroom = max(0, peak_bytes - _current_rss_bytes())
    size = headroom + 100 * 1024 * 1024
    p = PeakRss("alloc")
    p.start()
    block = touch_new_memory(size)
    p.stop()
    block.close()
    assert 90.0 <= p.get() <= 400.0  # MB
    assert p.get_raw() >= 90 * MB


def test_page_rss_follows_current_memory():
    gc.collect()
    p = PageRss()
    p.start()
    block = touch_new_memory(50 * 1024 * 1024)
    p.stop()
    assert 45.0 <= p.get() <= 200.0
    block.close()
    q = PageRss()
    q.start()
    touch_new_memory(50 * 1024 * 1024).close()
    q.stop()
    # allocated and freed inside the interval: roughly no change
    assert abs(q.get()) < 20.0


def test_current_peak_rss_is_a_start_stop_pair():
    c = CurrentPeakRss()
    c.start()
    c.stop()
    value = c.get()
    assert isinstance(value, tuple) and len(value) == 2
    start, stop = value
    assert 0 < start <= stop
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1000 / MB
    assert stop == pytest.approx(peak_mb, rel=0.05)
    raw = c.get_raw()
    assert isinstance(raw, tuple) and len(raw) == 2
    assert raw == pytest.approx((start * MB, stop * MB))


def test_current_peak_rss_push_pop_stores_both_values():
    c = CurrentPeakRss("pair")
    c.push()
    c.start()
    c.stop()
    c.pop()
    stored = timemory.storage.CurrentPeakRssStorage.get()[0].data()
    assert stored.get() == c.get()
    assert stored.get_raw() == c.get_raw()
    start, stop = stored.get()
    assert 0 < start <= stop < 1e6  # MB: not garbage


def test_read_and_written_char_after_file_io(tmp_path):
    payload = os.urandom(2 * 1024 * 1024)
    path = tmp_path / "io.bin"
    w = WrittenChar()
    w.start()
    with open(path, "wb") as f:
        f.write(payload)
        f.flush()
    w.stop()
    r = ReadChar()
    r.start()
    with open(path, "rb") as f:
        assert f.read() == payload
    r.stop()
    for obj in (w, r):
        value = obj.get()
        assert isinstance(value, tuple) and len(value) == 2
        amount, rate = value
        assert 2.0 <= amount <= 10.0  # MB: 2 MiB payload plus a little other IO
        assert rate > 0
        raw = obj.get_raw()
        assert isinstance(raw, tuple) and raw[0] >= len(payload)


def test_io_display_units():
    assert ReadChar.display_unit() == ("MB", "MB/sec")
    assert WrittenChar.unit() == (MB, MB)


def test_page_faults_are_counted():
    f = NumMinorPageFaults()
    f.start()
    block = touch_new_memory(20 * 1024 * 1024)
    f.stop()
    block.close()
    value = f.get()
    # one fault per page at most; transparent huge pages can make it much fewer
    assert isinstance(value, int) and 0 < value
    assert value == f.get_raw()


def test_voluntary_context_switches_counted_when_sleeping():
    v = VoluntaryContextSwitch()
    v.start()
    for _ in range(5):
        time.sleep(0.005)
    v.stop()
    assert isinstance(v.get(), int) and v.get() >= 1


@pytest.mark.parametrize(
    "cls", [NumMinorPageFaults, NumMajorPageFaults, VoluntaryContextSwitch, PriorityContextSwitch]
)
def test_counters_are_non_negative_ints(cls):
    c = measured(cls, sum, range(1000))
    assert isinstance(c.get(), int) and c.get() >= 0
    assert isinstance(c.get_raw(), int) and c.get_raw() >= 0
    assert cls.unit() == 1 and cls.display_unit() == ""


def test_trip_count_counts_laps():
    t = TripCount()
    for _ in range(7):
        t.start()
        t.stop()
    assert t.laps() == 7
    assert t.get() == 7 and isinstance(t.get(), int)


def test_network_stats_has_eight_values():
    n = measured(NetworkStats, sum, range(1000))
    value = n.get()
    assert isinstance(value, tuple) and len(value) == 8
    assert all(isinstance(x, int) for x in value)


def test_components_do_not_touch_storage_without_push():
    measured(WallClock, sum, range(1000))
    assert timemory.size(["wall_clock"]) == {int(WallClock.index()): 0}
    assert timemory.get() == {"timemory": {}}


def test_push_pop_records_into_storage(fake_clock):
    w = WallClock("pushed")
    assert w.push() is w
    w.start()
    fake_clock.advance(0.01)
    w.stop()
    assert w.get_raw() == 10_000_000
    assert w.pop() is w
    entries = timemory.storage.WallClockStorage.get()
    assert [e.prefix() for e in entries] == [">>> pushed"]
    assert entries[0].data().get_raw() == w.get_raw()
    assert entries[0].data().laps() == 1


@pytest.mark.parametrize("name", component.get_available_types())
def test_every_available_component_supports_the_object_api(name):
    cls = getattr(component, name)
    obj = cls("k")
    assert obj.available is True and cls.available is True
    assert obj.start() is obj and obj.stop() is obj
    assert obj.measure() is obj and obj.mark_begin() is obj and obj.mark_end() is obj
    if cls.has_value:
        assert obj.laps() == 1
        assert obj.get() is not None and obj.get_raw() is not None
    else:
        assert obj.get() is None
    assert isinstance(str(obj), str) and isinstance(repr(obj), str)
    assert obj.reset() is obj and obj.laps() == 0
    for static in ("global_init", "thread_init", "global_finalize", "thread_finalize"):
        getattr(cls, static)()
