"""``timemory.line_profiler`` on both of its event sources: ``sys.monitoring`` (3.12+, a tool id
of its own, events set on the profiled code objects only) and ``PyEval_SetTrace`` (up to 3.11,
and on 3.12+ when no tool id is free: here the test takes ids 3 and 4 first). Each test runs on
every source the interpreter has and asserts the exact hits and, on the fake clock, the exact
time of each line: a line's time runs from its line event to the next line event or the end
(return, yield, exception) of its frame, callees included, as line_profiler counts it."""

from __future__ import annotations

import inspect
import json
import sys
import threading

import pytest
from timemory import _core
from timemory.line_profiler import LineProfiler, LineStats

MONITORING = sys.version_info >= (3, 12)  # sys.monitoring is there


@pytest.fixture(params=["monitoring", "settrace"] if MONITORING else ["settrace"])
def backend(request: pytest.FixtureRequest) -> str:
    """The event source the test's sessions must use; for "settrace" on 3.12+ the two tool ids
    the line profiler could take are in use by someone else during the test."""
    taken = []
    if request.param == "settrace" and MONITORING:
        for tool in (3, 4):
            if sys.monitoring.get_tool(tool) is None:
                sys.monitoring.use_tool_id(tool, "the test's other tool")
                taken.append(tool)
    try:
        yield request.param
    finally:
        for tool in taken:
            sys.monitoring.free_tool_id(tool)


def _lines(stats: LineStats, func) -> dict[int, tuple[int, int]]:
    """{line offset from the def: (hits, total)} of ``func``'s entry in ``stats``."""
    code = inspect.unwrap(func).__code__
    key = next(k for k in stats.timings if k[0] == code.co_filename and k[1] == code.co_firstlineno)
    first = code.co_firstlineno
    return {lineno - first: (hits, total) for lineno, hits, total in stats.timings[key]}


def advance(ns: int) -> None:
    _core._test_clock_advance(ns)


def _no_session_left() -> None:
    assert _core.line_profiler_state() == (0, False) and _core.line_profiler_backend() is None
    assert sys.gettrace() is None
    if MONITORING:
        assert "timemory.line_profiler" not in [sys.monitoring.get_tool(i) for i in range(6)]


# ---------------------------------------------------------------------- recursion
def descend(n, seen):
    seen.append(_core.line_profiler_backend())
    advance(1_000)
    if n > 0:
        descend(n - 1, seen)
    return n


def test_recursion_keeps_each_levels_lines(fake_clock, backend):
    prof = LineProfiler()
    # the recursive call goes through the module-level name: make it the decorated function
    wrapped = prof(descend)
    globals()["descend"] = wrapped
    try:
        seen: list = []
        wrapped(3, seen)
    finally:
        globals()["descend"] = inspect.unwrap(wrapped)
    assert seen == [backend] * 4
    # 4 levels: 1 us each on the advancing line; the recursing line of level n holds the n
    # levels below it (3 + 2 + 1 us)
    assert _lines(prof.get_stats(), descend) == {
        1: (4, 0),
        2: (4, 4_000),
        3: (4, 0),
        4: (3, 6_000),
        5: (4, 0),
    }
    _no_session_left()


# ---------------------------------------------------------------------- threads
def work(n):
    advance(500)
    for _ in range(n):
        advance(10)
    return n


def test_threads_are_profiled_each_on_its_own_stack(fake_clock, backend):
    prof = LineProfiler()
    profiled = prof(work)
    for n in (2, 3):  # one at a time: the fake clock is shared
        t = threading.Thread(target=profiled, args=(n,))
        t.start()
        t.join()
    profiled(4)
    assert _lines(prof.get_stats(), work) == {
        1: (3, 1_500),
        2: (2 + 3 + 4 + 3, 0),
        3: (9, 90),
        4: (3, 0),
    }
    _no_session_left()


def test_a_thread_started_during_a_session_is_profiled(fake_clock, backend):
    prof = LineProfiler()
    prof.add_function(work)  # profiled while any session runs, not decorated

    def spawn():
        t = threading.Thread(target=work, args=(5,))
        t.start()
        t.join()
        return _core.line_profiler_backend()

    spawn_profiled = prof(spawn)
    assert spawn_profiled() == backend
    stats = prof.get_stats()
    assert _lines(stats, work) == {1: (1, 500), 2: (6, 0), 3: (5, 50), 4: (1, 0)}
    # where the thread's time falls among start() and join() depends on scheduling; the
    # calling function's lines hold all of it
    assert sum(total for _, total in _lines(stats, spawn).values()) == 550
    _no_session_left()


# ---------------------------------------------------------------------- generators
def countdown(n):
    while n > 0:
        advance(100)
        yield n
        n -= 1
    advance(7)


def test_a_generators_lines_stop_while_it_is_suspended(fake_clock, backend):
    prof = LineProfiler()
    gen = prof(countdown)
    got = []
    for value in gen(3):
        got.append(value)
        advance(1_000_000)  # the consumer's time: no line of the generator's
    assert got == [3, 2, 1]
    lines = _lines(prof.get_stats(), countdown)
    assert {k: v[1] for k, v in lines.items()} == {1: 0, 2: 300, 3: 0, 4: 0, 5: 7}
    assert lines[2][0] == 3 and lines[3][0] == 3 and lines[4][0] == 3 and lines[5][0] == 1
    assert lines[1][0] == 4  # the loop's test, once more to end
    _no_session_left()


def test_a_generator_thrown_into_and_closed(fake_clock, backend):
    prof = LineProfiler()

    def catcher():
        while True:
            try:
                yield 1
            except KeyError:
                advance(20)

    prof.add_function(catcher)  # (line_profiler's generator wrapper does not pass throw() on)
    with prof:
        gen = catcher()
        next(gen)
        advance(1_000)  # suspended
        assert gen.throw(KeyError) == 1
        advance(1_000)  # suspended
        gen.close()  # GeneratorExit leaves the frame at the yield line
    lines = _lines(prof.get_stats(), catcher)
    # the except line is reached twice: by KeyError (caught) and GeneratorExit (not)
    assert lines == {1: (2, 0), 2: (2, 0), 3: (2, 0), 4: (2, 0), 5: (1, 20)}
    _no_session_left()


# ---------------------------------------------------------------------- exceptions
def boom(n):
    advance(10)
    raise ValueError(n)


def guarded(n):
    try:
        boom(n)
    except ValueError:
        advance(5)
    return n


def test_an_exception_caught_by_unprofiled_code_ends_the_raising_line(fake_clock, backend):
    prof = LineProfiler()
    prof.add_function(boom)
    prof.enable_by_count()
    try:
        assert _core.line_profiler_backend() == backend
        for _ in range(3):
            try:
                boom(1)
            except ValueError:
                advance(1_000)  # after the frame ended: not the raising line's
    finally:
        prof.disable_by_count()
    assert _lines(prof.get_stats(), boom) == {1: (3, 30), 2: (3, 0)}
    _no_session_left()


def test_an_exception_caught_by_a_profiled_caller(fake_clock, backend):
    prof = LineProfiler(boom, guarded)
    prof.runcall(guarded, 2)
    prof.runcall(guarded, 3)
    stats = prof.get_stats()
    assert _lines(stats, boom) == {1: (2, 20), 2: (2, 0)}
    assert _lines(stats, guarded) == {1: (2, 0), 2: (2, 20), 3: (2, 0), 4: (2, 10), 5: (2, 0)}
    _no_session_left()


# ---------------------------------------------------------------------- on and off
def test_enable_and_disable_by_count(fake_clock, backend):
    prof = LineProfiler()
    prof.add_function(work)
    work(1)  # not enabled: not counted
    prof.enable_by_count()
    prof.enable_by_count()
    work(1)
    prof.disable_by_count()
    assert prof.enable_count == 1 and _core.line_profiler_backend() == backend
    work(2)
    prof.disable_by_count()
    assert prof.enable_count == 0 and _core.line_profiler_backend() is None
    work(3)  # off again
    assert _lines(prof.get_stats(), work) == {1: (2, 1_000), 2: (5, 0), 3: (3, 30), 4: (2, 0)}
    _no_session_left()


def inner(k):
    advance(k)
    return k


def outer(n):
    total = 0
    for k in range(1, n + 1):
        total += inner(k)
    return total


def test_two_profiled_functions_and_two_profilers(fake_clock, backend):
    first, second = LineProfiler(outer), LineProfiler(inner)
    with first, second:
        assert outer(4) == 10
    assert _lines(first.get_stats(), outer) == {1: (1, 0), 2: (5, 0), 3: (4, 10), 4: (1, 0)}
    assert _lines(second.get_stats(), inner) == {1: (4, 10), 2: (4, 0)}
    _no_session_left()


def late(n):
    advance(3)
    return n


def test_a_function_added_while_profiling_runs(fake_clock, backend):
    prof = LineProfiler()
    prof.enable_by_count()
    try:
        late(1)  # not profiled yet
        prof.add_function(late)
        late(2)
        late(3)
    finally:
        prof.disable_by_count()
    late(4)  # profiling ended
    assert _lines(prof.get_stats(), late) == {1: (2, 6), 2: (2, 0)}
    _no_session_left()


# ---------------------------------------------------------------------- what sys.settrace reports
def one_line_loops(n):
    # the loop on line 3 jumps back within its line: a line event per turn
    k = n
    while k: k -= 1  # noqa: E701  # fmt: skip
    squares = [i * i for i in range(n)]
    return k, squares


def _hits(func, *args) -> dict[int, int]:
    prof = LineProfiler()
    prof.runcall(prof(func), *args)
    return {k: v[0] for k, v in _lines(prof.get_stats(), func).items()}


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is Python 3.12+")
def test_monitoring_counts_the_lines_settrace_does():
    # the hits of lines that jump back within themselves, as sys.settrace reports them
    ours = _hits(one_line_loops, 6)
    for tool in (3, 4):
        sys.monitoring.use_tool_id(tool, "the test's other tool")
    try:
        traced = _hits(one_line_loops, 6)
    finally:
        for tool in (3, 4):
            sys.monitoring.free_tool_id(tool)
    assert ours == traced
    # the while line once per turn (its first by the line event, the others by the jump back),
    # the comprehension's line once, then once per item
    assert ours == {2: 1, 3: 6, 4: 7, 5: 1}
    _no_session_left()


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is Python 3.12+")
def test_the_function_profiler_and_the_line_profiler_share_sys_monitoring():
    from timemory import profiler

    prof = LineProfiler()
    backends = []

    @prof
    def both():
        backends.append((_core.line_profiler_backend(), _core.profiler_backend()))
        return sorted(t for t in (sys.monitoring.get_tool(i) for i in range(6)) if t)

    with profiler.Profiler(["wall_clock"]):
        tools = both()
    assert backends == [("monitoring", "monitoring")]
    assert tools == ["timemory", "timemory.line_profiler"]
    _no_session_left()


@pytest.mark.skipif(not MONITORING, reason="sys.monitoring is Python 3.12+")
def test_many_profiled_functions_use_settrace_with_the_same_counts(run_python):
    # past 32 registered code objects, setting and clearing their events per session costs
    # more than PyEval_SetTrace does: the session uses the latter (a fresh process, so that the
    # code objects registered by the other tests do not count)
    res = run_python(
        """
        import json

        from timemory import _core
        from timemory.line_profiler import LineProfiler

        def hot(x):
            if x > 2:
                return _core.line_profiler_backend()
            return None

        def run(prof, n_extra):
            for k in range(n_extra):
                ns = {}
                exec(f"def f{k}(x):\\n    return x\\n", ns)
                prof.add_function(ns[f"f{k}"])
            wrapped = prof(hot)
            backends = sorted({str(wrapped(x)) for x in range(5)})
            ((first, timings),) = [
                (key[1], rows) for key, rows in prof.get_stats().timings.items() if key[2] == "hot"
            ]
            return json.dumps([backends, [(line - first, hits) for line, hits, _ in timings]])

        print(run(LineProfiler(), 0))
        print(run(LineProfiler(), 40))
        """
    )
    assert res.returncode == 0, res.stderr
    few, many = (json.loads(line) for line in res.stdout.splitlines())
    assert few[0] == ["None", "monitoring"] and many[0] == ["None", "settrace"]
    assert few[1] == many[1] == [[1, 5], [2, 2], [3, 3]]  # offsets from the def
