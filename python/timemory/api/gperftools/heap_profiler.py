"""gperftools' heap profiler (``libtcmalloc``) around a command."""

from __future__ import annotations

from .utils import run_profiled

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence

__all__ = ["execute"]


def execute(
    cmd: Sequence[str],
    prefix: str = "heap.prof",
    malloc_stats: int = 0,
    preload: bool = True,
    selected: int = 0,
) -> str:
    """Run ``cmd`` (a list) under the heap profiler; return the profile prefix,
    ``<prefix>.<program>/gperf.<N>`` (tcmalloc writes its ``gperf.<N>.<M>.heap`` dumps
    there), next to the program's output in ``gperf.<N>.log``. ``selected``: only between
    ``HeapProfilerStart``/``HeapProfilerStop``.

    ``preload`` puts ``libtcmalloc`` into ``LD_PRELOAD``; without it found, raises
    :class:`~timemory.api.UnavailableError` naming where it was looked for. ``pprof`` reads
    the dumps (``pprof --text <program> <dump>``)."""
    variables = {"MALLOCSTATS": str(int(malloc_stats)), "PROFILESELECTED": str(int(selected))}
    return run_profiled("heap_profiler", cmd, prefix, "HEAPPROFILE", variables, preload, None)
