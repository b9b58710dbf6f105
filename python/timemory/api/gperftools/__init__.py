"""Run a command under gperftools' CPU or heap profiler (``timemory.api.gperftools``).

gperftools (``libprofiler``, ``libtcmalloc``) is not part of timemory: these helpers preload
it into a command, point its output into a folder, and turn the profile into text (and a
graph) with ``pprof``. They work wherever gperftools is installed; timemory looks for the
libraries in ``LD_LIBRARY_PATH`` / ``LIBRARY_PATH`` and the system library folders each time.

    from timemory.api import gperftools
    gperftools.available                  # libprofiler found?
    gperftools.reason                     # why not ("" when found)
    gperftools.cpu_profiler.execute(["./app", "input"])   # -> cpu.prof.app/gperf.0 (+ .txt)

or ``python -m timemory.api.gperftools [-t cpu_profiler|heap_profiler] -- ./app input``.

Without the library, :func:`cpu_profiler.execute` and :func:`heap_profiler.execute` raise
:class:`~timemory.api.UnavailableError` naming the libraries looked for and where; without
``pprof`` the profile is written and its post-processing is skipped with a note on stderr
(:func:`utils.post_process` raises the same error).
"""

from __future__ import annotations

from . import cpu_profiler, heap_profiler, utils
from .utils import (
    add_preload,
    execute,
    find_library_path,
    find_pprof,
    get_library_prefixes,
    get_shared_lib_ext,
    library_reason,
    post_process,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = [
    "available",
    "reason",
    "utils",
    "cpu_profiler",
    "heap_profiler",
    "add_preload",
    "execute",
    "find_library_path",
    "find_pprof",
    "get_library_prefixes",
    "get_shared_lib_ext",
    "library_reason",
    "post_process",
]


def __getattr__(name: str) -> Any:
    # looked up on each access: installing gperftools or changing LD_LIBRARY_PATH counts
    if name == "available":
        return not library_reason("cpu_profiler")
    if name == "reason":
        return library_reason("cpu_profiler")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
