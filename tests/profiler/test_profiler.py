"""The function profiler's API: what it records, how labels and filters read,
and that the hook state is left as it was found."""

from __future__ import annotations

import asyncio
import sys
import threading

import pytest
import timemory
from timemory import _core, settings
from timemory._hook_config import DEFAULT_SKIP_FILENAMES
from timemory.profiler import (
    Config,
    FakeProfiler,
    Profiler,
    ProfilerBundle,
    config,
    noprofile,
    profile,
    profiler_function,
)


@pytest.fixture(autouse=True)
def _fresh_config():
    Config.reset()
    saved = (settings.profiler_components, settings.global_components)
    yield
    Config.reset()
    settings.profiler_components, settings.global_components = saved
    assert not _core.profiler_active(), "a test left the profiler running"


def nodes(component: str = "wall_clock") -> list[tuple[int, str, int]]:
    """Pre-order (depth, label, laps) of the merged call graph."""
    out: list[tuple[int, str, int]] = []

    def walk(node: dict, depth: int) -> None:
        out.append((depth, node["node"]["prefix"], node["node"]["inclusive"]["entry"]["laps"]))
        for child in node.get("children", []):
            walk(child, depth + 1)

    graph = timemory.get(hierarchy=True)["timemory"].get(component, {}).get("graph", [[]])
    for root in graph[0]:
        for child in root.get("children", []):
            walk(child, 0)
    return out


MONITORING = sys.version_info >= (3, 12)  # the profiler's backend: sys.monitoring


def laps_of(label: str, component: str = "wall_clock") -> int:
    return sum(n for _, lab, n in nodes(component) if lab == label)


def fibonacci(n: int) -> int:
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def leaf() -> int:
    return 1


def parent_a() -> int:
    return leaf()


def parent_b() -> int:
    return leaf() + leaf()


# ---------------------------------------------------------------------------------- counts
def test_recursive_call_count_is_exact():
    with profile(["wall_clock"]):
        fibonacci(20)
    assert laps_of("fibonacci") == 21891
    depths = [d for d, lab, _ in nodes() if lab == "fibonacci"]
    # the recursion is the call graph: fibonacci(20) nests 20 levels below the outer call
    assert max(depths) - min(depths) == 19


def test_a_function_called_from_two_parents_has_two_nodes():
    with profile(["wall_clock"]):
        parent_a()
        parent_b()
        parent_b()
    tree = nodes()
    assert (0, "parent_a", 1) in tree
    assert (0, "parent_b", 2) in tree
    assert [n for d, lab, n in tree if lab == "leaf"] == [1, 4]
    assert all(d == 1 for d, lab, _ in tree if lab == "leaf")


def test_every_component_records_the_same_graph():
    with profile(["wall_clock", "cpu_clock", "peak_rss"]):
        parent_b()
    for comp in ("wall_clock", "cpu_clock", "peak_rss"):
        assert [(d, lab, n) for d, lab, n in nodes(comp) if "parent" in lab or lab == "leaf"] == [
            (0, "parent_b", 1),
            (1, "leaf", 2),
        ], comp


def test_wall_time_of_a_sleeping_function(fake_clock):
    def sleeper() -> None:
        fake_clock.advance(0.05)

    with profile(["wall_clock"]):
        sleeper()
    entry = [e for e in timemory.storage.WallClockStorage.get() if e.prefix().endswith("sleeper")]
    assert len(entry) == 1
    assert entry[0].data().get() == 0.05


def test_timeline_switched_while_frames_are_open(fake_clock):
    # A wall_clock-only session enters and leaves frames on a short path while no timeline
    # event is recorded or open, and on the general one otherwise: a frame entered on one and
    # left on the other keeps its pair, its count and its time.
    def inner() -> None:
        fake_clock.advance(0.01)

    def turns_on() -> None:  # entered before the timeline records, left while it does
        settings.timeline_events = True
        inner()
        fake_clock.advance(0.02)

    def turns_off() -> None:  # entered while it records, left after
        inner()
        settings.timeline_events = False
        inner()
        fake_clock.advance(0.02)

    try:
        with profile(["wall_clock"]):
            turns_on()
            turns_off()
    finally:
        settings.timeline_events = False
        _core.timeline_clear()
    assert (laps_of("turns_on"), laps_of("turns_off"), laps_of("inner")) == (1, 1, 3)
    wall = dict.fromkeys(("turns_on", "turns_off", "inner"), 0.0)
    for e in timemory.storage.WallClockStorage.get():
        for name in wall:
            if e.prefix().endswith(name):
                wall[name] += e.data().get()
    assert wall["turns_on"] == pytest.approx(0.03)
    assert wall["turns_off"] == pytest.approx(0.04)
    assert wall["inner"] == pytest.approx(0.03)


# ---------------------------------------------------------------------------------- hooks
def test_getprofile_restored_exactly():
    def mine(frame, event, arg):
        return None

    assert sys.getprofile() is None
    with profile(["wall_clock"]):
        # 3.12+: sys.monitoring, which leaves the profile hook alone
        assert sys.getprofile() is (None if MONITORING else profiler_function)
    assert sys.getprofile() is None

    sys.setprofile(mine)
    try:
        with profile(["wall_clock"]):
            leaf()
        assert sys.getprofile() is mine
    finally:
        sys.setprofile(None)


def test_backend_is_sys_monitoring_from_312():
    assert _core.profiler_backend() is None
    with profile(["wall_clock"]):
        assert _core.profiler_backend() == ("monitoring" if MONITORING else "setprofile")
        parent_a()
    assert _core.profiler_backend() is None
    assert laps_of("parent_a") == 1 and laps_of("leaf") == 1
    if MONITORING:  # the tool id is given back
        assert sys.monitoring.get_tool(4) is None and sys.monitoring.get_tool(3) is None


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is Python 3.12+")
def test_setprofile_fallback_when_no_monitoring_tool_id_is_free():
    mon = sys.monitoring
    for tool in (3, 4):
        mon.use_tool_id(tool, "someone else")
    try:
        with profile(["wall_clock"]):
            assert _core.profiler_backend() == "setprofile"
            assert sys.getprofile() is profiler_function
            parent_a()
            worker = threading.Thread(target=parent_a)
            worker.start()
            worker.join()
        assert mon.get_tool(3) == mon.get_tool(4) == "someone else"
    finally:
        for tool in (3, 4):
            mon.free_tool_id(tool)
    assert laps_of("parent_a") == 2 and laps_of("leaf") == 2


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is Python 3.12+")
def test_sys_setprofile_of_the_hook_does_not_count_twice():
    # under sys.monitoring, the Python-level hook removes itself instead of adding events
    with profile(["wall_clock"]):
        sys.setprofile(profiler_function)
        parent_a()
        assert sys.getprofile() is None
    assert laps_of("parent_a") == 1


def test_native_profilers_hook_restored(tmp_path):
    import cProfile

    outer = cProfile.Profile()
    outer.enable()
    try:
        # cProfile's C hook (up to 3.11; sys.monitoring since 3.12, where this is None)
        before = sys.getprofile()
        with profile(["wall_clock"]):
            parent_a()
        # the same C hook is back, not a Python trampoline calling it
        assert sys.getprofile() is before
        leaf()
    finally:
        outer.disable()
    stats = outer.getstats()
    assert any(getattr(s.code, "co_name", "") == "leaf" for s in stats)
    assert laps_of("parent_a") == 1


def test_nesting_only_outermost_installs():
    outer = Profiler(["wall_clock"])
    inner = Profiler(["cpu_clock"])
    outer.start()
    inner.start()  # counted, but the session keeps outer's components
    inner.stop()
    assert _core.profiler_active()
    parent_a()
    outer.stop()
    assert not _core.profiler_active()
    assert laps_of("parent_a") == 1
    assert nodes("cpu_clock") == []


def test_decorator_and_same_instance_nesting():
    prof = Profiler(["wall_clock"])

    @prof
    def outer() -> int:
        return inner() + 1

    @prof
    def inner() -> int:
        return leaf()

    assert outer() == 2
    assert not _core.profiler_active()
    assert (1, "inner", 1) in nodes()
    assert laps_of("leaf") == 1
    assert outer.__name__ == "outer"


def test_profile_decorator_with_components_list():
    @profile(["wall_clock"])
    def work() -> int:
        return parent_a()

    work()
    assert (0, "work", 1) in nodes()
    assert laps_of("leaf") == 1


def test_run_runctx_runcall():
    prof = Profiler(["wall_clock"])
    assert prof.runcall(parent_b) == 2
    prof.runctx("parent_a()", globals(), {})
    assert laps_of("parent_b") == 1
    assert laps_of("parent_a") == 1


def test_condition_gates_start():
    try:
        Profiler.condition(lambda: False)
        assert Profiler.is_enabled() is False
        with profile(["wall_clock"]):
            parent_a()
        assert nodes() == []
        Profiler.condition(lambda: 1 / 0)  # an exception counts as false
        assert Profiler.is_enabled() is False
    finally:
        Profiler.condition(lambda: True)
    assert Profiler.is_enabled() is True


def test_fake_profiler_does_nothing():
    @noprofile
    def f() -> int:
        return leaf()

    with FakeProfiler(["wall_clock"], flat=True):
        f()

    @FakeProfiler(["wall_clock"])
    def g() -> int:
        return leaf()

    assert g() == 1
    assert FakeProfiler.is_enabled() is False
    assert nodes() == []
    assert sys.getprofile() is None


def test_settings_disabled_records_nothing_and_keeps_pairs():
    with profile(["wall_clock"]):
        settings.enabled = False
        try:
            parent_a()
        finally:
            settings.enabled = True
        parent_b()
    assert laps_of("parent_a") == 0
    assert (0, "parent_b", 1) in nodes()


# ---------------------------------------------------------------------------------- components
def test_unknown_component_names_the_choices():
    with pytest.raises(ValueError, match="wall_clock"):
        Profiler(["wall_clok"])


def test_components_from_settings(monkeypatch):
    settings.profiler_components = "cpu_clock"
    with profile():
        parent_a()
    assert laps_of("parent_a", "cpu_clock") == 1
    assert nodes("wall_clock") == []
    assert ProfilerBundle._components == [int(_core.find_component("cpu_clock"))]


def test_components_from_global_components_then_default():
    settings.global_components = "peak_rss"
    with profile():
        parent_a()
    assert laps_of("parent_a", "peak_rss") == 1
    settings.global_components = ""
    timemory.clear()
    with profile():
        parent_a()
    assert laps_of("parent_a", "wall_clock") == 1


def test_components_callable_forms():
    with profile(lambda: ["wall_clock", "cpu_clock"]):
        parent_a()
    with profile([lambda: "peak_rss"]):
        parent_a()
    assert laps_of("parent_a", "cpu_clock") == 1
    assert laps_of("parent_a", "peak_rss") == 1
    assert laps_of("parent_a", "wall_clock") == 1


def test_environment_components_in_subprocess(run_python):
    result = run_python(
        """
        import timemory
        from timemory.profiler import profile
        def work(): return sum(range(10))
        with profile():
            work()
        data = timemory.get(hierarchy=False)["timemory"]
        print(sorted(k for k in data if data[k]["ranks"][0]["graph"]))
        """,
        env={"TIMEMORY_PROFILER_COMPONENTS": "cpu_clock,peak_rss", "TIMEMORY_AUTO_OUTPUT": "0"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['cpu_clock', 'peak_rss']"


# ---------------------------------------------------------------------------------- scope
def test_flat_profile():
    with profile(["wall_clock"], flat=True):
        fibonacci(10)
        parent_b()
    tree = nodes()
    assert all(d == 0 for d, _, _ in tree)
    assert laps_of("fibonacci") == 177
    assert (0, "leaf", 2) in tree


def test_timeline_profile():
    with profile(["wall_clock"], timeline=True):
        parent_b()
        parent_b()
    tree = nodes()
    assert [lab for _, lab, _ in tree].count("parent_b") == 2
    assert all(n == 1 for _, _, n in tree)


def test_max_stack_depth():
    config.max_stack_depth = 3
    with profile(["wall_clock"]):
        fibonacci(8)
    depths = {d for d, lab, _ in nodes() if lab == "fibonacci"}
    assert depths == {0, 1, 2}


# ---------------------------------------------------------------------------------- labels
def test_label_forms():
    line = fibonacci.__code__.co_firstlineno

    def labels() -> set[str]:
        return {lab for _, lab, _ in nodes() if "fibonacci" in lab}

    with profile(["wall_clock"]):
        fibonacci(1)
    assert labels() == {"fibonacci"}

    config.include_filename = True
    config.include_line = True
    timemory.clear()
    with profile(["wall_clock"]):
        fibonacci(1)
    assert labels() == {f"[fibonacci][test_profiler.py:{line}]"}

    Config.reset()
    config.include_line = True
    timemory.clear()
    with profile(["wall_clock"]):
        fibonacci(1)
    assert labels() == {f"[fibonacci]:{line}"}

    Config.reset()
    config.include_filename = True
    config.full_filepath = True
    timemory.clear()
    with profile(["wall_clock"]):
        fibonacci(1)
    assert labels() == {f"[fibonacci][{__file__}]"}


def test_include_args():
    config.include_args = True
    with profile(["wall_clock"]):
        fibonacci(2)
    tree = nodes()
    assert (0, "fibonacci(n=2)", 1) in tree
    assert (1, "fibonacci(n=1)", 1) in tree
    assert (1, "fibonacci(n=0)", 1) in tree


def test_config_pattern_sets_replace_add_and_validate():
    # assigning replaces the set, the defaults too (it added before issue 16, so that the
    # defaults could not be undone); += adds, a str being one pattern, not its characters
    before = config.skip_filenames
    assert before == list(DEFAULT_SKIP_FILENAMES) and before
    config.skip_filenames += r"helper\.py$"
    assert config.skip_filenames == [*before, r"helper\.py$"]
    config.skip_filenames += ["^a$", "^b$", "^a$"]
    assert config.skip_filenames == [*before, r"helper\.py$", "^a$", "^b$"]
    config.skip_filenames = ["^leaf$"]
    assert config.skip_filenames == ["^leaf$"]
    config.skip_functions = "^leaf$"
    assert config.skip_functions == ["^leaf$"]
    assert Config.skip_functions == config.skip_functions
    config.skip_functions = []
    assert config.skip_functions == []
    Config.reset()
    assert config.skip_filenames == list(DEFAULT_SKIP_FILENAMES)
    with pytest.raises(ValueError, match="invalid regular expression"):
        config.only_functions = ["("]
    with pytest.raises(AttributeError, match="valid options"):
        config.trace_cc = True
    with pytest.raises(TypeError):
        config.max_stack_depth = "deep"


def test_only_and_skip_functions():
    config.only_functions = ["^parent_"]
    with profile(["wall_clock"]):
        parent_a()
        parent_b()
    assert {lab for _, lab, _ in nodes()} == {"parent_a", "parent_b"}

    Config.reset()
    config.skip_functions = ["^parent_b$"]
    timemory.clear()
    with profile(["wall_clock"]):
        parent_a()
        parent_b()
    # a skipped function's callees attach to its caller
    tree = nodes()
    assert (0, "parent_a", 1) in tree
    assert (0, "leaf", 2) in tree
    assert laps_of("parent_b") == 0


def test_only_and_skip_filenames(tmp_path):
    helper = tmp_path / "helper_mod.py"
    helper.write_text("def helper():\n    return 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import helper_mod  # type: ignore[import-not-found]

        config.skip_filenames = ["helper_mod.py$"]
        with profile(["wall_clock"]):
            helper_mod.helper()
            leaf()
        assert laps_of("helper") == 0 and laps_of("leaf") == 1

        Config.reset()
        config.only_filenames = ["helper_mod"]
        timemory.clear()
        with profile(["wall_clock"]):
            helper_mod.helper()
            leaf()
        assert {lab for _, lab, _ in nodes()} == {"helper"}
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("helper_mod", None)


def test_internal_frames_hidden_unless_asked():
    with profile(["wall_clock"]):
        timemory.settings.verbose  # noqa: B018  (runs timemory code)
        leaf()
    assert all("timemory" not in lab for _, lab, _ in nodes())


def test_trace_c():
    import math

    def uses_builtins() -> float:
        return sum([math.sqrt(4.0), math.sqrt(9.0)])

    with profile(["wall_clock"]):
        uses_builtins()
    assert {lab for _, lab, _ in nodes()} == {"uses_builtins"}

    config.trace_c = True
    timemory.clear()
    with profile(["wall_clock"]):
        uses_builtins()
    tree = nodes()
    assert (0, "uses_builtins", 1) in tree
    assert (1, "sqrt", 2) in tree
    assert (1, "sum", 1) in tree
    assert sys.getprofile() is None


# ---------------------------------------------------------------------------------- runtime
def test_exceptions_close_their_frames():
    def raiser(n: int) -> None:
        if n == 0:
            raise KeyError("x")
        raiser(n - 1)

    def catcher() -> int:
        try:
            raiser(3)
        except KeyError:
            pass
        return leaf()

    with profile(["wall_clock"]):
        catcher()
        with pytest.raises(KeyError):
            raiser(1)
        leaf()
    tree = nodes()
    # leaf is called by catcher after the unwinding: a child of catcher, not of raiser
    assert (1, "leaf", 1) in tree
    assert (0, "leaf", 1) in tree
    assert [d for d, lab, _ in tree if lab == "raiser"] == [1, 2, 3, 4, 0, 1]
    assert _core.profiler_depth() == 0


def test_generators_count_each_resumption_and_not_while_suspended(fake_clock):
    def gen():
        yield 0
        fake_clock.advance(0.001)  # while the generator runs
        yield 1
        yield 2

    def consumer() -> int:
        total = 0
        for v in gen():
            fake_clock.advance(0.01)  # while the generator is suspended
            total += v
        return total

    with profile(["wall_clock"]):
        consumer()
    tree = nodes()
    # three yields plus the final StopIteration resumption
    assert (1, "gen", 4) in tree
    stored = timemory.storage.WallClockStorage.get()
    by_label = {e.prefix().split()[-1].lstrip("|_"): e for e in stored}
    assert by_label["gen"].data().get() == 0.001  # the naps of consumer are not gen's
    assert by_label["consumer"].data().get() == 0.031


def test_coroutines_accumulate_on_one_node():
    async def step(i: int) -> int:
        await asyncio.sleep(0)
        return i

    async def worker() -> int:
        total = 0
        for i in range(5):
            total += await step(i)
        return total

    async def main() -> int:
        return sum(await asyncio.gather(worker(), worker()))

    with profile(["wall_clock"]):
        assert asyncio.run(main()) == 20
    worker_nodes = [(d, n) for d, lab, n in nodes() if lab == "worker"]
    # every resumption of both workers lands on one node under the event loop
    assert len(worker_nodes) == 1
    assert worker_nodes[0][1] >= 12  # 2 workers x (start + 5 resumptions + ...)
    assert laps_of("step") >= 20


def test_threads_started_while_profiling():
    def thread_work() -> None:
        for _ in range(5):
            parent_a()

    with profile(["wall_clock"]):
        threads = [threading.Thread(target=thread_work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert laps_of("thread_work") == 3
    assert laps_of("parent_a") == 15
    assert laps_of("leaf") == 15
    assert threading.getprofile() is None if hasattr(threading, "getprofile") else True


def test_threads_already_running_are_profiled():
    go = threading.Event()
    done = threading.Event()

    def waiting() -> None:
        go.wait()
        parent_b()
        done.set()

    t = threading.Thread(target=waiting)
    t.start()
    with profile(["wall_clock"]):
        go.set()
        done.wait(10)
        t.join()
    assert laps_of("parent_b") == 1
    assert laps_of("leaf") == 2


def test_finalize_stops_a_running_profiler(run_python, tmp_path):
    result = run_python(
        """
        import json, os
        from timemory.profiler import Profiler
        def work(): return sum(range(100))
        def outer():
            work()
            os._exit  # keep running: the profiler is never stopped by the user
            return 1
        p = Profiler(["wall_clock"])
        p.start()
        outer()
        """,
        env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"), "TIMEMORY_COUT_OUTPUT": "0"},
    )
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads((tmp_path / "out" / "wall.json").read_text())
    labels = [e["prefix"] for e in data["timemory"]["wall_clock"]["ranks"][0]["graph"]]
    assert any(lab.endswith("outer") for lab in labels)
    assert any(lab.endswith("work") for lab in labels)


def test_profiler_function_as_python_hook():
    # sys.setprofile(profiler_function) works: the thread switches to the native hook
    prof = Profiler(["wall_clock"])
    prof.start()
    sys.setprofile(profiler_function)
    parent_a()
    prof.stop()
    assert laps_of("parent_a") == 1
    assert sys.getprofile() is None


def test_clear_while_profiling_does_not_corrupt():
    with profile(["wall_clock"]):
        parent_a()
        timemory.clear()
        parent_b()
    assert laps_of("parent_a") == 0
    assert laps_of("parent_b") == 1


def test_decorating_while_running_returns_the_function():
    prof = Profiler(["wall_clock"])
    with prof:
        assert prof(leaf) is leaf
    assert prof(leaf) is not leaf


def _background_calls(stop: threading.Event, started: threading.Event) -> None:
    started.set()
    while not stop.is_set():
        background_work()
        stop.wait(0.001)


def background_work() -> int:
    return 1


def started_work() -> int:
    return 2


@pytest.mark.skipif(MONITORING, reason="sys.monitoring (3.12+) sees every thread")
def test_all_threads_false_leaves_running_threads_and_profiles_new_ones():
    # what %%timemory relies on: the kernel's own threads (already running) are not in a
    # cell's profile, the threads the cell starts are
    timemory.clear()
    stop, started = threading.Event(), threading.Event()
    running = threading.Thread(target=_background_calls, args=(stop, started))
    running.start()
    try:
        assert started.wait(60)
        with Profiler(["wall_clock"], all_threads=False):
            new = threading.Thread(target=started_work)
            new.start()
            new.join()
            for _ in range(3):
                stop.wait(0.01)  # the running thread keeps calling background_work meanwhile
    finally:
        stop.set()
        running.join()
    assert laps_of("started_work") == 1
    assert laps_of("background_work") == 0
    timemory.clear()
    # the default profiles the running threads too
    stop.clear(), started.clear()
    running = threading.Thread(target=_background_calls, args=(stop, started))
    running.start()
    try:
        assert started.wait(60)
        with Profiler(["wall_clock"]):
            for _ in range(6000):  # a bound: at most a minute of a very busy machine
                if laps_of("background_work"):
                    break
                stop.wait(0.01)
    finally:
        stop.set()
        running.join()
    assert laps_of("background_work") >= 1
    timemory.clear()
