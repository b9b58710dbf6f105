"""The submitting call path follows a task: timemory._context (capture, enter, leave, Task)."""

from __future__ import annotations

import pickle
import threading

from timemory import _context, _core
from timemory.bundle import marker
from tool_helpers import tree_counts


def test_capture_is_none_when_nothing_is_open():
    assert _context.capture() is None
    assert _context.wrap(len) is len


def test_a_task_in_another_thread_lands_beneath_the_submitting_path():
    def step():
        with marker(["wall_clock"], key="step"):
            pass

    with marker(["wall_clock"], key="solve"):
        with marker(["wall_clock"], key="map"):
            task = _context.wrap(step)
            threads = [threading.Thread(target=task) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    # what the worker thread was doing before and after the task is untouched
    with marker(["wall_clock"], key="after"):
        pass
    counts = tree_counts()
    assert counts[("solve", "map", "step")] == 3
    assert counts[("solve",)] == 1 and counts[("solve", "map")] == 1
    assert ("step",) not in counts


def test_leave_restores_the_threads_own_position():
    with marker(["wall_clock"], key="outer"):
        ctx = _context.capture()
    with marker(["wall_clock"], key="mine"):
        token = _context.enter(ctx)
        with marker(["wall_clock"], key="task"):
            pass
        _context.leave(token)
        with marker(["wall_clock"], key="child"):
            pass
    counts = tree_counts()
    assert counts[("outer", "task")] == 1
    assert counts[("mine", "child")] == 1
    assert ("mine", "task") not in counts


def test_a_context_pickles_with_its_labels():
    with marker(["wall_clock"], key="a"):
        with marker(["wall_clock"], key="b"):
            ctx = _context.capture()
    assert ctx is not None
    back = pickle.loads(pickle.dumps(_context.Task(len, ctx)))
    assert back.context == ctx and back.fn is len and back([1, 2]) == 2
    labels = {h: label for h, label, _, _ in ctx.records()}
    assert sorted(labels.values()) == ["a", "b"]


def test_enter_rejects_an_unknown_component_index():
    import pytest

    with pytest.raises(ValueError, match="no component has index"):
        _core.context_enter([(10**6, (1,))])
