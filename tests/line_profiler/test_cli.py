"""``python -m timemory.line_profiler`` (kernprof-like): usage errors in-process
through ``main(argv)``, runs end to end in a subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from timemory.line_profiler.__main__ import main
from tool_helpers import run_tool, write

PROG = "python -m timemory.line_profiler"

SCRIPT = """\
import sys


@profile
def work(n):
    total = 0
    for i in range(n):
        total += i
    return total


@line_profile
def other():
    return 1


work(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
other()
how = sys.argv[2] if len(sys.argv) > 2 else ""
if how == "exit":
    sys.exit(3)
if how == "raise":
    raise RuntimeError("boom from the script")
print("done")
"""


def _run(tmp_path: Path, *args: str, script: str = SCRIPT) -> subprocess.CompletedProcess:
    write(tmp_path / "script.py", script)
    return run_tool("timemory.line_profiler", *args, cwd=tmp_path)


def _hits(lprof: Path, text: str) -> int:
    res = subprocess.run(
        [sys.executable, "-m", "line_profiler", str(lprof)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    row = next(line for line in res.stdout.splitlines() if line.rstrip().endswith(text))
    return int(row.split()[1])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--", "missing.py"], "cannot run 'missing.py': no such file"),
        (["-c", "no_such_clock", "--", "script.py"], "Unknown component: 'no_such_clock'"),
        (["-c", "current_peak_rss", "--", "script.py"], "needs a scalar component"),
        ([], "no script to profile"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "script.py").write_text(SCRIPT)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{PROG}: error: ") and message in err
    assert "\n" not in err
    assert not list(tmp_path.glob("*.lprof"))


def test_a_run_writes_the_lprof_and_timemorys_output(tmp_path):
    res = _run(tmp_path, "-l", "-b", "-v", "--", "script.py", "40")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "done\n"  # the program's output alone: the tool's on stderr
    assert "Wrote profile results to script.py.lprof" in res.stderr
    assert "Total metric:" in res.stderr and "% Metric" in res.stderr
    assert _hits(tmp_path / "script.py.lprof", "total += i") == 40
    assert _hits(tmp_path / "script.py.lprof", "return 1") == 1  # line_profile works too
    out = tmp_path / "timemory-script-output"
    assert {"wall.lines.txt", "wall.lines.json", "metadata.json"} <= {p.name for p in out.iterdir()}
    body = json.loads((out / "wall.lines.json").read_text())["timemory"]["line_profile"]
    assert body["component"] == "wall_clock" and body["unit"] == 1e-9
    work = next(f for f in body["functions"] if f["function"] == "work")
    assert [line[1] for line in work["lines"]] == [1, 41, 40, 1]


@pytest.mark.parametrize(("how", "status"), [("exit", 3), ("raise", 1)])
def test_the_programs_exit_status_and_data_written(how, status, tmp_path):
    res = _run(tmp_path, "-c", "cpu_clock", "-o", "out.lprof", "--", "script.py", "7", how)
    assert res.returncode == status, res.stderr
    if how == "raise":
        assert "Traceback" in res.stderr and "RuntimeError: boom from the script" in res.stderr
    assert _hits(tmp_path / "out.lprof", "total += i") == 7
    assert (tmp_path / "timemory-script-output" / "cpu.lines.json").exists()


def test_a_setup_file_and_an_output_folder(tmp_path):
    (tmp_path / "setup.py").write_text("import builtins\nbuiltins.SETUP_RAN = True\n")
    script = SCRIPT.replace('print("done")', 'print("done", SETUP_RAN)')
    res = _run(
        tmp_path, "-s", "setup.py", "-d", "out", "-c", "WallClock", "--", "script.py", script=script
    )
    assert res.returncode == 0, res.stderr
    assert "done True" in res.stdout
    assert (tmp_path / "out" / "wall.lines.txt").exists()


def test_interrupted_program_still_writes(interrupted_tool, tmp_path):
    napping = (tmp_path / "x").parent  # interrupted_tool writes its own script.py
    res = interrupted_tool(["-m", "timemory.line_profiler", "-o", "nap.lprof", "--"])
    assert res.returncode == 130, res.stderr
    assert (napping / "nap.lprof").exists()


def test_console_script(tmp_path):
    exe = shutil.which("timemory-python-line-profiler", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.fail("timemory-python-line-profiler is not installed next to this interpreter")
    (tmp_path / "script.py").write_text(SCRIPT)
    res = subprocess.run(
        [exe, "--", "script.py", "5"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
    assert _hits(tmp_path / "script.py.lprof", "total += i") == 5
