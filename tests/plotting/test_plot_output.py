"""``settings.plot_output``: finalize draws a bar chart of every component it writes, imports
matplotlib only then, and without matplotlib warns once and still writes everything else."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("matplotlib")

PROGRAM = """\
import sys
{prelude}
import timemory
from timemory.bundle import marker

with marker(["wall_clock", "peak_rss"], key="outer"):
    for _ in range(3):
        with marker(["wall_clock", "peak_rss"], key="inner"):
            sum(range(20000))
timemory.finalize()
print("loaded:", sorted(m for m in sys.modules if m.split(".")[0] == "matplotlib"
                        or m.startswith("timemory.plotting"))[:3])
"""


def run(run_python, tmp_path, plot_output: str, prelude: str = "", **env: str):
    env.update(TIMEMORY_OUTPUT_PATH=str(tmp_path / "out"), TIMEMORY_PLOT_OUTPUT=plot_output)
    proc = run_python(PROGRAM.format(prelude=prelude), env=env)
    assert proc.returncode == 0, proc.stderr
    return proc, tmp_path / "out"


def test_plot_output_writes_an_image_per_component(run_python, tmp_path):
    from matplotlib.image import imread

    proc, out = run(run_python, tmp_path, "ON", TIMEMORY_COUT_OUTPUT="OFF")
    for name in ("wall", "peak_rss"):
        image = imread(out / f"{name}.png")
        assert image.shape[0] >= 600 and image.shape[1] >= 1000
        assert (out / f"{name}.json").is_file() and (out / f"{name}.txt").is_file()
    metadata = json.loads((out / "metadata.json").read_text())
    plots = metadata["timemory"]["metadata"]["output"]["plot"]
    assert sorted(plots) == [str(out / "peak_rss.png"), str(out / "wall.png")]
    # the images are counted in the folder's line, the one line a run prints (on stderr)
    assert proc.stderr == "timemory: 11 files in out/\n"


def test_without_matplotlib_the_other_output_is_kept(run_python, tmp_path):
    proc, out = run(
        run_python,
        tmp_path,
        "ON",
        prelude="sys.modules['matplotlib'] = None",
        TIMEMORY_COUT_OUTPUT="OFF",
    )
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "functions.json",
        "metadata.json",
        "peak_rss.json",
        "peak_rss.tree.json",
        "peak_rss.txt",
        "wall.flamegraph.json",
        "wall.json",
        "wall.tree.json",
        "wall.txt",
    ]
    *warning, folder = [line for line in proc.stderr.splitlines() if line.strip()]
    assert folder == "timemory: 9 files in out/"
    assert len(warning) == 1, proc.stderr  # once, not once per component
    assert warning[0].startswith("[timemory]> plot_output: no plots were drawn: matplotlib")
    assert "pip install 'matplotlib>=3.5'" in warning[0] and "'plot' extra" in warning[0]
    json.loads((out / "wall.json").read_text())  # complete


def test_plot_output_off_imports_nothing_for_plots(run_python, tmp_path):
    proc, out = run(run_python, tmp_path, "OFF")
    assert "loaded: []" in proc.stdout
    assert not list(out.glob("*.png"))


def test_dart_output_tags_the_images(run_python, tmp_path):
    proc, out = run(run_python, tmp_path, "ON", TIMEMORY_DART_OUTPUT="ON")
    image = out / "wall.png"
    tag = f'<DartMeasurementFile name="wall" type="image/png">{image}</DartMeasurementFile>'
    assert tag in proc.stderr.splitlines()
