"""``mpiexec -n N python -m timemory.profiler / timemory.trace -- script.py``: every rank
profiled, the gathered output written once by rank zero."""

from __future__ import annotations

import json

SCRIPT = """
from mpi4py import MPI

r = MPI.COMM_WORLD.Get_rank()

def work(n):
    sum(range(1000 * n))

for i in range(r + 1):
    work(r + 1)
"""


def _top_level(tree: dict) -> list[list[str]]:
    def names(node: dict) -> list[str]:
        out = [node["node"]["prefix"]] if node["node"]["hash"] else []
        for child in node.get("children", []):
            out += names(child)
        return out

    return [[n for root in rank for n in names(root)] for rank in tree["mpi"]]


def test_profiler_under_mpiexec_writes_the_gathered_output_once(mpirun, tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    proc = mpirun(4, None, args=("-m", "timemory.profiler", "--", "script.py"))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "timemory-script-output"
    # only rank zero prints: one summary, one folder line, on stderr; stdout is the program's
    assert proc.stdout == ""
    assert proc.stderr.count(f" files in {out.name}/") == 1, proc.stderr
    assert "Outputting" not in proc.stderr and "profiling:" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == [out.name]
    tree = json.loads((out / "wall.tree.json").read_text())["timemory"]["wall_clock"]
    per_rank = _top_level(tree)
    assert len(per_rank) == 4
    for names in per_rank:
        assert names.count("work") == 1, names  # one node per rank, called r + 1 times
    flat = json.loads((out / "wall.json").read_text())["timemory"]["wall_clock"]
    (merged,) = flat["ranks"]
    work = [e for e in merged["graph"] if e["prefix"].endswith("work")]
    assert sum(e["stats"]["count"] for e in work) == 1 + 2 + 3 + 4
    # the short summary is printed once, by rank zero, over every rank
    assert proc.stderr.count("[timemory]> wall_clock: ") == 1
    # the counts: one merged list holding the four ranks' data
    body = flat
    assert (body["process_count"], body["num_ranks"], body["mpi_size"]) == (4, 1, 4)


def test_trace_under_mpiexec_writes_the_gathered_output_once(mpirun, tmp_path):
    (tmp_path / "script.py").write_text(SCRIPT)
    env = {"TIMEMORY_VERBOSE": "1"}  # every rank prints: the per-file lines of the one writer
    proc = mpirun(2, None, args=("-m", "timemory.trace", "--", "script.py"), env=env)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "timemory-script-output"
    assert proc.stderr.count(f"Outputting '{out.name}/wall.tree.json'") == 1
    assert proc.stderr.count("[timemory]> tracing: ['script.py']") == 2
    tree = json.loads((out / "wall.tree.json").read_text())["timemory"]["wall_clock"]
    per_rank = _top_level(tree)
    assert len(per_rank) == 2
    for names in per_rank:
        assert any("sum(range(1000 * n))" in n for n in names), names


def test_profiled_rank_raising_aborts_without_hanging(mpirun, tmp_path):
    (tmp_path / "script.py").write_text(
        """
from mpi4py import MPI
comm = MPI.COMM_WORLD
def fail():
    raise ValueError("boom on rank 1")
if comm.Get_rank() == 1:
    fail()
comm.recv(source=1)  # the other ranks would wait here forever
"""
    )
    proc = mpirun(2, None, args=("-m", "timemory.profiler", "--", "script.py"), timeout=180)
    assert proc.returncode != 0
    assert "ValueError: boom on rank 1" in proc.stderr
    flat = json.loads((tmp_path / "timemory-script-output/wall_1.json").read_text())
    labels = [e["prefix"] for e in flat["timemory"]["wall_clock"]["ranks"][0]["graph"]]
    assert any(label.endswith("fail") for label in labels), labels


def test_line_profiled_rank_raising_writes_its_own_lines(mpirun, tmp_path):
    import pickle

    (tmp_path / "script.py").write_text(
        """
from mpi4py import MPI
comm = MPI.COMM_WORLD

@profile
def fail(n):
    total = 0
    for i in range(n):
        total += i  # the hot line
    raise ValueError("boom on rank 1")

if comm.Get_rank() == 1:
    fail(7)
comm.recv(source=1)  # the other ranks would wait here forever
"""
    )
    proc = mpirun(2, None, args=("-m", "timemory.line_profiler", "--", "script.py"), timeout=180)
    assert proc.returncode != 0
    assert "ValueError: boom on rank 1" in proc.stderr
    assert "Wrote this rank's profile results to script.py_1.lprof" in proc.stderr
    stats = pickle.loads((tmp_path / "script.py_1.lprof").read_bytes())
    ((_, timings),) = [(k, v) for k, v in stats.timings.items() if k[2] == "fail"]
    assert [n for line, n, _ in timings if line == 9] == [7]
    out = tmp_path / "timemory-script-output"
    lines = json.loads((out / "wall.lines_1.json").read_text())["timemory"]["line_profile"]
    (fail,) = [f for f in lines["functions"] if f["function"] == "fail"]
    assert [n for line, n, _ in fail["lines"] if line == 9] == [7]


LINE_SCRIPT = """
from mpi4py import MPI

r = MPI.COMM_WORLD.Get_rank()

@profile
def work(n):
    total = 0
    for i in range(n):
        total += i  # the hot line
    return total

for _ in range(r + 1):
    work(10)
"""


def test_line_profiler_under_mpiexec_writes_every_ranks_lines_once(mpirun, tmp_path):
    import pickle

    (tmp_path / "script.py").write_text(LINE_SCRIPT)
    env = {"TIMEMORY_VERBOSE": "1"}
    proc = mpirun(2, None, args=("-m", "timemory.line_profiler", "-v", "--", "script.py"), env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Wrote profile results to script.py.lprof") == 1
    out = tmp_path / "timemory-script-output"
    assert proc.stderr.count(f"Outputting '{out.name}/wall.lines.txt'") == 1, proc.stderr
    assert proc.stderr.count("# the hot line") == 1  # -v: one table, of both ranks
    stats = pickle.loads((tmp_path / "script.py.lprof").read_bytes())
    ((_, timings),) = [(k, v) for k, v in stats.timings.items() if k[2] == "work"]
    hot = next(n for (line, n, _) in timings if line == 10)
    assert hot == 10 * (1 + 2)  # rank 0 called work once, rank 1 twice
    lines = json.loads((out / "wall.lines.json").read_text())["timemory"]["line_profile"]
    (work,) = [f for f in lines["functions"] if f["function"] == "work"]
    assert [n for line, n, _ in work["lines"] if line == 10] == [30]
