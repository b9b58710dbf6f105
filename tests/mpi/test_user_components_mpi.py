"""Python-defined components gathered over 4 MPI ranks, merged by their ``combine`` rule.

Every rank registers the same classes in another order (rank r rotates the list by r), so
each class has another slot of the native table on every rank: the gathered data name them
by key. Rank r's components read r + 1 (a max component gathered over 4 ranks gives 4, sum 10,
min 1, last: the last rank's, 4). Asserted on the gathered packed data, merged natively, and on
what the output at finalize gathered.
"""

from __future__ import annotations

import json
from pathlib import Path

PROGRAM = """
import json
from mpi4py import MPI
import timemory
from timemory import _core, _lifecycle
from timemory._workers import data_indices
from timemory.bundle import marker
from timemory.component import Base, register
from timemory.storage import exchange, local_payload

comm = MPI.COMM_WORLD
r = comm.Get_rank()
LEVEL = [float(r + 1)]


class Peak(Base):
    label = "mpi_peak"
    combine = "max"
    def sample(self):
        return LEVEL[0]


class Total(Base):
    label = "mpi_total"
    combine = "sum"
    def sample(self):
        return LEVEL[0]


class Low(Base):
    label = "mpi_low"
    combine = "min"
    def sample(self):
        return LEVEL[0]


class Latest(Base):
    label = "mpi_latest"
    combine = "last"
    def sample(self):
        return LEVEL[0]


class Pair(Base):
    label = "mpi_pair"
    combine = "min"
    names = ("up", "down")
    def sample(self):
        return (LEVEL[0], -LEVEL[0])


ORDER = [Peak, Total, Low, Latest, Pair]
for cls in ORDER[r:] + ORDER[:r]:
    register(cls)
slots = {cls.label: cls._index for cls in ORDER}

with marker(ORDER + ["wall_clock"], key="main"):
    for _ in range(r + 1):
        with marker(ORDER, key="work"):
            pass
    with marker(ORDER, key=f"only-on-rank-{r}"):
        pass


def merged(procs):
    out = {}
    for cls in ORDER:
        n = max(1, len(cls.names))
        flat = _core.merge_packed_flat(cls._index, procs.packed(cls._index, "flat"))
        rows = {
            flat.label(i): [flat.laps(i), flat.entry(i).entry.accum[:n]] for i in range(len(flat))
        }
        summary = _core.summarize_packed_flat(cls._index, procs.packed(cls._index, "flat"))
        rows["summary"] = {
            s.label: [s.processes, s.min[:n], s.max[:n], s.total[:n]] for s in summary
        }
        out[cls.label] = rows
    return out


procs = exchange(local_payload(data_indices(), ["flat", "tree"]))
result = {"rank": r, "slots": slots}
if procs is not None:
    result["gathered"] = merged(procs)
    result["trees"] = {}
    for cls in ORDER:
        trees = [_core.unpack_tree(cls._index, d) for d in procs.packed(cls._index, "tree")]
        result["trees"][cls.label] = [
            sorted({t.label(i) for i in range(len(t)) if t.hash(i)}) for t in trees
        ]

timemory.finalize()
written = _lifecycle.written_processes()
if written:
    result["finalize"] = merged(written)
with open(f"result-{r}.json", "w") as f:
    json.dump(result, f)
"""


def _results(tmp_path: Path, n: int) -> list[dict]:
    return [json.loads((tmp_path / f"result-{r}.json").read_text()) for r in range(n)]


def test_four_ranks_merge_python_components_by_their_rule(mpirun, tmp_path):
    proc = mpirun(4, PROGRAM, env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out")})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    results = _results(tmp_path, 4)
    # each rank gave the classes other slots
    assert len({tuple(sorted(res["slots"].items())) for res in results}) == 4
    root = results[0]
    for source in ("gathered", "finalize"):
        got = root[source]
        # "work": rank r measured it r + 1 times, reading r + 1
        assert got["mpi_peak"]["work"] == [10, [4.0]], source
        assert got["mpi_total"]["work"] == [10, [1.0 * 1 + 2 * 2 + 3 * 3 + 4 * 4]], source
        assert got["mpi_low"]["work"] == [10, [1.0]], source
        # last: the rank merged last (ranks are merged in rank order)
        assert got["mpi_latest"]["work"] == [10, [4.0]], source
        assert got["mpi_pair"]["work"] == [10, [1.0, -4.0]], source
        assert got["mpi_peak"]["main"] == [4, [4.0]], source
        assert got["mpi_total"]["main"] == [4, [10.0]], source
        for r in range(4):
            assert got["mpi_peak"][f"only-on-rank-{r}"] == [1, [float(r + 1)]], source
        # the cross-rank summary of each rank's value
        processes, low, high, total = got["mpi_peak"]["summary"]["work"]
        assert (processes, low, high) == ([0, 1, 2, 3], [1.0], [4.0])
        assert got["mpi_total"]["summary"]["work"][3] == [30.0]
    # every rank's tree, under the receiving rank's slot
    for key in ("mpi_peak", "mpi_pair"):
        assert root["trees"][key] == [
            sorted(["main", "work", f"only-on-rank-{r}"]) for r in range(4)
        ]
    for res in results[1:]:
        assert "gathered" not in res and "finalize" not in res
