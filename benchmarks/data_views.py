"""The NumPy, pandas and hatchet views of a large call graph against hatchet's own reader.

    python benchmarks/data_views.py [--nodes 1000000] [--labels shared|distinct]
                                    [--repeat 5] [--check] [--no-hatchet-reader]

Records ``--nodes`` call-graph nodes of wall_clock with the region API (a tree: groups of
1,000 nodes, each under a parent of its own; ``shared`` labels repeat in every group as a
program's functions do in its call paths, ``distinct`` gives every node a label of its own),
then measures in the same run:

* the snapshot (``WallClockStorage.snapshot()``: the native copy of the graph),
* ``as_numpy()`` on that snapshot (target: < 1 ms),
* ``to_pandas()`` on that snapshot (target: < 0.5 s),
* ``to_hatchet()`` on that snapshot,
* hatchet's ``GraphFrame.from_timemory`` on the same data written to a folder (the tree JSON),
  once (it takes minutes for a million nodes); target: snapshot + ``to_pandas()`` and
  snapshot + ``as_numpy()`` each at least 10 times faster.

Each of ours is run ``--repeat`` times; the median wall time is printed (the minimum and the
median CPU time of the process beside it) in a table on stderr, with the peak RSS growth of
hatchet's reader. The targets are checked on the median wall times; ``--check`` exits 1 when
one is missed. The machine's load moves every figure; the ratios are measured in one process.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time


def _echo(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(nodes: int, labels: str) -> None:
    """``nodes`` call-graph nodes of wall_clock: groups of 1,000 (a parent and its 999
    children) at the top level."""
    from timemory import region

    region.set_default(["wall_clock"])
    push, pop = region.push, region.pop
    group = 1000
    names = [f"work_{j}" for j in range(group)]
    done = 0
    g = 0
    while done < nodes:
        size = min(group, nodes - done)
        parent = f"group_{g}"
        if labels == "shared":
            children = names[1:size]
        else:
            children = [f"node_{done + j}" for j in range(1, size)]
        push(parent)
        for name in children:
            push(name)
            pop(name)
        pop(parent)
        done += size
        g += 1


#: CPU seconds of each step's runs, by the step's wall-time list (printed beside the wall
#: times: on a loaded machine the process's CPU time is the steadier figure)
CPU: dict[int, list[float]] = {}


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times: list[float] = []
    cpu = CPU.setdefault(id(times), [])
    result = None
    for _ in range(repeat):
        result = None  # the previous result is freed before the next run, not during it
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return times, result


def once(fn) -> tuple[list[float], object]:
    return timed(fn, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1_000_000, help="call-graph nodes (1000000)")
    parser.add_argument(
        "--labels",
        choices=("shared", "distinct"),
        default="shared",
        help="labels repeated in every group (shared, the default) or one per node",
    )
    parser.add_argument("--repeat", type=int, default=5, help="runs of each of ours (5)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--no-hatchet-reader",
        action="store_true",
        help="skip hatchet's from_timemory (no ratios)",
    )
    args = parser.parse_args(argv)
    if args.nodes < 1 or args.repeat < 1:
        parser.error("--nodes and --repeat must be at least 1")

    import timemory
    from timemory import settings
    from timemory.storage import storage_class

    settings.auto_output = False
    settings.cout_output = False
    storage = storage_class("wall_clock")

    record_times, _ = once(lambda: record(args.nodes, args.labels))

    snap_times, snap = timed(storage.snapshot, args.repeat)
    numpy_times, arr = timed(snap.as_numpy, max(args.repeat, 20))
    assert len(arr) == args.nodes, (len(arr), args.nodes)
    labels = len(snap.labels)
    pandas_times, frame = timed(snap.to_pandas, args.repeat)
    assert len(frame) == args.nodes
    del frame
    hatchet_times, gf = timed(snap.to_hatchet, max(1, min(args.repeat, 3)))
    graph_nodes = len(gf.dataframe)
    del gf

    rows = [
        ("record (region push/pop)", record_times),
        ("snapshot", snap_times),
        ("as_numpy() after the snapshot", numpy_times),
        ("to_pandas() after the snapshot", pandas_times),
        ("to_hatchet() after the snapshot", hatchet_times),
    ]
    reader_s = None
    reader_mib = None
    if not args.no_hatchet_reader:
        import hatchet

        folder = tempfile.mkdtemp(prefix="timemory-data-views-")
        try:
            for name in ("text_output", "json_output", "flamegraph_output"):
                setattr(settings, name, False)
            settings.tree_output = True
            write_times, _ = once(lambda: timemory.report(folder))
            size_mb = sum(e.stat().st_size for e in os.scandir(folder)) / 1e6
            rows.append((f"write the tree JSON ({size_mb:.0f} MB)", write_times))
            before = _rss_peak_mib()
            reader_times, theirs = once(lambda: hatchet.GraphFrame.from_timemory(folder))
            reader_s = reader_times[0]
            reader_mib = _rss_peak_mib() - before
            assert len(theirs.dataframe) == graph_nodes, (len(theirs.dataframe), graph_nodes)
            del theirs
            rows.append(("hatchet GraphFrame.from_timemory(folder)", reader_times))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    snap_s = statistics.median(snap_times)
    numpy_s = statistics.median(numpy_times)
    pandas_s = statistics.median(pandas_times)
    to_hatchet_s = statistics.median(hatchet_times)

    _echo(
        f"data_views: {args.nodes:,} nodes ({labels:,} labels, {args.labels}), "
        f"median of {args.repeat} runs"
    )
    width = max(len(r[0]) for r in rows)
    _echo(f"{'step':<{width}}  {'median':>12}  {'min':>12}  {'CPU median':>12}")
    for name, times in rows:
        median, low = statistics.median(times), min(times)
        cpu = statistics.median(CPU[id(times)])
        _echo(f"{name:<{width}}  {_fmt(median):>12}  {_fmt(low):>12}  {_fmt(cpu):>12}")

    checks = [
        ("as_numpy() < 1 ms", numpy_s < 1e-3),
        ("to_pandas() < 0.5 s", pandas_s < 0.5),
    ]
    if reader_s is not None:
        pandas_ratio = reader_s / (snap_s + pandas_s)
        numpy_ratio = reader_s / (snap_s + numpy_s)
        hatchet_ratio = reader_s / (snap_s + to_hatchet_s)
        _echo(f"hatchet's reader: peak RSS +{reader_mib:,.0f} MiB")
        _echo(f"from_timemory / (snapshot + to_pandas())  = {pandas_ratio:.1f}x")
        _echo(f"from_timemory / (snapshot + as_numpy())   = {numpy_ratio:.1f}x")
        _echo(f"from_timemory / (snapshot + to_hatchet()) = {hatchet_ratio:.1f}x")
        checks += [
            ("snapshot + to_pandas() >= 10x faster than from_timemory", pandas_ratio >= 10),
            ("snapshot + as_numpy() >= 10x faster than from_timemory", numpy_ratio >= 10),
        ]
    missed = [name for name, ok in checks if not ok]
    for name, ok in checks:
        _echo(f"{'met   ' if ok else 'MISSED'} {name}")
    return 1 if args.check and missed else 0


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


if __name__ == "__main__":
    sys.exit(main())
