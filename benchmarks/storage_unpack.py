"""What rank zero does with gathered data, in one process and without MPI: unpacking P
processes' packed flat lists into per-process results (``collapse_processes=False``) and
merging them into one list (the default), against unpickling P lists of N plain tuples (what
the raw ``comm.gather`` baseline of ``benchmarks/mpi_gather.py`` unpickles).

    python benchmarks/storage_unpack.py [--nodes 1000] [--processes 4] [--repeats 300]

Every process's data is this process's call graph (N/100 parents with 99 children each),
packed once. Reported: the best and the median time per call, and the medians' ratio against
the unpickling. The best shows the code; the median also the page faults of the memory a call
takes fresh (large native entries: see the README's MPI section).
"""

from __future__ import annotations

import argparse
import pickle
import statistics
import time

from mpi_gather import _record  # the same call graph (benchmarks/ is on sys.path)


def _times(func, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()

    import timemory
    from timemory import _core
    from timemory.storage import WallClockStorage as W

    timemory.settings.auto_output = False
    _record(args.nodes)
    index, procs = W._index, args.processes
    packed = _core.pack_flat_snapshot(index)
    n = len(W.get())
    tuples = [
        pickle.dumps([(f"child-{i}-{r}", 1, 1, 1e-6 * i, 1e-6, 1e-6 * i, 1e-12) for i in range(n)])
        for r in range(procs)
    ]
    cases = {
        "unpickle tuples (baseline)": lambda: [pickle.loads(t) for t in tuples],
        "per-process results": lambda: [
            W._result._list(_core.unpack_flat(index, packed, f"|{i}")) for i in range(procs)
        ],
        "merged results": lambda: W._result._list(_core.merge_packed_flat(index, [packed] * procs)),
    }
    print(f"{n} entries x {procs} processes, {args.repeats} repeats")
    baseline = None
    for name, func in cases.items():
        best, median = _times(func, args.repeats)
        baseline = baseline or median
        print(
            f"{name:<28} best {best * 1e3:7.3f} ms  median {median * 1e3:7.3f} ms"
            f"  {median / baseline:5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
