"""Checkpoints under MPI: each rank writes its own ``<label>_<rank>`` files from its
checkpoint thread (no collective), and they survive a rank that never reaches finalize."""

from __future__ import annotations

import json
from pathlib import Path

PROGRAM = """\
import os
import timemory
from timemory import _checkpoint, mpi
from timemory.bundle import marker

timemory.mpi_init()
rank = mpi.rank()
with marker(["wall_clock"], key=f"rank-{rank}-work"):
    pass
assert _checkpoint.write_checkpoint()  # what the thread does every interval
from mpi4py import MPI

MPI.COMM_WORLD.Barrier()  # mpiexec ends the other ranks once one leaves without MPI_Finalize
os._exit(0)  # as if killed: no finalize, no gather
"""


def test_each_rank_checkpoints_its_own_files(mpirun, tmp_path: Path) -> None:
    result = mpirun(
        2,
        PROGRAM,
        env={"TIMEMORY_CHECKPOINT_INTERVAL": "3600", "TIMEMORY_OUTPUT_PATH": "out"},
    )
    assert result.returncode == 0, result.stderr
    out = tmp_path / "out"
    for rank in (0, 1):
        with open(out / f"wall_{rank}.json") as f:
            flat = json.load(f)
        assert flat["checkpoint"]["final"] is False
        graph = flat["timemory"]["wall_clock"]["ranks"][0]["graph"]
        assert [e["prefix"] for e in graph] == [f">>> rank-{rank}-work"]
        with open(out / f"metadata_{rank}.json") as f:
            meta = json.load(f)["timemory"]["metadata"]
        assert meta["checkpoint"]["final"] is False
    assert not (out / "wall.json").exists()  # nothing was gathered
