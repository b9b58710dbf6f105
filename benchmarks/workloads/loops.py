"""Line-heavy workload: long-running loops in a handful of functions, few calls.

    python benchmarks/workloads/loops.py [--scale S]

The opposite of ``recursive.py``: a function profiler's per-call hooks fire rarely, while a
line profiler's per-line hooks fire on every statement. Pure-Python sieve, matrix multiply,
string building and a dynamic-programming edit distance. About 1-2 s unprofiled at scale 1
on a 2-core VM. Self-checks its results and exits non-zero on a mismatch. Hot functions
carry a bare ``@profile`` for ``kernprof -l``; without kernprof it is the identity.
"""

from __future__ import annotations

import sys

from _workload import parse_scale, profile


@profile
def sieve(limit: int) -> int:
    flags = [True] * (limit + 1)
    flags[0] = flags[1] = False
    i = 2
    while i * i <= limit:
        if flags[i]:
            j = i * i
            while j <= limit:
                flags[j] = False
                j += i
        i += 1
    count = 0
    for f in flags:
        if f:
            count += 1
    return count


@profile
def matmul(n: int) -> float:
    a = [[(i * n + j) % 7 + 0.5 for j in range(n)] for i in range(n)]
    b = [[(i + 2 * j) % 5 - 1.0 for j in range(n)] for i in range(n)]
    c = [[0.0] * n for _ in range(n)]
    for i in range(n):
        ai = a[i]
        ci = c[i]
        for k in range(n):
            aik = ai[k]
            bk = b[k]
            for j in range(n):
                ci[j] += aik * bk[j]
    total = 0.0
    for row in c:
        for x in row:
            total += x
    return total


@profile
def edit_distance(s: str, t: str) -> int:
    prev = list(range(len(t) + 1))
    for i in range(1, len(s) + 1):
        cur = [i] + [0] * len(t)
        si = s[i - 1]
        for j in range(1, len(t) + 1):
            cost = 0 if si == t[j - 1] else 1
            best = prev[j] + 1
            if cur[j - 1] + 1 < best:
                best = cur[j - 1] + 1
            if prev[j - 1] + cost < best:
                best = prev[j - 1] + cost
            cur[j] = best
        prev = cur
    return prev[len(t)]


@profile
def build_string(n: int) -> int:
    parts = []
    acc = 0
    for i in range(n):
        if i % 3 == 0:
            parts.append("fizz")
        elif i % 5 == 0:
            parts.append("buzz")
        else:
            parts.append(str(i))
        acc += len(parts[-1])
    return acc + len("".join(parts))


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    limit = int(1_500_000 * scale)
    primes = sieve(limit)
    small_primes = sieve(10_000)
    n = max(4, int(130 * scale ** (1 / 3)))
    total = matmul(n)
    reps = max(1, int(70 * scale**0.5))
    a = "kitten-sitting-" * reps
    b = "sitting-kitten-" * reps
    dist = edit_distance(a, b)
    length = build_string(int(1_000_000 * scale))
    ok = (
        small_primes == 1229
        and primes > 0
        and total == total  # not NaN
        and 0 < dist <= max(len(a), len(b))
        and length > 0
    )
    if not ok:
        print(f"loops mismatch: {primes} {small_primes} {total} {dist} {length}", file=sys.stderr)
        return 1
    print(f"loops ok: primes={primes} dist={dist}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
