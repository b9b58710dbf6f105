"""The Perfetto / Chrome trace export: the timeline of this process (each measurement's real
begin and end, recorded natively while ``settings.timeline_events`` is on) as the Chrome
trace-event JSON that the Perfetto UI and chrome://tracing load. The pool workers' timelines,
which they hand over with their data, are their own process tracks in the same file; MPI
ranks write their own (the gather carries the call graphs, not the timeline).

Without a recorded timeline the file holds the flame-graph layout of the call graph's time
components instead (each node's inclusive time laid end to end: not when the code ran), and
one line on stderr says how to record a timeline.
"""

from __future__ import annotations

import os
import sys

from .. import _core, _processes
from .. import settings as _settings
from .._text import echo
from ._run import _streamed

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "add_source",
    "enable_recording",
    "make_perfetto",
    "pack",
    "recorded",
    "thread_names",
]

# functions returning other processes' packed timelines as (pid, bytes): the transports
# register them (the pool workers, timemory._workers), so this module imports none of them
_SOURCES: list[Callable[[], list[tuple[int, bytes]]]] = []

HOW_TO_RECORD = (
    "settings.perfetto_output or timeline_events = True before the program runs, "
    "TIMEMORY_PERFETTO_OUTPUT=1, or --format perfetto"
)


def enable_recording() -> None:
    """Record the timeline from now on (what ``--format perfetto`` does at start)."""
    _settings.timeline_events = True


def add_source(packed: Callable[[], list[tuple[int, bytes]]]) -> None:
    """Register other processes whose timelines this one writes: ``packed()`` returns each
    one's ``(pid, pack())``."""
    _SOURCES.append(packed)


def pack() -> bytes | None:
    """This process's timeline packed for another process (a pool worker's hand-over), None
    when nothing was recorded."""
    return _core.pack_trace_events() if recorded() else None


def _others() -> list[tuple[str, bytes]]:
    return [(f"worker {pid}", data) for source in _SOURCES for pid, data in source() if data]


def recorded() -> bool:
    """Whether this process recorded timeline events (or dropped some at the cap)."""
    stats = _core.timeline_stats()
    return bool(stats["events"] or stats["dropped"])


def thread_names() -> dict[int, str]:
    """The Python names of the threads alive now, by ``threading.get_ident()`` (what the
    timeline's buffers keep of their thread). Empty when ``threading`` was never imported:
    then no thread was named."""
    threading = sys.modules.get("threading")
    if threading is None:
        return {}
    return {t.ident: t.name for t in threading.enumerate() if t.ident is not None}


def _process_name(rank: int) -> str:
    if _processes.collective_in_use():
        return f"rank {rank}"
    # the program timemory was initialised for (the script a command line ran), else argv[0]
    argv = list(_settings.command_line or ()) or sys.argv
    program = os.path.basename(str(argv[0])) if argv and argv[0] else "python"
    return f"{program} (pid {os.getpid()})"


def _is_live(native: Any) -> bool:
    """The export source's convention: a list of ints is this process's live graphs; a
    list of ``(index, ranks)`` pairs is data read back or gathered."""
    return all(isinstance(item, int) for item in native)


def make_perfetto(src: Any) -> Callable[[bytes], None]:
    """The writer of the Perfetto file for ``src`` (an ExportSource): this process's recorded
    timeline when there is one and ``src`` is this process's live data, else the flame-graph
    layout of ``src``'s time components (one stderr line says how to record a timeline)."""
    native = list(src.native)
    others = _others() if _is_live(native) else []
    if _is_live(native) and (recorded() or others):
        name, rank = _process_name(src.rank), src.rank

        def write(path: bytes) -> None:
            extra = {"rank": rank, "pid": os.getpid()}
            names = thread_names()
            _, dropped = _core.write_trace_events(path, name, names, extra, rank, others)
            if dropped:
                cap = _core.timeline_stats()["max_events"]
                echo(
                    f"[timemory]> the timeline kept its first {cap:,} events: {dropped:,} more "
                    "were not recorded (settings.timeline_max_events)",
                    sys.stderr,
                )

        return _streamed(write)
    echo(
        "[timemory]> no timeline was recorded: the Perfetto file has the flame-graph layout "
        f"of the call graph (to record a timeline: {HOW_TO_RECORD})",
        sys.stderr,
    )
    copy = bool(src.copy)

    def flame(path: bytes) -> None:
        _core.write_flame_trace(path, native, copy)

    return _streamed(flame)
