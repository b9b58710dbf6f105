"""What each export costs for a large call graph: the time to write it and the peak RSS during
the write, against the recording's own footprint measured in the same run.

    python benchmarks/exports.py [--nodes 1000000] [--formats pstats,speedscope,...]
                                 [--components wall_clock,peak_rss] [--repeat N] [--check]

For each format a fresh interpreter records ``--nodes`` call-graph nodes (distinct region
labels: groups of 100 under a parent of their own, the parents under one root, as
benchmarks/write_path.py's tree shape), then writes that one export the way the write at exit
does (the writer over this process's live graphs, streamed to the file atomically). Reported
per format: the recording's footprint (RSS added by the nodes), the write's wall and CPU time,
the peak RSS during the write above the RSS before recording and its ratio to the footprint
(the recording itself counts 1.0), and the file's size. ``tree`` (the tree JSON every run
writes by default) is accepted as a reference row.

Targets (issue 17): each export of 1,000,000 nodes in at most 5 s, peak RSS at most 1.25x the
recording footprint. ``--check`` exits with status 1 when a format misses one. Formats whose
writer is not in the installed build are reported as missing and skipped (``--formats`` names
them explicitly). The peak is VmHWM after resetting it (``/proc/self/clear_refs``) once the
nodes are recorded (Linux).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from _child import print_table, run_child, write_costs

# The child: records `n` nodes, then writes one export; prints one JSON line.
_CHILD = r"""
import json, os, resource, sys, time
n, name, out, components = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
    return 0

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

os.environ["TIMEMORY_GLOBAL_COMPONENTS"] = components
import timemory
from timemory import _core, _processes, region, settings
from timemory._files import atomic_write_by
from timemory._output import _exports
settings.cout_output = False
settings.auto_output = False
if name == "tree":
    index = _core.find_component(components.split(",")[0])
    def write(path):
        head = '{"timemory": {"' + _core.component_info(index)["key"] + '": '
        meta = _processes.output_meta(1)
        atomic_write_by(path, lambda p: _core.write_live_tree_json(
            p, index, meta, "graph", head, "}}\n", False))
else:
    make = _exports._writer(name)
    def write(path):
        _exports._write_file(path, make(_exports.ExportSource.live()))
labels = [f"node_{i}" for i in range(n)]  # made before the baseline: not the recording's cost
base = status("VmRSS:")
start = time.perf_counter()
region.push("root")
for g in range(0, n, 100):
    parent = labels[g]
    region.push(parent)
    for label in labels[g + 1 : g + 100]:
        region.push(label)
        region.pop(label)
    region.pop(parent)
region.pop("root")
record_s = time.perf_counter() - start
recorded = status("VmRSS:")
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS
    reset = True
except OSError:
    reset = False
path = os.path.join(out, "export.out")
start, start_cpu = time.perf_counter(), cpu()
write(path)
elapsed, elapsed_cpu = time.perf_counter() - start, cpu() - start_cpu
peak = status("VmHWM:")
print(json.dumps({"base": base, "recorded": recorded, "peak": peak, "reset": reset,
                  "record_s": record_s, "write_s": elapsed, "write_cpu_s": elapsed_cpu,
                  "bytes": os.path.getsize(path)}))
"""

TARGET_SECONDS = 5.0
TARGET_PEAK_RATIO = 1.25


def _measure(python: str, n: int, name: str, components: str) -> dict[str, float]:
    r = run_child(
        python,
        _CHILD,
        [str(n), name, "{out}", components],
        f"{name} ({n} nodes)",
        env={k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")},
        timeout=3600,
    )
    return {**write_costs(r), "record_s": r["record_s"]}


def _available(python: str, names: list[str]) -> list[str]:
    """The formats of ``names`` whose writer the interpreter's timemory has."""
    code = (
        "import sys; from timemory._output import _exports\n"
        "print(','.join(n for n in sys.argv[1:] if n == 'tree' or _exports.available(n)))"
    )
    proc = subprocess.run(
        [python, "-c", code, *names], capture_output=True, text=True, timeout=300, check=True
    )
    return [n for n in proc.stdout.strip().split(",") if n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="call-graph nodes (1M)")
    parser.add_argument(
        "--formats",
        default="pstats,speedscope,callgrind,perfetto,tree",
        help="comma-separated exports (and 'tree', the tree JSON, as a reference)",
    )
    parser.add_argument(
        "--components", default="wall_clock", help="comma-separated components recorded"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per format (medians)")
    parser.add_argument("--python", default=sys.executable, help="interpreter with timemory")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    wanted = [n for n in args.formats.split(",") if n]
    names = _available(args.python, wanted)
    for missing in [n for n in wanted if n not in names]:
        print(f"{missing}: its writer is not in this build; skipped", file=sys.stderr)
    results: dict[str, list[dict[str, float]]] = {}
    for _ in range(args.repeat):  # interleaved: every format once per round
        for name in names:
            results.setdefault(name, []).append(
                _measure(args.python, args.nodes, name, args.components)
            )
    cols = [
        ("footprint_mib", "record MiB", "{:.1f}"),
        ("record_s", "record s", "{:.2f}"),
        ("write_s", "write s", "{:.2f}"),
        ("write_cpu_s", "write CPU s", "{:.2f}"),
        ("peak_over_base_mib", "peak MiB", "{:.1f}"),
        ("peak_ratio", "peak/record", "{:.2f}"),
        ("output_mb", "file MB", "{:.1f}"),
    ]
    head = ["format", "nodes"] + [c[1] for c in cols]
    rows, missed = [], []
    for name, runs in results.items():
        median = {key: statistics.median(r[key] for r in runs) for key, _, _ in cols}
        rows.append([name, str(args.nodes)] + [fmt.format(median[k]) for k, _, fmt in cols])
        if name != "tree" and (
            median["write_s"] > TARGET_SECONDS or median["peak_ratio"] > TARGET_PEAK_RATIO
        ):
            missed.append(name)
    print_table(head, rows)
    if not all(r["exact_peak"] for runs in results.values() for r in runs):
        print("(VmHWM could not be reset: the peak includes the recording's own peak)")
    print(
        f"targets: write <= {TARGET_SECONDS:g} s, peak/record <= {TARGET_PEAK_RATIO:g}"
        + (
            f"; missed by: {', '.join(missed)}"
            if missed
            else "; met"
            if any(n != "tree" for n in results)
            else "; no export measured"
        )
    )
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
