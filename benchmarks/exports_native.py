"""What the native speedscope and callgrind exports cost against recording: for call graphs of
10k, 100k and 1M nodes (distinct region labels, in a tree: groups of 100 nodes under parents
of their own, the parents under one root), the recording's footprint (RSS the nodes added), the
time of each export (wall and CPU: on a loaded machine the CPU time is the steadier figure),
the peak RSS during the export above the RSS before recording and its ratio to the footprint
(the target: 1M nodes in at most 5 s, peak at most 1.25x the footprint), and the file's size.

    python benchmarks/exports_native.py [--sizes 10000,100000,1000000] [--repeat N]
        [--formats speedscope,callgrind] [--components wall_clock] [PYTHON ...]

Each measurement runs in a fresh interpreter; the peak of the export is VmHWM after resetting it
(``/proc/self/clear_refs``) once the nodes are recorded. Each PYTHON is an interpreter with
timemory installed (default: this one). Medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from _child import print_table, run_child, write_costs

# The child: records `n` nodes, then writes one export of them; prints one JSON line.
_CHILD = r"""
import json, os, sys, time
n, fmt, comps, out = int(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), sys.argv[4]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return 0

from types import SimpleNamespace
import timemory
from timemory import region, settings
from timemory._components import resolve
from timemory._output._speedscope import make_callgrind, make_speedscope
settings.auto_output = False
settings.cout_output = False
region.set_default(comps)
make = {"speedscope": make_speedscope, "callgrind": make_callgrind}[fmt]
idx = resolve(comps)
src = SimpleNamespace(indices=idx, native=idx, rank=0, copy=False)
labels = [f"node_{i}" for i in range(n)]  # made before the baseline: not the recording's cost
path = os.fsencode(os.path.join(out, "export." + fmt))
base = status("VmRSS:")
region.push("root")
for g in range(0, n, 100):
    parent = labels[g]
    region.push(parent)
    for name in labels[g + 1 : g + 100]:
        region.push(name)
        region.pop(name)
    region.pop(parent)
region.pop("root")
recorded = status("VmRSS:")
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    reset = True
except OSError:
    reset = False
import resource
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
write = make(src)
start, start_cpu = time.perf_counter(), cpu()
write(path)
elapsed, elapsed_cpu = time.perf_counter() - start, cpu() - start_cpu
peak = status("VmHWM:")
print(json.dumps({"base": base, "recorded": recorded, "peak": peak, "reset": reset,
                  "write_s": elapsed, "write_cpu_s": elapsed_cpu, "bytes": os.path.getsize(path)}))
"""


def _measure(python: str, n: int, fmt: str, components: str) -> dict[str, float]:
    r = run_child(
        python,
        _CHILD,
        [str(n), fmt, components, "{out}"],
        f"{python} ({n} {fmt})",
        env=dict(os.environ, TIMEMORY_COUT_OUTPUT="OFF"),
    )
    return write_costs(r)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="node counts")
    parser.add_argument("--formats", default="speedscope,callgrind", help="exports to measure")
    parser.add_argument("--components", default="wall_clock", help="components recorded")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (3)")
    parser.add_argument("pythons", nargs="*", default=[sys.executable])
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    fmts = [f for f in args.formats.split(",") if f]
    unknown = sorted(set(fmts) - {"speedscope", "callgrind"})
    if unknown:
        parser.error(f"unknown format {unknown[0]!r}: choose from speedscope, callgrind")
    results: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    for _ in range(args.repeat):  # interleaved: every configuration once per round
        for n in sizes:
            for fmt in fmts:
                for python in args.pythons:
                    results.setdefault((python, n, fmt), []).append(
                        _measure(python, n, fmt, args.components)
                    )
    cols = [
        ("footprint_mib", "record MiB", "{:.1f}"),
        ("write_s", "export s", "{:.2f}"),
        ("write_cpu_s", "export CPU s", "{:.2f}"),
        ("peak_over_base_mib", "peak MiB", "{:.1f}"),
        ("peak_ratio", "peak/record", "{:.2f}"),
        ("output_mb", "file MB", "{:.1f}"),
    ]
    head = ["python", "nodes", "format"] + [c[1] for c in cols]
    rows = []
    for (python, n, fmt), runs in results.items():
        row = [python, str(n), fmt]
        row += [fmt_.format(statistics.median(r[key] for r in runs)) for key, _, fmt_ in cols]
        rows.append(row)
    print_table(head, rows)
    if not all(r["exact_peak"] for runs in results.values() for r in runs):
        print("(VmHWM could not be reset: the peak includes the recording's own peak)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
