"""timemory.runs._stats: the rank test, the Hodges-Lehmann interval and the q values, against
textbook values and against their defining properties (seeded simulations)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from timemory.runs import _stats

# Hollander & Wolfe (1973, p. 69), the example of R's ?wilcox.test: W = 35, one-sided
# p = 0.1272, the location difference x - y 0.305 with 95% interval [-0.15, 0.76]
X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
Y = [1.15, 0.88, 0.90, 0.74, 1.21]


def test_exact_p_of_textbook_cases():
    u, p = _stats.mann_whitney(X, Y)
    assert u[0] == 35
    assert p[0] == pytest.approx(2 * 0.1272, abs=1e-4)
    # complete separation: 2 / C(10, 5) = 2 / 252; 3 against 3: 2 / 20
    assert _stats.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])[1][0] == pytest.approx(2 / 252)
    assert _stats.mann_whitney([4, 5, 6], [1, 2, 3])[1][0] == pytest.approx(0.1)
    # identical samples cannot differ
    assert _stats.mann_whitney([1, 2, 3], [1, 2, 3])[1][0] == 1.0


def test_u_distribution_counts():
    # the number of orderings of 5 + 5 values with U = 0, 1, 2, 3, 4 (the partitions of u
    # into at most 5 parts of at most 5): 1, 1, 2, 3, 5; symmetric about 12.5
    counts = np.diff(np.concatenate([[0.0], _stats.u_distribution(5, 5)])) * math.comb(10, 5)
    assert np.allclose(counts[:5], [1, 1, 2, 3, 5])
    assert np.allclose(counts, counts[::-1])
    assert _stats.u_distribution(5, 5)[-1] == 1.0
    # against enumerating every split of 1..9 into 4 + 5
    enumerated = np.zeros(21)
    for chosen in itertools.combinations(range(9), 4):
        enumerated[sum(sum(1 for j in range(9) if j not in chosen and j < i) for i in chosen)] += 1
    assert np.allclose(np.cumsum(enumerated) / enumerated.sum(), _stats.u_distribution(4, 5))


def test_normal_approximation_with_ties_by_hand():
    # 1 1 2 | 2 3 3: ranks 1.5 1.5 3.5 | 3.5 5.5 5.5, U = 6.5 - 6 = 0.5, mean 4.5; three
    # pairs of ties: sum(t^3 - t) = 18, variance 9/12 * (7 - 18/30) = 4.8;
    # z = (4 - 0.5) / sqrt(4.8), p = erfc(z / sqrt 2)
    u, p = _stats.mann_whitney([1, 1, 2], [2, 3, 3])
    assert u[0] == 0.5
    assert p[0] == pytest.approx(math.erfc(3.5 / math.sqrt(4.8) / math.sqrt(2)))


def test_normal_approximation_close_to_the_permutation_distribution_with_ties():
    a = np.array([1, 2, 2, 3, 4, 4, 5])
    b = np.array([3, 4, 5, 5, 6, 6, 7])
    pooled = np.concatenate([a, b])
    observed = _stats.mann_whitney(a, b)[0][0]
    # every split of the pooled values: the exact (conditional) two-sided p
    splits = np.array(list(itertools.combinations(range(14), 7)))
    mask = np.zeros((len(splits), 14), dtype=bool)
    np.put_along_axis(mask, splits, True, axis=1)
    firsts = np.where(mask, pooled, np.nan)
    seconds = np.where(~mask, pooled, np.nan)
    rows_a = firsts[~np.isnan(firsts)].reshape(-1, 7)
    rows_b = seconds[~np.isnan(seconds)].reshape(-1, 7)
    us = _stats.mann_whitney(rows_a, rows_b)[0]
    centre = 49 / 2
    exact = np.mean(np.abs(us - centre) >= abs(observed - centre) - 1e-9)
    approx = _stats.mann_whitney(a, b)[1][0]
    assert approx == pytest.approx(exact, abs=0.01)


def test_normal_approximation_converges_to_the_exact_p():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(300, 30)), rng.normal(0.5, size=(300, 30))
    exact = _stats.mann_whitney(a, b, method="exact")[1]
    normal = _stats.mann_whitney(a, b, method="normal")[1]
    assert np.max(np.abs(exact - normal)) < 0.005


def test_hodges_lehmann_textbook_interval():
    shift, low, high = _stats.hodges_lehmann(Y, X)
    assert (shift[0], low[0], high[0]) == pytest.approx((0.305, -0.15, 0.76))


def test_hodges_lehmann_interval_order_statistics():
    # 5 against 5 at 95%: P(U <= 2) = 4/252 <= 0.025 < P(U <= 3) = 7/252, so the bounds are
    # the 3rd smallest and 3rd largest of the 25 differences
    a = np.arange(5.0)
    b = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    differences = np.sort((b[None, :] - a[:, None]).ravel())
    shift, low, high = _stats.hodges_lehmann(a, b)
    assert (shift[0], low[0], high[0]) == (differences[12], differences[2], differences[22])
    # 3 against 3 cannot give 95%: the interval is the whole line
    _, low, high = _stats.hodges_lehmann([1, 2, 3], [4, 5, 6])
    assert (low[0], high[0]) == (-np.inf, np.inf)


def test_hodges_lehmann_interval_covers_the_true_shift():
    rng = np.random.default_rng(11)
    a = rng.normal(size=(4000, 10))
    b = rng.normal(0.3, size=(4000, 10))
    shift, low, high = _stats.hodges_lehmann(a, b)
    coverage = np.mean((low <= 0.3) & (0.3 <= high))
    assert 0.94 <= coverage <= 0.98  # at least 95% (discrete: 95.7% for 10 + 10)
    assert abs(np.median(shift) - 0.3) < 0.02


def test_a_a_p_values_are_about_uniform():
    rng = np.random.default_rng(3)
    a, b = rng.lognormal(size=(4000, 8)), rng.lognormal(size=(4000, 8))
    p = _stats.mann_whitney(a, b)[1]
    for level in (0.01, 0.05, 0.1, 0.25, 0.5, 0.75):
        share = np.mean(p <= level)
        # never above the level (beyond the simulation's error), and not far below
        assert level * 0.7 - 0.005 <= share <= level + 3 * math.sqrt(level / 4000) + 0.002


def test_rank_test_detects_a_large_shift():
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(1000, 10)), rng.normal(2.0, size=(1000, 10))
    assert np.mean(_stats.mann_whitney(a, b)[1] <= 0.01) > 0.9


def test_benjamini_hochberg_known_values():
    # sorted 0.005 0.01 0.03 0.04, scaled by 4 / rank: 0.02 0.02 0.04 0.04
    q = _stats.benjamini_hochberg([0.01, 0.04, 0.03, 0.005])
    assert np.allclose(q, [0.02, 0.04, 0.04, 0.02])
    # NaN are not tests
    q = _stats.benjamini_hochberg([0.01, np.nan, 0.04])
    assert np.isnan(q[1]) and np.allclose(q[[0, 2]], [0.02, 0.04])
    assert np.isnan(_stats.benjamini_hochberg([np.nan])).all()


def test_benjamini_hochberg_properties():
    rng = np.random.default_rng(9)
    p = np.concatenate([rng.uniform(size=300), rng.uniform(0, 1e-3, size=20)])
    q = _stats.benjamini_hochberg(p)
    assert (q >= p).all() and (q <= 1).all()
    order = np.argsort(p)
    assert (np.diff(q[order]) >= 0).all()  # monotone in p
    # under the complete null, rejecting at q <= alpha is rare (FWER = alpha for Simes)
    nulls = rng.uniform(size=(2000, 100))
    rejected = np.mean([(_stats.benjamini_hochberg(row) <= 0.05).any() for row in nulls])
    assert rejected <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / 2000)


def test_smallest_p_and_repeats_needed():
    assert _stats.smallest_p(3, 3) == pytest.approx(0.1)
    assert _stats.smallest_p(4, 4) == pytest.approx(2 / 70)
    assert _stats.repeats_needed(0.05) == 4
    assert _stats.repeats_needed(0.01) == 5
    assert _stats.repeats_needed(0.01, other=20) == 2  # 2 / C(22, 2) = 0.0087
    # the smallest p is reached: complete separation
    assert _stats.mann_whitney([1, 2, 3, 4], [5, 6, 7, 8])[1][0] == pytest.approx(
        _stats.smallest_p(4, 4)
    )


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        _stats.mann_whitney([1.0, np.nan], [2.0, 3.0])
    with pytest.raises(ValueError, match="choices"):
        _stats.mann_whitney([1.0], [2.0], method="t")
    with pytest.raises(ValueError, match="confidence"):
        _stats.hodges_lehmann([1.0], [2.0], confidence=1.5)
