"""Work handed to thread and process pools is recorded beneath the call path that submitted it
(timemory.executors): every submission method of ThreadPoolExecutor, ProcessPoolExecutor and
multiprocessing.Pool, markers, the profiler, the tracer and @profile in the tasks, and the same
call graph (paths and counts) whichever executor runs examples/executors/mapreduce.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.pool import ThreadPool
from pathlib import Path

import pytest
from timemory import _context, executors, settings
from timemory.bundle import marker
from tool_helpers import clean_env, run_tool, tree_counts, write

REPO = Path(__file__).resolve().parent.parent
MAPREDUCE = REPO / "examples" / "executors" / "mapreduce.py"
# subprocess tests: generous bounds, a shared machine may be slow
TIMEOUT = 300


def step(x: int = 0) -> int:
    with marker(["wall_clock"], key="step"):
        return x + 1


def step2(x: int, y: int) -> int:
    with marker(["wall_clock"], key="step"):
        return x + y


@pytest.fixture
def context_off():
    settings.executor_context = False
    try:
        yield
    finally:
        settings.executor_context = True


# ------------------------------------------------------------------ threads, in this process
def test_thread_pool_submit_and_map_land_beneath_the_submitting_path():
    with ThreadPoolExecutor(3) as pool:
        with marker(["wall_clock"], key="solve"):
            with marker(["wall_clock"], key="submit"):
                futures = [pool.submit(step, i) for i in range(5)]
                assert [f.result() for f in futures] == [1, 2, 3, 4, 5]
            with marker(["wall_clock"], key="map"):
                assert list(pool.map(step, range(7))) == list(range(1, 8))
    counts = tree_counts()
    assert counts[("solve", "submit", "step")] == 5
    assert counts[("solve", "map", "step")] == 7
    assert ("step",) not in counts
    # the placeholders the workers entered have no values of their own
    assert counts[("solve",)] == 1 and counts[("solve", "map")] == 1


def test_every_pool_method_carries_the_context():
    calls = {
        "apply": lambda p: p.apply(step, (1,)),
        "apply_async": lambda p: p.apply_async(step, (1,)).get(),
        "map": lambda p: p.map(step, range(3)),
        "map_async": lambda p: p.map_async(step, range(3)).get(),
        "imap": lambda p: list(p.imap(step, range(3))),
        "imap_unordered": lambda p: list(p.imap_unordered(step, range(3))),
        "starmap": lambda p: p.starmap(step2, [(1, 2)] * 3),
        "starmap_async": lambda p: p.starmap_async(step2, [(1, 2)] * 3).get(),
        "keyword": lambda p: p.apply_async(func=step, args=(1,)).get(),
    }
    with ThreadPool(2) as pool:
        for name, call in calls.items():
            with marker(["wall_clock"], key=name):
                call(pool)
    counts = tree_counts()
    expected = {name: 1 if name.startswith(("apply", "keyword")) else 3 for name in calls}
    assert {name: counts.get((name, "step"), 0) for name in calls} == expected
    assert ("step",) not in counts


def test_nothing_open_records_the_tasks_at_the_top_level():
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(step, range(4)))
    assert tree_counts() == {("step",): 4}


def test_setting_off_records_the_tasks_at_the_top_level(context_off):
    with ThreadPoolExecutor(2) as pool, marker(["wall_clock"], key="solve"):
        list(pool.map(step, range(4)))
        pool.submit(step).result()
    counts = tree_counts()
    assert counts[("step",)] == 5 and ("solve", "step") not in counts
    with marker(["wall_clock"], key="solve"):
        assert executors.wrap(step) is step


def test_the_setting_is_read_at_each_submission():
    with ThreadPoolExecutor(1) as pool, marker(["wall_clock"], key="solve"):
        pool.submit(step).result()
        settings.executor_context = False
        try:
            pool.submit(step).result()
        finally:
            settings.executor_context = True
    counts = tree_counts()
    assert counts[("solve", "step")] == 1 and counts[("step",)] == 1


def test_wrap_for_other_executors():
    assert executors.wrap(step) is step  # nothing open: nothing to carry
    assert executors.capture() is None
    with marker(["wall_clock"], key="solve"):
        task = executors.wrap(step)
        assert executors.wrap(task) is task  # carried once
        thread = threading.Thread(target=task, args=(1,))
        thread.start()
        thread.join()
        with marker(["wall_clock"], key="decide"):
            decided = executors.capture()
        later = executors.wrap(step, decided)  # beneath where it was decided, not here
        later()
    counts = tree_counts()
    assert counts[("solve", "step")] == 1 and counts[("solve", "decide", "step")] == 1


def test_tasks_of_one_call_path_share_one_context():
    """A pool pickles the context with each task: captured, packed and unpickled once per
    call path, not per task."""
    import pickle

    with marker(["wall_clock"], key="a"):
        first, second = _context.capture(), _context.capture()
        with marker(["wall_clock"], key="b"):
            inner = _context.capture()
    assert first is second and inner is not first and inner.paths != first.paths
    blobs = [pickle.dumps(_context.Task(step, first)) for _ in range(3)]
    assert len(set(blobs)) == 1
    tasks = [pickle.loads(b) for b in blobs]
    assert tasks[0].context is tasks[1].context is tasks[2].context
    assert tasks[0].context == first


def test_patched_lists_the_pools_imported():
    # this module imported concurrent.futures' thread pool and multiprocessing.pool
    now = executors.patched()
    assert now["concurrent.futures.ThreadPoolExecutor"] == ("submit", "map")
    assert set(now["multiprocessing.pool.Pool"]) == set(
        executors.TARGETS["multiprocessing.pool"]["Pool"]
    )


def test_a_pool_thread_keeps_its_own_position_around_a_task():
    """What a pool thread records outside its tasks (its initializer) is not beneath a
    task's context, and a task's context does not leak into the next task."""

    def init():
        with marker(["wall_clock"], key="init"):
            pass

    with ThreadPoolExecutor(1, initializer=init) as pool:
        with marker(["wall_clock"], key="a"):
            pool.submit(step).result()
        with marker(["wall_clock"], key="b"):
            pool.submit(step).result()
        pool.submit(step).result()
    counts = tree_counts()
    assert counts[("a", "step")] == 1 and counts[("b", "step")] == 1
    assert counts[("step",)] == 1 and counts[("init",)] == 1
    assert not [p for p in counts if len(p) > 2]


def test_a_task_that_raises_leaves_the_context():
    def boom():
        with marker(["wall_clock"], key="boom"):
            raise ValueError("no")

    with ThreadPoolExecutor(1) as pool:
        with marker(["wall_clock"], key="solve"):
            with pytest.raises(ValueError, match="no"):
                pool.submit(boom).result()
        pool.submit(step).result()
    counts = tree_counts()
    assert counts[("solve", "boom")] == 1 and counts[("step",)] == 1


def test_a_task_that_submits_work_passes_its_own_path_on():
    with ThreadPoolExecutor(2) as inner_pool:

        def outer():
            with marker(["wall_clock"], key="outer"):
                return sum(inner_pool.map(step, range(3)))

        with ThreadPoolExecutor(1) as pool, marker(["wall_clock"], key="solve"):
            assert pool.submit(outer).result() == 6
    counts = tree_counts()
    assert counts[("solve", "outer")] == 1 and counts[("solve", "outer", "step")] == 3
    assert len(counts) == 3


# ------------------------------------------------------------------ processes (subprocesses)
def _run(source: str, cwd: Path, *args: str, env: dict[str, str] | None = None):
    script = write(cwd / "script.py", source)
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=clean_env({"TIMEMORY_COUT_OUTPUT": "OFF", **(env or {})}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def _paths(folder: Path) -> dict[tuple[str, ...], int]:
    """{call path: count} of an output folder's merged call graph (wall_clock)."""
    from timemory.runs import read_folder

    graph = read_folder(folder)
    counts = graph.values["wall_clock"]["count"]
    return {path: int(n) for path, n in zip(graph.paths, counts)}


POOL_METHODS = """
import json, sys
import multiprocessing as mp
from timemory.bundle import marker

def step(x=0):
    with marker(["wall_clock"], key="step"):
        return x + 1

def step2(x, y):
    with marker(["wall_clock"], key="step"):
        return x + y

CALLS = {
    "apply": lambda p: p.apply(step, (1,)),
    "apply_async": lambda p: p.apply_async(step, (1,)).get(),
    "map": lambda p: p.map(step, range(3)),
    "map_async": lambda p: p.map_async(step, range(3)).get(),
    "imap": lambda p: list(p.imap(step, range(3))),
    "imap_unordered": lambda p: list(p.imap_unordered(step, range(3))),
    "starmap": lambda p: p.starmap(step2, [(1, 2)] * 3),
    "starmap_async": lambda p: p.starmap_async(step2, [(1, 2)] * 3).get(),
    "executor_submit": lambda p: [f.result() for f in [p.submit(step, i) for i in range(3)]],
    "executor_map": lambda p: list(p.map(step, range(3), chunksize=2)),
}

if __name__ == "__main__":
    method = sys.argv[1]
    ctx = mp.get_context(method)
    with marker(["wall_clock"], key="main"):
        with ctx.Pool(2) as pool:
            for name, call in CALLS.items():
                if not name.startswith("executor"):
                    with marker(["wall_clock"], key=name):
                        call(pool)
        from concurrent.futures import ProcessPoolExecutor
        with ProcessPoolExecutor(2, mp_context=ctx) as pool:
            for name, call in CALLS.items():
                if name.startswith("executor"):
                    with marker(["wall_clock"], key=name):
                        call(pool)
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_process_pools_carry_the_context(tmp_path, method):
    out = tmp_path / "out"
    proc = _run(POOL_METHODS, tmp_path, method, env={"TIMEMORY_OUTPUT_PATH": str(out)})
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    counts = _paths(out)
    names = ["apply", "apply_async", "map", "map_async", "imap", "imap_unordered", "starmap"]
    names += ["starmap_async", "executor_submit", "executor_map"]
    expected = {name: 1 if name.startswith("apply") else 3 for name in names}
    assert {name: counts.get(("main", name, "step"), 0) for name in names} == expected
    assert ("step",) not in counts


# ------------------------------------------------------------------ the same answer everywhere
def _mapreduce(tmp_path: Path, executor: str, **env: str) -> dict[tuple[str, ...], int]:
    out = tmp_path / f"out-{executor}-{len(env)}"
    proc = subprocess.run(
        [sys.executable, str(MAPREDUCE), "--executor", executor, "--partitions", "6"],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": str(out), "TIMEMORY_COUT_OUTPUT": "OFF", **env}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    return _paths(out)


MAPREDUCE_GRAPH = {
    ("analysis",): 1,
    ("analysis", "map_partitions"): 1,
    ("analysis", "map_partitions", "process_partition"): 6,
    ("analysis", "map_partitions", "process_partition", "load"): 6,
    ("analysis", "map_partitions", "process_partition", "compute"): 6,
    ("analysis", "reduce"): 1,
}


@pytest.mark.parametrize("executor", ["inline", "threads", "processes", "spawn"])
def test_every_executor_gives_the_same_call_graph(tmp_path, executor):
    assert _mapreduce(tmp_path, executor) == MAPREDUCE_GRAPH


def _tree(folder: Path) -> dict:
    (path,) = folder.glob("*.tree.json")
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "executor,setting", [("threads", "COLLAPSE_THREADS"), ("processes", "COLLAPSE_PROCESSES")]
)
def test_workers_stay_visible_when_not_collapsed(tmp_path, executor, setting):
    """collapse_threads / collapse_processes off: each worker has its own graph, where the
    submitting path is a placeholder (count 0) above its tasks; the counts add up the same."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(MAPREDUCE), "--executor", executor, "--partitions", "6"],
        cwd=tmp_path,
        env=clean_env(
            {
                "TIMEMORY_OUTPUT_PATH": str(out),
                "TIMEMORY_COUT_OUTPUT": "OFF",
                f"TIMEMORY_{setting}": "OFF",
            }
        ),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    counts = _paths(out)  # summed over threads and processes: the same graph
    assert counts == MAPREDUCE_GRAPH
    graphs = _per_graph(out)
    # the submitter's own graph, and at least one worker's with a placeholder path
    submitter = [g for g in graphs if g.get(("analysis",), 0) == 1]
    workers = [g for g in graphs if g.get(("analysis",), -1) == 0]
    assert len(submitter) == 1 and workers, graphs
    assert ("analysis", "map_partitions", "process_partition") not in submitter[0]
    for g in workers:
        assert g[("analysis", "map_partitions")] == 0
        assert g[("analysis", "map_partitions", "process_partition")] > 0
    assert sum(g[("analysis", "map_partitions", "process_partition")] for g in workers) == 6


def _per_graph(folder: Path) -> list[dict[tuple[str, ...], int]]:
    """{call path: count} of each thread's or process's own graph in an output folder."""
    from timemory import storage

    snap = storage.snapshot(None, source=os.fspath(folder))
    arr = snap.as_numpy()
    labels = snap.labels
    graphs: list[dict[tuple[str, ...], int]] = []
    paths: list[tuple[str, ...]] = []
    for i in range(len(arr)):
        p = int(arr["parent"][i])
        if p < 0:
            graphs.append({})
        path = (paths[p] if p >= 0 else ()) + (labels[int(arr["label"][i])],)
        paths.append(path)
        graphs[-1][path] = int(arr["wall_clock"]["count"][i])
    return graphs


# ------------------------------------------------------------------ patched lazily
def test_import_timemory_patches_nothing_until_the_program_imports_a_pool(run_python):
    proc = run_python(
        """
        import sys
        import timemory
        loaded = [m for m in ("timemory.executors", "concurrent.futures.thread",
                              "concurrent.futures.process", "multiprocessing.pool")
                  if m in sys.modules]
        print("before", loaded)
        from concurrent.futures import ThreadPoolExecutor
        from timemory import executors
        print("thread", executors.patched())
        from concurrent.futures import ProcessPoolExecutor
        import multiprocessing.pool
        print("all", sorted(executors.patched()))
        """
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "before []"
    assert lines[1] == "thread {'concurrent.futures.ThreadPoolExecutor': ('submit', 'map')}"
    assert lines[2] == (
        "all ['concurrent.futures.ProcessPoolExecutor', "
        "'concurrent.futures.ThreadPoolExecutor', 'multiprocessing.pool.Pool']"
    )


def test_a_pool_imported_before_timemory_is_patched_too(run_python):
    proc = run_python(
        """
        from concurrent.futures import ThreadPoolExecutor
        import timemory
        from timemory import executors
        from timemory.bundle import marker
        from timemory.runs import from_live

        def step():
            with marker(["wall_clock"], key="step"):
                pass

        with ThreadPoolExecutor(2) as pool, marker(["wall_clock"], key="solve"):
            pool.submit(step).result()
        print(sorted(executors.patched()), from_live().paths)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split("\n")[0] == (
        "['concurrent.futures.ThreadPoolExecutor'] [('solve',), ('solve', 'step')]"
    )


# ------------------------------------------------------------------ the profiler and the tracer
PROFILED = """
import sys
import multiprocessing as mp
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor


def work(i):
    return sum(range(100)) + i


def solve(kind, method):
    if kind == "threads":
        pool = ThreadPoolExecutor(2)
    elif kind == "pool":
        pool = mp.get_context(method).Pool(2)
    else:
        pool = ProcessPoolExecutor(2, mp_context=mp.get_context(method))
    with pool:
        mapped = list(pool.map(work, range(4)))
        if kind == "pool":
            single = pool.apply_async(work, (1,)).get()
        else:
            single = pool.submit(work, 1).result()
    return mapped, single


if __name__ == "__main__":
    solve(sys.argv[1], sys.argv[2])
"""


def _plain(label: str) -> str:
    """A label without its ` [where]` (each process decides alone whether to show it)."""
    return label.split(" [", 1)[0]


@pytest.mark.parametrize(
    "kind,method",
    [
        ("threads", "-"),
        ("pool", "fork"),
        ("pool", "spawn"),
        ("executor", "fork"),
        ("executor", "spawn"),
    ],
)
def test_profiled_tasks_land_beneath_the_submitting_function(tmp_path, kind, method):
    """``python -m timemory.profiler``: a task's function is a child of the function that
    submitted it, in whichever thread or process it ran; neither timemory's wrapper nor the
    pool's frames come between them."""
    write(tmp_path / "prog.py", PROFILED)
    proc = run_tool(
        "timemory.profiler",
        "-c",
        "wall_clock",
        "-d",
        "out",
        "--",
        "prog.py",
        kind,
        method,
        cwd=tmp_path,
        env={"TIMEMORY_COUT_OUTPUT": "OFF"},
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    counts = _paths(tmp_path / "out")
    work = {}
    for path, n in counts.items():
        if _plain(path[-1]) == "work":
            plain = tuple(_plain(p) for p in path)
            work[plain] = work.get(plain, 0) + n
    # map's tasks beneath solve itself, the single task beneath solve too (submit or
    # apply_async is timemory's wrapper, which the profiler leaves out)
    assert work == {("<module prog.py>", "solve", "work"): 5}, work


DECORATED = """
import sys
import multiprocessing as mp
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor
from timemory.bundle import marker
from timemory.profiler import profile


def helper(i):
    return sum(range(100)) + i


@profile(["wall_clock"])
def task(i):
    return helper(i)


def run(kind):
    with marker(["wall_clock"], key="solve"):
        if kind == "inline":
            return [task(i) for i in range(4)]
        if kind == "threads":
            with ThreadPoolExecutor(2) as pool:
                return list(pool.map(task, range(4)))
        with ProcessPoolExecutor(2, mp_context=mp.get_context(kind)) as pool:
            return list(pool.map(task, range(4)))


if __name__ == "__main__":
    run(sys.argv[1])
"""


@pytest.mark.parametrize("kind", ["inline", "threads", "fork", "spawn"])
def test_decorated_tasks_land_beneath_the_submitting_marker(tmp_path, kind):
    out = tmp_path / "out"
    proc = _run(DECORATED, tmp_path, kind, env={"TIMEMORY_OUTPUT_PATH": str(out)})
    assert proc.returncode == 0, proc.stderr
    assert _paths(out) == {("solve",): 1, ("solve", "task"): 4, ("solve", "task", "helper"): 4}


def test_the_profiler_api_in_this_process_puts_thread_tasks_beneath_the_caller():
    from timemory.profiler import Profiler

    def work(i):
        return i + 1

    def solve():
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(work, range(4))) + [pool.submit(work, 0).result()]

    with Profiler(["wall_clock"]):
        solve()
    found = {p[p.index("solve") :]: n for p, n in tree_counts().items() if p[-1] == "work"}
    assert found == {("solve", "work"): 5}


TRACED = """
import sys
import multiprocessing as mp
from concurrent.futures import ThreadPoolExecutor, ProcessPoolExecutor
from timemory.bundle import marker


def work(i):
    x = i + 1
    return x


if __name__ == "__main__":
    kind = sys.argv[1]
    with marker(["wall_clock"], key="solve"):
        if kind == "inline":
            [work(i) for i in range(4)]
        elif kind == "threads":
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(work, range(4)))
        else:
            with ProcessPoolExecutor(2, mp_context=mp.get_context(kind)) as pool:
                list(pool.map(work, range(4)))
"""


def test_traced_lines_are_the_same_on_every_executor(tmp_path):
    """The tracer's lines are flat entries (not beneath markers, inline either): a task's
    lines are counted the same whichever executor ran it."""
    write(tmp_path / "prog.py", TRACED)
    seen = {}
    for kind in ("inline", "threads", "fork", "spawn"):
        out = f"out-{kind}"
        proc = run_tool(
            "timemory.trace",
            "-c",
            "wall_clock",
            "-d",
            out,
            "--",
            "prog.py",
            kind,
            cwd=tmp_path,
            env={"TIMEMORY_COUT_OUTPUT": "OFF"},
            timeout=TIMEOUT,
        )
        assert proc.returncode == 0, proc.stderr
        counts = _paths(tmp_path / out)
        seen[kind] = {p: n for p, n in counts.items() if "[work][prog.py:" in p[-1]}
        assert ("solve",) in counts
    assert len(seen["inline"]) == 2 and set(seen["inline"].values()) == {4}
    assert seen["threads"] == seen["inline"]
    assert seen["fork"] == seen["inline"]
    assert seen["spawn"] == seen["inline"]
