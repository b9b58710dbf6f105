"""timemory.dask when things go wrong: a worker killed mid-run (with and without checkpoints), a
cluster closed before the profile collected, a worker where ``import timemory`` fails.

Each case runs a program with a process ``LocalCluster`` in a subprocess (a hang fails the test
after a generous bound) with its output in ``out/``; the program prints what the client saw
(``Profile.failed``, the merged counts of the call paths) as its last stdout line, the test
checks that, the stderr lines and ``metadata.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("distributed")

TIMEOUT = 400  # seconds for one program: a cluster of worker processes on a busy 2-core machine

# What every program shares: a client of a process cluster, the task, the merged counts.
PRELUDE = """
import json, os, signal, sys, time
from distributed import Client, LocalCluster, wait
import timemory
import timemory.dask
from timemory.bundle import marker
from timemory.storage import WallClockStorage


def step(i):
    return i + 1


def counts():
    # {"a/b": count} of the merged flat graph (pre-order, with depths)
    out, stack = {}, []
    for lst in WallClockStorage.dmp_get():
        for e in lst:
            del stack[e.depth():]
            stack.append(e.label())
            key = "/".join(stack)
            out[key] = out.get(key, 0) + e.stats().count()
    return out


def cluster(n=2):
    c = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                     dashboard_address=None, silence_logs=50)
    return c, Client(c)


def wait_gone(client, address, limit=120):
    end = time.time() + limit
    while address in client.scheduler_info()["workers"] and time.time() < end:
        time.sleep(0.1)
"""


def _run(run_python, source: str, *args: str, env: dict[str, str] | None = None):
    proc = run_python(
        PRELUDE + source,
        env={"TIMEMORY_OUTPUT_PATH": "out", "TIMEMORY_FILE_OUTPUT": "true", **(env or {})},
        args=args,
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    facts = json.loads(proc.stdout.strip().splitlines()[-1])
    return proc, facts


def _failed_in_metadata(tmp_path: Path) -> list[str]:
    """The ``dask_workers_failed`` lines of the output's ``metadata.json``."""
    document = json.loads((tmp_path / "out" / "metadata.json").read_text())
    return list(document["timemory"]["metadata"]["info"].get("dask_workers_failed", []))


def _lines(stderr: str, *words: str) -> list[str]:
    return [line for line in stderr.splitlines() if all(w in line for w in words)]


KILLED = """
if __name__ == "__main__":
    checkpoint = None if sys.argv[1] == "none" else float(sys.argv[1])
    cl, client = cluster()
    victim, survivor = sorted(client.scheduler_info()["workers"])
    with timemory.dask.profile(client, components=["wall_clock"], checkpoint=checkpoint) as p:
        with marker(["wall_clock"], key="solve"):
            wait(client.map(step, range(10), workers=[victim], allow_other_workers=False))
            wait(client.map(step, range(10, 25), workers=[survivor], allow_other_workers=False))
        done = time.time()
        if checkpoint:
            # a checkpoint after the victim's tasks: the one its data are kept from
            end = time.time() + 120
            while time.time() < end:
                record = p.workers.get(victim)
                if record is not None and record.collected and record.collected > done:
                    break
                time.sleep(0.05)
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        wait_gone(client, victim)
    print(json.dumps({"victim": victim, "survivor": survivor, "failed": p.failed,
                      "counts": counts()}))
    client.close()
    cl.close()
"""


@pytest.mark.parametrize("checkpoint", ["0.2", "none"])
def test_worker_killed_mid_run(run_python, tmp_path: Path, checkpoint: str):
    proc, facts = _run(run_python, KILLED, checkpoint)
    victim, survivor = facts["victim"], facts["survivor"]
    # the dead worker is listed, by address, with the reason; the survivor reported
    assert list(facts["failed"]) == [victim], facts["failed"]
    said = _lines(proc.stderr, victim, "did not report")
    assert len(said) == 1, proc.stderr[-3000:]
    listed = [w for w in _failed_in_metadata(tmp_path) if victim in w]
    assert len(listed) == 1, _failed_in_metadata(tmp_path)
    counts = facts["counts"]
    assert counts["solve"] == 1
    if checkpoint == "none":
        # nothing of the victim: its 10 tasks are missing, and the output says so
        assert "no data of it" in said[0] and "no data of it" in listed[0]
        assert counts["solve/step"] == 15
    else:
        # the checkpoint taken after its tasks is kept, and the output says when it was taken
        assert "last collection" in said[0] and "kept" in said[0], said
        assert "last collection" in listed[0]
        assert counts["solve/step"] == 25
    assert survivor not in " ".join(_lines(proc.stderr, "did not report"))


CLOSED = """
if __name__ == "__main__":
    cl, client = cluster()
    p = timemory.dask.profile(client, components=["wall_clock"]).start()
    with marker(["wall_clock"], key="collected"):
        wait(client.map(step, range(12)))
    p.collect()
    with marker(["wall_clock"], key="after"):
        wait(client.map(step, range(100, 107)))
    client.close()
    cl.close()
    p.stop()
    print(json.dumps({"failed": p.failed, "counts": counts()}))
"""


def test_cluster_closed_before_collecting(run_python, tmp_path: Path):
    proc, facts = _run(run_python, CLOSED)
    warning = _lines(proc.stderr, "warning", "closed before")
    assert len(warning) == 1, proc.stderr[-3000:]
    assert "2 of 2 workers" in warning[0]
    # what p.collect() brought in is kept; the tasks after it were never collected
    counts = facts["counts"]
    assert counts["collected/step"] == 12
    assert "after/step" not in counts
    assert len(facts["failed"]) == 2
    assert len(_failed_in_metadata(tmp_path)) == 2


BROKEN = """
import subprocess


if __name__ == "__main__":
    cl, client = cluster(1)
    (good,) = client.scheduler_info()["workers"]
    address = client.scheduler.address
    env = dict(os.environ, PYTHONPATH=sys.argv[1])
    broken = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", address, "--name", "broken",
         "--nthreads", "1", "--no-nanny", "--no-dashboard"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client.wait_for_workers(2, timeout=120)
        bad = [a for a in client.scheduler_info()["workers"] if a != good][0]
        with timemory.dask.profile(client, components=["wall_clock"]) as p:
            with marker(["wall_clock"], key="solve"):
                measured = client.gather(client.map(step, range(10), workers=[good]))
                unmeasured = client.gather(client.map(step, range(20, 26), workers=[bad]))
        print(json.dumps({"bad": bad, "failed": p.failed, "counts": counts(),
                          "results": [sum(measured), sum(unmeasured)]}))
    finally:
        broken.terminate()
        broken.wait(60)
        client.close()
        cl.close()
"""


def test_worker_without_timemory(run_python, tmp_path: Path):
    # a `timemory` package that cannot be imported, first on that one worker's path
    planted = tmp_path / "planted"
    (planted / "timemory").mkdir(parents=True)
    (planted / "timemory" / "__init__.py").write_text(
        "raise ImportError('timemory is broken on this worker')\n"
    )
    proc, facts = _run(run_python, BROKEN, str(planted))
    bad = facts["bad"]
    # the tasks still ran everywhere
    assert facts["results"] == [sum(range(1, 11)), sum(range(21, 27))]
    # one error line naming the worker (its name and address), with the reason
    errors = _lines(proc.stderr, "error", bad)
    assert len(errors) == 1, proc.stderr[-3000:]
    assert "broken" in errors[0] and "cannot be imported" in errors[0]
    assert list(facts["failed"]) == [bad]
    assert any(bad in w for w in _failed_in_metadata(tmp_path))
    # the other worker is measured: its tasks, beneath the submitting path
    assert facts["counts"]["solve/step"] == 10
