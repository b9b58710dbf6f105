"""The ``timemory`` command (``python -m timemory``) and the rough edges every command line
shares: ``--version``, did-you-mean for commands, options and components, the ``--`` hint
when a list option took the script, and a missing optional package in one line."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
import timemory
from timemory import _about, _cli, _command, _components
from tool_helpers import clean_env, write

ROOT = Path(__file__).parents[1]
VERSION = f"timemory {timemory.version} (Python {platform.python_version()})"
SCRIPT = """\
import sys


def work(n):
    return sum(i * i for i in range(n))


print("result", work(1000), sys.argv[1:])
sys.exit(3)
"""


def timemory_cmd(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120):
    """``python -m timemory args...`` in ``cwd``."""
    return subprocess.run(
        [sys.executable, "-m", "timemory", *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line(err: str, prefix: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prefix}: error: "), err
    assert "Traceback (most recent call last)" not in err
    return lines[0]


def console_script(name: str) -> Path:
    exe = Path(sys.executable).with_name(name)
    if not exe.exists():
        pytest.skip(f"the {name} console script is not installed next to this interpreter")
    return exe


# ------------------------------------------------------------------------ the dispatcher


def test_help_lists_every_command_with_its_line(tmp_path):
    proc = timemory_cmd("--help", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stderr == ""
    for name, (module, about) in _command.COMMANDS.items():
        assert re.search(rf"^  {name} +{re.escape(about)}$", proc.stdout, re.M), name
        # and what it is the same as
        assert f"{name} = {module.removesuffix('.__main__')}" in proc.stdout
    assert proc.stdout.startswith("usage: python -m timemory <command>")


def test_no_command_prints_the_help_on_stderr_with_status_2(tmp_path):
    proc = timemory_cmd(cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("usage: python -m timemory <command>")
    assert all(f"\n  {name} " in proc.stderr for name in _command.COMMANDS)


@pytest.mark.parametrize("command", list(_command.COMMANDS))
def test_each_command_has_help_under_its_new_name(command, tmp_path):
    proc = timemory_cmd(command, "--help", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    # the tool's own help, naming itself as it was run
    assert re.match(rf"usage: python -m timemory {command}\b", proc.stdout), proc.stdout[:200]
    assert "--version" in proc.stdout


def test_help_subcommand_is_the_commands_help(capsys):
    assert _command.main(["help", "trace"]) == 0
    assert capsys.readouterr().out.startswith("usage: timemory trace ")
    assert _command.main(["help"]) == 0
    assert capsys.readouterr().out.startswith("usage: timemory <command>")
    assert _command.main(["help", "trac"]) == 2
    assert "did you mean 'trace'?" in one_line(capsys.readouterr().err, "timemory")


def in_process_version(argv: list[str], capsys) -> tuple[int, str]:
    try:
        status = _command.main(argv)
    except SystemExit as done:  # the listings' plain argparse exits
        status = int(done.code or 0)
    out, err = capsys.readouterr()
    assert err == ""
    return status, out


@pytest.mark.parametrize("command", list(_command.COMMANDS))
def test_version_of_every_command(command, capsys):
    assert in_process_version([command, "--version"], capsys) == (0, VERSION + "\n")


def test_version_of_the_dispatcher(capsys):
    assert in_process_version(["--version"], capsys) == (0, VERSION + "\n")


@pytest.mark.parametrize("module", sorted({m for m, _ in _command.COMMANDS.values()}))
def test_version_of_every_python_m_form(module, tmp_path):
    name = module.removesuffix(".__main__")
    proc = subprocess.run(
        [sys.executable, "-m", name, "--version"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, VERSION + "\n", "")


def test_console_scripts_version(tmp_path):
    for name in ("timemory", "timemory-python-profiler", "timemory-python-line-profiler"):
        proc = subprocess.run(
            [str(console_script(name)), "--version"],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (proc.returncode, proc.stdout) == (0, VERSION + "\n"), (name, proc.stderr)


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["profle"], "unknown command 'profle'; did you mean 'profile'?"),
        (["setings"], "unknown command 'setings'; did you mean 'settings'?"),
        (["--vers"], "unknown option '--vers'; did you mean '--version'?"),
        (["script.py"], "unknown command 'script.py'; did you mean `timemory profile script.py`?"),
        (["zzz"], "unknown command 'zzz' (the commands: profile, trace, lines, plot,"),
    ],
)
def test_unknown_command_is_one_line_naming_the_commands(argv, text, capsys):
    assert _command.main(argv) == 2
    out, err = capsys.readouterr()
    line = one_line(err, "timemory")
    assert out == "" and text in line
    assert line.endswith(f"the commands: {', '.join(_command.COMMANDS)})")


def test_profile_end_to_end(tmp_path):
    write(tmp_path / "script.py", SCRIPT)
    plain = subprocess.run(
        [sys.executable, "script.py", "a", "b"], cwd=tmp_path, capture_output=True, timeout=120
    )
    proc = timemory_cmd("profile", "-d", "out", "--", "script.py", "a", "b", cwd=tmp_path)
    # the program's exit status and stdout, as without the profiler
    assert proc.returncode == plain.returncode == 3, proc.stderr
    assert plain.stdout.decode() == "result 332833500 ['a', 'b']\n"
    # the program's line (the tool's own messages go to stderr once they all do)
    assert "result 332833500 ['a', 'b']" in proc.stdout.splitlines()
    wall = json.loads((tmp_path / "out" / "wall.json").read_text())
    labels = [e["prefix"] for e in wall["timemory"]["wall_clock"]["ranks"][0]["graph"]]
    assert any("work" in label for label in labels), labels


def test_the_timemory_console_script_runs_the_profiler(tmp_path):
    exe = console_script("timemory")
    write(tmp_path / "script.py", SCRIPT)
    proc = subprocess.run(
        [str(exe), "profile", "-d", "out", "--", "script.py", "x"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stderr
    assert "result 332833500 ['x']" in proc.stdout.splitlines()
    assert (tmp_path / "out" / "wall.json").is_file()
    proc = subprocess.run(
        [str(exe), "profile", "--bogus"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr == "timemory profile: error: unrecognized arguments: --bogus\n"


def test_the_dispatcher_imports_no_tool_until_one_runs(run_python):
    code = """
import json, sys
import timemory
before = set(sys.modules)
from timemory import _command
_command.main(["--help"])
_command.main(["--version"])
_command.main(["profle"])
print(json.dumps(sorted(set(sys.modules) - before)))
"""
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr
    added = json.loads(proc.stdout.strip().splitlines()[-1])
    # beyond `import timemory`: the dispatcher, its messages and difflib (for the mistake)
    own = [m for m in added if m.startswith("timemory")]
    assert own == ["timemory._about", "timemory._command"], added
    assert "argparse" not in added


# ------------------------------------------------------------------------ components


def test_a_misspelled_component_is_one_short_line_with_the_closest_name():
    with pytest.raises(ValueError) as err:
        _components.resolve("wal_clock")
    count = sum(1 for i in timemory._core.component_table() if i["available"] and i["class_name"])
    assert str(err.value) == (
        "Unknown component: 'wal_clock'; did you mean 'wall_clock'? "
        f"(`timemory settings --components` lists all {count})"
    )
    assert err.value.__cause__ is None and err.value.__suppress_context__
    # any spelling the resolver takes (class names, aliases) leads to the component's name
    with pytest.raises(ValueError, match=r"did you mean 'peak_rss'\?"):
        _components.resolve(["wall_clock", "PeakRs"])
    with pytest.raises(ValueError, match=r"did you mean 'cpu_util'\?"):
        _components.resolve("cpu_utilisation")


@pytest.mark.parametrize("name", ["zzzzzz", "no_such_clock"])
def test_an_unknown_component_with_nothing_close_names_common_ones(name):
    with pytest.raises(ValueError) as err:
        _components.resolve(name)
    message = str(err.value)
    assert message.startswith(f"Unknown component: '{name}' (e.g. wall_clock, cpu_clock, peak_rss;")
    assert len(message) < 150 and "did you mean" not in message


def test_other_resolver_errors_are_unchanged():
    with pytest.raises(ValueError, match="Unknown component index 100000"):
        _components.resolve(100000)
    with pytest.raises(TypeError):
        _components.resolve(1.5)


def test_the_components_listing_has_every_suggested_name(capsys):
    from timemory.settings.__main__ import main

    assert main(["--components"]) == 0
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines()[1:] if line and " " in line]
    available = [i for i in timemory._core.component_table() if i["available"] and i["class_name"]]
    assert rows[: len(available)] == [i["key"] for i in available]
    assert "wall_clock" in rows and "real_clock" in out  # an alias, in the ALSO column
    assert main(["--components", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {i["key"] for i in listed if i["available"]} == {i["key"] for i in available}


@pytest.mark.parametrize("command", ["profile", "trace"])
def test_a_misspelled_component_on_the_command_line(command, tmp_path):
    write(tmp_path / "script.py", SCRIPT)
    proc = timemory_cmd(command, "-c", "wal_clock", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    line = one_line(proc.stderr, f"python -m timemory {command}")
    assert "Unknown component: 'wal_clock'; did you mean 'wall_clock'?" in line
    assert len(line) < 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]  # nothing ran


# ------------------------------------------------------------------------ options


def test_a_misspelled_option_gets_a_did_you_mean():
    parser = _cli.ArgumentParser(prog="tool")
    parser.add_argument("--components", nargs="+")
    parser.add_argument("--output-dir")
    with pytest.raises(_cli.CliError) as err:
        parser.parse_args(["--compnents", "wall_clock"])
    assert err.value.message == (
        "unrecognized arguments: --compnents wall_clock (did you mean '--components'?)"
    )
    with pytest.raises(_cli.CliError) as err:
        parser.parse_args(["--outpt-dir=x"])
    assert err.value.message.endswith("(did you mean '--output-dir'?)")
    with pytest.raises(_cli.CliError) as err:  # nothing close: argparse's message as it is
        parser.parse_args(["--bogus"])
    assert err.value.message == "unrecognized arguments: --bogus"


def test_version_can_be_left_out_and_is_in_every_tool_parser():
    assert "--version" not in _cli.ArgumentParser(add_version=False)._option_string_actions
    from timemory.profiler.__main__ import build_parser

    assert "--version" in build_parser()._option_string_actions


def test_the_listings_report_an_option_error_in_one_line(tmp_path):
    proc = timemory_cmd("settings", "--chnged", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    line = one_line(proc.stderr, "python -m timemory settings")
    assert line.endswith("unrecognized arguments: --chnged (did you mean '--changed'?)")


# ------------------------------------------------------------------------ the -- hint


@pytest.mark.parametrize("module", ["timemory.profiler.__main__", "timemory.trace.__main__"])
@pytest.mark.parametrize("script", ["script.py", "missing.py"])
def test_a_script_taken_as_a_component_gets_the_double_dash_hint(
    module, script, tmp_path, monkeypatch, capsys
):
    import importlib

    main = importlib.import_module(module).main
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "script.py", SCRIPT)
    assert main(["-c", "wall_clock", "cpu_clock", script, "a"]) == 2
    prog = "python -m " + module.removesuffix(".__main__")
    line = one_line(capsys.readouterr().err, prog)
    assert f"put -- between the options and the script {script!r}" in line
    fixed = re.search(r"`[^`]* (-c wall_clock cpu_clock -- [^`]*)`$", line)
    assert fixed and fixed.group(1) == f"-c wall_clock cpu_clock -- {script} a", line
    if script == "script.py":
        # the command line the hint gives runs
        assert main(fixed.group(1).split()) == 3
        assert "result 332833500 ['a']" in capsys.readouterr().out.splitlines()


def test_an_option_value_that_is_no_script_keeps_the_usual_message(tmp_path, monkeypatch, capsys):
    from timemory.profiler.__main__ import main

    monkeypatch.chdir(tmp_path)
    assert main(["-c", "wall_clock", "cpu_clock"]) == 2
    line = one_line(capsys.readouterr().err, "python -m timemory.profiler")
    assert "no script to profile: give one" in line and "put --" not in line


def test_the_line_profiler_hint_for_a_script_after_its_single_component(
    tmp_path, monkeypatch, capsys
):
    from timemory.line_profiler.__main__ import main

    monkeypatch.chdir(tmp_path)
    assert main(["-c", "wall_clock", "script.py"]) == 2
    line = one_line(capsys.readouterr().err, "python -m timemory.line_profiler")
    assert "(put -- between the options and the script 'script.py')" in line


# ------------------------------------------------------------------------ missing extras


@pytest.fixture
def without_line_profiler(tmp_path):
    """An environment where ``import line_profiler`` fails (a sitecustomize blocks it)."""
    site = tmp_path / "site"
    write(site / "sitecustomize.py", "import sys\nsys.modules['line_profiler'] = None\n")
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": path}


def assert_names_the_extra(line: str) -> None:
    assert "timemory.line_profiler needs the line_profiler package" in line
    assert "pip install line_profiler" in line and "its 'line' extra: pip install '" in line
    # never a PyPI install of the other project that owns the name timemory there
    assert not re.search(r"pip install '?timemory\[", line), line


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        (["-m", "timemory.line_profiler", "--help"], "python -m timemory.line_profiler"),
        (["-m", "timemory.line_profiler", "--", "s.py"], "python -m timemory.line_profiler"),
        (["-m", "timemory", "lines", "--help"], "python -m timemory lines"),
    ],
)
def test_a_missing_line_profiler_is_one_line_naming_the_extra(
    argv, prog, without_line_profiler, tmp_path
):
    if sys.version_info < (3, 10) and argv[1] != "timemory":
        pytest.skip("python -m reports it in its own line before 3.10 (no sys.orig_argv)")
    proc = subprocess.run(
        [sys.executable, *argv],
        cwd=tmp_path,
        env=clean_env(without_line_profiler),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and proc.stdout == ""
    assert_names_the_extra(one_line(proc.stderr, prog))


def test_the_line_profiler_console_script_without_line_profiler(without_line_profiler, tmp_path):
    exe = console_script("timemory-python-line-profiler")
    proc = subprocess.run(
        [str(exe), "--help"],
        cwd=tmp_path,
        env=clean_env(without_line_profiler),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert_names_the_extra(one_line(proc.stderr, "timemory-python-line-profiler"))


def test_importing_it_raises_one_import_error_without_a_chain(run_python):
    proc = run_python(
        "import sys\n"
        "sys.modules['line_profiler'] = None\n"
        "try:\n"
        "    import timemory.line_profiler\n"
        "except ImportError as err:\n"
        "    print(type(err).__name__, err.name, err.__cause__, err.__suppress_context__)\n"
        "    print(err)\n"
    )
    assert proc.returncode == 0, proc.stderr
    kind, message = proc.stdout.splitlines()[-2:]
    assert kind == "MissingPackage timemory.line_profiler None True"
    assert_names_the_extra(message)


def test_a_missing_mpi4py_names_the_mpi_extra(run_python):
    proc = run_python(
        "import sys\n"
        "sys.modules['mpi4py'] = None\n"
        "from timemory import mpi\n"
        "try:\n"
        "    mpi.init()\n"
        "except ImportError as err:\n"
        "    print(err)\n"
    )
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.splitlines()[-1]
    assert line.startswith("timemory.mpi needs the mpi4py package, which is not installed: ")
    assert "pip install 'mpi4py>=4' 'mpich>=4.1'" in line and "its 'mpi' extra" in line


def test_the_extras_are_pyprojects():
    text = (ROOT / "pyproject.toml").read_text()
    for extra, requirements in _about.EXTRAS.items():
        listed = re.search(rf"^{extra} = \[(.*)\]$", text, re.M)
        assert listed, extra
        assert tuple(json.loads(f"[{listed.group(1)}]")) == requirements


def test_the_source_folder_is_named_only_when_it_holds_the_project(monkeypatch, tmp_path):
    from importlib import metadata

    class Dist:
        def __init__(self, url: str) -> None:
            self.url = url

        def read_text(self, name: str) -> str:
            return json.dumps({"url": self.url, "dir_info": {}})

    (tmp_path / "pyproject.toml").write_text("[project]\n")
    monkeypatch.setattr(metadata, "distribution", lambda name: Dist(tmp_path.as_uri()))
    assert f"pip install '{tmp_path}[plot]'" in _about.install_hint("plot")
    monkeypatch.setattr(metadata, "distribution", lambda name: Dist((tmp_path / "x").as_uri()))
    assert "pip install '<timemory source folder>[plot]'" in _about.install_hint("plot")
    monkeypatch.setattr(metadata, "distribution", lambda name: Dist("https://example.org/t.whl"))
    assert "pip install '<timemory source folder>[plot]'" in _about.install_hint("plot")
