"""How long the ``timemory`` command takes to answer without running a tool, against
``import timemory`` alone and a tool's own ``--help``: medians of interleaved runs, and the
ratio of each to ``python -c "import timemory"`` measured in the same run.

    python benchmarks/command_startup.py [--runs N]

The dispatcher imports a tool only when its command runs, so ``python -m timemory --help``
and a mistyped command should cost about what ``import timemory`` does, and less than
``python -m timemory.profiler --help`` (which builds the profiler's parser).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

CASES = {
    "import timemory": ["-c", "import timemory"],
    "timemory --help": ["-m", "timemory", "--help"],
    "timemory --version": ["-m", "timemory", "--version"],
    "timemory profle (mistyped)": ["-m", "timemory", "profle"],
    "timemory profile --help": ["-m", "timemory", "profile", "--help"],
    "python -m timemory.profiler --help": ["-m", "timemory.profiler", "--help"],
}


def _seconds(args: list[str]) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, env=env, cwd="/", check=False)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each case (21)")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.runs):  # interleaved: machine noise hits every case alike
        for name, case in CASES.items():
            samples[name].append(_seconds(case))
    base = statistics.median(samples["import timemory"])
    print(f"{'case':<36} {'median ms':>10} {'x import':>9}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<36} {median * 1e3:>10.1f} {median / base:>9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
