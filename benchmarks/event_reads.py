"""Cost of the kernel reads per profiled call: wall_clock alone against wall_clock + cpu_clock +
peak_rss (and other sets), for one or more interpreters (a base install and this one).

    python benchmarks/event_reads.py [--python EXE ...] [--rounds R] [--n N]
        [--sets "wall_clock" "wall_clock cpu_clock peak_rss" ...] [--strace]

Each round runs, for every interpreter and every component set, a fresh child that profiles
``fibonacci(N)`` (``timemory.profiler.profile``) and reports its own CPU time (user + system of
the process, ``time.process_time``) for that call, and an unprofiled child; the order is
rotated per round, so machine noise spreads over every row alike. Reported per interpreter and
set: the median over rounds of the added CPU ns per profiled call (profiled minus unprofiled,
over the number of calls), and the ratio of each set's added cost to the ``wall_clock`` set's
added cost of the same interpreter (the issue's target: ``wall_clock cpu_clock peak_rss`` at most
2x). With ``--strace`` each set also runs once under ``strace -f -c`` and the system calls per
profiled call are shown (getrusage, clock_gettime and reads): what the sharing of one kernel
read per event changes, independent of how busy the machine is. CPU time is what a loaded
2-core machine perturbs least; still, compare ratios from one invocation only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import sys, time
n = int(sys.argv[1]); comps = sys.argv[2].split() if len(sys.argv) > 2 else []
def fibonacci(k):
    return k if k < 2 else fibonacci(k - 1) + fibonacci(k - 2)
if comps:
    import timemory
    from timemory.profiler import profile
    timemory.settings.auto_output = False
    t0 = time.process_time_ns()
    with profile(comps):
        fibonacci(n)
    t1 = time.process_time_ns()
else:
    t0 = time.process_time_ns()
    fibonacci(n)
    t1 = time.process_time_ns()
print(t1 - t0)
"""

DEFAULT_SETS = ("wall_clock", "wall_clock cpu_clock peak_rss", "wall_clock peak_rss")


def calls_of(n: int) -> int:
    a, b = 1, 1  # calls(0), calls(1)
    for _ in range(n - 1):
        a, b = b, a + b + 1
    return b if n >= 1 else a


def run_child(python: str, script: str, n: int, comps: str) -> int:
    args = [python, script, str(n)] + ([comps] if comps else [])
    out = subprocess.run(args, check=True, capture_output=True, text=True, timeout=900)
    return int(out.stdout.strip().splitlines()[-1])


def strace_counts(python: str, script: str, n: int, comps: str) -> dict[str, int]:
    with tempfile.NamedTemporaryFile(suffix=".txt") as log:
        args = [
            "strace",
            "-f",
            "-c",
            "-o",
            log.name,
            "-e",
            "trace=getrusage,clock_gettime,pread64,read",
            python,
            script,
            str(n),
        ] + ([comps] if comps else [])
        subprocess.run(args, check=True, capture_output=True, text=True, timeout=900)
        counts: dict[str, int] = {}
        for line in open(log.name, encoding="utf-8"):
            parts = line.split()
            if len(parts) >= 5 and parts[-1] in ("getrusage", "clock_gettime", "pread64", "read"):
                counts[parts[-1]] = int(parts[3])
        return counts


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--python", action="append", help="interpreter with timemory installed (repeatable)"
    )
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--n", type=int, default=22, help="fibonacci argument (22: 57,313 calls)")
    p.add_argument(
        "--sets",
        nargs="+",
        default=list(DEFAULT_SETS),
        help="component sets, space-separated names",
    )
    p.add_argument(
        "--strace", action="store_true", help="also count system calls per profiled call"
    )
    a = p.parse_args(argv)
    if a.rounds < 1 or a.n < 2:
        print("--rounds must be >= 1 and --n >= 2", file=sys.stderr)
        return 2
    pythons = a.python or [sys.executable]
    if "wall_clock" not in a.sets:
        a.sets.insert(0, "wall_clock")
    calls = calls_of(a.n)
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "child.py")
        with open(script, "w", encoding="utf-8") as f:
            f.write(CHILD)
        runs = [(py, s) for py in pythons for s in [""] + a.sets]
        samples: dict[tuple[str, str], list[int]] = {r: [] for r in runs}
        for rnd in range(a.rounds):
            k = rnd % len(runs)
            for py, s in runs[k:] + runs[:k]:
                samples[(py, s)].append(run_child(py, script, a.n, s))
            print(f"round {rnd + 1}/{a.rounds} done", file=sys.stderr)
        print(
            f"fibonacci({a.n}): {calls:,} calls; CPU ns per call, "
            f"median of {a.rounds} interleaved rounds"
        )
        print(f"{'interpreter':<40} {'components':<42} {'ns/call':>9} {'added':>9} {'x wall':>7}")
        for py in pythons:
            base = statistics.median(samples[(py, "")]) / calls
            wall_added = statistics.median(samples[(py, "wall_clock")]) / calls - base
            print(f"{py:<40} {'(unprofiled)':<42} {base:9.1f}")
            for s in a.sets:
                per = statistics.median(samples[(py, s)]) / calls
                added = per - base
                ratio = added / wall_added if wall_added > 0 else float("nan")
                print(f"{py:<40} {s:<42} {per:9.1f} {added:9.1f} {ratio:7.2f}")
        if a.strace:
            if not shutil.which("strace"):
                print("strace not found: system calls not counted", file=sys.stderr)
                return 0
            print(
                f"\nsystem calls per profiled call (strace -f -c, fibonacci({a.n}), "
                "minus the unprofiled run)"
            )
            for py in pythons:
                base_counts = strace_counts(py, script, a.n, "")
                for s in a.sets:
                    c = strace_counts(py, script, a.n, s)
                    per = {k: (c.get(k, 0) - base_counts.get(k, 0)) / calls for k in sorted(c)}
                    shown = "  ".join(f"{k} {v:.2f}" for k, v in per.items())
                    print(f"{py:<40} {s:<42} {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
