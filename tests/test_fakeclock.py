"""The tests' fake clock (tests/fakeclock.py, ``_core._test_clock*``) and the guard in
tests/conftest.py that fails a test leaving a hook or the fake clock behind."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import fakeclock
import pytest
import timemory
from timemory import _core, region
from timemory.bundle import marker
from timemory.component import CpuClock, ThreadCpuClock, WallClock
from timemory.profiler import profile
from timemory.storage import CpuClockStorage, WallClockStorage
from tool_helpers import clean_env

TESTS = Path(__file__).resolve().parent


def test_every_reading_is_the_fake_time(fake_clock):
    start = fake_clock.wall_ns
    assert start == fakeclock.START_NS and fake_clock.cpu_ns == fakeclock.START_NS
    assert WallClock.record() == start and CpuClock.record() == start
    fake_clock.advance(1.5, cpu=0.25)
    assert (WallClock.record(), CpuClock.record()) == (start + 1_500_000_000, start + 250_000_000)
    # other clocks stay real
    assert ThreadCpuClock.record() != fake_clock.cpu_ns


def test_markers_components_profiler_and_regions_read_it(fake_clock):
    w = WallClock("w").start()
    with marker(["wall_clock", "cpu_clock"], key="marked"):
        fake_clock.advance(0.004, cpu=0.001)
    region.push("a region")
    fake_clock.advance(0.002)
    region.pop("a region")

    def profiled() -> None:
        fake_clock.advance(0.003)

    with profile(["wall_clock"]):
        profiled()
    w.stop()
    values = {e.label(): e.data().get_raw() for e in WallClockStorage.get()}
    assert values["marked"] == 4_000_000 and values["a region"] == 2_000_000
    assert [v for label, v in values.items() if label.endswith("profiled")] == [3_000_000]
    assert [e.data().get_raw() for e in CpuClockStorage.get()] == [1_000_000]
    assert w.get_raw() == 9_000_000


def test_other_threads_read_the_same_clock(fake_clock):
    seen: list[int] = []

    def worker() -> None:
        with marker(["wall_clock"], key="in a thread"):
            fake_clock.advance(0.007)
        seen.append(WallClock.record())

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    [entry] = WallClockStorage.get()
    assert entry.data().get_raw() == 7_000_000 and entry.tid() != 0
    assert seen == [fake_clock.wall_ns]


def test_off_the_clocks_are_real_again():
    fake = fakeclock.enable()
    fake.advance(1000.0)
    fakeclock.disable()
    assert not fakeclock.is_on()
    first = WallClock.record()
    time.sleep(0.001)  # real time: the real clock moves on its own
    assert WallClock.record() > first
    assert abs(first - time.monotonic_ns()) < 60 * 10**9  # the monotonic clock, not the fake


def test_bad_times_are_refused():
    with pytest.raises(ValueError, match="does not go back"):
        _core._test_clock_advance(-1)
    with pytest.raises(ValueError, match=">= 0"):
        _core._test_clock(True, -5)
    assert not fakeclock.is_on()


def test_a_program_run_with_the_fake_clock(tmp_path):
    (tmp_path / "script.py").write_text(
        fakeclock.PRELUDE
        + textwrap.dedent(
            """
            from timemory.bundle import marker
            from timemory.storage import WallClockStorage
            with marker(["wall_clock"], key="step"):
                nap(0.25)
            for e in WallClockStorage.get():
                if e.label() in ("step", "nap"):
                    print("result", e.label(), e.data().get_raw())
            """
        )
    )
    proc = fakeclock.run_tool_with_fake_clock(
        "timemory.profiler", "-c", "wall_clock", "--", "script.py", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    # the marker and the profiler's entry of nap()
    results = sorted(line for line in proc.stdout.splitlines() if line.startswith("result"))
    assert results == ["result nap 250000000", "result step 250000000"], proc.stdout


# ------------------------------------------------------------------ the guard (conftest.py)
LEAKS = """
import sys, threading
from timemory import _core


def test_leaves_a_profile_hook():
    sys.setprofile(lambda *args: None)


def test_leaves_the_fake_clock_on():
    _core._test_clock(True)


def test_leaves_a_monitoring_tool_id():
    if not hasattr(sys, "monitoring"):
        return
    sys.monitoring.use_tool_id(4, "leaky")


def test_clean(fake_clock):
    fake_clock.advance(1.0)
"""


def test_the_guard_fails_a_test_that_leaves_a_hook_or_the_fake_clock(tmp_path):
    """The suite's own conftest.py runs on a file of leaky tests: each fails, with the reason,
    and the state is restored for the next (the clean test passes)."""
    (tmp_path / "test_leaks.py").write_text(LEAKS)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-q", "-p", "no:cacheprovider"]
        + ["--rootdir", str(tmp_path), str(tmp_path / "test_leaks.py")],
        cwd=tmp_path,
        env=clean_env({"PYTHONPATH": str(TESTS)}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout
    assert "the test left a profile/trace hook installed" in out, out
    assert "the test left the fake clock on" in out, out
    # a failure at teardown is reported as an error of the test
    leaked_ids = "the test left sys.monitoring tool ids in use: {4: 'leaky'}"
    if hasattr(sys, "monitoring"):
        assert leaked_ids in out and "4 passed, 3 errors" in out, out
    else:
        assert leaked_ids not in out and "4 passed, 2 errors" in out, out
    timemory.clear()
