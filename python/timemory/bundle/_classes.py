"""The bundle classes exported at the top level of ``timemory``
(``component_bundle``, ``component_tuple``, ``timer``, ``rss_usage``...).

They are built on the native marker and component objects; none of them is on
a per-call hot path of their own.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import _core
from .._components import resolve as _resolve
from .._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

    from ..component import _ComponentMeta


def resolve(components: Any) -> list[int]:
    """Enum indices of component names, enum values or classes (``component.resolve``)."""
    return _resolve(components)


def class_of(key: Any) -> _ComponentMeta:
    """``component.class_of``, imported on first use: the profiler configures its bundle
    class without ever needing a component class, so it does not import them."""
    from ..component import class_of as component_class_of

    return component_class_of(key)


__all__ = [
    "component_bundle",
    "component_tuple",
    "component_decorator",
    "timer",
    "timer_decorator",
    "rss_usage",
    "scope_destructor",
]

AUTO_TIMER_COMPONENTS = ("wall_clock", "cpu_clock", "cpu_util", "peak_rss")
RSS_USAGE_COMPONENTS = (
    "page_rss",
    "peak_rss",
    "num_minor_page_faults",
    "num_major_page_faults",
    "voluntary_context_switch",
    "priority_context_switch",
)


class component_bundle:
    """A runtime-configured set of components (the global bundle) keyed by
    ``"{func}@{file}:{line}"`` plus ``"/extra..."``. ``configure()`` selects the
    components for every bundle created afterwards (wall_clock when empty)."""

    _components: list[int] = []
    _flat: bool | None = None
    _timeline: bool | None = None

    def __init__(self, func: str, file: str, line: int, extra: Sequence[Any] = ()):
        key = f"{func}@{file}:{line}"
        if extra:
            key += "/" + "/".join(str(e) for e in extra)
        self.key = key
        comps = type(self)._components or [int(_core.find_component("wall_clock"))]
        self._marker = _core.marker(
            comps, key, mode="blank", flat=type(self)._flat, timeline=type(self)._timeline
        )
        self._running = False

    @classmethod
    def configure(
        cls,
        components: Sequence[Any] = (),
        flat_profile: bool = False,
        timeline_profile: bool = False,
    ) -> None:
        cls._components = resolve(list(components)) if components else []
        cls._flat = bool(flat_profile) or None
        cls._timeline = bool(timeline_profile) or None

    @classmethod
    def reset(cls) -> None:
        cls._components = []
        cls._flat = cls._timeline = None

    def start(self) -> component_bundle:
        if not self._running:
            self._marker.__enter__()
            self._running = True
        return self

    def stop(self) -> component_bundle:
        if self._running:
            self._marker.__exit__(None, None, None)
            self._running = False
        return self

    def __del__(self) -> None:
        self.stop()


class component_tuple:
    """Component objects with explicit ``push``/``pop`` into storage."""

    def __init__(self, components: Any = (), key: str = ""):
        if isinstance(components, str) and not isinstance(key, str):
            components, key = key, components
        self._key = key
        self._components = [class_of(i)(key) for i in resolve(components)]

    def _each(self, method: str) -> component_tuple:
        for c in self._components:
            getattr(c, method)()
        return self

    def push(self) -> component_tuple:
        return self._each("push")

    def pop(self) -> component_tuple:
        return self._each("pop")

    def start(self) -> component_tuple:
        return self._each("start")

    def stop(self) -> component_tuple:
        return self._each("stop")

    def reset(self) -> component_tuple:
        return self._each("reset")

    def report(self) -> None:
        echo(str(self))

    def get_raw(self) -> tuple[Any, ...]:
        return tuple(c.get_raw() for c in self._components)

    def get(self) -> dict[str, Any]:
        return {c.label(): c.get() for c in self._components}

    def __str__(self) -> str:
        body = ", ".join(str(c).strip() for c in self._components)
        return f"{self._key} : {body}" if self._key else body


class component_decorator:
    """Pushes and starts the components on construction; stops and pops them
    when destroyed (or on ``stop()``)."""

    def __init__(self, components: Any, key: str):
        self._marker = _core.marker(components, key, mode="blank")
        self._marker.__enter__()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._running = False
            self._marker.__exit__(None, None, None)

    def __del__(self) -> None:
        self.stop()


class timer(component_tuple):
    """Wall, system, user and CPU clocks, CPU utilisation and peak RSS,
    started and stopped together (not recorded unless pushed)."""

    def __init__(self, key: str = ""):
        super().__init__(["wall_clock", "sys_clock", "user_clock", *AUTO_TIMER_COMPONENTS[1:]], key)

    def _get(self, cls_name: str) -> float:
        for c in self._components:
            if type(c).__name__ == cls_name:
                return float(c.get())
        return 0.0

    def real_elapsed(self) -> float:
        return self._get("WallClock")

    def sys_elapsed(self) -> float:
        return self._get("SysClock")

    def user_elapsed(self) -> float:
        return self._get("UserClock")


class timer_decorator:
    """An auto timer: pushed and started now, stopped and popped when
    destroyed; prints itself then if ``report_at_exit``."""

    def __init__(self, key: str = "", report_at_exit: bool = False):
        self._marker = _core.marker(list(AUTO_TIMER_COMPONENTS), key, mode="blank")
        self._printer = timer(key) if report_at_exit else None
        self._marker.__enter__()
        if self._printer is not None:
            self._printer.start()
        self._running = True

    def stop(self) -> None:
        if self._running:
            self._running = False
            if self._printer is not None:
                self._printer.stop()
            self._marker.__exit__(None, None, None)
            if self._printer is not None:
                self._printer.report()

    def __del__(self) -> None:
        self.stop()


class rss_usage:
    """Snapshot of memory use, page faults and context switches.

    ``record()`` takes the snapshot (absolute readings); subtracting two
    snapshots gives the change between them.
    """

    def __init__(self, key: str = "", record: bool = False):
        self._key = key
        self._classes = [class_of(c) for c in RSS_USAGE_COMPONENTS]
        self._raw: list[float] = [0.0] * len(self._classes)
        if record:
            self.record()

    def record(self) -> rss_usage:
        self._raw = [float(cls.record()) for cls in self._classes]
        return self

    def get_raw(self) -> tuple[float, ...]:
        return tuple(self._raw)

    def get(self) -> dict[str, float]:
        return {cls.label(): raw / cls.unit() for cls, raw in zip(self._classes, self._raw)}

    def current(self, units: Any = None) -> float:
        return self.get()[self._classes[0].label()]

    def peak(self, units: Any = None) -> float:
        return self.get()[self._classes[1].label()]

    def _combined(self, other: rss_usage, sign: float) -> list[float]:
        return [a + sign * b for a, b in zip(self._raw, other._raw)]

    def __add__(self, other: rss_usage) -> rss_usage:
        out = rss_usage(self._key)
        out._raw = self._combined(other, 1.0)
        return out

    def __sub__(self, other: rss_usage) -> rss_usage:
        out = rss_usage(self._key)
        out._raw = self._combined(other, -1.0)
        return out

    def __iadd__(self, other: rss_usage) -> rss_usage:
        self._raw = self._combined(other, 1.0)
        return self

    def __isub__(self, other: rss_usage) -> rss_usage:
        self._raw = self._combined(other, -1.0)
        return self

    def __str__(self) -> str:
        def fmt(value: float, unit: str, label: str) -> str:
            # counts (no unit) are whole numbers; amounts get 3 decimals
            return f"{value:.3f} {unit} {label}" if unit else f"{value:.0f} {label}"

        body = ", ".join(
            fmt(value, cls.display_unit(), label)
            for (label, value), cls in zip(self.get().items(), self._classes)
        )
        return f"{self._key} : {body}" if self._key else body


class scope_destructor:
    """Calls ``func()`` when destroyed."""

    def __init__(self, func: Callable[[], Any] | None = None):
        self._func = func

    def __del__(self) -> None:
        if self._func is not None:
            func, self._func = self._func, None
            func()
