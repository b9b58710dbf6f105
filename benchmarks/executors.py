"""Executors at scale: a thread pool, a process pool and a Dask ``LocalCluster`` run 100,000
tasks of a tiny function, unprofiled and profiled, in one run.

    python benchmarks/executors.py
    python benchmarks/executors.py --executors threads processes --tasks 20000 --workers 4
    python benchmarks/executors.py --executors dask --tasks 100000 --first 10000

Each executor and mode runs in a fresh interpreter (this file with ``--child``): the executor
starts with ``--workers`` workers (threads, forked processes, or Dask worker processes of one
thread each), runs ``--warmup`` untimed tasks (profiled: beneath a ``warmup`` marker), then
``--first`` tasks and the rest up to ``--tasks``, timed. *Profiled*: the tasks are submitted
inside a ``submit`` marker and each runs as the tiny function measured with ``wall_clock``
beneath that call path (pools: ``timemory._context``'s ``Task`` around a function whose body is
a ``marker`` named ``tiny``; Dask: ``timemory.dask.profile(client,
components=["wall_clock"])``, which wraps every task itself). *Unprofiled*: the same tasks, no
timemory.

Reported per executor (profiled against unprofiled, measured in the same run):

- ``counted``/``lost``: the tiny function's count in the merged call graph and how many of the
  tasks it misses (must be 0);
- ``worker us/task``: CPU time of the workers (the pool threads, the pool or Dask worker
  processes: user + system, from ``/proc`` through psutil) over the timed tasks, per task;
  ``added``: profiled minus unprofiled. Dask's own scheduling costs a worker process over a
  millisecond of CPU per task, which varies by more than 10 us between runs on a shared
  machine, so for Dask ``execute us`` also gives the CPU time of the worker thread that runs
  the tasks (Dask's fine metrics: ``digests_total["execute", ..., "thread-cpu"]``, which holds
  timemory's wrapper: entering the call path, the marker, leaving), per task, and what
  profiling adds to it (target: at most 10 us);
- ``collect s``: the time to bring every worker's data into this process's merged graph
  (threads: ``dmp_get()``; processes: ``dmp_get()`` reading what the workers left at
  shutdown; Dask: ``profile.collect()``; target for Dask: at most 2 s);
- ``RSS first``/``RSS all``: the largest worker RSS after ``--first`` tasks and after all of
  them (MiB); profiled workers aggregate by call path, so it must not grow with the tasks
  more than unprofiled ones do.

On a loaded machine the CPU figures vary by a few microseconds per task between runs:
``--repeats`` runs every case that many times, interleaved, and reports the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

EXECUTORS = ("threads", "processes", "dask")
MODES = ("unprofiled", "profiled")
COMPONENTS = ["wall_clock"]


def tiny(x: int) -> int:
    return x + 1


# set in a profiled child before its workers start (forked workers inherit it): the plain
# child never imports timemory
_marker = None


def tiny_measured(x: int) -> int:
    """``tiny`` measured as the Dask plugin measures a task: one node named ``tiny``."""
    with _marker(COMPONENTS, key="tiny"):  # type: ignore[misc]
        return x + 1


# ------------------------------------------------------------------ the child
def _rss(pid: int) -> int:
    import psutil

    return int(psutil.Process(pid).memory_info().rss)


def _cpu(pid: int) -> float:
    import psutil

    t = psutil.Process(pid).cpu_times()
    return float(t.user + t.system)


def _thread_cpu(tids: set[int]) -> float:
    import psutil

    return sum(t.user_time + t.system_time for t in psutil.Process().threads() if t.id in tids)


def _tiny_count(label: str = "tiny") -> tuple[int, int]:
    """The sum of the counts of the nodes labelled ``label`` directly beneath the ``submit``
    marker in the merged graph (a task recorded anywhere else is lost), and how many such
    nodes there are (one per worker with ``collapse_processes=False``)."""
    from timemory.storage import WallClockStorage

    lists = WallClockStorage.dmp_get()
    nodes = [
        n
        for lst in lists
        for i, n in enumerate(lst)
        if n.label() == label and n.depth() == 1 and _parent_label(lst, i) == "submit"
    ]
    return sum(n.stats().count() for n in nodes), len(nodes)


def _parent_label(nodes: list, i: int) -> str:
    """The label of the flat list's node ``i``'s parent (the nearest earlier shallower one)."""
    depth = nodes[i].depth()
    for j in range(i - 1, -1, -1):
        if nodes[j].depth() < depth:
            return str(nodes[j].label())
    return ""


def _pool_child(
    kind: str, profiled: bool, tasks: int, first: int, workers: int, warmup: int
) -> dict:
    global _marker
    fn = tiny
    if profiled:
        import timemory
        from timemory import _context
        from timemory.bundle import marker

        timemory.settings.auto_output = False
        _marker = marker
        fn = tiny_measured
    if kind == "threads":
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(workers)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
    # the warm-up starts every worker (plain tasks: nothing recorded)
    list(pool.map(time.sleep, [0.05] * workers * 2))
    if kind == "threads":
        tids = {t.native_id for t in pool._threads}  # type: ignore[attr-defined]
        cpu = lambda: _thread_cpu(tids)  # noqa: E731
        rss = lambda: [_rss(os.getpid())]  # noqa: E731
    else:
        pids = list(pool._processes)  # type: ignore[attr-defined]
        cpu = lambda: sum(_cpu(p) for p in pids)  # noqa: E731
        rss = lambda: [_rss(p) for p in pids]  # noqa: E731

    def batch(lo: int, hi: int, key: str = "submit") -> None:
        if profiled:
            with marker(COMPONENTS, key=key):
                task = _context.wrap(fn)
                results = list(pool.map(task, range(lo, hi), chunksize=64))
        else:
            results = list(pool.map(fn, range(lo, hi), chunksize=64))
        assert results[-1] == hi, results[-1]

    # steady state: what runs once per worker (first calls, caches) is not timed
    batch(-warmup, 0, key="warmup")
    cpu0, t0 = cpu(), time.perf_counter()
    batch(0, first)
    rss_first = rss()
    batch(first, tasks)
    elapsed, worker_cpu = time.perf_counter() - t0, cpu() - cpu0
    rss_all = rss()
    pool.shutdown(wait=True)
    t1 = time.perf_counter()
    counted, nodes = _tiny_count() if profiled else (0, 0)
    collect = time.perf_counter() - t1
    return {
        "elapsed": elapsed,
        "worker_cpu": worker_cpu,
        "counted": counted,
        "nodes": nodes,
        "collect": collect if profiled else None,
        "rss_first": max(rss_first),
        "rss_all": max(rss_all),
    }


def _dask_child(profiled: bool, tasks: int, first: int, workers: int, warmup: int) -> dict:
    import dask
    from distributed import Client, LocalCluster, wait

    dask.config.set({"distributed.worker.daemon": False})
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=40,
    )
    client = Client(cluster)
    try:

        def state(dask_worker):
            import os as _os

            import psutil as _psutil

            p = _psutil.Process(_os.getpid())
            t = p.cpu_times()
            # Dask's own fine metrics: CPU time of the executor thread running the tasks
            execute = sum(
                v
                for k, v in dask_worker.digests_total.items()
                if isinstance(k, tuple)
                and k[0] == "execute"
                and k[-2:] == ("thread-cpu", "seconds")
            )
            return {"cpu": t.user + t.system, "rss": p.memory_info().rss, "execute": execute}

        def snapshot() -> dict:
            return client.run(state)

        wait(client.map(time.sleep, [0.05] * workers * 2, pure=False))
        profile = None
        if profiled:
            import timemory
            import timemory.dask
            from timemory.bundle import marker

            timemory.settings.auto_output = False
            profile = timemory.dask.profile(client, components=COMPONENTS)
            profile.__enter__()

        def batch(lo: int, hi: int) -> None:
            futures = client.map(tiny, range(lo, hi))
            wait(futures)
            assert client.gather(futures[-1]) == hi
            del futures

        # steady state: what runs once per worker (first calls, caches) is not timed
        if profiled:
            with marker(COMPONENTS, key="warmup"):
                batch(-warmup, 0)
        else:
            batch(-warmup, 0)
        s0, t0 = snapshot(), time.perf_counter()
        if profiled:
            with marker(COMPONENTS, key="submit"):
                batch(0, first)
        else:
            batch(0, first)
        s_first = snapshot()
        if profiled:
            with marker(COMPONENTS, key="submit"):
                batch(first, tasks)
        else:
            batch(first, tasks)
        elapsed, s1 = time.perf_counter() - t0, snapshot()
        collect = None
        counted = nodes = 0
        if profile is not None:
            t1 = time.perf_counter()
            profile.collect()
            collect = time.perf_counter() - t1
            profile.__exit__(None, None, None)
            counted, nodes = _tiny_count()
        return {
            "elapsed": elapsed,
            "worker_cpu": sum(s1[w]["cpu"] - s0[w]["cpu"] for w in s1),
            "execute": sum(s1[w]["execute"] - s0[w]["execute"] for w in s1),
            "counted": counted,
            "nodes": nodes,
            "collect": collect,
            "rss_first": max(s["rss"] for s in s_first.values()),
            "rss_all": max(s["rss"] for s in s1.values()),
        }
    finally:
        client.close()
        cluster.close()


def child(kind: str, mode: str, tasks: int, first: int, workers: int, warmup: int) -> None:
    profiled = mode == "profiled"
    if kind == "dask":
        result = _dask_child(profiled, tasks, first, workers, warmup)
    else:
        result = _pool_child(kind, profiled, tasks, first, workers, warmup)
    print(json.dumps(result), flush=True)


# ------------------------------------------------------------------ the parent
def run_case(kind: str, mode: str, args: argparse.Namespace) -> dict:
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--child",
        kind,
        mode,
        "--tasks",
        str(args.tasks),
        "--first",
        str(args.first),
        "--workers",
        str(args.workers),
        "--warmup",
        str(args.warmup),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=args.timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{kind} {mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _median(runs: list[dict], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def report(kind: str, runs: dict[str, list[dict]], tasks: int, first: int) -> list[str]:
    base, prof = runs["unprofiled"], runs["profiled"]
    timed = tasks  # the warm-up is outside the timed part
    cpu_base = _median(base, "worker_cpu") / timed * 1e6
    cpu_prof = _median(prof, "worker_cpu") / timed * 1e6
    counted = min(r["counted"] for r in prof)
    row = [
        kind,
        f"{tasks:,}",
        f"{counted:,}",
        f"{tasks - counted:,}",
        f"{_median(base, 'elapsed'):.1f}/{_median(prof, 'elapsed'):.1f}",
        f"{cpu_base:.1f}",
        f"{cpu_prof - cpu_base:+.1f}",
    ]
    if kind == "dask":
        comp_base = _median(base, "execute") / timed * 1e6
        comp_prof = _median(prof, "execute") / timed * 1e6
        row.append(f"{comp_base:.1f} {comp_prof - comp_base:+.1f}")
    else:
        row.append("-")
    row += [
        f"{_median(prof, 'collect'):.3f}",
        f"{_median(base, 'rss_first') / 2**20:.0f}/{_median(base, 'rss_all') / 2**20:.0f}",
        f"{_median(prof, 'rss_first') / 2**20:.0f}/{_median(prof, 'rss_all') / 2**20:.0f}",
    ]
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executors", nargs="+", default=list(EXECUTORS), choices=EXECUTORS)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--first", type=int, default=10_000, help="tasks before the first RSS")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--warmup", type=int, default=2000, help="untimed tasks first (profiled: beneath 'warmup')"
    )
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for one case")
    parser.add_argument("--child", nargs=2, metavar=("EXECUTOR", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.first < args.tasks:
        parser.error(f"--first must be between 1 and --tasks ({args.tasks}) - 1")
    if args.child:
        kind, mode = args.child
        if kind not in EXECUTORS or mode not in MODES:
            parser.error(f"--child: choose EXECUTOR from {EXECUTORS} and MODE from {MODES}")
        child(kind, mode, args.tasks, args.first, args.workers, args.warmup)
        return 0
    from _child import print_table

    rows = []
    for kind in args.executors:
        runs: dict[str, list[dict]] = {m: [] for m in MODES}
        for _ in range(args.repeats):
            for mode in MODES:
                runs[mode].append(run_case(kind, mode, args))
        rows.append(report(kind, runs, args.tasks, args.first))
    print(
        f"{args.workers} workers, {args.tasks:,} tasks, RSS after {args.first:,} and all, "
        f"median of {args.repeats}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
    )
    print_table(
        [
            "executor",
            "tasks",
            "counted",
            "lost",
            "wall s base/prof",
            "worker us/task",
            "added",
            "execute us (added)",
            "collect s",
            "RSS MiB base",
            "RSS MiB prof",
        ],
        rows,
    )
    print("command: python " + " ".join(["benchmarks/executors.py", *sys.argv[1:]]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
