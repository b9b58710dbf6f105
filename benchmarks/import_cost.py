"""What ``import timemory`` adds to a program's start: wall time and peak RSS (VmHWM) of
``python -c "import timemory"`` minus those of ``python -c pass``, medians of interleaved runs.

    python benchmarks/import_cost.py [--runs N] [PYTHON ...]

Each PYTHON is an interpreter with timemory installed (default: this one); give two (say a
venv of the old build and one of the new) to compare builds in one run, their runs interleaved
so that machine noise hits them alike.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

_PEAK = (
    "import sys\n"
    "for line in open('/proc/self/status'):\n"
    "    line.startswith('VmHWM') and sys.stderr.write(line.split()[1])\n"
)


def _run(python: str, code: str) -> tuple[float, int]:
    env = dict(os.environ, TIMEMORY_LIBRARY_CTOR="1")
    start = time.perf_counter()
    proc = subprocess.run(
        [python, "-c", code], capture_output=True, text=True, env=env, cwd="/", check=True
    )
    return time.perf_counter() - start, int(proc.stderr.strip().split()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=25, help="runs per interpreter (25)")
    parser.add_argument("pythons", nargs="*", default=[sys.executable])
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    samples: dict[str, dict[str, list[float]]] = {
        p: {"t": [], "rss": [], "t0": [], "rss0": []} for p in args.pythons
    }
    for _ in range(args.runs):
        for python in args.pythons:
            for suffix, code in (("", "import timemory\n" + _PEAK), ("0", _PEAK)):
                seconds, kib = _run(python, code)
                samples[python]["t" + suffix].append(seconds)
                samples[python]["rss" + suffix].append(kib)
    for python, s in samples.items():
        m = {key: statistics.median(values) for key, values in s.items()}
        print(
            f"{python}: import timemory adds {(m['t'] - m['t0']) * 1e3:.1f} ms and "
            f"{(m['rss'] - m['rss0']) / 1024:.2f} MiB of peak RSS (medians of {args.runs}; "
            f"bare interpreter {m['t0'] * 1e3:.1f} ms, {m['rss0'] / 1024:.1f} MiB)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
