"""The same analysis (examples/executors/mapreduce.py) gives the same call graph inline and on
a Dask LocalCluster of worker processes or threads: same paths, same counts; with
collapse_processes off the worker processes stay visible."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from timemory import runs, storage  # noqa: E402
from tool_helpers import clean_env  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "executors" / "mapreduce.py"
PARTITIONS = 6


def _run(executor: str, out: Path, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE), "--executor", executor, "--partitions", str(PARTITIONS)],
        cwd=out.parent,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": str(out), **(env or {})}),
        capture_output=True,
        text=True,
        # generous: two shared cores, and a process cluster starts interpreters
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr


def _graph(folder: Path) -> dict[tuple[str, ...], float]:
    graph = runs.read_folder(folder)
    return dict(zip(map(tuple, graph.paths), graph.values["wall_clock"]["count"].tolist()))


@pytest.fixture(scope="module")
def inline(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, ...], float]:
    out = tmp_path_factory.mktemp("inline") / "out"
    _run("inline", out)
    return _graph(out)


@pytest.mark.parametrize("executor", ["dask-threads", "dask-processes"])
def test_same_nodes_and_counts_as_inline(executor, inline, tmp_path):
    out = tmp_path / "out"
    _run(executor, out)
    assert inline[("analysis", "map_partitions", "process_partition")] == PARTITIONS
    assert _graph(out) == inline


def test_worker_processes_stay_visible_without_collapse_processes(inline, tmp_path):
    out = tmp_path / "out"
    _run("dask-processes", out, {"TIMEMORY_COLLAPSE_PROCESSES": "false"})
    table = storage.snapshot(source=str(out)).as_numpy()
    # the client and its two worker processes, each a rank of the output
    assert len(set(table["pid"].tolist())) == 3
    assert _graph(out) == inline
