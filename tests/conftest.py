"""Fixtures shared by the whole suite.

Autouse:
* for the session, output goes to a temporary folder and the tables are not printed, so a test
  run writes nothing into the repository (also at exit, when timemory's atexit finalize runs);
* every test starts with empty storage;
* a test that leaves a profile or trace hook installed fails (house style).

Helpers for the tests that run a Python program in a subprocess: ``run_python``.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Callable

import pytest
import timemory
from timemory import settings


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


def _hooks() -> tuple:
    return (
        sys.getprofile(),
        sys.gettrace(),
        getattr(threading, "getprofile", _NO_HOOK)(),
        getattr(threading, "gettrace", _NO_HOOK)(),
    )


@pytest.fixture(autouse=True)
def _timemory_test_state() -> None:
    timemory.clear()
    before = _hooks()
    yield
    after = _hooks()
    if after != before:
        # remove what the test left behind so that the next tests are not affected
        sys.setprofile(before[0])
        sys.settrace(before[1])
        threading.setprofile(before[2])
        threading.settrace(before[3])
        pytest.fail(
            "the test left a profile/trace hook installed: "
            f"sys.getprofile()={after[0]!r}, sys.gettrace()={after[1]!r}, "
            f"threading.getprofile()={after[2]!r}, threading.gettrace()={after[3]!r}",
            pytrace=False,
        )


def _clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    env.pop("PYTHONWARNINGS", None)
    env.update(extra or {})
    return env


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
        env=_clean_env(env),
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
