"""Quiet and on stderr: everything timemory prints goes to stderr through the ``timemory``
logger, never into the program's stdout; a run ends with one line per output folder; ``-q``
and ``TIMEMORY_VERBOSE=-1`` leave nothing but errors; a user's logging configuration is kept;
a closed pipe ends as it does under plain Python; only rank zero prints.

Every case runs in a fresh process: the logging state and the streams are the program's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tool_helpers import clean_env, run_tool, write

TOOLS = ("timemory.profiler", "timemory.trace", "timemory.line_profiler")

# every byte value, as a program that writes binary data to stdout does
BINARY = """\
import sys

def chunk(i):
    return bytes(range(256)) * 100

for i in range(20):
    sys.stdout.buffer.write(chunk(i))
sys.stdout.flush()
"""

PROGRAM = """\
def work(n):
    return sum(range(n))

for _ in range(3):
    work(10000)
print("program output")
"""


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, **kw):
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=clean_env(env), capture_output=True, timeout=180, **kw
    )


# ------------------------------------------------------------------ stdout is the program's
@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("form", ["script", "module", "checkpoints"])
def test_binary_stdout_is_byte_identical_under_each_tool(tmp_path, tool, form):
    write(tmp_path / "binary_prog.py", BINARY)
    plain = _run(["binary_prog.py"], tmp_path)
    assert plain.returncode == 0 and len(plain.stdout) == 20 * 25600
    options = ["-d", "out"]
    if form == "checkpoints":  # the background checkpoints write while the program runs
        options += ["--checkpoint-interval", "0.001"]
    target = ["-m", "binary_prog"] if form == "module" else ["--", "binary_prog.py"]
    proc = _run(["-m", tool, *options, *target], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == plain.stdout
    # the summary and the folder's line went to stderr
    assert proc.stderr.decode().splitlines()[-1].startswith("timemory: ")
    assert (tmp_path / "out" / "metadata.json").is_file()


def test_redirected_module_run_leaves_only_the_programs_output(tmp_path):
    write(tmp_path / "prog_module.py", PROGRAM)
    with open(tmp_path / "out.txt", "wb") as out:
        proc = subprocess.run(
            [sys.executable, "-m", "timemory.profiler", "-d", "o", "-m", "prog_module"],
            cwd=tmp_path,
            env=clean_env(None),
            stdout=out,
            stderr=subprocess.PIPE,
            timeout=180,
        )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "out.txt").read_bytes() == b"program output\n"
    lines = proc.stderr.decode().splitlines()
    assert lines[-1] == "timemory: 6 files in o/"
    assert not any("Outputting" in line for line in lines)


# ------------------------------------------------------------------ verbosity
def test_default_run_ends_with_one_line_per_folder(tmp_path):
    write(tmp_path / "prog.py", PROGRAM)
    proc = run_tool("timemory.profiler", "-d", "o", "--", "prog.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "program output\n"
    lines = proc.stderr.splitlines()
    assert lines.count("timemory: 6 files in o/") == 1 and lines[-1].startswith("timemory: ")
    assert not [line for line in lines if "Outputting" in line or "profiling:" in line]


def test_verbose_names_every_file(tmp_path):
    write(tmp_path / "prog.py", PROGRAM)
    env = {"TIMEMORY_VERBOSE": "1"}
    proc = run_tool("timemory.trace", "-d", "o", "--", "prog.py", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "program output\n"
    assert "[timemory]> tracing: ['prog.py']" in proc.stderr
    assert "[wall]|0> Outputting 'o/wall.json'..." in proc.stderr
    assert proc.stderr.splitlines()[-1] == "timemory: 6 files in o/"


@pytest.mark.parametrize("tool", TOOLS)
@pytest.mark.parametrize("how", ["-q", "--quiet", "TIMEMORY_VERBOSE=-1"])
def test_quiet_prints_nothing_but_the_files_are_written(tmp_path, tool, how):
    write(tmp_path / "prog.py", PROGRAM)
    env = {"TIMEMORY_VERBOSE": "-1"} if how.startswith("TIMEMORY") else None
    options = [] if env else [how]
    proc = run_tool(tool, *options, "-d", "o", "--", "prog.py", cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("program output\n", "")
    assert (tmp_path / "o" / "metadata.json").is_file()


def test_quiet_still_reports_errors(tmp_path):
    proc = run_tool("timemory.profiler", "-q", "--", "missing.py", cwd=tmp_path)
    assert proc.returncode == 2
    assert (
        proc.stderr == "python -m timemory.profiler: error: cannot run 'missing.py': no such file\n"
    )


LIBRARY = """\
import sys
import timemory
from timemory.bundle import marker
{prelude}
with marker(["wall_clock"], key="work"):
    sum(range(10000))
timemory.finalize()
print("logging imported:", "logging" in sys.modules)
"""


def _library(tmp_path: Path, prelude: str = "", **env: str) -> subprocess.CompletedProcess:
    write(tmp_path / "lib.py", LIBRARY.format(prelude=prelude))
    env.setdefault("TIMEMORY_OUTPUT_PATH", "out")
    return run_tool_python(tmp_path, env)


def run_tool_python(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "lib.py"],
        cwd=tmp_path,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_library_run_tables_on_stderr_and_logging_not_imported(tmp_path):
    proc = _library(tmp_path)
    assert proc.returncode == 0, proc.stderr
    # nothing on stdout but the program's; logging is not imported for timemory's sake
    assert proc.stdout == "logging imported: False\n"
    assert "REAL-CLOCK TIMER" in proc.stderr  # cout_output: the tables, on stderr
    assert proc.stderr.splitlines()[-1] == "timemory: 6 files in out/"


def test_cout_output_off_keeps_the_tables_off_the_console(tmp_path):
    proc = _library(tmp_path, TIMEMORY_COUT_OUTPUT="OFF")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "timemory: 6 files in out/\n"


# ------------------------------------------------------------------ the user's logging
def test_a_users_basic_config_formats_timemorys_records_once(tmp_path):
    prelude = "import logging\nlogging.basicConfig(format='LOG %(name)s %(levelname)s %(message)s')"
    proc = _library(tmp_path, prelude, TIMEMORY_COUT_OUTPUT="OFF")
    assert proc.returncode == 0, proc.stderr
    # the root logger's level (WARNING) does not hide timemory's own lines: its verbosity does
    assert proc.stderr == "LOG timemory INFO timemory: 6 files in out/\n"


def test_a_users_handler_on_the_timemory_logger_gets_the_records(tmp_path):
    prelude = """
import io, logging
captured = io.StringIO()
logger = logging.getLogger("timemory")
logger.addHandler(logging.StreamHandler(captured))
logger.propagate = False
import atexit
atexit.register(lambda: open("captured.txt", "w").write(captured.getvalue()))
"""
    proc = _library(tmp_path, prelude, TIMEMORY_COUT_OUTPUT="OFF")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the user's handler alone: no line twice
    assert (tmp_path / "captured.txt").read_text() == "timemory: 6 files in out/\n"


def test_a_level_the_user_set_is_kept(tmp_path):
    prelude = "import logging\nlogging.basicConfig()\nlogging.getLogger('timemory').setLevel(40)"
    proc = _library(tmp_path, prelude, TIMEMORY_COUT_OUTPUT="OFF")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


def test_logging_imported_but_not_configured_prints_the_bare_line(tmp_path):
    prelude = "import logging"
    proc = _library(tmp_path, prelude, TIMEMORY_COUT_OUTPUT="OFF")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "timemory: 6 files in out/\n"


# ------------------------------------------------------------------ a closed pipe
MANY_LINES = """\
def emit(i):
    print("line", i)

for i in range(200000):
    emit(i)
"""


def _head_one(command: list[str], cwd: Path) -> tuple[int, str]:
    """``command | head -1``: the first line is read, then the pipe is closed."""
    proc = subprocess.Popen(
        [sys.executable, *command],
        cwd=cwd,
        env=clean_env({"PYTHONUNBUFFERED": ""}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"line 0\n"
    proc.stdout.close()
    with proc.stderr:
        err = proc.stderr.read().decode()
    return proc.wait(timeout=180), err


def _is_a_plain_ending(tmp_path: Path, wanted: str, seen: dict[str, int], tries: int = 25) -> bool:
    """Whether plain Python ends many.py with the stderr ``wanted`` too. It ends a closed pipe
    in one of a few ways, by when the pipe closes: the exception raised in print() (status
    1), only in the flush at exit (status 120, "Exception ignored ..."), or both. ``seen``
    keeps the endings met so far (text: status); plain runs are made until one is ``wanted``
    or ``tries`` more were made."""
    for _ in range(tries):
        if wanted in seen:
            return True
        status, err = _head_one(["many.py"], tmp_path)
        seen[err] = status
    return wanted in seen


#: how timemory's lines after a program's end start (the line profiler's name its .lprof as
#: kernprof does)
OURS = ("[timemory]", "timemory", "Wrote profile results to ")


def _split_at_timemory(err: str) -> tuple[str, str]:
    """A run's stderr as the program's part and timemory's lines after it."""
    lines = err.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(OURS):
            return "".join(lines[:i]), "".join(lines[i:])
    return err, ""


@pytest.mark.parametrize("tool", TOOLS)
def test_a_closed_pipe_ends_as_under_plain_python(tmp_path, tool):
    write(tmp_path / "many.py", MANY_LINES)
    status, err = _head_one(["many.py"], tmp_path)
    assert status in (1, 120) and "BrokenPipeError" in err
    seen = {err: status}
    # timemory adds nothing: the stderr and status are one of plain Python's endings
    quiet_status, quiet_err = _head_one(["-m", tool, "-q", "-d", "o", "--", "many.py"], tmp_path)
    assert _is_a_plain_ending(tmp_path, quiet_err, seen), (quiet_err, seen)
    assert quiet_status == seen[quiet_err]
    # a plain ending, then timemory's own lines, on stderr: no traceback
    loud_status, loud_err = _head_one(["-m", tool, "-d", "o", "--", "many.py"], tmp_path)
    program, ours = _split_at_timemory(loud_err)
    assert _is_a_plain_ending(tmp_path, program, seen), (loud_err, seen)
    assert loud_status == seen[program]
    assert "Traceback (most recent call last)" not in ours
    assert ours.splitlines()[-1].startswith("timemory: ")
    assert (tmp_path / "o" / "metadata.json").is_file()


# ------------------------------------------------------------------ ranks
def test_other_ranks_print_only_their_problems(tmp_path):
    write(tmp_path / "prog.py", PROGRAM)
    rank1 = {"PMI_RANK": "1"}
    proc = run_tool("timemory.profiler", "-d", "o", "--", "prog.py", cwd=tmp_path, env=rank1)
    assert proc.returncode == 0, proc.stderr
    assert (proc.stdout, proc.stderr) == ("program output\n", "")
    verbose = {**rank1, "TIMEMORY_VERBOSE": "1"}
    proc = run_tool("timemory.profiler", "-d", "o", "--", "prog.py", cwd=tmp_path, env=verbose)
    assert "Outputting" in proc.stderr and proc.stderr.splitlines()[-1].startswith("timemory: ")


# ------------------------------------------------------------------ counts
def test_metadata_counts_this_process_alone(tmp_path):
    write(tmp_path / "prog.py", PROGRAM)
    proc = run_tool("timemory.profiler", "-q", "-d", "o", "--", "prog.py", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    meta = json.loads((tmp_path / "o" / "metadata.json").read_text())["timemory"]["metadata"]
    assert meta["counts"]["process_count"] == 1 and meta["counts"]["mpi_size"] == 1
    body = json.loads((tmp_path / "o" / "wall.json").read_text())["timemory"]["wall_clock"]
    assert (body["process_count"], body["num_ranks"], body["mpi_size"]) == (1, 1, 1)
