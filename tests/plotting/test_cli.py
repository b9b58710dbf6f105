"""``python -m timemory.plotting`` / ``timemory-plotter``: in-process through
``main(argv)`` for the options and errors, end to end in a subprocess (real images from real
output, a missing matplotlib)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tool_helpers
from timemory.plotting.__main__ import build_parser, main
from tool_helpers import run_tool

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.image import imread  # noqa: E402

PROG = "python -m timemory.plotting"


def assert_one_error_line(err: str, text: str) -> None:
    tool_helpers.assert_one_error_line(err, PROG, text)


def test_help_documents_every_option(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for option in (
        "-f", "--files", "-t", "--titles", "-o", "--output-dir", "-d", "--display", "-e",
        "--echo-dart", "-c", "--combine", "--plot-max", "--min-percent", "--max-nodes",
        "--label-width", "--img-dpi", "--img-size", "--img-type", "--log-x", "--font-size",
        "--exit-on-failure", "-T", "--table", "--table-depth",
    ):  # fmt: skip
        assert re.search(rf"(^|[\s,\[]){re.escape(option)}\b", out, re.M), option
    for action in build_parser()._actions:
        assert action.help, action.option_strings


def test_entry_point_is_main():
    text = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert 'timemory-plotter = "timemory.plotting.__main__:main"' in text
    # CI installs .[test]: the plotting tests run there, not skipped
    assert re.search(r'^test = \[.*"matplotlib>=3\.5".*\]$', text, re.M)
    assert re.search(r'^plot = \["matplotlib>=3\.5"\]$', text, re.M)


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        ([], "no input: give flat JSON files or output folders with -f"),
        (["-f", "a.json", "--bogus"], "unrecognized arguments: --bogus"),
        (["-f", "a.json", "--min-percent", "5"], "must be between 0 and 1, got 5"),
        (["-f", "a.json", "--max-nodes", "-1"], "must be at least 0 (0: no limit), got -1"),
        (["-f", "a.json", "--img-size", "100"], "argument --img-size: expected 2 arguments"),
        (["-f", "a.json", "--img-dpi", "0"], "must be greater than 0"),
        (["-f", "a.json", "b.json", "-t", "x", "y", "z"], "3 titles for 2 inputs"),
    ],
)
def test_usage_errors(capsys, argv, text):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, text)
    assert captured.out == ""


def test_input_errors_are_one_line_each_and_the_rest_is_plotted(profiled_output, tmp_path, capsys):
    (tmp_path / "notes.json").write_text("this is not JSON")
    (tmp_path / "other.json").write_text('{"name": "some-package", "version": "1.0"}')
    argv = ["-f", "missing.json", str(tmp_path / "notes.json"), str(tmp_path / "other.json")]
    argv += [str(profiled_output / "wall.json"), str(profiled_output / "wall.tree.json")]
    assert main([*argv, "-o", str(tmp_path / "img")]) == 2
    captured = capsys.readouterr()
    *errors, folder = captured.err.splitlines()
    assert len(errors) == 4, captured.err
    assert errors[0] == f"{PROG}: error: missing.json: no such file"
    assert "notes.json: not valid JSON" in errors[1]
    assert "other.json: not timemory output (no top-level 'timemory' object)" in errors[2]
    assert "wall.tree.json: 'wall_clock' is tree JSON" in errors[3]
    assert (tmp_path / "img" / "wall.png").is_file()  # the good file still plotted
    assert folder == f"timemory: 1 file in {tmp_path / 'img'}{os.sep}"  # last, on stderr
    assert captured.out == ""


def test_exit_on_failure_stops_at_the_first_bad_input(profiled_output, tmp_path, capsys):
    argv = ["-f", "missing.json", str(profiled_output / "wall.json"), "-o", str(tmp_path)]
    assert main([*argv, "--exit-on-failure"]) == 2
    assert_one_error_line(capsys.readouterr().err, "missing.json: no such file")
    assert not (tmp_path / "wall.png").exists()


def test_unknown_image_type_lists_the_choices(profiled_output, capsys):
    assert main(["-f", str(profiled_output / "wall.json"), "--img-type", "bmpx"]) == 2
    assert_one_error_line(capsys.readouterr().err, "image type 'bmpx' is not supported; choose")


def test_an_output_folder_that_cannot_be_made(profiled_output, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    argv = ["-f", str(profiled_output / "wall.json"), "-o", str(tmp_path / "file" / "plots")]
    assert main(argv) == 2
    assert_one_error_line(
        capsys.readouterr().err,
        f"{tmp_path / 'file' / 'plots'}: cannot create the folder for the images (Not a directory)",
    )
    argv[-1] = str(tmp_path / "file")
    assert main(argv) == 2
    assert_one_error_line(
        capsys.readouterr().err, f"{tmp_path / 'file'}: is a file, not a folder for the images"
    )


def test_folder_titles_and_options(profiled_output, tmp_path, capsys):
    argv = ["-f", str(profiled_output), "-o", str(tmp_path), "-t", "my run", "--img-type", "svg"]
    argv += ["--log-x", "--max-nodes", "5", "--font-size", "9", "-e"]
    assert main(argv) == 0
    out = capsys.readouterr().err
    for name in ("wall", "peak_rss", "current_peak_rss"):
        svg = (tmp_path / f"{name}.svg").read_text()
        assert "my run @ Processes = 1, Threads/process = 2" in svg
        assert f'<DartMeasurementFile name="{name}" type="image/svg">' in out
    # on the fake clock, more than 5 entries pass the 5% cut: --max-nodes leaves the rest out
    wall = (tmp_path / "wall.svg").read_text()
    assert "5 of " in wall and "the 5 largest)" in wall


def test_command_line_end_to_end(profiled_output, tmp_path):
    proc = run_tool(
        "timemory.plotting",
        "-f",
        str(profiled_output / "wall.json"),
        "-o",
        "plots",
        "--img-size",
        "800",
        "500",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == "timemory: 1 file in plots/\n"
    image = imread(tmp_path / "plots" / "wall.png")
    assert image.shape[1] >= 800 and image.shape[0] >= 500 and image.shape[2] in (3, 4)
    assert image.std() > 0.05  # not a blank image


# a program run with matplotlib unimportable: its entry in sys.modules is None
BLOCKED = "import sys; sys.modules['matplotlib'] = None; {code}"


def test_missing_matplotlib_is_one_line_naming_the_extra(profiled_output, tmp_path):
    code = "from timemory.plotting.__main__ import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKED.format(code=code), "-f", str(profiled_output / "wall.json")],
        cwd=tmp_path,
        env=tool_helpers.clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert_one_error_line(proc.stderr, "matplotlib is required for plots")
    # the package and this package's extra, never `pip install timemory[plot]` (on PyPI the
    # name is another project's)
    assert "pip install 'matplotlib>=3.5'" in proc.stderr and "its 'plot' extra" in proc.stderr
    assert "pip install timemory[" not in proc.stderr
    assert not list(tmp_path.iterdir())


def test_display_without_a_display_is_an_error(profiled_output, tmp_path):
    wall = str(profiled_output / "wall.json")
    proc = run_tool("timemory.plotting", "-d", "-f", wall, cwd=tmp_path, env={"MPLBACKEND": "agg"})
    assert proc.returncode == 2
    assert_one_error_line(proc.stderr, "cannot display plots: matplotlib's backend is 'agg'")
    assert not list(tmp_path.iterdir())


def test_combine_and_plot_max(profiled_output, threads_output, tmp_path, capsys):
    files = [str(profiled_output / "wall.json"), str(threads_output / "wall.json")]
    assert main(["-c", "-f", *files, "-t", "before", "after", "-o", str(tmp_path)]) == 0
    assert main(["--plot-max", "slowest", "-t", "slowest", "-f", *files, "-o", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["combined_wall.png", "slowest.png"]
    assert capsys.readouterr().err.splitlines() == [f"timemory: 1 file in {tmp_path}{os.sep}"] * 2
    assert main(["--plot-max", "slowest", "-f", *files]) == 2
    assert_one_error_line(capsys.readouterr().err, "--plot-max needs exactly one title")
