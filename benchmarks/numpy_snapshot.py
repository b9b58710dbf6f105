"""What the NumPy snapshot costs on a large call graph.

    python benchmarks/numpy_snapshot.py [--fanout F] [--repeats R]

A call graph of F + F**2 + F**3 nodes (default F = 100: 1,010,100 nodes; wall_clock, three
levels of markers) is recorded in this process. Reported, in the same run:

- ``WallClockStorage.snapshot()``: the native table built from the joined walk (the copy),
  against ``WallClockStorage.get_tree()`` (the tree view the Python objects point into) on the
  same graph: the ratio of the best of ``--repeats`` times;
- ``Snapshot.as_numpy()``: the view alone, after the snapshot (target: < 1 ms for 1M nodes),
  its first call (which builds the dtype) and the mean of 1,000 calls, against
  ``np.frombuffer`` of a bytes object of the same size (the floor of a zero-copy view);
- ``Snapshot.to_numpy()``: the writable copy, against ``ndarray.copy()`` of a plain array of the
  same size.
"""

from __future__ import annotations

import argparse
import os
import time


def best(f, repeats):  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fanout", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    os.environ["TIMEMORY_AUTO_OUTPUT"] = "OFF"

    import numpy as np
    import timemory
    from timemory.bundle import marker
    from timemory.storage import WallClockStorage

    timemory.settings.auto_output = False
    n = args.fanout
    start = time.perf_counter()
    for i in range(n):
        with marker(["wall_clock"], key=f"a{i}"):
            for j in range(n):
                with marker(["wall_clock"], key=f"b{j}"):
                    for k in range(n):
                        with marker(["wall_clock"], key=f"c{k}"):
                            pass
    recorded = time.perf_counter() - start

    snap_time = best(WallClockStorage.snapshot, args.repeats)
    tree_time = best(WallClockStorage.get_tree, args.repeats)
    snap = WallClockStorage.snapshot()
    size = len(snap) * snap.table.itemsize
    start = time.perf_counter()
    snap.as_numpy()
    first = time.perf_counter() - start
    calls = 1000
    start = time.perf_counter()
    for _ in range(calls):
        snap.as_numpy()
    per_view = (time.perf_counter() - start) / calls
    raw = bytes(size)
    dtype = snap.dtype
    start = time.perf_counter()
    for _ in range(calls):
        np.frombuffer(raw, dtype=dtype)
    floor = (time.perf_counter() - start) / calls
    copy_time = best(snap.to_numpy, args.repeats)
    plain = np.frombuffer(raw, dtype=dtype)
    plain_copy = best(plain.copy, args.repeats)

    print(f"nodes {len(snap):,} (recorded in {recorded:.1f} s); record {snap.table.itemsize} B,")
    print(f"  table {size / 2**20:.1f} MiB")
    print(
        f"snapshot()  {snap_time * 1e3:8.1f} ms   get_tree() {tree_time * 1e3:8.1f} ms   "
        f"ratio {snap_time / tree_time:.2f}"
    )
    print(
        f"as_numpy()  first {first * 1e6:.1f} us, then {per_view * 1e6:.2f} us per call; "
        f"np.frombuffer {floor * 1e6:.2f} us (ratio {per_view / floor:.2f})"
    )
    print(
        f"to_numpy()  {copy_time * 1e3:8.1f} ms   ndarray.copy() {plain_copy * 1e3:8.1f} ms   "
        f"ratio {copy_time / plain_copy:.2f}"
    )


if __name__ == "__main__":
    main()
