"""A user's own profile or trace function survives the profiler, the tracer and the line
profiler, whichever thread stops them and also when ``timemory.finalize()`` stops them.

Up to 3.11 all three replace the hook of the thread that starts them (``sys.setprofile`` /
``sys.settrace`` are per thread); on 3.12+ the profiler uses ``sys.monitoring`` and leaves
``sys.setprofile`` alone, which is checked too. Each replaced hook must come back on the
thread that had it: a stop from another thread used to leave the starting thread without its
hook (and ``finalize`` the ``threading`` module without the user's thread hook)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest
from timemory import _core


def user_hook(frame, event, arg):
    return None


def other_user_hook(frame, event, arg):
    return None


class Kind:
    """How to start, stop and read the hook of one of the three."""

    def __init__(self, name: str):
        self.name = name
        self.profile = name == "profiler"
        self.set_hook = sys.setprofile if self.profile else sys.settrace
        self.get_hook = sys.getprofile if self.profile else sys.gettrace

    def make(self):
        if self.name == "profiler":
            from timemory.profiler import Profiler

            p = Profiler(["wall_clock"])
            return p.start, p.stop
        if self.name == "tracer":
            from timemory.trace import Tracer

            t = Tracer(["wall_clock"])
            return t.start, t.stop
        from timemory.line_profiler import LineProfiler

        lp = LineProfiler()
        return lp.enable_by_count, lp.disable_by_count

    def running(self) -> bool:
        if self.name == "profiler":
            return bool(_core.profiler_active())
        if self.name == "tracer":
            return bool(_core.tracer_active())
        return bool(_core.line_profiler_state()[1])


KINDS = ["profiler", "tracer", "line_profiler"]


@pytest.fixture(params=KINDS)
def kind(request):
    k = Kind(request.param)
    assert k.get_hook() is None
    yield k
    k.set_hook(None)
    assert not k.running(), "a test left a session running"


def test_stop_from_another_thread_gives_this_thread_its_hook(kind):
    kind.set_hook(user_hook)
    start, stop = kind.make()
    start()
    if sys.version_info >= (3, 12) and kind.profile:
        # sys.monitoring: sys.setprofile is not touched at all
        assert _core.profiler_backend() == "monitoring"
        assert kind.get_hook() is user_hook
    seen: dict[str, object] = {}

    def stopper() -> None:
        stop()
        seen["stopper"] = kind.get_hook()

    t = threading.Thread(target=stopper)
    t.start()
    t.join()
    assert not kind.running()
    assert kind.get_hook() is user_hook
    assert seen["stopper"] is None  # the stopping thread did not get this thread's hook


def test_started_on_a_worker_stopped_here_gives_the_worker_its_hook(kind):
    start, stop = kind.make()
    started, stopped = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def worker() -> None:
        kind.set_hook(other_user_hook)
        try:
            start()
            started.set()
            assert stopped.wait(60)
            seen["worker"] = kind.get_hook()
        finally:
            kind.set_hook(None)

    t = threading.Thread(target=worker)
    t.start()
    assert started.wait(60)
    stop()
    stopped.set()
    t.join()
    assert seen["worker"] is other_user_hook
    assert kind.get_hook() is None


SCRIPT = """
import sys, threading, timemory

def user_hook(frame, event, arg):
    return None

def thread_hook(frame, event, arg):
    return None

KIND = {kind!r}
set_hook = sys.setprofile if KIND == "profiler" else sys.settrace
get_hook = sys.getprofile if KIND == "profiler" else sys.gettrace
set_thread_hook = threading.setprofile if KIND == "profiler" else threading.settrace
thread_hook_now = lambda: getattr(
    threading, "_profile_hook" if KIND == "profiler" else "_trace_hook", None
)
if KIND == "profiler":
    from timemory.profiler import Profiler
    p = Profiler(["wall_clock"]); start, stop = p.start, p.stop
elif KIND == "tracer":
    from timemory.trace import Tracer
    t = Tracer(["wall_clock"]); start, stop = t.start, t.stop
else:
    from timemory.line_profiler import LineProfiler
    lp = LineProfiler(); start, stop = lp.enable_by_count, lp.disable_by_count

set_thread_hook(thread_hook)
if {on_worker!r}:
    started, finalized, seen = threading.Event(), threading.Event(), {{}}

    def worker():
        set_hook(user_hook)
        start()
        started.set()
        finalized.wait(60)
        seen["hook"] = get_hook()
        set_hook(None)

    w = threading.Thread(target=worker)
    w.start()
    started.wait(60)
    timemory.finalize()
    finalized.set()
    w.join()
    print("own", seen["hook"] is user_hook, "here", get_hook() is None)
else:
    set_hook(user_hook)
    start()
    timemory.finalize()
    print("own", get_hook() is user_hook, "here", True)
print("threading", thread_hook_now() is thread_hook)
stop()  # after finalize: nothing left to stop
print("after stop", (get_hook() is user_hook) or {on_worker!r}, thread_hook_now() is thread_hook)
set_hook(None)
# the same object starts again (its count was not left at the start finalize cut short)
from timemory import _core
running = {{
    "profiler": _core.profiler_active,
    "tracer": _core.tracer_active,
    "line_profiler": lambda: _core.line_profiler_state()[1],
}}[KIND]
start()
print("restarted", bool(running()))
stop()
print("stopped", not running())
"""


@pytest.mark.parametrize("on_worker", [False, True], ids=["started here", "started on a worker"])
@pytest.mark.parametrize("name", KINDS)
def test_finalize_while_running_restores_the_hooks(tmp_path, name, on_worker):
    script = tmp_path / "hooks.py"
    script.write_text(textwrap.dedent(SCRIPT.format(kind=name, on_worker=on_worker)))
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, "TIMEMORY_AUTO_OUTPUT": "OFF"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    verdicts = ("own", "threading", "after", "restarted", "stopped")
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith(verdicts)]
    assert lines == [
        "own True here True",
        "threading True",
        "after stop True True",
        "restarted True",
        "stopped True",
    ], done.stdout
