"""Recursive tree walk: a decorated function that visits every node of an n-ary tree.

    python benchmarks/workloads/tree_walk.py [--scale S]

Call-heavy like ``fib.py`` but with several lines per call (a test, a loop over the children,
an accumulation), so both a line profiler's per-call and per-line work show. The tree is
built undecorated; only the walk is profiled. About 1 s unprofiled at scale 1 on a 2-core VM.
Self-checks its result and exits non-zero on a mismatch. ``walk`` carries a bare
``@profile`` for ``kernprof -l``; without a line profiler it is the identity.
"""

from __future__ import annotations

import sys

from _workload import parse_scale, profile


class Node:
    __slots__ = ("children", "value")

    def __init__(self, value: int, children: list[Node]) -> None:
        self.value = value
        self.children = children


def build(depth: int, fanout: int, value: int = 1) -> Node:
    if depth == 0:
        return Node(value, [])
    return Node(value, [build(depth - 1, fanout, value * fanout + k) for k in range(fanout)])


@profile
def walk(node: Node, depth: int) -> int:
    total = node.value % 7 * depth
    if not node.children:
        return total
    for child in node.children:
        total += walk(child, depth + 1)
    return total


def expected(depth: int, fanout: int) -> int:
    """``walk``'s result computed level by level, without recursion."""
    total, level = 0, [1]
    for d in range(depth + 1):
        total += sum(v % 7 * d for v in level)
        level = [v * fanout + k for v in level for k in range(fanout)]
    return total


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    rounds = max(1, round(60 * scale))
    depth, fanout = 10, 3  # 88,573 nodes
    tree = build(depth, fanout)
    want = expected(depth, fanout)
    for _ in range(rounds):
        if walk(tree, 0) != want:
            print("tree walk mismatch", file=sys.stderr)
            return 1
    print(f"tree walk ok: {rounds} rounds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
