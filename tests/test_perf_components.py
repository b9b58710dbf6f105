"""Hardware-counter event strings as components: "perf::page-faults", "perf::cycles",
"perf::PAPI_TOT_INS", "perf::r01c7" compose like built-in components (markers, the profiler,
the line profiler, command lines, beside papi_vector and Python-defined components).

These VMs expose software events only (no PMU): the software events are counted for real,
the hardware ones take the "not available" branch; on a machine with a PMU the same tests
take the "available" branches. ``perf::PAPI_L2_DCM`` (no generic perf mapping anywhere) is
the event that is unavailable on every machine.
"""

from __future__ import annotations

import json
import mmap
import os
import threading
from typing import Any

import pytest
import timemory
from timemory import _core, hardware_counters, settings
from timemory.bundle import marker
from tool_helpers import run_tool, touch_fresh_pages, write

PAGE = mmap.PAGESIZE
NEVER_AVAILABLE = "perf::PAPI_L2_DCM"


def available(event: str) -> bool:
    return hardware_counters.Info(event).available()


needs_page_faults = pytest.mark.skipif(
    not available("page-faults"), reason="perf_event_open denied: no software events here"
)


@pytest.fixture(autouse=True)
def _clean():
    quiet = settings.papi_quiet
    settings.papi_quiet = True  # the tests of the warning run in a process of their own
    yield
    timemory.clear()
    settings.papi_quiet = quiet


def recorded(component: str) -> dict[str, tuple[float, int]]:
    """label (prefix without the tree decoration) -> (value, laps) of a component's storage."""
    batch = _core.flat_snapshot(_core.resolve_components(component, False)[0])
    out: dict[str, tuple[float, int]] = {}
    k = 0
    while True:
        try:
            prefix = batch.prefix(k)
        except IndexError:
            return out
        label = prefix.replace(">>>", "").replace("|_", "").strip()
        out[label] = (float(batch.data(k).get()), int(batch.laps(k)))
        k += 1


# ------------------------------------------------------------------ names and rows


def test_each_distinct_event_is_one_component_under_its_canonical_name():
    cycles = _core.resolve_components("perf::cycles", False)
    assert cycles == _core.resolve_components("perf::cpu-cycles", False)
    assert cycles == _core.resolve_components("PERF::CPU-Cycles", False)
    assert _core.component_info(cycles[0])["key"] == "perf::cpu-cycles"
    assert hardware_counters.component("cycles") == "perf::cpu-cycles"
    assert hardware_counters.component("perf::faults") == "perf::page-faults"
    assert hardware_counters.component("r01C7") == "perf::r1c7"
    assert hardware_counters.component("papi_tot_ins") == "perf::PAPI_TOT_INS"
    faults, clock = _core.resolve_components("perf::page-faults, perf::task-clock", False)
    assert len({cycles[0], faults, clock}) == 3
    # listed twice under two spellings: measured once
    assert _core.resolve_components(["perf::cycles", "perf::cpu-cycles"], False) == cycles


def test_a_perf_component_row_is_a_native_counting_row():
    index = _core.hw_event_component("page-faults")
    info = _core.component_info(index)
    assert index >= 81  # a slot after the built-in components
    assert info["user"] is False
    assert info["combine"] == "delta"
    assert info["units"] == ["count"]
    assert info["label"] == "perf_page-faults"  # file stem and METRIC column: no "::"
    assert _core.hw_component_event(index) == "page-faults"
    assert _core.hw_component_event(_core.resolve_components("wall_clock", False)[0]) is None
    clock = _core.component_info(_core.hw_event_component("task-clock"))
    assert clock["units"] == ["timing"]  # nanoseconds raw, seconds in tables
    assert info["available"] is available("page-faults")


def test_a_row_made_by_index_joins_the_component_table(run_python):
    """Made through hardware_counters (not by a name in a marker), the row is in
    timemory.component's table too: markers given its index hand out its values."""
    proc = run_python(
        """
        import timemory.component as component
        from timemory import _core
        from timemory.bundle import marker
        index = _core.hw_event_component("minor-faults")
        print("TABLE", index in component._BY_INDEX)
        with marker([index], key="k"):
            pass
        batch = _core.flat_snapshot(index)
        try:
            print("VALUE", type(batch.data(0)).__name__)
        except IndexError:  # not recorded: unavailable here
            print("VALUE None")
        """,
        env={"TIMEMORY_FILE_OUTPUT": "false", "TIMEMORY_PAPI_QUIET": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    if available("minor-faults"):
        assert "TABLE True" in proc.stdout and "VALUE perf::minor-faults" in proc.stdout
    else:  # nothing to hand out
        assert "TABLE False" in proc.stdout and "VALUE None" in proc.stdout


def test_unknown_events_are_one_line_naming_the_valid_choices():
    for bad in ("perf::bogus", "perf::", "perf::r12z"):
        with pytest.raises(ValueError) as err:
            timemory._components.resolve([bad])
        message = str(err.value)
        assert "\n" not in message
        assert message.startswith("Unknown hardware counter event")
        assert f"'{bad}'" in message
        assert "PAPI_TOT_INS" in message and "page-faults" in message and "r<hex" in message
    with pytest.raises(ValueError, match="Unknown hardware counter event 'bogus'"):
        hardware_counters.component("bogus")


# ------------------------------------------------------------------ counting


@needs_page_faults
def test_page_faults_of_a_known_allocation_in_a_marker():
    n = 2000
    with marker(["wall_clock", "perf::page-faults", "perf::minor-faults"], key="touch"):
        touch_fresh_pages(n)
    faults, laps = recorded("perf::page-faults")["touch"]
    minor, _ = recorded("perf::minor-faults")["touch"]
    assert laps == 1
    assert n <= faults < 3 * n
    assert n <= minor <= faults
    assert recorded("wall_clock")["touch"][1] == 1


@needs_page_faults
def test_nested_markers_count_their_own_intervals():
    with marker(["perf::page-faults"], key="outer"):
        touch_fresh_pages(1000)
        for _ in range(3):
            with marker(["perf::page-faults"], key="inner"):
                touch_fresh_pages(500)
    got = recorded("perf::page-faults")
    assert got["inner"][1] == 3
    assert 1500 <= got["inner"][0] < 3000
    assert got["outer"][0] >= 1000 + got["inner"][0]


def test_task_clock_counts_time_on_the_cpu():
    if not available("task-clock"):
        pytest.skip("perf_event_open denied")
    with marker(["perf::task-clock"], key="spin"):
        touch_fresh_pages(1000)
    (value, laps) = recorded("perf::task-clock")["spin"]
    assert laps == 1 and value > 0


@needs_page_faults
def test_counters_are_per_thread():
    """Each thread opens its own counter: a thread's marker counts its own faults, not those
    of the threads touching memory at the same time (every marker is open while all touch)."""
    sizes = [1000, 2000, 3000, 4000]
    barrier = threading.Barrier(len(sizes))

    def worker(k: int) -> None:
        with marker(["perf::page-faults"], key=f"t{k}"):
            barrier.wait()
            touch_fresh_pages(sizes[k])
            barrier.wait()  # nobody leaves before everybody touched

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(len(sizes))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = recorded("perf::page-faults")
    for k, n in enumerate(sizes):
        # process-wide counting would give at least sum(sizes) = 10000 in each
        assert n <= got[f"t{k}"][0] < n + 1000, got


# ------------------------------------------------------------------ unavailable events


def test_an_unavailable_event_warns_once_naming_it_and_why_and_the_rest_is_measured(
    run_python,
):
    proc = run_python(
        f"""
        import mmap, timemory
        from timemory import _core
        from timemory.bundle import marker
        for _ in range(3):
            with marker(["wall_clock", "{NEVER_AVAILABLE}", "perf::page-faults"], key="k"):
                buf = mmap.mmap(-1, 100 * mmap.PAGESIZE)
                for i in range(100):
                    buf[i * mmap.PAGESIZE] = 1
        wall = _core.flat_snapshot(_core.resolve_components("wall_clock", False)[0])
        never = _core.flat_snapshot(_core.resolve_components("{NEVER_AVAILABLE}", False)[0])
        print("WALL", wall.laps(0))
        try:
            never.prefix(0)
            print("NEVER RECORDED")
        except IndexError:
            print("NEVER EMPTY")
        """,
        env={"TIMEMORY_FILE_OUTPUT": "false", "TIMEMORY_PRINT_SUMMARY": "false"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "WALL 3" in proc.stdout and "NEVER EMPTY" in proc.stdout
    # one warning (a TimemoryWarning: Python prints the source line under it)
    lines = [line for line in proc.stderr.splitlines() if "TimemoryWarning" in line]
    assert len(lines) == 1, proc.stderr
    assert (
        "TimemoryWarning: hardware counter component perf::PAPI_L2_DCM is not available"
        in (lines[0])
    )
    assert "perf has no generic level 2 cache event" in lines[0]


def test_papi_quiet_silences_the_warning(run_python):
    proc = run_python(
        f"""
        from timemory.bundle import marker
        with marker(["wall_clock", "{NEVER_AVAILABLE}"], key="k"):
            pass
        """,
        env={"TIMEMORY_PAPI_QUIET": "1", "TIMEMORY_FILE_OUTPUT": "false"},
    )
    assert proc.returncode == 0, proc.stderr
    assert NEVER_AVAILABLE not in proc.stderr


@pytest.mark.parametrize("event", ["cycles", "instructions", "PAPI_TOT_INS", "r01c7"])
def test_a_hardware_event_counts_or_says_why_not(event):
    index = _core.hw_event_component(event)
    info = _core.component_info(index)
    if not info["available"]:
        assert info["description"].startswith("not available: ")
        assert (
            info["description"][len("not available: ") :] == hardware_counters.Info(event).reason()
        )
        # dropped from markers, which measure their other components
        with marker(["wall_clock", index], key="hw"):
            pass
        assert recorded("wall_clock")["hw"][1] == 1
        assert recorded(info["key"]) == {}
        return
    with marker([info["key"]], key="hw"):
        sum(range(100_000))
    value, laps = recorded(info["key"])["hw"]
    assert laps == 1 and value >= 0


def test_at_most_the_free_slots_then_one_clear_line(run_python):
    """perf:: components and Python-defined ones share the 64 free slots of the table."""
    proc = run_python(
        """
        from timemory import _components
        n = 0
        try:
            for config in range(1, 200):
                _components.resolve([f"perf::r{config:x}"])
                n += 1
        except ValueError as err:
            print("ERROR", err)
        print("MADE", n)
        """,
        env={"TIMEMORY_PAPI_QUIET": "1", "TIMEMORY_FILE_OUTPUT": "false"},
    )
    assert proc.returncode == 0, proc.stderr
    made = int(proc.stdout.split("MADE ")[1].split()[0])
    assert made == 64
    assert (
        "ERROR component 'perf::r41' needs a free component slot: at most 64 Python-defined "
        "and perf:: components together"
    ) in proc.stdout


# ------------------------------------------------------------------ composition


@needs_page_faults
def test_beside_papi_vector_counting_the_same_event():
    saved = settings.papi_events
    settings.papi_events = "page-faults"
    try:
        n = 1500
        with marker(["papi_vector", "perf::page-faults"], key="both"):
            touch_fresh_pages(n)
        (entry,) = timemory.storage.PapiVectorStorage.get()
        vector = entry.data().get()
        faults, _ = recorded("perf::page-faults")["both"]
        assert n <= vector < 3 * n and n <= faults < 3 * n
        # two counters of one event, read one after the other: nearly the same counts
        assert abs(vector - faults) < n // 2
    finally:
        timemory.clear()
        settings.papi_events = saved


@needs_page_faults
def test_in_regions_and_component_decorators():
    from timemory import region
    from timemory.bundle import component_decorator

    region.push_components(["wall_clock", "perf::page-faults"])
    try:
        region.push("reg")
        touch_fresh_pages(500)
        region.pop("reg")
    finally:
        region.pop_components()
    measured = component_decorator("wall_clock, perf::page-faults", "deco")
    touch_fresh_pages(400)
    measured.stop()
    got = recorded("perf::page-faults")
    assert 500 <= got["reg"][0] < 1500 and 400 <= got["deco"][0] < 1200, got


@needs_page_faults
def test_in_the_environment_component_list(run_python):
    proc = run_python(
        """
        import mmap
        from timemory import _core, region
        region.push("env")
        buf = mmap.mmap(-1, 300 * mmap.PAGESIZE)
        for i in range(300):
            buf[i * mmap.PAGESIZE] = 1
        region.pop("env")
        batch = _core.flat_snapshot(_core.hw_event_component("page-faults"))
        print("FAULTS", batch.data(0).get())
        """,
        env={
            "TIMEMORY_COMPONENTS": "wall_clock,perf::page-faults",
            "TIMEMORY_FILE_OUTPUT": "false",
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout.split("FAULTS ")[1].split()[0]) >= 300


@needs_page_faults
def test_papi_events_may_change_while_a_perf_component_runs():
    """perf:: components count their own event, not settings.papi_events: changing the
    events of papi_vector under a running perf:: marker is allowed and leaves it whole."""
    saved = settings.papi_events
    try:
        with marker(["perf::page-faults"], key="running"):
            assert _core.hw_running() == 0
            settings.papi_events = "minor-faults"
            touch_fresh_pages(600)
        assert 600 <= recorded("perf::page-faults")["running"][0] < 1800
    finally:
        timemory.clear()
        settings.papi_events = saved


@needs_page_faults
def test_beside_a_python_defined_component():
    from timemory.component import Base, register

    @register
    class PerfTestTicks(Base):
        label = "perf_test_ticks"
        combine = "sum"

        def get(self) -> float:
            return 2.0

    with marker(["perf::page-faults", PerfTestTicks, "wall_clock"], key="mixed"):
        touch_fresh_pages(800)
    assert 800 <= recorded("perf::page-faults")["mixed"][0] < 2400
    assert recorded("perf_test_ticks")["mixed"] == (2.0, 1)


@needs_page_faults
def test_in_the_profiler_every_call_is_counted():
    from timemory.profiler import profile

    def touch_twice() -> None:
        touch_fresh_pages(600)
        touch_fresh_pages(600)

    with profile(components=["wall_clock", "perf::page-faults"]):
        touch_twice()
    got = recorded("perf::page-faults")
    (outer,) = [v for k, v in got.items() if k == "touch_twice"]
    (inner,) = [v for k, v in got.items() if k == "touch_fresh_pages"]
    assert inner[1] == 2 and 1200 <= inner[0] < 2400
    assert outer[1] == 1 and outer[0] >= inner[0]


@needs_page_faults
def test_in_the_tracer_every_line_is_counted(run_python):
    # a process of its own: the tracer's settings (throttling) as a program starts with them
    proc = run_python(
        """
        import mmap
        from timemory import _core, trace

        def touch():
            buf = mmap.mmap(-1, 500 * mmap.PAGESIZE)
            for i in range(500):
                buf[i * mmap.PAGESIZE] = 1
            buf.close()

        with trace.Tracer(components=["wall_clock", "perf::page-faults"]):
            touch()
        batch = _core.flat_snapshot(_core.hw_event_component("page-faults"))
        k = 0
        while True:
            try:
                if "buf[i * mmap.PAGESIZE] = 1" in batch.prefix(k):
                    print("LOOP", batch.data(k).get(), batch.laps(k))
            except IndexError:
                break
            k += 1
        """,
        env={"TIMEMORY_FILE_OUTPUT": "false", "TIMEMORY_PRINT_SUMMARY": "false"},
    )
    assert proc.returncode == 0, proc.stderr
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("LOOP")]
    faults, laps = line.split()[1:]
    assert 500 <= float(faults) < 1500 and int(laps) == 500, proc.stdout


@needs_page_faults
def test_a_component_object_of_a_perf_event():
    """timemory.component's class of the row (the storage hands these out) measures too."""
    index = _core.hw_event_component("page-faults")
    with marker(["perf::page-faults"], key="made"):  # first named: joins timemory.component
        pass
    cls = timemory.component._class_for(index)
    obj = cls("standalone")
    obj.start()
    touch_fresh_pages(400)
    obj.stop()
    assert 400 <= obj.get() < 1200


@needs_page_faults
def test_in_the_line_profiler_as_a_scalar_component():
    from timemory.line_profiler import LineProfiler, scalar_components

    assert hardware_counters.component("page-faults") in scalar_components()  # made now

    def touch() -> None:
        touch_fresh_pages(700)

    profiler = LineProfiler(component="perf::page-faults")
    profiler.add_function(touch)
    with profiler:
        touch()
    assert profiler.component == "perf::page-faults"
    stats = profiler.get_stats()
    ((_, lines),) = [(k, v) for k, v in stats.timings.items() if k[2].endswith("touch")]
    assert sum(total for _, _, total in lines) >= 700


@needs_page_faults
def test_a_counter_open_at_a_fork_is_reopened_for_the_child(tmp_path):
    """The child's counters count the child, continuing from the parent's reading at the
    fork: a marker in the child counts what the child touches."""
    with marker(["perf::page-faults"], key="parent"):
        touch_fresh_pages(300)  # this thread's counter is open now
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 0
        try:
            os.close(read_fd)
            timemory.clear()
            with marker(["perf::page-faults"], key="child"):
                touch_fresh_pages(700)
            result: Any = recorded("perf::page-faults")["child"][0]
        except BaseException as exc:
            result, code = repr(exc), 1
        try:
            os.write(write_fd, json.dumps(result).encode())
        finally:
            os._exit(code)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, data
    assert 700 <= json.loads(data) < 2100


# ------------------------------------------------------------------ command lines


@needs_page_faults
def test_profiler_command_line_takes_perf_events(tmp_path):
    write(
        tmp_path / "prog.py",
        """
        import mmap
        def touch():
            buf = mmap.mmap(-1, 300 * mmap.PAGESIZE)
            for i in range(300):
                buf[i * mmap.PAGESIZE] = 1
        touch()
        """,
    )
    proc = run_tool(
        "timemory.profiler", "-c", "wall_clock", "perf::page-faults", "--", "prog.py", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr


def test_profiler_command_line_refuses_an_unknown_event(tmp_path):
    write(tmp_path / "prog.py", "pass\n")
    proc = run_tool(
        "timemory.profiler", "-c", "wall_clock", "perf::bogus", "--", "prog.py", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "Traceback (most recent call last)" not in proc.stderr
    (line,) = [x for x in proc.stderr.splitlines() if "perf::bogus" in x]
    assert "Unknown hardware counter event 'bogus'" in line and "page-faults" in line


# The parent names page-faults first and the spawned workers context-switches first, so the
# two rows sit in different slots in the two processes: the workers' data must still land in
# the parent's row of the same event (packed data name such rows by key).
POOL_ORDER_PROGRAM = """
import json, multiprocessing, sys
from timemory import _core, _workers
from timemory.bundle import marker
from timemory.storage import exchange, local_payload

EVENTS = ["perf::page-faults", "perf::context-switches"]


def worker_first():
    with marker(list(reversed(EVENTS)), key="warm"):
        pass


def task(i):
    with marker(EVENTS, key="task"):
        bytearray(1 << 16)
    return {e: _core.find_component(e) for e in EVENTS}


def main():
    with marker(EVENTS, key="outer"):
        pass
    mine = {e: _core.find_component(e) for e in EVENTS}
    pool = multiprocessing.get_context("spawn").Pool(2, initializer=worker_first)
    theirs = pool.map(task, range(6), chunksize=1)
    pool.close()
    pool.join()
    procs = exchange(local_payload(_workers.data_indices(), ["flat"]))
    merged = {}
    for event in EVENTS:
        flat = _core.merge_packed_flat(mine[event], procs.packed(mine[event], "flat"))
        merged[event] = {flat.label(i): flat.laps(i) for i in range(len(flat))}
    json.dump({"mine": mine, "theirs": theirs, "merged": merged}, sys.stdout)


if __name__ == "__main__":
    main()
"""


def test_pool_workers_that_named_events_in_another_order_merge_into_the_same_rows(run_python):
    if not (available("page-faults") and available("context-switches")):
        pytest.skip("software perf events cannot be opened here")
    proc = run_python(POOL_ORDER_PROGRAM, timeout=240)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    # the rows really are in other slots in the workers
    assert all(t["perf::page-faults"] != out["mine"]["perf::page-faults"] for t in out["theirs"])
    for event in ("perf::page-faults", "perf::context-switches"):
        merged = out["merged"][event]
        assert merged.get("task") == 6, merged  # every task, in the parent's row of the event
        assert merged.get("outer") == 1
