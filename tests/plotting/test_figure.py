"""``timemory.plotting.figure``: the helpers every timemory plot is drawn with (the bar charts
and, on log-log axes, the roofline): standalone figures without pyplot, titles that stay at
the top, atomic saving."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402
from timemory.plotting import figure  # noqa: E402


def test_a_log_log_chart_without_pyplot(run_python, tmp_path):
    proc = run_python(
        """
import sys
from timemory.plotting import figure

with figure.plot_style(font_size=10):
    fig = figure.new_figure(800, 600, dpi=100)
    top = figure.set_titles(fig, "Roofline", "a subtitle")
    axis = fig.add_axes((0.1, 0.1, 0.85, 1 - top / 600 - 0.12))
    axis.loglog([0.1, 1, 10], [1, 10, 10], color=figure.PALETTE[0])
    figure.style_axis(axis, "arithmetic intensity [FLOP/byte]", "GFLOP/s", grid_axis="both")
    figure.save(fig, "roofline.png")
    figure.save(fig, "roofline.svg")
print("pyplot" if "matplotlib.pyplot" in sys.modules else "no pyplot")
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "no pyplot"
    assert imread(tmp_path / "roofline.png").shape[:2] == (600, 800)
    assert "arithmetic intensity [FLOP/byte]" in (tmp_path / "roofline.svg").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "roofline.png",
        "roofline.svg",
        "script.py",
    ]


def test_titles_stay_at_the_top_when_the_figure_grows():
    with figure.plot_style():
        fig = figure.new_figure(600, 300, dpi=100)
        used = figure.set_titles(fig, "A title", "a subtitle that is long " * 8)
        assert "\n" in fig.texts[1].get_text()  # wrapped to the figure's width
        fig.set_size_inches(6, 9)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        boxes = [t.get_window_extent(renderer) for t in fig.texts]
    assert 900 - boxes[0].y1 == pytest.approx(8, abs=1)  # 8 px below the top edge
    assert boxes[1].y1 <= boxes[0].y0  # the subtitle under the title
    assert 900 - boxes[1].y0 <= used
    assert all(b.x0 >= 0 and b.x1 <= 600 for b in boxes)


def test_save_replaces_atomically(tmp_path):
    target = tmp_path / "plot.png"
    target.write_bytes(b"old")
    with figure.plot_style():
        fig = figure.new_figure(200, 100, dpi=50)
        with pytest.raises(ValueError):
            figure.save(fig, str(target), "no-such-format")
        assert target.read_bytes() == b"old"  # a failed save leaves the old file
        assert sorted(p.name for p in tmp_path.iterdir()) == ["plot.png"]  # and no temporary
        assert figure.save(fig, str(tmp_path / "sub" / "plot.png")) == str(
            tmp_path / "sub" / "plot.png"
        )
    assert imread(tmp_path / "sub" / "plot.png").shape[:2] == (100, 200)
