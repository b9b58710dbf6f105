"""Workload for instruction counts, which are repeatable where wall time is noisy.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/marker_instructions.py marker 220000
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/marker_instructions.py marker 20000

The difference of the two totals divided by 200,000 is the instruction count
per ``with marker(["wall_clock"], key="k"): pass``. Modes: ``marker``, ``bare``
(``perf_counter_ns()`` pair), ``construct`` (marker construction only), ``empty``.
"""

from __future__ import annotations

import sys
import time

import timemory
from timemory.bundle import marker


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "marker"
    n = int(argv[1]) if len(argv) > 1 else 20000
    timemory.settings.auto_output = False
    if mode == "marker":
        for _ in range(n):
            with marker(["wall_clock"], key="k"):
                pass
    elif mode == "construct":
        for _ in range(n):
            marker(["wall_clock"], key="k")
    elif mode == "bare":
        for _ in range(n):
            t0 = time.perf_counter_ns()  # noqa: F841
            t1 = time.perf_counter_ns()  # noqa: F841
    elif mode == "empty":
        for _ in range(n):
            pass
    else:
        print(f"unknown mode '{mode}'. Valid choices are: marker, construct, bare, empty")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
