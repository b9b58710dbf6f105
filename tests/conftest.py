"""Fixtures shared by the whole suite.

Autouse:
* for the session, output goes to a temporary folder and the tables are not printed, so a test
  run writes nothing into the repository (also at exit, when timemory's atexit finalize runs);
* every test starts with empty storage;
* a test that leaves a profile or trace hook installed (sys.setprofile/settrace, threading's,
  a sys.monitoring tool id on 3.12+) or the fake clock on fails (house style).

``fake_clock``: the tests' fake clock (tests/fakeclock.py) on for the test, off after it.

Helpers for the tests that run a Python program in a subprocess: ``run_python``, and
``interrupted_tool`` for a command-line tool interrupted with Ctrl-C.
"""

from __future__ import annotations

import functools
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Callable

import fakeclock
import pytest
import timemory
from timemory import settings
from tool_helpers import clean_env

# The tests of ending signals expect SIGHUP's default disposition in the programs they start;
# `nohup` (a suite started in the background) sets it to "ignored" for all of them, and a
# disposition a program inherits is one timemory leaves alone.
if signal.getsignal(signal.SIGHUP) is signal.SIG_IGN:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.fixture(scope="session", autouse=True)
def _timemory_session_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("timemory-output")
    settings.output_path = str(out)
    settings.cout_output = False
    yield out
    # timemory.finalize() runs again at interpreter exit: leave nothing for it to write or print
    # (output_path stays in the temporary folder in any case).
    timemory.clear()
    settings.auto_output = False


_NO_HOOK = lambda: None  # noqa: E731  (threading.getprofile/gettrace are Python >= 3.10)
_MONITORING = getattr(sys, "monitoring", None)  # Python >= 3.12


def _hooks() -> tuple:
    return (
        sys.getprofile(),
        sys.gettrace(),
        getattr(threading, "getprofile", _NO_HOOK)(),
        getattr(threading, "gettrace", _NO_HOOK)(),
    )


def _monitoring_tools() -> dict[int, str]:
    """The sys.monitoring tool ids in use, with their names (3.12+)."""
    if _MONITORING is None:
        return {}
    tools = {i: _MONITORING.get_tool(i) for i in range(6)}
    return {i: name for i, name in tools.items() if name is not None}


@pytest.fixture(autouse=True)
def _timemory_test_state() -> None:
    timemory.clear()
    before = _hooks()
    tools_before = _monitoring_tools()
    yield
    problems = []
    after = _hooks()
    if after != before:
        # remove what the test left behind so that the next tests are not affected
        sys.setprofile(before[0])
        sys.settrace(before[1])
        threading.setprofile(before[2])
        threading.settrace(before[3])
        problems.append(
            "the test left a profile/trace hook installed: "
            f"sys.getprofile()={after[0]!r}, sys.gettrace()={after[1]!r}, "
            f"threading.getprofile()={after[2]!r}, threading.gettrace()={after[3]!r}"
        )
    left = {i: name for i, name in _monitoring_tools().items() if tools_before.get(i) != name}
    if left:
        for i in left:
            _MONITORING.set_events(i, 0)
            _MONITORING.free_tool_id(i)
        problems.append(f"the test left sys.monitoring tool ids in use: {left}")
    if fakeclock.is_on():
        fakeclock.disable()
        problems.append("the test left the fake clock on (use the fake_clock fixture)")
    if problems:
        pytest.fail("; ".join(problems), pytrace=False)


@pytest.fixture
def fake_clock() -> fakeclock.FakeClock:
    """The tests' fake clock, on for the test (wall_clock and cpu_clock read it; ``advance(
    seconds, cpu=0.0)`` moves it) and off after it, whatever the test did."""
    clock = fakeclock.enable()
    try:
        yield clock
    finally:
        fakeclock.disable()


def _run_python(
    source: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    name: str = "script.py",
    args: tuple = (),
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    script = Path(cwd) / name
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="session")
def python_runner() -> Callable[..., subprocess.CompletedProcess]:
    """``python_runner(source, cwd, env={...}, name="script.py", args=())`` writes ``source`` to
    ``cwd/name`` and runs it with this interpreter in ``cwd`` (the working directory, so a
    default output folder would land there too). The environment is the current one without any
    ``TIMEMORY_*`` variable, plus ``env``."""
    return _run_python


@pytest.fixture
def run_python(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``python_runner`` in ``tmp_path``: ``run_python(source, env={...}, name=...)``."""
    return functools.partial(_run_python, cwd=tmp_path)


# A program that prints "ready" after one call of nap() (line 5) and then naps until stopped.
NAPPING_SCRIPT = """\
import time


def nap():
    time.sleep(0.01)


nap()
print("ready", flush=True)
while True:
    nap()
"""


def _interrupted_tool(tool_args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    (Path(cwd) / "script.py").write_text(NAPPING_SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, *tool_args, "script.py"],
        cwd=cwd,
        env=clean_env(None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until the program is in its loop
            if line.startswith("ready"):
                break
        else:
            pytest.fail(f"the program did not start: {proc.stderr.read() if proc.stderr else ''}")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


@pytest.fixture
def interrupted_tool(tmp_path: Path) -> Callable[[list[str]], subprocess.CompletedProcess]:
    """``interrupted_tool(["-m", "timemory.profiler", ...])`` runs that tool on a script in
    ``tmp_path`` whose ``nap()`` (line 5) sleeps in a loop, sends Ctrl-C once the loop runs and
    returns the finished process (output ``"ready\n"`` first)."""
    return functools.partial(_interrupted_tool, cwd=tmp_path)


@pytest.fixture
def verbosity() -> Callable[[int], None]:
    """``verbosity(level)`` sets ``settings.verbose`` for the test; its value and its source
    ("default", "environment"...) come back after it, so later tests still see a config file
    win over the default."""
    state = settings._GLOBAL
    saved = (state._values["verbose"], state._sources["verbose"])
    yield lambda level: setattr(settings, "verbose", level)
    state._values["verbose"], state._sources["verbose"] = saved
