"""``python -m timemory.trace``: in-process through ``main(argv)`` for the
argument handling, end to end in a subprocess for everything that runs a program."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import tool_helpers
from timemory.trace import config
from timemory.trace.__main__ import build_parser, main
from tool_helpers import clean_env, run_tool, write

PROG = "python -m timemory.trace"
ALL_FILES = {
    "wall.txt",
    "wall.json",
    "wall.tree.json",
    "wall.flamegraph.json",
    "metadata.json",
    "functions.json",
}

LOOP = """\
import sys


def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


def main():
    print("result", work(int(sys.argv[1]) if len(sys.argv) > 1 else 10))


main()
"""

DECORATED = """\
@trace
def traced():
    x = 1
    return x


@profile
def profiled():
    y = 2
    return y


def other():
    z = 3
    return z


@notrace
def quiet():
    w = 4
    return w


traced()
profiled()
other()
quiet()
"""

EXITS = """\
import sys


def work():
    x = 1
    return x


def fail():
    raise RuntimeError("boom")


work()
mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode == "exit3":
    sys.exit(3)
if mode == "raise":
    fail()
"""


# ------------------------------------------------------------------ helpers
def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return run_tool("timemory.trace", *args, cwd=cwd, env=env)


def lines(folder: Path, key: str = "wall_clock", name: str = "wall") -> dict[str, int]:
    """label suffix ([func][file:NN]) -> laps, from the flat JSON."""
    data = json.loads((folder / f"{name}.json").read_text())
    out: dict[str, int] = {}
    for entry in data["timemory"][key]["ranks"][0]["graph"]:
        assert entry["depth"] == 0, entry["prefix"]
        suffix = "[" + entry["prefix"].rsplit(" [", 1)[1]
        out[suffix] = entry["entry"]["laps"]
    return out


def functions(folder: Path) -> set[str]:
    return {re.match(r"\[([^\]:]+)", s)[1] for s in lines(folder)}


def assert_one_error_line(err: str, text: str) -> None:
    tool_helpers.assert_one_error_line(err, PROG, text)


@pytest.fixture(autouse=True)
def _fresh_config():
    config.reset()
    yield
    config.reset()


# ------------------------------------------------------------------ in-process: arguments
def test_help_documents_every_option(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    options = [
        "-c --components",
        "-d --output-dir",
        "-b --builtin",
        "-s --setup",
        "-a --include-args",
        "-l --include-line",
        "-f --include-file",
        "-F --full-filepath",
        "--skip-funcs",
        "--skip-files",
        "--only-funcs",
        "--only-files",
        "-v --verbosity",
    ]
    for option in options:  # at the start of a help line: "  -l [BOOL], --include-line [BOOL]"
        pattern = r"^  " + r"\b.*".join(re.escape(flag) for flag in option.split()) + r"\b"
        assert re.search(pattern, out, re.M), option
    assert "-m module" in out
    # the profiler's options that a line tracer has no use for
    assert "--trace-c" not in out and "--max-stack-depth" not in out


def test_label_options_default_to_on():
    opts = build_parser().parse_args(["-l", "no"])
    assert opts.include_line is False and opts.include_file is None
    assert config.include_line is True and config.include_filename is True


@pytest.mark.parametrize(
    ("argv", "text"),
    [
        ([], "no script to trace"),
        (["--bogus", "--", "x.py"], "unrecognized arguments: --bogus"),
        (["--trace-c", "--", "x.py"], "unrecognized arguments: --trace-c"),
        (["-c", "no_such_clock", "--", "x.py"], "Unknown component: 'no_such_clock'"),
        (["-l", "maybe", "--", "x.py"], "expected a boolean"),
        (["--skip-funcs", "(", "--", "x.py"], "invalid regular expression"),
        (["missing.py"], "cannot run 'missing.py': no such file"),
        (["-m", "trace_cli_no_such_module"], "no module named 'trace_cli_no_such_module'"),
    ],
)
def test_usage_errors(tmp_path, monkeypatch, capsys, argv, text):
    write(tmp_path / "x.py", "pass\n")
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert_one_error_line(captured.err, text)
    if "Unknown component" in text:
        assert "wall_clock" in captured.err  # the valid choices


def test_options_need_the_separator(tmp_path, monkeypatch, capsys):
    write(tmp_path / "x.py", "pass\n")
    monkeypatch.chdir(tmp_path)
    assert main(["-b", "x.py"]) == 2
    assert_one_error_line(
        capsys.readouterr().err, "put -- between the options and the script 'x.py'"
    )


# ------------------------------------------------------------------ end to end
def test_script_without_options(tmp_path):
    write(tmp_path / "script.py", LOOP)
    proc = cli("script.py", "4", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "result 6\n"  # the program's output alone
    assert "[timemory]> tracing" not in proc.stderr  # the banner only at verbose >= 1
    folder = tmp_path / "timemory-script-output"
    assert ALL_FILES <= {p.name for p in folder.iterdir()}
    assert lines(folder) == {
        "[work][script.py:05]": 1,
        "[work][script.py:06]": 5,
        "[work][script.py:07]": 4,
        "[work][script.py:08]": 1,
        "[main][script.py:12]": 1,
        # the script's top-level lines are traced too (the <module> code was skipped before
        # issue 16): import, the two defs and the call of main()
        "[<module>][script.py:01]": 1,
        "[<module>][script.py:04]": 1,
        "[<module>][script.py:11]": 1,
        "[<module>][script.py:15]": 1,
    }
    assert proc.stderr.splitlines()[-1].startswith("timemory: ")
    assert proc.stderr.splitlines()[-1].endswith(" files in timemory-script-output/")


def test_components_and_label_options(tmp_path):
    write(tmp_path / "script.py", LOOP)
    proc = cli("-c", "wall_clock", "cpu_clock", "-f", "no", "--", "script.py", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "timemory-script-output"
    assert lines(folder, "cpu_clock", "cpu")["[work:06]"] == 4
    assert lines(folder)["[work:06]"] == 4
    proc = cli("-l", "no", "-a", "--", "script.py", "3", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # module-level code has no arguments to show
    assert set(lines(folder)) == {
        "[work(n=3)][script.py]",
        "[main()][script.py]",
        "[<module>][script.py]",
    }


def test_components_from_the_environment(tmp_path):
    write(tmp_path / "script.py", LOOP)
    proc = cli("script.py", cwd=tmp_path, env={"TIMEMORY_TRACE_COMPONENTS": "peak_rss"})
    assert proc.returncode == 0, proc.stderr
    files = {p.name for p in (tmp_path / "timemory-script-output").iterdir()}
    assert "peak_rss.json" in files and "wall.json" not in files


def test_output_dir_and_filters(tmp_path):
    write(tmp_path / "script.py", LOOP)
    proc = cli("-d", "out", "--skip-funcs", "^main$", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert functions(tmp_path / "out") == {"work", "<module>"}
    proc = cli("-d", "out2", "--only-funcs", "^main$", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert functions(tmp_path / "out2") == {"main"}


def test_exit_status_is_passed_through(tmp_path):
    write(tmp_path / "script.py", EXITS)
    proc = cli("-q", "--", "script.py", "exit3", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert proc.stderr == ""  # -q: nothing but errors
    folder = tmp_path / "timemory-script-output"
    assert ALL_FILES <= {p.name for p in folder.iterdir()}
    assert "work" in functions(folder)


def test_uncaught_exception(tmp_path):
    script = write(tmp_path / "script.py", EXITS)
    proc = cli("-q", "--", "script.py", "raise", cwd=tmp_path)
    assert proc.returncode == 1
    err = proc.stderr
    assert err.startswith("Traceback (most recent call last):\n"), err
    assert f'File "{script}", line 10, in fail' in err
    assert err.rstrip().endswith("RuntimeError: boom")
    assert "timemory" not in err
    assert {"work", "fail"} <= functions(tmp_path / "timemory-script-output")


def test_ctrl_c(interrupted_tool, tmp_path):
    proc = interrupted_tool(["-m", "timemory.trace", "-q", "--"])
    out, err = proc.stdout, proc.stderr
    assert proc.returncode == 130, err
    assert err == "KeyboardInterrupt\n"
    folder = tmp_path / "timemory-script-output"
    assert ALL_FILES <= {p.name for p in folder.iterdir()}
    assert lines(folder)["[nap][script.py:05]"] >= 1
    assert "timemory" not in out


def test_bare_decorators_trace_everything_without_builtin(tmp_path):
    write(tmp_path / "script.py", DECORATED)
    proc = cli("script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert functions(tmp_path / "timemory-script-output") == {
        "traced",
        "profiled",
        "other",
        "quiet",
        "<module>",  # the script's top-level lines
    }


def test_builtin_mode_traces_only_decorated_functions(tmp_path):
    write(tmp_path / "script.py", DECORATED)
    proc = cli("-b", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # @trace and @profile are the tracer, @notrace does nothing
    assert lines(tmp_path / "timemory-script-output") == {
        "[traced][script.py:03]": 1,
        "[traced][script.py:04]": 1,
        "[profiled][script.py:09]": 1,
        "[profiled][script.py:10]": 1,
    }


def test_builtin_mode_with_the_context_manager(tmp_path):
    write(
        tmp_path / "script.py",
        """\
        def inside():
            return 1


        def outside():
            return 2


        outside()
        with trace:
            inside()
        outside()
        """,
    )
    proc = cli("-b", "--", "script.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # the block's own top-level lines are traced as well as what they call (the `with` line
    # once: its exit, which runs while tracing)
    assert lines(tmp_path / "timemory-script-output") == {
        "[<module>][script.py:10]": 1,
        "[<module>][script.py:11]": 1,
        "[inside][script.py:02]": 1,
    }


def test_run_a_module(tmp_path):
    write(tmp_path / "trace_cli_module.py", LOOP)
    proc = cli("-m", "trace_cli_module", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "result 1" in proc.stdout
    folder = tmp_path / "timemory-trace-cli-module-output"
    assert lines(folder)["[work][trace_cli_module.py:07]"] == 2


def test_errors_end_to_end(tmp_path):
    write(tmp_path / "script.py", LOOP)
    for args, text in [
        (["--bogus", "--", "script.py"], "unrecognized arguments: --bogus"),
        (["-c", "no_such_clock", "--", "script.py"], "Unknown component: 'no_such_clock'"),
        (["missing.py"], "cannot run 'missing.py': no such file"),
    ]:
        proc = cli(*args, cwd=tmp_path)
        assert proc.returncode == 2
        assert_one_error_line(proc.stderr, text)
        assert proc.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["script.py"]  # nothing written


def test_console_script(tmp_path):
    exe = Path(sys.executable).with_name("timemory-python-trace")
    if not exe.exists():
        pytest.skip("the console script is not installed next to this interpreter")
    write(tmp_path / "script.py", LOOP)
    proc = subprocess.run(
        [str(exe), "script.py", "5"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    assert lines(tmp_path / "timemory-script-output")["[work][script.py:07]"] == 5
    proc = subprocess.run(
        [str(exe), "--bogus"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr == "timemory-python-trace: error: unrecognized arguments: --bogus\n"
