"""A run store at scale: opening it, filtering it, loading it as one pandas DataFrame.

    python benchmarks/runs_scale.py [--runs N] [--nodes P] [--repeats R] [--dir DIR] [--keep]
                                    [--thicket]

A synthetic store of N runs (default 10,000) is written straight in the store's on-disk format
(``timemory-store.json``, then per run ``runs/<id>/run.json`` and ``runs/<id>/table.json``):
a call tree of P nodes (default 200), R repeats (default 10) of wall_clock values with
log-normal noise (10% spread), parameters ``n`` (10 values), ``mode`` (4 values: runs of mode
``"extra"`` have two more nodes) and ``seed`` (the rest of the N). It is written by a child
process, so the figures below are those of a process that only reads. Reported:

- open + filter: ``Store(DIR, create=False)`` then ``get_runs_with(n=1000)``, the first time
  (no index: the store reads every run.json and writes its index) and again (from the
  index); target < 1 s;
- the ensemble: ``timemory.runs.ensemble(DIR)`` (every run's table.json read and the
  statistics computed: one DataFrame of P x N rows), target < 30 s, against the floor measured
  in the same run: ``json.loads`` of every table.json alone (what any reader of these files
  pays); then ``ensemble(runs)`` of the runs the filter selected;
- peak RSS of the reading process (``ru_maxrss``) after each step;
- with ``--thicket``: ``Ensemble.to_thicket()`` of the whole store (needs llnl-thicket).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

#: The targets of the issue for 10,000 runs of a 200-node graph (seconds).
OPEN_TARGET = 1.0
FRAME_TARGET = 30.0

N_VALUES = (100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
MODES = ("fast", "safe", "auto", "extra")


def _canonical_json(obj: object) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def _tree(nodes: int, rng: object) -> tuple[list[str], list[int]]:
    """A random call tree in pre-order: labels and parent indices (depth at most 8)."""
    labels = ["main"]
    parents = [-1]
    depth = [0]
    # grow by attaching each new node under a random earlier node, then put it in pre-order
    children: list[list[int]] = [[]]
    for i in range(1, nodes):
        while True:
            p = int(rng.integers(0, i))  # type: ignore[attr-defined]
            if depth[p] < 8:
                break
        children[p].append(i)
        children.append([])
        depth.append(depth[p] + 1)
    order: list[int] = []
    stack = [0]
    while stack:
        i = stack.pop()
        order.append(i)
        stack.extend(reversed(children[i]))
    position = {old: new for new, old in enumerate(order)}
    parent_of = {c: p for p in range(nodes) for c in children[p]}
    labels = [
        "main" if old == 0 else f"kernel_{old % 37}@solver/step_{old}.py:{old}" for old in order
    ]
    parents = [-1 if old == 0 else position[parent_of[old]] for old in order]
    return labels, parents


def generate(path: str, runs: int, nodes: int, repeats: int) -> None:
    """The synthetic store (see the module's text)."""
    import numpy as np

    rng = np.random.default_rng(18)
    os.makedirs(os.path.join(path, "runs"), exist_ok=True)
    created = "2026-01-01T00:00:00+00:00"
    with open(os.path.join(path, "timemory-store.json"), "w") as stream:
        json.dump({"format": "timemory-run-store", "version": 1, "created": created}, stream)
    shapes = {}
    tree = _tree(nodes, rng)
    for mode in MODES:
        labels, parents = tree
        if mode == "extra":  # two nodes the other modes lack, under the top level
            labels = [*labels, "extra_setup", "extra_teardown"]
            parents = [*parents, 0, 0]
        count = len(labels)
        # inclusive = descendants' self values summed: one matrix product per run
        below = np.eye(count)
        for i in range(count - 1, 0, -1):
            below[parents[i]] += below[i]
        shapes[mode] = (labels, parents, below)
    base = rng.lognormal(mean=12.0, sigma=1.0, size=nodes + 2)  # ns per node
    environment = {"python": sys.version.split()[0], "timemory": "0.1.0", "cpu": "synthetic"}
    for k in range(runs):
        n = N_VALUES[k % len(N_VALUES)]
        mode = MODES[(k // len(N_VALUES)) % len(MODES)]
        seed = k // (len(N_VALUES) * len(MODES))
        parameters = {"mode": mode, "n": n, "seed": seed}
        run_id = hashlib.sha256(
            _canonical_json(
                {"parameters": parameters, "code": "bench", "environment": environment}
            ).encode()
        ).hexdigest()[:16]
        labels, parents, below = shapes[mode]
        count = len(labels)
        own = base[:count, None] * (n / 1000.0) * rng.lognormal(0.0, 0.1, size=(count, repeats))
        own = np.rint(own)
        inclusive = below @ own
        laps = np.ones((count, repeats))
        table = {
            "format": "timemory-run-table",
            "version": 1,
            "repeats": repeats,
            "labels": labels,
            "parents": parents,
            "components": {
                "wall_clock": {
                    "unit": "ns",
                    "inclusive": inclusive.tolist(),
                    "self": own.tolist(),
                    "count": laps.tolist(),
                }
            },
        }
        manifest = {
            "format": "timemory-run",
            "version": 1,
            "id": run_id,
            "parameters": parameters,
            "code": "bench",
            "environment": environment,
            "target": {"kind": "callable", "name": "bench:solve", "args": []},
            "components": ["wall_clock"],
            "repeats": repeats,
            "requested": repeats,
            "done": True,
            "status": "done",
            "error": None,
            "result": None,
            "runtime": [float(x) / 1e9 for x in inclusive[0]],
            "created": f"2026-01-01T00:00:{k // 1000:02d}.{k % 1000:03d}000+00:00",
            "finished": created,
        }
        folder = os.path.join(path, "runs", run_id)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "table.json"), "w") as stream:
            json.dump(table, stream, separators=(",", ":"))
        with open(os.path.join(folder, "run.json"), "w") as stream:
            json.dump(manifest, stream, separators=(",", ":"))


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(f, *args, **kwargs):  # type: ignore[no-untyped-def]
    """(f's result, wall seconds, CPU seconds of this process): on a shared machine the CPU
    time is the steadier figure, the wall time what a user waits."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = f(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def open_and_filter(path: str, n: int) -> tuple[int, list[object]]:
    """(runs in the store, the runs selected)."""
    from timemory.runs import Store

    store = Store(path, create=False)
    return len(store.runs), store.get_runs_with(n=n)


def parse_tables(path: str) -> int:
    """Every table.json parsed with json.loads, nothing else: the floor of any reader."""
    runs_dir = os.path.join(path, "runs")
    count = 0
    for name in os.listdir(runs_dir):
        with open(os.path.join(runs_dir, name, "table.json"), "rb") as stream:
            json.loads(stream.read())
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument(
        "--dir",
        help="the store's folder, written when it holds no store yet, then left there "
        "(default: a temporary folder, removed at the end)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary store")
    parser.add_argument("--thicket", action="store_true", help="also time to_thicket()")
    parser.add_argument("--generate-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 1 or args.nodes < 2 or args.repeats < 1:
        parser.error("--runs must be at least 1, --nodes 2 and --repeats 1")

    if args.generate_only:
        generate(args.dir, args.runs, args.nodes, args.repeats)
        return

    owned = args.dir is None
    path = args.dir or tempfile.mkdtemp(prefix="timemory-runs-scale-")
    try:
        if not os.path.exists(os.path.join(path, "timemory-store.json")):
            start = time.perf_counter()
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--generate-only",
                    "--dir",
                    path,
                    "--runs",
                    str(args.runs),
                    "--nodes",
                    str(args.nodes),
                    "--repeats",
                    str(args.repeats),
                ],
                check=True,
            )
            print(
                f"wrote {args.runs:,} runs of {args.nodes} nodes x {args.repeats} repeats in "
                f"{time.perf_counter() - start:.1f} s: {path}"
            )
        else:
            print(f"reading the store in {path} (already written)")
        measure(path, args.thicket)
    finally:
        if owned and not args.keep:
            shutil.rmtree(path, ignore_errors=True)
        elif owned:
            print(f"kept {path}")


def verdict(seconds: float, target: float) -> str:
    return f"target < {target:.0f} s: {'met' if seconds < target else 'MISSED'}"


def measure(path: str, thicket: bool) -> None:
    import pandas  # noqa: F401 - imported before the clocks start, as a session has it
    import timemory.runs

    rss0 = peak_rss_mib()
    (total, selected), first, first_cpu = timed(open_and_filter, path, 1000)
    (total, selected), again, again_cpu = timed(open_and_filter, path, 1000)
    print(
        f"Store(DIR, create=False) + get_runs_with(n=1000) ({total:,} runs, "
        f"{len(selected):,} selected): "
        f"first {first:.3f} s (CPU {first_cpu:.3f} s), again {again:.3f} s "
        f"(CPU {again_cpu:.3f} s); {verdict(max(first, again), OPEN_TARGET)}; "
        f"peak RSS {peak_rss_mib():.0f} MiB"
    )

    _, floor, floor_cpu = timed(parse_tables, path)
    ens, wall, cpu = timed(timemory.runs.ensemble, path)
    frame = ens.dataframe
    print(
        f"ensemble of the store ({len(ens.runs):,} runs x {len(ens.nodes)} nodes: "
        f"{frame.shape[0]:,} rows x {frame.shape[1]} columns, "
        f"{frame.memory_usage().sum() / 2**20:.0f} MiB): {wall:.1f} s (CPU {cpu:.1f} s); "
        f"{verdict(wall, FRAME_TARGET)}; peak RSS {peak_rss_mib():.0f} MiB "
        f"(before: {rss0:.0f} MiB)"
    )
    print(
        f"  floor, json.loads of every table.json alone: {floor:.1f} s (CPU {floor_cpu:.1f} s);"
        f" ensemble / floor: {cpu / floor_cpu:.2f}x in CPU time"
    )
    sub, wall, cpu = timed(ens.filter_metadata, n=1000, mode__in=["fast", "safe"])
    print(
        f"Ensemble.filter_metadata(n=1000, mode__in=[fast, safe]): {wall:.2f} s "
        f"(CPU {cpu:.2f} s; {len(sub.runs):,} runs)"
    )
    groups, wall, cpu = timed(ens.groupby, "mode")
    print(f"Ensemble.groupby('mode'): {wall:.2f} s (CPU {cpu:.2f} s; {len(groups)} groups)")
    if thicket:
        tk, wall, cpu = timed(ens.to_thicket)
        print(
            f"to_thicket of the store: {wall:.1f} s (CPU {cpu:.1f} s; {len(tk.profile):,} "
            f"profiles); peak RSS {peak_rss_mib():.0f} MiB"
        )
        del tk
    del ens, frame, sub, groups

    if selected:
        sub, wall, cpu = timed(timemory.runs.ensemble, selected)
        print(
            f"ensemble of the {len(selected):,} runs selected: {wall:.2f} s (CPU {cpu:.2f} s; "
            f"{sub.dataframe.shape[0]:,} rows)"
        )


if __name__ == "__main__":
    main()
