"""Summary tables of flat JSON output, drawn as images (``timem()``, ``-T/--table``).

The reference's ``-T`` plots the JSON of the ``timem`` tool, which timemory does not ship; here
the same summary is made from timemory's own flat JSON: the components are sorted into the
categories ``timem`` reports (:data:`CATEGORIES`), and each category present becomes one table
whose rows are the components' entries (the top-level ones by default) with their count,
accumulated value, unit and, when the entries have statistics, the mean, min and max of a lap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from timemory.plotting import figure as fig_
from timemory.plotting._bars import PlotParams, entry_label, entry_tag, select
from timemory.plotting._read import ComponentData, Node

__all__ = ["CATEGORIES", "TableRow", "category", "draw_table", "table_rows"]

#: The tables, in order, with what their subtitle says they hold.
CATEGORIES = {
    "time": "wall-clock and CPU clocks",
    "utilization": "CPU utilization",
    "memory": "resident and virtual memory",
    "page_faults": "page faults",
    "context_switches": "context switches",
    "io": "bytes and blocks read and written",
    "hw": "hardware counters",
    "other": "components of no other category",
}

_MEMORY = {
    "peak_rss",
    "page_rss",
    "current_peak_rss",
    "virtual_memory",
    "malloc_gotcha",
    "memory_allocations",
}
_IO = {
    "read_char",
    "written_char",
    "read_bytes",
    "written_bytes",
    "num_io_in",
    "num_io_out",
}


def category(key: str) -> str:
    """The table a component goes in, from its key (``wall_clock`` -> ``"time"``)."""
    if "util" in key:
        return "utilization"
    if key.endswith("_clock") or key in ("user_mode_time", "kernel_mode_time"):
        return "time"
    if key in _MEMORY:
        return "memory"
    if "page_fault" in key:
        return "page_faults"
    if "context_switch" in key:
        return "context_switches"
    if key in _IO:
        return "io"
    if key.startswith(("papi", "perf_event", "hardware_counter")) or "roofline" in key:
        return "hw"
    return "other"


class TableRow(NamedTuple):
    """One row: an entry's value for one of its component's sub-values."""

    input: str  # the input's title or name, when the table gathers several inputs
    metric: str  # the component's type label: "wall", "read_rate"...
    label: str  # the entry's label, indented by its depth, its thread/rank tag in front
    count: int  # type: ignore[assignment]  # laps; a public field name shadowing tuple.count
    value: float
    units: str
    stats: tuple[float, float, float] | None  # mean, min, max of one lap


def _entries(nodes: Sequence[Node], max_depth: int | None, params: PlotParams) -> list[Node]:
    """The entries of a table: those with a count down to ``max_depth`` (``None``: all), at
    most ``params.max_nodes`` (the largest); below the top level, ``params.min_percent``
    leaves small entries out as in the charts."""
    nodes = [n for n in nodes if n.count > 0 and (max_depth is None or n.depth <= max_depth)]
    limits = PlotParams(
        min_percent=params.min_percent if max_depth != 0 else 0.0, max_nodes=params.max_nodes
    )
    return select(nodes, limits)


def table_rows(
    component: ComponentData,
    name: str = "",
    max_depth: int | None = 0,
    params: PlotParams | None = None,
) -> tuple[list[TableRow], int]:
    """The rows of one component (every rank; one row per sub-value) and how many entries
    with a count, down to ``max_depth``, were left out by ``params``' limits."""
    params = params or PlotParams()
    rows: list[TableRow] = []
    left_out = 0
    for _, nodes in component.ranks:
        in_scope = [n for n in nodes if n.count > 0 and (max_depth is None or n.depth <= max_depth)]
        kept = _entries(nodes, max_depth, params)
        tag_width = max([len(entry_tag(n)) for n in kept] + [0])
        left_out += len(in_scope) - len(kept)
        for k, kind in enumerate(component.types):
            unit = component.units[k] if k < len(component.units) else ""
            for node in kept:
                # as in the charts: the thread/rank tag, the indentation by depth (capped),
                # the label shortened in the middle
                label = entry_label(node, params.label_width, tag_width)
                stats = node.stats[k] if node.stats else None
                rows.append(TableRow(name, kind, label, node.count, node.values[k], unit, stats))
    return rows, left_out


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.6g}"


def draw_table(
    title: str, subtitle: str, rows: Sequence[TableRow], params: PlotParams, display: bool = False
) -> Any:
    """The figure of one table (call inside ``figure.plot_style()``): a header row, then a
    row per :class:`TableRow`; numbers are right-aligned; the figure is as large as the text
    it holds (``params.img_size`` does not apply)."""
    from matplotlib.table import Table
    from matplotlib.transforms import Bbox

    with_input = any(r.input for r in rows)
    with_stats = any(r.stats for r in rows)
    header = (["input"] if with_input else []) + ["metric", "label", "count", "value", "units"]
    header += ["mean", "min", "max"] if with_stats else []
    numeric = {"count", "value", "mean", "min", "max"}
    cells = []
    for r in rows:
        line = ([r.input] if with_input else []) + [r.metric, r.label, str(r.count)]
        line += [_number(r.value), r.units]
        if with_stats:
            line += [_number(v) for v in r.stats] if r.stats else ["", "", ""]
        cells.append(line)

    dpi = params.img_dpi
    font_px = params.font_size * dpi / 72.0
    figure = fig_.new_figure(800, 400, dpi, display)
    pad_px = font_px * 0.4
    widths = []
    # the label column in monospace, so that the indentation by depth lines up
    families = ["monospace" if name == "label" else "sans-serif" for name in header]
    for c, name in enumerate(header):
        texts = [line[c] for line in cells]
        text_px = max(
            fig_.text_width(figure, [name], fontsize=params.font_size, fontweight="bold"),
            fig_.text_width(figure, texts or [""], fontsize=params.font_size, family=families[c]),
        )
        widths.append(text_px + 2 * pad_px + 4)
    margin = 20.0
    width = max(sum(widths) + 2 * margin, 480.0)
    top_px = fig_.set_titles(figure, title, subtitle, width_px=width)
    row_px = font_px * 1.9
    height = top_px + row_px * (len(cells) + 1) + margin
    figure.set_size_inches(width / dpi, height / dpi)

    table_w = sum(widths)
    left = (width - table_w) / 2
    rect = (left / width, margin / height, table_w / width, row_px * (len(cells) + 1) / height)
    axis = figure.add_axes(rect)
    axis.set_axis_off()
    table = Table(axis, bbox=Bbox.from_bounds(0, 0, 1, 1))
    table.auto_set_font_size(False)
    cell_h = 1.0 / (len(cells) + 1)
    for c, name in enumerate(header):
        w = widths[c] / table_w
        cell = table.add_cell(0, c, w, cell_h, text=name, loc="center", facecolor="#dde6f0")
        cell.get_text().set_fontweight("bold")
        for i, line in enumerate(cells, start=1):
            shade = "#f4f4f4" if i % 2 == 0 else "white"
            loc = "right" if name in numeric else "left"
            cell = table.add_cell(i, c, w, cell_h, text=line[c], loc=loc, facecolor=shade)
            cell.get_text().set_fontfamily(families[c])
    for (_, c), cell in table.get_celld().items():
        # the text's distance from the cell's side, as a fraction of the cell's width
        # (matplotlib's default, 10%, leaves wide columns with a wide gap)
        cell.PAD = pad_px / widths[c]
        cell.set_edgecolor("#b0b0b0")
        cell.set_linewidth(0.6)
        cell.get_text().set_fontsize(params.font_size)
    axis.add_table(table)
    return figure
