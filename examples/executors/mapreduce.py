"""A LiberTEM-like analysis: a map over the partitions of a dataset, then a reduce, run inline
or on an executor chosen at run time; timemory records the same call graph on each.

    python examples/executors/mapreduce.py --executor threads
    python examples/executors/mapreduce.py --executor spawn --partitions 16
    python examples/executors/mapreduce.py --executor dask-processes  # pip install 'timemory[dask]'

The partitions' work is recorded beneath ``analysis -> map_partitions``, the call path that
handed it to the executor, whichever thread or process ran it (docs/guide/executors.md).
"""

from __future__ import annotations

import argparse
import sys

from timemory.bundle import marker

COMPONENTS = ["wall_clock"]
EXECUTORS = ("inline", "threads", "processes", "spawn", "dask-processes", "dask-threads")


def process_partition(index: int) -> int:
    """One partition: load it, then reduce it to a partial result."""
    with marker(COMPONENTS, key="process_partition"):
        with marker(COMPONENTS, key="load"):
            data = [(index * 7919 + k) % 1000 for k in range(2000)]
        with marker(COMPONENTS, key="compute"):
            return sum(v * v for v in data)


def run(mapper, partitions: int) -> int:
    """The analysis; ``mapper(fn, items)`` returns ``[fn(i) for i in items]``, somewhere."""
    with marker(COMPONENTS, key="analysis"):
        with marker(COMPONENTS, key="map_partitions"):
            parts = mapper(process_partition, range(partitions))
        with marker(COMPONENTS, key="reduce"):
            return sum(parts)


def mapper_for(name: str, workers: int):
    """``(mapper, close)`` of the executor named ``name``."""
    if name == "inline":
        return (lambda fn, items: [fn(i) for i in items]), (lambda: None)
    if name == "threads":
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(workers)
        return (lambda fn, items: list(pool.map(fn, items))), pool.shutdown
    if name in ("processes", "spawn"):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        context = multiprocessing.get_context("fork" if name == "processes" else "spawn")
        pool = ProcessPoolExecutor(workers, mp_context=context)
        return (lambda fn, items: list(pool.map(fn, items))), pool.shutdown
    if name in ("dask-processes", "dask-threads"):
        return dask_mapper(processes=name == "dask-processes", workers=workers)
    raise SystemExit(f"mapreduce: unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")


def dask_mapper(processes: bool, workers: int):
    """A Dask ``LocalCluster`` (worker processes, or threads of this process) whose tasks are
    measured beneath the call path that submitted them and collected into this process's
    storage when ``close`` runs (``timemory.dask.profile``). The partitions' own markers
    measure them: ``components=[]`` adds no node per task, so the call graph is the same as
    on the other executors."""
    import timemory.dask
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=processes, dashboard_address=":0"
    )
    client = Client(cluster)
    profile = timemory.dask.profile(client, components=[]).start()

    def close() -> None:
        try:
            profile.stop()
        finally:
            client.close()
            cluster.close()

    return (lambda fn, items: client.gather(client.map(fn, items))), close


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", default="inline", choices=EXECUTORS)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    mapper, close = mapper_for(args.executor, args.workers)
    try:
        result = run(mapper, args.partitions)
    finally:
        close()
    print(f"{args.executor}: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
