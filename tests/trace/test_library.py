"""The library trace API (``timemory.trace.init/push/pop/is_throttled/finalize``, with
per-thread throttling) and ``timemory.region`` (never throttled)."""

from __future__ import annotations

import threading

import pytest
import timemory
from timemory import region, settings
from timemory import trace as tracelib
from timemory.storage import storage_class


@pytest.fixture(autouse=True)
def _fresh_library():
    saved = (
        settings.throttle_count,
        settings.throttle_value,
        settings.trace_components,
        settings.global_components,
        settings.enabled,
    )
    tracelib.finalize()  # no region running, no key throttled
    yield
    tracelib.finalize()
    (
        settings.throttle_count,
        settings.throttle_value,
        settings.trace_components,
        settings.global_components,
        settings.enabled,
    ) = saved
    region.set_default(["wall_clock"])
    while region._sets[1:]:
        region.pop_components()


def laps(label: str, component: str = "wall_clock") -> int:
    return sum(r.data().laps() for r in storage_class(component).get() if r.label() == label)


def depths(component: str = "wall_clock") -> dict[str, int]:
    return {r.label(): r.depth() for r in storage_class(component).get()}


def pairs(key, n: int, work=None) -> None:
    for _ in range(n):
        tracelib.push(key)
        if work:
            work()
        tracelib.pop(key)


# ------------------------------------------------------------------ push / pop
def test_push_pop_nest_as_a_tree():
    tracelib.push("outer")
    tracelib.push("inner")
    tracelib.pop("inner")
    tracelib.push("inner")
    tracelib.pop("inner")
    tracelib.pop("outer")
    assert depths() == {"outer": 0, "inner": 1}
    assert laps("inner") == 2 and laps("outer") == 1


def test_push_pop_by_hash():
    key = timemory.get_hash("hashed-region")
    tracelib.push(key)
    tracelib.pop(key)
    tracelib.push("hashed-region")
    tracelib.pop(key)  # the same key either way
    assert laps("hashed-region") == 2


def test_bad_keys():
    with pytest.raises(ValueError, match="unknown hash 12345.*timemory.get_hash"):
        tracelib.push(12345)
    with pytest.raises(TypeError, match="str or the int hash"):
        tracelib.push(1.5)
    with pytest.raises(ValueError, match="unsigned 64-bit"):
        tracelib.pop(-1)
    tracelib.pop("never-pushed")  # nothing runs under that key: nothing to stop


def test_components_from_settings():
    settings.trace_components = "cpu_clock,peak_rss"
    pairs("with-settings", 2)
    assert laps("with-settings", "cpu_clock") == 2
    assert laps("with-settings", "peak_rss") == 2
    assert laps("with-settings") == 0


# ------------------------------------------------------------------ throttling
# The throttle measures the regions on wall_clock's time: on the fake clock, an empty region
# takes 0 ns and a "slow" one what the test advances, however loaded the machine is.
def test_an_empty_region_is_throttled_after_throttle_count_pops(fake_clock):
    settings.throttle_count = 50
    settings.throttle_value = 10_000  # ns
    pairs("empty", 49)
    assert not tracelib.is_throttled("empty")  # no decision before 50 pops
    pairs("empty", 1)
    assert tracelib.is_throttled("empty")
    assert laps("empty") == 50
    pairs("empty", 100)  # ignored from now on
    assert laps("empty") == 50


def test_a_slow_region_is_not_throttled(fake_clock):
    settings.throttle_count = 20
    settings.throttle_value = 10_000
    pairs("slow", 60, lambda: fake_clock.advance(0.0002))  # 200 us > 10 us
    assert not tracelib.is_throttled("slow")
    assert laps("slow") == 60


def test_throttle_value_decides(fake_clock):
    settings.throttle_count = 20
    settings.throttle_value = 10**9  # 1 s: everything is too short
    pairs("quick", 20, lambda: fake_clock.advance(0.0002))
    assert tracelib.is_throttled("quick")


def test_throttling_is_per_thread(fake_clock):
    settings.throttle_count = 30
    settings.throttle_value = 10_000
    pairs("shared", 30)
    assert tracelib.is_throttled("shared")
    seen: list[tuple[bool, bool]] = []

    def other() -> None:
        before = tracelib.is_throttled("shared")
        pairs("shared", 10)
        seen.append((before, tracelib.is_throttled("shared")))

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == [(False, False)]
    assert laps("shared") == 40  # the other thread's 10 were recorded
    assert tracelib.is_throttled("shared")


def test_a_slow_thread_keeps_its_key_while_another_throttles_it(fake_clock):
    settings.throttle_count = 20
    settings.throttle_value = 10_000
    result: list[bool] = []
    slow_done, main_done = threading.Event(), threading.Event()

    def slow() -> None:
        pairs("mixed", 20, lambda: fake_clock.advance(0.0002))
        slow_done.set()
        # still running while this test's thread throttles the key (the clock is shared:
        # the two threads' regions take turns, so the empty ones stay empty)
        assert main_done.wait(timeout=60)
        result.append(tracelib.is_throttled("mixed"))

    t = threading.Thread(target=slow)
    t.start()
    assert slow_done.wait(timeout=60)
    pairs("mixed", 20)
    main_done.set()
    t.join()
    assert result == [False]
    assert tracelib.is_throttled("mixed")


def test_throttling_does_not_strand_a_running_region(fake_clock):
    settings.throttle_count = 10
    settings.throttle_value = 10_000
    tracelib.push("recursive")  # still running when the key is throttled
    pairs("recursive", 10)
    assert tracelib.is_throttled("recursive")
    tracelib.push("recursive")  # ignored, but paired with the next pop
    tracelib.pop("recursive")
    fake_clock.advance(0.01)
    tracelib.pop("recursive")  # stops the first one
    assert laps("recursive") == 11
    outer = [r for r in storage_class("wall_clock").get() if r.depth() == 0][0]
    assert outer.data().get() == 0.01


def test_finalize_stops_open_regions_and_forgets_throttling(fake_clock):
    settings.throttle_count = 10
    settings.throttle_value = 10_000
    pairs("forgotten", 10)
    assert tracelib.is_throttled("forgotten")
    tracelib.push("left-open")
    tracelib.finalize()
    assert laps("left-open") == 1
    assert not tracelib.is_throttled("forgotten")


def test_init_in_a_program(run_python, tmp_path):
    result = run_python(
        """
        import os
        from timemory import trace, settings
        trace.init("cpu_clock", cmd="/somewhere/my_app.py")
        trace.init("peak_rss")  # runs once
        print("env", os.environ["TIMEMORY_TRACE_COMPONENTS"], settings.trace_components)
        trace.push("work")
        sum(range(10000))
        trace.push("left-open")  # finalize at exit stops it
        """,
        env={"TIMEMORY_COUT_OUTPUT": "0", "TIMEMORY_VERBOSE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("[timemory_trace_init]>") == 1  # at verbose >= 1, on stderr
    assert result.stdout == "env cpu_clock cpu_clock\n"
    text = (tmp_path / "timemory-script-output" / "cpu.txt").read_text()
    assert "work" in text and "left-open" in text


def test_init_names_the_output_after_the_command(run_python, tmp_path):
    result = run_python(
        """
        from timemory import trace, settings
        settings.output_path = "timemory-output"
        trace.init(cmd="/somewhere/my_app.py")
        print("output", settings.output_path)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "output timemory-my-app-output" in result.stdout


def test_init_rejects_unknown_components():
    with pytest.raises(ValueError, match="Unknown component: 'no_such_clock'.*wall_clock"):
        tracelib.init("no_such_clock")


# ------------------------------------------------------------------ timemory.region
def test_region_push_pop_and_nesting():
    region.push("a")
    region.push("b")
    region.pop("b")
    region.pop("a")
    region.pop("a")  # nothing runs: nothing happens
    assert depths() == {"a": 0, "b": 1}


def test_region_is_never_throttled():
    settings.throttle_count = 10
    settings.throttle_value = 10**9
    for _ in range(100):
        region.push("hot")
        region.pop("hot")
    assert laps("hot") == 100


def test_region_begin_end():
    first = region.begin("by-id")
    second = region.begin("by-id")
    assert first != second
    region.end(second)
    region.end(first)
    assert laps("by-id") == 2
    with pytest.raises(ValueError, match="no region with id"):
        region.end(first)


def test_region_components():
    region.set_default(["cpu_clock"])
    region.push("r1")
    region.pop("r1")
    region.add_components(["peak_rss"])
    region.push("r2")
    region.pop("r2")
    region.push_components("wall_clock")
    region.push("r3")
    region.pop("r3")
    region.pop_components()
    region.remove_components(["cpu_clock"])
    region.push("r4")
    region.pop("r4")
    region.pop_components()  # only the default is left: it stays
    assert {r.label() for r in storage_class("cpu_clock").get()} == {"r1", "r2"}
    assert {r.label() for r in storage_class("peak_rss").get()} == {"r2", "r4"}
    assert {r.label() for r in storage_class("wall_clock").get()} == {"r3"}
    with pytest.raises(ValueError, match="Unknown component"):
        region.add_components(["no_such_clock"])


def test_region_pause_resume():
    region.pause()
    region.push("paused")
    region.pop("paused")
    region.resume()
    region.push("resumed")
    region.pop("resumed")
    assert {r.label() for r in storage_class("wall_clock").get()} == {"resumed"}


def test_region_components_from_the_environment(run_python, tmp_path):
    source = """
        from timemory import region
        region.push("env")
        region.pop("env")
        """
    env = {"TIMEMORY_COUT_OUTPUT": "0", "TIMEMORY_GLOBAL_COMPONENTS": "peak_rss"}
    result = run_python(source, env=dict(env, TIMEMORY_COMPONENTS="cpu_clock"))
    assert result.returncode == 0, result.stderr
    files = {p.name for p in (tmp_path / "timemory-script-output").iterdir()}
    assert "cpu.txt" in files and "peak_rss.txt" not in files and "wall.txt" not in files
    result = run_python(source, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "timemory-script-output" / "peak_rss.txt").is_file()
