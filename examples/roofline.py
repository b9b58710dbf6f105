"""Regions with declared work for the roofline (README "Roofline").

    python -m timemory.roofline -b l1 l2 l3 dram -- python examples/roofline.py
    python examples/roofline.py    # one pass: timemory-roofline-output/cpu_roofline_dp_op.json

Each region declares its FLOPs and the bytes it moves with ``timemory.roofline.add_work``:
numpy's kernels are not counted by hardware counters in a VM.
"""

from __future__ import annotations

import numpy as np
from timemory import roofline
from timemory.bundle import marker

N = 2_000_000
x, y = np.random.rand(N), np.random.rand(N)


@marker(["cpu_roofline_dp_flops"])
def daxpy(a: float = 1.5, repeat: int = 20) -> None:
    for _ in range(repeat):
        np.multiply(x, a, out=y)  # y = a * x; y += x
        np.add(y, x, out=y)
        roofline.add_work(flops=2 * N, bytes=5 * 8 * N)  # 2 passes: 2 + 3 arrays of N doubles


@marker(["cpu_roofline_dp_flops"])
def dot(repeat: int = 20) -> None:
    for _ in range(repeat):
        float(x @ y)
        roofline.add_work(flops=2 * N, bytes=2 * 8 * N)


@marker(["cpu_roofline_dp_flops"])
def matmul(n: int = 600, repeat: int = 5) -> None:
    a, b = np.random.rand(n, n), np.random.rand(n, n)
    for _ in range(repeat):
        a @ b
        roofline.add_work(flops=2 * n**3, bytes=3 * 8 * n * n)


if __name__ == "__main__":
    daxpy()
    dot()
    matmul()
