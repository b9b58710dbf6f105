"""The line tracer's API: what it records per line, how labels read, where the time
of a line goes, and that the hook state is left as it was found."""

from __future__ import annotations

import asyncio
import linecache
import os
import re
import sys
import threading

import pytest
import timemory
from timemory import _core, settings
from timemory._hook_config import DEFAULT_SKIP_FILENAMES, DEFAULT_SKIP_FUNCTIONS
from timemory.bundle import marker
from timemory.storage import storage_class
from timemory.trace import (
    Config,
    FakeTracer,
    TraceBundle,
    Tracer,
    config,
    notrace,
    trace,
    tracer_function,
)


def padded() -> int:  # early in the file: labels write its line numbers with a leading zero
    value = 1
    return value


@pytest.fixture(autouse=True)
def _fresh_config():
    Config.reset()
    saved = (
        settings.trace_components,
        settings.global_components,
        settings.max_width,
        settings.enabled,
    )
    yield
    Config.reset()
    (
        settings.trace_components,
        settings.global_components,
        settings.max_width,
        settings.enabled,
    ) = saved
    assert not _core.tracer_active(), "a test left the tracer running"


LABEL = re.compile(r"^(?P<text>.*) \[(?P<func>[^\]]+)\]\[(?P<file>[^\]]+):(?P<line>\d+)\]$")
HERE = os.path.basename(__file__)


def entries(component: str = "wall_clock") -> dict[tuple[str, int], tuple[int, float]]:
    """(function, line number) -> (laps, value) of the lines of this file (default labels)."""
    out: dict[tuple[str, int], tuple[int, float]] = {}
    for entry in storage_class(component).get():
        match = LABEL.match(entry.label())
        assert match, entry.label()
        if match["file"] != HERE:
            continue
        key = (match["func"], int(match["line"]))
        assert key not in out, f"two entries for {key}"
        out[key] = (entry.data().laps(), float(entry.data().get()))
    return out


def hits(func, component: str = "wall_clock") -> dict[str, int]:
    """Source text (stripped) -> laps of the lines of ``func``."""
    code = func.__code__
    return {
        linecache.getline(code.co_filename, line).strip(): laps
        for (name, line), (laps, _) in entries(component).items()
        if name == code.co_name
    }


def line_of(func, text: str) -> int:
    """The line number of the first line of ``func`` whose source contains ``text``."""
    code = func.__code__
    lines = linecache.getlines(code.co_filename)
    for number in range(code.co_firstlineno, len(lines) + 1):
        if text in lines[number - 1]:
            return number
    raise AssertionError(f"{text!r} not in {code.co_name}")


def value_of(func, text: str, component: str = "wall_clock") -> float:
    return entries(component)[(func.__code__.co_name, line_of(func, text))][1]


def number_of(func, text: str) -> str:
    """The line number as labels write it: zero-padded to the digits of the file's length."""
    return str(line_of(func, text)).zfill(len(str(len(linecache.getlines(__file__)))))


def functions() -> set[str]:
    """The functions with a line entry, in any file."""
    return {LABEL.match(e.label())["func"] for e in storage_class("wall_clock").get()}


def labels_with(text: str) -> list[str]:
    return [e.label() for e in storage_class("wall_clock").get() if text in e.label()]


# ------------------------------------------------------------------ traced functions
def loop(n: int) -> int:
    """A known loop.

    Its docstring spans lines, and is not listed."""
    total = 0
    for i in range(n):
        # a comment: not listed either
        if i % 2:
            total += i
        else:
            total -= 1
    return total


def branches(flag: bool) -> int:
    if flag:
        return 1
    value = 2  # never runs in the test
    return value


# Time passes on the fake clock (the fake_clock fixture), advanced by calls of the builtin
# _core._test_clock_advance(ns) written in the traced lines themselves: a call of a Python helper
# would be traced, and the time would go to the helper's lines.
def busy(ns: int) -> int:
    spins = 0
    for _ in range(3):
        spins += 1
    _core._test_clock_advance(ns)
    spins += 1
    _core._test_clock_advance(2 * ns)
    return spins


def callee() -> None:
    _core._test_clock_advance(30_000_000)


def hidden_helper() -> None:
    _core._test_clock_advance(30_000_000)


def caller() -> None:
    callee()
    _core._test_clock_advance(30_000_000)
    hidden_helper()


def gen():
    for i in range(3):
        value = i
        yield value


def consumer() -> int:
    total = 0
    for value in gen():
        _core._test_clock_advance(10_000_000)
        total += value
    return total


def raiser(n: int) -> None:
    if n == 0:
        raise KeyError(n)
    raiser(n - 1)


def catcher() -> int:
    try:
        raiser(2)
    except KeyError:
        pass
    return 1


# ------------------------------------------------------------------ what is recorded
def test_hit_counts_of_a_known_loop():
    with trace(["wall_clock"]):
        assert loop(10) == 20
    assert hits(loop) == {
        "total = 0": 1,
        "for i in range(n):": 11,  # ten iterations and the end of the loop
        "if i % 2:": 10,
        "total += i": 5,
        "total -= 1": 5,
        "return total": 1,
    }


def test_hits_accumulate_over_calls_and_sessions():
    with trace(["wall_clock"]):
        loop(4)
        loop(2)
    with trace(["wall_clock"]):
        loop(1)
    assert hits(loop)["if i % 2:"] == 7
    assert hits(loop)["return total"] == 3


def test_lines_that_never_ran_are_listed_with_zero_laps():
    with trace(["wall_clock"]):
        branches(True)
    # every line of the body that holds code, not the def line, docstring or comment lines
    assert hits(branches) == {
        "if flag:": 1,
        "return 1": 1,
        "value = 2  # never runs in the test": 0,
        "return value": 0,
    }
    assert entries()[("branches", line_of(branches, "return value"))][1] == 0.0
    # the docstring, the comment and the else of loop are not listed before it runs...
    with trace(["wall_clock"]):
        loop(0)
    assert set(hits(loop)) == {
        "total = 0",
        "for i in range(n):",
        "if i % 2:",
        "total += i",
        "total -= 1",
        "return total",
    }
    assert hits(loop)["total += i"] == 0


def test_always_flat(fake_clock):
    with trace(["wall_clock"]):
        caller()
    results = storage_class("wall_clock").get()
    assert {r.depth() for r in results} == {0}
    tree = timemory.get(hierarchy=True)["timemory"]["wall_clock"]["graph"][0]
    assert len(tree) == 1  # the root
    assert all(not child.get("children") for child in tree[0]["children"])
    assert TraceBundle._flat is True


def test_every_component_records_the_same_lines():
    with trace(["wall_clock", "cpu_clock", "peak_rss"]):
        loop(6)
    expected = hits(loop)
    assert expected["if i % 2:"] == 6
    assert hits(loop, "cpu_clock") == expected
    assert hits(loop, "peak_rss") == expected


# ------------------------------------------------------------------ labels
def label_width() -> int:
    """max_width, less 3 for '>>>' and 3 for each of the two collapse settings."""
    collapsed = bool(settings.collapse_threads) + bool(settings.collapse_processes)
    return settings.max_width - 3 - 3 * collapsed


def test_label_format():
    with trace(["wall_clock"]):
        padded()
        loop(2)
    assert line_of(padded, "value = 1") < 100 <= len(linecache.getlines(__file__))
    number = number_of(padded, "value = 1")
    assert number.startswith("0")  # zero-padded to the file's three digits
    [label] = labels_with("value = 1")
    # the source text with its indentation, padding, then [func][file:NN]: about max_width
    tail = f"[padded][{HERE}:{number}]"
    assert label == "    value = 1".ljust(label_width() - len(tail) - 1) + " " + tail
    assert len(label) == label_width() == 111
    # one text column for every line of a function
    columns = {label.index(" [loop]") for label in labels_with("[loop]")}
    assert len(columns) == 1


def test_label_width_follows_max_width():
    settings.max_width = 200
    with trace(["wall_clock"]):
        loop(1)
    [label] = labels_with("total = 0")
    assert len(label) == 200 - 9


def test_long_lines_are_not_cut():
    settings.max_width = 40
    with trace(["wall_clock"]):
        loop(1)
    [label] = labels_with("for i in range(n):")
    number = number_of(loop, "for i in range(n):")
    longest = len("            total -= 1")
    assert label == "    for i in range(n):".ljust(longest) + f" [loop][{HERE}:{number}]"


@pytest.mark.parametrize(
    ("options", "suffix"),
    [
        ({"include_filename": False}, "[loop:{n}]"),
        ({"include_line": False}, "[loop][test_tracer.py]"),
        ({"include_line": False, "include_filename": False}, "[loop]"),
        ({"full_filepath": True}, "[loop][{path}:{n}]"),
        ({"include_args": True}, "[loop(n=1)][test_tracer.py:{n}]"),
    ],
)
def test_label_variations(options, suffix):
    for name, value in options.items():
        setattr(config, name, value)
    with trace(["wall_clock"]):
        loop(1)
    expected = suffix.format(n=number_of(loop, "total = 0"), path=loop.__code__.co_filename)
    [label] = labels_with("    total = 0 ")
    assert label.startswith("    total = 0 ")
    assert label.endswith(" " + expected), label
    if "full_filepath" not in options:  # a long path makes the label longer
        assert len(label) == label_width() + (len("(n=1)") if "include_args" in options else 0)


def test_include_args_gives_one_entry_per_distinct_call():
    config.include_args = True
    with trace(["wall_clock"]):
        loop(1)
        loop(2)
        loop(1)
    firsts = {
        e.label().rsplit(" [", 1)[1]: e.data().laps()
        for e in storage_class("wall_clock").get()
        if "total = 0" in e.label()
    }
    number = number_of(loop, "total = 0")
    assert firsts == {
        f"loop(n=1)][test_tracer.py:{number}]": 2,
        f"loop(n=2)][test_tracer.py:{number}]": 1,
    }


# ------------------------------------------------------------------ where the time goes
def test_the_lines_of_a_function_add_up_to_its_time(fake_clock):
    with trace(["wall_clock"]):
        busy(1_000_000)  # labels are built on the first call: not part of the measurement below
    timemory.clear()
    with trace(["wall_clock"]):
        busy(10_000_000)
    lines = {line: value for (name, line), (_, value) in entries().items() if name == "busy"}
    # each event ends one line and starts the next with a single reading: the time of the call
    # is its lines', each line's its own
    assert sum(lines.values()) == pytest.approx(0.03, abs=1e-15)
    assert value_of(busy, "_test_clock_advance(ns)") == 0.01
    assert value_of(busy, "_test_clock_advance(2 * ns)") == 0.02
    assert sorted(lines.values()) == [0.0] * (len(lines) - 2) + [0.01, 0.02]


def test_time_of_traced_callees_goes_to_their_lines(fake_clock):
    config.skip_functions = ["^hidden_helper$"]
    with trace(["wall_clock"]):
        caller()
    # a traced callee pauses the caller's line...
    assert value_of(caller, "    callee()") == 0.0
    assert value_of(callee, "_test_clock_advance") == 0.03
    # ...code that is not traced (a builtin, a filtered function) counts for the calling line
    assert value_of(caller, "_test_clock_advance") == 0.03
    assert value_of(caller, "hidden_helper()") == 0.03
    assert ("hidden_helper", line_of(hidden_helper, "_test_clock_advance")) not in entries()


def test_generators_are_not_measured_while_suspended(fake_clock):
    with trace(["wall_clock"]):
        assert consumer() == 3
        depth = _core.tracer_depth()
    assert depth == 1  # this test's frame: the generator's frames are gone
    assert hits(gen) == {"for i in range(3):": 4, "value = i": 3, "yield value": 3}
    assert hits(consumer)["_core._test_clock_advance(10_000_000)"] == 3
    gen_time = sum(v for (name, _), (_, v) in entries().items() if name == "gen")
    assert gen_time == 0.0  # the time passes while the generator is suspended
    assert value_of(consumer, "_test_clock_advance") == 0.03


def test_exceptions_unwind_the_traced_frames():
    with trace(["wall_clock"]):
        assert catcher() == 1
        with pytest.raises(KeyError):
            raiser(1)
        depth = _core.tracer_depth()
    assert depth == 1
    assert hits(raiser) == {"if n == 0:": 5, "raise KeyError(n)": 2, "raiser(n - 1)": 3}
    assert hits(catcher) == {
        "try:": 1,
        "raiser(2)": 1,
        "except KeyError:": 1,
        "pass": 1,
        "return 1": 1,
    }


def test_coroutines():
    async def step(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @trace(["wall_clock"])
    async def worker() -> int:
        total = 0
        for i in range(4):
            total += await step(i)
        return total

    assert asyncio.run(worker()) == 6
    assert not _core.tracer_active()
    assert hits(worker.__wrapped__)["total += await step(i)"] >= 4
    assert hits(step)["return i"] == 4


# ------------------------------------------------------------------ threads
def test_threads_started_while_tracing():
    def thread_work() -> None:
        for _ in range(5):
            loop(2)

    with trace(["wall_clock"]):
        threads = [threading.Thread(target=thread_work) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert hits(loop)["if i % 2:"] == 30
    assert hits(thread_work) == {"for _ in range(5):": 18, "loop(2)": 15}


def test_each_thread_has_its_own_data():
    settings.collapse_threads = False
    try:

        def thread_work() -> None:
            loop(3)

        with trace(["wall_clock"]):
            loop(1)
            t = threading.Thread(target=thread_work)
            t.start()
            t.join()
        per_thread = {
            r.tid(): r.data().laps()
            for r in storage_class("wall_clock").get()
            if "if i % 2:" in r.label()
        }
    finally:
        settings.collapse_threads = True
    assert sorted(per_thread.values()) == [1, 3]


def test_threads_already_running_are_traced():
    go = threading.Event()
    done = threading.Event()

    def waiting() -> None:
        go.wait()
        loop(4)
        done.set()

    t = threading.Thread(target=waiting)
    t.start()
    with trace(["wall_clock"]):
        go.set()
        done.wait(10)
        t.join()
    assert hits(loop)["if i % 2:"] == 4


# ------------------------------------------------------------------ hooks
def test_gettrace_restored_exactly():
    assert sys.gettrace() is None
    with trace(["wall_clock"]):
        assert sys.gettrace() is tracer_function
        assert threading.gettrace() is tracer_function if hasattr(threading, "gettrace") else True
    assert sys.gettrace() is None
    assert getattr(threading, "_trace_hook", None) is None


def test_a_python_trace_function_is_restored_and_keeps_working():
    events: list[tuple[str, str, int]] = []

    def mine(frame, event, arg):
        events.append((frame.f_code.co_name, event, frame.f_lineno))
        return mine

    def running() -> int:  # entered under mine, which traces its lines before and after
        before = 1
        with trace(["wall_clock"]):
            loop(1)
        after = before + 1
        return after

    sys.settrace(mine)
    try:
        running()
        assert sys.gettrace() is mine
        branches(True)
    finally:
        sys.settrace(None)
    # mine saw nothing while the tracer ran, and everything again afterwards: its own hook
    # and the frame-local hook of a frame that ran across the session are intact
    assert not [e for e in events if e[0] == "loop"]
    seen = {line for name, event, line in events if name == "running" and event == "line"}
    assert line_of(running, "before = 1") in seen
    assert line_of(running, "loop(1)") not in seen
    assert {line_of(running, "after = before"), line_of(running, "return after")} <= seen
    assert ("branches", "call", line_of(branches, "def branches")) in events
    assert hits(loop)["if i % 2:"] == 1


def test_the_function_profiler_runs_alongside():
    from timemory.profiler import profile

    with profile(["cpu_clock"]), trace(["wall_clock"]):
        loop(2)
    assert hits(loop)["if i % 2:"] == 2
    assert "loop" in {r.label() for r in storage_class("cpu_clock").get()}


def test_threading_trace_hook_restored():
    def mine(frame, event, arg):
        return None

    threading.settrace(mine)
    try:
        with trace(["wall_clock"]):
            assert getattr(threading, "_trace_hook", None) is tracer_function
        assert getattr(threading, "_trace_hook", None) is mine
    finally:
        threading.settrace(None)


def test_tracer_function_as_python_hook():
    tracer = Tracer(["wall_clock"])
    tracer.start()
    sys.settrace(tracer_function)  # switches this thread to the native hook
    loop(2)
    tracer.stop()
    assert sys.gettrace() is None
    assert hits(loop)["if i % 2:"] == 2


# ------------------------------------------------------------------ API
def test_nesting_only_outermost_installs():
    outer = Tracer(["wall_clock"])
    inner = Tracer(["cpu_clock"])
    outer.start()
    inner.start()  # counted, but the session keeps outer's components
    loop(1)
    inner.stop()
    assert _core.tracer_active()
    outer.stop()
    assert not _core.tracer_active()
    assert hits(loop)["return total"] == 1
    assert not storage_class("cpu_clock").get()


def test_decorator_nests_inside_a_running_tracer():
    @trace(["wall_clock"])
    def decorated() -> int:
        return loop(2)

    with trace(["wall_clock"]):
        decorated()
        assert _core.tracer_active()
    assert not _core.tracer_active()
    assert hits(decorated.__wrapped__) == {"return loop(2)": 1}


def test_run_runctx_runcall():
    tracer = Tracer(["wall_clock"])
    assert tracer.runcall(loop, 3) == -1
    tracer.runctx("loop(1)", globals(), {})
    assert hits(loop)["return total"] == 2


def test_condition_is_the_tracers_own():
    try:
        Tracer.condition(lambda: False)
        assert Tracer.is_enabled() is False
        assert timemory.profiler.Profiler.is_enabled() is True
        with trace(["wall_clock"]):
            assert sys.gettrace() is None
        assert not storage_class("wall_clock").get()
    finally:
        Tracer.condition(lambda: True)


def test_fake_tracer_does_nothing():
    @notrace(["wall_clock"])
    def plain() -> int:
        return 1

    assert plain() == 1
    with FakeTracer(["wall_clock"]):
        loop(1)
    assert isinstance(notrace(["wall_clock"]), FakeTracer)
    assert not storage_class("wall_clock").get()


def test_unknown_component_names_the_choices():
    with pytest.raises(ValueError, match=r"Unknown component: 'no_such_clock'.*wall_clock"):
        Tracer(["no_such_clock"])


def test_components_from_settings():
    settings.trace_components = "cpu_clock"
    with trace():
        loop(1)
    assert hits(loop, "cpu_clock")["return total"] == 1
    assert not storage_class("wall_clock").get()
    settings.trace_components = ""
    settings.global_components = "peak_rss"
    timemory.clear()
    with trace():
        loop(1)
    assert hits(loop, "peak_rss")["return total"] == 1
    settings.global_components = ""
    timemory.clear()
    with trace():
        loop(1)
    assert hits(loop)["return total"] == 1


def test_disabled_records_nothing():
    settings.enabled = False
    with trace(["wall_clock"]):
        loop(3)
    settings.enabled = True
    assert len(hits(loop)) == 6  # listed, as the lines of a traced function are
    assert all(laps == 0 for laps in hits(loop).values())


def test_clear_while_tracing_does_not_corrupt():
    with trace(["wall_clock"]):
        loop(1)
        timemory.clear()
        loop(2)
    assert hits(loop)["if i % 2:"] == 2


def test_markers_inside_traced_code_nest_as_without_the_tracer():
    def marked() -> None:
        with marker(["wall_clock"], key="outer-marker"):
            with marker(["wall_clock"], key="inner-marker"):
                loop(1)

    with trace(["wall_clock"]):
        marked()
    by_label = {r.label(): r.depth() for r in storage_class("wall_clock").get()}
    assert by_label["outer-marker"] == 0
    assert by_label["inner-marker"] == 1


# ------------------------------------------------------------------ config and filters
def test_config_defaults_and_options():
    assert config.include_line is True and config.include_filename is True
    assert config.include_args is False and config.full_filepath is False
    assert config.include_internal is False
    assert config.skip_functions == list(DEFAULT_SKIP_FUNCTIONS) == []
    assert config.skip_filenames == list(DEFAULT_SKIP_FILENAMES)
    assert config._is_running is False
    with pytest.raises(AttributeError, match="unknown tracer option 'trace_c'.*include_line"):
        config.trace_c = True
    with pytest.raises(AttributeError, match="unknown tracer option 'max_stack_depth'"):
        config.max_stack_depth = 3
    # assigning replaces (the defaults too), += adds: as the profiler's config
    config.skip_filenames += "^nothing$"
    assert Config.skip_filenames == [*DEFAULT_SKIP_FILENAMES, "^nothing$"]
    config.skip_filenames = "^nothing$"
    assert Config.skip_filenames == ["^nothing$"]
    with pytest.raises(ValueError, match="invalid regular expression"):
        config.only_functions = ["("]


def test_only_and_skip_functions():
    config.only_functions = ["^loop$"]
    with trace(["wall_clock"]):
        branches(True)
        loop(1)
    assert {name for name, _ in entries()} == {"loop"}
    Config.reset()
    timemory.clear()
    config.skip_functions = ["^loop$"]
    with trace(["wall_clock"]):
        branches(True)
        loop(1)
    assert "loop" not in {name for name, _ in entries()}
    assert "branches" in {name for name, _ in entries()}


def test_only_and_skip_filenames(tmp_path):
    helper = tmp_path / "trace_helper_mod.py"
    helper.write_text("def helping():\n    x = 1\n    return x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import trace_helper_mod

        with trace(["wall_clock"]):
            trace_helper_mod.helping()
            loop(1)
        assert {"helping", "loop"} <= functions()
        timemory.clear()
        config.skip_filenames = [r"trace_helper_mod\.py$"]
        with trace(["wall_clock"]):
            trace_helper_mod.helping()
            loop(1)
        assert "helping" not in functions()
        Config.reset()
        timemory.clear()
        config.only_filenames = [r"trace_helper_mod\.py$"]
        with trace(["wall_clock"]):
            trace_helper_mod.helping()
            loop(1)
        assert functions() == {"helping"}
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("trace_helper_mod", None)


def test_timemory_itself_is_not_traced():
    with trace(["wall_clock"]):
        loop(1)
    files = {e.label().rsplit("][", 1)[-1] for e in storage_class("wall_clock").get()}
    assert all("__init__.py" not in f and "_config.py" not in f for f in files), files


def test_finalize_stops_a_running_tracer(run_python, tmp_path):
    result = run_python(
        """
        import atexit, sys
        from timemory.trace import Tracer
        def work():
            x = 1
            return x
        # runs at exit after the tracer's own exit hook, before timemory writes its output
        atexit.register(lambda: print("hook at exit:", sys.gettrace()))
        tracer = Tracer(["wall_clock"])
        tracer.start()
        work()
        """,
        env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"), "TIMEMORY_COUT_OUTPUT": "0"},
    )
    assert result.returncode == 0, result.stderr
    assert "hook at exit: None" in result.stdout
    text = (tmp_path / "out" / "wall.txt").read_text()
    assert "[work][script.py:05]" in text and "[work][script.py:06]" in text


def test_explicit_finalize_while_tracing_records_the_open_line(run_python, tmp_path):
    # timemory.finalize() called inside a traced block: the tracer stops first, so the line
    # that called finalize is recorded and nothing is traced into storage already written
    result = run_python(
        """
        import sys
        import timemory
        from timemory.trace import Tracer
        def work():
            x = 1
            timemory.finalize()
            return x
        tracer = Tracer(["wall_clock"])
        tracer.start()
        work()
        print("hook after finalize:", sys.gettrace())
        """,
        env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"), "TIMEMORY_COUT_OUTPUT": "0"},
    )
    assert result.returncode == 0, result.stderr
    assert "hook after finalize: None" in result.stdout
    text = (tmp_path / "out" / "wall.txt").read_text()
    assert "[work][script.py:06]" in text and "[work][script.py:07]" in text
    # ran after finalize: not traced (listed with zero laps, as a line never run)
    assert re.search(r"\[work\]\[script\.py:08\] \|\s+0 \|", text), text
