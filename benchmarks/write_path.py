"""What writing the output costs against recording it: for 10k, 100k and 1M call-graph nodes
(distinct region labels, a flat list and a tree shape), the recording's footprint (RSS added by
the nodes), the time (wall and CPU: on a loaded machine the CPU time is the steadier figure) of
the write at exit (``timemory.finalize()`` with the default formats:
flat JSON, tree JSON, flame graph, text table), the peak RSS during the write above the RSS
before recording (its ratio to the footprint), bytes of RSS per node and the size of the files.

    python benchmarks/write_path.py [--sizes 10000,100000,1000000] [--repeat N] [PYTHON ...]
    python benchmarks/write_path.py --identical 100000 OLD_PYTHON NEW_PYTHON

``--identical N`` checks instead that two builds write the same bytes: each records N nodes
(both shapes, under the tests' fake clock, so that every value is the same in both runs), writes
them, and the files are compared (metadata.json, which holds times and the environment, aside;
the process id, written in the trees and the flame graph, is set to one number first, and the
temporary folder's name, which the text table gives, to one name).

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


# The child of --identical: n nodes of each shape under the fake clock, each node's time
# different (some of them whole microseconds, others not: both number forms are written).
_SAME = r"""
import os, sys
n, out = int(sys.argv[1]), sys.argv[2]
import timemory
from timemory import _core, region, settings
settings.output_path = out
settings.cout_output = False
_core._test_clock(True, 1_000_000_000, 1_000_000_000)
for shape in ("flat", "tree"):  # the tree: groups of 100 nodes under a parent each
    region.push(shape)
    for i in range(n):
        if shape == "tree" and i % 100 == 0:
            region.push(f"group_{i // 100}")
        name = f"{shape}_node_{i}"
        region.push(name)
        _core._test_clock_advance(1000 * (i % 7) + (i % 3) * 333, 0)
        region.pop(name)
        if shape == "tree" and (i % 100 == 99 or i == n - 1):
            region.pop(f"group_{i // 100}")
    region.pop(shape)
timemory.finalize()
print(os.getpid())
"""


def _written(python: str, n: int) -> dict[str, bytes]:
    """The files a build writes for --identical (name: bytes, the pid replaced by 0)."""
    import shutil
    import subprocess
    import tempfile

    out = tempfile.mkdtemp(prefix="timemory-same-")
    try:
        proc = subprocess.run(
            [python, "-c", _SAME, str(n), os.path.join(out, "data")],
            capture_output=True,
            cwd=out,
            env=dict(os.environ, TIMEMORY_COUT_OUTPUT="OFF"),
            timeout=1800,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{python} failed:\n{proc.stderr.decode()[-2000:]}")
        pid = proc.stdout.split()[-1]
        files = {}
        for folder, _, names in os.walk(out):
            for name in names:
                if name == "metadata.json":
                    continue
                with open(os.path.join(folder, name), "rb") as f:
                    data = f.read()
                rel = os.path.relpath(os.path.join(folder, name), out)
                data = data.replace(os.fsencode(out), b"OUT")  # the table names the JSON file
                files[rel] = data.replace(b'"pid":[' + pid + b"]", b'"pid":[0]').replace(
                    b'"pid":' + pid + b",", b'"pid":0,'
                )
        return files
    finally:
        shutil.rmtree(out, ignore_errors=True)


def identical(n: int, pythons: list[str]) -> int:
    """--identical: 0 when every build wrote the same files with the same bytes."""
    first = _written(pythons[0], n)
    status = 0
    for python in pythons[1:]:
        other = _written(python, n)
        if sorted(first) != sorted(other):
            print(f"different files: {sorted(first)} / {sorted(other)}")
            status = 1
        for name in sorted(set(first) & set(other)):
            same = first[name] == other[name]
            status = status or (0 if same else 1)
            print(f"{name}: {len(first[name]):,} bytes, {'identical' if same else 'DIFFERENT'}")
    return status


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
    parser.add_argument(
        "--identical", type=int, default=0, metavar="N", help="compare the builds' files instead"
    )
    parser.add_argument("pythons", nargs="*", default=[sys.executable])
    args = parser.parse_args(argv)
    if args.identical:
        if len(args.pythons) < 2:
            parser.error("--identical compares two or more interpreters (PYTHON ...)")
        return identical(args.identical, args.pythons)
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
