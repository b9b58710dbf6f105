"""What the pstats export costs for large call graphs: the time (wall and CPU) of
``make_pstats`` (the file's bytes) and of ``stream_pstats`` (the file written in chunks) on
this process's live graph, the peak RSS during each above the RSS before recording (and its
ratio to the recording's footprint), and the size of the file, for three shapes of about 1M
nodes:

* ``distinct``: every node a label of its own (groups of 100 under a parent, as
  benchmarks/write_path.py's tree): 1M functions, 1M caller edges;
* ``shared``: 1,000 parents with the same 1,000 children each: 2,000 functions but 1M distinct
  caller edges (the most a pstats file can hold for that many nodes);
* ``recursive``: a 10-ary tree 6 levels deep of 10 labels (a recursion's shape): 1.1M nodes,
  10 functions, 100 edges.

    python benchmarks/pstats_export.py [--nodes 1000000] [--repeat N] [PYTHON ...]

Each measurement runs in a fresh interpreter; the peak is VmHWM after resetting it
(``/proc/self/clear_refs``) once the nodes are recorded. Each PYTHON is an interpreter with
timemory installed (default: this one); several are run interleaved. Medians are printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

# The child: records about `n` nodes of one shape, then makes the pstats file; one JSON line.
_CHILD = r"""
import json, math, os, sys, tempfile, time, types
n, shape = int(sys.argv[1]), sys.argv[2]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return 0

import timemory
from timemory import _core, region, settings
from timemory._output._pstats import make_pstats, stream_pstats
settings.auto_output = False
wall = _core.find_component("wall_clock")
labels = [f"node_{i}" for i in range(n)] if shape == "distinct" else []
base = status("VmRSS:")
if shape == "distinct":
    for g in range(0, n, 100):
        region.push(labels[g])
        for name in labels[g + 1 : g + 100]:
            region.push(name)
            region.pop(name)
        region.pop(labels[g])
elif shape == "shared":
    width = max(1, int(n ** 0.5))
    children = [f"child_{j}" for j in range(width)]
    for i in range(width):
        region.push(f"parent_{i}")
        for name in children:
            region.push(name)
            region.pop(name)
        region.pop(f"parent_{i}")
else:
    def tree(depth):
        for k in range(10):
            region.push(f"f{k}")
            if depth > 1:
                tree(depth - 1)
            region.pop(f"f{k}")
    tree(max(1, round(math.log10(max(n, 10)))))
recorded = status("VmRSS:")
src = types.SimpleNamespace(indices=[wall], native=[wall], rank=0, copy=False)
out = {"footprint": recorded - base}

def measure(name, make):
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    w0, c0 = time.perf_counter(), time.process_time()
    size = make()
    w1, c1 = time.perf_counter(), time.process_time()
    out.update({name + "_wall": w1 - w0, name + "_cpu": c1 - c0,
                name + "_peak": status("VmHWM:") - base, "bytes": size})

measure("bytes", lambda: len(make_pstats(src)))  # the file's bytes in memory
with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "run.prof")
    measure("file", lambda: stream_pstats(src)(path) or os.path.getsize(path))  # streamed
print(json.dumps(out))
timemory.clear()
"""

SHAPES = ("distinct", "shared", "recursive")
HEADER = "| python | shape | way | wall s | CPU s | footprint MiB | peak MiB | ratio | file MiB |"


def run(python: str, n: int, shape: str) -> dict[str, float]:
    proc = subprocess.run(
        [python, "-c", _CHILD, str(n), shape], capture_output=True, text=True, timeout=1800
    )
    if proc.returncode != 0:
        raise SystemExit(f"{python} {shape}: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("pythons", nargs="*", default=[sys.executable])
    args = parser.parse_args(argv)
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(args.repeat):
        for shape in SHAPES:
            for python in args.pythons:
                results.setdefault((python, shape), []).append(run(python, args.nodes, shape))
    print(f"pstats export of about {args.nodes:,} nodes, medians of {args.repeat} runs")
    print("bytes: make_pstats (the file in memory); file: stream_pstats (written in chunks);")
    print("peak: the peak RSS during the export above the RSS before recording")
    print(HEADER)
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    mib = 1024 * 1024
    for (python, shape), runs in results.items():

        def med(key: str, runs: list[dict[str, float]] = runs) -> float:
            return statistics.median(r[key] for r in runs)

        footprint = med("footprint")
        for way in ("bytes", "file"):
            peak = med(f"{way}_peak")
            print(
                f"| {python} | {shape} | {way} | {med(f'{way}_wall'):.2f} | "
                f"{med(f'{way}_cpu'):.2f} | {footprint / mib:.1f} | {peak / mib:.1f} | "
                f"{peak / max(footprint, 1):.2f} | {med('bytes') / mib:.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
