"""Signals under ``mpiexec`` with two ranks: SIGTERM to ``mpiexec`` (mpich's hydra forwards it
to every rank), and one rank raising while the other works. Every rank's data are kept, in
its own ``<label>_<rank>`` files (no collective is possible then).

Each rank counts its iterations in a file of its own and says when it is ``READY`` iterations
in; the test signals only then. Skipped where MPI cannot start (no mpi4py, no mpiexec).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from tool_helpers import clean_env

TIMEOUT = 240  # seconds for one mpiexec run: two ranks on a busy 2-core machine
READY = 2000

PROGRAM = """
import os, sys
from mpi4py import MPI
import timemory
from timemory.bundle import marker

rank = MPI.COMM_WORLD.Get_rank()
mode = sys.argv[1]
i = 0
while True:
    with marker(["wall_clock"], key="step"):
        i += 1
    if i % 50 == 0 or i == {ready}:
        with open(f"count-{{rank}}.tmp", "w") as f:
            f.write(str(i))
        os.replace(f"count-{{rank}}.tmp", f"count-{{rank}}")
    if i == {ready}:
        open(f"ready-{{rank}}", "w").close()
        if mode == "raise" and rank == 1:
            while not os.path.exists("ready-0"):
                pass
            raise RuntimeError("rank 1 fails")
"""


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


@pytest.fixture
def mpi_program(tmp_path: Path):
    pytest.importorskip("mpi4py")
    exe = _mpiexec()
    if exe is None:
        pytest.skip("no mpiexec beside this Python or on PATH (the mpich wheel provides one)")
    (tmp_path / "prog.py").write_text(textwrap.dedent(PROGRAM.format(ready=READY)))

    def start(mode: str) -> subprocess.Popen:
        env = clean_env({"TIMEMORY_OUTPUT_PATH": "out", "TIMEMORY_COUT_OUTPUT": "OFF"})
        env["PYTHONUNBUFFERED"] = "1"
        return subprocess.Popen(
            [exe, "-n", "2", sys.executable, "prog.py", mode],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    return start


def _wait_for(paths: list[Path], proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not all(p.exists() for p in paths):
        if proc.poll() is not None:
            _, err = proc.communicate()
            raise AssertionError(f"mpiexec ended early ({proc.returncode}): {err}")
        assert time.monotonic() < deadline, "the ranks never got ready"
        time.sleep(0.02)


def _laps(folder: Path, rank: int) -> int:
    data = json.loads((folder / "out" / f"wall_{rank}.json").read_text())
    [entry] = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
    return int(entry["entry"]["laps"])


def _check_rank(folder: Path, rank: int) -> None:
    done = int((folder / f"count-{rank}").read_text())
    laps = _laps(folder, rank)
    # the count file is updated every 50 iterations: the rank did at least `done` of them
    assert done >= READY and laps >= 0.99 * done, (rank, laps, done)
    assert (folder / "out" / f"metadata_{rank}.json").exists()


def test_sigterm_to_mpiexec_keeps_every_ranks_data(mpi_program, tmp_path):
    proc = mpi_program("term")
    _wait_for([tmp_path / "ready-0", tmp_path / "ready-1"], proc)
    proc.terminate()
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode != 0, err
    assert "rank 0: SIGTERM received" in err and "rank 1: SIGTERM received" in err, err
    for rank in (0, 1):
        _check_rank(tmp_path, rank)


def test_one_rank_raising_keeps_the_other_ranks_data(mpi_program, tmp_path):
    proc = mpi_program("raise")
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode != 0, err
    assert "RuntimeError: rank 1 fails" in err
    assert "rank 1: an uncaught exception" in err
    assert "rank 0: SIGTERM received" in err, err
    for rank in (0, 1):
        _check_rank(tmp_path, rank)
