"""Noise-aware comparison of two call graphs measured several times: :func:`compare`.

Each side is a set of repeats (one run, several runs pooled, or output folders). Nodes are
matched by call path; a node on one side only is "added" or "removed". Per node and
component the repeats of the two sides are compared with the Mann-Whitney U test (a rank
test: no assumption on the shape of the noise), the change is estimated as the ratio B / A
(Hodges-Lehmann on log values, with Moses' distribution-free interval), and the false
discovery rate is controlled across all the nodes and components tested
(Benjamini-Hochberg). A row is "slower" or "faster" only when its q value is at most
``alpha`` AND the estimated ratio is beyond the minimum effect.

Noise shared by a whole repeat (the machine's frequency, its load, the cache state: every
node of the repeat a little faster or slower together) dominates real measurements. With
``normalize="run"`` (the default) each repeat's shared factor is estimated robustly (the
median over nodes of the log ratio to the pooled per-node median) and divided out before the
nodes are tested; the factors themselves are compared as a row of their own, ``(whole
run)``, so a global slowdown is reported there. The figures behind the defaults are in
benchmarks/runs_statistics.py and docs/guide/compare.md.
"""

from __future__ import annotations

import math
import os

import numpy as np

from . import _stats
from ._errors import RunsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from typing import Any

    from numpy.typing import NDArray

__all__ = [
    "DEFAULT_ALPHA",
    "CompareUsageError",
    "DEFAULT_MIN_EFFECT",
    "METRICS",
    "NORMALIZE",
    "VERDICTS",
    "Comparison",
    "Row",
    "compare",
    "compare_arrays",
]

VERDICTS = ("slower", "faster", "no change", "not enough data", "added", "removed")
METRICS = ("inclusive", "self")
NORMALIZE = ("run", "none")
#: the false discovery rate allowed across the nodes tested. 0.01, not the customary 0.05:
#: under the complete null (A/A) Benjamini-Hochberg flags some node in about alpha of the
#: comparisons, and the target is at most 1% (benchmarks/runs_statistics.py)
DEFAULT_ALPHA = 0.01
DEFAULT_MIN_EFFECT = 0.05
#: the path of the row that compares the repeats' shared factors (normalize="run")
RUN_PATH: tuple[str, ...] = ()
RUN_LABEL = "(whole run)"


class CompareUsageError(RunsError):
    """A :class:`RunsError` caused by the arguments given to :func:`compare` (a setting out
    of range, a path that is no folder, a component not measured), not by the data they
    name: a command line exits with status 2 for it, 1 for the other."""


def _error(message: str, usage: bool = False) -> RunsError:
    return CompareUsageError(message) if usage else RunsError(message)


class Row:
    """One node and component: the repeats on each side, their medians (base units), the
    ratio B / A with its interval, p and q, and the verdict (one of :data:`VERDICTS`).

    With ``normalize="run"`` the ratio and the test are relative to the whole run's factor
    (the ``(whole run)`` row, ``path == ()``); ``raw_ratio`` is the ratio of the medians as
    measured."""

    __slots__ = (
        "component",
        "high",
        "low",
        "median_a",
        "median_b",
        "metric",
        "n_a",
        "n_b",
        "note",
        "p",
        "path",
        "q",
        "ratio",
        "unit",
        "verdict",
    )

    def __init__(
        self,
        path: tuple[str, ...],
        component: str,
        metric: str,
        unit: str,
        n_a: int,
        n_b: int,
        median_a: float,
        median_b: float,
        ratio: float = math.nan,
        low: float = math.nan,
        high: float = math.nan,
        p: float = math.nan,
        q: float = math.nan,
        verdict: str = "no change",
        note: str = "",
    ) -> None:
        self.path = path
        self.component = component
        self.metric = metric
        self.unit = unit
        self.n_a = n_a
        self.n_b = n_b
        self.median_a = median_a
        self.median_b = median_b
        self.ratio = ratio
        self.low = low
        self.high = high
        self.p = p
        self.q = q
        self.verdict = verdict
        self.note = note

    @property
    def raw_ratio(self) -> float:
        if self.median_a > 0 and math.isfinite(self.median_b):
            return self.median_b / self.median_a
        return math.nan

    @property
    def label(self) -> str:
        return RUN_LABEL if self.path == RUN_PATH else self.path[-1]

    def __repr__(self) -> str:
        return (
            f"Row({'/'.join(self.path) or RUN_LABEL!r}, {self.component!r}, "
            f"ratio={self.ratio:.4g}, q={self.q:.3g}, verdict={self.verdict!r})"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "path": list(self.path),
            "component": self.component,
            "metric": self.metric,
            "unit": self.unit,
            "n_a": self.n_a,
            "n_b": self.n_b,
            "median_a": _finite(self.median_a),
            "median_b": _finite(self.median_b),
            "ratio": _finite(self.ratio),
            "low": _finite(self.low),
            "high": _finite(self.high),
            "raw_ratio": _finite(self.raw_ratio),
            "p": _finite(self.p),
            "q": _finite(self.q),
            "verdict": self.verdict,
            "note": self.note,
        }


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


class Comparison:
    """The rows of a comparison (sorted: the whole-run rows, then changes by effect, then
    added/removed nodes, rows without enough data, and unchanged ones by effect), with the
    settings that made them."""

    def __init__(
        self,
        rows: list[Row],
        *,
        a: str,
        b: str,
        repeats: tuple[int, int],
        metric: str,
        alpha: float,
        min_effect: float,
        normalize: str,
        confidence: float,
        notes: Sequence[str] = (),
    ) -> None:
        self.rows = rows
        self.notes = list(notes)
        self.a, self.b = a, b
        self.repeats = repeats
        self.metric = metric
        self.alpha = alpha
        self.min_effect = min_effect
        self.normalize = normalize
        self.confidence = confidence

    def __repr__(self) -> str:
        return f"<Comparison {self.a} -> {self.b}: {self.summary()}>"

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def slower(self) -> list[Row]:
        """The rows B is slower in (significant, and beyond the minimum effect)."""
        return [row for row in self.rows if row.verdict == "slower"]

    #: the same as :meth:`slower`
    regressions = slower

    def faster(self) -> list[Row]:
        """The rows B is faster in (significant, and beyond the minimum effect)."""
        return [row for row in self.rows if row.verdict == "faster"]

    def changed(self) -> list[Row]:
        """The rows slower or faster."""
        return [row for row in self.rows if row.verdict in ("slower", "faster")]

    def counts(self) -> dict[str, int]:
        """The number of rows of each verdict (every verdict, in :data:`VERDICTS` order)."""
        counts = dict.fromkeys(VERDICTS, 0)
        for row in self.rows:
            counts[row.verdict] += 1
        return counts

    def summary(self) -> str:
        """The counts in one line: ``1 slower, 0 faster, 198 no change, ...``."""
        return ", ".join(f"{count} {verdict}" for verdict, count in self.counts().items())

    def to_json(self) -> dict[str, Any]:
        """The settings, the counts and every row, JSON-able (no NaN or infinity: null)."""
        return {
            "format": "timemory-comparison",
            "version": 1,
            "a": self.a,
            "b": self.b,
            "repeats": list(self.repeats),
            "metric": self.metric,
            "alpha": self.alpha,
            "min_effect": self.min_effect,
            "normalize": self.normalize,
            "confidence": self.confidence,
            "notes": self.notes,
            "counts": self.counts(),
            "rows": [row.to_json() for row in self.rows],
        }

    def text(self, limit: int | None = 50) -> str:
        """A table: node (indented by depth), component, the medians of A and B, the ratio
        with its interval, p, q and the verdict; a header with the counts per verdict. At
        most ``limit`` rows (None: all); the rest are counted in a last line."""
        header = [
            f"A: {self.a} ({_repeats(self.repeats[0])})  B: {self.b} ({_repeats(self.repeats[1])})",
            f"{self.metric} values; slower/faster: q <= {self.alpha:g} (Benjamini-Hochberg) "
            f"and B/A beyond {1 + self.min_effect:g}x; {self.confidence:.0%} intervals"
            + (
                "; node ratios relative to the whole run (first rows)"
                if any(row.path == RUN_PATH for row in self.rows)
                else ""
            ),
            *self.notes,
            self.summary(),
        ]
        shown = self.rows if limit is None else self.rows[: max(limit, 0)]
        names = _short_names({row.path for row in self.rows if row.path != RUN_PATH})
        table = [("node", "component", "A", "B", "B/A [interval]", "p", "q", "verdict")]
        for row in shown:
            indent = "" if row.path == RUN_PATH else "  " * (len(row.path) - 1)
            table.append(
                (
                    _node_cell(indent, names.get(row.path, RUN_LABEL)),
                    row.component,
                    _quantity(row.median_a, row.unit),
                    _quantity(row.median_b, row.unit),
                    _ratio_text(row),
                    _p_text(row.p),
                    _p_text(row.q),
                    row.verdict + (f" ({row.note})" if row.note else ""),
                )
            )
        widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]))]
        lines = header + [
            "  ".join(
                cell.ljust(width) if i in (0, 1, 7) else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(cells, widths))
            ).rstrip()
            for cells in table
        ]
        if len(shown) < len(self.rows):
            lines.append(f"... {len(self.rows) - len(shown)} more rows (--limit 0 shows all)")
        return "\n".join(lines)

    def plot(self, path: str | os.PathLike[str], limit: int = 40) -> str:
        """An image (format from the file name's suffix) of the ratio of each changed or
        tested row with its interval, on a log axis, the minimum effect shaded; at most
        ``limit`` rows, the largest effects. Returns the path written."""
        from timemory._files import atomic_write_with
        from timemory.plotting.figure import MatplotlibMissing, require_matplotlib

        try:
            matplotlib = require_matplotlib()
        except MatplotlibMissing as err:
            raise _error(str(err)) from None
        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

        target = os.fspath(path)
        suffix = os.path.splitext(target)[1].lstrip(".").lower() or "png"
        rows = [row for row in self.rows if math.isfinite(row.ratio) and row.ratio > 0][:limit]
        colours = {"slower": "tab:red", "faster": "tab:green", "not enough data": "tab:gray"}
        figure = Figure(figsize=(8, 1.5 + 0.3 * max(len(rows), 1)))
        axes = figure.add_subplot()
        for position, row in enumerate(rows):
            low = row.low if math.isfinite(row.low) and row.low > 0 else row.ratio
            high = row.high if math.isfinite(row.high) else row.ratio
            axes.errorbar(
                [row.ratio],
                [position],
                xerr=[[row.ratio - low], [high - row.ratio]],
                fmt="o",
                color=colours.get(row.verdict, "tab:blue"),
                capsize=3,
            )
        axes.set_xscale("log")
        axes.axvline(1.0, color="black", linewidth=0.8)
        axes.axvspan(1 / (1 + self.min_effect), 1 + self.min_effect, color="0.9", zorder=0)
        axes.set_yticks(range(len(rows)))
        axes.set_yticklabels([f"{row.label} [{row.component}]" for row in rows], fontsize=8)
        axes.invert_yaxis()
        axes.set_xlabel(f"B / A ({self.metric}), {self.confidence:.0%} interval")
        axes.set_title(f"{self.a} -> {self.b}: {self.summary()}", fontsize=9)
        figure.tight_layout()
        try:
            atomic_write_with(target, lambda stream: figure.savefig(stream, format=suffix))
        except ValueError as err:  # a format matplotlib does not write
            raise _error(f"cannot write the plot {target!r}: {err}", usage=True) from None
        return target


def _short_names(paths: Iterable[tuple[str, ...]]) -> dict[tuple[str, ...], str]:
    """Each path's shortest tail that no other path ends with (``solve`` when one node has
    that label, ``run/solve`` when several do), joined with "/"."""
    paths = list(paths)
    names: dict[tuple[str, ...], str] = {}
    pending = paths
    length = 1
    while pending:
        tails: dict[tuple[str, ...], int] = {}
        for path in paths:
            tail = path[-length:]
            tails[tail] = tails.get(tail, 0) + 1
        rest = []
        for path in pending:
            if tails[path[-length:]] == 1 or length >= len(path):
                names[path] = "/".join(path[-length:])
            else:
                rest.append(path)
        pending = rest
        length += 1
    return names


def _quantity(value: float, unit: str) -> str:
    if not math.isfinite(value):
        return "-"
    scales: Sequence[tuple[float, str]] = ()
    if unit == "ns":
        scales = ((1e9, "s"), (1e6, "ms"), (1e3, "us"), (1.0, "ns"))
    elif unit in ("bytes", "B", "byte"):
        scales = ((1024.0**3, "GiB"), (1024.0**2, "MiB"), (1024.0, "KiB"), (1.0, "B"))
    for scale, name in scales:
        if abs(value) >= scale or scale == 1.0:
            return f"{value / scale:.4g} {name}"
    return f"{value:.4g} {unit}".rstrip()


def _ratio_text(row: Row) -> str:
    if not math.isfinite(row.ratio):
        return "-"
    low = "0" if row.low <= 0 or math.isnan(row.low) else f"{row.low:.3f}"
    high = "inf" if not math.isfinite(row.high) else f"{row.high:.3f}"
    return f"{row.ratio:.3f} [{low}, {high}]"


def _p_text(value: float) -> str:
    if not math.isfinite(value):
        return "-"
    return f"{value:.2g}" if value < 0.001 else f"{value:.3f}"


# ------------------------------------------------------------------------------ the test
def _check_settings(
    metric: str, min_effect: float, alpha: float, normalize: str, confidence: float
) -> None:
    if metric not in METRICS:
        raise _error(f"unknown metric {metric!r} (choices: {', '.join(METRICS)})", usage=True)
    if normalize not in NORMALIZE:
        raise _error(
            f"unknown normalize {normalize!r} (choices: {', '.join(NORMALIZE)})", usage=True
        )
    if not (isinstance(alpha, (int, float)) and 0.0 < alpha < 1.0):
        raise _error(f"alpha must be a number between 0 and 1, got {alpha!r}", usage=True)
    if not (isinstance(min_effect, (int, float)) and 0.0 <= min_effect < math.inf):
        raise _error(f"min_effect must be a number at least 0, got {min_effect!r}", usage=True)
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise _error(f"confidence must be a number between 0 and 1, got {confidence!r}", usage=True)


#: the fewest nodes (present in every repeat, with positive self values) from which the
#: repeats' shared factors are estimated; with fewer, normalize="run" leaves the values as
#: they are (a median of a handful of nodes would take a changed node for the whole run)
MIN_NORMALIZE_NODES = 10


def _shared_factors(
    a: NDArray[np.float64], b: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Each repeat's shared factor (log), estimated from the nodes present with positive
    values in every repeat of both sides: the median over nodes of the repeat's log value
    minus the node's median over all the repeats. None with fewer than
    :data:`MIN_NORMALIZE_NODES` such nodes.

    The values are self values: a node's own time changes that node alone, where a change
    in a deep node would move the inclusive values of all its ancestors, which could be
    most of the nodes of a narrow tree."""
    both = np.concatenate([a, b], axis=1)
    with np.errstate(invalid="ignore"):
        usable = np.isfinite(both).all(axis=1) & (both > 0).all(axis=1)
    if usable.sum() < MIN_NORMALIZE_NODES:
        return None
    logs = np.log(both[usable])
    factors = np.median(logs - np.median(logs, axis=1, keepdims=True), axis=0)
    return factors[: a.shape[1]], factors[a.shape[1] :]


def _test_block(
    a: NDArray[np.float64], b: NDArray[np.float64], confidence: float
) -> tuple[NDArray[np.float64], ...]:
    """Rows with every repeat present: p, ratio, low, high (log-space Hodges-Lehmann where
    all values are positive, else the shift relative to A's median)."""
    count = a.shape[0]
    p = np.full(count, np.nan)
    ratio, low, high = (np.full(count, np.nan) for _ in range(3))
    if count == 0:
        return p, ratio, low, high
    p = _stats.mann_whitney(a, b)[1]
    positive = (a > 0).all(axis=1) & (b > 0).all(axis=1)
    if positive.any():
        shift, lo, hi = _stats.hodges_lehmann(np.log(a[positive]), np.log(b[positive]), confidence)
        ratio[positive], low[positive], high[positive] = np.exp(shift), np.exp(lo), np.exp(hi)
    rest = ~positive
    if rest.any():
        shift, lo, hi = _stats.hodges_lehmann(a[rest], b[rest], confidence)
        base = np.median(a[rest], axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(base > 0, base, np.nan)
            ratio[rest] = 1.0 + shift / scale
            low[rest] = np.maximum(1.0 + lo / scale, 0.0)
            high[rest] = 1.0 + hi / scale
            # nothing on A's side to be relative to: the direction alone
            ratio[rest] = np.where(
                np.isnan(scale) & (shift != 0), np.where(shift > 0, np.inf, 0.0), ratio[rest]
            )
    return p, ratio, low, high


def compare_arrays(
    paths: Sequence[tuple[str, ...]],
    a: Mapping[str, NDArray[np.float64]],
    b: Mapping[str, NDArray[np.float64]],
    units: Mapping[str, str] | None = None,
    *,
    metric: str = "inclusive",
    min_effect: float = DEFAULT_MIN_EFFECT,
    alpha: float = DEFAULT_ALPHA,
    normalize: str = "run",
    confidence: float = 0.95,
    labels: tuple[str, str] = ("A", "B"),
    self_a: Mapping[str, NDArray[np.float64]] | None = None,
    self_b: Mapping[str, NDArray[np.float64]] | None = None,
) -> Comparison:
    """:func:`compare` of aligned arrays: ``a[component]`` has shape (len(paths), repeats of
    A), NaN where a repeat lacks the node (a node with no value in any repeat of a side is
    not on that side); likewise ``b``. ``self_a`` / ``self_b``: the self values, aligned
    the same way, from which normalize="run" estimates the shared factors (default: ``a``
    and ``b``)."""
    _check_settings(metric, min_effect, alpha, normalize, confidence)
    units = units or {}
    bound = math.log1p(min_effect)
    node_rows: list[Row] = []
    run_rows: list[Row] = []
    node_tests: list[tuple[Row, float]] = []
    run_tests: list[tuple[Row, float]] = []
    repeats = (0, 0)
    notes: list[str] = []
    families = 2 if normalize == "run" else 1
    level = alpha / families
    needed = _stats.repeats_needed(level)
    for component in a:
        values_a = np.asarray(a[component], dtype=np.float64)
        values_b = np.asarray(b[component], dtype=np.float64)
        unit = units.get(component, "")
        ra, rb = values_a.shape[1], values_b.shape[1]
        repeats = (max(repeats[0], ra), max(repeats[1], rb))
        medians_a = _nanmedian(values_a)
        medians_b = _nanmedian(values_b)
        present_a = np.isfinite(values_a).sum(axis=1)
        present_b = np.isfinite(values_b).sum(axis=1)
        complete = (present_a == ra) & (present_b == rb)
        tested_a, tested_b = values_a[complete], values_b[complete]
        if normalize == "run" and ra and rb:
            own_a = values_a if self_a is None else np.asarray(self_a[component], np.float64)
            own_b = values_b if self_b is None else np.asarray(self_b[component], np.float64)
            factors = _shared_factors(own_a[complete], own_b[complete])
            if factors is None:
                notes.append(
                    f"{component}: not normalized (fewer than {MIN_NORMALIZE_NODES} nodes "
                    "with positive self values in every repeat)"
                )
            else:
                fa, fb = np.exp(factors[0]), np.exp(factors[1])
                tested_a, tested_b = tested_a / fa, tested_b / fb
                p, ratio, low, high = _test_block(fa[None, :], fb[None, :], confidence)
                row = Row(
                    RUN_PATH,
                    component,
                    metric,
                    "",
                    ra,
                    rb,
                    float(np.median(fa)),
                    float(np.median(fb)),
                    float(ratio[0]),
                    float(low[0]),
                    float(high[0]),
                    float(p[0]),
                )
                run_rows.append(row)
                if _stats.smallest_p(ra, rb) <= level:
                    run_tests.append((row, float(p[0])))
                else:
                    row.verdict = "not enough data"
                    row.note = _too_few(ra, rb, level, needed)
        p, ratio, low, high = _test_block(tested_a, tested_b, confidence)
        # a node measured the same in every repeat of both sides (nothing, or a fixed
        # amount) has nothing to test: it stays out of the correction, where it would only
        # raise the q values of the others (whether a row is constant does not depend on
        # which side each repeat is on, so the tests of the rest stay valid)
        both = np.concatenate([values_a[complete], values_b[complete]], axis=1)
        constant = (both.max(axis=1, initial=-np.inf) == both.min(axis=1, initial=np.inf)) & (
            both.shape[1] > 0
        )
        enough = _stats.smallest_p(ra, rb) <= level
        position = 0
        for index, path in enumerate(paths):
            na, nb = int(present_a[index]), int(present_b[index])
            row = Row(
                tuple(path),
                component,
                metric,
                unit,
                na,
                nb,
                float(medians_a[index]),
                float(medians_b[index]),
            )
            if na == 0 and nb == 0:
                continue  # the component does not measure this node
            if na == 0:
                row.verdict = "added"
            elif nb == 0:
                row.verdict = "removed"
            elif not complete[index]:
                row.verdict = "not enough data"
                missing = [
                    f"{side} {n} of {r}" for side, n, r in (("A", na, ra), ("B", nb, rb)) if n < r
                ]
                row.note = "present in " + ", ".join(missing) + " repeats"
            else:
                row.p, row.ratio = float(p[position]), float(ratio[position])
                row.low, row.high = float(low[position]), float(high[position])
                same = bool(constant[position])
                if same:
                    row.p = 1.0
                    row.ratio = row.low = row.high = 1.0 if both[position, 0] != 0 else math.nan
                    row.note = "the same value in every repeat"
                position += 1
                if same:
                    pass  # "no change", outside the correction
                elif enough:
                    node_tests.append((row, row.p))
                else:
                    row.verdict = "not enough data"
                    row.note = _too_few(ra, rb, level, needed)
            node_rows.append(row)
    # with normalize="run" the whole-run rows and the node rows are two families that share
    # alpha half and half (Bonferroni): q values within each are Benjamini-Hochberg's,
    # doubled, so that a comparison of a run with itself flags any row with a probability
    # of about alpha at most, whichever of shared and per-node noise dominates
    for tests in (node_tests, run_tests):
        q = _stats.benjamini_hochberg([p for _, p in tests])
        for (row, _), value in zip(tests, q):
            row.q = min(1.0, float(value) * families)
            row.verdict = _verdict(row.q, row.ratio, alpha, bound)
    return Comparison(
        run_rows + sorted(node_rows, key=_order),
        a=labels[0],
        b=labels[1],
        repeats=repeats,
        metric=metric,
        alpha=alpha,
        min_effect=min_effect,
        normalize=normalize,
        confidence=confidence,
        notes=notes,
    )


def _too_few(ra: int, rb: int, level: float, needed: int) -> str:
    return f"{ra}+{rb} repeats cannot reach p <= {level:g}; needs {needed} per side"


def _nanmedian(values: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.full(values.shape[0], np.nan)
    some = np.isfinite(values).any(axis=1)
    if some.any():
        out[some] = np.nanmedian(values[some], axis=1)
    return out


#: the widest node cell of the text table: a deeper or longer one keeps the end of its name
NODE_WIDTH = 64


def _node_cell(indent: str, name: str) -> str:
    indent = indent[: NODE_WIDTH // 3]
    room = NODE_WIDTH - len(indent)
    return indent + (name if len(name) <= room else "..." + name[-(room - 3) :])


def _repeats(n: int) -> str:
    return f"{n} repeat" if n == 1 else f"{n} repeats"


def _verdict(q: float, ratio: float, alpha: float, bound: float) -> str:
    if not q <= alpha or math.isnan(ratio):
        return "no change"
    effect = math.log(ratio) if 0 < ratio < math.inf else math.copysign(math.inf, ratio - 1)
    if effect >= bound - 1e-12:
        return "slower"
    if effect <= -bound + 1e-12:
        return "faster"
    return "no change"


_GROUPS = {"slower": 0, "faster": 0, "added": 1, "removed": 1, "not enough data": 2}


def _order(row: Row) -> tuple[int, float]:
    if math.isnan(row.ratio):
        effect = -1.0
    elif row.ratio <= 0 or math.isinf(row.ratio):
        effect = math.inf
    else:
        effect = abs(math.log(row.ratio))
    return (_GROUPS.get(row.verdict, 3), -effect)


# ------------------------------------------------------------------------------ the inputs
def compare(
    a: Any,
    b: Any,
    *,
    components: Sequence[str] | str | None = None,
    metric: str = "inclusive",
    min_effect: float = DEFAULT_MIN_EFFECT,
    alpha: float = DEFAULT_ALPHA,
    normalize: str = "run",
    confidence: float = 0.95,
) -> Comparison:
    """Compare the call graphs of ``a`` and ``b`` (B against A: a ratio above 1 is B
    slower), node by node and component by component.

    ``a`` and ``b`` are each a :class:`~timemory.runs.Run`, a :class:`~timemory.runs.Table`,
    an output folder (what ``timemory profile -d DIR`` writes: one repeat), a run's folder in
    a store (``DIR/runs/<id>``), or a list of these (their repeats pooled).
    ``components``: the components to compare (default: every one both sides have);
    ``metric``: "inclusive" or "self"; ``min_effect``: the smallest change reported, as a
    fraction (0.05: B/A at least 1.05 or at most 1/1.05); ``alpha``: the false discovery
    rate across the rows tested; ``normalize``: "run" (divide out each repeat's shared
    factor, compared on a row of its own) or "none"; ``confidence``: of the intervals.

    Raises :class:`~timemory.runs.RunsError` (one line) for an input it cannot read or a
    setting out of range."""
    _check_settings(metric, min_effect, alpha, normalize, confidence)
    wanted = _component_list(components)
    table_a, label_a = _as_table(a)
    table_b, label_b = _as_table(b)
    common = [c for c in table_a.components if c in table_b.components]
    if wanted is not None:
        missing = [c for c in wanted if c not in common]
        if missing:
            raise _error(
                f"component {missing[0]!r} is not measured on both sides "
                f"(both have: {', '.join(common) or 'none'})",
                usage=True,
            )
        common = [c for c in wanted if c in common]
    if not common:
        raise _error(
            f"no component in common: A has {', '.join(table_a.components) or 'none'}, "
            f"B has {', '.join(table_b.components) or 'none'}"
        )
    paths = list(table_a.paths) + [p for p in table_b.paths if p not in set(table_a.paths)]
    index_a, index_b = table_a.index(), table_b.index()
    aligned_a = {c: _aligned(table_a, c, metric, paths, index_a) for c in common}
    aligned_b = {c: _aligned(table_b, c, metric, paths, index_b) for c in common}
    self_a = {c: _aligned(table_a, c, "self", paths, index_a) for c in common}
    self_b = {c: _aligned(table_b, c, "self", paths, index_b) for c in common}
    units = {c: table_a.units.get(c, "") for c in common}
    return compare_arrays(
        paths,
        aligned_a,
        aligned_b,
        units,
        metric=metric,
        min_effect=min_effect,
        alpha=alpha,
        normalize=normalize,
        confidence=confidence,
        labels=(label_a, label_b),
        self_a=self_a,
        self_b=self_b,
    )


def _component_list(components: Sequence[str] | str | None) -> list[str] | None:
    if components is None:
        return None
    if isinstance(components, str):
        from timemory._text import split_names

        return list(split_names(components))
    return [str(c) for c in components]


def _aligned(
    table: Any,
    component: str,
    metric: str,
    paths: Sequence[tuple[str, ...]],
    index: Mapping[tuple[str, ...], int],
) -> NDArray[np.float64]:
    values = np.asarray(table.values[component][metric], dtype=np.float64)
    out = np.full((len(paths), table.repeats), np.nan)
    rows = [i for i, path in enumerate(paths) if path in index]
    out[rows] = values[[index[paths[i]] for i in rows]]
    return out


def _as_table(source: Any) -> tuple[Any, str]:
    """``source`` as a Table of repeats, and a short label for it."""
    from . import _graph

    if isinstance(source, _graph.Table):
        return source, "table"
    if isinstance(source, _graph.Graph):
        return _graph.Table.from_graphs([source]), "graph"
    if isinstance(source, (str, os.PathLike)):
        return _folder_table(os.fspath(source))
    if callable(getattr(source, "table", None)) and hasattr(source, "id"):
        return source.table(), f"run {source.id}"
    if isinstance(source, (list, tuple)):
        if not source:
            raise _error(
                "an empty list to compare: give at least one run, table or folder", usage=True
            )
        parts = [_as_table(item) for item in source]
        tables = [table for table, _ in parts]
        label = parts[0][1] if len(parts) == 1 else f"{parts[0][1]} + {len(parts) - 1} more"
        return (tables[0] if len(tables) == 1 else _graph.Table.concat(tables)), label
    raise _error(
        f"cannot compare a {type(source).__name__}: expected a Run, a Table, an output "
        "folder, a run folder, or a list of these",
        usage=True,
    )


def _folder_table(path: str) -> tuple[Any, str]:
    import json

    from . import _graph

    if not os.path.isdir(path):
        what = "is not a folder" if os.path.exists(path) else "does not exist"
        raise _error(f"{path!r} {what}: expected an output folder or a run folder", usage=True)
    table_file = os.path.join(path, "table.json")
    if os.path.isfile(table_file):
        try:
            with open(table_file, encoding="utf-8") as stream:
                document = json.load(stream)
        except (OSError, ValueError) as err:
            raise _error(f"cannot read {table_file!r}: {err}") from None
        return _graph.Table.from_json(document, where=table_file), _short(path)
    if os.path.isfile(os.path.join(path, "timemory-store.json")):
        raise _error(
            f"{path!r} is a run store: name its runs (--store {path} with a run id or "
            "parameter filters)",
            usage=True,
        )
    if os.path.isfile(os.path.join(path, "run.json")):
        raise _error(f"{path!r} is a run folder without its table.json (a run not done?)")
    # every component: one the folder lacks is reported by compare(), naming those both
    # sides have, where read_folder would only name this folder's
    graph = _graph.read_folder(path)
    return _graph.Table.from_graphs([graph]), _short(path)


def _short(path: str) -> str:
    return os.path.basename(os.path.normpath(path)) or path
