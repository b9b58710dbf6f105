"""The summary that leads to the hot spot: one row per label, ranked by self time.

:func:`summarize` merges a component's call graph the way a profile reader expects:

* **self** is a node's value less its children's, summed over every place the label occurs;
* **inclusive** is a node's value counted once per recursion chain (an occurrence inside
  another occurrence of the same label adds nothing), so it never exceeds the total;
* **count** is every call; **mean** the average value of one call (every call's inclusive
  value, nested recursive calls included, over the calls).

Percentages are of the program's total (the top-level nodes' values), so the self column sums
to 100% (less when negative self values were clipped) and no row's inclusive share exceeds
100%. Work that ran in parallel elsewhere (a task beneath the call path that submitted it:
remote) is not part of its parent's values, so the total is then the sum of the self values:
the time of every thread and process that worked (docs/guide/executors.md). Values are
printed in the unit that suits each one (ns, µs, ms, s; B, KB, MB...), so a small value is
never shown as ``0.000``.

Only *additive* metrics have self values: a node's value is then its children's plus its own
(times, memory growth, counts). A rate or a percentage (``cpu_util``, a read rate), an absolute
reading (``current_peak_rss``) or a timestamp is not: its rows show the mean and the largest
value of a call instead, ranked by the mean (:func:`timemory._components.is_additive`).
"""

from __future__ import annotations

import os
from operator import attrgetter

from .. import _core
from .. import settings as _settings
from .._components import is_additive

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence
    from typing import Any

__all__ = ["Summary", "SummaryRow", "format_value", "summarize", "summary_top"]

#: the rows shown when neither the caller nor ``settings.summary_top`` says
DEFAULT_TOP = 20
#: the narrowest label column a width fit leaves (labels are shortened in the middle)
MIN_LABEL = 16
#: the prefix of the lines timemory prints
PREFIX = "[timemory]> "

# (divisor, name) from the largest; a value takes the first unit it reaches 1 in
_TIME = ((1e9, "s"), (1e6, "ms"), (1e3, "µs"), (1.0, "ns"))
_MEMORY = ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB"), (1.0, "B"))
_RATE = tuple((d, n + "/s") for d, n in _MEMORY)
_COUNT = ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"))


def summary_top(top: int | None = None) -> int:
    """The rows to show: ``top`` if given, else ``settings.summary_top`` (0: every row)."""
    if top is None:
        top = int(getattr(_settings, "summary_top", DEFAULT_TOP))
    if top < 0:
        raise ValueError(f"invalid number of rows {top!r}: expected 0 (every row) or more")
    return top


def _digits(x: float) -> str:
    """Four significant digits for 1 <= |x| < 1000 (``3.000``, ``12.35``, ``123.5``)."""
    a = abs(x)
    if a < 9.9995:
        return f"{x:.3f}"
    if a < 99.995:
        return f"{x:.2f}"
    return f"{x:.1f}"


def format_value(value: float, family: str) -> str:
    """``value`` (in the base unit of its family: ns, bytes, bytes per second, a count, a
    percentage) written with the unit that suits it: ``3.000 µs``, ``12.35 ms``, ``1.500 MB``,
    ``21.89k``, ``97.3%``."""
    if value != value:  # NaN
        return "nan"
    if value == 0:
        return "0"
    if family == "percent":
        return f"{value:.1f}%"
    scale = {"timing": _TIME, "memory": _MEMORY, "memory_rate": _RATE}.get(family)
    a = abs(value)
    if scale is not None:
        for divisor, name in scale:
            if a >= divisor * 0.99995 or divisor == scale[-1][0]:
                return f"{_digits(value / divisor)} {name}"
    # counts and unitless values: exact below 10,000, then with a k/M/G/T suffix
    for divisor, name in _COUNT:
        if a >= 1e4 and a >= divisor * 0.99995:
            return f"{_digits(value / divisor)}{name}"
    if value == int(value):
        return str(int(value))
    return f"{value:.4g}"


def _percent(part: float, total: float) -> str:
    if not total:
        return "-"
    pct = 100.0 * part / total
    if 0 < pct < 0.05:
        return "<0.1%"
    return f"{pct:.1f}%"


def short_label(label: str, width: int) -> str:
    """``label`` cut to ``width`` characters in the middle: the start names the function, the
    end often its file and line."""
    if len(label) <= width:
        return label
    if width <= 3:
        return label[:width]
    head = (width - 3) * 2 // 3
    return label[:head] + "..." + label[len(label) - (width - 3 - head) :]


class SummaryRow:
    """One label: ``count`` calls, ``self_value`` and ``inclusive`` (base units: ns, bytes...),
    ``every`` (the sum of every call's value, nested recursive calls included) and ``peak``
    (the largest value of one call, for metrics without self values)."""

    __slots__ = ("label", "count", "self_value", "inclusive", "every", "peak")

    def __init__(
        self,
        label: str,
        count: int = 0,
        every: float = 0.0,
        inclusive: float = 0.0,
        self_value: float = 0.0,
        peak: float = float("-inf"),
    ) -> None:
        # the order of _core.merge_by_label's rows: SummaryRow(*row)
        self.label = label
        self.count = count
        self.every = every
        self.inclusive = inclusive
        self.self_value = self_value
        self.peak = peak

    @property
    def mean(self) -> float:
        """The average value of one call."""
        return self.every / self.count if self.count else 0.0

    def __repr__(self) -> str:
        return (
            f"<SummaryRow {self.label!r} count={self.count} self={self.self_value} "
            f"inclusive={self.inclusive}>"
        )


class Summary:
    """One component's rows (:class:`SummaryRow`), ranked: by self value, then inclusive
    value, then label for an additive metric; by mean for the others.

    ``total`` is the program's total (the top-level nodes' values, in base units), ``family``
    the unit family of the value summarised (``timing``, ``memory``, ``memory_rate``,
    ``count``, ``percent``, ``none``), ``additive`` whether self values mean anything, and
    ``files`` where the whole data are (named by the "more rows" line)."""

    def __init__(
        self,
        index: int,
        rows: list[SummaryRow],
        total: float,
        family: str,
        additive: bool,
        what: str = "",
        files: Sequence[str] = (),
    ) -> None:
        self.index, self.rows, self.total = index, rows, total
        self.family, self.additive, self.what = family, additive, what
        self.files = list(files)
        info = _core.component_info(index)
        self.name: str = info["id"]
        self.label: str = info["label"]
        # a Python-defined component's values are shown in its display unit (divided by its
        # scale, then named: "12.5 MB"); base units are what it returned
        self._custom: tuple[float, str] | None = None
        if family == "custom":
            divisors, reprs = _core.unit_info(index)
            self._custom = (float(divisors[0] or 1.0), str(reprs[0]))

    def format(self, value: float) -> str:
        """``value`` (base units) as the table shows it: in the unit that suits it."""
        if self._custom is None:
            return format_value(value, self.family)
        divisor, unit = self._custom
        text = format_value(value / divisor, "custom")
        return f"{text} {unit}" if unit and text not in ("0", "nan") else text

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Any:
        return iter(self.rows)

    def _columns(self) -> list[tuple[str, Any]]:
        """(header, cell of a row) of the value columns, in order."""
        value = self.format

        if self.additive:
            total = self.total
            return [
                ("COUNT", lambda r: str(r.count)),
                ("SELF", lambda r: value(r.self_value)),
                ("% SELF", lambda r: _percent(r.self_value, total)),
                ("INCL", lambda r: value(r.inclusive)),
                ("% INCL", lambda r: _percent(r.inclusive, total)),
                ("MEAN", lambda r: value(r.mean)),
            ]
        return [
            ("COUNT", lambda r: str(r.count)),
            ("MEAN", lambda r: value(r.mean)),
            ("MAX", lambda r: value(r.peak) if r.count else "-"),
        ]

    def title(self, shown: int) -> str:
        if self.additive:
            by = "self time" if self.family == "timing" else "self value"
        else:
            by = "mean per call"
        what = f" ({self.what})" if self.what else ""
        head = f"{self.name}{what}: "
        if shown < len(self.rows):
            head += f"top {shown} of {len(self.rows)} by {by}"
        else:
            head += f"{len(self.rows)} {'label' if len(self.rows) == 1 else 'labels'} by {by}"
        if self.additive and self.total:
            head += f", total {self.format(self.total)}"
        return head

    def more_line(self, more: int) -> str:
        """The last line of a capped table: how many rows are left out, and where they are."""
        where = f" in {', '.join(self.files)}" if self.files else ""
        return f"... and {more} more {'row' if more == 1 else 'rows'}{where}"

    def to_text(
        self, top: int | None = None, width: int | None = None, prefix: str = PREFIX
    ) -> str:
        """The table as text: its title, then the ``top`` rows (``settings.summary_top`` if
        None, 0: every row) fitted to ``width`` columns (the terminal's if None; labels are
        shortened in the middle), and a last line naming how many more rows the files hold."""
        top = summary_top(top)
        if width is None:
            width = terminal_width()
        shown = self.rows[:top] if top else self.rows
        columns = self._columns()
        indent = "  "
        longest = max([len("LABEL")] + [len(r.label) for r in shown])
        while True:
            cells = [[cell(r) for _, cell in columns] for r in shown]
            widths = [
                max([len(h)] + [len(c[i]) for c in cells]) for i, (h, _) in enumerate(columns)
            ]
            fixed = len(indent) + sum(w + 1 for w in widths)
            # a narrow terminal loses the mean, then the inclusive columns, before the labels
            # are cut below MIN_LABEL characters
            droppable = [i for i, (h, _) in enumerate(columns) if h in _DROPPABLE]
            if fixed + min(MIN_LABEL, longest) <= width or not droppable:
                break
            del columns[min(droppable, key=lambda i: _DROPPABLE.index(columns[i][0]))]
        lw = max(min(longest, width - fixed), min(MIN_LABEL, longest))
        heads = " ".join(f"{h:>{w}}" for (h, _), w in zip(columns, widths))
        lines = [prefix + self.title(len(shown)), f"{indent}{'LABEL':<{lw}} {heads}"]
        for row, row_cells in zip(shown, cells):
            values = " ".join(f"{c:>{w}}" for c, w in zip(row_cells, widths))
            lines.append(f"{indent}{short_label(row.label, lw):<{lw}} {values}")
        if len(shown) < len(self.rows):
            lines.append(indent + self.more_line(len(self.rows) - len(shown)))
        return "\n".join(lines)

    def to_html(self, top: int | None = None) -> str:
        """The table as self-contained HTML (a notebook shows it): the ``top`` rows, ordered
        by self value; clicking a header sorts by that column (a small inline script; again
        reverses). Labels are escaped."""
        import html

        top = summary_top(top)
        shown = self.rows[:top] if top else self.rows
        columns = self._columns()
        keys = _sort_keys(self.additive)
        table_id = "timemory-summary-" + os.urandom(6).hex()
        esc = html.escape
        out = [
            f'<div class="timemory-summary"><p><b>{esc(self.title(len(shown)))}</b></p>',
            f'<table id="{table_id}" style="border-collapse:collapse;font-family:monospace">',
            "<thead><tr>",
            '<th style="text-align:left;cursor:pointer" title="click to sort">LABEL</th>',
        ]
        out += [
            f'<th style="text-align:right;cursor:pointer" title="click to sort">{esc(h)}</th>'
            for h, _ in columns
        ]
        out.append("</tr></thead><tbody>")
        for row in shown:
            out.append(f'<tr><td style="text-align:left" data-v="{esc(row.label)}">')
            out.append(f"{esc(row.label)}</td>")
            for (_, cell), key in zip(columns, keys):
                out.append(
                    f'<td style="text-align:right" data-v="{key(row)!r}">{esc(cell(row))}</td>'
                )
            out.append("</tr>")
        out.append("</tbody></table>")
        if len(shown) < len(self.rows):
            out.append(f"<p>{esc(self.more_line(len(self.rows) - len(shown)))}</p>")
        out.append(_SORT_SCRIPT.replace("TABLE_ID", table_id))
        out.append("</div>")
        return "".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()


#: the columns a narrow width drops, first to last
_DROPPABLE = ("MEAN", "% INCL", "INCL")


def _sort_keys(additive: bool) -> list[Any]:
    """The numbers a click sorts by, per value column (in the order of ``_columns``)."""
    if additive:
        return [
            lambda r: r.count,
            lambda r: r.self_value,
            lambda r: r.self_value,
            lambda r: r.inclusive,
            lambda r: r.inclusive,
            lambda r: r.mean,
        ]
    return [lambda r: r.count, lambda r: r.mean, lambda r: r.peak if r.count else 0.0]


# Sorts the table's body by the clicked column: numbers (data-v) largest first, labels A to Z;
# a second click on the same column reverses. No global names.
_SORT_SCRIPT = """<script>(function(){var t=document.getElementById("TABLE_ID");if(!t)return;
var hs=t.tHead.rows[0].cells;for(var c=0;c<hs.length;c++){(function(c){var d=0;
hs[c].onclick=function(){var b=t.tBodies[0],rs=Array.prototype.slice.call(b.rows);d=!d;
rs.sort(function(x,y){var a=x.cells[c].getAttribute("data-v"),z=y.cells[c].getAttribute("data-v");
var r=c?parseFloat(z)-parseFloat(a):a.localeCompare(z);return d?r:-r;});
rs.forEach(function(r){b.appendChild(r);});};})(c);}})();</script>"""


def terminal_width(default: int = 100) -> int:
    """The width to fit a table to: ``$COLUMNS``, else the terminal's (stderr's, then
    stdout's), else ``default``."""
    text = os.environ.get("COLUMNS", "").strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    for fd in (2, 1):
        try:
            return os.get_terminal_size(fd).columns
        except (OSError, ValueError):
            continue
    return default


def files_of(index: int) -> list[str]:
    """The flat JSON file last written for component ``index`` (it holds every row), as the
    record of written files (``timemory.manager``) has it; empty when none was written."""
    from ._record import manager

    name = _core.component_info(index)["label"] + ".json"
    for path in reversed(manager.json_files):
        base = os.path.basename(path)
        # <prefix><label>.json: the prefix ends in '-' (or is empty), so "cpu.json" does not
        # match "thread_cpu.json"
        if base == name or (
            base.endswith(name)
            and not base[: -len(name)][-1:].isalnum()
            and base[: -len(name)][-1:] != "_"
        ):
            return [path]
    return []


# ------------------------------------------------------------------ from the data
def _family(info: dict[str, Any], value: int) -> str:
    units = info["units"]
    return units[value] if value < len(units) else "none"


def summarize(
    index: int,
    results: Any = None,
    processes: Any = None,
    files: Sequence[str] = (),
) -> Summary:
    """The summary of component ``index`` (its first value, for a component with several):
    from ``results`` (flat entries in pre-order: a native FlatBatch, storage results, or a
    list of either per rank), else from ``processes`` (every process's exchanged data, merged
    as the output files merge them), else from this process's recorded data. ``files``: where
    the whole data are written, named when rows are left out."""
    if results is None and processes is not None:
        from ..storage import _storage_for

        storage: Any = _storage_for(index)
        results = storage._flat_lists(processes)
    elif results is not None and not isinstance(results, (list, tuple, _core.FlatBatch)):
        results = list(results)  # the native merge reads lists, tuples and batches
    info = _core.component_info(index)
    additive = is_additive(info)
    family = _family(info, 0)
    what = ""
    if info["n_disp"] > 1:
        sub = (info["sub_labels"] or [""])[0]
        what = f"{sub}, first of {info['n_disp']} values" if sub else ""
    # merged natively in one pass (self, inclusive once per recursion chain, every call's
    # value, peak; the nearest shallower entry is the parent), in base units; no results:
    # read from this process's call graphs, without a snapshot
    merged, top_total = _core.merge_by_label(index, results, 0)
    rows = [SummaryRow(*row) for row in merged]
    # by label, then (a stable sort, also reversed) by value, largest first: the ranking
    # without a key tuple made per row in Python (a graph can have 100,000 labels)
    rows.sort(key=attrgetter("label"))
    if additive:
        # a child measured longer than its parent (clock granularity, threads) leaves a
        # negative self value: shown as 0, the total grows to keep the column <= 100%; so
        # does work that ran in parallel elsewhere (remote: its self value is its own)
        for row in rows:
            if not row.self_value > 0.0:
                row.self_value = 0.0
        top_total = max(top_total, sum(r.self_value for r in rows))
        rows.sort(key=attrgetter("self_value", "inclusive"), reverse=True)
    else:
        rows.sort(key=attrgetter("mean"), reverse=True)
    return Summary(index, rows, top_total, family, additive, what, files)
