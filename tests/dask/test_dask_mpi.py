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


CLOSED = """
import json
import timemory
from timemory.bundle import marker
from dask_mpi import initialize

initialize(dashboard=False, nthreads=1)

import dask
from distributed import Client, wait
from mpi4py import MPI
import timemory.dask


def step(i):
    with marker(["wall_clock"], key="inner"):
        return i + 1


# dask-mpi's own close signal at exit finds the scheduler gone already: give up quickly
dask.config.set({"distributed.comm.timeouts.connect": "2s"})
client = Client()
client.wait_for_workers(2, timeout=120)
with timemory.dask.profile(client, components=["wall_clock"]) as p:
    with marker(["wall_clock"], key="collected"):
        wait(client.map(step, range(30)))
    p.collect()
    with marker(["wall_clock"], key="after"):
        wait(client.map(step, range(100, 108)))
    client.shutdown()  # the cluster ends before the profile's final collection
print(json.dumps({"rank": MPI.COMM_WORLD.Get_rank(), "failed": p.failed}), flush=True)
"""


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def _run(tmp_path: Path, program: str, collapse: str = "true") -> subprocess.CompletedProcess:
    exe = _mpiexec()
    if exe is None:
        pytest.skip("no mpiexec beside this Python or on PATH (the mpich wheel provides one)")
    (tmp_path / "prog.py").write_text(program)
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
    return proc


def _counts(tmp_path: Path) -> dict[tuple[str, ...], float]:
    from timemory.runs import read_folder

    graph = read_folder(tmp_path / "out")
    return dict(zip(graph.paths, graph.values["wall_clock"]["count"].tolist()))


@pytest.mark.parametrize("collapse", ["true", "false"])
def test_dask_mpi_one_merged_result(tmp_path: Path, collapse: str):
    proc = _run(tmp_path, PROGRAM, collapse)
    facts = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    assert len(facts) == 1 and facts[0]["rank"] == 1, proc.stdout
    assert facts[0]["failed"] == {}
    assert facts[0]["worker_ranks"] == [2, 3]

    counts = _counts(tmp_path)
    # once each: collected by Dask into the client's rank, not gathered again from the workers
    assert counts[("solve",)] == 1
    assert counts[("solve", "step")] == 40
    assert counts[("solve", "step", "inner")] == 40
    # the markers of the tasks after the profile: only through the MPI gather, once
    assert counts[("inner",)] == 10
    # one set of files, written by rank 0
    assert sorted(p.name for p in tmp_path.glob("out*")) == ["out"]
    assert os.path.exists(tmp_path / "out" / "metadata.json")


def test_dask_mpi_cluster_closed_before_the_final_collection(tmp_path: Path):
    proc = _run(tmp_path, CLOSED)
    # the client is rank 1, not rank 0: its warning is printed all the same
    warning = [x for x in proc.stderr.splitlines() if "warning" in x and "closed before" in x]
    assert len(warning) == 1, proc.stderr[-4000:]
    assert "2 of 2 workers" in warning[0]
    counts = _counts(tmp_path)
    # what p.collect() took is kept, once (not sent again by the worker ranks through MPI);
    # the tasks after it were never collected
    assert counts[("collected", "step")] == 30
    assert counts[("collected", "step", "inner")] == 30
    assert counts[("after",)] == 1
    assert ("after", "step") not in counts
