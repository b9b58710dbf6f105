"""Function profiler: every Python function call (and C call with ``config.trace_c``)
becomes a node of the call graph, measured with any set of components.

    from timemory.profiler import profile

    @profile(["wall_clock", "peak_rss"])
    def main(): ...

    with profile(["wall_clock"]):
        work()

The per-call work is native, installed the way cProfile installs its own: on Python 3.12+
``sys.monitoring`` callbacks (C functions) for every thread, without touching
``sys.getprofile()``; up to 3.11 a C callback installed with ``PyEval_SetProfile`` on this
thread, on threads already running and, through ``threading.setprofile``, on threads started
while profiling. ``python -m timemory.profiler`` profiles a whole script (see ``__main__``).
"""

from __future__ import annotations

import functools
import sys
import threading
import warnings

from timemory import _core, settings
from timemory._text import echo, split_names
from timemory.bundle._classes import component_bundle, resolve
from timemory.profiler._config import Config, config, format_args

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

__all__ = [
    "Config",
    "FakeProfiler",
    "Profiler",
    "ProfilerBundle",
    "config",
    "noprofile",
    "profile",
    "profiler_finalize",
    "profiler_function",
    "profiler_init",
]

#: The hook as a Python callable (``sys.setprofile(profiler_function)`` works: the
#: thread switches to the native callback on its first event).
profiler_function = _core.profiler_function

_CO_COROUTINE = 0x0080  # inspect.CO_COROUTINE, without importing inspect


class ProfilerBundle(component_bundle):
    """The components and scope the profiler records with (``profiler_bundle``).

    ``Profiler.configure()`` sets them; instances are bundles keyed like
    ``component_bundle`` that measure the same components."""

    _components: list[int] = []
    _flat: bool | None = None
    _timeline: bool | None = None


def _indices_from_setting(value: str, source: str) -> list[int]:
    """The components named in a setting, each name resolved once; unknown names warn and
    are left out."""
    names = split_names(value)
    indices = []
    for name in names:
        index = _core.find_component(name)
        if index < 0:
            warnings.warn(
                f"ignoring unknown component {name!r} in settings.{source}",
                settings.TimemoryWarning,
                stacklevel=4,
            )
        else:
            indices.append(index)
    return indices


def _user_resolver(items: list[Any]) -> None:
    """Makes 'module:Class' names resolvable: the native resolver imports them through
    timemory.component, which hands it the callback when imported (only then: it is not
    needed by built-in names)."""
    if any(isinstance(item, str) and ":" in item for item in items):
        import timemory.component  # noqa: F401


def _expand(components: Any) -> list[Any]:
    """The reference's component spec: a str, a list of str / callables (a callable's
    result is spliced in), or a function returning the list."""
    if components is None:
        return []
    if isinstance(components, str):
        return [components]
    if callable(components) and not isinstance(components, type):
        return _expand(components())
    out: list[Any] = []
    for item in components:
        if callable(item) and not isinstance(item, type):
            result = item()
            out.extend(_expand(result) if not isinstance(result, (str, int)) else [result])
        else:
            out.append(item)
    return out


class Profiler:
    """Profiles every function call between ``start()`` and ``stop()``.

    Usable as a decorator (``@profile`` / ``@profile([...])``), a context manager, or
    through ``run``/``runctx``/``runcall``. Starts nest: only the outermost start installs
    the hook and only the matching stop removes it, restoring ``sys.getprofile()`` exactly.
    ``all_threads=False`` leaves the threads already running at start alone (the starting
    thread and threads started later are profiled); with ``sys.monitoring`` (3.12+) every
    thread is seen either way.
    """

    _conditional_functor: Callable[[], Any] = staticmethod(lambda: True)

    def __init__(
        self, components: Any = None, flat: bool = False, timeline: bool = False, **kwargs: Any
    ):
        # a 'module:Class' keeps its case (the module and class names are case-sensitive)
        self._input = [
            c if not isinstance(c, str) or ":" in c else c.lower() for c in _expand(components)
        ]
        _user_resolver(self._input)
        # resolved once, now (ValueError naming the valid choices here rather than at start)
        self._indices = resolve(self._input)
        self._flat = bool(flat)
        self._timeline = bool(timeline)
        self._debug = bool(kwargs.get("debug", False))
        # False: the threads already running when the profiler starts are left alone (their
        # hooks are not replaced); the starting thread and the threads started afterwards
        # are profiled. With sys.monitoring (3.12+) every thread is seen either way.
        self._all_threads = bool(kwargs.get("all_threads", True))
        self._unset = 0
        self._active = False
        self._session = 0  # the session this profiler started

    # ------------------------------------------------------------------ gate
    @staticmethod
    def condition(functor: Callable[[], Any]) -> None:
        """Only start profiling while ``functor()`` is true (checked at each start)."""
        Profiler._conditional_functor = staticmethod(functor)

    @staticmethod
    def is_enabled() -> bool:
        try:
            return bool(Profiler._conditional_functor())
        except Exception:
            return False

    # ------------------------------------------------------------------ lifecycle
    def configure(self) -> list[int]:
        """Resolve the components (arguments, then ``settings.profiler_components`` or
        else ``settings.global_components``; wall_clock if none) and the scope."""
        extra = settings.profiler_components or settings.global_components
        source = "profiler_components" if settings.profiler_components else "global_components"
        indices = self._indices + (_indices_from_setting(extra, source) if extra else [])
        indices = list(dict.fromkeys(indices))
        if not indices:
            indices = resolve(["wall_clock"])
        flat = bool(settings.flat_profile) or self._flat
        timeline = bool(settings.timeline_profile) or self._timeline
        ProfilerBundle.configure(indices, flat, timeline)
        return indices

    def start(self) -> Profiler:
        # Under a lock: a decorated function called from several threads at once starts the
        # same profiler on each, and no call may run before the session is on.
        with _session_lock:
            if self._start_locked():
                return self
        if self._debug or Config._state["verbosity"] > 1:
            names = [_core.component_info(i)["id"] for i in ProfilerBundle._components]
            echo(f"[timemory]> profiler started: {names}")
        return self

    def _start_locked(self) -> bool:
        """Count this start; True when it did not start a session."""
        if self._active and (self._session != _session[0] or not _core.profiler_active()):
            self._unset, self._active = 0, False  # its session was ended (finalize)
        self._unset += 1
        if self._unset > 1 or _core.profiler_active() or not self.is_enabled():
            return True
        indices = self.configure()
        # read before the hook is installed: with trace_c, builtins called after it are recorded
        _session[0] += 1
        _session[1] = getattr(threading, "_profile_hook", None)
        _core.profiler_start(
            indices,
            Config.labeler(),
            format_args if Config._state["include_args"] else None,
            flat=bool(ProfilerBundle._flat),
            timeline=bool(ProfilerBundle._timeline),
            max_depth=int(Config._state["max_stack_depth"]),
            trace_c=bool(Config._state["trace_c"]),
            all_threads=self._all_threads,
        )
        self._active = True
        self._session = _session[0]
        if _core.profiler_backend() == "setprofile":
            # threads started from now on; sys.monitoring (3.12+) covers every thread itself.
            # Assigned as threading.setprofile() does: calling it would record that call as
            # the first function of every session.
            threading._profile_hook = profiler_function
        return False

    def stop(self) -> Profiler:
        with _session_lock:
            if self._unset > 0:
                self._unset -= 1
            if self._unset != 0 or not self._active:
                return self
            self._active = False
            if self._session != _session[0] or not _core.profiler_active():
                return self  # ended already (timemory.finalize(), say): not another one
            _stop_session()
        if self._debug or Config._state["verbosity"] > 1:
            echo("[timemory]> profiler stopped")
        return self

    def is_running(self) -> bool:
        return self._active

    # ------------------------------------------------------------------ usage forms
    def __call__(self, func: Any = None, *args: Any, **kwargs: Any) -> Any:
        """Decorate ``func``. Given a component list instead (``@profile([...])`` written
        for the import form, run under the command line where ``profile`` is an instance),
        return a new profiler with those components."""
        if func is None or isinstance(func, (str, list, tuple)) or args or kwargs:
            return Profiler(func, *args, **kwargs)
        if self._active:
            # decorated while this profiler already records everything (the command line
            # without -b): a wrapper would only add a Python call to every call
            return func
        # co_flags rather than inspect.iscoroutinefunction(): decorating while profiling
        # must not record inspect's helpers
        if getattr(getattr(func, "__code__", None), "co_flags", 0) & _CO_COROUTINE:

            @functools.wraps(func)
            async def async_wrapper(*a: Any, **kw: Any) -> Any:
                self.start()
                try:
                    return await func(*a, **kw)
                finally:
                    self.stop()

            return async_wrapper

        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            self.start()
            try:
                return func(*a, **kw)
            finally:
                self.stop()

        return wrapper

    def __enter__(self) -> Profiler:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def run(self, cmd: str) -> Profiler:
        import __main__

        namespace = __main__.__dict__
        return self.runctx(cmd, namespace, namespace)

    def runctx(self, cmd: Any, globals: dict | None, locals: Any) -> Profiler:
        self.start()
        try:
            exec(cmd, globals, locals)
        finally:
            self.stop()
        return self

    def runcall(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.start()
        try:
            return func(*args, **kwargs)
        finally:
            self.stop()

    def __del__(self) -> None:
        if getattr(self, "_active", False):
            self._unset = 1
            self.stop()


profile = Profiler


class FakeProfiler:
    """Accepts whatever Profiler accepts and does nothing: ``@noprofile`` marks code
    to leave alone, and lets a script keep its decorators when not profiled."""

    def __init__(self, *args: Any, **kwargs: Any):
        pass

    @staticmethod
    def condition(functor: Callable[[], Any]) -> None:
        pass

    @staticmethod
    def is_enabled() -> bool:
        return False

    def configure(self) -> list[int]:
        return []

    def start(self) -> FakeProfiler:
        return self

    def stop(self) -> FakeProfiler:
        return self

    def is_running(self) -> bool:
        return False

    def __call__(self, func: Any = None, *args: Any, **kwargs: Any) -> Any:
        if func is None or isinstance(func, (str, list, tuple)) or args or kwargs:
            return FakeProfiler()
        return func

    def __enter__(self) -> FakeProfiler:
        return self

    def __exit__(self, *exc: Any) -> None:
        pass

    def run(self, cmd: str) -> FakeProfiler:
        import __main__

        exec(cmd, __main__.__dict__, __main__.__dict__)
        return self

    def runctx(self, cmd: Any, globals: dict | None, locals: Any) -> FakeProfiler:
        exec(cmd, globals, locals)
        return self

    def runcall(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)


noprofile = FakeProfiler


def profiler_init() -> None:
    """Forget cached labels (the reference's per-run reset)."""
    _core.profiler_invalidate()


def profiler_finalize() -> None:
    """Stop profiling now (open frames are recorded up to this point)."""
    _stop_for_finalize()


#: Serialises the starts and stops of every profiler: (number of the session last started,
#: the ``threading.setprofile`` hook it replaced).
_session_lock = threading.RLock()
_session: list[Any] = [0, None]


def _stop_session() -> None:
    """End the running session: the thread that started it gets its own hook back (the
    native side does that, whichever thread stops), and ``threading`` its hook."""
    _core.profiler_stop()
    if getattr(threading, "_profile_hook", None) is profiler_function:
        threading.setprofile(_session[1])
    _session[1] = None


def _stop_for_finalize() -> None:
    """Called by ``timemory.finalize()``: close the session before storage is written.
    Imports nothing (it may run at interpreter exit)."""
    with _session_lock:
        if _core.profiler_active():
            _stop_session()
        if getattr(threading, "_profile_hook", None) is profiler_function:
            threading.setprofile(None)
        if sys.getprofile() is profiler_function:
            sys.setprofile(None)
