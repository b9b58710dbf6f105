"""Figure, axis and file helpers shared by timemory's plots (the call-graph bar charts here,
the roofline in ``timemory.roofline``): one look, one way to save.

* Figures are ``matplotlib.figure.Figure`` objects with their own Agg canvas, not pyplot
  figures, so saving needs no display and never changes the backend of a program that uses
  pyplot itself (``plot_output`` plots inside the measured program at finalize). pyplot is
  imported only to show figures (:func:`show`); then the Agg backend is selected first when
  there is no display and the user chose no backend (``MPLBACKEND``).
* :func:`save` writes atomically through timemory's one atomic writer, like every other
  timemory output.
* A missing matplotlib is :class:`MatplotlibMissing`, whose message says what to install.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

__all__ = [
    "INSTALL_HINT",
    "check_display",
    "MatplotlibMissing",
    "PALETTE",
    "PlotError",
    "from_top",
    "new_figure",
    "plot_style",
    "require_matplotlib",
    "save",
    "set_titles",
    "show",
    "style_axis",
    "supported_formats",
    "text_height",
    "text_width",
]

INSTALL_HINT = "pip install 'matplotlib>=3.5' (or, from timemory's source folder, its 'plot' extra)"

#: Bar and line colours, in order (colour-blind safe: Okabe-Ito).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442")


class MatplotlibMissing(ImportError):
    """matplotlib cannot be imported; the message is one line with the install command."""


class PlotError(ValueError):
    """A plot that cannot be made as asked (an image type matplotlib does not write, a display
    where there is none, titles that do not match the inputs); the message is one line."""


def require_matplotlib() -> Any:
    """Import matplotlib (not pyplot) or raise :class:`MatplotlibMissing`."""
    try:
        import matplotlib
    except ImportError as err:
        from timemory import _about

        raise MatplotlibMissing(
            f"matplotlib is required for plots ({err}): {_about.install_hint('plot')}"
        ) from None
    return matplotlib


def supported_formats() -> dict[str, str]:
    """Image formats matplotlib can write: ``{"png": "Portable Network Graphics", ...}``."""
    require_matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    return dict(FigureCanvasBase.get_supported_filetypes())


def _pyplot() -> Any:
    """pyplot, with the Agg backend chosen first when nothing else can work or was asked for."""
    matplotlib = require_matplotlib()
    if "matplotlib.pyplot" not in sys.modules:
        if not os.environ.get("MPLBACKEND") and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        ):
            matplotlib.use("agg")
    import matplotlib.pyplot as plt

    return plt


@contextlib.contextmanager
def plot_style(font_size: float = 11) -> Iterator[None]:
    """The text sizes of timemory's plots, around everything that creates or saves a figure
    (matplotlib reads them when it creates text, some of it only when it draws)."""
    require_matplotlib()
    from matplotlib import rc_context

    with rc_context(
        {
            "font.size": font_size,
            "axes.titlesize": font_size,
            "axes.labelsize": font_size,
            "xtick.labelsize": font_size - 1,
            "ytick.labelsize": font_size - 1,
            "figure.titlesize": font_size + 3,
            "svg.fonttype": "none",  # SVG text stays text (searchable, smaller files)
        }
    ):
        yield


def new_figure(width: float, height: float, dpi: float = 100, display: bool = False) -> Any:
    """A white figure of ``width`` x ``height`` pixels at ``dpi``. With ``display`` it is a
    pyplot figure that :func:`show` shows; otherwise a standalone figure on its own Agg canvas
    (pyplot untouched)."""
    require_matplotlib()
    size = (width / dpi, height / dpi)
    if display:
        figure = _pyplot().figure(figsize=size, dpi=dpi)
    else:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        figure = Figure(figsize=size, dpi=dpi)
        FigureCanvasAgg(figure)
    figure.set_facecolor("white")
    return figure


def style_axis(axis: Any, xlabel: str = "", ylabel: str = "", grid_axis: str = "x") -> None:
    """The common look of a data axis: light grid behind the data, no top/right frame."""
    axis.set_axisbelow(True)
    if grid_axis:
        axis.grid(True, axis=grid_axis, which="major", color="#d0d0d0", linewidth=0.8)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    if xlabel:
        axis.set_xlabel(xlabel)
    if ylabel:
        axis.set_ylabel(ylabel)


def from_top(figure: Any, pixels: float) -> Any:
    """Figure coordinates moved ``pixels`` down: text at ``(x, 1.0)`` with this transform
    stays that far below the top edge when the figure is resized (figure fractions alone
    would move)."""
    from matplotlib.transforms import ScaledTranslation

    return figure.transFigure + ScaledTranslation(0, -pixels / figure.dpi, figure.dpi_scale_trans)


def set_titles(figure: Any, title: str, subtitle: str = "", width_px: float = 0) -> float:
    """A bold title and a grey subtitle, centred at the top; lines longer than the figure is
    wide (or ``width_px``) are wrapped. Returns the height in pixels they take: the axes go
    below it. They keep their place when the figure's height changes afterwards."""
    width = width_px or figure.get_figwidth() * figure.dpi
    used = 8.0
    for text, style in (
        (title, {"fontsize": "x-large", "fontweight": "bold"}),
        (subtitle, {"fontsize": "medium", "color": "#404040"}),
    ):
        if not text:
            continue
        artist = figure.text(
            0.5, 1.0, text, ha="center", va="top", transform=from_top(figure, used), **style
        )
        artist.set_text(_wrap_to(figure, artist, text, width - 20))
        used += text_height(figure, artist) + 6
    return used + 4


def _wrap_to(figure: Any, artist: Any, text: str, width: float) -> str:
    """``text`` with line breaks so that ``artist`` (its font) is at most ``width`` pixels
    wide; existing line breaks are kept."""
    import textwrap

    renderer = _renderer(figure)
    lines = []
    for line in text.splitlines() or [""]:
        artist.set_text(line)
        measured = float(artist.get_window_extent(renderer).width)
        if measured <= width or len(line) < 2:
            lines.append(line)
            continue
        chars = max(int(len(line) * width / measured), 10)
        lines += textwrap.wrap(line, chars) or [line]
    return "\n".join(lines)


def _renderer(figure: Any) -> Any:
    canvas = figure.canvas
    if hasattr(canvas, "get_renderer"):
        return canvas.get_renderer()
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(figure).get_renderer()


def text_height(figure: Any, text: Any) -> float:
    """Height in pixels of a text artist once drawn (wrapped lines included)."""
    return float(text.get_window_extent(_renderer(figure)).height)


def text_width(figure: Any, texts: Iterable[str], **font: Any) -> float:
    """Width in pixels of the widest of ``texts`` drawn with ``font`` (Text properties such as
    ``fontsize``, ``family``) in ``figure``."""
    renderer = _renderer(figure)
    probe = figure.text(0, 0, "", **font)
    widest = 0.0
    try:
        for text in texts:
            probe.set_text(text)
            widest = max(widest, float(probe.get_window_extent(renderer).width))
    finally:
        probe.remove()
    return widest


def save(figure: Any, path: str, image_type: str | None = None) -> str:
    """Write ``figure`` to ``path`` atomically (format from ``image_type`` or the extension);
    returns the path. The folder is created if needed."""
    from timemory._files import atomic_write_with

    fmt = image_type or os.path.splitext(path)[1].lstrip(".") or "png"
    atomic_write_with(
        path, lambda stream: figure.savefig(stream, format=fmt, facecolor=figure.get_facecolor())
    )
    return path


_NON_INTERACTIVE = frozenset({"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"})


def check_display() -> None:
    """Raise :class:`PlotError` when figures cannot be shown: pyplot's backend only
    writes files (no display, or ``MPLBACKEND=agg``)."""
    backend = str(_pyplot().get_backend())
    if backend.lower() in _NON_INTERACTIVE:
        raise PlotError(
            f"cannot display plots: matplotlib's backend is {backend!r}, which only writes "
            "files (no DISPLAY, or MPLBACKEND chose it); save them instead"
        )


def show(figures: Sequence[Any]) -> None:
    """Show pyplot figures made with ``new_figure(..., display=True)`` and wait until they are
    closed."""
    if figures:
        _pyplot().show()
