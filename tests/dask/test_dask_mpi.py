"""A dask-mpi cluster (rank 0 the scheduler, rank 1 the client, the other ranks Dask workers)
under ``mpiexec``: one merged result, each task counted once.

Two gather paths meet there: ``timemory.dask.profile`` brings the workers' data into the client
(rank 1) through Dask, and timemory's MPI gather at finalize brings every rank's data to rank 0,
which writes the files. A worker rank sends through MPI only what the client did not collect
(docs/guide/executors.md, "Faults, MPI and scale"). Skipped where MPI cannot start (no mpi4py,
no mpiexec) or dask-mpi is not installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tool_helpers import clean_env

pytest.importorskip("distributed")
pytest.importorskip("dask_mpi")
pytest.importorskip("mpi4py")

TIMEOUT = 400  # seconds: four ranks and a Dask cluster on a busy 2-core machine; the client
# also waits for dask-mpi's close signal to end the scheduler before it exits

PROGRAM = """
import json, sys
import timemory
from timemory.bundle import marker
from dask_mpi import initialize

# rank 0 runs the scheduler, ranks 2.. the workers, until the client (rank 1) ends
initialize(dashboard=False, nthreads=1)

from distributed import Client, wait
from mpi4py import MPI
import os
import timemory.dask


def step(i):
    with marker(["wall_clock"], key="inner"):
        return i + 1


client = Client()
client.wait_for_workers(2, timeout=120)
with timemory.dask.profile(client, components=["wall_clock"]) as p:
    with marker(["wall_clock"], key="solve"):
        wait(client.map(step, range(40)))
# after the profile: not collected by Dask; the workers' own markers reach the output
# through the MPI gather instead
wait(client.map(step, range(100, 110)))
ranks = client.run(lambda: MPI.COMM_WORLD.Get_rank())
print(json.dumps({"rank": MPI.COMM_WORLD.Get_rank(), "failed": p.failed,
                  "worker_ranks": sorted(ranks.values())}), flush=True)
"""


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


@pytest.mark.parametrize("collapse", ["true", "false"])
def test_dask_mpi_one_merged_result(tmp_path: Path, collapse: str):
    exe = _mpiexec()
    if exe is None:
        pytest.skip("no mpiexec beside this Python or on PATH (the mpich wheel provides one)")
    (tmp_path / "prog.py").write_text(PROGRAM)
    env = clean_env(
        {
            "TIMEMORY_OUTPUT_PATH": "out",
            "TIMEMORY_COLLAPSE_PROCESSES": collapse,
            "PYTHONUNBUFFERED": "1",
        }
    )
    proc = subprocess.run(
        [exe, "-n", "4", sys.executable, "prog.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    facts = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert len(facts) == 1 and facts[0]["rank"] == 1, proc.stdout
    assert facts[0]["failed"] == {}
    assert facts[0]["worker_ranks"] == [2, 3]

    from timemory.runs import read_folder

    graph = read_folder(tmp_path / "out")
    counts = dict(zip(graph.paths, graph.values["wall_clock"]["count"].tolist()))
    # once each: collected by Dask into the client's rank, not gathered again from the workers
    assert counts[("solve",)] == 1
    assert counts[("solve", "step")] == 40
    assert counts[("solve", "step", "inner")] == 40
    # the markers of the tasks after the profile: only through the MPI gather, once
    assert counts[("inner",)] == 10
    # one set of files, written by rank 0
    assert sorted(p.name for p in tmp_path.glob("out*")) == ["out"]
    assert os.path.exists(tmp_path / "out" / "metadata.json")
