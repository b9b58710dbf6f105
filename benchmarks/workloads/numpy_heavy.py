"""numpy-heavy workload: most time inside compiled numpy kernels, driven from Python loops.

    python benchmarks/workloads/numpy_heavy.py [--scale S]

A profiler should add little here, since few Python-level events happen per second of work;
what it does add (hooks on numpy's Python-level wrappers, import-time cost of numpy's many
modules) is what this workload exposes. About 1-2 s unprofiled at scale 1 on a 2-core VM.
Needs numpy: without it the script says so on stderr and exits 3 (the harness checks for
numpy first and skips the workload with a message). Seeded; self-checks its results and
exits non-zero on a mismatch. Hot functions carry a bare ``@profile`` for ``kernprof -l``.
"""

from __future__ import annotations

import sys
from typing import Any

from _workload import parse_scale, profile

try:
    import numpy as np
except ImportError:  # pragma: no cover - depends on the environment
    np = None


@profile
def linear_algebra(rng: Any, n: int, rounds: int) -> float:
    acc = 0.0
    for _ in range(rounds):
        a = rng.standard_normal((n, n))
        q, r = np.linalg.qr(a)
        acc += float(np.abs(q @ r - a).max())
        b = a @ a.T + n * np.eye(n)
        x = np.linalg.solve(b, np.ones(n))
        acc += float(np.abs(b @ x - 1.0).max())
    return acc


@profile
def signal(rng: Any, n: int, rounds: int) -> float:
    acc = 0.0
    for _ in range(rounds):
        s = rng.standard_normal(n)
        spec = np.fft.rfft(s)
        back = np.fft.irfft(spec, n)
        acc += float(np.abs(back - s).max())
    return acc


@profile
def elementwise(rng: Any, n: int, rounds: int) -> float:
    total = 0.0
    for _ in range(rounds):
        x = rng.random(n)
        y = np.sqrt(x) * np.sin(x) + np.exp(-x) * np.cos(3 * x)
        idx = np.argsort(y)
        total += float(np.cumsum(y[idx])[-1])
        total += float(np.where(y > 0.5, y, 0.0).sum())
    return total


@profile
def small_arrays(rng: Any, rounds: int) -> float:
    # many tiny numpy calls: Python-level overhead per call dominates here
    total = 0.0
    v = rng.random(16)
    for i in range(rounds):
        w = v * (i % 7) + 1.0
        total += float(np.dot(w, v)) + float(w.max())
    return total


def main() -> int:
    if np is None:
        print("numpy_heavy: numpy is not importable; skipping", file=sys.stderr)
        return 3
    scale = parse_scale(sys.argv[1:])
    rng = np.random.default_rng(12345)
    err = linear_algebra(rng, 200, max(1, int(40 * scale)))
    err += signal(rng, 1 << 18, max(1, int(12 * scale)))
    if not err < 1e-6:
        print(f"numpy residual too large: {err}", file=sys.stderr)
        return 1
    total = elementwise(rng, 1_000_000, max(1, int(3 * scale)))
    total += small_arrays(rng, max(1, int(50_000 * scale)))
    if not total > 0:
        print(f"numpy total mismatch: {total}", file=sys.stderr)
        return 1
    print(f"numpy_heavy ok: residual={err:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
