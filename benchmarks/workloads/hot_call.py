"""A small decorated function called from a hot, undecorated loop.

    python benchmarks/workloads/hot_call.py [--scale S]

Every call of the profiled function comes from code that is not profiled, so a line profiler
that enables itself by count (the decorator's wrapper) starts and stops profiling on every
call: the cost of that switch, not of lines, dominates. About 1 s unprofiled at scale 1 on a
2-core VM. Self-checks its result and exits non-zero on a mismatch. ``clamp`` carries a bare
``@profile`` for ``kernprof -l``; without a line profiler it is the identity.
"""

from __future__ import annotations

import sys

from _workload import parse_scale, profile


@profile
def clamp(x: int, lo: int, hi: int) -> int:
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    n = max(1, round(8_000_000 * scale))
    total = 0
    for i in range(n):
        total += clamp(i % 1000 - 250, 0, 500)
    # per 1000 values of i % 1000 - 250: 251 clamp to 0, 1..500 once each, 249 clamp to 500
    per_cycle = sum(range(1, 501)) + 249 * 500
    want = (n // 1000) * per_cycle + sum(min(max(i - 250, 0), 500) for i in range(n % 1000))
    if total != want:
        print(f"hot call mismatch: {total} != {want}", file=sys.stderr)
        return 1
    print(f"hot call ok: {n} calls")
    return 0


if __name__ == "__main__":
    sys.exit(main())
