"""The output plan (where one write's files go, resolved once, nothing created while composing)
and the format registry (a format is one function and one entry), and the public
``timemory.manager`` module."""

from __future__ import annotations

import json
import os
import pickle
import time

import pytest
from timemory import _output, settings


@pytest.fixture
def output_settings():
    names = ("output_path", "output_prefix", "time_output", "time_format")
    saved = {name: getattr(settings, name) for name in names}
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


def test_plan_resolves_the_folder_once_and_creates_nothing(tmp_path, output_settings):
    settings.output_path = str(tmp_path / "out-%p")
    settings.output_prefix = "run"
    settings.time_output = True
    settings.time_format = "%Y"
    plan = _output.OutputPlan.from_settings()
    folder = f"{tmp_path}/out-{os.getpid()}/{time.strftime('%Y', settings._LAUNCH_TIME)}"
    assert (plan.folder, plan.prefix, plan.rank) == (folder, "run", 0)
    assert plan.path("wall", ".json") == f"{folder}/run-wall.json"
    assert not plan.names_rank and not plan.rank_suffix
    # the settings changed after the plan was made do not move its files
    settings.output_path = str(tmp_path / "elsewhere")
    assert plan.path("wall", ".txt") == f"{folder}/run-wall.txt"
    assert list(tmp_path.iterdir()) == []  # composing created nothing


def test_plan_of_an_aborting_rank_and_of_a_folder_naming_the_rank(tmp_path, output_settings):
    settings.output_path = str(tmp_path / "r%rank%")
    settings.output_prefix = ""
    assert _output.OutputPlan.from_settings().names_rank
    local = _output.OutputPlan.from_settings(str(tmp_path / "x"), rank_suffix=True)
    assert local.path("wall", ".json") == f"{tmp_path}/x/wall_0.json"
    assert not local.names_rank


def test_plan_write_makes_the_folder_lists_and_announces(
    tmp_path, output_settings, capsys, verbosity
):
    settings.output_prefix = ""
    verbosity(1)  # the per-file lines, on stderr
    plan = _output.OutputPlan.from_settings(str(tmp_path / "a" / "b"))
    path = plan.write("notes", ".txt", ("one ", "two\n"), "text", "notes")
    assert path == f"{tmp_path}/a/b/notes.txt"
    assert (tmp_path / "a" / "b" / "notes.txt").read_text() == "one two\n"
    assert path in _output.manager.text_files and path in _output.manager._outputs["text"]
    assert capsys.readouterr() == ("", f"[notes]|0> Outputting '{path}'...\n")
    silent = plan.write("data", ".bin", b"\x00\x01", "json", "data", announce=False)
    assert silent == f"{tmp_path}/a/b/data.bin" and capsys.readouterr() == ("", "")
    verbosity(0)
    plan.write("more", ".txt", "three\n", "text", "notes")
    assert capsys.readouterr() == ("", "")  # by default, only the folders' lines at the end
    assert (tmp_path / "a" / "b" / "data.bin").read_bytes() == b"\x00\x01"


def test_format_names_a_setting_that_exists():
    with pytest.raises(ValueError, match="no setting 'no_such_output'"):
        _output.Format("x", "no_such_output", ".x", str)


def test_builtin_formats_are_registered_in_write_order():
    names = [f.name for f in _output.formats()]
    for earlier, later in (("json", "tree"), ("tree", "flamegraph"), ("functions", "metadata")):
        assert names.index(earlier) < names.index(later)
    assert {f.name: f.suffix for f in _output.formats("tree")} == {
        "tree": ".tree.json",
        "flamegraph": ".flamegraph.json",
    }
    assert [f.name for f in _output.formats("prepare")] == ["roofline"]
    plot = next(f for f in _output.formats() if f.name == "plot")
    assert (plot.setting, plot.suffix, plot.view) == ("plot_output", ".png", "flat")


def test_write_as_writes_one_format_to_a_named_path(tmp_path):
    from timemory.line_profiler import LineStats

    stats = LineStats({}, 1e-9)
    _output.write_as("lprof", str(tmp_path / "sub" / "x.lprof"), stats)
    assert pickle.loads((tmp_path / "sub" / "x.lprof").read_bytes()).timings == {}


NEW_FORMAT = """
import timemory
from timemory import _output
from timemory.bundle import marker


def entry_count(component):
    return f"{component.label}: {len(component.text.splitlines())} lines of table\\n"


_output.register_format(
    _output.Format("counts", "text_output", ".count.txt", entry_count, "table", kind="text")
)
with marker(["wall_clock"], key="one"):
    pass
"""


def test_a_registered_format_is_written_with_the_others(run_python, tmp_path):
    out = tmp_path / "out"
    env = {"TIMEMORY_OUTPUT_PATH": str(out), "TIMEMORY_COUT_OUTPUT": "OFF", "TIMEMORY_VERBOSE": "1"}
    proc = run_python(NEW_FORMAT, env=env)
    assert proc.returncode == 0, proc.stderr
    text = (out / "wall.count.txt").read_text()
    assert text.startswith("wall: ") and text.endswith(" lines of table\n")
    assert f"[wall]|0> Outputting '{out}/wall.count.txt'..." in proc.stderr
    meta = json.loads((out / "metadata.json").read_text())["timemory"]["metadata"]
    assert f"{out}/wall.count.txt" in meta["output"]["text"]
    # disabled with the setting it names
    off = tmp_path / "off"
    proc = run_python(
        NEW_FORMAT,
        env={
            "TIMEMORY_OUTPUT_PATH": str(off),
            "TIMEMORY_COUT_OUTPUT": "OFF",
            "TIMEMORY_TEXT_OUTPUT": "OFF",
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert (off / "wall.json").exists() and not (off / "wall.count.txt").exists()


def test_report_into_a_folder_leaves_output_path_alone(run_python, tmp_path):
    proc = run_python(
        f"""
        import timemory
        from timemory import settings
        from timemory.bundle import marker
        with marker(["wall_clock"], key="one"):
            pass
        before = settings.output_path
        timemory.report({str(tmp_path / "reported")!r})
        assert settings.output_path == before, settings.output_path
        settings.auto_output = False
        """,
        env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "default"), "TIMEMORY_COUT_OUTPUT": "OFF"},
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "reported" / "wall.json").exists()
    assert not (tmp_path / "default").exists()


def test_manager_module_stands_for_the_class(run_python):
    proc = run_python(
        """
        import timemory
        cls = timemory.manager
        import timemory.manager
        from timemory.manager import manager, add_metadata
        assert manager is cls and add_metadata == cls.add_metadata
        assert isinstance(timemory.manager(), cls)
        timemory.manager.add_metadata("KEY", 3)
        assert cls.get_metadata()["info"]["KEY"] == 3
        assert timemory.manager.text_files is cls.text_files
        timemory.manager.text_files = ["a.txt"]
        assert cls.text_files == ["a.txt"]
        assert "write_ctest_notes" in dir(timemory.manager)
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "ok"
