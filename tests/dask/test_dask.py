"""timemory.dask: Dask tasks measured in the worker thread that runs them, beneath the call path
that submitted them, and collected into the client's storage (threads and process clusters,
client.submit/map, dask.delayed, functions of __main__ shipped by cloudpickle)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("distributed")

import timemory  # noqa: E402
import timemory.dask as tdask  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from timemory import settings  # noqa: E402
from timemory.bundle import marker  # noqa: E402
from tool_helpers import tree_counts  # noqa: E402


def step(i: int) -> int:
    with marker(["wall_clock"], key="inner"):
        return i * i


def _local_counts() -> dict[tuple[str, ...], int]:
    return tree_counts("wall_clock")


def _flat_counts(results) -> dict[tuple[str, ...], int]:
    """{label path: count} of one list of StorageResult entries (pre-order, with depths)."""
    out: dict[tuple[str, ...], int] = {}
    stack: list[str] = []
    for entry in results:
        depth = entry.depth()
        del stack[depth:]
        stack.append(entry.label())
        path = tuple(stack)
        out[path] = out.get(path, 0) + entry.data().laps()
    return out


def _local_client(processes: bool, threads_per_worker: int):
    """A client of a 2-worker LocalCluster (dashboard on a free port), closed at the end."""
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=threads_per_worker,
            processes=processes,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def threads_client():
    yield from _local_client(processes=False, threads_per_worker=2)


@pytest.fixture(scope="module")
def process_client():
    yield from _local_client(processes=True, threads_per_worker=1)


def test_threads_cluster_tasks_land_beneath_the_submitting_path(threads_client):
    with tdask.profile(threads_client, components=["wall_clock"]) as p:
        with marker(["wall_clock"], key="solve"):
            assert sum(threads_client.gather(threads_client.map(step, range(12)))) == sum(
                i * i for i in range(12)
            )
    counts = _local_counts()
    assert counts[("solve",)] == 1
    assert counts[("solve", "step")] == 12
    assert counts[("solve", "step", "inner")] == 12
    assert ("step",) not in counts and ("inner",) not in counts
    # in the client's process: nothing to collect, nothing failed
    assert not p.failed and all(r.local for r in p.workers.values())
    assert len(p.workers) == 2


def test_submit_and_delayed_carry_the_path(threads_client):
    import dask

    with tdask.profile(threads_client):
        with marker(["wall_clock"], key="submitting"):
            assert threads_client.submit(step, 3).result() == 9
        with marker(["wall_clock"], key="delayed"):
            total = dask.delayed(sum)([dask.delayed(step)(i) for i in range(4)])
            assert threads_client.compute(total).result() == 14
    counts = _local_counts()
    assert counts[("submitting", "step")] == 1
    assert counts[("delayed", "step")] == 4
    assert counts[("delayed", "sum")] == 1


def test_executor_context_off_tasks_are_top_level_roots(threads_client):
    settings.executor_context = False
    try:
        with tdask.profile(threads_client):
            with marker(["wall_clock"], key="solve"):
                threads_client.gather(threads_client.map(step, range(5)))
    finally:
        settings.executor_context = True
    counts = _local_counts()
    assert counts[("step",)] == 5
    assert ("solve", "step") not in counts


def test_no_components_carries_the_path_without_a_task_node(threads_client):
    with tdask.profile(threads_client, components=[]):
        with marker(["wall_clock"], key="solve"):
            threads_client.gather(threads_client.map(step, range(6)))
    counts = _local_counts()
    assert counts[("solve", "inner")] == 6
    assert not any("step" in path for path in counts)


def test_outside_the_profile_tasks_are_not_measured(threads_client):
    with tdask.profile(threads_client):
        pass
    threads_client.gather(threads_client.map(step, range(3), pure=False))
    assert not any("step" in path for path in _local_counts())


def test_bad_arguments_are_one_line(threads_client):
    with pytest.raises(ValueError, match="wall_clok"):
        tdask.profile(threads_client, components=["wall_clok"])
    with pytest.raises(ValueError, match="positive number of seconds"):
        tdask.profile(threads_client, checkpoint=-1)
    with pytest.raises(TypeError, match="distributed.Client"):
        tdask.profile("tcp://127.0.0.1:8786")
    with tdask.profile(threads_client):
        with pytest.raises(RuntimeError, match="profiled already"):
            tdask.profile(threads_client).start()


def test_process_cluster_data_come_back_into_the_clients_storage(process_client):
    with tdask.profile(process_client, components=["wall_clock"]) as p:
        with marker(["wall_clock"], key="solve"):
            process_client.gather(process_client.map(step, range(20)))
    assert not p.failed
    pids = {r.pid for r in p.workers.values()}
    assert len(pids) == 2 and os.getpid() not in pids
    # metadata.json names them (address, name, pid)
    from timemory.manager import manager

    listed = manager.get_metadata()["info"]["dask_workers"]
    for record in p.workers.values():
        assert any(
            line.startswith(record.address) and f"pid {record.pid} " in line for line in listed
        )
    # every worker process is an entry of its own, like a pool worker
    from timemory.storage import storage_class

    storage = storage_class("wall_clock")
    settings.collapse_processes = False
    try:
        lists = storage.dmp_get()
    finally:
        settings.collapse_processes = True
    assert len(lists) == 3  # the client and its two workers
    worker_counts = [_flat_counts(rank) for rank in lists[1:]]
    assert sum(c.get(("solve", "step"), 0) for c in worker_counts) == 20
    assert sum(c.get(("solve", "step", "inner"), 0) for c in worker_counts) == 20
    # merged: one call graph
    merged = _flat_counts(storage.dmp_get()[0])
    assert merged[("solve",)] == 1
    assert merged[("solve", "step")] == 20
    assert merged[("solve", "step", "inner")] == 20
    # timemory.get() holds them too
    data = timemory.get(components=["wall_clock"])
    assert data["timemory"]


MAIN_SCRIPT = """
from dask.distributed import Client, LocalCluster
import timemory.dask
from timemory.bundle import marker
from timemory.profiler import profile


def helper(i):
    return i + 1


@profile(["wall_clock"])
def step(i):
    return helper(i) * 2


def plain(i):
    return helper(i)


if __name__ == "__main__":
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, Client(cluster) as client:
        with timemory.dask.profile(client, components=["wall_clock"]):
            with marker(["wall_clock"], key="solve"):
                print(sum(client.gather(client.map(step, range(10)))))
                print(sum(client.gather(client.map(plain, range(10)))))
"""


def test_main_functions_shipped_by_cloudpickle_keep_their_names_and_file(run_python, tmp_path):
    proc = run_python(MAIN_SCRIPT, env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out")}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["110", "55"]
    from timemory import runs

    graph = runs.read_folder(tmp_path / "out")
    counts = dict(zip(map(tuple, graph.paths), graph.values["wall_clock"]["count"].tolist()))
    # the task nodes (the plugin's, by the function's name), then what the profiler saw: the
    # function of the client's script (its file, as a local run names it) and what it calls
    assert counts[("solve", "step")] == 10 and counts[("solve", "plain")] == 10
    assert counts[("solve", "step", "step [script, line 12]")] == 10
    assert counts[("solve", "step", "step [script, line 12]", "helper")] == 10
    assert not any("dynamic-code" in label for path in counts for label in path)


def test_a_plugin_the_program_registered_is_collected_and_kept(process_client):
    process_client.register_plugin(tdask.TimemoryPlugin(["wall_clock"]))
    try:
        for expected in (4, 3):  # each profile holds its own tasks only
            timemory.clear()
            with tdask.profile(process_client) as p:
                with marker(["wall_clock"], key="solve"):
                    process_client.gather(process_client.map(step, range(expected), pure=False))
            assert not p.failed and not p._owns_plugin
            from timemory.storage import storage_class

            merged = _flat_counts(storage_class("wall_clock").dmp_get()[0])
            assert merged[("solve", "step")] == expected
        # still registered: the program's
        assert process_client.run_on_scheduler(
            lambda dask_scheduler: "timemory" in dask_scheduler.worker_plugins
        )
    finally:
        process_client.unregister_worker_plugin("timemory")


def test_an_asynchronous_client_is_refused_in_one_line():
    class Fake(Client):  # a client in asynchronous mode, never started
        asynchronous = True

        def __del__(self):
            pass

    with pytest.raises(TypeError, match="synchronous distributed.Client"):
        tdask.profile(Fake.__new__(Fake))


def test_collect_on_demand_and_checkpoints_replace_not_add(process_client):
    import time

    from timemory.storage import storage_class

    storage = storage_class("wall_clock")
    with tdask.profile(process_client, checkpoint=0.05) as p:
        with marker(["wall_clock"], key="solve"):
            process_client.gather(process_client.map(step, range(8), pure=False))
            p.collect()
            assert _flat_counts(storage.dmp_get()[0])[("solve", "step")] == 8
            # the checkpoint thread collects again meanwhile: each collection replaces the
            # worker's earlier one (its data are cumulative)
            first = {a: r.collected for a, r in p.workers.items()}
            deadline = time.monotonic() + 120  # bounded: a stuck checkpoint fails the test
            while any(r.collected == first[a] for a, r in p.workers.items()):
                assert time.monotonic() < deadline, "no checkpoint collected"
                time.sleep(0.02)
            process_client.gather(process_client.map(step, range(3), pure=False))
    merged = _flat_counts(storage.dmp_get()[0])
    assert merged[("solve", "step")] == 11
    assert merged[("solve", "step", "inner")] == 11
    assert not p.failed
    with pytest.raises(RuntimeError, match="inside the profile"):
        p.collect()


def test_a_worker_that_joins_during_the_profile_is_measured_too():
    from timemory.storage import storage_class

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        with tdask.profile(client) as p:
            cluster.scale(2)
            client.wait_for_workers(2, timeout=120)
            newest = max(client.scheduler_info()["workers"], key=lambda a: a not in p.workers)
            assert newest not in p.workers
            with marker(["wall_clock"], key="solve"):
                client.gather(client.map(step, range(4), workers=[newest], pure=False))
        assert not p.failed and p.workers[newest].collected is not None
    merged = _flat_counts(storage_class("wall_clock").dmp_get()[0])
    assert merged[("solve", "step")] == 4


PROFILED_SCRIPT = """
from dask.distributed import Client, LocalCluster
import timemory.dask


def step(i):
    return i * 2


def solve(client):
    return client.gather(client.map(step, range(6)))


if __name__ == "__main__":
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster, Client(cluster) as client:
        with timemory.dask.profile(client, components=[]):
            print(sum(solve(client)))
"""


def test_under_the_profiler_tasks_land_beneath_the_programs_function(tmp_path):
    """Neither Client.map (open in the client when it submits) nor dask's Task.__call__ (in
    the worker) shows between the program's function and the task's."""
    import subprocess
    import sys

    from timemory import runs
    from tool_helpers import clean_env

    (tmp_path / "s.py").write_text(PROFILED_SCRIPT)
    proc = subprocess.run(
        [sys.executable, "-m", "timemory.profiler", "-d", str(tmp_path / "out"), "--", "s.py"],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    graph = runs.read_folder(tmp_path / "out")
    counts = dict(zip(map(tuple, graph.paths), graph.values["wall_clock"]["count"].tolist()))
    steps = {path: n for path, n in counts.items() if path[-1] == "step"}
    assert steps == {("<module s.py>", "solve", "step"): 6}
