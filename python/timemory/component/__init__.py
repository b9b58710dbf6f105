"""One class per measurement component (``WallClock``, ``PeakRss``, ...).

Every class wraps one native component: ``start()``/``stop()`` measure,
``get()`` returns the accumulated value in display units, ``push()``/``pop()``
record into the call-graph storage. Components that need vendor libraries
exist with ``available == False`` and no-op methods.
"""

from __future__ import annotations

from .. import _core
from .._components import add_measurable as _add_measurable
from .._components import resolve as _resolve

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

__all__ = [
    "Component",
    "id",
    "is_available",
    "get_generator",
    "get_types",
    "get_available_types",
    "resolve",
]

Component = _core.Component
_print_repr_in_interactive = False

_TABLE: list[dict[str, Any]] = _core.component_table()
_BY_INDEX: dict[int, dict[str, Any]] = {info["index"]: info for info in _TABLE}

_BY_CLASS_NAME: dict[str, int] = {info["class_name"]: info["index"] for info in _TABLE}
_BY_KEY: dict[str, int] = {info["key"]: info["index"] for info in _TABLE}
_ID: Any = None


def _id_enum() -> Any:
    """The int-like enum whose names are the built-in components' JSON keys
    (``id.wall_clock == 78``), made on first use: an enum of every component costs more to
    build than most programs use."""
    global _ID
    if _ID is None:
        import enum

        _ID = enum.IntEnum(  # type: ignore[misc]  # the member names come from the native table
            "id",
            [(info["key"], info["index"]) for info in _TABLE if not info.get("user")],
            module=__name__,
        )
    return _ID


class _ComponentMeta(type):
    """Gives the component classes read-only class properties."""

    if TYPE_CHECKING:
        # What each class gets in its namespace from _make_class, declared for the type
        # checker only: as methods, not annotations, since class annotations on a metaclass
        # would become every component class's __annotations__.
        @property
        def _index(cls) -> int: ...
        @property
        def _info(cls) -> dict[str, Any]: ...
        def label(cls) -> str: ...
        def description(cls) -> str: ...
        def id(cls) -> str: ...
        def index(cls) -> Any: ...
        def unit(cls) -> Any: ...
        def display_unit(cls) -> Any: ...
        def record(cls) -> Any: ...

    @property
    def available(cls) -> bool:
        return bool(cls._info["available"])

    @property
    def has_value(cls) -> bool:
        return bool(cls._info["has_value"] and cls._info["available"])


def _scalar_or_tuple(values: list) -> Any:
    return values[0] if len(values) == 1 else tuple(values)


def _whole(x: float) -> int | float:
    return int(x) if float(x).is_integer() else x


def _make_class(info: dict[str, Any]) -> _ComponentMeta:
    index = info["index"]

    def unit() -> Any:
        divisors, _ = _core.unit_info(index)
        return _scalar_or_tuple([_whole(d) for d in divisors])

    def display_unit() -> Any:
        _, reprs = _core.unit_info(index)
        return _scalar_or_tuple(reprs)

    def record() -> Any:
        raw = _core.record(index)
        if info["integral_raw"]:
            raw = [int(x) for x in raw]
        return _scalar_or_tuple(raw)

    doc = (
        f"{info['description']}\n\n"
        f"label: {info['label']!r}, id: {info['id']!r}, aliases: {info['aliases']}, "
        f"enum: {info['enum_name']}"
    )
    namespace = {
        "__slots__": (),
        "__doc__": doc,
        "__module__": __name__,
        "_index": index,
        "_info": info,
        "available": property(lambda self: bool(info["available"]), doc="component is usable here"),
        "has_value": property(
            lambda self: bool(info["has_value"] and info["available"]),
            doc="component holds a value",
        ),
        "label": staticmethod(lambda: info["label"]),
        "description": staticmethod(lambda: info["description"]),
        "id": staticmethod(lambda: info["id"]),
        "index": staticmethod(lambda: _id_enum()(index)),
        "unit": staticmethod(unit),
        "display_unit": staticmethod(display_unit),
        "record": staticmethod(record),
        "configure": staticmethod(lambda *args, **kwargs: None),
        "global_init": staticmethod(lambda: None),
        "thread_init": staticmethod(lambda: None),
        "global_finalize": staticmethod(lambda: None),
        "thread_finalize": staticmethod(lambda: None),
    }
    cls = _ComponentMeta(info["class_name"], (Component,), namespace)
    _core._register_component_class(index, cls)
    return cls


# The classes are made on first use too (module __getattr__, class_of, or the native side
# asking for the class of a component it returns): a hundred classes with their closures are
# most of this module's memory, and a program typically touches two or three.
_CLASSES: dict[int, _ComponentMeta] = {}


def _class_for(index: int) -> _ComponentMeta:
    cls = _CLASSES.get(index)
    if cls is None:
        cls = _CLASSES[index] = _make_class(_BY_INDEX[index])
    return cls


# The native side makes component objects for stored values (a storage result's data()) and
# asks this for their class, rather than importing this module by name; without it (this
# module not imported yet) they are of the base class, Component.
_core._set_callbacks(component_class=_class_for)


def _add_user_info(info: dict[str, Any]) -> None:
    """A Python-defined component was registered (timemory.component.register): its row of
    the native table joins this module's, so the storage hands out its values like any."""
    index = info["index"]
    _TABLE[:] = [i for i in _TABLE if i["index"] != index] + [info]
    _BY_INDEX[index] = info
    _CLASSES.pop(index, None)
    _add_measurable(index)  # the outputs and storage views take it from now on


from ._user import Base, register, registered  # noqa: E402  (needs the tables above)
from ._user import _resolve as _resolve_user  # noqa: E402

_core._set_callbacks(user_component=_resolve_user)
__all__ += ["Base", "register", "registered"]

__all__ += [info["class_name"] for info in _TABLE]


# Our name for PapiVector: it counts perf_event_open events, no PAPI involved.
_CLASS_ALIASES = {"PerfEvent": "PapiVector"}


def __getattr__(name: str) -> Any:
    if name in _BY_CLASS_NAME:
        return _class_for(_BY_CLASS_NAME[name])
    if name in _CLASS_ALIASES:
        return _class_for(_BY_CLASS_NAME[_CLASS_ALIASES[name]])
    if name == "id":
        return _id_enum()
    if name in _BY_KEY:  # timemory.component.wall_clock is the enum value
        return _id_enum()(_BY_KEY[name])
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(
        set(globals()) | set(_BY_CLASS_NAME) | set(_BY_KEY) | set(_CLASS_ALIASES) | {"id"}
    )


def resolve(components: Any) -> list[int]:
    """Enum indices for a name, enum value, class, callable or a list of those.

    Raises ValueError naming the valid choices for an unknown name.
    """
    return _resolve(components)


def _index_of(key: str | int | type) -> int:
    indices = resolve(key)
    if len(indices) != 1:
        raise ValueError(f"expected one component, got {key!r}")
    return indices[0]


def class_of(key: str | int | type) -> _ComponentMeta:
    """The component class for a name, enum value or class."""
    return _class_for(_index_of(key))


def is_available(key: str | int | type) -> bool:
    """True if the component can measure on this machine (ValueError if unknown)."""
    return bool(_BY_INDEX[_index_of(key)]["available"])


_GENERATOR_NAMES: dict[str, int] = {}
for _info in _TABLE:
    for _name in [_info["class_name"], _info["id"], *_info["aliases"]]:
        _GENERATOR_NAMES.setdefault(_name, _info["index"])
del _info, _name


def get_generator(key: str | int) -> Callable[[], Component | None]:
    """A zero-argument factory for new component objects.

    ``key`` is a class name, primary id or alias (exact, case-sensitive), or an
    enum value. For an unknown or unavailable component the factory returns None.
    """
    if isinstance(key, str):
        index = _GENERATOR_NAMES.get(key)
    else:
        index = int(key) if int(key) in _BY_INDEX else None
    if index is None or not _BY_INDEX[index]["available"]:
        return lambda: None
    cls = _class_for(index)
    return lambda: cls()


def get_types() -> list[str]:
    """Class names of every built-in component (a Python-defined one is its own class)."""
    return [info["class_name"] for info in _TABLE if not info.get("user")]


def get_available_types(arithmetic: bool = False) -> list[str]:
    """Class names of the available components; ``arithmetic`` keeps the scalar-valued ones."""
    return [
        info["class_name"]
        for info in _TABLE
        if info["available"]
        and not info.get("user")  # not a class of this module: the user's own
        and (not arithmetic or (info["has_value"] and info["n_disp"] == 1))
    ]
