"""The statistics of :func:`timemory.runs.compare`, with numpy alone (no scipy).

* :func:`mann_whitney`: the two-sided p value of the Mann-Whitney U (Wilcoxon rank-sum) test,
  for many nodes at once. Exact (the distribution of U counted by dynamic programming) when a
  row has no ties and ``m * n`` is at most :data:`EXACT_LIMIT`; otherwise the normal
  approximation with the tie correction and a continuity correction, as R's
  ``wilcox.test`` and scipy's ``mannwhitneyu`` do.
* :func:`hodges_lehmann`: the Hodges-Lehmann estimate of the shift between the two samples
  (the median of the ``m * n`` pairwise differences ``b - a``) and Moses' distribution-free
  confidence interval (order statistics of those differences, their ranks taken from the
  distribution of U). On log values the shift is the log of the ratio ``b / a``.
* :func:`benjamini_hochberg`: the q values that control the false discovery rate across the
  nodes tested.
* :func:`smallest_p` / :func:`repeats_needed`: the smallest p value a rank test can give with
  ``m`` and ``n`` repeats, so a comparison can say "not enough data" instead of "no change"
  when no difference, however large, could reach the level asked.

Every function takes 2-D arrays (one row per node, one column per repeat) or 1-D arrays (one
node), and returns one value per row.
"""

from __future__ import annotations

import functools
import math

import numpy as np

TYPE_CHECKING = False
if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "EXACT_LIMIT",
    "benjamini_hochberg",
    "hodges_lehmann",
    "mann_whitney",
    "normal_quantile",
    "repeats_needed",
    "smallest_p",
    "u_distribution",
]

#: the exact distribution of U is used up to this many pairs (m * n): its table costs
#: m * n additions of arrays of m * n + 1 counts (50 x 50 repeats: about 10 ms, cached)
EXACT_LIMIT = 2500


def _rows(values: ArrayLike) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[np.newaxis, :]
    if array.ndim != 2:
        raise ValueError(f"expected one or two dimensions, got {array.ndim}")
    return array


def _pair(a: ArrayLike, b: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The two samples as rows of values, checked: as many rows, at least one value each."""
    first, second = _rows(a), _rows(b)
    if first.shape[0] != second.shape[0]:
        raise ValueError(f"{first.shape[0]} rows against {second.shape[0]}")
    if first.shape[1] == 0 or second.shape[1] == 0:
        raise ValueError("each sample needs at least one value")
    return first, second


@functools.lru_cache(maxsize=64)
def u_distribution(m: int, n: int) -> NDArray[np.float64]:
    """The cumulative distribution of U (the number of pairs with ``a > b``) for samples of
    ``m`` and ``n`` values without ties: element ``u`` is ``P(U <= u)``.

    The count of orderings with ``U = u`` follows from where the largest value is: in the
    first sample it is above all ``n`` values of the second (``u - n`` from the rest), in the
    second it adds nothing: ``N(m, n, u) = N(m - 1, n, u - n) + N(m, n - 1, u)``. Counts are
    floats: ``C(100, 50)`` is beyond int64, and only their ratios are used."""
    if m < 0 or n < 0:
        raise ValueError(f"sample sizes must be at least 0, got {m} and {n}")
    size = m * n + 1
    # previous[j]: the counts for (i - 1, j); current[j]: for (i, j)
    previous = [np.zeros(size) for _ in range(n + 1)]
    for row in previous:
        row[0] = 1.0  # no value in the first sample: U = 0 in the one ordering
    for _ in range(m):
        current = [previous[0]]  # no value in the second sample: U = 0
        for j in range(1, n + 1):
            counts = current[j - 1].copy()
            counts[j:] += previous[j][: size - j]
            current.append(counts)
        previous = current
    counts = previous[n]
    cumulative = np.cumsum(counts)
    cumulative /= cumulative[-1]
    cumulative.setflags(write=False)
    return cumulative


def smallest_p(m: int, n: int) -> float:
    """The smallest two-sided p value of the rank test with ``m`` and ``n`` repeats: every
    value of one sample above every value of the other, ``2 / C(m + n, m)``."""
    if m < 1 or n < 1:
        return 1.0
    return min(1.0, 2.0 / math.comb(m + n, m))


def repeats_needed(alpha: float, other: int | None = None) -> int:
    """The fewest repeats for which the rank test can reach ``alpha``: per side when both
    have as many (``other`` None), else on one side when the other has ``other``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    for count in range(1, 10_000):
        if smallest_p(count, count if other is None else other) <= alpha:
            return count
    return 10_000


def _ranks(rows: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The ranks (1-based, ties averaged) along each row, and per row the tie term
    ``sum(t**3 - t)`` over the groups of ``t`` equal values."""
    count, width = rows.shape
    order = np.argsort(rows, axis=1, kind="stable")
    ordered = np.take_along_axis(rows, order, axis=1)
    index = np.broadcast_to(np.arange(width), rows.shape)
    starts = np.ones(rows.shape, dtype=bool)
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    ends = np.ones(rows.shape, dtype=bool)
    ends[:, :-1] = starts[:, 1:]
    first = np.maximum.accumulate(np.where(starts, index, 0), axis=1)
    last = np.minimum.accumulate(np.where(ends, index, width)[:, ::-1], axis=1)[:, ::-1]
    ranks = np.empty(rows.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=1)
    sizes = np.where(starts, last - first + 1, 0).astype(np.float64)
    return ranks, (sizes**3 - sizes).sum(axis=1)


def mann_whitney(
    a: ArrayLike, b: ArrayLike, method: str = "auto"
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per row: ``U`` (the pairs with ``a > b``, ties counting one half) and the two-sided
    p value of the Mann-Whitney U test of ``a`` against ``b``.

    ``a`` has shape (rows, m) or (m,), ``b`` (rows, n) or (n,); no NaN (a node missing in
    a repeat is the caller's to leave out). A row whose values are all equal has p = 1.
    ``method``: "auto" (exact where it can be), "exact" (still normal for rows with ties)
    or "normal"."""
    if method not in ("auto", "exact", "normal"):
        raise ValueError(f"unknown method {method!r} (choices: auto, exact, normal)")
    first, second = _pair(a, b)
    m, n = first.shape[1], second.shape[1]
    if np.isnan(first).any() or np.isnan(second).any():
        raise ValueError("NaN in a sample: leave the missing repeats out")
    ranks, ties = _ranks(np.concatenate([first, second], axis=1))
    u = ranks[:, :m].sum(axis=1) - m * (m + 1) / 2.0
    total = m + n
    mean = m * n / 2.0
    variance = m * n / 12.0 * ((total + 1) - ties / (total * (total - 1)))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.maximum(np.abs(u - mean) - 0.5, 0.0) / np.sqrt(variance)
    p = np.where(variance > 0, _erfc(z / math.sqrt(2.0)), 1.0)
    exact = ties == 0
    wanted = method == "exact" or (method == "auto" and m * n <= EXACT_LIMIT)
    if wanted and exact.any():
        cdf = u_distribution(m, n)
        whole = np.rint(u[exact]).astype(np.int64)
        low = cdf[whole]  # P(U <= u)
        high = 1.0 - np.where(whole > 0, cdf[np.maximum(whole - 1, 0)], 0.0)  # P(U >= u)
        p[exact] = np.minimum(1.0, 2.0 * np.minimum(low, high))
    return u, np.minimum(p, 1.0)


def _erfc(values: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array([math.erfc(float(v)) for v in values.ravel()]).reshape(values.shape)


def normal_quantile(probability: float) -> float:
    """The standard normal quantile (the inverse of its cumulative distribution)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(probability)


def _interval_rank(m: int, n: int, confidence: float) -> int:
    """``k`` such that the k-th smallest and k-th largest pairwise differences bound the
    shift with at least ``confidence`` (Moses): the largest ``k`` with
    ``P(U <= k - 1) <= (1 - confidence) / 2``; 0 when no k does (the interval is the whole
    line: too few repeats for that confidence)."""
    tail = (1.0 - confidence) / 2.0
    if m * n <= EXACT_LIMIT:
        cdf = u_distribution(m, n)
        return int(np.searchsorted(cdf, tail * (1.0 + 1e-12), side="right"))
    z = normal_quantile(1.0 - tail)
    return max(0, math.floor(m * n / 2.0 - z * math.sqrt(m * n * (m + n + 1) / 12.0)))


def hodges_lehmann(
    a: ArrayLike, b: ArrayLike, confidence: float = 0.95
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per row: the Hodges-Lehmann estimate of the shift from ``a`` to ``b`` (the median of
    the pairwise differences ``b_j - a_i``) and the bounds of its ``confidence`` interval
    (-inf, inf where there are too few values for that confidence).

    On log values, ``exp`` of these is the ratio ``b / a`` and its interval."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    first, second = _pair(a, b)
    m, n = first.shape[1], second.shape[1]
    differences = (second[:, np.newaxis, :] - first[:, :, np.newaxis]).reshape(len(first), -1)
    differences.sort(axis=1)
    shift = np.median(differences, axis=1)
    k = _interval_rank(m, n, confidence)
    if k < 1:
        infinite = np.full(len(first), np.inf)
        return shift, -infinite, infinite
    return shift, differences[:, k - 1], differences[:, m * n - k]


def benjamini_hochberg(p: ArrayLike) -> NDArray[np.float64]:
    """The Benjamini-Hochberg q values of the p values ``p`` (NaN ones are not tests: their
    q is NaN and they do not count). Rejecting where ``q <= alpha`` keeps the expected share
    of false discoveries among the rejections at most ``alpha`` (independent or positively
    dependent tests)."""
    values = np.asarray(p, dtype=np.float64)
    q = np.full(values.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(values.ravel()))
    if tested.size == 0:
        return q
    flat = values.ravel()[tested]
    order = np.argsort(flat, kind="stable")
    scaled = flat[order] * tested.size / np.arange(1, tested.size + 1)
    adjusted = np.minimum.accumulate(scaled[::-1])[::-1]
    result = np.empty(tested.size)
    result[order] = np.minimum(adjusted, 1.0)
    out = q.ravel()
    out[tested] = result
    return out.reshape(values.shape)
