"""Resident memory per call-graph node: VmRSS growth while distinct regions are recorded.

    python benchmarks/node_memory.py [--sizes 100000,1000000] [--repeats R]
                                     [--python OTHER_PYTHON] [--json FILE]

Each case runs in a fresh interpreter: the labels are built first (their Python strings are
not part of the figure), one region is recorded so the thread's graph exists, then VmRSS is
read before and after ``timemory.region.push(label); timemory.region.pop(label)`` for every
label (each a new top-level node). Bytes per node = RSS growth / nodes. The figure includes
everything a node costs: the graph's node and values, its lookup entry, the label database
entry, and allocator slack. Cases: ``wall_clock`` only, and ``wall_clock`` + ``peak_rss``
(two graphs). Labels are ``"region_<i>"`` (short: stored inline in a std::string); the
``long`` case uses 40-character labels, as the profiler's ``function@file:line`` are.

``--python`` runs the same cases with another interpreter too (e.g. a venv holding the build
before a change), interleaved with this one so machine noise hits both alike; the ratios
printed are this interpreter's figure over the other's. The median over repeats is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CHILD = r"""
import sys
n, comps = int(sys.argv[1]), sys.argv[2].split(",")
long_labels, api = sys.argv[3] == "1", sys.argv[4]
import timemory
from timemory import region
from timemory.bundle import marker
timemory.settings.auto_output = False
region.set_default(comps)
fmt = "module/some_function_name@file_{:07d}.py:123" if long_labels else "region_{}"
labels = [fmt.format(i) for i in range(n)]

def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")

region.push("warm-up")
region.pop("warm-up")
with marker(comps, key="warm-up"):
    pass
push, pop = region.push, region.pop
before = rss()
if api == "marker":
    for label in labels:
        with marker(comps, key=label):
            pass
else:
    for label in labels:
        push(label)
        pop(label)
after = rss()
print(after - before)
"""

CASES = [
    ("wall_clock", "wall_clock", False, "marker"),
    ("wall_clock+peak_rss", "wall_clock,peak_rss", False, "marker"),
    ("wall_clock long labels", "wall_clock", True, "marker"),
    ("wall_clock region API", "wall_clock", False, "region"),
]


def measure(python: str, n: int, comps: str, long_labels: bool, api: str) -> int:
    out = subprocess.run(
        [python, "-c", CHILD, str(n), comps, "1" if long_labels else "0", api],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return int(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--python", default=None, help="another interpreter to compare against")
    ap.add_argument("--json", default=None, help="write the figures to this file")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        print(f"--sizes: expected comma-separated ints, got {args.sizes!r}", file=sys.stderr)
        return 2
    pythons = [("this", sys.executable)] + ([("other", args.python)] if args.python else [])
    results: dict[str, dict[str, float]] = {}
    for name, comps, long_labels, api in CASES:
        for n in sizes:
            samples: dict[str, list[int]] = {tag: [] for tag, _ in pythons}
            for _ in range(args.repeats):
                for tag, py in pythons:
                    samples[tag].append(measure(py, n, comps, long_labels, api))
            row = {tag: statistics.median(v) / n for tag, v in samples.items()}
            results[f"{name} n={n}"] = row
            line = f"{name:24s} n={n:>8d}  " + "  ".join(
                f"{tag}: {b:7.1f} B/node" for tag, b in row.items()
            )
            if "other" in row and row["other"]:
                line += f"  ratio this/other: {row['this'] / row['other']:.3f}"
            print(line, file=sys.stderr)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
