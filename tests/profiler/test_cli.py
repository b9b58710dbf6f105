"""``python -m timemory.profiler``: in-process through ``main(argv)`` for the
argument handling, end to end in a subprocess for everything that runs a program."""

from __future__ import annotations

import builtins
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import timemory
import tool_helpers
from timemory import settings
from timemory.profiler.__main__ import build_parser, main
from tool_helpers import clean_env, run_tool, write

PROG = "python -m timemory.profiler"
ALL_FILES = {
    "wall.txt",
    "wall.json",
    "wall.tree.json",
    "wall.flamegraph.json",
    "metadata.json",
    "functions.json",
}

FIB = """\
import sys


def fibonacci(n):
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def main():
    print("result", fibonacci(int(sys.argv[1]) if len(sys.argv) > 1 else 20))


main()
"""
FIB_DEF_LINE = 4  # the line of `def fibonacci` above

DECORATED = """\
@profile
def work():
    return sum(range(1000))


def other():
    return 2


@noprofile
def quiet():
    return 3


work()
other()
quiet()
"""


# ------------------------------------------------------------------ helpers
def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_tool("timemory.profiler", *args, cwd=cwd, env=env)


_DECOR = re.compile(r"^(\|\d+)*>>> (\s*\|_)?")


def flat_labels(folder: Path, key: str = "wall_clock", name: str = "wall") -> list[str]:
    data = json.loads((folder / f"{name}.json").read_text())
    graph = data["timemory"][key]["ranks"][0]["graph"]
    return [_DECOR.sub("", entry["prefix"], count=1) for entry in graph]


def tree_nodes(folder: Path, name: str = "wall", key: str = "wall_clock") -> list[dict]:
    """Every non-root node of the tree JSON."""
    data = json.loads((folder / f"{name}.tree.json").read_text())
    out: list[dict] = []

    def visit(tree: dict) -> None:
        out.append(tree["node"])
        for child in tree.get("children", []):
            visit(child)

    for rank in data["timemory"][key]["graph"]:
        for root in rank:
            for child in root["children"]:
                visit(child)
    return out


def tree_labels(folder: Path) -> set[str]:
    return {node["prefix"] for node in tree_nodes(folder)}


def assert_one_error_line(proc_or_err: subprocess.CompletedProcess | str, text: str) -> None:
    err = proc_or_err if isinstance(proc_or_err, str) else proc_or_err.stderr
    tool_helpers.assert_one_error_line(err, PROG, text)


# ------------------------------------------------------------------ in-process: arguments
def test_help_documents_every_option(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    # flags only: Python 3.13's argparse no longer repeats the metavar after each short flag
    for option in (
        "-c",
        "--components",
        "-d",
        "--output-dir",
        "-b",
        "--builtin",
        "-s",
        "--setup",
        "--trace-c",
        "-a",
        "--include-args",
        "-l",
        "--include-line",
        "-f",
        "--include-file",
        "-F",
        "--full-filepath",
        "-m",
        "--max-stack-depth",
        "--skip-funcs",
        "--skip-files",
        "--only-funcs",
        "--only-files",
        "-v",
        "--verbosity",
    ):
        assert re.search(rf"(^|[\s,\[]){re.escape(option)}\b", out, re.M), option
    assert "-m module" in out
    for action in build_parser()._actions:  # a real sentence each
        assert action.help and len(action.help.split()) >= 5, action.option_strings


def test_no_arguments(capsys):
    assert main([]) == 2
    assert_one_error_line(capsys.readouterr().err, "no script to profile")


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        (["--bogus", "--", "x.py"], "unrecognized arguments: --bogus"),
        (["-c"], "argument -c/--components: expected at least one argument"),
        (["-v", "loud", "--", "x.py"], "argument -v/--verbosity: invalid int value: 'loud'"),
        (["-f", "maybe", "--", "x.py"], "argument -f/--include-file: expected a boolean"),
        (["-m", "0", "--", "x.py"], "argument -m/--max-stack-depth: must be at least 1, got 0"),
        (["-m", "-1", "--", "x.py"], "must be at least 1"),
        (["--only-funcs", "(", "--", "x.py"], "invalid regular expression '('"),
        (["-c", "wall_clock", "--"], "no script to profile"),
    ],
)
def test_usage_errors(capsys, argv, text):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert_one_error_line(captured.err, text)
    assert captured.out == ""


def test_options_need_the_separator(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "script.py", "pass\n")
    assert main(["-c", "wall_clock", "script.py"]) == 2  # script.py read as a component
    assert_one_error_line(capsys.readouterr().err, "no script to profile")
    assert main(["-b", "script.py"]) == 2
    assert_one_error_line(
        capsys.readouterr().err, "(put -- between the options and the script 'script.py')"
    )


def test_missing_script_in_process(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["nope.py"]) == 2
    assert_one_error_line(capsys.readouterr().err, "cannot run 'nope.py': no such file")
    assert main(["-s", "nosetup.py", "--", "nope.py"]) == 2
    assert_one_error_line(capsys.readouterr().err, "cannot run 'nope.py'")
    write(tmp_path / "script.py", "pass\n")
    assert main(["-s", "nosetup.py", "--", "script.py"]) == 2
    assert_one_error_line(capsys.readouterr().err, "argument -s/--setup: cannot run 'nosetup.py'")
    assert not any(p.name.startswith("timemory-") for p in tmp_path.iterdir())


def test_unknown_component_in_process(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "script.py", "pass\n")
    assert main(["-c", "wall_clock", "no_such_clock", "--", "script.py"]) == 2
    assert_one_error_line(capsys.readouterr().err, "'no_such_clock'")


def test_unknown_module_in_process(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["-m", "cli_test_no_such_module"]) == 2
    assert_one_error_line(capsys.readouterr().err, "no module named 'cli_test_no_such_module'")


def test_entry_point_is_main():
    from importlib import import_module

    assert import_module("timemory.profiler.__main__").main is main


@pytest.fixture
def in_process_run(tmp_path, monkeypatch):
    """Lets ``main`` run a program in this process: writing goes through ``report`` into
    ``tmp_path/out`` (``finalize`` runs once per process; the session's own must still work)
    and the settings ``main`` changes are put back."""
    out = tmp_path / "out"
    monkeypatch.setattr(timemory._lifecycle, "finalize", lambda: timemory.report(str(out)))
    names = ("output_path", "command_line", "checkpoint_interval")  # 0 again ends the thread
    saved = {name: getattr(settings, name) for name in names}
    monkeypatch.chdir(tmp_path)
    yield out
    for name, value in saved.items():
        setattr(settings, name, value)


def test_in_process_run_restores_the_interpreter(tmp_path, in_process_run, capsys):
    write(tmp_path / "script.py", DECORATED + "import sys\nsys.exit(5)\n")
    main_module, argv, path = sys.modules["__main__"], list(sys.argv), list(sys.path)
    assert not hasattr(builtins, "profile")

    assert main(["script.py"]) == 5

    # the conftest fails the test if a profile hook is left installed
    for name in ("profile", "trace", "noprofile", "notrace"):
        assert not hasattr(builtins, name), name
    assert sys.modules["__main__"] is main_module
    assert sys.argv == argv and sys.path == path
    assert settings.cout_output is False  # the session's value is back
    captured = capsys.readouterr()
    # timemory's lines on stderr: the start banner only at verbose >= 1, the folder line last
    assert "[timemory]> profiling" not in captured.out + captured.err
    assert "timemory: " not in captured.out
    assert captured.err.splitlines()[-1].startswith("timemory: ")
    assert {"work", "other", "quiet"} <= set(flat_labels(in_process_run))


# ------------------------------------------------------------------ end to end
def test_script_without_options(tmp_path):
    write(tmp_path / "script.py", FIB)
    proc = cli("script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "result 6765\n"  # the program's output alone
    folder = tmp_path / "timemory-script-output"
    assert ALL_FILES <= {p.name for p in folder.iterdir()}
    lines = proc.stderr.splitlines()
    assert "result 6765" in proc.stdout.splitlines()
    # the short summary, not the full tables, nor a banner or a line per file
    assert "REAL-CLOCK TIMER" not in proc.stderr
    assert "profiling" not in proc.stderr and "Outputting" not in proc.stderr
    # <module script.py> (the script's top-level code), main, fibonacci
    assert "[timemory]> wall_clock: 3 labels by self time" in [x.split(",")[0] for x in lines]
    row = next(line.split() for line in lines if line.strip().startswith("fibonacci"))
    assert row[1] == "21891"
    assert lines[-1] == f"timemory: {len(ALL_FILES)} files in timemory-script-output/"


def test_fibonacci_call_count(tmp_path):
    write(tmp_path / "script.py", FIB)
    proc = cli("script.py", "20", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "timemory-script-output"
    nodes = [n for n in tree_nodes(folder) if n["prefix"] == "fibonacci"]
    assert len(nodes) > 1  # one per recursion depth
    assert sum(n["inclusive"]["entry"]["laps"] for n in nodes) == 21891
    flat = json.loads((folder / "wall.json").read_text())["timemory"]["wall_clock"]
    counts = [
        e["stats"]["count"]
        for e in flat["ranks"][0]["graph"]
        if _DECOR.sub("", e["prefix"], count=1) == "fibonacci"
    ]
    assert sum(counts) == 21891


def test_components_and_arguments(tmp_path):
    write(
        tmp_path / "script.py",
        """\
        import json, sys
        def work():
            return sum(range(10000))
        work()
        print("ARGV", json.dumps(sys.argv))
        """,
    )
    proc = cli("-c", "wall_clock", "cpu_clock", "--", "script.py", "a", "-b", "--", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("ARGV "))
    assert json.loads(line[5:]) == ["script.py", "a", "-b", "--"]
    folder = tmp_path / "timemory-script-output"
    names = {p.name for p in folder.iterdir()}
    assert ALL_FILES | {"cpu.json", "cpu.tree.json", "cpu.txt"} <= names
    assert "work" in flat_labels(folder, "cpu_clock", "cpu")
    assert "[timemory]> cpu_clock: " in proc.stderr


def test_components_from_the_environment(tmp_path):
    write(tmp_path / "script.py", FIB)
    proc = cli("script.py", "5", cwd=tmp_path, env={"TIMEMORY_PROFILER_COMPONENTS": "cpu_clock"})
    assert proc.returncode == 0, proc.stderr
    names = {p.name for p in (tmp_path / "timemory-script-output").iterdir()}
    assert "cpu.json" in names and "wall.json" not in names
    assert "fibonacci" in flat_labels(tmp_path / "timemory-script-output", "cpu_clock", "cpu")


def test_the_program_sees_itself_as_main(tmp_path):
    script = write(
        tmp_path / "sub" / "spy.py",
        """\
        import json, sys
        print("SEEN", json.dumps([__name__, __file__, sys.path[0], sys.argv, __spec__]))
        """,
    )
    proc = cli("sub/spy.py", "x", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SEEN "))
    assert json.loads(line[5:]) == [
        "__main__",
        str(script),
        os.path.realpath(tmp_path / "sub"),
        ["sub/spy.py", "x"],
        None,
    ]


def test_output_dir_option(tmp_path):
    write(tmp_path / "script.py", FIB)
    proc = cli("-d", "results/here", "--", "script.py", "5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ALL_FILES <= {p.name for p in (tmp_path / "results" / "here").iterdir()}
    assert not (tmp_path / "timemory-script-output").exists()
    assert proc.stderr.splitlines()[-1].endswith(" files in results/here/")


def test_output_path_from_the_environment(tmp_path):
    write(tmp_path / "script.py", FIB)
    env = {"TIMEMORY_OUTPUT_PATH": str(tmp_path / "from-env")}
    proc = cli("script.py", "5", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert ALL_FILES <= {p.name for p in (tmp_path / "from-env").iterdir()}
    assert not (tmp_path / "timemory-script-output").exists()
    # -d wins over the environment
    proc = cli("-d", "explicit", "--", "script.py", "5", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert ALL_FILES <= {p.name for p in (tmp_path / "explicit").iterdir()}


def test_default_output_folder_is_named_after_the_script(tmp_path):
    write(tmp_path / "my_long_script.py", FIB)
    proc = cli("my_long_script.py", "5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "timemory-my-long-script-output" / "wall.json").is_file()


EXITS = """\
import sys


def work():
    return sum(range(1000))


def fail():
    raise RuntimeError("boom")


work()
mode = sys.argv[1]
if mode == "exit3":
    sys.exit(3)
if mode == "text":
    sys.exit("stopped by the program")
if mode == "raise":
    fail()
"""


def test_exit_status_is_passed_through(tmp_path):
    write(tmp_path / "script.py", EXITS)
    proc = cli("-q", "--", "script.py", "exit3", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == ""  # -q: nothing but errors
    folder = tmp_path / "timemory-script-output"
    assert ALL_FILES <= {p.name for p in folder.iterdir()}
    assert "work" in flat_labels(folder)


def test_exit_with_a_message(tmp_path):
    write(tmp_path / "script.py", EXITS)
    proc = cli("-q", "--", "script.py", "text", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == "stopped by the program\n"
    assert (tmp_path / "timemory-script-output" / "wall.json").is_file()


def test_uncaught_exception(tmp_path):
    script = write(tmp_path / "script.py", EXITS)
    proc = cli("-q", "--", "script.py", "raise", cwd=tmp_path)
    assert proc.returncode == 1
    err = proc.stderr
    assert err.startswith("Traceback (most recent call last):\n"), err
    assert f'File "{script}", line 19, in <module>' in err
    assert f'File "{script}", line 9, in fail' in err
    assert err.rstrip().endswith("RuntimeError: boom")
    assert "timemory" not in err  # no frame of the tool
    folder = tmp_path / "timemory-script-output"
    assert ALL_FILES <= {p.name for p in folder.iterdir()}
    assert {"work", "fail"} <= set(flat_labels(folder))
    assert proc.stdout == ""


def test_ctrl_c(interrupted_tool, tmp_path):
    proc = interrupted_tool(["-m", "timemory.profiler", "-q", "--"])
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 130, err
    assert err == "KeyboardInterrupt\n"  # -q: Python's line alone
    folder = tmp_path / "timemory-script-output"
    assert ALL_FILES <= {p.name for p in folder.iterdir()}
    assert "nap" in flat_labels(folder)
    assert "timemory" not in out


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--bogus", "--", "script.py"], "unrecognized arguments: --bogus"),
        (["-c", "no_such_clock", "--", "script.py"], "Unknown component: 'no_such_clock'"),
        (["missing.py"], "cannot run 'missing.py': no such file"),
        (["-m", "cli_test_no_such_module"], "no module named 'cli_test_no_such_module'"),
    ],
)
def test_errors_end_to_end(tmp_path, args, text):
    write(tmp_path / "script.py", FIB)
    proc = cli(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert_one_error_line(proc, text)
    assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]  # nothing written


def test_syntax_error(tmp_path):
    write(tmp_path / "script.py", "def broken(:\n")
    proc = cli("script.py", cwd=tmp_path)
    assert proc.returncode == 1
    assert "SyntaxError" in proc.stderr and "Traceback (most recent call last)" not in proc.stderr


def test_bare_profile_decorators_without_builtin(tmp_path):
    write(tmp_path / "script.py", DECORATED)
    proc = cli("script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "timemory-script-output"
    # the whole program is profiled; @noprofile does nothing
    assert {"work", "other", "quiet"} <= set(flat_labels(folder))
    assert {"work", "other", "quiet"} <= tree_labels(folder)


def test_builtin_mode_profiles_only_decorated_functions(tmp_path):
    write(tmp_path / "script.py", DECORATED)
    proc = cli("-b", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "timemory-script-output"
    assert flat_labels(folder) == ["work"]
    assert tree_labels(folder) == {"work"}


def test_builtin_mode_with_the_context_manager(tmp_path):
    write(
        tmp_path / "script.py",
        """\
        def inside():
            return 1


        def outside():
            return 2


        outside()
        with profile:
            inside()
        outside()
        """,
    )
    proc = cli("-b", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert flat_labels(tmp_path / "timemory-script-output") == ["inside"]


def test_run_a_module(tmp_path):
    module = write(
        tmp_path / "cli_test_module.py",
        """\
        import json, sys


        def compute():
            return sum(range(1000))


        compute()
        print("SEEN", json.dumps([__name__, __file__, sys.argv, sys.path[0]]))
        """,
    )
    proc = cli("-f", "-m", "cli_test_module", "a", "-v", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SEEN "))
    assert json.loads(line[5:]) == [
        "__main__",
        str(module),
        [str(module), "a", "-v"],  # -v is the module's, as with python -m
        str(tmp_path),
    ]
    assert proc.stdout == line + "\n"  # the program's output alone
    folder = tmp_path / "timemory-cli-test-module-output"
    assert "[compute][cli_test_module.py]" in flat_labels(folder)


def test_run_a_package_main(tmp_path):
    write(tmp_path / "cli_test_pkg" / "__init__.py", "")
    write(
        tmp_path / "cli_test_pkg" / "__main__.py",
        """\
        def compute():
            return sum(range(1000))


        compute()
        """,
    )
    proc = cli("-m", "cli_test_pkg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "timemory-cli-test-pkg-output"
    assert "compute" in flat_labels(folder)


def fib_counts(folder: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for node in tree_nodes(folder):
        out[node["prefix"]] = out.get(node["prefix"], 0) + node["inclusive"]["entry"]["laps"]
    return out


def test_max_stack_depth_counts_from_the_programs_top_level(tmp_path):
    write(tmp_path / "script.py", FIB)
    folder = tmp_path / "timemory-script-output"
    proc = cli("-m", "1", "--", "script.py", "10", cwd=tmp_path)  # -m N: the depth
    assert proc.returncode == 0, proc.stderr
    # the script's top-level code is the root of the graph (level 0), then what it calls
    assert fib_counts(folder) == {"<module script.py>": 1, "main": 1}
    proc = cli("-m", "2", "--", "script.py", "10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert fib_counts(folder) == {"<module script.py>": 1, "main": 1, "fibonacci": 1}
    proc = cli("--max-stack-depth", "3", "--", "script.py", "10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert fib_counts(folder) == {"<module script.py>": 1, "main": 1, "fibonacci": 3}


def test_max_stack_depth_with_builtin_counts_from_the_decorated_function(tmp_path):
    write(
        tmp_path / "script.py",
        """\
        def inner():
            return 1


        def middle():
            return inner()


        @profile
        def outer():
            return middle()


        middle()
        outer()
        """,
    )
    proc = cli("-b", "-m", "2", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert fib_counts(tmp_path / "timemory-script-output") == {"outer": 1, "middle": 1}


def test_setup_file_runs_first_and_is_not_profiled(tmp_path):
    write(
        tmp_path / "setup.py",
        """\
        import builtins


        def prepare():
            builtins.PREPARED = "yes"


        prepare()
        """,
    )
    write(
        tmp_path / "script.py",
        """\
        def use():
            return PREPARED


        print("PREPARED", use())
        """,
    )
    proc = cli("-s", "setup.py", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "PREPARED yes" in proc.stdout.splitlines()
    labels = flat_labels(tmp_path / "timemory-script-output")
    assert "use" in labels and "prepare" not in labels


def test_setup_failure_stops_before_the_program(tmp_path):
    write(tmp_path / "setup.py", "import sys\nsys.exit(4)\n")
    write(tmp_path / "script.py", "print('RAN')\n")
    proc = cli("-s", "setup.py", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 4
    assert "RAN" not in proc.stdout
    assert "setup file 'setup.py' exited with status 4" in proc.stderr


def test_file_and_line_labels(tmp_path):
    write(tmp_path / "script.py", FIB)
    proc = cli("-f", "-l", "--", "script.py", "5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    labels = set(flat_labels(tmp_path / "timemory-script-output"))
    assert f"[fibonacci][script.py:{FIB_DEF_LINE}]" in labels
    assert "fibonacci" not in labels


def test_only_funcs(tmp_path):
    write(tmp_path / "script.py", FIB)
    proc = cli("--only-funcs", "^fib", "--", "script.py", "5", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert set(flat_labels(tmp_path / "timemory-script-output")) == {"fibonacci"}


def test_skip_files(tmp_path):
    write(tmp_path / "helper.py", "def helping():\n    return 1\n")
    write(
        tmp_path / "script.py",
        """\
        from helper import helping


        def mine():
            return helping()


        mine()
        """,
    )
    proc = cli("script.py", cwd=tmp_path)
    assert {"mine", "helping"} <= set(flat_labels(tmp_path / "timemory-script-output"))
    proc = cli("--skip-files", "helper\\.py$", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    labels = set(flat_labels(tmp_path / "timemory-script-output"))
    assert "mine" in labels and "helping" not in labels


def test_hatchet_reads_the_output_folder(tmp_path):
    hatchet = pytest.importorskip("hatchet")
    write(tmp_path / "script.py", FIB)
    proc = cli("script.py", "10", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    gf = hatchet.GraphFrame.from_timemory(str(tmp_path / "timemory-script-output"))
    df = gf.dataframe
    assert {"main", "fibonacci"} <= set(df["name"])
    fib_rows = df[df["name"] == "fibonacci"]
    assert fib_rows["count"].sum() == 177  # calls of fibonacci(10)


def test_console_script(tmp_path):
    exe = Path(sys.executable).with_name("timemory-python-profiler")
    if not exe.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    write(tmp_path / "script.py", FIB)
    proc = subprocess.run(
        [str(exe), "script.py", "5"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "timemory-script-output" / "wall.json").is_file()
    proc = subprocess.run(
        [str(exe), "--bogus"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr == "timemory-python-profiler: error: unrecognized arguments: --bogus\n"
