"""The exports' framework (timemory._output._exports): the settings and ``--format`` that turn
each export on (and only those), the registry's entries, ``timemory.export`` and the
``timemory export`` command over a saved folder, their errors in one line.

The writers themselves (pstats, speedscope, callgrind, perfetto) are tested by their own test
files; here they are replaced by a writer that describes what it was given (the joined rows of
its source, read with ``_core.joined_rows``), so that the source handed to a writer at exit,
after an exchange and from a saved folder can be compared. The tests at the end run the real
writers through the same paths where this build has them, and skip a format whose writer is
not there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
import timemory
from timemory import _output, settings
from timemory._output import _export_command, _exports
from timemory.bundle import marker
from tool_helpers import assert_one_error_line, clean_env, run_tool, write

EXPORTS = ("pstats", "speedscope", "callgrind", "perfetto")
FILES = {
    "pstats": "pstats.prof",
    "speedscope": "speedscope.json",
    "callgrind": "callgrind.out.timemory",
    "perfetto": "perfetto.trace.json",
}
SETTINGS = [f"{n}_output" for n in EXPORTS]
WRITER_MODULES = {
    "timemory._output._pstats": ("stream_pstats",),
    "timemory._output._speedscope": ("make_speedscope", "make_callgrind"),
    "timemory._output._timeline": ("make_perfetto",),
}

# What the describing writer writes: the source's kind, components, units and joined rows
# (without the pid and hash, which differ per process, and the rank, which is the MPI rank
# live and the position in the list of processes when loaded).
DESCRIBE = """
def describe(src):
    import json
    from timemory import _core
    kind = "loaded" if src.native and isinstance(src.native[0], tuple) else "live"
    rows = [
        [r[0], r[1], r[2], r[7], [None if c is None else [c[0], c[1]] for c in r[8]]]
        for r in _core.joined_rows(src.native, src.rank, src.copy)
    ]
    keys = [_core.component_info(i)["key"] for i in src.indices]
    units = [list(src.unit(i)) for i in src.indices]
    return json.dumps({"kind": kind, "components": keys, "units": units, "rows": rows})
"""

# A setup file (-s) for the command-line tools: the describing writers in place of the real ones.
SETUP = (
    "import sys, types\n"
    + DESCRIBE
    + "".join(
        f"m = types.ModuleType({module!r})\n"
        + "".join(f"m.{f} = describe\n" for f in functions)
        + "sys.modules[m.__name__] = m\n"
        for module, functions in WRITER_MODULES.items()
    )
)


@pytest.fixture
def describing_writers(monkeypatch):
    """The describing writer in place of every export's writer, in this process."""
    namespace: dict = {}
    exec(DESCRIBE, namespace)
    for module, functions in WRITER_MODULES.items():
        fake = types.ModuleType(module)
        for function in functions:
            setattr(fake, function, namespace["describe"])
        monkeypatch.setitem(sys.modules, module, fake)
    return namespace["describe"]


@pytest.fixture
def output_settings():
    """Every output setting as it was, after the test."""
    names = [*_exports.format_choices().values(), "output_path", "file_output", "tree_output"]
    saved = {name: getattr(settings, name) for name in names}
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


def record() -> None:
    with marker(["wall_clock", "peak_rss"], key="outer"):
        for _ in range(3):
            with marker(["wall_clock"], key="inner"):
                pass


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def described(path: Path) -> dict:
    return json.loads(path.read_text())


def without_values(description: dict) -> list:
    """The rows with the call counts but not the values (a clock's value differs per run)."""
    return [r[:4] + [[None if c is None else c[0] for c in r[4]]] for r in description["rows"]]


# ------------------------------------------------------------------ settings and registry
def test_settings_exist_off_by_default_with_their_environment_variables(run_python):
    proc = run_python(
        f"from timemory import settings\nprint([getattr(settings, n) for n in {SETTINGS!r}])\n",
        env={"TIMEMORY_SPEEDSCOPE_OUTPUT": "ON", "TIMEMORY_PERFETTO_OUTPUT": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[False, True, False, True]"
    proc = run_python(
        f"from timemory import settings\nprint([getattr(settings, n) for n in {SETTINGS!r}])\n"
    )
    assert proc.stdout.strip() == "[False, False, False, False]", proc.stderr


def test_registry_lists_the_exports_before_the_metadata():
    run = [f.name for f in _output.formats("run")]
    assert run[run.index("functions") + 1 :][:5] == [*EXPORTS, "metadata"]
    for name in EXPORTS:
        fmt = next(f for f in _output.formats("run") if f.name == name)
        assert (fmt.setting, fmt.name + fmt.suffix, fmt.kind) == (
            f"{name}_output",
            FILES[name],
            name,
        )
    choices = _exports.format_choices()
    assert list(choices)[:4] == ["json", "tree", "flamegraph", "text"]
    assert all(choices[n] == f"{n}_output" for n in EXPORTS)
    assert "metadata" not in choices and "functions" not in choices
    assert _exports.export_names() == list(EXPORTS)


# ------------------------------------------------------------------ written with the run
def test_settings_turn_on_their_files_and_only_those(tmp_path, describing_writers, output_settings):
    record()
    settings.speedscope_output = True
    settings.callgrind_output = True
    timemory.report(str(tmp_path))
    files = files_in(tmp_path)
    assert {"speedscope.json", "callgrind.out.timemory"} <= files
    assert not {"pstats.prof", "perfetto.trace.json"} & files
    speedscope = described(tmp_path / "speedscope.json")
    assert speedscope["kind"] == "live"
    # every component with data, in the order of the walk's columns, each with its unit
    assert speedscope["components"] == ["peak_rss", "wall_clock"]
    assert speedscope["units"] == [["MB", 1e6], ["sec", 1e9]]
    assert without_values(speedscope) == [
        [0, -1, 0, "outer", [1, 1]],
        [1, 0, 1, "inner", [None, 3]],
    ]
    # metadata.json lists them with the other files
    metadata = described(tmp_path / "metadata.json")["timemory"]["metadata"]["output"]
    assert metadata["speedscope"] == [str(tmp_path / "speedscope.json")]
    assert metadata["callgrind"] == [str(tmp_path / "callgrind.out.timemory")]
    assert "pstats" not in metadata and "perfetto" not in metadata


def test_checkpoints_do_not_write_the_exports(tmp_path, describing_writers, output_settings):
    record()
    settings.speedscope_output = True
    plan = _output.OutputPlan.from_settings(str(tmp_path))
    plan.marker = {"final": False, "time": 0}
    _output.write_run(plan)
    files = files_in(tmp_path)
    assert "wall.tree.json" in files and "speedscope.json" not in files


def test_exchanged_data_reach_the_writer_as_every_process_trees(
    tmp_path, describing_writers, output_settings, monkeypatch
):
    from timemory import _lifecycle, _processes

    # what the exchange leaves for the summary of the tools goes with the test
    monkeypatch.setitem(_lifecycle._state, "processes", None)
    record()
    settings.pstats_output = True
    settings.tree_output = settings.flamegraph_output = False
    # the trees are exchanged while an export is on, tree_output or not
    assert _output.tree_needed()
    monkeypatch.setattr(_processes, "_custom", [lambda payload: [payload, payload]])
    timemory.report(str(tmp_path))
    pstats = described(tmp_path / "pstats.prof")
    assert pstats["kind"] == "loaded"
    assert pstats["components"] == ["peak_rss", "wall_clock"]
    # the two processes' views one after the other, rows numbered on
    assert [r[3] for r in pstats["rows"]] == ["outer", "inner", "outer", "inner"]
    assert "wall.tree.json" not in files_in(tmp_path)
    # a process that recorded the timeline hands the perfetto writer its live graphs (the
    # timeline comes as events; the writer adds the workers' own), the others the exchange's
    monkeypatch.setattr(
        sys.modules["timemory._output._timeline"], "recorded", lambda: True, raising=False
    )
    settings.perfetto_output = True
    timemory.report(str(tmp_path / "timeline"))
    assert described(tmp_path / "timeline" / "perfetto.trace.json")["kind"] == "live"
    assert described(tmp_path / "timeline" / "pstats.prof")["kind"] == "loaded"
    settings.perfetto_output = False
    settings.pstats_output = False
    settings.tree_output = True
    settings.flamegraph_output = False
    assert _output.tree_needed()  # the tree JSON itself
    settings.tree_output = False
    assert not _output.tree_needed()


def test_a_missing_or_failing_writer_costs_only_its_own_file(
    tmp_path, describing_writers, output_settings, monkeypatch, capfd
):
    record()
    settings.pstats_output = settings.speedscope_output = settings.perfetto_output = True
    monkeypatch.setitem(sys.modules, "timemory._output._pstats", None)  # not in this build

    def broken(src):
        raise RuntimeError("no can do")

    timeline = types.ModuleType("timemory._output._timeline")
    timeline.make_perfetto = broken
    monkeypatch.setitem(sys.modules, "timemory._output._timeline", timeline)
    capfd.readouterr()
    timemory.report(str(tmp_path))
    files = files_in(tmp_path)
    assert "speedscope.json" in files and "metadata.json" in files
    assert not {"pstats.prof", "perfetto.trace.json"} & files
    err = capfd.readouterr().err
    assert (
        "[timemory]> pstats_output: the pstats export is not available in this build "
        "(timemory._output._pstats.stream_pstats is missing); no pstats file was written"
    ) in err
    assert (
        "[timemory]> perfetto_output: the perfetto file was not written: RuntimeError: no can do"
    ) in err


# ------------------------------------------------------------------ --format
TOOL_MODULES = {
    "profile": "timemory.profiler",
    "trace": "timemory.trace",
    "lines": "timemory.line_profiler",
}


def _tool_available(command: str) -> bool:
    if command != "lines":
        return True
    import importlib.util

    return importlib.util.find_spec("line_profiler") is not None


@pytest.mark.parametrize("command", list(TOOL_MODULES))
def test_format_option_writes_exactly_the_formats_named(command, tmp_path):
    if not _tool_available(command):
        pytest.skip("line_profiler is not installed")
    write(tmp_path / "setup.py", SETUP)
    write(
        tmp_path / "work.py",
        """\
        from timemory.bundle import marker

        @profile
        def work():
            with marker(["wall_clock"], key="inside"):
                return sum(range(100))

        work()
        """,
    )
    proc = run_tool(
        TOOL_MODULES[command],
        "--format",
        "json,speedscope",
        "--format",
        "callgrind",
        "-s",
        "setup.py",
        "-d",
        "out",
        "--",
        "work.py",
        cwd=tmp_path,
        env={"TIMEMORY_PSTATS_OUTPUT": "1"},  # --format wins over the settings
    )
    assert proc.returncode == 0, proc.stderr
    files = files_in(tmp_path / "out")
    assert {"speedscope.json", "callgrind.out.timemory", "metadata.json"} <= files
    assert not [f for f in files if f.endswith((".txt", ".tree.json", ".flamegraph.json"))]
    assert "pstats.prof" not in files and "perfetto.trace.json" not in files
    assert described(tmp_path / "out" / "speedscope.json")["kind"] == "live"


def test_format_option_with_an_unknown_name_is_one_line(tmp_path):
    write(tmp_path / "work.py", "pass\n")
    for command, module in TOOL_MODULES.items():
        if not _tool_available(command):
            continue
        proc = run_tool(module, "--format", "text,speedscop", "--", "work.py", cwd=tmp_path)
        assert proc.returncode == 2
        assert_one_error_line(
            proc.stderr,
            f"python -m {module}",
            "argument --format: unknown format 'speedscop'; did you mean 'speedscope'? "
            "(the formats: json, tree, flamegraph, text, pstats, speedscope, callgrind, perfetto",
        )
        assert not (tmp_path / "out").exists()


def test_select_formats_sets_exactly_those_settings(output_settings):
    _exports.select_formats(_exports.parse_formats("tree, pstats"))
    on = {n for n, s in _exports.format_choices().items() if getattr(settings, s)}
    assert on == {"tree", "pstats"}
    with pytest.raises(ValueError, match=r"^no format named \(the formats: json, "):
        _exports.parse_formats(" , ")


# ------------------------------------------------------------------ export later
def run_with_exports(tmp_path: Path, *extra: str) -> Path:
    """A program run with every export on (the describing writers); returns its folder."""
    write(tmp_path / "setup.py", SETUP)
    write(
        tmp_path / "work.py",
        """\
        from timemory.bundle import marker

        with marker(["wall_clock", "peak_rss"], key="outer"):
            for _ in range(3):
                with marker(["wall_clock"], key="inner"):
                    pass
        """,
    )
    proc = run_tool(
        "timemory.profiler",
        "-b",
        "-s",
        "setup.py",
        "-d",
        "out",
        *extra,
        "--",
        "work.py",
        cwd=tmp_path,
        env={f"TIMEMORY_{s.upper()}": "1" for s in SETTINGS},
    )
    assert proc.returncode == 0, proc.stderr
    return tmp_path / "out"


def test_export_from_a_saved_folder_writes_what_the_run_wrote(tmp_path, describing_writers, capsys):
    out = run_with_exports(tmp_path)
    at_exit = {n: described(out / FILES[n]) for n in EXPORTS}
    status = _export_command.main(
        [str(out), "--to", ",".join(EXPORTS), "-o", str(tmp_path / "later")]
    )
    assert status == 0
    assert capsys.readouterr().err == f"timemory: 4 files in {tmp_path / 'later'}/\n"
    assert files_in(tmp_path / "later") == set(FILES.values())
    for name in EXPORTS:
        later = described(tmp_path / "later" / FILES[name])
        assert (at_exit[name]["kind"], later["kind"]) == ("live", "loaded")
        for key in ("components", "units"):
            assert later[key] == at_exit[name][key]
        assert without_values(later) == without_values(at_exit[name])
        # the values read back from the tree JSON are the recorded ones
        for row, again in zip(at_exit[name]["rows"], later["rows"]):
            for cell, cell_again in zip(row[4], again[4]):
                assert (cell is None) == (cell_again is None)
                if cell is not None:
                    assert cell_again[1] == pytest.approx(cell[1], rel=1e-6, abs=1e-3)
    # by default next to the source, replacing the files of the run
    assert _export_command.main([str(out), "--to", "speedscope", "-c", "wall_clock"]) == 0
    assert described(out / "speedscope.json")["components"] == ["wall_clock"]
    # one tree JSON file, to a file named by the user
    target = tmp_path / "one.json"
    assert (
        _export_command.main([str(out / "wall.tree.json"), "-t", "perfetto", "-o", str(target)])
        == 0
    )
    assert described(target)["components"] == ["wall_clock"]


def test_timemory_export_command_errors_are_one_line(tmp_path):
    out = run_with_exports(tmp_path, "--format", "json,speedscope")
    (tmp_path / "empty").mkdir()
    cases = [
        (["missing", "--to", "speedscope"], "no such output folder: 'missing'"),
        (
            ["out", "--to", "speedscope"],
            "no tree JSON (*.tree.json) in 'out': the exports are made from the call-graph "
            "trees, which are written while tree_output is on",
        ),
        (["empty", "--to", "pstats"], "no tree JSON (*.tree.json) in 'empty'"),
        (
            ["out", "--to", "speedscop"],
            "unknown format 'speedscop'; did you mean 'speedscope'? (the formats: pstats, "
            "speedscope, callgrind, perfetto)",
        ),
        (["out", "--to", "json"], "unknown format 'json' (the formats: pstats, speedscope"),
        (["out"], "the following arguments are required: -t/--to"),
    ]
    assert out.is_dir()
    for args, text in cases:
        proc = subprocess.run(
            [sys.executable, "-m", "timemory", "export", *args],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert_one_error_line(proc.stderr, "python -m timemory export", text)


def test_export_to_an_unwritable_place_is_one_line(tmp_path, describing_writers, capsys):
    out = run_with_exports(tmp_path)
    (tmp_path / "plain").write_text("a file, not a folder\n")
    status = _export_command.main([str(out), "--to", "pstats", "-o", str(tmp_path / "plain" / "x")])
    assert status == 2
    err = capsys.readouterr().err
    assert_one_error_line(
        err, "python -m timemory._output._export_command", f"cannot write '{tmp_path}/plain/x': "
    )


def test_export_of_a_format_that_holds_none_of_the_components_exits_1(
    tmp_path, describing_writers, monkeypatch, capsys
):
    out = run_with_exports(tmp_path)
    monkeypatch.setattr(sys.modules["timemory._output._pstats"], "stream_pstats", lambda src: None)
    status = _export_command.main(
        [str(out), "--to", "pstats,speedscope", "-o", str(tmp_path / "x")]
    )
    assert status == 1
    assert files_in(tmp_path / "x") == {"speedscope.json"}
    assert capsys.readouterr().err == f"timemory: 1 file in {tmp_path / 'x'}/\n"


def test_export_never_writes_through_a_planted_symlink(tmp_path, describing_writers):
    out = run_with_exports(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("keep\n")
    link = tmp_path / "planted.json"
    link.symlink_to(victim)
    assert _export_command.main([str(out), "--to", "speedscope", "-o", str(link)]) == 0
    assert victim.read_text() == "keep\n"
    assert not link.is_symlink()
    assert described(link)["kind"] == "loaded"


def test_timemory_export_of_this_process(tmp_path, describing_writers, output_settings):
    with pytest.raises(ValueError, match="^nothing was recorded: there is no data to export$"):
        timemory.export("pstats")
    record()
    settings.output_path = str(tmp_path / "default")
    written = timemory.export(["pstats", "speedscope"])
    assert written == [str(tmp_path / "default" / n) for n in ("pstats.prof", "speedscope.json")]
    description = described(tmp_path / "default" / "pstats.prof")
    assert description["kind"] == "live" and description["components"] == ["peak_rss", "wall_clock"]
    assert without_values(description)[1] == [1, 0, 1, "inner", [None, 3]]
    # a file of the user's, one component
    target = tmp_path / "mine" / "wall.prof"
    assert timemory.export("pstats", target, components=["wall_clock"]) == [str(target)]
    assert described(target)["components"] == ["wall_clock"]
    with pytest.raises(ValueError, match=r"^unknown format 'text' \(the formats: pstats, "):
        timemory.export("text")
    with pytest.raises(ValueError, match="did you mean 'wall_clock'"):
        timemory.export("pstats", components="wal_clock")
    with pytest.raises(
        ValueError,
        match=r"^no data of these components \(the components with data: peak_rss, wall_clock\)$",
    ):
        timemory.export("pstats", components="cpu_clock")


def test_timemory_export_of_a_saved_folder(tmp_path, describing_writers):
    out = run_with_exports(tmp_path)
    for name in FILES.values():
        (out / name).unlink()
    written = timemory.export("callgrind", source=out)
    assert written == [str(out / "callgrind.out.timemory")]
    assert described(out / "callgrind.out.timemory")["kind"] == "loaded"
    with pytest.raises(ValueError, match="^no such output folder: "):
        timemory.export("callgrind", source=tmp_path / "nothing")


# ------------------------------------------------------------------ the real writers
@pytest.mark.parametrize("name", EXPORTS)
def test_real_writer_at_exit_and_from_the_folder(name, tmp_path):
    if not _exports.available(name):
        pytest.skip(f"the {name} writer ({_exports.EXPORTS[name][2]}) is not in this build")
    write(
        tmp_path / "work.py",
        """\
        def fib(n):
            return n if n < 2 else fib(n - 1) + fib(n - 2)

        fib(12)
        """,
    )
    proc = run_tool(
        "timemory.profiler",
        "-c",
        "wall_clock",
        "peak_rss",
        "--format",
        f"tree,{name}",
        "-d",
        "out",
        "--",
        "work.py",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    at_exit = tmp_path / "out" / FILES[name]
    assert at_exit.stat().st_size > 0
    proc = subprocess.run(
        [sys.executable, "-m", "timemory", "export", "out", "--to", name, "-o", "later/"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stderr.splitlines()
    if name == "perfetto":  # a saved folder holds the call graph, not the timeline
        assert lines[0].startswith("[timemory]> no timeline was recorded"), proc.stderr
        lines = lines[1:]
    assert lines == ["timemory: 1 file in later/"]
    assert (tmp_path / "later" / FILES[name]).stat().st_size > 0


def test_export_command_help_names_the_files(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "timemory", "export", "--help"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    for name, file in FILES.items():
        assert any(line.split()[:2] == [name, file] for line in proc.stdout.splitlines()), name
    assert "while tree_output is on" in proc.stdout
