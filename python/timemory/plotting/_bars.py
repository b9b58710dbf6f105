"""The call-graph bar chart of one component and rank: one horizontal bar per
call-graph entry, top to bottom in call-graph order, labelled with the entry's label indented
by its depth and its count; one panel per sub-value (``current_peak_rss`` has a start and a
stop panel) sharing the labels; the x axis names the type and unit; the title gives the
number of processes and threads per process, the subtitle the description and what was
left out.

Layout is computed in pixels from the text it has to hold: the figure grows taller with the
number of rows and wider with the label column, so labels never overlap or get cut off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from timemory._output._summary import short_label as _short
from timemory.plotting import figure as fig_
from timemory.plotting._read import ComponentData, Node

if TYPE_CHECKING:  # matplotlib is imported only to draw
    from matplotlib.axes import Axes

# the label column: indentation per call-graph level, and the deepest level indented (deeper
# entries show their depth instead, so a deep recursion does not push the name out of sight)
_INDENT = "  "
_MAX_INDENT_LEVELS = 12


class PlotParams:
    """How the bar charts are drawn (``plot_parameters`` in the reference).

    * ``min_percent``: entries whose value is below this fraction of the largest value are left
      out (0.05 = 5%; 0 keeps every entry);
    * ``max_nodes``: at most this many entries, the largest (0: no limit);
    * ``img_dpi``, ``img_size`` (``{"w": pixels, "h": pixels}``, the smallest size: the figure
      grows with the number of entries and the label width), ``img_type`` (png, svg, pdf...),
      ``font_size`` (points), ``log_xaxis``;
    * ``label_width``: labels (indentation included) longer than this many characters are
      shortened in the middle.
    """

    def __init__(
        self,
        min_percent: float = 0.05,
        img_dpi: float = 100,
        img_size: dict[str, float] | None = None,
        img_type: str = "png",
        log_xaxis: bool = False,
        font_size: float = 11,
        max_nodes: int = 40,
        label_width: int = 60,
    ) -> None:
        self.min_percent = float(min_percent)
        self.img_dpi = float(img_dpi)
        self.img_size = dict(img_size or {"w": 1000, "h": 600})
        self.img_type = str(img_type).lstrip(".").lower()
        self.log_xaxis = bool(log_xaxis)
        self.font_size = float(font_size)
        self.max_nodes = int(max_nodes)
        self.label_width = int(label_width)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"plot_parameters({fields})"


def select(nodes: Sequence[Node], params: PlotParams) -> list[Node]:
    """The entries drawn, in call-graph order: counted at least once, at least ``min_percent``
    of the largest value in one of the sub-values, the ``max_nodes`` largest."""
    counted = [n for n in nodes if n.count > 0]
    if not counted:
        return []
    width = len(counted[0].values)
    largest = [max(abs(n.values[k]) for n in counted) for k in range(width)]

    def share(node: Node) -> float:
        # a sub-value that is zero everywhere (no bytes read) keeps every entry
        return max(abs(node.values[k]) / largest[k] if largest[k] else 1.0 for k in range(width))

    kept = [n for n in counted if share(n) >= params.min_percent]
    if params.max_nodes > 0 and len(kept) > params.max_nodes:
        biggest = sorted(range(len(kept)), key=lambda i: -share(kept[i]))[: params.max_nodes]
        kept = [kept[i] for i in sorted(biggest)]
    return kept


def entry_tag(node: Node) -> str:
    """``[<input> r<rank> t<thread>] `` for the parts the entry has, else ``""``."""
    parts = [node.origin] if node.origin is not None else []
    parts += [f"r{node.rank}"] if node.rank is not None else []
    parts += [f"t{node.thread}"] if node.thread is not None else []
    return f"[{' '.join(parts)}] " if parts else ""


def entry_label(node: Node, width: int, tag_width: int = 0) -> str:
    """The entry's tag (see :func:`entry_tag`, padded to ``tag_width`` so the indentation of
    all rows lines up), its indentation and its label, at most ``width`` characters: the
    label is cut in the middle (its start names the function, its end the file and line)."""
    tag = entry_tag(node).ljust(tag_width)
    if node.depth <= 0:
        indent = ""
    elif node.depth <= _MAX_INDENT_LEVELS:
        indent = _INDENT * (node.depth - 1) + "|_"
    else:
        indent = _INDENT * (_MAX_INDENT_LEVELS - 1) + f"|_({node.depth}) "
    head = tag + indent
    return head + _short(node.label, max(width - len(head), 12))


def _value_text(value: float) -> str:
    return f"{value:.4g}"


def title_line(title: str, data: ComponentData) -> str:
    """``<title> @ Processes = N, Threads/process = M``, as the reference titles the plots."""
    return f"{title} @ Processes = {data.processes}, Threads/process = {data.threads}"


def draw(
    data: ComponentData,
    rank: int,
    nodes: Sequence[Node],
    title: str,
    params: PlotParams,
    display: bool = False,
) -> Any:
    """The figure of one component and rank; call inside ``figure.plot_style()``."""
    shown = select(nodes, params)
    dpi = params.img_dpi
    font_px = params.font_size * dpi / 72.0
    tag_width = max([len(entry_tag(n)) for n in shown] + [0])
    labels = [entry_label(n, params.label_width, tag_width) for n in shown]
    counts = [str(n.count) for n in shown]
    label_chars = max([len(s) for s in labels] + [len("label")])
    count_chars = max([len(s) for s in counts] + [len("count")])
    rows = [f"{s:<{label_chars}}  {c:>{count_chars}}" for s, c in zip(labels, counts)]
    header = f"{'label':<{label_chars}}  {'count':>{count_chars}}"

    width = float(params.img_size.get("w", 1000))
    figure = fig_.new_figure(width, float(params.img_size.get("h", 600)), dpi, display)
    tick_font: dict[str, Any] = {"family": "monospace", "fontsize": params.font_size - 1}
    label_px = fig_.text_width(figure, [header, *rows], **tick_font) + 10
    panels = len(data.types)
    value_px = fig_.text_width(
        figure,
        [_value_text(v) for n in shown for v in n.values] or ["0"],
        fontsize=params.font_size - 2,
    )
    # right of each panel, room for its last x tick label (centred on the edge); the figure
    # widens so that every panel has at least 220 pixels of bars besides its value labels
    margin = max(30.0, font_px * 3.2)
    min_width = 20 + label_px + panels * (220 + value_px) + panels * margin
    if width < min_width:
        width = min_width
        figure.set_size_inches(width / dpi, figure.get_figheight())

    subtitle = data.description
    if len(data.ranks) > 1:
        subtitle += f" (rank {rank})"
    counted = sum(1 for n in nodes if n.count > 0)
    if len(shown) < counted:
        uncapped = len(select(nodes, PlotParams(min_percent=params.min_percent, max_nodes=0)))
        limits = []
        if uncapped < counted:
            limits.append(f">= {params.min_percent * 100:g}% of the largest")
        if len(shown) < uncapped:
            limits.append(f"the {params.max_nodes} largest")
        subtitle += f"\n{len(shown)} of {counted} entries shown ({', '.join(limits)})"
    top_px = fig_.set_titles(figure, title_line(title, data), subtitle)
    header_px = font_px * 1.8 + (font_px * 1.6 if panels > 1 else 0)
    row_px = font_px * 1.9
    bottom_px = font_px * 4.2 + 10
    plot_px = max(row_px * max(len(shown), 1), float(params.img_size.get("h", 600)) * 0.25)
    height = max(float(params.img_size.get("h", 600)), top_px + header_px + plot_px + bottom_px)
    figure.set_size_inches(width / dpi, height / dpi)
    plot_px = height - top_px - header_px - bottom_px  # the bars use what the minimum size gives

    left = 20 + label_px
    gap = margin
    panel_px = (width - left - margin * panels) / panels
    axes: list[Axes] = []
    for k in range(panels):
        x0 = left + k * (panel_px + gap)
        rect = (x0 / width, bottom_px / height, panel_px / width, plot_px / height)
        axes.append(figure.add_axes(rect, sharey=axes[0] if axes else None))

    positions = list(range(len(shown)))
    # a few entries in a tall figure: bars keep a row's thickness, the gaps grow
    thickness = min(0.7, 0.7 * row_px * max(len(shown), 1) / plot_px)
    for k, axis in enumerate(axes):
        unit = data.units[k] if k < len(data.units) else ""
        kind = data.types[k]
        fig_.style_axis(axis, xlabel=f"{kind} [{unit}]" if unit else kind)
        if panels > 1:
            axis.set_title(kind, fontweight="bold", pad=font_px * 1.8 * 72 / dpi)
        values = [n.values[k] for n in shown]
        # a log axis needs a positive value; a panel of zeros (no bytes read) stays linear
        log = params.log_xaxis and any(v > 0 for v in values)
        bars = axis.barh(
            positions,
            values,
            height=thickness,
            color=fig_.PALETTE[k % len(fig_.PALETTE)],
            log=log,
        )
        axis.bar_label(
            bars,
            labels=[_value_text(v) for v in values],
            padding=3,
            fontsize=params.font_size - 2,
            color="#202020",
        )
        _leave_room(axis, values, value_px + 8, panel_px, log)
        if k:
            axis.tick_params(axis="y", left=False, labelleft=False)
    first = axes[0]
    first.set_ylim(len(shown) - 0.5 if shown else 0.5, -0.5)
    # labels left-aligned in one monospace column, so the indentation shows the call graph
    pad_pt = (label_px + 4) * 72 / dpi
    first.set_yticks(positions, labels=rows, ha="left", **tick_font)
    first.tick_params(axis="y", length=0, pad=pad_pt)
    first.text(
        -(label_px + 4) / panel_px,
        1.0,
        header,
        transform=first.transAxes,
        ha="left",
        va="bottom",
        color="#404040",
        fontweight="bold",
        **tick_font,
    )
    if not shown:
        first.set_yticks([])
        for axis in axes:
            axis.set_xticks([])
        first.text(
            0.5,
            0.5,
            "no entries with a count",
            transform=first.transAxes,
            ha="center",
            va="center",
            color="#808080",
        )
    return figure


def _leave_room(
    axis: Any, values: Sequence[float], text_px: float, panel_px: float, log: bool
) -> None:
    """Widen the x range so the value labels at the ends of the bars fit inside the axes."""
    if not values:
        return
    share = min(text_px / max(panel_px, 1.0), 0.6)
    low, high = min(0.0, *values), max(0.0, *values)
    if log:
        positive = [v for v in values if v > 0]
        if positive:
            lo, hi = min(positive), max(positive)
            span = max(hi / lo, 10.0)
            axis.set_xlim(lo / 2, hi * span ** (share / (1 - share)))
        return
    if low == high == 0.0:  # nothing but zeros
        axis.set_xlim(0.0, 1.0)
        return
    extra = (high - low) * share / (1 - share)
    axis.set_xlim(low - (extra if low < 0 else 0), high + (extra if high > 0 else 0))
