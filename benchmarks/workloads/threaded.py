"""Threaded workload: Python-level work split over 4 threads that contend for the GIL.

    python benchmarks/workloads/threaded.py [--scale S]

Exercises a profiler's per-thread machinery: hook installation in threads started after
profiling begins (``threading.setprofile``), per-thread call stacks and storage, and lock
traffic between threads. Each thread mixes small recursive calls, loops and dict/list work,
and threads hand results through a ``queue.Queue``. About 1-2 s unprofiled at scale 1 on a
2-core VM. Self-checks its results and exits non-zero on a mismatch. Hot functions carry a
bare ``@profile`` for ``kernprof -l``; without kernprof it is the identity.
"""

from __future__ import annotations

import queue
import sys
import threading

from _workload import parse_scale, profile

THREADS = 4


@profile
def collatz_len(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


@profile
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@profile
def histogram(words: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    return counts


@profile
def worker(tid: int, tasks: int, out: queue.Queue[tuple[int, int]]) -> None:
    for task in range(tasks):
        base = (tid * tasks + task) * 1000 + 1
        longest = max(collatz_len(n) for n in range(base, base + 300))
        f = fib(16)
        words = [f"w{(i * 7919 + tid) % 97}" for i in range(400)]
        h = histogram(words)
        out.put((tid, longest + f + len(h)))


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    tasks = max(1, int(80 * scale))
    out: queue.Queue[tuple[int, int]] = queue.Queue()
    threads = [
        threading.Thread(target=worker, args=(t, tasks, out), name=f"worker-{t}")
        for t in range(THREADS)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = [out.get_nowait() for _ in range(out.qsize())]
    per_thread = {tid: 0 for tid in range(THREADS)}
    for tid, _value in results:
        per_thread[tid] += 1
    if any(n != tasks for n in per_thread.values()):
        print(f"threaded mismatch: {per_thread}", file=sys.stderr)
        return 1
    # fib(16) == 987 and 97 distinct words are in every result
    if any(value < 987 + 97 for _tid, value in results):
        print("threaded value mismatch", file=sys.stderr)
        return 1
    print(f"threaded ok: {len(results)} results from {THREADS} threads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
