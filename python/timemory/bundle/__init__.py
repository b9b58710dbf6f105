"""Markers and bundles: measure blocks and functions into the call-graph storage.

``marker`` is native (a CPython type): ``with marker(["wall_clock"], key="k"):``
and ``@marker(["wall_clock", "peak_rss"])`` push every listed component under a
label, measure, and record into the per-thread call graph.

Label modes (``mode=``): ``"blank"`` → ``key``; ``"basic"`` → ``func/key``;
``"full"`` → ``func@file:line/key``; ``"defer"`` (default) → basic as a
decorator, blank as a context manager (basic when the key is empty, so a
label is never empty). ``add_args=True`` appends the call arguments.
"""

from __future__ import annotations

import enum
import functools
import os
import sys
from collections.abc import Iterable

from .. import _core
from .._text import echo
from ._classes import AUTO_TIMER_COMPONENTS, RSS_USAGE_COMPONENTS, class_of

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable, Literal

__all__ = [
    "marker",
    "auto_tuple",
    "base_decorator",
    "auto_timer",
    "timer",
    "rss_usage",
    "context",
    "component_bundle",
    "component_tuple",
    "component_decorator",
    "timer_decorator",
    "scope_destructor",
    "AUTO_TIMER_COMPONENTS",
    "RSS_USAGE_COMPONENTS",
]

marker = _core.marker
auto_tuple = marker


class context(enum.IntEnum):
    """Label modes of the decorators."""

    blank = 0
    basic = 1
    full = 2
    defer = 3


def _format_call_args(func_or_frame: Any, args: tuple | None, kwargs: dict | None) -> str:
    """The ``(a=1, b=2)`` part of a label when ``add_args=True``.

    Called by the native marker with a frame (context manager) or with the
    function and its call arguments (decorator).
    """
    import inspect  # add_args only: inspect is a large import

    if inspect.isframe(func_or_frame):
        return inspect.formatargvalues(*inspect.getargvalues(func_or_frame))
    args = args or ()
    kwargs = kwargs or {}
    try:
        bound = inspect.signature(func_or_frame).bind(*args, **kwargs)
        parts = [f"{k}={v!r}" for k, v in bound.arguments.items()]
    except (TypeError, ValueError):
        parts = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return "(" + ", ".join(parts) + ")"


# The native marker calls it for the labels of add_args markers: handed to the native side
# here, at import, rather than imported by name from C++, so the core never reaches up into
# the package. Every public way to a marker goes through this module.
_core._set_callbacks(format_call_args=_format_call_args)


def _mode_name(mode: Any) -> str:
    if isinstance(mode, int):
        return context(int(mode)).name
    return str(mode) if mode in ("blank", "basic", "full", "defer") else "defer"


class _Measured:
    """Component objects started and stopped together (not recorded)."""

    def __init__(self, components: Iterable[str], key: str) -> None:
        self._components = [class_of(c)(key) for c in components]

    def start(self) -> None:
        for c in self._components:
            c.start()

    def stop(self) -> None:
        for c in reversed(self._components):
            c.stop()

    def __str__(self) -> str:
        return ", ".join(str(c).strip() for c in self._components)


class base_decorator:
    """Common base of the Python decorators: label construction and the
    decorator / context-manager protocol. Subclasses implement ``_start`` and
    ``_stop`` (called with the composed label)."""

    def __init__(
        self, key: str = "", add_args: bool = False, is_class: bool = False, mode: str = "defer"
    ):
        self.key = key
        self.add_args = add_args
        self.is_class = is_class
        self.mode = _mode_name(mode)
        self._active: list[Any] = []

    def _label(self, func: str, file: str, line: int, args: str, decorator: bool) -> str:
        mode = self.mode
        if mode == "defer":
            mode = "basic" if decorator or not self.key else "blank"
        if mode == "blank":
            label = f"{self.key}{args}"
        elif mode == "basic":
            label = f"{func}{args}/{self.key}"
        else:
            label = f"{func}{args}@{file}:{line}/{self.key}"
        return label.strip("/")

    def _start(self, label: str) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _stop(self, state: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, func: Callable) -> Callable:
        code = getattr(func, "__code__", None)
        file = os.path.basename(code.co_filename) if code else "<unknown>"
        line = code.co_firstlineno if code else 0
        name = getattr(func, "__qualname__", getattr(func, "__name__", "<callable>"))
        name = name.replace("<locals>.", "")  # as the native marker: "outer.inner"

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            extra = _format_call_args(func, args, kwargs) if self.add_args else ""
            state = self._start(self._label(name, file, line, extra, True))
            try:
                return func(*args, **kwargs)
            finally:
                self._stop(state)

        return wrapper

    def __enter__(self) -> base_decorator:
        frame = sys._getframe(1)
        code = frame.f_code
        extra = _format_call_args(frame, None, None) if self.add_args else ""
        label = self._label(
            code.co_name, os.path.basename(code.co_filename), frame.f_lineno, extra, False
        )
        self._active.append(self._start(label))
        return self

    def __exit__(self, *exc: Any) -> Literal[False]:
        if self._active:
            self._stop(self._active.pop())
        return False


class auto_timer(base_decorator):
    """Records wall clock, CPU clock, CPU utilisation and peak RSS into the
    call graph; with ``report_at_exit`` also prints the measurement."""

    def __init__(
        self,
        key: str = "",
        add_args: bool = False,
        is_class: bool = False,
        report_at_exit: bool = False,
        mode: str = "defer",
    ):
        super().__init__(key, add_args, is_class, mode)
        self.report_at_exit = report_at_exit

    def _start(self, label: str) -> Any:
        m = marker(AUTO_TIMER_COMPONENTS, label, mode="blank")
        m.__enter__()
        printer = None
        if self.report_at_exit:
            printer = _Measured(AUTO_TIMER_COMPONENTS, label)
            printer.start()
        return (label, m, printer)

    def _stop(self, state: Any) -> None:
        label, m, printer = state
        if printer is not None:
            printer.stop()
        m.__exit__(None, None, None)
        if printer is not None:
            echo(f"[{label}] {printer}")


class timer(base_decorator):
    """Measures wall clock, CPU clock, CPU utilisation and peak RSS and prints
    them when the block or call ends (nothing is recorded into storage)."""

    def _start(self, label: str) -> Any:
        t = _Measured(AUTO_TIMER_COMPONENTS, label)
        t.start()
        return (label, t)

    def _stop(self, state: Any) -> None:
        label, t = state
        t.stop()
        echo(f"[{label}] {t}")


class rss_usage(base_decorator):
    """Prints the change in memory use, page faults and context switches over
    the block or call."""

    def _start(self, label: str) -> Any:
        return (label, _classes.rss_usage(label, record=True))

    def _stop(self, state: Any) -> None:
        label, before = state
        after = _classes.rss_usage(label, record=True)
        echo(f"{after - before}")


from . import _classes  # noqa: E402  (they build on the names above)
from ._classes import (  # noqa: E402  (they build on the names above)
    component_bundle,
    component_decorator,
    component_tuple,
    scope_destructor,
    timer_decorator,
)
