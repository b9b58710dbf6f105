"""Hardware counters through perf_event_open: software events counted for real, hardware
presets either counted or unavailable with a reason, settings, scaling, threads, output.

These VMs expose software events only; on a machine with a PMU the same tests take the
"available" branches and check that the counters count.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import timemory
from timemory import _core, hardware_counters, settings
from timemory.component import PapiArray, PapiVector, PerfEvent, WallClock
from timemory.settings import TimemoryWarning
from tool_helpers import clean_env, run_tool, touch_fresh_pages, write

PAGE = mmap.PAGESIZE
HARDWARE_PRESETS = (
    "PAPI_TOT_INS",
    "PAPI_TOT_CYC",
    "PAPI_L1_DCM",
    "PAPI_LST_INS",
    "PAPI_BR_MSP",
    "PAPI_DP_OPS",
    "PAPI_SP_OPS",
)


@pytest.fixture(autouse=True)
def _restore_counter_settings():
    saved = {k: getattr(settings, k) for k in ("papi_events", "papi_multiplexing", "papi_quiet")}
    yield
    timemory.clear()
    for key, value in saved.items():
        setattr(settings, key, value)


def use_events(*names: str) -> None:
    settings.papi_quiet = True  # the tests that check the warning turn it back on
    settings.papi_events = ",".join(names)


def values(component) -> dict[str, float]:
    value = component.get()
    value = value if isinstance(value, tuple) else (value,)
    return dict(zip(_core.component_info(type(component).index())["sub_labels"], value))


# ------------------------------------------------------------------ software events, for real


def test_page_faults_of_a_known_allocation():
    use_events("page-faults", "minor-faults", "major-faults")
    n = 2000
    counter = PapiVector("touch").start()
    touch_fresh_pages(n)
    counter.stop()
    got = values(counter)
    assert got["page-faults"] >= n
    assert got["minor-faults"] >= n
    assert got["page-faults"] == got["minor-faults"] + got["major-faults"]
    assert got["page-faults"] < 3 * n  # the interval holds little besides the touching


@pytest.mark.parametrize(
    "events",
    [
        ("task-clock", "page-faults"),
        ("page-faults", "task-clock"),
        ("task-clock", "page-faults", "context-switches"),  # the defaults on a VM
        ("cpu-clock", "minor-faults", "task-clock"),
    ],
)
def test_clocks_beside_other_software_events_count_both(events):
    """task-clock and cpu-clock are timer events: in a group with other software events the
    kernel counted the others as 0 or too little, so each clock has a group of its own."""
    use_events(*events)
    n = 2000
    counter = PapiVector("touch").start()
    touch_fresh_pages(n)
    counter.stop()
    got = values(counter)
    faults = got.get("page-faults", got.get("minor-faults"))
    assert n <= faults < 3 * n, got
    for clock in ("task-clock", "cpu-clock"):
        if clock in got:
            assert 0 < got[clock] < 5, got  # seconds on a CPU: touching 2000 pages


def test_context_switches_of_known_sleeps():
    use_events("context-switches", "task-clock")
    info = hardware_counters.Info("context-switches")
    if (
        not info.available()
    ):  # unprivileged with perf_event_paranoid >= 2: kernel-mode counts hidden
        assert "perf_event_paranoid" in info.reason()
        return
    k = 20
    counter = PerfEvent("sleeps").start()
    for _ in range(k):
        time.sleep(0.002)
    counter.stop()
    got = values(counter)
    assert got["context-switches"] >= k
    # task-clock is the time on a CPU, in ns: sleeping costs little of it
    assert 0 < got["task-clock"] < k * 0.002 * 1e9
    assert PerfEvent.display_unit()[1] == settings.unit_info("timing")[1]


def test_counters_are_per_thread():
    use_events("page-faults")
    n = 3000
    results = {}

    def worker():
        c = PapiVector("worker").start()
        touch_fresh_pages(n)
        results["worker"] = values(c.stop())["page-faults"]

    main = PapiVector("main").start()
    t = threading.Thread(target=worker)
    t.start()
    t.join()
    main.stop()
    assert results["worker"] >= n
    assert values(main)["page-faults"] < n / 2  # the worker's faults are not the main thread's
    # both threads' counting time is in the multiplexing report, never scaled for software events
    (report,) = hardware_counters.scaling()
    assert report["event"] == "page-faults" and report["fraction"] == 1.0


# ------------------------------------------------------------------ hardware presets


@pytest.mark.parametrize("name", HARDWARE_PRESETS)
def test_hardware_preset_counts_or_reports_why_not(name):
    info = getattr(hardware_counters.preset, name)
    assert info.symbol() == name and info.api() == hardware_counters.api.papi
    assert info.short_description()
    if info.available():
        assert info.reason() == ""
        use_events(name)
        c = PapiVector().start()
        sum(float(i) * 1.5 for i in range(100_000))
        c.stop()
        assert values(c)[name] >= 0
        if name in ("PAPI_TOT_INS", "PAPI_TOT_CYC", "PAPI_LST_INS"):
            assert values(c)[name] > 100_000
        return
    assert info.reason()
    if not hardware_counters.Info("cpu-cycles").available() and name not in (
        "PAPI_DP_OPS",
        "PAPI_SP_OPS",
    ):
        assert "no hardware PMU" in info.reason() or "perf_event_paranoid" in info.reason()
    # requested with a software event: a one-time warning, the rest keeps counting
    settings.papi_quiet = False
    with pytest.warns(TimemoryWarning, match=f"hardware counter {name} is not available.*"):
        settings.papi_events = f"{name},page-faults"
    assert PapiVector.available and PapiArray.available
    assert f"not counted: {name}: {info.reason()}" in PapiVector.description()
    assert _core.component_info(PapiVector.index())["sub_labels"] == ["page-faults"]
    c = PapiVector().start()
    touch_fresh_pages(100)
    assert values(c.stop())["page-faults"] >= 100
    # the warning is not repeated for the same event and reason
    settings.papi_events = "page-faults"
    with warnings_as_errors():
        settings.papi_events = f"{name},page-faults"


def warnings_as_errors():
    import warnings

    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("error")

    class _Exit:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            ctx.__exit__(*exc)

    return _Exit()


def test_no_available_event_makes_the_component_unavailable_not_a_crash():
    use_events("PAPI_L2_TCM")  # no generic perf event anywhere
    assert not PapiVector.available and not PapiVector.has_value
    assert PapiVector.description().startswith("not available: PAPI_L2_TCM: ")
    assert "PapiVector" not in timemory.component.get_available_types()
    c = PapiVector("x").start().stop()
    assert c.get() is None
    # the other components of a marker keep measuring
    from timemory.bundle import marker

    with marker(["papi_vector", "wall_clock"], key="region"):
        sum(range(1000))
    assert [e.prefix() for e in timemory.storage.WallClockStorage.get()] == [">>> region"]
    assert timemory.size(["papi_vector"])[PapiVector.index()] == 0
    assert WallClock.available


# ------------------------------------------------------------------ settings


def test_events_setting_parses_and_canonicalises():
    use_events()
    settings.papi_events = "papi_tot_ins, cycles;page-faults  CS r1C7 page-faults"
    assert settings.papi_events == "PAPI_TOT_INS,cpu-cycles,page-faults,context-switches,r1c7"
    settings.papi_events = ["minor-faults", "task-clock"]
    assert settings.papi_events == "minor-faults,task-clock"
    assert _core.component_info(PapiVector.index())["sub_labels"] == ["minor-faults", "task-clock"]
    assert [i.symbol() for i in hardware_counters.configured()] == ["minor-faults", "task-clock"]


def test_default_events_are_counted_where_a_pmu_is_or_not():
    settings.papi_events = ""
    chosen = [i.symbol() for i in hardware_counters.configured()]
    if hardware_counters.preset.PAPI_TOT_CYC.available():
        assert chosen == ["PAPI_TOT_CYC", "PAPI_TOT_INS"]
    else:  # context switches are not countable by unprivileged users at perf_event_paranoid 2
        software = ["task-clock", "page-faults", "context-switches"]
        assert chosen == [n for n in software if hardware_counters.Info(n).available()]
    assert "not counted" not in PapiVector.description()
    assert PapiVector.available


@pytest.mark.parametrize("bad", ["PAPI_NOT_A_THING", "instructions,bogus", "r", "rXYZ"])
def test_unknown_event_names_are_rejected_with_the_valid_choices(bad):
    use_events("page-faults")
    with pytest.raises(
        ValueError,
        match=r"Unknown hardware counter: '.*'\. Valid choices are: "
        r"PAPI_TOT_CYC, PAPI_TOT_INS, .*page-faults.*, or a raw event",
    ):
        settings.papi_events = bad
    assert settings.papi_events == "page-faults"
    with pytest.raises(ValueError, match="Valid choices are: .*PAPI_LST_INS"):
        hardware_counters.Info(bad.split(",")[-1])


def test_unknown_event_in_the_environment_warns_and_keeps_the_default(run_python):
    proc = run_python(
        "import timemory\nprint(repr(timemory.settings.papi_events))\n",
        env={"TIMEMORY_PAPI_EVENTS": "page-faults,nonsense"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "''"
    assert "TIMEMORY_PAPI_EVENTS: Unknown hardware counter: 'nonsense'. Valid choices are:" in (
        proc.stderr
    )


def test_environment_events_are_counted(run_python):
    proc = run_python(
        """
        import timemory
        from timemory.component import PapiVector
        print(timemory.settings.papi_events, PapiVector.available)
        """,
        env={"TIMEMORY_PAPI_EVENTS": "PAPI_TOT_INS faults", "TIMEMORY_PAPI_QUIET": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["PAPI_TOT_INS,page-faults", "True"]


def test_events_cannot_change_under_recorded_data():
    use_events("page-faults")
    PapiVector("kept").push().start().stop().pop()
    with pytest.raises(ValueError, match=r"hold data.*timemory.clear"):
        settings.papi_events = "minor-faults"
    assert settings.papi_events == "page-faults"
    timemory.clear(["papi_vector", "papi_array"])
    settings.papi_events = "minor-faults"


# ------------------------------------------------------------------ running measurements
# New events reopen every counter at 0 (maybe with another layout): a measurement started
# before the change would stop on other counters, so the change waits until it stops.

RUNNING = r"papi_vector/papi_array are running .*stop them first"


def test_events_cannot_change_while_a_component_runs():
    use_events("page-faults")
    counter = PapiVector("x").start()
    with pytest.raises(ValueError, match="timemory.settings.papi_events: " + RUNNING):
        settings.papi_events = "task-clock,page-faults"
    with pytest.raises(ValueError, match="timemory.settings.papi_multiplexing: " + RUNNING):
        settings.papi_multiplexing = not settings.papi_multiplexing
    assert settings.papi_events == "page-faults"
    touch_fresh_pages(2560)
    counter.stop()
    assert values(counter)["page-faults"] >= 2560  # counted on the counters it started on
    assert _core.hw_running() == 0
    settings.papi_events = "task-clock,page-faults"  # stopped: the change is allowed again
    assert settings.papi_events == "task-clock,page-faults"


def test_every_way_a_component_ends_ends_its_running():
    use_events("page-faults")
    vector, array = PapiVector("v"), PapiArray("a")
    vector.start().start()  # a second start restarts: still one measurement
    array.start()
    assert _core.hw_running() == 2
    vector.reset()
    assert _core.hw_running() == 1
    del array
    assert _core.hw_running() == 0
    wall = WallClock("w").start()  # other components never count
    assert _core.hw_running() == 0
    wall.stop()
    settings.papi_events = "task-clock"


def test_events_cannot_change_while_a_marker_runs():
    use_events("page-faults")
    with timemory.bundle.marker(["wall_clock", "papi_vector"], key="region"):
        assert _core.hw_running() == 1
        with pytest.raises(ValueError, match=RUNNING):
            settings.papi_events = "task-clock"
        touch_fresh_pages(1000)
    assert _core.hw_running() == 0
    (entry,) = timemory.storage.PapiVectorStorage.get()
    assert entry.data().get() >= 1000
    # stopped, its data now holds the events until it is cleared
    with pytest.raises(ValueError, match="hold data"):
        settings.papi_events = "task-clock"
    timemory.clear(["papi_vector", "papi_array"])
    settings.papi_events = "task-clock"


@contextlib.contextmanager
def marker_in_another_thread(component: str) -> Iterator[None]:
    """A marker of ``component`` running on another thread while the block runs."""
    started, release = threading.Event(), threading.Event()

    def worker():
        with timemory.bundle.marker([component], key="worker"):
            started.set()
            release.wait(30)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        assert started.wait(30)
        yield
    finally:
        release.set()
        thread.join()


def test_events_cannot_change_while_a_marker_of_another_thread_runs():
    use_events("page-faults")
    with marker_in_another_thread("papi_array"):
        with pytest.raises(ValueError, match=RUNNING):
            settings.papi_events = "task-clock"
    assert _core.hw_running() == 0
    timemory.clear(["papi_vector", "papi_array"])
    settings.papi_events = "task-clock"


def test_events_cannot_change_while_a_profiler_counts_them():
    from timemory.profiler import Profiler

    use_events("page-faults")
    profiler = Profiler(["papi_vector"]).start()
    try:
        assert _core.hw_running() == 1
        with pytest.raises(ValueError, match=RUNNING):
            settings.papi_events = "task-clock"
    finally:
        profiler.stop()
    assert _core.hw_running() == 0
    timemory.clear(["papi_vector", "papi_array"])
    settings.papi_events = "task-clock"


def test_environment_change_while_running_warns_and_keeps_the_events(monkeypatch):
    use_events("page-faults")
    counter = PapiVector("x").start()
    monkeypatch.setenv("TIMEMORY_PAPI_EVENTS", "task-clock,context-switches")
    try:
        with pytest.warns(TimemoryWarning, match="TIMEMORY_PAPI_EVENTS: " + RUNNING):
            settings.parse()
    finally:
        counter.stop()
        sys.modules["timemory.settings"]._warned_env.clear()
    assert settings.papi_events == "page-faults"


def test_roofline_components_neither_block_nor_follow_the_events():
    from timemory.component import CpuRooflineDpFlops

    use_events("page-faults")
    roof = CpuRooflineDpFlops("roof").start()
    assert _core.hw_running() == 0
    settings.papi_events = "task-clock"  # its counters are not reopened by this
    roof.stop()
    flops, nbytes, runtime = roof.get()
    assert flops >= 0 and nbytes >= 0 and runtime > 0


# ------------------------------------------------------------------ fork


def in_child(body):
    """Run body() in a forked child; return its JSON-able result (through a pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        code = 0
        try:
            os.close(read_fd)
            result = body()
        except BaseException as exc:
            result, code = {"error": repr(exc)}, 1
        try:
            os.write(write_fd, json.dumps(result).encode())
        finally:
            os._exit(code)  # no pytest teardown, no timemory output at exit
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, data
    return json.loads(data)


def test_a_measurement_spanning_a_fork_continues_from_the_parents_counts():
    use_events("page-faults", "task-clock")
    before, after = 2000, 1000
    vector, array = PapiVector("span").start(), PapiArray("span").start()
    touch_fresh_pages(before)

    def child():
        touch_fresh_pages(after)
        vector.stop()
        array.stop()
        return {"vector": values(vector), "array": values(array), "running": _core.hw_running()}

    try:
        got = in_child(child)
    finally:
        vector.stop()
        array.stop()
    # the child's counters continue from the parent's at the fork: its faults added to them
    for name in ("vector", "array"):
        assert got[name]["page-faults"] >= before + after, got
        assert got[name]["task-clock"] > 0, got
    assert got["running"] == 0
    assert values(vector)["page-faults"] >= before  # the parent's own measurement
    assert values(vector)["task-clock"] > 0


@pytest.mark.filterwarnings("ignore:.*multi-threaded.*fork:DeprecationWarning")
def test_a_forked_child_forgets_the_markers_of_the_parents_other_threads():
    use_events("page-faults")
    with marker_in_another_thread("papi_vector"):

        def child():
            # the worker does not exist here: its marker never stops, nothing runs
            running = _core.hw_running()
            with timemory.bundle.marker(["papi_vector"], key="child"):
                touch_fresh_pages(500)
            (entry,) = timemory.storage.PapiVectorStorage.get()
            return {"running": running, "faults": entry.data().get(), "label": entry.prefix()}

        got = in_child(child)
        assert got["running"] == 0 and got["faults"] >= 500, got
        assert got["label"].endswith("child"), got
        assert _core.hw_running() == 1  # in the parent the worker's marker still runs
    assert _core.hw_running() == 0


def test_a_marker_spanning_a_fork_records_in_the_parent_only():
    use_events("page-faults")
    marker = timemory.bundle.marker(["papi_vector"], key="span")
    marker.__enter__()
    touch_fresh_pages(1500)

    def child():
        # a forked child starts with empty storage: the parent's region is not recorded here,
        # it just stops; what the child measures itself is counted from the reopened counters
        touch_fresh_pages(500)
        marker.__exit__(None, None, None)
        recorded = len(timemory.storage.PapiVectorStorage.get())
        running = _core.hw_running()
        with timemory.bundle.marker(["papi_vector"], key="child"):
            touch_fresh_pages(700)
        (entry,) = timemory.storage.PapiVectorStorage.get()
        return {"recorded": recorded, "running": running, "faults": entry.data().get()}

    try:
        got = in_child(child)
    finally:
        marker.__exit__(None, None, None)
    assert got["recorded"] == 0 and got["running"] == 0 and got["faults"] >= 700, got
    (entry,) = timemory.storage.PapiVectorStorage.get()
    assert entry.prefix().endswith("span") and entry.data().get() >= 1500


def test_fail_on_error_makes_an_unavailable_event_an_error():
    use_events("page-faults")
    saved = settings.papi_fail_on_error
    settings.papi_fail_on_error = True
    try:
        with pytest.raises(
            ValueError,
            match=r"not available \(papi_fail_on_error is set\): "
            r"PAPI_L2_TCM: perf has no generic level 2",
        ):
            settings.papi_events = "minor-faults,PAPI_L2_TCM"
        assert settings.papi_events == "page-faults"
        settings.papi_events = "minor-faults"
    finally:
        settings.papi_fail_on_error = saved


# ------------------------------------------------------------------ scaling


@pytest.mark.parametrize(
    ("value", "enabled", "running", "expected"),
    [
        (1000, 500, 500, 1000),
        (1000, 1000, 250, 4000),
        (7, 100, 0, 0),
        (10, 0, 0, 0),
        (5, 10, 20, 5),
    ],
)
def test_multiplexed_counts_are_scaled_by_enabled_over_running(value, enabled, running, expected):
    assert _core.hw_scaled_count(value, enabled, running) == expected


def test_scaling_is_reported_in_the_api_and_the_json():
    use_events("page-faults", "task-clock")
    assert [s["fraction"] for s in hardware_counters.scaling()] == [None, None]  # nothing read yet
    c = PapiVector("region").start()
    touch_fresh_pages(50)
    c.stop()
    report = hardware_counters.scaling()
    assert [s["event"] for s in report] == ["page-faults", "task-clock"]
    # software events are never multiplexed: counted all the time they were enabled
    assert all(s["time_enabled"] > 0 and s["fraction"] == 1.0 for s in report)


def test_json_and_text_output_name_the_events():
    use_events("page-faults", "task-clock")
    c = PapiVector("region").push().start()
    touch_fresh_pages(50)
    c.stop().pop()
    data = timemory.get(components=["papi_vector"])["timemory"]["papi_vector"]
    assert data["type"] == ["page-faults", "task-clock"]
    assert data["unit_repr"] == ["", "sec"]
    assert [s["event"] for s in data["perf_event"]["scaling"]] == ["page-faults", "task-clock"]
    (entry,) = data["ranks"][0]["graph"]
    assert entry["prefix"] == ">>> region" and entry["entry"]["accum"]["first"] >= 50
    tree = timemory.get(hierarchy=True, components=["papi_vector"])["timemory"]["papi_vector"]
    assert "perf_event" in tree
    text = timemory.get_text(["papi_vector"])
    assert "page-faults" in text and "task-clock" in text
    with pytest.raises(ValueError, match="hold data"):
        use_events("minor-faults")


def test_single_event_is_labelled_with_its_name():
    use_events("minor-faults")
    c = PapiVector("one").push().start()
    touch_fresh_pages(10)
    c.stop().pop()
    assert str(c).endswith(" minor-faults")
    (row,) = [r for r in timemory.get_text(["papi_vector"]).splitlines() if ">>> one" in r]
    assert row.split("|")[4].strip() == "minor-faults"  # the METRIC column


# ------------------------------------------------------------------ Info / preset


def test_info_and_preset_api():
    info = hardware_counters.Info("cycles")
    assert info.symbol() == "cpu-cycles"
    assert hardware_counters.preset.PAPI_LST_INS.mapping() == "L1-dcache-loads + L1-dcache-stores"
    assert "PAPI_TOT_INS" in dir(hardware_counters.preset)
    with pytest.raises(AttributeError, match="read-only"):
        hardware_counters.preset.PAPI_TOT_INS = 1
    with pytest.raises(AttributeError, match="known: PAPI_TOT_CYC"):
        hardware_counters.preset.PAPI_NOPE  # noqa: B018
    page_faults = hardware_counters.Info("page-faults")
    assert page_faults.available() and page_faults.reason() == ""
    cuda = hardware_counters.Info("sm__cycles_elapsed", hardware_counters.api.cuda)
    assert not cuda.available() and "not supported" in cuda.reason()
    names = [i.symbol() for i in hardware_counters.events()]
    assert names[:2] == ["PAPI_TOT_CYC", "PAPI_TOT_INS"] and "task-clock" in names
    assert all(i.available() or i.reason() for i in hardware_counters.events())
    assert {"page-faults", "task-clock"} <= {
        i.symbol() for i in hardware_counters.available_events()
    }
    assert PerfEvent is PapiVector and PapiVector.id() == "papi_vector"
    assert timemory.component.resolve("perf_event") == [PapiVector.index()]


def test_listing_command(tmp_path):
    proc = run_tool("timemory.hardware_counters", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = {line.split()[0]: line for line in proc.stdout.splitlines() if line.strip()}
    assert " yes " in lines["page-faults"]
    assert "settings.papi_events counts:" in proc.stdout


# ------------------------------------------------------------------ profiler


def test_profiler_counts_page_faults_per_function(tmp_path):
    write(
        tmp_path / "script.py",
        f"""
        import mmap

        def touch():
            buf = mmap.mmap(-1, 500 * {PAGE})
            if hasattr(mmap, "MADV_NOHUGEPAGE"):
                buf.madvise(mmap.MADV_NOHUGEPAGE)
            for i in range(500):
                buf[i * {PAGE}] = 1

        touch()
        """,
    )
    proc = run_tool(
        "timemory.profiler",
        "-c",
        "papi_vector",
        "-d",
        "out",
        "--",
        "script.py",
        cwd=tmp_path,
        env={"TIMEMORY_PAPI_EVENTS": "page-faults,task-clock"},
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out" / "papi_vector.json").read_text())["timemory"]
    graph = data["papi_vector"]["ranks"][0]["graph"]
    (touch,) = [e for e in graph if "touch" in e["prefix"]]
    assert touch["entry"]["accum"]["first"] >= 500


def test_example_counts_what_it_says(tmp_path):
    example = Path(__file__).resolve().parents[2] / "examples" / "hardware_counters.py"
    proc = subprocess.run(
        [sys.executable, str(example)],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_COUT_OUTPUT": "0"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(
        (tmp_path / "timemory-hardware-counters-output" / "papi_vector.json").read_text()
    )["timemory"]["papi_vector"]
    assert "page-faults" in data["type"]
    rows = {e["prefix"].split("_", 1)[-1]: e for e in data["ranks"][0]["graph"]}
    accum = rows["touch_pages"]["entry"]["accum"]
    if isinstance(accum, dict):  # two values are written as a pair
        accum = [accum["first"], accum["second"]]
    assert accum[data["type"].index("page-faults")] >= 5000


# A process whose perf_event_open fails with EPERM, as under a container's seccomp profile:
# the filter is installed with ctypes before timemory is imported.
DENIED = """
import ctypes, os, sys, time, warnings

nr = {"x86_64": 298, "aarch64": 241}.get(os.uname().machine)
if nr is None:
    sys.exit(77)


class Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(Filter))]


rules = (Filter * 4)(
    Filter(0x20, 0, 0, 0),                  # load the syscall number
    Filter(0x15, 0, 1, nr),                 # perf_event_open?
    Filter(0x06, 0, 0, 0x00050000 | 1),     # then fail with EPERM
    Filter(0x06, 0, 0, 0x7FFF0000),         # else allow
)
prog = Prog(4, rules)
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(prog), 0, 0) != 0:
    sys.exit(77)

import timemory
from timemory import hardware_counters
from timemory.bundle import marker
from timemory.component import PapiVector

print(PapiVector.available)
print(PapiVector.description())
print(hardware_counters.preset.PAPI_TOT_INS.reason())
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    timemory.settings.papi_events = "page-faults"
print(caught[0].message)
with marker(["papi_vector", "wall_clock"], key="region"):
    sum(range(1000))
print(sorted(timemory.get()["timemory"]))
"""


def test_perf_event_open_denied_is_reported_not_a_crash(run_python):
    proc = run_python(DENIED, env={"TIMEMORY_AUTO_OUTPUT": "0"})
    if proc.returncode == 77:
        pytest.skip("cannot install a seccomp filter here")
    assert proc.returncode == 0, proc.stderr
    available, description, preset_reason, warning, recorded = proc.stdout.splitlines()
    assert available == "False"
    assert description.startswith("not available: task-clock: perf_event_open was denied (EPERM)")
    assert "perf_event_open was denied (EPERM)" in preset_reason
    assert warning.startswith("hardware counter page-faults is not available and is not counted")
    assert recorded == "['wall_clock']"


UNPRIVILEGED = """
import mmap
import timemory
from timemory import hardware_counters as hw
from timemory.component import PapiVector

timemory.settings.papi_quiet = True
timemory.settings.papi_events = "page-faults,context-switches"
c = PapiVector().start()
buf = mmap.mmap(-1, 300 * mmap.PAGESIZE)
for i in range(300):
    buf[i * mmap.PAGESIZE] = 1
c.stop()
print(hw.Info("page-faults").user_only(), c.get())
print(hw.Info("context-switches").reason())
print(PapiVector.description())
"""


def test_unprivileged_at_paranoid_2_counts_user_mode_and_says_what_it_cannot(tmp_path):
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None or _core.hw_paranoid() != 2:
        pytest.skip("needs root (to drop its capabilities), setpriv and perf_event_paranoid 2")
    proc = subprocess.run(
        [setpriv, "--bounding-set=-all", "--inh-caps=-all", sys.executable, "-c", UNPRIVILEGED],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_AUTO_OUTPUT": "0"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    counted, reason, description = proc.stdout.splitlines()
    user_only, faults = counted.split()
    assert user_only == "True" and int(faults) >= 300  # page faults are counted in user mode
    assert reason.startswith("Context switches are counted in kernel mode, which ")
    assert "kernel.perf_event_paranoid=2 hides from unprivileged users" in reason
    assert description.startswith("Hardware counters (perf_event_open): page-faults (user mode")
    assert description.endswith(f"not counted: context-switches: {reason}")
