"""Fault injection: a program measured with checkpoints on (0.2 s here) is ended by SIGKILL,
``os._exit(3)`` or a segfault in its own code part-way through a loop, under markers (plain
``import timemory``) and under each command-line tool. The output folder then holds valid
JSON files whose metadata says "checkpoint", with every iteration that completed before a
checkpoint the test saw written; a normal exit says "final" and has every iteration.

No sleeping and hoping: the program reports each completed iteration (and when) in a progress
file; the test waits for a number of iterations, then for a checkpoint taken after the last of
them (read from metadata.json, which is replaced atomically), and only then ends the program
(SIGKILL from here, or a "go" file the program checks for the other endings).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tool_helpers import clean_env

INTERVAL = "0.2"
DEADLINE = 240.0  # seconds for a whole case, on a busy machine

PROGRAM = """\
import builtins
import os
import time

profile = getattr(builtins, "profile", lambda f: f)  # the line profiler's builtin


@profile
def step(i):
    total = 0
    for k in range(50):
        total += k
    return total


MODE = os.environ["CKPT_MODE"]
if MODE == "markers":
    from timemory.bundle import marker
progress = open(os.environ["CKPT_PROGRESS"], "w", buffering=1)
go = os.environ["CKPT_GO"]
i = 0
while True:
    if MODE == "markers":
        with marker(["wall_clock"], key=f"iter-{i}"):
            step(i)
    else:
        step(i)
    progress.write(f"{i} {time.time()!r}\\n")
    i += 1
    if i % 10 == 0:
        if os.path.exists(go):
            break
        time.sleep(0.005)  # a few hundred iterations a second: the graph stays small
progress.close()
ending = os.environ["CKPT_ENDING"]
if ending == "exit":
    os._exit(3)
if ending == "segv":
    import ctypes

    ctypes.string_at(0)
"""

TOOLS = {
    "markers": [],
    "profiler": ["-m", "timemory.profiler", "-c", "wall_clock"],
    "trace": ["-m", "timemory.trace", "-c", "wall_clock"],
    "line_profiler": ["-m", "timemory.line_profiler", "-c", "wall_clock"],
}
STATUS = {"sigkill": -signal.SIGKILL, "exit": 3, "segv": -signal.SIGSEGV, "normal": 0}


def _progress(path: Path) -> list[float]:
    """Completion time of each iteration reported so far (complete lines only)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    times = []
    for line in text.splitlines(keepends=True):
        if line.endswith("\n"):
            times.append(float(line.split()[1]))
    return times


def _metadata(folder: Path) -> dict:
    with open(folder / "metadata.json") as f:
        return json.load(f)["timemory"]["metadata"]


def _checkpoint_time(folder: Path) -> float:
    try:
        return float(_metadata(folder)["checkpoint"]["unix_time"])
    except (FileNotFoundError, KeyError):
        return 0.0


def _wait(what: str, ready, proc: subprocess.Popen, err: Path, deadline: float) -> None:
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the program ended early ({proc.returncode}) {what}: {err.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out {what}: {err.read_text()}")
        time.sleep(0.05)


def _completed(mode: str, folder: Path) -> int:
    """How many iterations the files in ``folder`` hold completed."""
    if mode == "line_profiler":
        with open(folder / "wall.lines.json") as f:
            functions = json.load(f)["timemory"]["line_profile"]["functions"]
        (fn,) = [f for f in functions if f["function"] == "step"]
        return min(hits for _, hits, _ in fn["lines"])  # the return line: completed calls
    with open(folder / "wall.json") as f:
        graph = json.load(f)["timemory"]["wall_clock"]["ranks"][0]["graph"]
    if mode == "markers":
        labels = {e["prefix"].split(">>> ", 1)[1].strip() for e in graph}
        count = 0
        while f"iter-{count}" in labels:
            count += 1
        return count  # iter-0 .. iter-(count-1) all present
    if mode == "trace":
        return sum(e["entry"]["laps"] for e in graph if "return total" in e["prefix"])
    # step() runs under the program's <module program.py> node: "|_step"
    return sum(e["entry"]["laps"] for e in graph if e["prefix"].split()[-1] == "|_step")


def _run_case(mode: str, ending: str, tmp_path: Path) -> None:
    out, progress, go, err = (tmp_path / n for n in ("out", "progress", "go", "stderr"))
    (tmp_path / "program.py").write_text(PROGRAM)
    env = {
        "CKPT_MODE": mode,
        "CKPT_PROGRESS": str(progress),
        "CKPT_GO": str(go),
        "CKPT_ENDING": ending,
        "TIMEMORY_OUTPUT_PATH": str(out),
    }
    if mode == "markers":
        env["TIMEMORY_CHECKPOINT_INTERVAL"] = INTERVAL
        argv = [sys.executable, "program.py"]
    else:
        argv = [sys.executable, *TOOLS[mode], "--checkpoint-interval", INTERVAL]
        argv += ["--", "program.py"]
    deadline = time.monotonic() + DEADLINE
    with open(err, "w") as stderr:
        proc = subprocess.Popen(
            argv, cwd=tmp_path, env=clean_env(env), stdout=subprocess.DEVNULL, stderr=stderr
        )
    try:
        _wait("before 50 iterations", lambda: len(_progress(progress)) >= 50, proc, err, deadline)
        done = _progress(progress)
        last = done[-1]
        # a checkpoint taken after the last of those iterations completed
        _wait("for a checkpoint", lambda: _checkpoint_time(out) > last, proc, err, deadline)
        if ending == "sigkill":
            proc.send_signal(signal.SIGKILL)
        else:
            go.touch()
        proc.wait(timeout=max(deadline - time.monotonic(), 30))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == STATUS[ending], err.read_text()

    for path in out.iterdir():
        if path.name.startswith("."):
            # ended while a checkpoint wrote a file: its hidden temporary file stays (never a
            # visible partial file), and only then
            assert ending != "normal" and ".tmp." in path.name, path.name
            continue
        if path.suffix == ".json":
            with open(path) as f:
                json.load(f)  # every file is whole, valid JSON
    marker = _metadata(out)["checkpoint"]
    held = _completed(mode, out)
    reported = _progress(progress)
    if ending == "normal":
        assert marker["final"] is True
        assert held == len(reported)  # the final write has every iteration
        return
    assert marker["final"] is False
    assert marker["sequence"] >= 1
    # every iteration completed before the checkpoint the test waited for, and in fact every
    # one completed before the checkpoint the files say they are
    before = sum(1 for t in reported if t < marker["unix_time"])
    assert held >= len(done), (held, len(done))
    assert held >= before, (held, before)
    if mode != "line_profiler":
        with open(out / "wall.json") as f:
            assert json.load(f)["checkpoint"]["final"] is False
        with open(out / "wall.tree.json") as f:
            assert json.load(f)["checkpoint"]["final"] is False


@pytest.mark.parametrize("ending", ["sigkill", "exit", "segv"])
def test_markers_survive(ending: str, tmp_path: Path) -> None:
    _run_case("markers", ending, tmp_path)


@pytest.mark.parametrize("ending", ["sigkill", "exit", "segv"])
@pytest.mark.parametrize("mode", ["profiler", "trace", "line_profiler"])
def test_tools_survive(mode: str, ending: str, tmp_path: Path) -> None:
    _run_case(mode, ending, tmp_path)


@pytest.mark.parametrize("mode", ["markers", "profiler", "trace", "line_profiler"])
def test_normal_exit_is_final(mode: str, tmp_path: Path) -> None:
    _run_case(mode, "normal", tmp_path)
