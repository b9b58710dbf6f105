"""What one repeat of ``timemory.runs`` costs beyond the work it measures.

    python benchmarks/runs_repeat_cost.py [--repeats R] [--work-ms W]

A workload of about ``--work-ms`` milliseconds (a pure-Python loop calling a small function)
is measured four ways in this process, each ``--repeats`` times, interleaved so that a busy
machine affects them alike:

* ``direct``: the function called (the baseline);
* ``profiled``: the function called under ``timemory.profiler.Profiler(["wall_clock"])``
  (what the profiling itself costs, without a folder written), storage cleared after;
* ``forked``: ``_execute.measure`` of the callable, one repeat (a forked child that profiles
  the call with wall_clock and writes the repeat's folder), timed from outside;
* ``in-process``: the same, with the repeat run in this process (the mode used where fork is
  not: MPI, a GPU runtime, no ``os.fork``);
* ``script``: ``python script.py`` doing the same work (the baseline of a script), and
  ``_execute.measure`` of that script (``python -m timemory.profiler`` in a subprocess).

Reported: the median wall time of each, and per repeat the cost beyond the baseline (the
difference of the medians) and the ratio. The ``runtime`` a run records is the call's own
time for a callable (inside the child) and the subprocess's for a script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

SCRIPT = """\
def step(i):
    return i * i

def work(n):
    total = 0
    for i in range(n):
        total += step(i)
    return total

work({n})
"""


def step(i: int) -> int:
    return i * i


def work(n: int) -> int:
    total = 0
    for i in range(n):
        total += step(i)
    return total


def calibrate(ms: float) -> int:
    n = 10_000
    while True:
        start = time.perf_counter()
        work(n)
        elapsed = time.perf_counter() - start
        if elapsed > 0.02:
            return max(1, int(n * ms / 1000 / elapsed))
        n *= 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--work-ms", type=float, default=20.0)
    opts = parser.parse_args()

    from timemory.runs import _execute

    n = calibrate(opts.work_ms)
    times: dict[str, list[float]] = {
        k: [] for k in ("direct", "profiled", "forked", "in-process", "python", "script")
    }
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "work.py")
        with open(script, "w") as f:
            f.write(SCRIPT.format(n=n))
        counter = [0]

        def measured(kind: str, target: object) -> None:
            counter[0] += 1
            workdir = os.path.join(tmp, f"w{counter[0]}")
            start = time.perf_counter()
            result = _execute.measure(
                target,
                {"n": n} if kind != "script" else {},
                repeats=1,
                components=["wall_clock"],
                workdir=workdir,
            )
            times[kind].append(time.perf_counter() - start)
            assert result.error is None, result.error

        fork_unusable = _execute._fork_unusable
        for _ in range(opts.repeats):
            start = time.perf_counter()
            work(n)
            times["direct"].append(time.perf_counter() - start)
            import timemory
            from timemory.profiler import Profiler

            start = time.perf_counter()
            Profiler(["wall_clock"]).runcall(work, n)
            times["profiled"].append(time.perf_counter() - start)
            timemory.clear()
            measured("forked", work)
            _execute._fork_unusable = lambda: "benchmark"  # type: ignore[assignment]
            try:
                measured("in-process", work)
            finally:
                _execute._fork_unusable = fork_unusable  # type: ignore[assignment]
            start = time.perf_counter()
            subprocess.run([sys.executable, script], check=True)
            times["python"].append(time.perf_counter() - start)
            measured("script", script)

    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"work: n={n}, about {opts.work_ms:g} ms; {opts.repeats} repeats, interleaved")
    pairs = (
        ("profiled", "direct"),
        ("forked", "profiled"),
        ("in-process", "profiled"),
        ("script", "python"),
    )
    for kind, base in pairs:
        extra = median[kind] - median[base]
        print(
            f"  {kind:<10} {median[kind] * 1e3:8.1f} ms  vs {base:<8} {median[base] * 1e3:8.1f} ms"
            f"  +{extra * 1e3:7.1f} ms per repeat  x{median[kind] / median[base]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
