"""The pstats export: the call graph as the marshalled stats dict ``pstats.Stats(path)`` loads,
for snakeviz, gprof2dot (``-f pstats``), tuna and ``python -m pstats``.

A pstats file holds one time per function and nothing else: ``{(file, line, name): (cc, nc,
tt, ct, callers)}`` with the primitive and total calls, the self and cumulative seconds, and
per caller ``(nc, cc, tt, ct)`` (cProfile's order there). The time is ``wall_clock`` if it
was recorded, else ``cpu_clock``, else the first timer of the source; memory, I/O and counter
components cannot go in. The numbers are computed natively over the joined walk
(``_core.pstats_functions``): a function is keyed by the file, first line and name of its
code as cProfile keys it (registered by the profiler), a C function by ``("~", 0, name)``,
a marker by ``("~", 0, its label)``.
"""

from __future__ import annotations

from timemory import _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

__all__ = [
    "PREFERRED_TIMERS",
    "make_pstats",
    "pstats_stats",
    "stream_pstats",
    "time_component",
    "timer_names",
]

#: The timers a pstats file takes first, in this order; else the first timer recorded.
PREFERRED_TIMERS = ("wall_clock", "cpu_clock")


def _is_timer(info: dict[str, Any]) -> bool:
    # a time that adds up along the call graph: one value in the timing unit, a difference
    units = info.get("units") or []
    return len(units) == 1 and units[0] == "timing" and info.get("combine", "delta") == "delta"


def timer_names() -> list[str]:
    """The components that can go in a pstats file (its time), by name."""
    return [info["key"] for info in _core.component_table() if _is_timer(info)]


def time_component(indices: list[int]) -> int | None:
    """The component of ``indices`` a pstats file holds: ``wall_clock`` if among them, else
    ``cpu_clock``, else the first timer; None when none is a timer."""
    infos = {i: _core.component_info(i) for i in indices}
    for name in PREFERRED_TIMERS:
        for i, info in infos.items():
            if info["key"] == name:
                return i
    for i in indices:
        if _is_timer(infos[i]):
            return i
    return None


def pstats_stats(src: Any, time_index: int) -> dict[tuple[str, int, str], tuple[Any, ...]]:
    """cProfile's stats dict of ``src`` (an ExportSource) with the time of component
    ``time_index`` (seconds)."""
    return _core.pstats_functions(src.native, src.rank, src.copy, time_index)


def make_pstats(src: Any) -> bytes | None:
    """The pstats file of ``src`` (an ExportSource): ``marshal.dumps`` of the stats dict, the
    bytes ``pstats.Stats(path)`` reads (made natively: no Python object per function). None,
    with one line saying which components can go in a pstats file, when ``src`` recorded no
    timer."""
    index = _time_or_warn(src)
    return None if index is None else _core.pstats_marshal(src.native, src.rank, src.copy, index)


def stream_pstats(src: Any) -> Callable[[Any], None] | None:
    """The same file as the function of a path that writes it natively (atomically, in
    chunks: the file is never held whole), for the output registry; None as ``make_pstats``.
    Its failures are OSErrors naming the path."""
    index = _time_or_warn(src)
    if index is None:
        return None
    native, rank, copy = src.native, src.rank, src.copy

    def write(path: Any) -> None:
        try:
            _core.write_pstats(path, native, rank, copy, index)
        except ValueError as err:  # the native writer reports failures with the path
            raise OSError(str(err)) from None

    return write


def _time_or_warn(src: Any) -> int | None:
    index = time_component(list(src.indices))
    if index is None:
        from timemory._text import WARNING, echo

        recorded = [_core.component_info(i)["key"] for i in src.indices]
        what = f"no timer among {', '.join(recorded)}" if recorded else "no component recorded"
        echo(
            f"[timemory]> pstats file not written: it holds time only, and there is {what}; "
            f"a pstats file takes one of: {', '.join(timer_names())}",
            level=WARNING,
        )
    return index
