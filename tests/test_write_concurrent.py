"""The files of a component written at once (OutputPlan.write_all): the same bytes, the same
files listed in the same order as one at a time; a failure handled as one at a time (the
fallback folder, no file left behind in the folder asked for); checkpoints one at a time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from timemory import _core, _output
from timemory._output import _plan
from tool_helpers import clean_env

# Regions under the fake clock (every value the same in every run), written at exit with
# WRITE_THREADS files at once; prints the files listed (in order) and how many jobs ran at once.
PROGRAM = """
import json, os, sys
import timemory
from timemory import _core, region, settings
from timemory._output import _plan
_plan.WRITE_THREADS = int(sys.argv[2])
settings.output_path = sys.argv[1]
settings.text_max_rows = 0
batches = []
_real = _plan._run_jobs
def _counted(jobs):
    batches.append(len(jobs))
    return _real(jobs)
_plan._run_jobs = _counted
_core._test_clock(True, 1_000_000_000, 1_000_000_000)
region.push("root")
for i in range(3000):
    region.push(f"group_{i // 100}") if i % 100 == 0 else None
    region.push(f"node_{i}")
    _core._test_clock_advance(1000 * (i % 7) + (i % 3) * 333, 0)
    region.pop(f"node_{i}")
    region.pop(f"group_{i // 100}") if i % 100 == 99 else None
region.pop("root")
timemory.finalize()
written = [p.rsplit("/", 1)[-1] for p in _plan._WRITTEN]
print(json.dumps({"written": written, "batches": batches, "pid": os.getpid()}))
"""


def _files(folder: str) -> dict[str, bytes]:
    out = {}
    for name in sorted(os.listdir(folder)):
        if name != "metadata.json":  # times and the environment
            with open(os.path.join(folder, name), "rb") as f:
                out[name] = f.read().replace(os.fsencode(folder), b"OUT")
    return out


def _run(tmp_path, threads: int) -> tuple[dict, dict[str, bytes]]:
    """The program's report and its files (the process id, in the trees and the flame graph,
    replaced by 0)."""
    folder = tmp_path / f"out{threads}"
    proc = subprocess.run(
        [sys.executable, "-c", PROGRAM, str(folder), str(threads)],
        env=clean_env({"TIMEMORY_COUT_OUTPUT": "OFF"}),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    pid = str(report["pid"]).encode()
    files = {
        name: data.replace(b'"pid":[' + pid + b"]", b'"pid":[0]').replace(
            b'"pid":' + pid + b",", b'"pid":0,'
        )
        for name, data in _files(str(folder)).items()
    }
    return report, files


def test_files_at_once_are_the_files_one_at_a_time(tmp_path):
    alone, files_alone = _run(tmp_path, 1)
    together, files_together = _run(tmp_path, 2)
    assert alone["batches"] == []  # one at a time: no jobs at once
    assert together["batches"] == [4]  # flat JSON, tree JSON, flame graph, text table
    assert together["written"] == alone["written"]
    assert sorted(files_together) == sorted(files_alone)
    assert {"wall.json", "wall.tree.json", "wall.flamegraph.json", "wall.txt"} <= set(files_alone)
    for name in files_alone:
        assert files_together[name] == files_alone[name], name


def _writer(fail_under: str = ""):
    """A native-like streamed content that fails (a full disk) under ``fail_under``."""

    def to(path: bytes) -> None:
        if fail_under and path.startswith(os.fsencode(fail_under)):
            raise OSError(f"cannot write '{os.fsdecode(path)}': No space left on device")
        _core.atomic_write(path, b"data")

    to.concurrent = 1  # type: ignore[attr-defined]
    return to


@pytest.fixture
def fresh_plan_state(monkeypatch):
    monkeypatch.setattr(_plan, "_FALLBACK", {})
    monkeypatch.setattr(_plan, "_LOST", [])
    monkeypatch.setattr(_plan, "WRITE_THREADS", 2)
    yield _plan._FALLBACK
    for folder in _plan._FALLBACK.values():
        shutil.rmtree(folder, ignore_errors=True)


def test_a_failure_at_once_falls_back_as_one_at_a_time(tmp_path, capfd, fresh_plan_state):
    out = tmp_path / "out"
    plan = _output.OutputPlan(str(out), 0, False)
    failing = _writer(fail_under=str(out / "a"))
    items = [
        ("a", ".json", failing, "json", "a", False),
        ("b", ".json", _writer(), "json", "b", False),
        ("c", ".txt", "text", "text", "c", False),
    ]
    plan.write_all(items)
    fallback = fresh_plan_state[str(out)]
    # "a" failed: the run falls back, and every later file goes there too, as one at a time
    assert sorted(os.listdir(fallback)) == ["a.json", "b.json", "c.txt"]
    assert not out.exists() or os.listdir(out) == []  # "b", written at once, was moved
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 1 and "No space left on device" in err[0], err
    assert _output.lost_files() == []


def test_files_at_once_then_listed_in_order(tmp_path, fresh_plan_state, monkeypatch):
    out = tmp_path / "out"
    plan = _output.OutputPlan(str(out), 0, False)
    ran = []
    real = _plan._run_jobs
    monkeypatch.setattr(_plan, "_run_jobs", lambda jobs: ran.append(len(jobs)) or real(jobs))
    written_before = len(_plan._WRITTEN)
    plan.write_all([(name, ".json", _writer(), "json", name, False) for name in "xyz"])
    assert ran == [3]
    assert [os.path.basename(p) for p in _plan._WRITTEN[written_before:]] == [
        "x.json",
        "y.json",
        "z.json",
    ]
    assert sorted(os.listdir(out)) == ["x.json", "y.json", "z.json"]


def test_files_at_once_give_free_memory_back_after_each(tmp_path, fresh_plan_state, monkeypatch):
    # each writer thread's malloc arena keeps the room its file took unless it is given back:
    # the files at once would add up in the peak RSS
    released = []
    monkeypatch.setattr(_core, "release_free_memory", lambda: released.append(1) or True)
    plan = _output.OutputPlan(str(tmp_path / "out"), 0, False)
    plan.write_all([(name, ".json", _writer(), "json", name, False) for name in "xyzw"])
    assert len(released) == 4


def test_a_checkpoint_writes_one_at_a_time(tmp_path, fresh_plan_state, monkeypatch):
    out = tmp_path / "out"
    plan = _output.OutputPlan(str(out), 0, False)
    plan.marker = {"final": False}
    assert plan.is_checkpoint
    monkeypatch.setattr(_plan, "_run_jobs", lambda jobs: pytest.fail("a checkpoint wrote at once"))
    plan.write_all([(name, ".json", _writer(), "json", name, False) for name in "xy"])
    assert sorted(os.listdir(out)) == ["x.json", "y.json"]
    assert [os.path.basename(p) for p in plan.written["json"]] == ["x.json", "y.json"]
