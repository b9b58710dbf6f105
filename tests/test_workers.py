"""Worker processes: work done in multiprocessing / concurrent.futures pools (fork and spawn)
ends up in the parent's output, once, per worker or collapsed; a forked child starts empty."""

from __future__ import annotations

import json
import os

import pytest
from fakeclock import PRELUDE
from tool_helpers import run_tool, write

# run as PRELUDE + POOL_PROGRAM, on the fake clock (turned on at the top, so in spawned workers
# too, which import the program again; forked ones inherit it): each inner takes 5 ms
POOL_PROGRAM = """
import json, os, sys
import multiprocessing as mp
from concurrent.futures import ProcessPoolExecutor
import timemory
from timemory.bundle import marker
from timemory.storage import WallClockStorage as W

@marker(["wall_clock"])
def task(i):
    with marker(["wall_clock"], key="inner"):
        nap(0.005)
    return os.getpid()

if __name__ == "__main__":
    method, kind = sys.argv[1], sys.argv[2]
    with marker(["wall_clock"], key="main"):
        if kind == "pool":
            with mp.get_context(method).Pool(2) as pool:
                pids = pool.map(task, range(8), chunksize=1)
        else:
            with ProcessPoolExecutor(2, mp_context=mp.get_context(method)) as ex:
                pids = list(ex.map(task, range(8)))
    flat = W.dmp_get()
    timemory.settings.collapse_processes = False
    per_process = W.dmp_get_tree()
    per_process_flat = W.dmp_get()
    timemory.settings.collapse_processes = True
    json.dump({
        "workers": sorted(set(pids)),
        "flat": [[(e.label(), e.depth(), e.data().laps()) for e in lst] for lst in flat],
        "pids": [sorted(p for root in roots for p in root.value().pid()) for roots in per_process],
        "per_process": [[(e.prefix(), e.data().laps()) for e in lst] for lst in per_process_flat],
        "spool": timemory._workers.spool(),
    }, open("result.json", "w"))
"""

CASES = [
    ("fork", "pool"),
    ("fork", "executor"),
    ("spawn", "pool"),
    ("spawn", "executor"),
]


@pytest.mark.parametrize("method,kind", CASES)
def test_pool_work_is_merged_into_the_parent(run_python, tmp_path, method, kind):
    proc = run_python(PRELUDE + POOL_PROGRAM, args=(method, kind), timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "result.json").read_text())

    (merged,) = res["flat"]  # collapsed: one list holding the parent and every worker
    laps = {label: n for label, _, n in merged}
    assert laps == {"main": 1, "task": 8, "inner": 8}

    # per process: the parent first, then one list per worker that ran tasks, by pid
    parent, *workers = res["per_process"]
    assert [p for p, _ in parent] == ["|0>>> main"]
    # beneath the placeholder of "main", the submitting path (executor_context)
    assert sum(n for w in workers for p, n in w if p.endswith("task")) == 8
    assert len(res["pids"][0]) == 1 and res["pids"][0][0] not in res["workers"]
    worker_pids = [p for pids in res["pids"][1:] for p in pids]
    assert sorted(worker_pids) == sorted(set(worker_pids))
    assert set(worker_pids) <= set(res["workers"]) and worker_pids

    # the output is written once, by the parent, and the spool is gone
    out = tmp_path / "timemory-script-output"
    files = sorted(p.name for p in out.iterdir())
    assert "wall.json" in files and "wall_0.json" not in files
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [out.name]
    written = json.loads((out / "wall.json").read_text())["timemory"]["wall_clock"]["ranks"]
    assert (
        sum(e["stats"]["count"] for e in written[0]["graph"] if e["prefix"].endswith("task")) == 8
    )
    inner = [e["stats"]["sum"] for e in written[0]["graph"] if e["prefix"].endswith("inner")]
    assert sum(inner) == pytest.approx(8 * 0.005, rel=1e-12)
    assert not os.path.exists(res["spool"])
    # the counts: one list, holding the parent's and every worker's data
    body = json.loads((out / "wall.json").read_text())["timemory"]["wall_clock"]
    processes = len(res["pids"])  # the parent and each worker that ran tasks
    assert processes >= 2
    assert (body["process_count"], body["num_ranks"], body["mpi_size"]) == (processes, 1, 1)
    counts = json.loads((out / "metadata.json").read_text())["timemory"]["metadata"]["counts"]
    assert (counts["process_count"], counts["mpi_size"]) == (processes, 1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_starts_empty_and_is_merged(run_python, tmp_path):
    proc = run_python(
        """
        import json, os, sys
        import timemory
        from timemory.bundle import marker
        from timemory.storage import WallClockStorage as W

        with marker(["wall_clock"], key="before-fork"):
            pass
        pid = os.fork()
        if pid == 0:
            empty = timemory.size()[int(W._index)] == 0
            with marker(["wall_clock"], key="in-child"):
                pass
            sys.exit(0 if empty else 3)
        _, status = os.waitpid(pid, 0)
        flat = W.dmp_get()
        flat = [[(e.label(), e.data().laps()) for e in lst] for lst in flat]
        json.dump({"status": status, "flat": flat},
                  open("result.json", "w"))
        """
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["status"] == 0  # the child saw empty storage
    assert res["flat"] == [[["before-fork", 1], ["in-child", 1]]]


TOOL_PROGRAM = """
import multiprocessing as mp, sys

@profile
def task(i):
    total = 0
    for k in range(200):
        total += k
    total -= i
    return i

if __name__ == "__main__":
    with mp.get_context(sys.argv[1]).Pool(2) as pool:
        print(sum(pool.map(task, range(8), chunksize=1)))
"""

METHODS = ["fork", "spawn", "forkserver"]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("tool", ["timemory.profiler", "timemory.trace"])
def test_command_line_tools_measure_pool_workers(tmp_path, tool, method):
    """Under the profiler and the tracer, what pool workers run (started by fork, spawn or a
    fork server) is in the parent's output; spawned workers import the program again, with
    its bare ``@profile``, and run the same tool."""
    write(tmp_path / "work.py", TOOL_PROGRAM)
    proc = run_tool(tool, "-c", "wall_clock", "--", "work.py", method, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    flat = json.loads((tmp_path / "timemory-work-output/wall.json").read_text())
    graph = flat["timemory"]["wall_clock"]["ranks"][0]["graph"]
    if tool == "timemory.profiler":
        tasks = [e for e in graph if e["prefix"].endswith("|_task")]
        found = sum(e["stats"]["count"] for e in tasks)
        expected = 8
    else:  # one entry per line of task: its loop line ran 201 times per call
        tasks = [e for e in graph if "for k in range(200):" in e["prefix"]]
        found = sum(e["stats"]["count"] for e in tasks)
        expected = 8 * 201
    # on failure: where the counts are in the graph and what the tool printed
    where = [(e["prefix"], e["stats"]["count"]) for e in tasks]
    assert found == expected, (where, len(graph), proc.stderr[-2000:])


@pytest.mark.parametrize("method", METHODS)
def test_line_profiler_counts_pool_workers_lines(tmp_path, method):
    pytest.importorskip("line_profiler")
    write(tmp_path / "work.py", TOOL_PROGRAM)
    proc = run_tool(
        "timemory.line_profiler", "-o", "work.lprof", "--", "work.py", method, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    from timemory.line_profiler import load_stats

    stats = load_stats(tmp_path / "work.lprof")
    (lines,) = [v for (_, _, name), v in stats.timings.items() if name == "task"]
    hits = {source_line: n for source_line, n, _ in lines}
    source = (tmp_path / "work.py").read_text().splitlines()
    loop_line = next(i for i, text in enumerate(source, 1) if "for k in range(200):" in text)
    after_loop = next(i for i, text in enumerate(source, 1) if "total -= i" in text)
    assert hits[loop_line] == 8 * 201 and hits[after_loop] == 8, hits


LOST_SIGTERM_PROGRAM = """
import json, signal
import multiprocessing as mp
import timemory
from timemory.bundle import marker
from timemory.storage import WallClockStorage as W

def work(lock, ready):
    with marker(["wall_clock"], key="in-worker"):
        pass
    # SIGTERM then goes to another thread of this process: the main thread's wait on the lock
    # is not interrupted and its handler does not run, as when the signal comes just before
    # an idle pool worker blocks on its queue's lock
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    ready.set()
    lock.acquire()  # held by the parent: blocks for good

if __name__ == "__main__":
    ctx = mp.get_context("fork")
    lock, ready = ctx.Lock(), ctx.Event()
    lock.acquire()
    p = ctx.Process(target=work, args=(lock, ready))
    p.start()
    assert ready.wait(60)
    p.terminate()
    p.join(60)
    flat = [(e.label(), e.data().laps()) for e in W.dmp_get()[0]]
    json.dump({"exitcode": p.exitcode, "flat": flat}, open("result.json", "w"))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_worker_that_misses_its_sigterm_still_leaves_its_data_and_ends(run_python, tmp_path):
    proc = run_python(LOST_SIGTERM_PROGRAM, timeout=120)
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    # ended by timemory's SIGTERM handling as SIGTERM ends a process (not left hanging)
    assert res["exitcode"] == -15
    assert res["flat"] == [["in-worker", 1]]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_sigterm_the_main_thread_never_sees_still_leaves_the_data(run_python, tmp_path):
    """Pool.terminate() while a worker's main thread cannot run the Python handler (here it
    blocks SIGTERM and sleeps; in the wild, the signal landed just before it blocked in
    ``sem_wait``): the watcher thread leaves the worker's data and ends it, and the pool does
    not wait forever."""
    proc = run_python(
        """
        import json, os, signal, time
        import multiprocessing as mp
        import timemory
        from timemory.bundle import marker
        from timemory.storage import WallClockStorage as W

        def task(started):
            with marker(["wall_clock"], key="before-block"):
                pass
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
            open(started, "w").close()
            time.sleep(60)

        if __name__ == "__main__":
            started = os.path.abspath("started")
            pool = mp.get_context("fork").Pool(1)
            pool.apply_async(task, (started,))
            while not os.path.exists(started):
                time.sleep(0.01)
            begin = time.monotonic()
            pool.terminate()
            waited = time.monotonic() - begin
            flat = [[(e.label(), e.data().laps()) for e in lst] for lst in W.dmp_get()]
            json.dump({"waited": waited, "flat": flat}, open("result.json", "w"))
        """,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads((tmp_path / "result.json").read_text())
    assert res["flat"] == [[["before-block", 1]]]
    assert res["waited"] < 50  # not the task's 60 s: the worker ended on the signal


def test_spool_folder_others_can_write_is_not_unpickled(tmp_path, monkeypatch, capsys):
    """The workers' files are unpickled: a spool folder another user could write into (here
    writable by everyone, without the sticky bit) is refused with one line, and nothing in it
    runs."""
    import pickle

    from timemory import _workers

    spool = tmp_path / "spool"
    spool.mkdir()
    ran = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(ran), "w"))

    (spool / "123-456.pkl").write_bytes(pickle.dumps(Payload()))
    os.chmod(spool, 0o777)
    monkeypatch.setitem(_workers._state, "spool", str(spool))
    monkeypatch.setitem(_workers._state, "worker", False)
    assert _workers._read_all() == []
    assert not ran.exists()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not read" in err and "sticky" in err
