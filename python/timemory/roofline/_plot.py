"""The roofline plot: log-log, arithmetic intensity (FLOP/byte) against GFLOP/s, the ERT
compute and bandwidth ceilings labelled on the lines, one point per region."""

from __future__ import annotations

import math
import os
from typing import Any

from ..plotting import figure as fig_
from . import RooflineError, _ceilings, hotspots, load
from .ert import coinciding

_PEAKS = {"cpu_roofline": ("dp", "sp"), "cpu_roofline_dp": ("dp",), "cpu_roofline_sp": ("sp",)}
_PEAK_NAMES = {"dp": "DP", "sp": "SP"}
_LEVEL_NAMES = {"l1": "L1", "l2": "L2", "l3": "L3", "dram": "DRAM"}
_MARKERS = "osD^vP*Xph"


def _fmt(value: float) -> str:
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _angle(axis: Any, x0: float, y0: float, x1: float, y1: float) -> float:
    """On-screen angle in degrees of the segment (x0, y0)-(x1, y1) in data coordinates."""
    (px0, py0), (px1, py1) = axis.transData.transform([(x0, y0), (x1, y1)])
    return math.degrees(math.atan2(py1 - py0, px1 - px0))


def _fit(figure: Any, text: str, pixels: float, font_size: float) -> str:
    """``text``, shortened with an ellipsis to at most ``pixels`` wide."""
    if fig_.text_width(figure, [text], fontsize=font_size) <= pixels:
        return text
    keep = len(text)
    while keep > 4 and fig_.text_width(figure, [text[:keep] + "…"], fontsize=font_size) > pixels:
        keep -= max(1, keep // 10)
    return text[:keep] + "…"


def plot_roofline(
    ai_data: Any,
    op_data: Any,
    band_labels: list[str] | tuple[str, ...] = ("dram",),
    txn_bandwidths: Any = None,
    inst_peak: Any = None,
    rtype: str = "cpu_roofline",
    display: bool = False,
    fname: str = "roofline",
    image_type: str = "png",
    output_dir: str | None = None,
    title: str = "Roofline Plot",
    width: float = 1600,
    height: float = 1200,
    dpi: float = 100,
    echo_dart: bool = False,
    index: int | None = None,
    font_size: float | None = None,
) -> str:
    """Draw the roofline of two flat roofline JSON files (paths or loaded dicts; ``ai`` gives
    bytes, ``op`` FLOPs and runtime) and write ``<output_dir>/<fname>[_<index>].<image_type>``;
    returns its path. ``band_labels`` picks the bandwidth ceilings (l1, l2, l3, dram; those
    the ERT data lacks are left out). ``font_size`` defaults to 14 points at 1600 x 1200,
    scaled with the figure (9 at least). ``txn_bandwidths`` and ``inst_peak`` belong to the GPU
    instruction roofline, which needs a GPU and is not supported."""
    if rtype not in _PEAKS:
        raise RooflineError(
            f"roofline type {rtype!r} is not supported here (no GPU support). "
            f"Valid choices are: {', '.join(_PEAKS)}"
        )
    if font_size is None:
        font_size = max(9.0, min(16.0, 14.0 * min(width / 1600, height / 1200) * 100 / dpi))
    ai, op = load(ai_data), load(op_data)
    ceilings = _ceilings(ai, op)
    points = hotspots(ai, op, rank=index)
    peaks = {k: ceilings["peak"][k] for k in _PEAKS[rtype] if ceilings["peak"].get(k)}
    unknown = [b for b in band_labels if b not in _LEVEL_NAMES]
    if unknown:
        raise RooflineError(
            f"unknown bandwidth {unknown[0]!r}. Valid choices are: l1, l2, l3, dram"
        )
    # innermost level first, whatever the order of band_labels: "L1 = L2" for coinciding ones
    chosen = sorted(set(band_labels), key=list(_LEVEL_NAMES).index)
    bands = {b: ceilings["bandwidth"][b] for b in chosen if ceilings["bandwidth"].get(b)}
    if not peaks or not bands:
        raise RooflineError(
            f"the ERT data has no {'peak' if not peaks else 'bandwidth'} for {rtype} "
            f"({', '.join(band_labels)}); it has {sorted(ceilings['bandwidth'])}"
            + (
                " (the bounded ERT sweep leaves DRAM out when the last cache is very large: "
                "TIMEMORY_ERT_FULL_SWEEP=1 measures it)"
                if peaks and "dram" in band_labels and "dram" not in ceilings["bandwidth"]
                else ""
            )
        )
    top_peak, top_band = max(peaks.values()), max(bands.values())

    # ranges: every point and every ridge (peak / bandwidth), with room on both sides
    xs = [p["intensity"] for p in points] + [v / b for v in peaks.values() for b in bands.values()]
    xmin, xmax = min(xs) / 8, max(xs) * 8
    ys = [p["gflops"] for p in points] + [b * xmin for b in bands.values()]
    ymin, ymax = min(ys) / 2, top_peak * 3

    output_dir = output_dir or os.getcwd()
    path = os.path.join(output_dir, f"{fname}{'' if index is None else f'_{index}'}.{image_type}")
    with fig_.plot_style(font_size):
        if image_type not in fig_.supported_formats():
            raise fig_.PlotError(
                f"image type {image_type!r} is not supported. Valid choices are: "
                + ", ".join(sorted(fig_.supported_formats()))
            )
        if display:
            fig_.check_display()  # PlotError where there is no display
        figure = fig_.new_figure(width, height, dpi, display)
        machine = (ai.get("roofline") or op.get("roofline") or {}).get("machine", {})
        threads = ""
        for block in (op.get("roofline") or {}, ai.get("roofline") or {}):
            if block.get("ert"):
                threads = f"{block['ert'][0]['exec-params']['nthreads']} threads"
                break
        subtitle = " · ".join(
            x
            for x in (machine.get("cpu", ""), machine.get("isa", ""), threads, "ceilings: ERT")
            if x
        )
        top_px = fig_.set_titles(figure, title, subtitle)
        # legend to the right of the axes, as wide as its longest line (at most 40% of the
        # figure; longer region names are shortened with an ellipsis)
        limit = 0.4 * width - 60
        names = [_fit(figure, p["label"], limit, font_size) for p in points]
        legend_lines = [f"AI {_fmt(p['intensity'])}, {_fmt(p['gflops'])} GFLOP/s" for p in points]
        widest = fig_.text_width(figure, names + legend_lines + ["Regions"], fontsize=font_size)
        legend_px = min(widest, limit) + 120 if points else 40  # + marker, gaps
        axis = figure.add_axes(
            [
                90 / width,
                80 / height,
                1 - (90 + legend_px) / width,
                1 - (80 + top_px + 10) / height,
            ]
        )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlim(xmin, xmax)
        axis.set_ylim(ymin, ymax)
        fig_.style_axis(
            axis, "Arithmetic intensity [FLOP/byte]", "Performance [GFLOP/s]", grid_axis="both"
        )
        axis.grid(True, which="minor", color="#eeeeee", linewidth=0.5)

        # one point per region, drawn first so that no ceiling label covers one
        from matplotlib.transforms import Bbox

        placed: list[Any] = []
        for i, p in enumerate(points):
            axis.scatter(
                [p["intensity"]],
                [p["gflops"]],
                s=90,
                zorder=3,
                color=fig_.PALETTE[i % len(fig_.PALETTE)],
                marker=_MARKERS[i % len(_MARKERS)],
                edgecolors="black",
                linewidths=0.6,
                label=f"{names[i]}\n{legend_lines[i]}",
            )
            px, py = axis.transData.transform((p["intensity"], p["gflops"]))
            placed.append(Bbox.from_extents(px - 9, py - 9, px + 9, py + 9))
        # compute ceilings: horizontal from their ridge with the fastest band, labelled above
        # at the right; peaks that coincide (ert.coinciding) are one line with both names
        for i, (dtypes, peak) in enumerate(coinciding(peaks)):
            colour = fig_.PALETTE[3 + i % 2]
            axis.plot([peak / top_band, xmax], [peak, peak], color=colour, linewidth=2)
            joined = " = ".join(_PEAK_NAMES[d] for d in dtypes)
            label = f"{joined} peak: {_fmt(peak)} GFLOP/s"
            text = axis.text(xmax / 1.15, peak * 1.08, label, ha="right", va="bottom", color=colour)
            placed.append(text.get_window_extent().padded(2))
        # bandwidth ceilings: y = bw * x up to the highest compute ceiling, labelled along the
        # line (above, else below it) at the first place that overlaps no other label; levels
        # that coincide (L2 raised to L3's figure, or measured within COINCIDE) are one line
        # labelled with every name, "L1 = L2: ...", not lines drawn over each other
        for i, (levels, bw) in enumerate(coinciding(bands)):
            x_ridge = top_peak / bw
            style = ("-", "--", "-.", ":")[i % 4]
            axis.plot(
                [xmin, x_ridge],
                [bw * xmin, top_peak],
                color="#404040",
                linewidth=2,
                linestyle=style,
            )
            text = axis.text(
                0,
                0,
                f"{' = '.join(_LEVEL_NAMES[level] for level in levels)}: {_fmt(bw)} GB/s",
                rotation=_angle(axis, xmin, bw * xmin, x_ridge, top_peak),
                rotation_mode="anchor",
                color="#202020",
            )
            for step in range(24):
                below = step % 2 == 1
                x_text = xmin * (x_ridge / xmin) ** (0.06 + 0.07 * (step // 2))
                x_text = max(x_text, ymin * 2 / bw)  # above the bottom edge
                text.set_position((x_text, bw * x_text * (1 / 1.3 if below else 1.15)))
                text.set_va("top" if below else "bottom")
                text.set_ha("left")
                box = text.get_window_extent().padded(2)
                if not any(box.overlaps(other) for other in placed):
                    break
            placed.append(text.get_window_extent().padded(2))
        if points:
            axis.legend(
                loc="upper left",
                bbox_to_anchor=(1.02, 1.0),
                frameon=False,
                borderaxespad=0,
                labelspacing=1.0,
                title="Regions",
            )
        if display:
            fig_.show([figure])
            return ""
        fig_.save(figure, path, image_type)
    from ..plotting import add_plotted_files

    return add_plotted_files(fname, path, echo_dart)  # plotting.plotted_files lists it too
