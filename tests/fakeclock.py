"""The tests' fake clock: while it is on, every wall_clock and cpu_clock reading (markers,
component objects, the profiler and trace hooks, regions and their throttle, on every thread)
is the time the test set and advanced, so a test asserts exact durations instead of sleeping
and allowing for a loaded machine.

In the test process, use the ``fake_clock`` fixture (tests/conftest.py)::

    def test_x(fake_clock):
        with marker(["wall_clock"], key="k"):
            fake_clock.advance(0.25)
        assert timemory.get()[...]["value"] == 250_000_000

In a program the test runs (a script, or a command-line tool), ``PRELUDE`` turns it on at the
start of the program and defines ``nap(seconds, cpu=0.0)`` to stand for a sleep or some work;
``run_tool_with_fake_clock`` runs ``python -m <tool>`` with it on from the start.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from timemory import _core
from tool_helpers import clean_env

#: the time the clock starts at (ns): any value works; not 0, so that a reading of the fake
#: clock is never mistaken for a reading that was not taken
START_NS = 1_000_000_000


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


class FakeClock:
    """The running fake clock (what the ``fake_clock`` fixture yields)."""

    def advance(self, seconds: float, cpu: float = 0.0) -> None:
        """Wall time passes by ``seconds`` and CPU time (cpu_clock) by ``cpu``."""
        _core._test_clock_advance(_ns(seconds), _ns(cpu))

    @property
    def wall_ns(self) -> int:
        return int(_core._test_clock_state()[1])

    @property
    def cpu_ns(self) -> int:
        return int(_core._test_clock_state()[2])


def enable(start_ns: int = START_NS) -> FakeClock:
    _core._test_clock(True, start_ns, start_ns)
    return FakeClock()


def disable() -> None:
    _core._test_clock(False)


def is_on() -> bool:
    return bool(_core._test_clock_state()[0])


#: source lines that turn the fake clock on in a program (unless it is on already: a program run
#: by run_tool_with_fake_clock) and define nap(seconds, cpu=0.0), which advances it
PRELUDE = f"""\
from timemory import _core as _fake_clock_core
if not _fake_clock_core._test_clock_state()[0]:
    _fake_clock_core._test_clock(True, {START_NS}, {START_NS})


def nap(seconds, cpu=0.0):
    _fake_clock_core._test_clock_advance(round(seconds * 1e9), round(cpu * 1e9))
"""

# python -c LAUNCH <module> args...: <module> run as ``python -m <module> args...`` with the fake
# clock on from the start (sys.argv[0] becomes the module's path, as with -m)
LAUNCH = f"""\
import runpy, sys
from timemory import _core
_core._test_clock(True, {START_NS}, {START_NS})
runpy.run_module(sys.argv.pop(1), run_name="__main__", alter_sys=True)
"""


def run_tool_with_fake_clock(
    module: str, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``tool_helpers.run_tool`` with the fake clock on in the tool's process from its start: the
    program it runs advances the clock with ``nap`` (from ``PRELUDE``)."""
    return subprocess.run(
        [sys.executable, "-c", LAUNCH, module, *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
