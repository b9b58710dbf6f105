"""``timemory.plotting``: the flat JSON reader, the bar charts drawn from real
output (their artists: labels, counts, units, titles; and that no text overlaps or leaves the
image), and ``plot()``'s image files."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")

import timemory  # noqa: E402
from matplotlib.image import imread  # noqa: E402
from timemory import plotting  # noqa: E402
from timemory.bundle import marker  # noqa: E402
from timemory.plotting import InputError, plot, plot_component, plot_parameters, read_file  # noqa: E402
from timemory.plotting._merge import combined, maximums  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error")


# ------------------------------------------------------------------ helpers
def one_figure(path: Path, **params):
    [component] = read_file(str(path))
    [(rank, figure)] = plot_component(component, plot_params=plot_parameters(**params))
    assert rank == 0
    return component, figure


def tick_labels(figure) -> list[str]:
    return [t.get_text() for t in figure.axes[0].get_yticklabels()]


def figure_texts(figure) -> list[str]:
    return [t.get_text() for t in figure.texts]


def size_px(figure) -> tuple[int, int]:
    w, h = figure.get_size_inches() * figure.dpi
    return round(w), round(h)


def assert_readable(figure) -> None:
    """No two texts overlap, and every text is inside the image."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = size_px(figure)
    boxes = []
    for axis in figure.axes:
        low, high = axis.get_xlim()
        xticks = zip(axis.get_xticks(), axis.get_xticklabels())
        texts = [label for x, label in xticks if low <= x <= high]  # the ticks drawn
        texts += [*axis.get_yticklabels(), axis.xaxis.label, *axis.texts]
        texts += [axis.title] if axis.get_title() else []
        boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_text()]
    boxes += [(t.get_text(), t.get_window_extent(renderer)) for t in figure.texts]
    for text, box in boxes:
        assert box.x0 >= -0.5 and box.y0 >= -0.5, (text, box)
        assert box.x1 <= width + 0.5 and box.y1 <= height + 0.5, (text, box, width, height)
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            overlap_w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            overlap_h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            assert overlap_w <= 0.5 or overlap_h <= 0.5, f"{a!r} overlaps {b!r}"


# ------------------------------------------------------------------ reading
def test_an_output_folder_without_flat_json(tmp_path):
    (tmp_path / "wall.lines.json").write_text('{"timemory": {"line_profile": {}}}')
    (tmp_path / "metadata.json").write_text('{"timemory": {"metadata": {}}}')
    with pytest.raises(InputError, match=r"no flat timemory JSON files \(<label>\.json\) in it"):
        plot(files=[str(tmp_path)])


def test_read_profiler_output(profiled_output):
    [wall] = read_file(str(profiled_output / "wall.json"))
    assert (wall.key, wall.label, wall.types, wall.units) == (
        "wall_clock",
        "wall",
        ("wall",),
        ("sec",),
    )
    assert wall.processes == 1 and wall.threads == 2
    [(rank, nodes)] = wall.ranks
    assert rank == 0
    # the script's top-level code is the root
    assert [(n.label, n.depth) for n in nodes[:4]] == [
        ("<module profiled.py>", 0),
        ("main", 1),
        ("work", 2),
        ("fib", 3),
    ]
    # the fake clock's naps: 3 x (5 ms + 89 x 10 us)
    assert nodes[2].count == 3 and nodes[2].values[0] == pytest.approx(0.01767, rel=1e-12)
    [rss] = read_file(str(profiled_output / "current_peak_rss.json"))
    assert rss.types == ("start peak rss", "stop peak rss") and rss.units == ("MB", "MB")
    assert all(len(n.values) == 2 for _, nodes in rss.ranks for n in nodes)


def test_read_threads_kept_apart(threads_output):
    [wall] = read_file(str(threads_output / "wall.json"))
    nodes = wall.ranks[0][1]
    assert {n.thread for n in nodes} == {0, 1}
    assert ("work", 1) in {(n.label, n.thread) for n in nodes if n.depth == 0}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("not json at all", "not valid JSON"),
        ('{"traceEvents": []}', "flame graph"),
        ('{"name": "package.json", "version": "1.0"}', "not timemory output"),
        ('{"timemory": {"metadata": {"info": {}}}}', "metadata.json"),
        ('{"timemory": {}}', "no component data"),
        ('{"timemory": {"line_profile": {"functions": []}}}', "a line profile"),
        ('{"timemory": {"wall_clock": {"type": "wall"}}}', "no 'ranks' list"),
        (
            '{"timemory": {"wall_clock": {"ranks": [{"graph": [{"depth": 0}]}]}}}',
            r"timemory\.wall_clock\.ranks\[0\]\.graph\[0\]\.prefix: missing \(expected a string\)",
        ),
    ],
)
def test_read_errors_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputError, match=message) as info:
        read_file(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_tree_json_is_refused_with_the_flat_name(profiled_output):
    with pytest.raises(InputError, match=r"tree JSON .*flat <label>\.json"):
        read_file(str(profiled_output / "wall.tree.json"))


# ------------------------------------------------------------------ figures
def test_bar_chart_artists(profiled_output):
    wall, figure = one_figure(profiled_output / "wall.json", min_percent=0)
    [axis] = figure.axes
    labels = tick_labels(figure)
    nodes = [n for n in wall.ranks[0][1] if n.count > 0]
    assert len(labels) == len(nodes) == len(axis.patches)  # one bar per entry
    # label column: the label indented by depth, then the count
    assert labels[0].split() == ["<module", "profiled.py>", "1"]
    assert labels[1].split() == ["|_main", "1"]
    assert labels[2].split() == ["|_work", "3"] and labels[2].startswith("  |_work")
    assert labels[3].startswith("    |_fib")
    assert axis.get_xlabel() == "wall [sec]"
    assert figure_texts(figure)[0] == "wall @ Processes = 1, Threads/process = 2"
    assert figure_texts(figure)[1].startswith("Real-clock timer")
    # bars: the values, and their value labels
    widths = [bar.get_width() for bar in axis.patches]
    assert widths == pytest.approx([n.values[0] for n in nodes])
    texts = [t.get_text() for t in axis.texts]
    assert [f"{n.values[0]:.4g}" for n in nodes] == [t for t in texts if not t.startswith("label")]
    assert [t.split() for t in texts if t.startswith("label")] == [["label", "count"]]
    assert_readable(figure)


def test_multi_valued_component_has_a_panel_per_value(profiled_output):
    _, figure = one_figure(profiled_output / "current_peak_rss.json")
    assert [a.get_xlabel() for a in figure.axes] == ["start peak rss [MB]", "stop peak rss [MB]"]
    assert [a.get_title() for a in figure.axes] == ["start peak rss", "stop peak rss"]
    assert len(figure.axes[0].patches) == len(figure.axes[1].patches) == len(tick_labels(figure))
    right = figure.axes[1].get_yticklabels()
    assert not [t for t in right if t.get_visible() and t.get_text()]  # labels once, on the left
    assert_readable(figure)


def test_threads_are_tagged(threads_output):
    _, figure = one_figure(threads_output / "wall.json", min_percent=0)
    labels = tick_labels(figure)
    assert labels[0].startswith("[t0] <module profiled.py>")
    assert any(label.startswith("[t1] work") for label in labels)
    assert_readable(figure)


def test_wide_graph_is_capped_and_listed_in_the_subtitle(wide_output):
    _, figure = one_figure(wide_output / "wall.json", min_percent=0)
    assert len(tick_labels(figure)) == 40
    assert "40 of 101 entries shown (the 40 largest)" in figure_texts(figure)[1]
    assert_readable(figure)
    _, everything = one_figure(wide_output / "wall.json", min_percent=0, max_nodes=0)
    assert len(tick_labels(everything)) == 101
    assert size_px(everything)[1] > size_px(figure)[1]  # taller, not squeezed
    assert_readable(everything)
    labels = tick_labels(everything)
    assert labels[0].split() == ["wide", "1"] and labels[1].split() == ["|_child_000", "1"]


def test_min_percent_leaves_out_small_entries(wide_output):
    _, figure = one_figure(wide_output / "wall.json", min_percent=0.5, max_nodes=0)
    assert [label.split()[0] for label in tick_labels(figure)] == ["wide"]  # all the rest
    assert ">= 50% of the largest" in figure_texts(figure)[1]


def test_deep_graph_with_long_labels(deep_output):
    _, figure = one_figure(deep_output / "wall.json", min_percent=0, label_width=50)
    labels = [label.rsplit(None, 1)[0] for label in tick_labels(figure)]  # without the count
    assert len(labels) == 31
    assert all(len(label) <= 50 for label in labels), max(labels, key=len)
    assert labels[1].startswith("|_level_01_a_rather") and "..." in labels[1]
    assert labels[12].startswith(" " * 22 + "|_level_12")
    assert labels[30].startswith(" " * 22 + "|_(30) level_30")  # deeper: the depth instead
    assert_readable(figure)


def test_multiple_ranks_get_a_figure_and_a_file_each(profiled_output, tmp_path):
    data = json.loads((profiled_output / "wall.json").read_text())
    body = data["timemory"]["wall_clock"]
    second = copy.deepcopy(body["ranks"][0])
    second["rank"] = 1
    body["ranks"].append(second)
    body["num_ranks"] = body["mpi_size"] = 2
    path = tmp_path / "wall.json"
    path.write_text(json.dumps(data))
    [component] = read_file(str(path))
    figures = plot_component(component)
    assert [rank for rank, _ in figures] == [0, 1]
    assert figure_texts(figures[1][1])[0] == "wall @ Processes = 2, Threads/process = 2"
    assert "(rank 1)" in figure_texts(figures[1][1])[1]
    written = plot(files=[str(path)], output_dir=str(tmp_path / "img"), quiet=True)
    assert written == [str(tmp_path / "img" / "wall_0.png"), str(tmp_path / "img" / "wall_1.png")]


# ------------------------------------------------------------------ plot()
def test_plot_files_writes_valid_images(profiled_output, tmp_path, capsys):
    written = plot(files=[str(profiled_output / "wall.json")], output_dir=str(tmp_path))
    assert written == [str(tmp_path / "wall.png")]
    assert capsys.readouterr() == ("", "")  # the per-file line only at verbose >= 1
    image = imread(written[0])
    _, figure = one_figure(profiled_output / "wall.json")
    width, height = size_px(figure)
    assert image.shape[:2] == (height, width) and width >= 1000 and height >= 600
    assert written[0] in plotting.plotted_files


def test_plot_a_folder_and_other_formats(profiled_output, tmp_path):
    # the other files timemory writes there are not plotted
    assert {p.name for p in profiled_output.iterdir()} >= {"wall.tree.json", "metadata.json"}
    params = plot_parameters(img_type="svg")
    written = plot(files=[str(profiled_output)], output_dir=str(tmp_path), plot_params=params)
    assert sorted(Path(p).name for p in written) == [
        "current_peak_rss.svg",
        "peak_rss.svg",
        "wall.svg",
    ]
    svg = (tmp_path / "wall.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "wall [sec]" in svg and "|_work" in svg


def test_plot_recorded_data_in_process(tmp_path):
    with marker(["wall_clock", "peak_rss"], key="outer"):
        with marker(["wall_clock", "peak_rss"], key="inner"):
            sum(range(10000))
    written = plot(data=timemory.get(), output_dir=str(tmp_path), titles=["run"], quiet=True)
    assert sorted(Path(p).name for p in written) == ["peak_rss.png", "wall.png"]
    [wall] = plotting.read_data(timemory.get(components=["wall_clock"]))
    [(_, figure)] = plot_component(wall, "run", plot_parameters(min_percent=0))
    assert [label.split()[0] for label in tick_labels(figure)] == ["outer", "|_inner"]
    assert figure_texts(figure)[0].startswith("run @ Processes = 1")
    # two dicts: numbered images, not one overwriting the other
    twice = plot(data=[timemory.get(), timemory.get()], output_dir=str(tmp_path), quiet=True)
    assert sorted(Path(p).name for p in twice) == [
        "data-1_peak_rss.png",
        "data-1_wall.png",
        "data-2_peak_rss.png",
        "data-2_wall.png",
    ]


def test_same_file_names_do_not_overwrite(profiled_output, threads_output, tmp_path):
    files = [str(profiled_output / "wall.json"), str(threads_output / "wall.json")]
    written = plot(files=files, output_dir=str(tmp_path), quiet=True)
    assert [Path(p).name for p in written] == ["out-wall-1.png", "out-wall-2.png"]


def test_plot_parameter_errors(profiled_output, tmp_path):
    wall = str(profiled_output / "wall.json")
    with pytest.raises(ValueError, match=r"image type 'bmpx' is not supported; choose from: .*png"):
        plot(files=[wall], plot_params=plot_parameters(img_type="bmpx"))
    with pytest.raises(ValueError, match="3 titles for 1 inputs"):
        plot(files=[wall], titles=["a", "b", "c"])
    errors = []
    written = plot(
        files=[str(tmp_path / "missing.json"), wall],
        output_dir=str(tmp_path),
        on_input_error=errors.append,
        quiet=True,
    )
    assert [Path(p).name for p in written] == ["wall.png"]
    assert len(errors) == 1 and "missing.json: no such file" in str(errors[0])


def test_import_does_not_load_matplotlib(run_python):
    proc = run_python(
        """
import sys
import timemory.plotting, timemory.plotting.figure
print(sorted(m for m in sys.modules if m.startswith("matplotlib")))
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def synthetic(values: list[tuple[float, ...]], counts: list[int], types=("a",)):
    nodes = tuple(
        plotting.Node(f"region_{i}", min(i, 1), count, value, None, None)
        for i, (value, count) in enumerate(zip(values, counts))
    )
    units = tuple("MB" for _ in types)
    return plotting.ComponentData("x", types, units, "synthetic", 1, 1, ((0, nodes),), "<test>")


@pytest.mark.parametrize("log", [False, True])
def test_zeros_negatives_and_nothing_counted_draw_without_warnings(log):
    params = plot_parameters(log_xaxis=log, min_percent=0.05)
    zeros = synthetic([(0.0, 0.0)] * 3, [1, 2, 3], types=("bytes", "rate"))
    [(_, figure)] = plot_component(zeros, plot_params=params)
    assert len(tick_labels(figure)) == 3  # a value that is zero everywhere hides nothing
    mixed = synthetic([(5.0,), (-2.0,), (0.01,)], [1, 1, 1])
    [(_, figure)] = plot_component(mixed, plot_params=params)
    assert [label.split()[0] for label in tick_labels(figure)] == ["region_0", "|_region_1"]
    assert "2 of 3 entries shown (>= 5% of the largest)" in figure_texts(figure)[1]
    assert_readable(figure)
    uncounted = synthetic([(1.0,), (2.0,)], [0, 0])
    [(_, figure)] = plot_component(uncounted, plot_params=params)
    assert tick_labels(figure) == []
    assert "no entries with a count" in [t.get_text() for t in figure.axes[0].texts]
    assert_readable(figure)


# ------------------------------------------------------------------ several inputs in one chart
def test_combine_tags_every_entry_with_its_input(profiled_output, threads_output, tmp_path):
    files = [str(profiled_output / "wall.json"), str(threads_output / "wall.json")]
    written = plot(
        files=files, titles=["before", "after"], combine=True, output_dir=str(tmp_path), quiet=True
    )
    assert [Path(p).name for p in written] == ["combined_wall.png"]
    merged = combined([("before", read_file(files[0])[0]), ("after", read_file(files[1])[0])])
    [(_, figure)] = plot_component(merged, plot_params=plot_parameters(min_percent=0, max_nodes=0))
    labels = tick_labels(figure)
    assert labels[0].startswith("[before]   <module profiled.py>")
    assert labels[1].startswith("[before]   |_main") and labels[2].startswith("[before]     |_work")
    assert any(label.startswith("[after t1] work") for label in labels)
    assert len(labels) == sum(len(c.ranks[0][1]) for c in (read_file(f)[0] for f in files))
    assert figure_texts(figure)[0] == "wall @ Processes = 1, Threads/process = 2"


def test_maximums_take_the_largest_entry_by_entry(tmp_path):
    def run(*entries):
        nodes = tuple(plotting.Node(label, depth, count, (value,), None, None)
                      for label, depth, count, value in entries)  # fmt: skip
        return plotting.ComponentData(
            "wall_clock", ("wall",), ("sec",), "", 1, 1, ((0, nodes),), ""
        )

    first = run(("main", 0, 1, 1.0), ("solve", 1, 2, 0.5), ("load", 1, 1, 0.1))
    second = run(("main", 0, 1, 2.0), ("load", 1, 3, 0.05), ("save", 1, 1, 0.7))
    merged = maximums([first, second])
    nodes = merged.ranks[0][1]
    assert [(n.label, n.depth, n.count, n.values) for n in nodes] == [
        ("main", 0, 1, (2.0,)),
        ("solve", 1, 2, (0.5,)),
        ("load", 1, 3, (0.1,)),
        ("save", 1, 1, (0.7,)),
    ]
    written = plotting.plot_maximums(
        "slowest", "slowest run", data=[first, second], output_dir=str(tmp_path), quiet=True
    )
    assert written == [str(tmp_path / "slowest.png")]
