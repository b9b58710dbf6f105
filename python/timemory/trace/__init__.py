"""Line tracer: every line executed while tracing becomes an entry of the flat call graph,
measured with any set of components, so the slow lines of a function stand out.

    from timemory.trace import trace

    @trace(["wall_clock"])
    def work(): ...

    with trace(["wall_clock", "cpu_clock"]):
        work()

A line's label is its source text, then ``[func][file.py:NN]`` (see ``config``); the lines
of a traced function are listed from its first call on, with zero laps until they run.

The per-line work is native: a C callback installed with ``PyEval_SetTrace`` (on 3.12+ CPython
runs it through its ``sys.monitoring``-based legacy tracing) on this thread, on the threads
already running that have no tracer of their own (on 3.13 only when none has one) and, through
``threading.settrace``, on threads started while tracing. ``stop()``, from any thread, gives
each thread back the trace hook it had (``sys.gettrace()``; a debugger's or coverage's keeps
working). A traced function called from several threads at once runs one session, which ends
with the last call; a thread with a trace hook of its own is traced for its decorated calls.

One line is measured at a time per thread, the current line of the innermost traced function:
a call into another traced function pauses it until the call returns, so each moment is
charged to exactly one line and a function's lines add up to its time. Time spent in code that
is not traced (builtins, filtered functions) counts for the line that called it. (The
reference stopped the line at every call and return and lost that time; the hit counts are
the same.) A ``with trace():`` block also records the lines it runs of the function it is in.
``python -m timemory.trace`` traces a whole script (see ``__main__``).

The library trace API (``init``, ``push``, ``pop``, ``is_throttled``, ``finalize``) records
named regions and throttles, per thread, keys whose regions are too short to be worth
measuring; ``timemory.region`` is the same without throttling.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import Any, Callable

from timemory import _core, settings
from timemory._text import DEBUG, echo
from timemory.bundle._classes import component_bundle, resolve
from timemory.profiler import FakeProfiler, Profiler, _indices_from_setting
from timemory.profiler._config import format_args
from timemory.trace._config import Config, config

__all__ = [
    "Config",
    "FakeTracer",
    "TraceBundle",
    "Tracer",
    "config",
    "finalize",
    "init",
    "is_throttled",
    "notrace",
    "pop",
    "push",
    "trace",
    "tracer_finalize",
    "tracer_function",
    "tracer_init",
]

#: The hook as a Python callable (``sys.settrace(tracer_function)`` works: the thread
#: switches to the native callback on its first event).
tracer_function = _core.tracer_function


class TraceBundle(component_bundle):
    """The components the tracer records with (``trace_bundle``); always flat.

    ``Tracer.configure()`` sets them; instances are bundles keyed like
    ``component_bundle`` that measure the same components."""

    _components: list[int] = []
    _flat: bool | None = None
    _timeline: bool | None = None


def _setting_components(source: str) -> list[int]:
    """The components of ``settings.<source>``, else of ``settings.global_components``
    (unknown names warn and are left out)."""
    value = getattr(settings, source)
    if not value:
        source, value = "global_components", settings.global_components
    return _indices_from_setting(value, source) if value else []


class Tracer(Profiler):
    """Traces every line executed between ``start()`` and ``stop()``.

    The same as :class:`timemory.profiler.Profiler` (decorator, sync or async, context
    manager, ``run``/``runctx``/``runcall``, nesting, ``condition``), except that it records
    lines, always flat. Starts nest, also across threads: only the outermost start installs
    the hook and only the last stop removes it, restoring ``sys.gettrace()`` of each thread and
    ``threading.settrace`` exactly. A start on another thread while the session runs waits for
    it to be on and hooks that thread.
    """

    _conditional_functor: Callable[[], Any] = staticmethod(lambda: True)

    def __init__(self, components: Any = None, **kwargs: Any):
        # no flat or timeline arguments: a line trace is flat
        super().__init__(components, debug=kwargs.get("debug", False))
        self._session = 0  # the session this tracer started
        self._threads = threading.local()

    @staticmethod
    def condition(functor: Callable[[], Any]) -> None:
        """Only start tracing while ``functor()`` is true (checked at each start)."""
        Tracer._conditional_functor = staticmethod(functor)

    @staticmethod
    def is_enabled() -> bool:
        try:
            return bool(Tracer._conditional_functor())
        except Exception:
            return False

    def configure(self) -> list[int]:
        """Resolve the components: the arguments, then ``settings.trace_components`` or
        else ``settings.global_components``; wall_clock if none."""
        indices = self._indices + _setting_components("trace_components")
        indices = list(dict.fromkeys(indices)) or resolve(["wall_clock"])
        TraceBundle.configure(indices, True, False)
        return indices

    def start(self) -> Tracer:
        # Under a lock: a decorated function called from several threads at once starts
        # the same tracer on each, and no call may run before the session is on and its
        # own thread hooked (the count and the session change together).
        with _session_lock:
            if self._active and (self._session != _session[0] or not _core.tracer_active()):
                self._unset, self._active = 0, False  # its session was ended (finalize)
            self._unset += 1
            if self._unset > 1 or _core.tracer_active() or not self.is_enabled():
                self._joined().append((_session[0], _core.tracer_attach()))
                return self
            indices = self.configure()
            _session[0] += 1
            _session[1] = getattr(threading, "_trace_hook", None)
            _core.tracer_start(
                indices,
                Config.labeler(),
                format_args if Config._state["include_args"] else None,
            )
            self._active = True
            self._session = _session[0]
            # assigned as threading.settrace() does: calling it would trace its line as the
            # first line of every session
            threading._trace_hook = tracer_function  # type: ignore[attr-defined]
            self._joined().append((_session[0], False))
        _stop_at_exit()
        if self._debug or Config._state["verbosity"] > 1:
            names = [_core.component_info(i)["id"] for i in indices]
            echo(f"[timemory]> tracer started: {names}")
        return self

    def stop(self) -> Tracer:
        with _session_lock:
            joined = self._joined()
            if joined:
                session, attached = joined.pop()
                if attached and session == _session[0]:
                    _core.tracer_detach()  # this thread's own hook, while others still trace
            if self._unset > 0:
                self._unset -= 1
            if self._unset != 0 or not self._active:
                return self
            self._active = False
            if self._session != _session[0] or not _core.tracer_active():
                return self  # ended already (timemory.finalize(), say): not another one
            _stop_session()
        if self._debug or Config._state["verbosity"] > 1:
            echo("[timemory]> tracer stopped")
        return self

    def _joined(self) -> list[tuple[int, bool]]:
        """This thread's starts of this tracer not stopped yet: (session, whether the start
        replaced the thread's own hook)."""
        stack: list[tuple[int, bool]] | None = getattr(self._threads, "stack", None)
        if stack is None:
            stack = self._threads.stack = []
        return stack

    def __call__(self, func: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Decorate ``func``; given a component list instead (``@trace([...])`` under the
        command line, where ``trace`` is an instance), return a new tracer."""
        if func is None or isinstance(func, (str, list, tuple)) or args or kwargs:
            return Tracer(func, *args, **kwargs)
        return super().__call__(func)


trace = Tracer


class FakeTracer(FakeProfiler):
    """Accepts whatever Tracer accepts and does nothing: ``@notrace`` marks code to leave
    alone, and lets a script keep its decorators when not traced."""

    def __call__(self, func: Any = None, *args: Any, **kwargs: Any) -> Any:
        if func is None or isinstance(func, (str, list, tuple)) or args or kwargs:
            return FakeTracer()
        return func


notrace = FakeTracer


def tracer_init() -> None:
    """Forget cached line labels (the reference's per-run reset)."""
    _core.tracer_invalidate()


def tracer_finalize() -> None:
    """Stop tracing now (open lines are recorded up to this point)."""
    _stop_for_finalize()


#: Serialises the starts and stops of every tracer: (number of the session last started,
#: the ``threading.settrace`` hook it replaced).
_session_lock = threading.RLock()
_session: list[Any] = [0, None]


def _stop_session() -> None:
    """End the running session: every thread gets back the hook it replaced (the native
    side does that for each thread, whichever thread stops), and ``threading`` its hook."""
    _core.tracer_stop()
    if getattr(threading, "_trace_hook", None) is tracer_function:
        threading.settrace(_session[1])
    _session[1] = None


def _stop_for_finalize() -> None:
    """Close the session before storage is written. Imports nothing (it may run at
    interpreter exit)."""
    with _session_lock:
        if _core.tracer_active():
            _stop_session()
        if getattr(threading, "_trace_hook", None) is tracer_function:
            threading.settrace(None)
        if sys.gettrace() is tracer_function:
            sys.settrace(None)


_exit_hook: list[bool] = []


def _stop_at_exit() -> None:
    # Registered after timemory's own finalize, so it runs first: a tracer still running at
    # exit records its open lines before the output is written.
    if not _exit_hook:
        _exit_hook.append(True)
        atexit.register(_stop_for_finalize)


# ---------------------------------------------------------------------- library trace API
#: ``push(key)``: start a region named ``key`` (a str, or the int hash of one registered with
#: ``timemory.get_hash``) on this thread; regions nest as in tree mode. Ignored while the key
#: is throttled on this thread.
push = _core.trace_push
#: ``pop(key)``: stop the newest region of ``key`` on this thread. Every
#: ``settings.throttle_count`` pops, a key whose regions averaged less than
#: ``settings.throttle_value`` ns is throttled on this thread.
pop = _core.trace_pop
#: ``is_throttled(key) -> bool``: whether ``key`` is throttled on this thread.
is_throttled = _core.trace_is_throttled


def _library_settings() -> tuple[list[int], int, int]:
    """What the native push/pop measure and their throttle limits; asked again for every
    key new on a thread and after every throttle decision."""
    indices = _setting_components("trace_components") or resolve(["wall_clock"])
    return indices, int(settings.throttle_count), int(settings.throttle_value)


_core.trace_library_configure(_library_settings)
_library = {"initialized": False}


def init(args: Any = "wall_clock", read_command_line: bool = False, cmd: str = "") -> None:
    """Set up the library trace API once: ``args`` (names, comma-separated or a list) become
    ``TIMEMORY_TRACE_COMPONENTS`` unless set, and ``settings.trace_components`` unless set;
    the output folder is named after ``cmd`` (the program, ``sys.argv[0]`` with
    ``read_command_line``) while it has its default name; ``finalize`` runs at exit."""
    if _library["initialized"]:
        return
    names = args if isinstance(args, str) else ",".join(str(a) for a in args)
    resolve(names)  # ValueError naming the valid choices
    echo(f"[timemory_trace_init]> components: {names}", level=DEBUG)
    _library["initialized"] = True
    os.environ.setdefault("TIMEMORY_TRACE_COMPONENTS", names)
    if not settings.trace_components:
        settings.trace_components = names
    settings.parse()
    if read_command_line and not cmd and sys.argv:
        cmd = sys.argv[0]
    if cmd and settings.output_path == "timemory-output":
        from timemory._lifecycle import initialize

        initialize([cmd])
    atexit.register(finalize)


def finalize() -> None:
    """Shut the library trace API down: the regions still running on every thread are
    stopped (and recorded), throttling is forgotten, and ``init`` may run again."""
    _core.trace_library_reset()
    if _library["initialized"]:
        _library["initialized"] = False
        atexit.unregister(finalize)
