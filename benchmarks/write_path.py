"""What writing the output costs against recording it: for 10k, 100k and 1M call-graph nodes
(distinct region labels, a flat list and a tree shape), the recording's footprint (RSS added by
the nodes), the time (wall and CPU: on a loaded machine the CPU time is the steadier figure) of
the write at exit (``timemory.finalize()`` with the default formats:
flat JSON, tree JSON, flame graph, text table), the peak RSS during the write above the RSS
before recording (its ratio to the footprint), bytes of RSS per node and the size of the files.

    python benchmarks/write_path.py [--sizes 10000,100000,1000000] [--repeat N] [PYTHON ...]

Each measurement runs in a fresh interpreter; the peak of the write is VmHWM after resetting it
(``/proc/self/clear_refs``) once the nodes are recorded. Each PYTHON is an interpreter with
timemory installed (default: this one); give two (an old build's venv and a new one's) to
compare them, runs interleaved so that machine noise hits them alike. Medians are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

from _child import print_table, run_child, write_costs

# The child: records `n` nodes of one shape, then writes them; prints one JSON line.
_CHILD = r"""
import json, os, sys, time
n, shape, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return 0

import timemory
from timemory import region, settings
settings.output_path = out
settings.cout_output = False
labels = [f"node_{i}" for i in range(n)]  # made before the baseline: not the recording's cost
base = status("VmRSS:")
if shape == "flat":
    for name in labels:
        region.push(name)
        region.pop(name)
else:  # a tree: groups of 100 nodes, each under a parent of its own, the parents under one root
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
start, start_cpu = time.perf_counter(), cpu()
timemory.finalize()
elapsed, elapsed_cpu = time.perf_counter() - start, cpu() - start_cpu
peak = status("VmHWM:")
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs)
print(json.dumps({"base": base, "recorded": recorded, "peak": peak, "reset": reset,
                  "write_s": elapsed, "write_cpu_s": elapsed_cpu, "bytes": size}))
"""


def _measure(python: str, n: int, shape: str) -> dict[str, float]:
    r = run_child(
        python,
        _CHILD,
        [str(n), shape, "{out}/data"],
        f"{python} ({n} {shape})",
        env=dict(os.environ, TIMEMORY_COUT_OUTPUT="OFF"),
    )
    costs = write_costs(r)
    costs["bytes_per_node"] = costs["footprint"] / n
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="node counts")
    parser.add_argument("--shapes", default="flat,tree", help="flat, tree or both")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (3)")
    parser.add_argument("pythons", nargs="*", default=[sys.executable])
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    shapes = [s for s in args.shapes.split(",") if s]
    results: dict[tuple[str, int, str], list[dict[str, float]]] = {}
    for _ in range(args.repeat):  # interleaved: every configuration once per round
        for n in sizes:
            for shape in shapes:
                for python in args.pythons:
                    results.setdefault((python, n, shape), []).append(_measure(python, n, shape))
    cols = [
        ("footprint_mib", "record MiB", "{:.1f}"),
        ("bytes_per_node", "B/node", "{:.0f}"),
        ("write_s", "write s", "{:.2f}"),
        ("write_cpu_s", "write CPU s", "{:.2f}"),
        ("peak_over_base_mib", "write peak MiB", "{:.1f}"),
        ("peak_ratio", "peak/record", "{:.2f}"),
        ("output_mb", "output MB", "{:.1f}"),
    ]
    head = ["python", "nodes", "shape"] + [c[1] for c in cols]
    rows = []
    for (python, n, shape), runs in results.items():
        row = [python, str(n), shape]
        row += [fmt.format(statistics.median(r[key] for r in runs)) for key, _, fmt in cols]
        rows.append(row)
    print_table(head, rows)
    if not all(r["exact_peak"] for runs in results.values() for r in runs):
        print("(VmHWM could not be reset: the write peak includes the recording's own peak)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
