"""`timemory run` and `timemory runs ls|show|rm`: runs of scripts and modules into a store,
and what the store holds, from the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from timemory.runs._graph import read_folder
from timemory.runs._run_command import main as run_main
from timemory.runs._runs_command import main as runs_main
from tool_helpers import clean_env, write

Store = pytest.importorskip("timemory.runs._store").Store

RUN_LINE = re.compile(r"^timemory: run ([0-9a-f]{16}) \((\d+) repeats, (.*)\) in (.*)$")

BENCH = """\
import sys
import timemory.runs

def compute(n):
    return sum(range(n))

params = timemory.runs.parameters()
compute(params["n"])
with open(sys.argv[1], "a") as record:
    record.write(" ".join(sys.argv[2:]) + "\\n")
print("bench ran", params["n"])
"""


@pytest.fixture
def bench(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return write(tmp_path / "bench.py", BENCH)


def lines_of(text):
    return [line for line in text.splitlines() if line.strip()]


def the_line(err):
    lines = lines_of(err)
    assert len(lines) == 1, err
    assert "Traceback (most recent call last)" not in err
    return lines[0]


def test_run_a_script_into_a_store(bench, tmp_path, capfd):
    record = tmp_path / "record.txt"
    argv = ["--store", "st", "--param", "n=7", "-p", "mode=fast", "-n", "2", "--", "bench.py"]
    assert run_main([*argv, str(record), "--size", "{n}"]) == 0
    out, err = capfd.readouterr()
    match = RUN_LINE.match(the_line(err))
    assert match and match.group(2, 3, 4) == ("2", "n=7, mode=fast", "st"), err
    assert out.splitlines() == ["bench ran 7", "bench ran 7"]  # the program's stdout only
    assert record.read_text().splitlines() == ["--size 7", "--size 7"]
    run = Store("st").get(match.group(1))
    assert run.done and run.repeats == 2 and run.parameters == {"mode": "fast", "n": 7}
    assert run.target["kind"] == "script" and run.target["args"][-1] == "{n}"
    assert len(run.repeat_dirs()) == 2
    for folder in run.repeat_dirs():
        assert any(path[-1] == "compute" for path in read_folder(folder).paths)

    # done already: not recomputed, one line says so
    assert run_main([*argv, str(record), "--size", "{n}"]) == 0
    out, err = capfd.readouterr()
    assert out == "" and "done already, not recomputed (--force recomputes it)" in the_line(err)
    assert len(record.read_text().splitlines()) == 2
    # --force: measured again, same id
    assert run_main(["--force", *argv, str(record), "--size", "{n}"]) == 0
    out, err = capfd.readouterr()
    assert RUN_LINE.match(the_line(err)).group(1) == match.group(1)
    assert len(record.read_text().splitlines()) == 4


def test_run_a_module(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "pkg" / "__init__.py", "")
    write(
        tmp_path / "pkg" / "__main__.py",
        """\
        import timemory.runs

        def kernel(n):
            return list(range(n))

        kernel(timemory.runs.parameters()["n"])
        """,
    )
    assert run_main(["--store", "st", "--param", "n=3", "-n", "2", "-m", "pkg"]) == 0
    match = RUN_LINE.match(the_line(capfd.readouterr().err))
    run = Store("st").get(match.group(1))
    assert run.target == {"kind": "module", "name": "pkg", "args": []}
    for folder in run.repeat_dirs():
        assert any(path[-1] == "kernel" for path in read_folder(folder).paths)


def test_a_failing_run_is_status_1_with_its_error(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "fails.py",
        """\
        import sys
        print("bad input here", file=sys.stderr)
        sys.exit(4)
        """,
    )
    assert run_main(["--store", "st", "-n", "3", "--", "fails.py"]) == 1
    lines = lines_of(capfd.readouterr().err)
    assert lines[0] == "bad input here"  # the program's stderr is its own
    assert len(lines) == 2 and "Traceback (most recent call last)" not in lines[1]
    assert re.match(
        r"^timemory: run [0-9a-f]{16} \(3 repeats, no parameters\) in st failed", lines[1]
    )
    assert lines[1].endswith("exit status 4: bad input here")
    (run,) = Store("st").runs
    assert run.status == "failed" and run.error == "exit status 4: bad input here"


def test_a_run_failing_midway_keeps_the_repeats_measured_before(tmp_path, monkeypatch, capfd):
    monkeypatch.chdir(tmp_path)
    write(
        tmp_path / "second.py",
        """\
        import os, sys
        if os.path.exists("ran-once"):
            sys.exit(3)
        open("ran-once", "w").close()
        """,
    )
    assert run_main(["--store", "st", "-n", "3", "--", "second.py"]) == 1
    assert "failed" in capfd.readouterr().err
    (run,) = Store("st").runs
    # the first repeat, and what the failing one measured up to its exit
    assert (run.status, run.done, run.repeats) == ("failed", False, 2)
    assert run.error.startswith("exit status 3")
    assert len(run.repeat_dirs()) == 2 and run.table().repeats == 2
    assert any(path[0].startswith("<module") for path in read_folder(run.repeat_dirs()[0]).paths)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--", "missing.py"], "cannot run 'missing.py': no such file"),
        (
            ["--", "bench.py", "{size}"],
            "unknown placeholder {size} in the arguments (the parameters: n)",
        ),
        (["--param", "n", "--", "bench.py"], "argument --param:"),
        (["--param", "n=1", "--", "bench.py"], "'n' is given twice"),
        (["-c", "wal_clock", "--", "bench.py"], "did you mean 'wall_clock'"),
        (["-n", "0", "--", "bench.py"], "argument -n/--repeat: must be at least 1"),
        (["-m", "no_such_module"], "no module named 'no_such_module'"),
        ([], "no program to run"),
        (["--bogus", "--", "bench.py"], "unrecognized arguments: --bogus"),
    ],
)
def test_usage_errors_are_one_line_and_status_2(bench, tmp_path, capfd, args, message):
    argv = ["--store", "st", "--param", "n=1", *args]
    assert run_main(argv) == 2
    out, err = capfd.readouterr()
    line = the_line(err)
    assert line.startswith("python -m timemory.runs._run_command: error: "), line
    assert message in line, line
    assert out == ""
    assert not (tmp_path / "st").exists()  # found before the store is created


def test_a_folder_that_is_not_a_store_is_status_2(bench, tmp_path, capfd):
    write(tmp_path / "notastore" / "file.txt", "mine")
    assert run_main(["--store", "notastore", "--", "bench.py", "x"]) == 2
    assert "notastore" in the_line(capfd.readouterr().err)
    assert (tmp_path / "notastore" / "file.txt").read_text() == "mine"


def test_the_timemory_command(bench, tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "timemory",
            "run",
            "--store",
            "st",
            "-p",
            "n=4",
            "-n",
            "1",
            "--",
            "bench.py",
            str(tmp_path / "r.txt"),
        ],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "bench ran 4\n"
    assert RUN_LINE.match(the_line(proc.stderr))
    proc = subprocess.run(
        [sys.executable, "-m", "timemory", "runs", "ls", "st", "--json"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and proc.stderr == ""
    (run,) = json.loads(proc.stdout)
    assert run["parameters"] == {"n": 4} and run["status"] == "done"


# ------------------------------------------------------------------ timemory runs
@pytest.fixture
def store(bench, tmp_path, capfd):
    for n, mode in ((1, "fast"), (10, "fast"), (100, "slow")):
        argv = ["--store", "st", "-p", f"n={n}", "-p", f"mode={mode}", "-n", "2", "--"]
        assert run_main([*argv, "bench.py", str(tmp_path / "r.txt")]) == 0
    capfd.readouterr()
    return Store("st")


def test_runs_ls(store, capfd):
    assert runs_main(["ls", "st"]) == 0
    out, err = capfd.readouterr()
    assert out == ""
    lines = lines_of(err)
    assert lines[0].split() == ["id", "status", "repeats", "parameters", "code"]
    assert len(lines) == 5 and lines[-1] == "timemory: 3 runs"
    assert all(
        re.match(r"^[0-9a-f]{16}  done +2 +mode=\w+, n=\d+ +-$", line) for line in lines[1:4]
    )

    assert runs_main(["ls", "st", "n>=10", "mode=fast", "--json"]) == 0
    out, err = capfd.readouterr()
    assert err == ""
    assert [r["parameters"] for r in json.loads(out)] == [{"mode": "fast", "n": 10}]
    assert runs_main(["ls", "st", "n__in=1,100", "--json"]) == 0
    assert sorted(r["parameters"]["n"] for r in json.loads(capfd.readouterr().out)) == [1, 100]


def test_runs_ls_json_to_a_file(store, tmp_path, capfd):
    assert runs_main(["ls", "st", "--json", "-o", "runs.json"]) == 0
    out, err = capfd.readouterr()
    assert out == "" and the_line(err) == "timemory: wrote runs.json"
    assert len(json.loads((tmp_path / "runs.json").read_text())) == 3


def test_runs_show(store, capfd):
    run = store.get_runs_with(n=100)[0]
    assert runs_main(["show", "st", run.id[:6], "--top", "2"]) == 0
    out, err = capfd.readouterr()
    assert out == ""
    assert err.startswith(f"run {run.id}: done, 2 of 2 repeats\n")
    assert "  parameters   mode=slow, n=100\n" in err
    assert "wall_clock, median of the repeats, most self first (2 of " in err
    assert len(err.splitlines()) == 11  # 7 lines about the run, the heading, 1 + 2 rows

    assert runs_main(["show", "st", "n=100", "--json"]) == 0
    doc = json.loads(capfd.readouterr().out)
    assert doc["run"]["id"] == run.id and doc["component"] == "wall_clock"
    table = run.table()
    assert len(doc["nodes"]) == min(15, len(table.paths))
    selfs = [node["self"] for node in doc["nodes"]]
    assert selfs == sorted(selfs, reverse=True)
    assert all(node["repeats"] == 2 for node in doc["nodes"])


def test_runs_rm(store, capfd):
    assert runs_main(["rm", "st"]) == 2
    assert "rm needs a selection" in the_line(capfd.readouterr().err)
    assert runs_main(["rm", "st", "mode=slow"]) == 0
    assert the_line(capfd.readouterr().err).startswith("timemory: removed 1 run from ")
    assert runs_main(["rm", "st", "mode=slow"]) == 1
    assert "no run matches" in the_line(capfd.readouterr().err)
    assert len(Store("st").runs) == 2
    assert runs_main(["rm", "st", "--all"]) == 0
    assert the_line(capfd.readouterr().err).startswith("timemory: removed 2 runs from ")
    assert Store("st").runs == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["list", "st"], "invalid choice: 'list'"),
        (["ls", "nowhere"], "nowhere"),
        (["show", "st", "ffffffffffff"], "ffffffffffff"),
        (["ls", "st", "n__zz=3"], "zz"),
        (["ls", "st", "-o", "x.json"], "only with --json"),
        (["rm", "st", "--json", "n=1"], "only with ls and show"),
        (["ls", "st", "--all"], "only with rm"),
        (["ls", "st", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_runs_usage_errors(store, capfd, argv, message):
    assert runs_main(argv) == 2
    out, err = capfd.readouterr()
    line = the_line(err)
    assert line.startswith("python -m timemory.runs._runs_command: error: ") and message in line
    assert out == ""
    assert len(Store("st").runs) == 3
