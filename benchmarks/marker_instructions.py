"""Workload for instruction counts, which are repeatable where wall time is noisy.

    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/marker_instructions.py marker 220000
    valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        python benchmarks/marker_instructions.py marker 20000

The difference of the two totals divided by 200,000 is the instruction count
per ``with marker(["wall_clock"], key="k"): pass``. Modes: ``marker``, ``bare``
(``perf_counter_ns()`` pair), ``construct`` (marker construction only), ``empty``.

    python benchmarks/marker_instructions.py --measure [--python PY ...]

runs those callgrind pairs itself for each interpreter given (default: this
one) and prints instructions per iteration of each mode, net of the empty loop,
and the marker's ratio to the bare pair (before/after builds in one table).
"""

from __future__ import annotations

import sys
import time

import timemory
from timemory.bundle import marker

MODES = ("marker", "construct", "bare", "empty")


def count(python: str, mode: str, n: int) -> int:
    """Instructions of one run of this script under callgrind."""
    import os
    import re
    import subprocess

    proc = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", python]
        + [os.path.abspath(__file__), mode, str(n)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=3600,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = re.search(r"Collected : (\d+)", proc.stderr)
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"{python} {mode} {n}: exit {proc.returncode}\n{proc.stderr[-2000:]}")
    return int(found.group(1))


def measure(pythons: list[str]) -> int:
    import shutil

    if not shutil.which("valgrind"):
        print("valgrind is not installed: --measure needs callgrind", file=sys.stderr)
        return 2
    small, large = 20_000, 220_000
    print(f"instructions per iteration: ({large:,} minus {small:,} iterations) / {large - small:,}")
    print(f"{'python':<44}" + "".join(f"{m:>11}" for m in MODES) + f"{'net ratio':>11}")
    for py in pythons:
        per = {m: (count(py, m, large) - count(py, m, small)) / (large - small) for m in MODES}
        ratio = (per["marker"] - per["empty"]) / (per["bare"] - per["empty"])
        print(f"{py:<44}" + "".join(f"{per[m]:>11.1f}" for m in MODES) + f"{ratio:>10.2f}x")
    return 0


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--measure":
        pythons = [a for a in argv[1:] if a != "--python"] or [sys.executable]
        return measure(pythons)
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
        print(
            f"unknown mode '{mode}'. Valid choices are: {', '.join(MODES)}, --measure",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
