"""Recursive decorated function: ``fib`` with ``@profile`` on the recursive function itself.

    python benchmarks/workloads/fib.py [--scale S]

The worst case for a line profiler's per-call work: every call of the profiled function goes
through the decorator's wrapper (which enables and disables the profiler, by count) and runs
one line. About 1 s unprofiled at scale 1 on a 2-core VM. Self-checks its result and exits
non-zero on a mismatch. ``fib`` carries a bare ``@profile`` for ``kernprof -l``; without a
line profiler it is the identity.
"""

from __future__ import annotations

import sys

from _workload import parse_scale, profile


@profile
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def fib_iter(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    rounds = max(1, round(24 * scale))
    for _ in range(rounds):
        if fib(27) != fib_iter(27):  # 635,621 calls a round
            print("fib mismatch", file=sys.stderr)
            return 1
    print(f"fib ok: {rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
