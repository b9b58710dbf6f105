"""gperftools' CPU profiler (``libprofiler``) around a command."""

from __future__ import annotations

from .utils import run_profiled

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence

__all__ = ["execute"]


def execute(
    cmd: Sequence[str],
    prefix: str = "cpu.prof",
    freq: int = 250,
    malloc_stats: int = 0,
    realtime: int = 1,
    preload: bool = True,
    selected: int = 0,
    image_type: str = "jpeg",
    echo_dart: bool = False,
    libs: Sequence[str] = (),
    args: Sequence[str] = ("--no_strip_temp", "--functions"),
    generate: Sequence[str] = ("text", "cum", "dot"),
    dot_args: Sequence[str] = (),
) -> str:
    """Run ``cmd`` (a list) under the CPU profiler, sampling ``freq`` times a second
    (``realtime``: wall-clock rather than CPU-time samples; ``selected``: only between
    ``ProfilerStart``/``ProfilerStop``); return the profile's path,
    ``<prefix>.<program>/gperf.<N>``, next to the program's output in ``gperf.<N>.log``.

    The profile is post-processed as :func:`~timemory.api.gperftools.utils.post_process`
    describes (``generate``, ``image_type``, ``args``, ``libs``, ``dot_args``,
    ``echo_dart``) when ``pprof`` is installed. ``preload`` puts ``libprofiler`` into
    ``LD_PRELOAD`` (a Python program needs it); without it found, raises
    :class:`~timemory.api.UnavailableError` naming where it was looked for."""
    variables = {
        "CPUPROFILE_FREQUENCY": str(int(freq)),
        "CPUPROFILE_REALTIME": str(int(realtime)),
        "MALLOCSTATS": str(int(malloc_stats)),
        "PROFILESELECTED": str(int(selected)),
    }
    post = {
        "image_type": image_type,
        "echo_dart": echo_dart,
        "liblist": libs,
        "args": args,
        "generate": generate,
        "dot_args": dot_args,
    }
    return run_profiled("cpu_profiler", cmd, prefix, "CPUPROFILE", variables, preload, post)
