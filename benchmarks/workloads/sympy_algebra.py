"""Real third-party workload: symbolic algebra with sympy (expand, factor, simplify, integrate).

    python benchmarks/workloads/sympy_algebra.py [--scale S]

Needs sympy (``benchmarks/profiler_overhead.py`` runs it in the virtual environment it sets
up with a pinned sympy from PyPI). Importing sympy is itself a large part of the program (a
few thousand functions run, hundreds of classes are built), as it is for any script that uses
it; then polynomials are expanded and factored, trigonometric and rational expressions
simplified, and a few integrals, series and a linear system solved. Every step uses fresh
expressions (sympy caches results by argument), so a larger scale means more distinct work,
not cache hits. About 1-3 s unprofiled at scale 1 on a 2-core VM. Deterministic; checks its
results by differentiating, substituting and comparing, and exits non-zero on a mismatch.
"""

from __future__ import annotations

import sys

import sympy as sp
from _workload import parse_scale

x, y, z = sp.symbols("x y z")


def polynomials(rounds: int) -> int:
    terms = 0
    for k in range(rounds):
        e = sp.expand((x + 2 * y - z + k + 1) ** 6 * (x - y + 3) ** 2)
        terms += len(e.args)
        f = sp.factor(sp.expand((x + k + 1) * (x - 2 * k - 1) * (x**2 + y + k)))
        if sp.expand(f - (x + k + 1) * (x - 2 * k - 1) * (x**2 + y + k)) != 0:
            raise AssertionError(f"factor mismatch at {k}: {f}")
    return terms


def simplifications(rounds: int) -> int:
    done = 0
    for k in range(1, rounds + 1):
        trig = sp.sin(k * x) ** 2 + sp.cos(k * x) ** 2 + sp.tan(x) * sp.cos(x)
        if sp.simplify(trig - 1 - sp.sin(x)) != 0:
            raise AssertionError(f"trig simplify mismatch at {k}")
        rational = (x**2 - k**2) / (x - k) + (y**3 - 1) / (y - 1)
        if sp.cancel(rational - (x + k) - (y**2 + y + 1)) != 0:
            raise AssertionError(f"cancel mismatch at {k}")
        done += 2
    return done


def calculus(rounds: int) -> int:
    done = 0
    for k in range(1, rounds + 1):
        integrand = x**k * sp.exp(-x) + sp.sin(k * x) * sp.cos(x) + 1 / (x**2 + k)
        antiderivative = sp.integrate(integrand, x)
        if sp.simplify(sp.diff(antiderivative, x) - integrand) != 0:
            raise AssertionError(f"integral mismatch at {k}: {antiderivative}")
        series = sp.series(sp.exp(k * x) * sp.sin(x), x, 0, 6).removeO()
        if series.coeff(x, 1) != 1:
            raise AssertionError(f"series mismatch at {k}: {series}")
        done += 2
    return done


def linear_system(size: int) -> int:
    symbols = sp.symbols(f"a0:{size}")
    equations = [sum((i + j + 1) % 7 * s for j, s in enumerate(symbols)) - i for i in range(size)]
    solution = sp.solve(equations, symbols, dict=True)
    if not solution:
        raise AssertionError("linear system: no solution")
    for eq in equations:
        if sp.simplify(eq.subs(solution[0])) != 0:
            raise AssertionError("linear system: solution does not satisfy the equations")
    return len(solution[0])


def main() -> int:
    scale = parse_scale(sys.argv[1:])
    rounds = max(1, int(4 * scale))
    try:
        terms = polynomials(rounds)
        simplified = simplifications(rounds)
        integrals = calculus(rounds)
        unknowns = linear_system(6)
    except AssertionError as exc:
        print(f"sympy mismatch: {exc}", file=sys.stderr)
        return 1
    print(
        f"sympy ok: {terms} terms, {simplified} simplifications, {integrals} calculus checks, "
        f"{unknowns} unknowns solved"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
