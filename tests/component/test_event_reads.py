"""Components that read the same kernel source share one read per event.

cpu_clock, user_clock, sys_clock, peak_rss, the page faults... are fields of one getrusage();
page_rss and virtual_memory of one /proc/self/statm. One event of a bundle (a marker's start or
stop, a profiled call or return) reads each source once, for all its components; a reading is
never reused by another event (nesting, threads). ``_core._kernel_reads()`` counts the reads
per source (every thread, since start-up); the tests count the difference around what they do.
Values checked here are sums of the same readings (exact), or memory the test touches itself.
"""

from __future__ import annotations

import mmap
import resource
import threading

import pytest
import timemory
from timemory import _core
from timemory.bundle import marker
from timemory.profiler import profile
from timemory.storage import CpuClockStorage, PeakRssStorage, SysClockStorage, UserClockStorage

RUSAGE_COMPONENTS = ["cpu_clock", "user_clock", "sys_clock", "peak_rss", "num_minor_page_faults"]


def reads(source: str = "getrusage") -> int:
    return _core._kernel_reads()[source]


def fibonacci(n: int) -> int:
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def total_laps(component: str) -> int:
    """Laps over every node of the component's merged call graph (the recorded calls)."""
    total = 0

    def walk(node: dict) -> None:
        nonlocal total
        total += node["node"]["inclusive"]["entry"]["laps"]
        for child in node.get("children", []):
            walk(child)

    graph = timemory.get(hierarchy=True)["timemory"][component]["graph"]
    for root in graph[0]:
        for child in root.get("children", []):
            walk(child)
    return total


def by_label(storage) -> dict[str, float]:
    return {e.prefix().lstrip(">|_ -"): e.data().get() for e in storage.get()}


def test_the_counter_counts_each_read_on_its_own():
    # a component read on its own (no event around it) reads the kernel every time
    before = reads()
    for _ in range(3):
        _core.record(timemory.component.id.peak_rss.value)
    assert reads() - before == 3


def test_marker_one_getrusage_per_start_and_stop():
    before_rusage, before_statm = reads(), reads("statm")
    for _ in range(10):
        with marker(RUSAGE_COMPONENTS + ["page_rss", "virtual_memory", "wall_clock"], key="shared"):
            spin(100)
    # 5 getrusage readers and 2 statm readers per event; 20 events: 20 reads of each source
    assert reads() - before_rusage == 20
    assert reads("statm") - before_statm == 20


def test_profiler_one_getrusage_per_call_and_return():
    before = reads()
    with profile(["wall_clock", "cpu_clock", "peak_rss", "num_minor_page_faults"]):
        fibonacci(12)
    done = reads() - before
    calls = total_laps("wall_clock")
    assert calls >= 465  # fibonacci(12) alone is 465 calls
    # every recorded call is two events (call and return), each one read for the three
    # getrusage components; unshared it would be 3 reads an event
    assert done == 2 * calls


def test_peak_rss_alone_reads_the_thread_usage():
    # getrusage(RUSAGE_THREAD) has the process's ru_maxrss (what the cheaper read relies on)
    assert (
        resource.getrusage(resource.RUSAGE_THREAD).ru_maxrss
        == resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    )
    before = _core._kernel_reads()
    for _ in range(10):
        with marker(["wall_clock", "peak_rss", "current_peak_rss"], key="maxrss-only"):
            spin(100)
    after = _core._kernel_reads()
    assert after["getrusage_thread_maxrss"] - before["getrusage_thread_maxrss"] == 20
    assert after["getrusage"] - before["getrusage"] == 0
    # with another getrusage field in the event, its one full read serves peak_rss too
    before = after
    with marker(["peak_rss", "cpu_clock"], key="mixed"):
        spin(100)
    after = _core._kernel_reads()
    assert after["getrusage"] - before["getrusage"] == 2
    assert after["getrusage_thread_maxrss"] - before["getrusage_thread_maxrss"] == 0


def test_peak_rss_alone_under_the_profiler_reads_once_per_event():
    before = _core._kernel_reads()
    with profile(["wall_clock", "peak_rss"]):
        fibonacci(10)
    after = _core._kernel_reads()
    assert after["getrusage"] - before["getrusage"] == 0
    assert after["getrusage_thread_maxrss"] - before["getrusage_thread_maxrss"] == 2 * total_laps(
        "wall_clock"
    )


def test_rusage_children_takes_the_full_read():
    # the children's ru_maxrss has no per-thread twin: the full read of RUSAGE_CHILDREN
    before = _core._kernel_reads()
    _core.set_rusage_children()
    try:
        with marker(["wall_clock", "peak_rss"], key="children"):
            spin(100)
    finally:
        _core.set_rusage_self()
    after = _core._kernel_reads()
    assert after["getrusage"] - before["getrusage"] == 2
    assert after["getrusage_thread_maxrss"] - before["getrusage_thread_maxrss"] == 0


def test_cpu_user_sys_of_one_event_are_one_reading():
    with marker(["cpu_clock", "user_clock", "sys_clock"], key="consistent"):
        spin(200_000)
    with profile(["cpu_clock", "user_clock", "sys_clock"]):
        for _ in range(20):
            spin(5_000)
    cpu, user, sys_ = (
        by_label(CpuClockStorage),
        by_label(UserClockStorage),
        by_label(SysClockStorage),
    )
    assert cpu.keys() == user.keys() == sys_.keys() and "consistent" in cpu
    # one getrusage per event: cpu_clock is exactly user + sys of the same readings (separate
    # reads a microsecond apart differ whenever the µs counter ticks between them)
    for label in cpu:
        assert cpu[label] == pytest.approx(user[label] + sys_[label], abs=1e-12), label
    assert cpu["consistent"] > 0.0


def touch_beyond_peak(extra: int) -> mmap.mmap:
    """Memory touched page by page past the process's high-water mark by ``extra`` bytes."""
    with open("/proc/self/statm") as f:
        resident = int(f.read().split()[1]) * mmap.PAGESIZE
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    nbytes = max(peak - resident, 0) + extra
    block = mmap.mmap(-1, nbytes)
    for i in range(0, nbytes, mmap.PAGESIZE):
        block[i] = 1
    return block


@pytest.mark.parametrize(
    "components",
    [["peak_rss", "cpu_clock", "num_minor_page_faults"], ["wall_clock", "peak_rss"]],
    ids=["full-getrusage", "maxrss-alone"],
)
def test_peak_rss_rises_when_a_region_touches_memory(components):
    extra = 32 * 1024 * 1024
    with marker(components, key="touching"):
        block = touch_beyond_peak(extra)
    block.close()
    grown = by_label(PeakRssStorage)["touching"] * 1e6  # display unit MB
    # the high-water mark moved by about what was touched past it (other allocations of the
    # interpreter only add)
    assert grown >= 0.9 * extra


def test_nested_events_do_not_reuse_the_outer_reading():
    before = reads()
    with marker(["cpu_clock", "peak_rss"], key="outer"):
        spin(50_000)
        with marker(["cpu_clock", "peak_rss"], key="inner"):
            spin(50_000)
        spin(50_000)
    assert reads() - before == 4  # four events, one read each
    cpu = by_label(CpuClockStorage)
    assert cpu["outer"] >= cpu["inner"] >= 0.0


def test_threads_read_per_event_and_stay_consistent():
    n_threads, n_events = 4, 50
    barrier = threading.Barrier(n_threads)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait(timeout=60)
            for _ in range(n_events):
                with marker(["cpu_clock", "user_clock", "sys_clock", "peak_rss"], key="threaded"):
                    spin(2_000)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    before = reads()
    threads = [threading.Thread(target=work) for _ in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors and not any(t.is_alive() for t in threads)
    # one read per event per thread: start and stop of every marker
    assert reads() - before == n_threads * n_events * 2
    for storage in (CpuClockStorage, UserClockStorage, SysClockStorage):
        entries = [e for e in storage.get() if e.prefix().endswith("threaded")]
        assert sum(e.data().laps() for e in entries) == n_threads * n_events
    cpu = {e.prefix(): e.data().get() for e in CpuClockStorage.get()}
    user = {e.prefix(): e.data().get() for e in UserClockStorage.get()}
    sys_ = {e.prefix(): e.data().get() for e in SysClockStorage.get()}
    for key in cpu:
        assert cpu[key] == pytest.approx(user[key] + sys_[key], abs=1e-12), key


def test_fake_clock_still_drives_cpu_clock_in_a_shared_bundle(fake_clock):
    with marker(["cpu_clock", "user_clock", "peak_rss"], key="faked"):
        fake_clock.advance(0.5, cpu=0.25)
    assert by_label(CpuClockStorage)["faked"] == 0.25


def traced_loop(n: int) -> int:
    total = 0
    for i in range(n):
        total += i % 3
    return total


def test_tracer_reads_once_per_line_whatever_the_components():
    from timemory.trace import trace

    def getrusage_reads_of(components: list[str]) -> int:
        before = reads()
        with trace(components):
            traced_loop(50)
        return reads() - before

    one = getrusage_reads_of(["cpu_clock"])
    timemory.clear()  # the values below are the second trace's alone
    five = getrusage_reads_of(RUSAGE_COMPONENTS)
    assert one >= 100  # a line event reads at least once per loop iteration
    # the same lines, one getrusage each however many components read it
    assert five == one
    cpu, user, sys_ = (
        by_label(CpuClockStorage),
        by_label(UserClockStorage),
        by_label(SysClockStorage),
    )
    for label in user:
        assert cpu[label] == pytest.approx(user[label] + sys_[label], abs=1e-12), label


def test_tracer_with_peak_rss_alone_reads_the_thread_usage():
    from timemory.trace import trace

    def counts(components: list[str]) -> tuple[int, int]:
        before = _core._kernel_reads()
        with trace(components):
            traced_loop(50)
        after = _core._kernel_reads()
        timemory.clear()
        return (
            after["getrusage"] - before["getrusage"],
            after["getrusage_thread_maxrss"] - before["getrusage_thread_maxrss"],
        )

    full, thread = counts(["wall_clock", "peak_rss", "current_peak_rss"])
    assert full == 0  # ru_maxrss alone: the cheaper getrusage(RUSAGE_THREAD)
    assert thread >= 100  # one per line event, at least one a loop iteration
    # with a component that needs the times too: the full read, the same number of events
    assert counts(["peak_rss", "cpu_clock"]) == (thread, 0)


class NestingComponent(timemory.component.Base):
    """A Python-defined component whose start() runs a marker of its own: an event nested in
    the readings of the outer event (they run between the outer event's shared reads)."""

    label = "test_event_reads_nesting"

    def start(self):
        with marker(["cpu_clock", "user_clock"], key="inside-start"):
            spin(20_000)

    def stop(self):
        pass

    def get(self):
        return 1


def test_an_event_nested_in_another_events_readings_reads_on_its_own():
    timemory.component.register(NestingComponent)
    comps = ["cpu_clock", NestingComponent.label, "user_clock", "sys_clock"]
    before = reads()
    with marker(comps, key="outer-event"):
        spin(20_000)
    # the outer start (1), the nested marker's start and stop (2), the outer stop (1)
    assert reads() - before == 4
    cpu, user, sys_ = (
        by_label(CpuClockStorage),
        by_label(UserClockStorage),
        by_label(SysClockStorage),
    )
    assert cpu["outer-event"] == pytest.approx(user["outer-event"] + sys_["outer-event"], abs=1e-12)
    # the nested marker recorded its own interval (its own two reads, counted above)
    assert "inside-start" in cpu and "inside-start" in user
    # one reading per event: cpu = user + sys of it, so cpu >= user exactly
    assert cpu["inside-start"] >= user["inside-start"]
