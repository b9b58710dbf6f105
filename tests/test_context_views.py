"""Work that ran beneath a submitting call path in another thread or process (``remote``) in
every view: the tree and flat views, their self values, the merged threads and processes, the
text table, the summary, pstats, the NumPy snapshot, the files and what moves between
processes. A node's inclusive and self values are what its own thread measured; its remote
children are shown beneath it but neither included nor subtracted (docs/guide/executors.md).

The tasks run one after the other on their threads, under the fake clock: every duration
asserted is exact.
"""

from __future__ import annotations

import json
import threading

import pytest
import timemory
from timemory import _context, _core
from timemory.bundle import marker

WALL = ["wall_clock"]
S = 1_000_000_000  # ns per second


@pytest.fixture
def index() -> int:
    return _core.find_component("wall_clock")


@pytest.fixture
def threads_collapsed():
    old = timemory.settings.collapse_threads
    yield
    timemory.settings.collapse_threads = old


def _run_tasks(fake_clock, tasks: int = 3, step: float = 0.3, own: float = 0.1) -> None:
    """solve -> map submits ``tasks`` step tasks of ``step`` s, one thread each, run one after
    the other; map's own thread then measures ``own`` s more; solve ``own`` s more after map."""

    def work():
        with marker(WALL, key="step"):
            fake_clock.advance(step)

    with marker(WALL, key="solve"):
        with marker(WALL, key="map"):
            task = _context.wrap(work)
            for _ in range(tasks):
                t = threading.Thread(target=task)
                t.start()
                t.join()
            fake_clock.advance(own)
        fake_clock.advance(own)


def _tree_nodes(batch) -> dict[tuple[str, ...], list[int]]:
    """{label path: [node ids]} of a TreeBatch (dummy roots left out of the paths)."""
    out: dict[tuple[str, ...], list[int]] = {}
    stack = [(i, ()) for i in batch.roots()]
    while stack:
        i, prefix = stack.pop()
        path = prefix if batch.hash(i) == 0 else (*prefix, batch.label(i))
        if path:
            out.setdefault(path, []).append(i)
        stack += [(c, path) for c in batch.children(i)]
    return out


def test_remote_children_are_neither_included_nor_subtracted(fake_clock, index):
    _run_tasks(fake_clock)
    batch = _core.tree_snapshot(index)
    nodes = _tree_nodes(batch)
    (solve,), (map_,), (step,) = (
        nodes[("solve",)],
        nodes[("solve", "map")],
        nodes[("solve", "map", "step")],
    )
    assert [batch.is_remote(i) for i in (solve, map_, step)] == [False, False, True]
    assert batch.is_context(map_) and not batch.is_context(solve)
    # map's own thread measured 0.9 s of waiting for the tasks plus 0.1 s: all its own
    assert batch.inclusive(map_).accum[0] == 1.0 * S
    assert batch.exclusive(map_).accum[0] == 1.0 * S
    # the tasks' 0.9 s are theirs: three laps beneath map
    assert batch.inclusive(step).laps == 3 and batch.inclusive(step).accum[0] == pytest.approx(
        0.9 * S
    )
    # solve's child map ran on solve's own thread: subtracted as always
    assert batch.inclusive(solve).accum[0] == 1.1 * S
    assert batch.exclusive(solve).accum[0] == pytest.approx(0.1 * S)
    # the native recomputation agrees with the snapshot
    root = _core.compute_exclusive(index, batch.node(batch.roots()[0]))
    assert root.children[0].children[0].exclusive.accum[0] == 1.0 * S


def test_flat_results_and_the_storage_objects_say_remote(fake_clock, index):
    _run_tasks(fake_clock, tasks=2)
    storage = timemory.storage.WallClockStorage
    flat = {r.label(): r.remote() for r in storage.get()}
    assert flat == {"solve": False, "map": False, "step": True}
    trees = storage.get_tree()
    seen = {}
    stack = list(trees)
    while stack:
        t = stack.pop()
        seen[t.value().prefix()] = (t.remote(), t.value().remote())
        stack += t.children()
    assert seen["step"] == (True, True) and seen["map"] == (False, False)


def test_threads_not_collapsed_show_the_placeholders(fake_clock, index, threads_collapsed):
    timemory.settings.collapse_threads = False
    _run_tasks(fake_clock, tasks=2)
    batch = _core.tree_snapshot(index)
    # the submitter's view, then one view per worker thread: the path entered as
    # placeholders (count 0), the task's node beneath it, remote
    views = []
    for root in batch.roots():
        sub = _core.TreeBatch(index, [batch.node(root)])
        views.append({p: sub.inclusive(ids[0]).laps for p, ids in _tree_nodes(sub).items()})
    assert views[0] == {("solve",): 1, ("solve", "map"): 1}
    worker = {("solve",): 0, ("solve", "map"): 0, ("solve", "map", "step"): 1}
    assert views[1:] == [worker, worker]
    flat = _core.flat_snapshot(index)
    remote = [(flat.tid(i), flat.label(i)) for i in range(len(flat)) if flat.is_remote(i)]
    assert sorted(remote) == sorted(
        {(flat.tid(i), "step") for i in range(len(flat)) if flat.label(i) == "step"}
    )
    assert len(remote) == 2


def test_text_table_marks_remote_rows_and_keeps_self_shares(fake_clock, index):
    _run_tasks(fake_clock)
    table = _core.live_text_table(index)
    # the LABEL cell: the label itself holds "|_" but never " | "
    rows = {line[2:].split(" | ")[0].strip(): line for line in table.splitlines() if ">>>" in line}
    assert set(rows) == {">>> solve", ">>> |_map", ">>>   |_[parallel] step"}
    # map's self share is 100%: the 0.9 s its tasks took elsewhere are not taken out of it
    assert rows[">>> |_map"].rstrip().endswith("100.0 |")
    lines = table.splitlines()
    assert lines[-1].startswith("[parallel]: ran in parallel elsewhere")
    assert sum(line.startswith("[parallel]:") for line in lines) == 1
    timemory.clear()
    with marker(WALL, key="alone"):
        fake_clock.advance(0.1)
    assert "[parallel]" not in _core.live_text_table(index)


def test_summary_self_time_and_pstats_leave_remote_children_out(fake_clock, index):
    rows, total = _core.merge_by_label(index)
    assert total == 0  # nothing recorded yet
    _run_tasks(fake_clock)
    rows, total = _core.merge_by_label(index)
    by_label = {label: (count, inclusive, self_) for label, count, _, inclusive, self_, _ in rows}
    assert by_label["map"] == (1, 1.0 * S, 1.0 * S)
    assert by_label["step"][0] == 3 and by_label["step"][2] == pytest.approx(0.9 * S)
    assert total == 1.1 * S
    stats = _core.pstats_functions([index], 0, False, index)
    by_name = {key[2]: value for key, value in stats.items()}
    cc, nc, tt, ct, _ = by_name["map"]
    assert (nc, tt, ct) == (1, pytest.approx(1.0), pytest.approx(1.0))
    assert by_name["solve"][2] == pytest.approx(0.1)


def test_numpy_snapshot_self_values(fake_clock, index):
    pytest.importorskip("numpy")
    from timemory.storage import _snapshot

    _run_tasks(fake_clock)
    snap = _snapshot.snapshot(["wall_clock"])
    arr = snap.as_numpy()
    labels = snap.labels
    got = {
        labels[r["label"]]: (int(r["count"]), r["wall_clock"]["self"], r["wall_clock"]["inclusive"])
        for r in arr
    }
    assert got["map"] == (1, 1.0 * S, 1.0 * S)
    assert got["solve"][1] == pytest.approx(0.1 * S)


def test_packed_data_keeps_the_flags_and_processes_merge_them(fake_clock, index):
    # the submitting process: solve -> map, measured
    with marker(WALL, key="solve"):
        with marker(WALL, key="map"):
            ctx = _context.capture()
            fake_clock.advance(1.0)
    submitter = _core.pack_flat_snapshot(index)
    submitter_tree = _core.pack_tree_snapshot(index)
    timemory.clear()
    # a worker process: the submitting path entered (placeholders), the task beneath it
    token = _context.enter(ctx)
    with marker(WALL, key="step"):
        fake_clock.advance(0.4)
    _context.leave(token)
    worker = _core.pack_flat_snapshot(index)
    flat = _core.unpack_flat(index, worker)
    assert [
        (flat.label(i), flat.laps(i), flat.is_remote(i), flat.is_context(i))
        for i in range(len(flat))
    ] == [
        ("solve", 0, False, False),
        ("map", 0, False, True),
        ("step", 1, True, False),
    ]
    tree = _core.unpack_tree(index, _core.pack_tree_snapshot(index))
    assert sorted(tree.label(i) for i in range(len(tree)) if tree.is_remote(i)) == ["step"]
    assert _tree_nodes(_core.unpack_tree(index, submitter_tree)).keys() == {
        ("solve",),
        ("solve", "map"),
    }
    # merged by call path: the flags are ORed, the values are the submitter's and the task's
    merged = _core.merge_packed_flat(index, [submitter, worker])
    got = {
        merged.label(i): (merged.laps(i), merged.is_remote(i), merged.is_context(i))
        for i in range(len(merged))
    }
    assert got == {"solve": (1, False, False), "map": (1, False, True), "step": (1, True, False)}
    # the cross-process summary: a process where a node is only a placeholder does not have it
    summary = {
        s.label: (list(s.processes), s.remote)
        for s in _core.summarize_packed_flat(index, [submitter, worker])
    }
    assert summary == {"solve": ([0], False), "map": ([0], False), "step": ([1], True)}


def test_files_carry_remote_and_read_back(fake_clock, index, tmp_path):
    _run_tasks(fake_clock, tasks=2)
    flat_path, tree_path = tmp_path / "flat.json", tmp_path / "tree.json"
    _core.write_live_flat_json(str(flat_path), index, {})
    _core.write_live_tree_json(str(tree_path), index, {}, "graph")
    graph = json.loads(flat_path.read_text())["ranks"][0]["graph"]
    assert [(e["prefix"], e.get("remote", False)) for e in graph] == [
        (">>> solve", False),
        (">>> |_map", False),
        (">>>   |_step", True),
    ]
    assert [e.get("context", False) for e in graph] == [False, True, False]
    doc = json.loads(tree_path.read_text())

    def walk(node):
        yield node["node"]
        for c in node["children"]:
            yield from walk(c)

    nodes = [n for root in doc["graph"][0] for n in walk(root)]
    assert [n["prefix"] for n in nodes if n.get("remote")] == ["step"]
    # read back: the flags survive, and the stored self values are the measured ones
    storage = timemory.storage.WallClockStorage
    back = storage.load_json_tree_dmp({"timemory": {"wall_clock": doc}})
    remote = []
    stack = [t for rank in back for t in rank]
    while stack:
        t = stack.pop()
        if t.remote():
            remote.append(t.value().prefix())
        stack += t.children()
    assert remote == ["step"]


def test_callgrind_lists_remote_calls_without_their_cost(fake_clock, index, tmp_path):
    _run_tasks(fake_clock)
    path = tmp_path / "callgrind.out"
    _core.write_callgrind(str(path), [index])
    names = {}
    calls = {}  # (caller, callee): (calls, inclusive cost)
    caller = callee = None
    lines = path.read_text().splitlines()
    for k, line in enumerate(lines):
        if line.startswith("fn=(") and " " in line:
            ident, name = line[3:].split(" ", 1)
            names[ident] = name
        if line.startswith("fn="):
            caller = line[3:].split(" ")[0]
        elif line.startswith("cfn="):
            callee = line[4:]
        elif line.startswith("calls="):
            count = int(line.split("=")[1].split()[0])
            calls[(names[caller], names[callee])] = (count, int(lines[k + 1].split()[1]))
    # solve's call of map costs map's own 1.0 s; map's 3 calls of step (elsewhere) cost it nothing
    assert calls[("solve", "map")] == (1, S)
    assert calls[("map", "step")] == (3, 0)


def test_hatchet_reads_remote_nodes_with_their_own_self_values(fake_clock):
    hatchet = pytest.importorskip("hatchet")
    _run_tasks(fake_clock)
    gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
    (solve,) = gf.graph.roots
    (map_,) = solve.children
    assert [c.frame["name"] for c in map_.children] == ["step"]
    df = gf.dataframe.reset_index().set_index("name")
    # map's exclusive time is all its own (1.0 s), step's is the tasks' 0.9 s
    assert df.loc["map", "sum.wall_clock"] == pytest.approx(1.0)
    assert df.loc["map", "sum.wall_clock (inc)"] == pytest.approx(1.0)
    assert df.loc["step", "sum.wall_clock"] == pytest.approx(0.9)
    assert df.loc["solve", "sum.wall_clock"] == pytest.approx(0.1)


# a process pool (fork) whose tasks carry the submitting path: run as fakeclock.PRELUDE + this
POOL_PROGRAM = """
import json, sys
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
import timemory
from timemory import _context
from timemory.bundle import marker
from timemory.storage import WallClockStorage as W

def task(i):
    with marker(["wall_clock"], key="step"):
        nap(0.005)
    return i

if __name__ == "__main__":
    with marker(["wall_clock"], key="main"):
        with marker(["wall_clock"], key="map"):
            with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as ex:
                list(ex.map(_context.wrap(task), range(8)))
            nap(0.002)
    (merged,) = W.dmp_get()
    tree = {}  # {path: [(remote, inclusive, exclusive) per process that has it]}
    for roots in W.dmp_get_tree():
        stack = [(r, ()) for r in roots]
        while stack:
            t, path = stack.pop()
            v = t.value()
            path = path if v.is_dummy() else path + (v.prefix(),)
            if path:
                values = (t.remote(), v.inclusive().data().get(), v.exclusive().data().get())
                tree.setdefault("/".join(path), []).append(values)
            stack += [(c, path) for c in t.children()]
    summary = {s.label(): (len(s.processes()), s.laps(), s.remote()) for s in W.dmp_summary()}
    timemory.settings.collapse_processes = False
    per_process = [[(e.label(), e.data().laps(), e.remote()) for e in lst] for lst in W.dmp_get()]
    timemory.settings.collapse_processes = True
    json.dump({
        "flat": [(e.label(), e.data().laps(), e.remote()) for e in merged],
        "tree": tree,
        "summary": summary,
        "per_process": per_process,
    }, open("result.json", "w"))
"""


def test_process_pool_tasks_merge_beneath_the_submitting_path(run_python, tmp_path):
    from fakeclock import PRELUDE

    proc = run_python(PRELUDE + POOL_PROGRAM, timeout=180)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["flat"] == [["main", 1, False], ["map", 1, False], ["step", 8, True]]
    # map measured 2 ms in the parent (its workers' 40 ms are theirs): all of it its own
    # (the parent's tree first, then the workers', whose main -> map are placeholders of 0)
    parent_map, *worker_maps = res["tree"]["main/map"]
    assert parent_map == [False, pytest.approx(0.002), pytest.approx(0.002)]
    assert worker_maps and all(m == [False, 0, 0] for m in worker_maps)
    steps = res["tree"]["main/map/step"]
    assert all(remote for remote, _, _ in steps)
    assert sum(inc for _, inc, _ in steps) == pytest.approx(0.04)
    assert sum(exc for _, _, exc in steps) == pytest.approx(0.04)
    # the workers hold main -> map as placeholders: not processes that have those nodes
    parent_and_workers = len(res["per_process"])
    assert parent_and_workers >= 2
    assert res["summary"]["main"] == [1, 1, False] and res["summary"]["map"] == [1, 1, False]
    assert res["summary"]["step"] == [parent_and_workers - 1, 8, True]
    for worker in res["per_process"][1:]:
        assert worker[:2] == [["main", 0, False], ["map", 0, False]]
        assert all(label == "step" and remote for label, _, remote in worker[2:])
    # the files the parent wrote: the marked row and the legend in the text table, the flag
    # in the JSON
    out = tmp_path / "timemory-script-output"
    text = (out / "wall.txt").read_text()
    assert ">>>   |_[parallel] step" in text
    assert text.count("[parallel]: ran in parallel elsewhere") == 1
    graph = json.loads((out / "wall.json").read_text())["timemory"]["wall_clock"]["ranks"][0][
        "graph"
    ]
    assert [(e["prefix"].split("|_")[-1], e.get("remote", False)) for e in graph] == [
        (">>> main", False),
        ("map", False),
        ("step", True),
    ]


def test_summary_total_is_the_work_of_every_thread(fake_clock, index):
    from timemory._output import _summary

    _run_tasks(fake_clock)
    summary = _summary.summarize(index)
    rows = {r.label: (r.count, r.self_value) for r in summary.rows}
    assert rows == {"map": (1, 1.0 * S), "step": (3, pytest.approx(0.9 * S)), "solve": (1, 0.1 * S)}
    # the ranking by self time, and a total (2.0 s) the self column sums to
    assert [r.label for r in summary.rows] == ["map", "step", "solve"]
    assert summary.total == pytest.approx(2.0 * S)


def test_a_task_run_inline_where_it_was_submitted_is_not_remote(fake_clock, index):
    def work():
        with marker(WALL, key="step"):
            fake_clock.advance(0.3)

    with marker(WALL, key="map"):
        task = _context.wrap(work)
        task()  # an executor that runs the task in the submitting thread, at once
        fake_clock.advance(0.1)
    batch = _core.tree_snapshot(index)
    nodes = _tree_nodes(batch)
    (map_,), (step,) = nodes[("map",)], nodes[("map", "step")]
    assert not batch.is_remote(step) and not batch.is_context(map_)
    assert batch.exclusive(map_).accum[0] == pytest.approx(0.1 * S)
