"""Every rank's data gathered on rank zero (4 ranks doing different work), rank-0 writing,
finalize ordering and failure handling under ``mpiexec``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakeclock import PRELUDE

NAP = 0.08  # on the fake clock, rank r spends NAP * (r + 1) in "work"

# run as PRELUDE + RANKS_PROGRAM.format(nap=...): on the fake clock
RANKS_PROGRAM = """
import json, sys
from mpi4py import MPI
import timemory
from timemory.bundle import marker
from timemory.storage import WallClockStorage as W

comm = MPI.COMM_WORLD
r = comm.Get_rank()
with marker(["wall_clock"], key="main"):
    for _ in range(r + 1):
        with marker(["wall_clock"], key="work"):
            nap({nap})
    with marker(["wall_clock"], key=f"only-on-rank-{{r}}"):
        nap(0.01)

flat = W.dmp_get()
tree = W.dmp_get_tree()
summary = W.dmp_summary()
tree_dict = timemory.get(hierarchy=True, components=["wall_clock"])
tree_dumps = W.dumps(W.dmp_get_tree())
flat_dict = timemory.get(components=["wall_clock"])
flat_dumps = W.dumps(W.dmp_get())
text = timemory.get_text()

def labels(roots):
    out = []
    def walk(node):
        if not node.value().is_dummy():
            out.append(node.value().prefix())
        for c in node.children():
            walk(c)
    for root in roots:
        walk(root)
    return out

result = {{
    "rank": r,
    "mpi": [timemory.mpi.is_initialized(), timemory.mpi.rank(), timemory.mpi.size()],
    "flat": [
        [(e.label(), e.depth(), e.data().laps(), e.data().get()) for e in lst] for lst in flat
    ],
    "tree": [labels(roots) for roots in tree],
    "tree_pids": [sorted(p for root in roots for p in root.value().pid()) for roots in tree],
    "summary": [
        dict(label=s.label(), ranks=s.ranks(), min=s.min(), max=s.max(), mean=s.mean(),
             imbalance=s.imbalance(), max_rank=s.max_rank(), laps=s.laps())
        for s in summary
    ],
    "get_matches_dumps": [str(tree_dict) == str(tree_dumps), str(flat_dict) == str(flat_dumps)],
    "text": text,
}}
with open(f"result-{{r}}.json", "w") as f:
    json.dump(result, f)
"""


def _results(tmp_path: Path, n: int) -> list[dict]:
    return [json.loads((tmp_path / f"result-{r}.json").read_text()) for r in range(n)]


def test_four_ranks_gathered_on_rank_zero(mpirun, tmp_path):
    proc = mpirun(4, PRELUDE + RANKS_PROGRAM.format(nap=NAP))
    assert proc.returncode == 0, proc.stderr
    results = _results(tmp_path, 4)
    root = results[0]
    assert root["mpi"] == [True, 0, 4]

    # dmp_get_tree: one list per rank, each with that rank's own labels (and pid)
    assert len(root["tree"]) == 4
    for r, labels in enumerate(root["tree"]):
        assert labels == ["main", "work", f"only-on-rank-{r}"], labels
    assert len({tuple(p) for p in root["tree_pids"]}) == 4

    # collapse_processes (default): one merged list; counts are the sum over ranks
    assert len(root["flat"]) == 1
    flat = {label: (depth, laps, value) for label, depth, laps, value in root["flat"][0]}
    assert flat["main"][1] == 4
    assert flat["work"][1] == 1 + 2 + 3 + 4
    for r in range(4):
        assert flat[f"only-on-rank-{r}"][:2] == (1, 1)
    assert flat["work"][2] == pytest.approx(sum(NAP * (r + 1) for r in range(4)), rel=1e-12)

    # the cross-rank summary of "work": rank r took NAP * (r + 1) in total
    summary = {s["label"]: s for s in root["summary"]}
    work = summary["work"]
    assert work["ranks"] == [0, 1, 2, 3]
    assert work["laps"] == 10
    assert work["min"] == pytest.approx(NAP, rel=1e-12)
    assert work["max"] == pytest.approx(4 * NAP, rel=1e-12)
    assert work["mean"] == pytest.approx(2.5 * NAP, rel=1e-12)
    assert work["imbalance"] == pytest.approx(4 / 2.5, rel=1e-12)
    assert work["max_rank"] == 3
    for r in range(4):  # labels that exist on one rank only are kept
        assert summary[f"only-on-rank-{r}"]["ranks"] == [r]

    assert root["get_matches_dumps"] == [True, True]
    assert "CROSS-PROCESS SUMMARY OVER 4 RANKS" in root["text"]

    # the other ranks get their own data, and no text
    for res in results[1:]:
        r = res["rank"]
        assert res["mpi"] == [True, r, 4]
        assert res["tree"] == [["main", "work", f"only-on-rank-{r}"]]
        assert [x[0] for x in res["flat"][0]] == ["main", "work", f"only-on-rank-{r}"]
        assert res["summary"] == [] and res["text"] == ""


def _output_files(tmp_path: Path) -> list[str]:
    return sorted(
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if p.is_file() and "output" in str(p)
    )


# hatchet 2026.2.0's reader stacks the rank column with pandas' deprecated stack()
@pytest.mark.filterwarnings("ignore:The previous implementation of stack:FutureWarning")
def test_rank_zero_writes_every_rank_once(mpirun, tmp_path):
    proc = mpirun(4, PRELUDE + RANKS_PROGRAM.format(nap=0.01))
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "timemory-prog-output"
    assert _output_files(tmp_path) == [
        f"timemory-prog-output/{n}"
        for n in (
            "functions.json",
            "metadata.json",
            "wall.flamegraph.json",
            "wall.json",
            "wall.tree.json",
            "wall.txt",
        )
    ]
    assert proc.stderr.count("timemory: ") == 1  # rank zero's folder line alone
    tree = json.loads((out / "wall.tree.json").read_text())["timemory"]["wall_clock"]
    assert "graph" not in tree and len(tree["mpi"]) == 4
    assert tree["mpi_size"] == 4
    for r, rank in enumerate(tree["mpi"]):
        top = [c["node"]["prefix"] for root in rank for c in root["children"]]
        assert top == ["main"]
        below = [
            g["node"]["prefix"] for root in rank for c in root["children"] for g in c["children"]
        ]
        assert below == ["work", f"only-on-rank-{r}"]
    flat = json.loads((out / "wall.json").read_text())["timemory"]["wall_clock"]
    assert len(flat["ranks"]) == 1  # collapsed
    counts = {e["prefix"]: e["stats"]["count"] for e in flat["ranks"][0]["graph"]}
    assert counts[">>> |_work"] == 10
    text = (out / "wall.txt").read_text()
    assert "CROSS-PROCESS SUMMARY OVER 4 RANKS" in text and "only-on-rank-3" in text

    hatchet = pytest.importorskip("hatchet")
    gf = hatchet.GraphFrame.from_timemory(str(out / "wall.tree.json"))
    assert sorted(set(gf.dataframe.reset_index()["rank"])) == [0, 1, 2, 3]


def test_collapse_processes_off_gives_one_list_per_rank(mpirun, tmp_path):
    proc = mpirun(
        4, PRELUDE + RANKS_PROGRAM.format(nap=0.01), env={"TIMEMORY_COLLAPSE_PROCESSES": "false"}
    )
    assert proc.returncode == 0, proc.stderr
    root = _results(tmp_path, 4)[0]
    assert len(root["flat"]) == 4
    for r, lst in enumerate(root["flat"]):
        assert [x[0] for x in lst] == ["main", "work", f"only-on-rank-{r}"]
        assert lst[1][2] == r + 1
    assert "|0>>> main" in root["text"] and "|3>>> |_only-on-rank-3" in root["text"]
    flat = json.loads((tmp_path / "timemory-prog-output/wall.json").read_text())
    assert [x["rank"] for x in flat["timemory"]["wall_clock"]["ranks"]] == [0, 1, 2, 3]


def test_node_count_merges_per_node(mpirun, tmp_path):
    proc = mpirun(4, PRELUDE + RANKS_PROGRAM.format(nap=0.01), env={"TIMEMORY_NODE_COUNT": "2"})
    assert proc.returncode == 0, proc.stderr
    root = _results(tmp_path, 4)[0]
    assert len(root["flat"]) == 2
    first = {x[0]: x[2] for x in root["flat"][0]}
    assert first["work"] == 1 + 2 and "only-on-rank-1" in first and "only-on-rank-2" not in first


FINALIZE_PROGRAM = """
import sys
from mpi4py import MPI
import timemory
from timemory.bundle import marker

r = MPI.COMM_WORLD.Get_rank()
with marker(["wall_clock"], key=f"before-finalize-{r}"):
    sum(range(1000))
MPI.Finalize()
print("finalized", r, MPI.Is_finalized(), flush=True)
"""


def test_user_mpi_finalize_loses_nothing(mpirun, tmp_path):
    proc = mpirun(4, FINALIZE_PROGRAM)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("finalized") == 4
    tree = json.loads((tmp_path / "timemory-prog-output/wall.tree.json").read_text())
    ranks = tree["timemory"]["wall_clock"]["mpi"]
    assert [c["node"]["prefix"] for rank in ranks for root in rank for c in root["children"]] == [
        f"before-finalize-{r}" for r in range(4)
    ]


def test_mpi_init_setting_initialises_mpi(mpirun, tmp_path):
    source = """
    import timemory
    from timemory.bundle import marker
    assert timemory.mpi.is_initialized(), "settings.mpi_init did not initialise MPI"
    with marker(["wall_clock"], key=f"rank-{timemory.mpi.rank()}"):
        pass
    """
    proc = mpirun(2, source, env={"TIMEMORY_MPI_INIT": "1", "TIMEMORY_MPI_FINALIZE": "1"})
    assert proc.returncode == 0, proc.stderr
    tree = json.loads((tmp_path / "timemory-prog-output/wall.tree.json").read_text())
    assert len(tree["timemory"]["wall_clock"]["mpi"]) == 2


def test_rank_placeholder_gives_per_rank_files(mpirun, tmp_path):
    proc = mpirun(
        2,
        PRELUDE + RANKS_PROGRAM.format(nap=0.01),
        env={"TIMEMORY_OUTPUT_PATH": "out-%rank%-of-%size%"},
    )
    assert proc.returncode == 0, proc.stderr
    for r in range(2):
        tree = json.loads((tmp_path / f"out-{r}-of-2/wall.tree.json").read_text())
        ranks = tree["timemory"]["wall_clock"]["mpi"]
        assert len(ranks) == 1
        below = [
            g["node"]["prefix"]
            for root in ranks[0]
            for c in root["children"]
            for g in c["children"]
        ]
        assert below == ["work", f"only-on-rank-{r}"]


RAISING_PROGRAM = """
from mpi4py import MPI
import timemory
from timemory.bundle import marker

comm = MPI.COMM_WORLD
r = comm.Get_rank()
with marker(["wall_clock"], key=f"rank-{r}"):
    sum(range(1000))
if r == 1:
    raise RuntimeError("rank 1 failed")
comm.recv(source=1)  # never satisfied: without the abort the other ranks hang here
"""


def test_rank_raising_aborts_the_job_and_keeps_its_data(mpirun, tmp_path):
    proc = mpirun(4, RAISING_PROGRAM, timeout=180)
    assert proc.returncode != 0
    assert "RuntimeError: rank 1 failed" in proc.stderr
    data = json.loads((tmp_path / "timemory-prog-output/wall_1.json").read_text())
    graph = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert [e["prefix"] for e in graph] == [">>> rank-1"]


def test_without_mpi_the_data_are_this_process(run_python):
    proc = run_python(
        """
        import timemory
        from timemory.bundle import marker
        from timemory.storage import WallClockStorage as W
        with marker(["wall_clock"], key="k"):
            pass
        assert not timemory.mpi.is_initialized() and "mpi4py.MPI" not in __import__("sys").modules
        assert (timemory.mpi.rank(), timemory.mpi.size()) == (0, 1)
        assert [[e.label() for e in r] for r in W.dmp_get()] == [["k"]]
        assert len(W.dmp_get_tree()) == 1
        (s,) = W.dmp_summary()
        assert s.label() == "k" and s.ranks() == [0] and s.imbalance() == 1.0
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stdout
