"""The reference's entry-level plotting API: ``timemory_data``, ``plot_data``, ``read``,
``plot_generic``, ``plot_all``, ``add_plotted_files``, ``make_output_directory`` and
``embedded_plot``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")

from matplotlib.image import imread  # noqa: E402
from timemory import plotting  # noqa: E402
from timemory.plotting import (  # noqa: E402
    InputError,
    PlotError,
    plot_data,
    read,
    timemory_data,
)

pytestmark = pytest.mark.filterwarnings("error")


def element(prefix: str, depth: int, laps: int, value: float, stats: bool = True) -> dict:
    """A flat-JSON graph element of a scalar component whose raw unit is 1e-3 of the shown."""
    out = {
        "hash": 1,
        "prefix": prefix,
        "depth": depth,
        "entry": {"laps": laps, "value": value * 1000, "accum": value * 1000, "repr_data": value},
    }
    if stats:
        low = value / max(laps, 1) / 2
        mean = value / max(laps, 1)
        out["stats"] = {"sum": value, "count": laps, "min": low, "max": value - low,
                        "sqr": value * value, "mean": mean, "stddev": 0.0}  # fmt: skip
    return out


def rank(*elements: dict) -> dict:
    return {"rank": 0, "graph_size": len(elements), "graph": list(elements)}


RANK = rank(
    element(">>> main", 0, 1, 10.0),
    element(">>> |_solve", 1, 2, 6.0),
    element(">>>   |_kernel", 2, 4, 4.0),
    element(">>> |_never_run", 1, 0, 0.0),
    element(">>> |_solve", 1, 1, 3.0),  # the same prefix again: summed with the first
    element(">>> |_save", 1, 1, 0.5),
)


# ------------------------------------------------------------------ timemory_data
def test_timemory_data_from_a_graph_element_and_from_its_entry():
    full = timemory_data(">>> |_solve", RANK["graph"][1])
    assert (full.func, full.depth, full.laps) == (">>> |_solve", 1, 2)
    assert (full.data, full.value, full.accum) == (6.0, 6000.0, 6000.0)
    assert (full.sum, full.sqr, full.min, full.max) == (6.0, 36.0, 1.5, 4.5)
    assert full.lap_stats() == ((3.0, 1.5, 4.5),)
    # the entry dict alone, the statistics apart; the depth from the prefix's indentation
    apart = timemory_data(">>>   |_kernel", RANK["graph"][2]["entry"], RANK["graph"][2]["stats"])
    assert (apart.depth, apart.laps, apart.data, apart.max) == (2, 4, 4.0, 3.5)
    bare = timemory_data(">>> main", RANK["graph"][0]["entry"])
    assert (bare.depth, bare.sum, bare.min, bare.max, bare.lap_stats()) == (
        0,
        None,
        None,
        None,
        None,
    )


def test_timemory_data_multi_valued_and_sums():
    pair = {
        "laps": 1,
        "value": {"first": 1000, "second": 2000},
        "repr_data": {"first": 1.0, "second": 2.0},
    }
    one, two = {"first": 1.0, "second": 2.0}, {"first": 1.0, "second": 4.0}
    stats = {"sum": one, "sqr": two, "min": one, "max": one}
    a = timemory_data(">>> io", pair, stats)
    assert a.data == [1.0, 2.0] and a.values == (1.0, 2.0) and a.accum == [1000.0, 2000.0]
    other = dict(pair, repr_data={"first": 3.0, "second": 0.5})
    low = dict(stats, min={"first": 0.25, "second": 0.5}, max={"first": 3.0, "second": 0.5})
    total = a + timemory_data(">>> io", other, low)
    assert total.laps == 2 and total.data == [4.0, 2.5] and total.sum == [2.0, 4.0]
    assert total.min == [0.25, 0.5] and total.max == [3.0, 2.0]
    assert total.lap_stats() == ((1.0, 0.25, 3.0), (2.0, 0.5, 2.0))
    with pytest.raises(ValueError, match="different numbers of values"):
        a + timemory_data(">>> io", {"laps": 1, "repr_data": 1.0})


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"laps": 1}, "not a flat JSON graph entry (missing key 'repr_data')"),
        ({"laps": 1, "repr_data": "fast"}, "expected a number, got 'fast'"),
        ([1, 2], "expected a flat JSON graph entry (a dict)"),
    ],
)
def test_timemory_data_errors_name_the_entry(obj, message):
    with pytest.raises(InputError, match=r"^>>> f: .*") as err:
        timemory_data(">>> f", obj)
    assert message in str(err.value)


# ------------------------------------------------------------------ read / plot_data
def test_read_skips_unrun_entries_and_sums_identical_prefixes():
    data = read(RANK, filename="run/wall.json", ctype="wall", units="sec", cid="wall_clock")
    assert isinstance(data, plot_data)
    assert data.filename == "run/wall.json" and data.cid == "wall_clock"
    funcs = [(e.func, e.laps, e.data) for e in data.timemory_functions]
    assert funcs == [
        (">>> main", 1, 10.0),
        (">>> |_solve", 3, 9.0),  # 2 + 1 laps, 6 + 3
        (">>>   |_kernel", 4, 4.0),
        (">>> |_save", 1, 0.5),
    ]  # never_run (0 laps) left out
    solve = data.timemory_functions[1]
    assert (solve.min, solve.max) == (1.5, 4.5)
    component = data.component()
    assert component.key == "wall_clock" and component.types == ("wall",)
    assert component.units == ("sec",) and component.source == "run/wall.json"
    nodes = component.ranks[0][1]
    assert [(n.label, n.depth, n.count, n.values) for n in nodes] == [
        ("main", 0, 1, (10.0,)),
        ("solve", 1, 3, (9.0,)),
        ("kernel", 2, 4, (4.0,)),
        ("save", 1, 1, (0.5,)),
    ]
    assert nodes[1].stats == ((3.0, 1.5, 4.5),)
    assert data.image_name() == "wall"
    data.output_name = "solver"
    assert data.image_name() == "solver"


def test_read_real_output(profiled_output):
    document = json.loads((profiled_output / "wall.json").read_text())
    body = document["timemory"]["wall_clock"]
    data = read(body["ranks"][0], ctype=body["type"], units=body["unit_repr"])
    # recursion repeats prefixes (fib under fib): one entry each, laps and values summed
    expected: dict[str, list] = {}
    for item in body["ranks"][0]["graph"]:
        laps, value = item["entry"]["laps"], item["entry"]["repr_data"]
        if laps:
            held = expected.setdefault(item["prefix"], [0, 0.0])
            held[0] += laps
            held[1] += value
    got = [(e.func, e.laps, e.data) for e in data.timemory_functions]
    assert got == [(k, n, pytest.approx(v)) for k, (n, v) in expected.items()]
    assert len(got) < len(body["ranks"][0]["graph"])  # something was summed
    [from_file] = plotting.read_file(str(profiled_output / "wall.json"))
    labels = [(n.label, n.depth) for n in data.component().ranks[0][1]]
    assert labels == list(dict.fromkeys((n.label, n.depth) for n in from_file.ranks[0][1]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timemory": {}}, "whole flat JSON document: pass timemory.<key>.ranks[j]"),
        ({"ranks": []}, "whole component: pass one of its 'ranks'"),
        ([], "expected a dict with 'graph_size' and a 'graph' list"),
        ({"graph_size": 3, "graph": []}, "'graph_size' is 3 but the 'graph' has 0 entries"),
        ({"graph": [{"depth": 0}]}, "graph entry 0 has no 'prefix'"),
    ],
)
def test_read_errors(data, message):
    with pytest.raises(InputError) as err:
        read(data)
    assert message in str(err.value)


def test_plot_data_defaults_and_mismatched_types():
    data = plot_data()
    assert (data.filename, data.concurrency, data.mpi_size, data.timemory_functions) == (
        "output",
        1,
        1,
        [],
    )
    assert data.image_name() == "output" and data.plot_params.img_type == "png"
    shared: list = []
    one, two = plot_data(timemory_functions=shared), plot_data(timemory_functions=shared)
    one.add(timemory_data(">>> a", {"laps": 1, "repr_data": 1.0}))
    one.add(timemory_data(">>> a", {"laps": 2, "repr_data": 2.0}))
    assert [(e.laps, e.data) for e in one.timemory_functions] == [(3, 3.0)]
    assert two.timemory_functions == [] and shared == []  # no list shared between objects
    pair = plot_data(filename="x.json", ctype="wall")
    pair.add(timemory_data(">>> a", {"laps": 1, "repr_data": [1.0, 2.0]}))
    with pytest.raises(InputError, match=r"x.json: the entries have 2 values each, but ctype"):
        pair.component()


# ------------------------------------------------------------------ drawing
def test_plot_generic_draws_the_entries(tmp_path, capsys, verbosity):
    verbosity(1)  # the per-file lines too
    data = read(RANK, filename="wall.json", ctype="wall", units="sec", title="solver run",
                concurrency=4, mpi_size=2, description="synthetic wall clock")  # fmt: skip
    before = len(plotting.plotted_files)
    written = plotting.plot_generic(data, output_dir=str(tmp_path / "img"), echo_dart=True)
    assert written == [str(tmp_path / "img" / "wall.png")]
    assert plotting.plotted_files[before:] == written
    out = capsys.readouterr().err.splitlines()
    assert out == [
        f"[wall]|0> Outputting '{written[0]}'...",
        f'<DartMeasurementFile name="wall" type="image/png">{written[0]}</DartMeasurementFile>',
    ]
    assert imread(written[0]).std() > 0.05
    # what was drawn: the same figure as plot_component of the converted data
    [(_, figure)] = plotting.plot_component(
        data.component(), "solver run", plotting.plot_parameters(min_percent=0)
    )
    [axis] = figure.axes
    assert [b.get_width() for b in axis.patches] == [10.0, 9.0, 4.0, 0.5]
    labels = [t.get_text().split() for t in axis.get_yticklabels()]
    assert labels == [["main", "1"], ["|_solve", "3"], ["|_kernel", "4"], ["|_save", "1"]]
    assert figure.texts[0].get_text() == "solver run @ Processes = 2, Threads/process = 4"
    assert figure.texts[1].get_text().startswith("synthetic wall clock")
    # an explicit file name and title; the image type's extension is not doubled
    params = plotting.plot_parameters(img_type="svg")
    written = plotting.plot_generic(
        data, "renamed.svg", "other title", params, output_dir=str(tmp_path), quiet=True
    )
    assert written == [str(tmp_path / "renamed.svg")]
    assert "other title @ Processes = 2" in Path(written[0]).read_text()
    with pytest.raises(PlotError, match="draws a plot_data"):
        plotting.plot_generic({"graph": []}, output_dir=str(tmp_path))


def test_plot_all_numbers_clashing_names(tmp_path):
    first = read(RANK, filename="a/wall.json", ctype="wall", units="sec")
    second = read(rank(element(">>> other", 0, 2, 1.0)), filename="b/wall.json", ctype="wall")
    third = read(rank(element(">>> x", 0, 1, 1.0)), ctype="cpu", output_name="cpu_time")
    written = plotting.plot_all(
        {"a": first, "b": second, "c": third}, output_dir=str(tmp_path), quiet=True
    )
    assert [Path(p).name for p in written] == ["wall-1.png", "wall-2.png", "cpu_time.png"]
    assert all(imread(p).std() > 0.05 for p in written)
    assert plotting.plot_all(third, output_dir=str(tmp_path / "one"), quiet=True) == [
        str(tmp_path / "one" / "cpu_time.png")
    ]
    with pytest.raises(PlotError, match="plot_all\\(\\) draws plot_data objects"):
        plotting.plot_all([first, "wall.json"], output_dir=str(tmp_path))


def test_add_plotted_files_and_make_output_directory(tmp_path, capsys):
    before = len(plotting.plotted_files)
    assert plotting.add_plotted_files("chart", "plots/chart.svg", False) == "plots/chart.svg"
    assert capsys.readouterr().err == ""
    plotting.add_plotted_files("chart", "plots/chart.svg", True)
    assert capsys.readouterr().err == (
        '<DartMeasurementFile name="chart" type="image/svg">plots/chart.svg</DartMeasurementFile>\n'
    )
    assert plotting.plotted_files[before:] == ["plots/chart.svg", "plots/chart.svg"]
    del plotting.plotted_files[before:]

    nested = tmp_path / "a" / "b"
    assert plotting.make_output_directory(str(nested)) == str(nested) and nested.is_dir()
    assert plotting.make_output_directory(str(nested)) == str(nested)  # exists already: fine
    (tmp_path / "file").write_text("")
    with pytest.raises(PlotError, match=r"file: is a file, not a folder for the images$"):
        plotting.make_output_directory(str(tmp_path / "file"))
    with pytest.raises(PlotError, match=r"cannot create the folder for the images \(Not a dir"):
        plotting.make_output_directory(str(tmp_path / "file" / "sub"))


def test_embedded_plot_runs_the_command_line_in_process(profiled_output, tmp_path, capsys):
    wall = str(profiled_output / "wall.json")
    result = plotting.embedded_plot(["-f", wall, "-o", str(tmp_path)])
    assert result == plotting.EmbeddedPlot(0, [str(tmp_path / "wall.png")])
    assert (tmp_path / "wall.png").is_file()
    folder = f"timemory: 1 file in {tmp_path}{os.sep}\n"
    assert capsys.readouterr() == ("", folder)  # on stderr, one line per folder
    result = plotting.embedded_plot(["-f", wall, "missing.json", "-o", str(tmp_path)], prog="me")
    assert result.status == 2 and result.files == [str(tmp_path / "wall.png")]
    assert capsys.readouterr().err == "me: error: missing.json: no such file\n" + folder
    assert plotting.embedded_plot(["--img-dpi", "0", "-f", wall]) == (2, [])
