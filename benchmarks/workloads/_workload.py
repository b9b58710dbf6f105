"""What every workload shares: the ``profile`` decorator and the ``--scale`` argument.

The workloads run as scripts, so this module is found next to them (``sys.path[0]``).
"""

from __future__ import annotations

import builtins
import os
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable[..., object])


def _identity(func: F) -> F:
    return func


# kernprof -l (and python -m timemory.profiler) put a `profile` in builtins: use it, so that
# `kernprof -l workload.py` works unchanged, unless the harness sets
# PROFILER_OVERHEAD_DECORATORS=0 because a whole-program profiler runs (a decorator would add
# a tool-specific second layer around just these functions).
profile: Callable[[F], F] = (
    _identity
    if os.environ.get("PROFILER_OVERHEAD_DECORATORS") == "0"
    else getattr(builtins, "profile", _identity)
)


def parse_scale(argv: list[str]) -> float:
    """``--scale S`` (default 1.0) multiplies the problem size; kept argparse-free so the
    workload's own start-up stays negligible next to the profilers'."""
    if "--scale" in argv:
        return float(argv[argv.index("--scale") + 1])
    return 1.0
