"""Call-heavy workload: deep recursion and many tiny Python function calls.

    python benchmarks/workloads/recursive.py [--scale S]

The worst case for deterministic (per-call) profilers: almost every bytecode executed is a
call or a return, so per-call hook cost dominates. About 1-2 s unprofiled at scale 1 on a
2-core VM. Self-checks its results and exits non-zero on a mismatch, so a profiler that
changes program behaviour is caught. Hot functions carry a bare ``@profile`` so that
``kernprof -l`` can line-profile the script unchanged; without kernprof it is the identity.
"""

from __future__ import annotations

import sys

from _workload import parse_scale, profile


@profile
def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@profile
def tak(x: int, y: int, z: int) -> int:
    if y < x:
        return tak(tak(x - 1, y, z), tak(y - 1, z, x), tak(z - 1, x, y))
    return z


class Node:
    __slots__ = ("left", "right", "value")

    def __init__(self, value: int, left: Node | None, right: Node | None) -> None:
        self.value = value
        self.left = left
        self.right = right


@profile
def build(depth: int, value: int = 1) -> Node | None:
    if depth == 0:
        return None
    return Node(value, build(depth - 1, 2 * value), build(depth - 1, 2 * value + 1))


@profile
def tree_sum(node: Node | None) -> int:
    if node is None:
        return 0
    return node.value + tree_sum(node.left) + tree_sum(node.right)


def fib_iter(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    rounds = max(1, round(24 * scale))
    for _ in range(rounds):
        if fib(24) != fib_iter(24):
            print("fib mismatch", file=sys.stderr)
            return 1
        if tak(18, 12, 6) != 7:
            print("tak mismatch", file=sys.stderr)
            return 1
        depth = 15
        # values 1 .. 2**depth - 1 each appear once in the heap-numbered tree
        if tree_sum(build(depth)) != (2**depth - 1) * 2**depth // 2:
            print("tree mismatch", file=sys.stderr)
            return 1
    print(f"recursive ok: {rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
