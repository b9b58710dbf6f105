"""Hardware counters this machine can count.

Counting goes through Linux ``perf_event_open``; no PAPI install is needed. Event names are
PAPI presets (``PAPI_TOT_INS``), perf event names (``instructions``, ``page-faults``) or raw
PMU events (``r01c7``). ``settings.papi_events`` chooses the events of the ``papi_vector`` /
``papi_array`` components (alias ``perf_event``)::

    from timemory import hardware_counters as hw
    hw.preset.PAPI_TOT_INS.available()      # False in a VM without a PMU
    hw.preset.PAPI_TOT_INS.reason()         # "no hardware PMU: ..."
    [i.symbol() for i in hw.events() if i.available()]

Availability is found by opening the event, once per process.

Each event is also a component of its own, named ``"perf::<event>"``, composed like a built-in
one: ``marker(["wall_clock", "perf::cycles", "perf::page-faults"])``, ``-c perf::task-clock``
on the command lines; :func:`component` gives its name.
"""

from __future__ import annotations

import enum
from typing import Any

from .. import _core

__all__ = [
    "api",
    "Info",
    "preset",
    "events",
    "available_events",
    "configured",
    "scaling",
    "component",
]


class api(enum.IntEnum):
    """Counter interface of an :class:`Info`."""

    papi = 0
    cuda = 1
    unknown = 2


_API = api


class Info:
    """One hardware counter: ``Info("PAPI_TOT_INS")`` or ``Info("page-faults", api.papi)``.

    An unknown symbol raises ValueError naming the valid choices.
    """

    __slots__ = ("_api", "_data")

    def __init__(self, symbol: str, api: _API = _API.papi) -> None:
        self._api = _API(api)
        if self._api is not _API.papi:
            self._data = {
                "name": symbol,
                "description": symbol,
                "mapping": "",
                "available": False,
                "reason": f"{self._api.name} counters are not supported by this build",
                "user_only": False,
                "unit": "count",
            }
        else:
            self._data = _core.hw_event_info(symbol)

    def api(self) -> _API:
        return self._api

    def symbol(self) -> str:
        """The canonical name (``cycles`` gives ``cpu-cycles``)."""
        return str(self._data["name"])

    def short_description(self) -> str:
        return str(self._data["description"])

    def long_description(self) -> str:
        text = str(self._data["description"])
        if self._data["mapping"] and self._data["mapping"] != self._data["name"]:
            text += f" (perf: {self._data['mapping']})"
        if self._data["unit"] == "ns":
            text += " (a time: seconds in tables, nanoseconds raw)"
        return text

    def available(self) -> bool:
        """True if this machine can count it (probed by opening it)."""
        return bool(self._data["available"])

    def reason(self) -> str:
        """Why it is not available ("" when it is)."""
        return str(self._data["reason"])

    def user_only(self) -> bool:
        """Counts user mode only (``perf_event_paranoid`` hides the kernel)."""
        return bool(self._data["user_only"])

    def mapping(self) -> str:
        """The perf event(s) it counts, e.g. ``L1-dcache-loads + L1-dcache-stores``."""
        return str(self._data["mapping"])

    def __repr__(self) -> str:
        state = "available" if self.available() else f"not available: {self.reason()}"
        return f"<hardware_counters.Info {self.symbol()}: {state}>"


_PRESETS: tuple[str, ...] = tuple(n for n in _core.hw_event_names() if n.startswith("PAPI_"))


class _PresetMeta(type):
    def __getattr__(cls, name: str) -> Info:
        if name in _PRESETS:
            return Info(name)
        raise AttributeError(f"preset has no counter {name!r}; known: {', '.join(_PRESETS)}")

    def __setattr__(cls, name: str, value: Any) -> None:
        raise AttributeError(f"preset.{name} is read-only")

    def __dir__(cls) -> list[str]:
        return sorted({*type.__dir__(cls), *_PRESETS})


class preset(metaclass=_PresetMeta):
    """One read-only class attribute per PAPI preset this build maps: ``preset.PAPI_TOT_CYC``."""


def events() -> list[Info]:
    """Every known counter (PAPI presets, then perf events), with its availability here."""
    return [Info(name) for name in _core.hw_event_names()]


def available_events() -> list[Info]:
    return [info for info in events() if info.available()]


def configured() -> list[Info]:
    """The counters of ``settings.papi_events`` (or the defaults), counted or not."""
    return [Info(name) for name, _, _ in _core.hw_configured()]


def scaling() -> list[dict[str, Any]]:
    """Multiplexing of each counted event, summed over the threads that read it.

    ``fraction`` is time running / time enabled: 1.0 means counted all the time; below 1 the
    counts were scaled by its inverse (the kernel shared the hardware counters); None before
    the first reading.
    """
    out = []
    for entry in _core.hw_scaling():
        enabled, running = entry["time_enabled"], entry["time_running"]
        out.append({**entry, "fraction": running / enabled if enabled else None})
    return out


def component(event: str) -> str:
    """The component name counting ``event`` (``"cycles"`` gives ``"perf::cpu-cycles"``), made
    now if needed; ValueError naming the valid choices for an unknown event."""
    if event.lower().startswith("perf::"):
        event = event[len("perf::") :]
    return str(_core.component_info(_core.hw_event_component(event))["key"])


#: the perf:: components reported unavailable (a warning each, once per process)
_warned_components: set[str] = set()


def _event_component(index: int) -> None:
    """Called by the resolver the first time a ``perf::<event>`` component is named: an
    available one joins ``timemory.component``'s table (the storage hands out its values like
    any); for one this machine cannot count, one warning says why it is not measured
    (``settings.papi_quiet`` silences it)."""
    import sys

    info = _core.component_info(index)
    if info["available"]:
        component_module = sys.modules.get("timemory.component")
        if component_module is not None:
            component_module._add_user_info(info)  # passes it on to the measurable set
        else:
            from .._components import add_measurable

            add_measurable(index)  # written at exit and by timemory.get() like any
        return
    if info["key"] in _warned_components:
        return
    from .. import settings

    _warned_components.add(info["key"])
    if settings.papi_quiet:
        return
    reason = str(info["description"]).removeprefix("not available: ")
    settings._warn(
        f"hardware counter component {info['key']} is not available and is not measured: {reason}"
    )
