"""Gather time of ``WallClockStorage.dmp_get()`` over MPI ranks against mpi4py's own
``comm.gather`` of the same number of plain Python tuples, in one run.

    python benchmarks/mpi_gather.py                 # starts itself under `mpiexec -n 4`
    mpiexec -n 4 python benchmarks/mpi_gather.py --sizes 1000 10000 100000 --repeats 7

Each rank records N call-graph nodes (N/100 parents with 99 children each, every node
entered once). Per size and case, the ranks meet at a barrier, then rank zero times the call
until it returns there; the median over the repeats is reported, and the ratio against the raw
gather of N tuples ``(label, depth, count, sum, min, max, sqr)`` per rank. ``dmp_get`` includes
taking this rank's snapshot, packing it natively, the transfer, unpacking on rank zero and
building the result objects (and, collapsed, the merge across ranks).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path


def _record(n: int) -> None:
    from timemory.bundle import marker

    parents = max(n // 100, 1)
    per = n // parents - 1
    for p in range(parents):
        with marker(["wall_clock"], key=f"parent-{p}"):
            for c in range(per):
                with marker(["wall_clock"], key=f"child-{p}-{c}"):
                    pass


def _raw(n: int, rank: int) -> list[tuple]:
    return [(f"child-{i}-{rank}", 1, 1, 1.0e-6 * i, 1.0e-6, 1.0e-6 * i, 1.0e-12) for i in range(n)]


def _time(comm, func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        comm.Barrier()
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(sizes: list[int], repeats: int) -> None:
    import timemory
    from mpi4py import MPI
    from timemory.storage import WallClockStorage as W

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    timemory.settings.auto_output = False
    rows = []
    for n in sizes:
        timemory.clear()
        _record(n)
        nodes = W.get()
        tuples = _raw(len(nodes), rank)
        raw = _time(comm, lambda t=tuples: comm.gather(t, root=0), repeats)
        timemory.settings.collapse_processes = True
        collapsed = _time(comm, W.dmp_get, repeats)
        timemory.settings.collapse_processes = False
        per_rank = _time(comm, W.dmp_get, repeats)
        timemory.settings.collapse_processes = True
        tree = _time(comm, W.dmp_get_tree, repeats)
        check = W.dmp_get()
        if rank == 0:
            assert len(check) == 1 and len(check[0]) == len(nodes), (len(check), len(nodes))
            rows.append((len(nodes), raw, collapsed, per_rank, tree))
    if rank == 0:
        print(f"MPI ranks: {size}, repeats: {repeats} (median), Python {sys.version.split()[0]}")
        print(
            f"{'nodes/rank':>10} {'raw gather':>11} {'dmp_get':>11} {'ratio':>6} "
            f"{'per-rank':>11} {'ratio':>6} {'dmp_get_tree':>12} {'ratio':>6}"
        )
        for n, raw, collapsed, per_rank, tree in rows:
            print(
                f"{n:>10} {raw * 1e3:>9.2f}ms {collapsed * 1e3:>9.2f}ms {collapsed / raw:>5.2f}x "
                f"{per_rank * 1e3:>9.2f}ms {per_rank / raw:>5.2f}x {tree * 1e3:>10.2f}ms "
                f"{tree / raw:>5.2f}x"
            )
        print(
            "dmp_get: collapse_processes=True (one merged list); per-rank: collapse_processes=False"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "-n", "--ranks", type=int, default=4, help="ranks when started without mpiexec"
    )
    args = parser.parse_args()
    under_mpi = any(k in os.environ for k in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"))
    if not under_mpi:
        mpiexec = Path(sys.executable).parent / "mpiexec"
        command = [
            str(mpiexec) if mpiexec.exists() else "mpiexec",
            "-n",
            str(args.ranks),
            sys.executable,
            __file__,
            "--sizes",
            *map(str, args.sizes),
            "--repeats",
            str(args.repeats),
        ]
        return subprocess.call(command)
    run(args.sizes, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
