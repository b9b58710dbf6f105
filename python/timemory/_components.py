"""Which components there are, in the data layer's lightest form: the one resolver of
component names and the one definition of the components that can hold data.

Names, enum values, classes and comma-separated strings are turned into enum indices here,
once, by the native resolver (``ValueError`` naming the valid choices for an unknown name);
what is handed to the native hooks afterwards is a list of integers.

Imported by the lifecycle at start-up, so it keeps no table of dicts (its memory would be in
every profiled program): ``_core.component_info(index)`` gives a component's description.
"""

from __future__ import annotations

from . import _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = [
    "MEASURABLE",
    "add_measurable",
    "is_additive",
    "is_measurable",
    "measurable_indices",
    "resolve",
]

#: Enum indices of the components that can hold data: the available ones with a value, the
#: hardware-counter components (their availability follows ``settings.papi_events``), and the
#: Python-defined components registered so far (add_measurable). A set that grows in place:
#: the modules that imported it see a component registered after their import.
MEASURABLE: set[int] = {
    info["index"] for info in _core.component_table() if info["available"] and info["has_value"]
} | set(_core.hw_component_indices())


def add_measurable(index: int) -> None:
    """A Python-defined component took slot ``index`` of the native table (registered, or a
    row made for data another process sent): it holds data from now on."""
    MEASURABLE.add(int(index))


def is_measurable(index: int) -> bool:
    """Whether the component of enum index ``index`` can hold data."""
    return index in MEASURABLE


def resolve(spec: Any, measurable_only: bool = False) -> list[int]:
    """Enum indices of ``spec``: a name, enum value, class, or a list / comma-separated string
    of those, in order, duplicates dropped. ``measurable_only`` drops the components that
    cannot hold data. Raises ``ValueError`` for an unknown name, in one line with the closest
    valid names (``timemory settings --components`` lists them all)."""
    try:
        return list(dict.fromkeys(_core.resolve_components(spec, measurable_only)))
    except ValueError as err:
        message = unknown_component_message(str(err))
        if message is None:
            raise
    raise ValueError(message) from None


#: the native resolver's message for an unknown name (resolver.cpp), with the whole list
_UNKNOWN_NAME = "Unknown component: '"
_VALID_CHOICES = "'. Valid choices are: "
#: named in the message when nothing is close to the unknown name
COMMON = ("wall_clock", "cpu_clock", "peak_rss")


def unknown_component_message(native: str) -> str | None:
    """The one-line message for the native resolver's ``native`` one about an unknown name:
    the closest valid names instead of all of them; None for another message."""
    if not native.startswith(_UNKNOWN_NAME) or _VALID_CHOICES not in native:
        return None
    name = native[len(_UNKNOWN_NAME) : native.rindex(_VALID_CHOICES)]
    from ._about import close_matches, did_you_mean

    available = [i for i in _core.component_table() if i["available"] and i["class_name"]]
    # any spelling the resolver accepts may be the near one; the key is what is suggested
    keys: dict[str, str] = {}
    for info in available:
        for spelling in (info["key"], info["id"], info["class_name"], *info["aliases"]):
            keys.setdefault(spelling.lower(), info["key"])
    suggested = list(dict.fromkeys(keys[m] for m in close_matches(name, keys, n=6)))[:3]
    where = f"`timemory settings --components` lists all {len(available)}"
    if suggested:
        return f"{_UNKNOWN_NAME}{name}'; {did_you_mean(suggested)} ({where})"
    return f"{_UNKNOWN_NAME}{name}' (e.g. {', '.join(COMMON)}; {where})"


def measurable_indices(spec: Any = ()) -> list[int]:
    """The measurable indices of a user's component list; every measurable one, sorted, for
    an empty list."""
    if isinstance(spec, (list, tuple)) and not spec:
        return sorted(MEASURABLE)
    return [i for i in resolve(spec) if i in MEASURABLE]


#: The unit families whose values add up along the call graph (a node's value is its
#: children's plus its own): times, memory growth, counts. Rates and percentages do not.
ADDITIVE_UNITS = frozenset({"timing", "memory", "count", "none"})


def is_additive(info: dict[str, Any], value: int = 0) -> bool:
    """Whether value ``value`` of the component described by ``info``
    (``_core.component_info``) is additive, so that a node's self value (its value less its
    children's) and its share of the program's total mean something: a difference of two
    readings (or a count of calls) in a unit that adds up. Not a rate or a percentage
    (``cpu_util``, a read rate), an absolute reading (``current_peak_rss``) or a timestamp."""
    if info.get("user"):  # a Python-defined component: additive when its rule is a sum
        return info.get("combine") == "sum"
    units = info.get("units") or ["none"]
    unit = units[value] if value < len(units) else "none"
    return unit in ADDITIVE_UNITS and info.get("combine", "delta") in ("delta", "trip")


def _perf_component(index: int) -> None:
    """The first time a ``perf::<event>`` component is named (the native resolver calls this):
    timemory.hardware_counters joins it to the component table or warns once that it is not
    available here."""
    from .hardware_counters import _event_component

    _event_component(index)


_core.hw_set_component_hook(_perf_component)
