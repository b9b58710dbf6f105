"""``timemory.line_profiler`` on decorated recursive and call-heavy code: exact hit counts per
line through every recursion level (threads included), each level's time on its own lines
and, inclusively, on the line that recurses, and the native wrapper the decorator makes (it
must behave as line_profiler's function wrapper does: enable by count around each call,
attributes, methods, pickling, exceptions)."""

from __future__ import annotations

import functools
import inspect
import pickle
import sys
import threading

import pytest
from timemory import _core
from timemory.line_profiler import LineProfiler, LineStats, _stop_for_finalize


def _lines(stats: LineStats, func) -> dict[int, tuple[int, int]]:
    """{line offset from the def: (hits, total)} of ``func``'s entry in ``stats``."""
    code = inspect.unwrap(func).__code__
    key = next(k for k in stats.timings if k[0] == code.co_filename and k[1] == code.co_firstlineno)
    first = code.co_firstlineno
    return {lineno - first: (hits, total) for lineno, hits, total in stats.timings[key]}


def make_fib(prof):
    @prof
    def fib(n):
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)  # the decorated function, through its wrapper

    return fib


def fib_calls(n: int) -> tuple[int, int]:
    """(calls, leaf calls) of fib(n) as written above."""
    if n < 2:
        return 1, 1
    a, la = fib_calls(n - 1)
    b, lb = fib_calls(n - 2)
    return a + b + 1, la + lb


def test_hit_counts_of_a_decorated_recursive_function():
    prof = LineProfiler()
    fib = make_fib(prof)
    assert fib(15) == 610
    assert fib(10) == 55
    calls = fib_calls(15)[0] + fib_calls(10)[0]
    leaves = fib_calls(15)[1] + fib_calls(10)[1]
    lines = _lines(prof.get_stats(), fib)
    assert {k: v[0] for k, v in lines.items()} == {2: calls, 3: leaves, 4: calls - leaves}
    assert prof.enable_count == 0 and sys.gettrace() is None


def make_descend(prof):
    @prof
    def descend(n):
        _core._test_clock_advance(1_000_000)  # 1 ms on every level
        if n > 0:
            descend(n - 1)  # the deeper levels' time, on this level's line too
        return n

    return descend


def test_each_recursion_level_keeps_its_own_time(fake_clock):
    prof = LineProfiler()
    descend = make_descend(prof)
    descend(3)
    lines = _lines(prof.get_stats(), descend)
    # levels 3, 2, 1, 0: 1 ms each on the first line; the recursing line of level n takes the
    # n ms of the levels below it (3 + 2 + 1), as line_profiler counts a calling line
    assert lines == {
        2: (4, 4_000_000),
        3: (4, 0),
        4: (3, 6_000_000),
        5: (4, 0),
    }


def test_threads_running_the_same_recursion_are_counted_apart_and_added_up():
    prof = LineProfiler()
    fib = make_fib(prof)
    results = []
    barrier = threading.Barrier(4)

    def run():
        barrier.wait()
        results.append(fib(12))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fib(12)
    assert results == [144] * 4
    calls, leaves = fib_calls(12)
    lines = _lines(prof.get_stats(), fib)
    assert {k: v[0] for k, v in lines.items()} == {
        2: 5 * calls,
        3: 5 * leaves,
        4: 5 * (calls - leaves),
    }
    assert prof.enable_count == 0 and sys.gettrace() is None


def test_a_raise_deep_in_the_recursion_unwinds_every_level():
    prof = LineProfiler()

    @prof
    def dive(n):
        if n == 0:
            raise ValueError("bottom")
        return dive(n - 1)

    for _ in range(3):
        with pytest.raises(ValueError, match="bottom"):
            dive(20)
    lines = _lines(prof.get_stats(), dive)
    # (offsets from the decorator line, where co_firstlineno is)
    assert lines[2][0] == 3 * 21 and lines[3][0] == 3 and lines[4][0] == 3 * 20
    assert prof.enable_count == 0 and sys.gettrace() is None
    assert threading._trace_hook is None  # type: ignore[attr-defined]


def test_the_wrapper_looks_like_the_function():
    prof = LineProfiler()

    def original(a, b=2, *, c=3):
        """Its docstring."""
        return a + b + c

    original.extra = "kept"
    wrapped = prof(original)
    assert wrapped is not original and wrapped.__wrapped__ is original
    assert wrapped.__name__ == "original" and wrapped.__doc__ == "Its docstring."
    assert wrapped.__qualname__ == original.__qualname__ and wrapped.__module__ == __name__
    assert wrapped.extra == "kept"
    assert str(inspect.signature(wrapped)) == "(a, b=2, *, c=3)"
    assert wrapped(1, c=10) == 13 and wrapped(a=1, b=1, c=1) == 3
    assert prof(wrapped) is wrapped  # not wrapped twice by the same profiler
    assert _lines(prof.get_stats(), original)[2][0] == 2


class Counter:
    def __init__(self):
        self.n = 0

    def bump(self, k):
        self.n += k
        return self.n

    @staticmethod
    def twice(x):
        return 2 * x

    @classmethod
    def name(cls):
        return cls.__name__


def test_methods_static_and_class_methods_bind_as_functions_do():
    prof = LineProfiler()
    cls = type("Counted", (Counter,), {})
    cls.bump = prof(Counter.bump)
    cls.twice = prof(Counter.__dict__["twice"])
    cls.name = prof(Counter.__dict__["name"])
    c = cls()
    assert c.bump(2) == 2 and c.bump(3) == 5
    assert cls.bump(c, 1) == 6  # looked up on the class: unbound, as a function is
    bound = c.bump
    assert bound.__self__ is c and bound(4) == 10
    assert c.twice(4) == 8 and cls.twice(5) == 10
    assert c.name() == "Counted" and cls.name() == "Counted"
    assert _lines(prof.get_stats(), Counter.bump)[1][0] == 4


@functools.cache
def _profiler() -> LineProfiler:
    return LineProfiler()


def module_level(x):
    return x + 1


module_level = _profiler()(module_level)


def test_a_decorated_module_level_function_pickles_by_name():
    assert pickle.loads(pickle.dumps(module_level)) is module_level
    assert module_level(1) == 2


def test_a_subclass_redefining_enable_by_count_gets_its_methods_called():
    seen = []

    class Logged(LineProfiler):
        def enable_by_count(self):
            seen.append("on")
            super().enable_by_count()

        def disable_by_count(self):
            seen.append("off")
            super().disable_by_count()

    prof = Logged()
    fib = make_fib(prof)
    assert not isinstance(fib, _core.LineProfiledFunction)
    assert fib(4) == 3
    # nested by the recursion: every call enables, then disables
    calls = fib_calls(4)[0]
    assert seen.count("on") == seen.count("off") == calls and seen[0] == "on" and seen[-1] == "off"
    assert _lines(prof.get_stats(), fib)[2][0] == fib_calls(4)[0]


def test_threads_started_while_profiling_are_hooked_and_threading_is_put_back():
    def mine(frame, event, arg):
        return None

    threading.settrace(mine)
    try:
        prof = LineProfiler()
        fib = make_fib(prof)
        hooks = []

        @prof
        def spawn():
            hooks.append(threading._trace_hook)  # type: ignore[attr-defined]
            t = threading.Thread(target=fib, args=(6,))
            t.start()
            t.join()

        spawn()
        assert hooks == [_core.line_profiler_function]
        assert threading._trace_hook is mine  # type: ignore[attr-defined]
        assert _lines(prof.get_stats(), fib)[2][0] == fib_calls(6)[0]
    finally:
        threading.settrace(None)


def test_enables_before_a_reset_are_forgotten():
    left, other = LineProfiler(), LineProfiler()
    left.enable_by_count()
    assert left.enable_count == 1 and _core.line_profiler_state() == (1, True)
    _stop_for_finalize()  # as timemory.finalize() does
    assert left.enable_count == 0 and _core.line_profiler_state() == (0, False)
    other.enable_by_count()
    left.disable_by_count()  # its enable belonged to the session that the reset ended
    assert _core.line_profiler_state() == (1, True)
    other.disable_by_count()
    assert _core.line_profiler_state() == (0, False) and sys.gettrace() is None
