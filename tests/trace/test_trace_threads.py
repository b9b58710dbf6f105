"""The line tracer with threads: every line that a traced function runs on any thread is
counted, exactly, however the threads and the tracing overlap (the tracer used to lose
whole threads' lines, and ``@trace`` called from threads at once most of its calls)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from timemory import _core
from timemory.storage import storage_class
from timemory.trace import Config, Tracer

STRESS = Path(__file__).with_name("thread_stress.py")
RUNS = 3  # each run is a fresh process: the races were timing-dependent


@pytest.fixture(autouse=True)
def _fresh_config():
    Config.reset()
    yield
    Config.reset()
    assert not _core.tracer_active(), "a test left the tracer running"


def stress(tmp_path: Path, *command: str) -> list[str]:
    """Runs thread_stress.py (command: its arguments, or a tool's before them) RUNS times;
    the verdict line of each run."""
    env = {**os.environ, "TIMEMORY_AUTO_OUTPUT": "OFF"}
    verdicts = []
    for _ in range(RUNS):
        done = subprocess.run(
            [sys.executable, *command],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith(("ok ", "short "))]
        assert lines, f"status {done.returncode}\n{done.stdout}\n{done.stderr}"
        verdicts.append(lines[-1])
    return verdicts


@pytest.mark.parametrize("mode", ["with", "running", "decorated"])
def test_sixteen_threads_exact(tmp_path, mode):
    # 16 threads x 2,000 calls x 3 lines; "decorated" starts and stops the session per call
    verdicts = stress(tmp_path, str(STRESS), mode, "16", "2000")
    assert verdicts == ["ok 96000 96000"] * RUNS


def test_decorated_under_the_command_line_from_four_threads(tmp_path):
    # `@trace` with -b: 4 threads x 10 calls at once, each call fully recorded
    verdicts = stress(
        tmp_path, "-m", "timemory.trace", "-b", "--", str(STRESS), "decorated-cli", "4", "10"
    )
    assert verdicts == ["ok 120 120"] * RUNS


def test_whole_program_with_threads(tmp_path):
    verdicts = stress(tmp_path, "-m", "timemory.trace", "--", str(STRESS), "cli", "16", "500")
    assert verdicts == ["ok 24000 24000"] * RUNS


# ------------------------------------------------------------------ in this process
def body(i: int) -> int:
    x = i + 1
    return x


def laps_of(func) -> int:
    name = f"[{func.__code__.co_name}]"
    return sum(r.data().laps() for r in storage_class("wall_clock").get() if name in r.label())


def run_at_once(target, n: int) -> None:
    start = threading.Barrier(n)

    def run() -> None:
        start.wait()
        target()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_one_decorated_tracer_from_threads_at_once():
    traced = Tracer(["wall_clock"])(body)
    run_at_once(lambda: [traced(i) for i in range(50)], 4)
    assert laps_of(body) == 4 * 50 * 2
    assert not _core.tracer_active()


def test_a_thread_with_its_own_tracer_joins_and_gets_it_back():
    # A thread with a trace function of its own is not hooked by another thread's start
    # (that would override it); its decorated calls hook it for their duration.
    seen: list[str] = []

    def mine(frame, event, arg):
        seen.append(frame.f_code.co_name)
        return None

    tracer = Tracer(["wall_clock"])
    traced = tracer(body)
    inside = threading.Event()
    release = threading.Event()
    hooks: dict[str, object] = {}

    def own_hook_thread() -> None:
        sys.settrace(mine)
        try:
            inside.wait(60)
            traced(1)
            hooks["after call"] = sys.gettrace()
            release.set()
        finally:
            sys.settrace(None)

    t = threading.Thread(target=own_hook_thread)
    t.start()
    with tracer:  # the session runs on this thread meanwhile
        inside.set()
        assert release.wait(60)
    t.join()
    assert hooks["after call"] is mine
    assert laps_of(body) == 2
    assert "body" not in seen  # the traced call went to the tracer, not to mine


@pytest.mark.parametrize("first", ["this thread", "other thread"])
def test_overlapping_starts_stop_with_the_last(first):
    # one tracer started on two threads; whichever started first, the session ends with the
    # last stop, and the lines each thread ran meanwhile are all recorded
    tracer = Tracer(["wall_clock"])
    other_in, this_done = threading.Event(), threading.Event()

    def other() -> None:
        tracer.start()
        try:
            other_in.set()
            assert this_done.wait(60)
            body(2)
        finally:
            tracer.stop()

    t = threading.Thread(target=other)
    if first == "this thread":
        tracer.start()
        t.start()
        assert other_in.wait(60)
    else:
        t.start()
        assert other_in.wait(60)
        tracer.start()
    body(1)
    tracer.stop()
    assert _core.tracer_active()  # the other thread's start is still running
    this_done.set()
    t.join()
    assert not _core.tracer_active()
    assert laps_of(body) == 4
