"""What a background checkpoint (``settings.checkpoint_interval``) costs the program.

    python benchmarks/checkpoint.py [--nodes N] [--checkpoints K] [--skip-overhead]
        [--repeats R] [--warmup W] [--scale S] [--workloads NAME ...]

(a) The pause. A call graph of ``--nodes`` nodes (default 100,000: 100 regions of 1,000
    children each, ``wall_clock``) is recorded in this process; then the main thread runs a
    tight loop that times each of its own iterations, first alone (the noise floor of this
    machine, in the same run), then while another thread writes ``--checkpoints``
    checkpoints one after the other (``timemory._checkpoint.write_checkpoint``, exactly what
    the checkpoint thread does). Three loops: ``plain`` (no timemory call), ``marker``
    (enters and leaves an existing region each iteration: records into the graph being
    copied) and ``new nodes`` (a new region every 1,000 iterations: waits whenever the
    snapshot holds the graph's structure lock). Reported: the longest iteration (the longest
    stall of the main thread) alone and during checkpoints, the 99.9th percentile, and the
    median duration of one checkpoint. Target: a stall of at most 20 ms.

(b) The overhead. ``benchmarks/profiler_overhead.py``'s workloads (each a fresh process, timed
    from outside, repeats interleaved) under ``python -m timemory.profiler -c wall_clock``
    with ``--checkpoint-interval 0`` and with ``--checkpoint-interval 1``: the ratio of the
    median wall times in the same run. Target: at most 1.03.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def build_graph(nodes: int) -> int:
    from timemory import _core, region

    region.set_default(["wall_clock"])
    width = 1000
    top = max(nodes // width, 1)
    for i in range(top):
        region.push(f"top-{i}")
        for j in range(width):
            region.push(f"child-{j}")
            region.pop(f"child-{j}")
        region.pop(f"top-{i}")
    return int(_core.graph_size(_core_index()))


def _core_index() -> int:
    from timemory._components import resolve

    return int(resolve(["wall_clock"])[0])


def _loop(kind: str, until: threading.Event, gaps: list[float], limit: int) -> None:
    """Time each iteration of a tight loop until ``until`` is set (or ``limit`` iterations)."""
    from timemory import region

    clock = time.perf_counter
    last = clock()
    n = 0
    while not until.is_set() and n < limit:
        if kind == "marker":
            region.push("loop")
            region.pop("loop")
        elif kind == "new nodes" and n % 1000 == 0:
            label = f"new-{n}"
            region.push(label)
            region.pop(label)
        else:
            sum(range(20))
        now = clock()
        gaps.append(now - last)
        last = now
        n += 1


def pause(kind: str, checkpoints: int, baseline_seconds: float) -> dict[str, float]:
    from timemory import _checkpoint

    # alone: the same loop for a fixed time, the machine's own noise
    alone: list[float] = []
    stop = threading.Event()
    timer = threading.Timer(baseline_seconds, stop.set)
    timer.start()
    _loop(kind, stop, alone, 10**9)
    timer.join()

    during: list[float] = []
    durations: list[float] = []
    done = threading.Event()

    def writer() -> None:
        try:
            for _ in range(checkpoints):
                t0 = time.perf_counter()
                if not _checkpoint.write_checkpoint():
                    raise RuntimeError("the checkpoint was not written")
                durations.append(time.perf_counter() - t0)
        finally:
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    _loop(kind, done, during, 10**9)
    thread.join()
    ms = 1e3
    return {
        "alone_max_ms": max(alone) * ms,
        "alone_p999_ms": _quantile(alone, 0.999) * ms,
        "max_ms": max(during) * ms,
        "p999_ms": _quantile(during, 0.999) * ms,
        "checkpoint_ms": statistics.median(durations) * ms,
        "iterations": float(len(during)),
    }


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def part_a(nodes: int, checkpoints: int) -> None:
    folder = tempfile.mkdtemp(prefix="tm-checkpoint-bench-")
    os.environ["TIMEMORY_OUTPUT_PATH"] = folder
    import timemory
    from timemory import settings

    settings.output_path = folder
    settings.cout_output = False
    try:
        t0 = time.perf_counter()
        size = build_graph(nodes)
        print(
            f"(a) pause: {size} nodes recorded in {time.perf_counter() - t0:.1f} s; "
            f"{checkpoints} checkpoints per loop (Python {sys.version.split()[0]})"
        )
        head = (
            f"{'loop':<10} {'alone max':>10} {'alone p99.9':>12} {'ckpt max':>10} "
            f"{'ckpt p99.9':>11} {'checkpoint':>11}"
        )
        print(head)
        for kind in ("plain", "marker", "new nodes"):
            r = pause(kind, checkpoints, 2.0)
            print(
                f"{kind:<10} {r['alone_max_ms']:>8.2f}ms {r['alone_p999_ms']:>10.3f}ms "
                f"{r['max_ms']:>8.2f}ms {r['p999_ms']:>9.3f}ms {r['checkpoint_ms']:>9.0f}ms"
            )
        files = sorted(os.listdir(folder))
        print(f"    files of the last checkpoint: {', '.join(files)}")
        timemory.settings.auto_output = False  # the benchmark's graph is not worth writing
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def part_b(repeats: int, warmup: int, scale: float, workloads: list[str] | None) -> None:
    sys.path.insert(0, HERE)
    import profiler_overhead as po

    base = ("-m", "timemory.profiler", "-c", "wall_clock", "-d", "{out}")
    tools = [
        po.Tool("off", "checkpoints off", (*base, "--checkpoint-interval", "0", "--")),
        po.Tool("1s", "checkpoint every 1 s", (*base, "--checkpoint-interval", "1", "--")),
    ]
    chosen = [w for w in po.WORKLOADS if workloads is None or w.name in workloads]
    chosen = [w for w in chosen if all(_importable(m) for m in w.requires)]
    cells = po.benchmark(sys.executable, chosen, tools, repeats, warmup, scale, 600.0)
    print(f"(b) overhead of a 1-s interval, {repeats} interleaved repeats, scale {scale}")
    print(f"{'workload':<12} {'off (s)':>9} {'1 s (s)':>9} {'ratio':>7}")
    ratios = []
    for name, row in cells.items():
        off, on = row["off"], row["1s"]
        if off.error or on.error or not off.wall or not on.wall:
            print(f"{name:<12} failed: {off.error or on.error}")
            continue
        a, b = statistics.median(off.wall), statistics.median(on.wall)
        ratios.append(b / a)
        print(f"{name:<12} {a:>9.3f} {b:>9.3f} {b / a:>7.3f}")
    if ratios:
        print(f"{'geomean':<12} {'':>9} {'':>9} {statistics.geometric_mean(ratios):>7.3f}")


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--checkpoints", type=int, default=5)
    parser.add_argument("--skip-overhead", action="store_true", help="only part (a)")
    parser.add_argument("--skip-pause", action="store_true", help="only part (b)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--scale", type=float, default=2.0)
    parser.add_argument("--workloads", nargs="+", default=None)
    args = parser.parse_args(argv)
    if not args.skip_overhead:
        part_b(args.repeats, args.warmup, args.scale, args.workloads)
    if not args.skip_pause:
        part_a(args.nodes, args.checkpoints)
    return 0


if __name__ == "__main__":
    sys.exit(main())
