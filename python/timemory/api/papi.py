"""The PAPI library interface of timemory (``timemory.api.papi``).

This build does not use the PAPI library: hardware counters are counted through Linux
``perf_event_open`` under PAPI's preset names (``PAPI_TOT_INS``) and perf's event names
(``instructions``). So:

* queries answer from the counters this machine has: :func:`query_event` (can this event be
  counted here?), :func:`working` (always False: no PAPI library), :func:`print_hw_info`;
* :func:`init_multiplexing` switches on multiplexed counting (``settings.papi_multiplexing``);
* every other call (event sets, start/stop/read, attach, thread registration...) needs the
  PAPI library and raises :class:`~timemory.api.UnavailableError`. To count events, set
  ``settings.papi_events`` and record the ``papi_vector`` component (a marker, the profiler),
  or use :mod:`timemory.hardware_counters`.
"""

from __future__ import annotations

import sys

from . import UnavailableError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

#: False: the PAPI library is not part of this build.
available = False
#: Why the PAPI library calls are unavailable, and what counts hardware events instead.
reason = (
    "this build does not link the PAPI library; hardware counters are counted through "
    "perf_event_open instead (timemory.hardware_counters, the papi_vector component, "
    "settings.papi_events)"
)


def working() -> bool:
    """Whether the PAPI library is initialised and working: always False here (no PAPI
    library); whether an event can be counted is :func:`query_event`."""
    return False


def query_event(event: str) -> bool:
    """True if this machine can count ``event``: a PAPI preset (``"PAPI_TOT_INS"``), a perf
    event name (``"instructions"``) or a raw event (``"r01c7"``).

    Found by opening the event once (see ``timemory.hardware_counters.Info``). Raises
    ``ValueError`` naming the valid choices for an unknown name, ``TypeError`` for a PAPI
    numeric event code (they need the PAPI library)."""
    if not isinstance(event, str):
        raise TypeError(
            f"query_event: expected an event name (str), got {type(event).__name__}; "
            "PAPI numeric event codes need the PAPI library"
        )
    from .. import hardware_counters

    return hardware_counters.Info(event).available()


def print_hw_info() -> None:
    """Print (to stderr) every hardware counter timemory knows, with whether this machine can
    count it and why not."""
    from .. import hardware_counters
    from .._text import echo

    lines = []
    for info in hardware_counters.events():
        state = "available" if info.available() else f"not available: {info.reason()}"
        lines.append(f"{info.symbol():<28} {info.short_description()}: {state}")
    echo("\n".join(lines), sys.stderr)


def init_multiplexing() -> None:
    """Count each hardware event in its own group, multiplexed by the kernel (counts are
    scaled): sets ``settings.papi_multiplexing``."""
    from .. import settings

    settings.papi_multiplexing = True


def _library_call(name: str, signature: str, summary: str) -> Callable[..., Any]:
    """A PAPI library function this build cannot provide: it raises UnavailableError."""

    def call(*_args: Any, **_kwargs: Any) -> Any:
        raise UnavailableError(f"PAPI library call papi.{name}", reason)

    call.__name__ = call.__qualname__ = name
    call.__module__ = __name__
    call.__doc__ = (
        f"``{name}{signature}``: {summary}.\n\n"
        "Needs the PAPI library, which this build does not link: raises "
        ":class:`~timemory.api.UnavailableError`."
    )
    return call


init = _library_call("init", "()", "initialise the PAPI library")
init_threading = _library_call("init_threading", "()", "initialise PAPI's thread support")
init_library = _library_call("init_library", "()", "initialise the PAPI library")
set_debug = _library_call("set_debug", "(level)", "set PAPI's debug level")
register_thread = _library_call("register_thread", "()", "register this thread with PAPI")
get_event_code = _library_call(
    "get_event_code", "(name) -> int", "the PAPI numeric code of an event name"
)
get_event_code_name = _library_call(
    "get_event_code_name", "(code) -> str", "the event name of a PAPI numeric code"
)
attach = _library_call("attach", "(event_set, tid)", "attach an event set to a thread")
detach = _library_call("detach", "(event_set)", "detach an event set from its thread")
shutdown = _library_call("shutdown", "()", "shut the PAPI library down")
enable_multiplexing = _library_call(
    "enable_multiplexing", "(event_set)", "multiplex the events of an event set"
)
create_event_set = _library_call("create_event_set", "() -> int", "create an event set")
destroy_event_set = _library_call("destroy_event_set", "(event_set)", "destroy an event set")
start = _library_call("start", "(event_set)", "start counting an event set")
stop = _library_call("stop", "(event_set) -> list", "stop counting and return the counts")
read = _library_call("read", "(event_set) -> list", "read the counts of a running event set")
write = _library_call("write", "(event_set, values)", "write the counters of an event set")
accum = _library_call("accum", "(event_set) -> list", "add the counts into a list, and reset")
reset = _library_call("reset", "(event_set)", "reset the counters of an event set")
add_event = _library_call("add_event", "(event_set, event)", "add an event to an event set")
remove_event = _library_call(
    "remove_event", "(event_set, event)", "remove an event from an event set"
)
add_events = _library_call("add_events", "(event_set, events)", "add events to an event set")
remove_events = _library_call(
    "remove_events", "(event_set, events)", "remove events from an event set"
)
assign_event_set_component = _library_call(
    "assign_event_set_component", "(event_set, component)", "bind an event set to a PAPI component"
)

__all__ = [
    "available",
    "reason",
    "working",
    "query_event",
    "print_hw_info",
    "init_multiplexing",
    "init",
    "init_threading",
    "init_library",
    "set_debug",
    "register_thread",
    "get_event_code",
    "get_event_code_name",
    "attach",
    "detach",
    "shutdown",
    "enable_multiplexing",
    "create_event_set",
    "destroy_event_set",
    "start",
    "stop",
    "read",
    "write",
    "accum",
    "reset",
    "add_event",
    "remove_event",
    "add_events",
    "remove_events",
    "assign_event_set_component",
]
