"""Summary tables of flat JSON (``timemory.plotting.timem``, ``-T/--table``): the categories,
the rows drawn (labels, counts, values, units, statistics), the files written and the
command line's rules for titles."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import tool_helpers

matplotlib = pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402
from timemory import plotting  # noqa: E402
from timemory.plotting import _table  # noqa: E402
from timemory.plotting import figure as fig_  # noqa: E402
from timemory.plotting.__main__ import main  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")

PROG = "python -m timemory.plotting"


@pytest.fixture
def drawn(monkeypatch):
    """The figures saved, by file name."""
    figures: dict[str, object] = {}
    save = fig_.save

    def keep(figure, path, image_type=None):
        figures[Path(path).name] = figure
        return save(figure, path, image_type)

    monkeypatch.setattr(fig_, "save", keep)
    return figures


def cells(figure) -> list[list[str]]:
    """The table's text, row by row (the header first)."""
    [axis] = figure.axes
    [table] = axis.tables
    celld = table.get_celld()
    rows = 1 + max(r for r, _ in celld)
    columns = 1 + max(c for _, c in celld)
    return [[celld[r, c].get_text().get_text() for c in range(columns)] for r in range(rows)]


def assert_fits(figure) -> None:
    """Every cell's text inside its cell, titles inside the image and above the table."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.get_size_inches() * figure.dpi
    [table] = figure.axes[0].tables
    top = 0.0
    for cell in table.get_celld().values():
        box, text = cell.get_window_extent(renderer), cell.get_text()
        top = max(top, box.y1)
        if text.get_text():
            inner = text.get_window_extent(renderer)
            assert box.x0 <= inner.x0 and inner.x1 <= box.x1, text.get_text()
            assert box.y0 <= inner.y0 and inner.y1 <= box.y1, text.get_text()
        assert 0 <= box.x0 and box.x1 <= width + 0.5 and 0 <= box.y0, text.get_text()
    for text in figure.texts:
        box = text.get_window_extent(renderer)
        assert box.y0 >= top and box.y1 <= height + 0.5 and box.x0 >= 0 and box.x1 <= width


def entry(folder: Path, name: str, key: str, label: str) -> dict:
    graph = json.loads((folder / name).read_text())["timemory"][key]["ranks"][0]["graph"]
    [found] = [e for e in graph if e["prefix"].split()[-1].lstrip("|_") == label]
    return found


def top_level(path: Path) -> list[dict]:
    graph = json.loads(path.read_text())["timemory"]["wall_clock"]["ranks"][0]["graph"]
    return [e for e in graph if e["depth"] == 0 and e["entry"]["laps"] > 0]


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("wall_clock", "time"),
        ("thread_cpu_clock", "time"),
        ("user_mode_time", "time"),
        ("cpu_util", "utilization"),
        ("process_cpu_util", "utilization"),
        ("peak_rss", "memory"),
        ("current_peak_rss", "memory"),
        ("virtual_memory", "memory"),
        ("num_major_page_faults", "page_faults"),
        ("priority_context_switch", "context_switches"),
        ("read_bytes", "io"),
        ("num_io_out", "io"),
        ("papi_vector", "hw"),
        ("perf_event", "hw"),
        ("cpu_roofline_dp_flops", "hw"),
        ("trip_count", "other"),
    ],
)
def test_categories(key, kind):
    assert _table.category(key) == kind
    assert kind in _table.CATEGORIES


def test_one_table_per_category_with_the_top_level_entries(categories_output, tmp_path, drawn):
    written = plotting.timem(files=[str(categories_output)], output_dir=str(tmp_path), quiet=True)
    kinds = ["time", "utilization", "memory", "page_faults", "context_switches", "io", "other"]
    assert written == [str(tmp_path / f"timem_{k}.png") for k in kinds]
    assert all(imread(p).std() > 0.02 for p in written)

    time_table = drawn["timem_time.png"]
    assert [t.get_text() for t in time_table.texts] == [
        "timem: time",
        "wall-clock and CPU clocks; top-level entries",
    ]
    rows = cells(time_table)
    assert rows[0] == ["metric", "label", "count", "value", "units", "mean", "min", "max"]
    assert [(r[0], r[1].strip(), r[2], r[4]) for r in rows[1:]] == [
        ("cpu", "main", "1", "sec"),
        ("cpu", "other", "1", "sec"),
        ("wall", "main", "1", "sec"),
        ("wall", "other", "1", "sec"),
    ]  # inner (depth 1) is not a top-level entry
    main_ = entry(categories_output, "wall.json", "wall_clock", "main")
    expected = [main_["entry"]["repr_data"], *(main_["stats"][k] for k in ("mean", "min", "max"))]
    assert rows[3][3] == f"{expected[0]:.6g}" and rows[3][5:] == [f"{v:.6g}" for v in expected[1:]]
    assert_fits(time_table)

    memory = cells(drawn["timem_memory.png"])
    assert {r[0] for r in memory[1:]} == {"peak_rss", "page_rss"}
    assert {r[4] for r in memory[1:]} == {"MB"}
    io = cells(drawn["timem_io.png"])  # two sub-values: a row each
    assert [(r[0], r[4]) for r in io[1:]] == [
        ("read_char", "MB"),
        ("read_char", "MB"),
        ("read_rate", "MB/sec"),
        ("read_rate", "MB/sec"),
    ]
    for name in drawn:
        assert_fits(drawn[name])


def test_every_depth_indented_and_capped(categories_output, tmp_path, drawn):
    wall = str(categories_output / "wall.json")
    plotting.timem(files=[wall], output_dir=str(tmp_path), quiet=True, max_depth=None)
    rows = cells(drawn["timem_time.png"])
    assert [(r[1], r[2]) for r in rows[1:]] == [("main", "1"), ("|_inner", "3"), ("other", "1")]
    inner = entry(categories_output, "wall.json", "wall_clock", "inner")
    assert rows[2][5] == f"{inner['stats']['mean']:.6g}"  # the mean of one of its 3 laps
    assert_fits(drawn["timem_time.png"])
    params = plotting.plot_parameters(max_nodes=1)
    plotting.timem(files=[wall], plot_params=params, output_dir=str(tmp_path), quiet=True)
    figure = drawn["timem_time.png"]
    assert [r[1] for r in cells(figure)[1:]] == ["main"]  # the largest top-level entry
    assert " ".join(figure.texts[1].get_text().split()) == (  # wrapped to the table's width
        "wall-clock and CPU clocks; top-level entries; "
        "1 smaller entry left out (max_nodes, min_percent)"
    )
    assert_fits(figure)


def test_titles_label_the_inputs_or_make_the_heading(
    categories_output, profiled_output, tmp_path, drawn
):
    files = [str(categories_output / "wall.json"), str(profiled_output / "wall.json")]
    plotting.timem(files=files, titles=["before", "after"], output_dir=str(tmp_path), quiet=True)
    figure = drawn["timem_time.png"]
    rows = cells(figure)
    assert rows[0][0] == "input" and figure.texts[0].get_text() == "timem: time"
    top = [len(top_level(Path(f))) for f in files]
    assert [r[0] for r in rows[1:]] == ["before"] * top[0] + ["after"] * top[1]
    assert_fits(figure)
    plotting.timem(files=files, titles=["my", "app", "x"], output_dir=str(tmp_path), quiet=True)
    figure = drawn["timem_time.png"]
    assert figure.texts[0].get_text() == "my app x: time"
    assert [r[0] for r in cells(figure)[1:]] == ["wall.json"] * sum(top)  # by file name
    plotting.timem(files=files[:1], titles=["solo"], output_dir=str(tmp_path), quiet=True)
    figure = drawn["timem_time.png"]
    assert figure.texts[0].get_text() == "solo: time" and cells(figure)[0][0] == "metric"


def test_dicts_and_bad_inputs(categories_output, tmp_path, drawn):
    documents = [json.loads((categories_output / n).read_text()) for n in ("wall.json", "cpu.json")]
    written = plotting.timem(data=documents, output_dir=str(tmp_path), quiet=True)
    assert written == [str(tmp_path / "timem_time.png")]
    rows = cells(drawn["timem_time.png"])
    assert [(r[0], r[1]) for r in rows[1:]] == [
        ("data-1", "wall"),
        ("data-1", "wall"),
        ("data-2", "cpu"),
        ("data-2", "cpu"),
    ]
    timem_json = tmp_path / "timem.json"
    timem_json.write_text('{"timemory": {"timem": [{"wall_clock": 1.0}]}}')
    with pytest.raises(plotting.InputError, match="JSON of the timem tool, which is not read"):
        plotting.timem(files=[str(timem_json)], output_dir=str(tmp_path))
    timem_json.write_text('{"timem": [{"wall_clock": 1.0}]}')
    with pytest.raises(plotting.InputError, match="timem.json: this looks like the JSON of the"):
        plotting.timem(files=[str(timem_json)], output_dir=str(tmp_path))
    with pytest.raises(plotting.PlotError, match="image type 'bmpx' is not supported"):
        plotting.timem(plot_params=plotting.plot_parameters(img_type="bmpx"), files=[])


def test_command_line_table(categories_output, tmp_path, capsys):
    argv = ["-T", "-f", str(categories_output), "-o", str(tmp_path), "-t", "my", "app", "run"]
    assert main([*argv, "-e"]) == 0  # three titles for one input: allowed with -T
    out = capsys.readouterr().err.splitlines()
    assert out[0] == (
        f'<DartMeasurementFile name="timem_time" type="image/png">{tmp_path / "timem_time.png"}'
        "</DartMeasurementFile>"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"timem_{k}.png"
        for k in ("time", "utilization", "memory", "page_faults", "context_switches", "io", "other")
    )
    assert out[-1] == f"timemory: 7 files in {tmp_path}{os.sep}"
    result = plotting.embedded_plot(["-T", "--table-depth", "-1", *argv[1:]])
    assert result.status == 0 and len(result.files) == 7
    assert capsys.readouterr().err == f"timemory: 7 files in {tmp_path}{os.sep}\n"
    # without -T, three titles for one input is a usage error naming the valid counts
    assert main(argv[1:]) == 2
    tool_helpers.assert_one_error_line(
        capsys.readouterr().err, PROG, "3 titles for 1 inputs: give one title, or one per input"
    )
    assert main(["-T", "-c", *argv[1:]]) == 2
    tool_helpers.assert_one_error_line(
        capsys.readouterr().err, PROG, "-T/--table draws tables: it does not go with --plot-max"
    )
    assert main(["-T", "--table-depth", "-2", *argv[1:]]) == 2
    tool_helpers.assert_one_error_line(
        capsys.readouterr().err, PROG, "must be at least -1 (-1: every depth), got -2"
    )
