"""Helpers for the tests that run timemory's command-line tools in a subprocess (importable
from any test module: ``pythonpath = ["tests"]`` in the pytest configuration)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def write(path: Path, source: str) -> Path:
    """Write ``source`` (dedented) to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The current environment without any TIMEMORY_* variable, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    env.pop("PYTHONWARNINGS", None)
    env.update(extra or {})
    return env


def run_tool(
    module: str, *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess:
    """``python -m <module> args...`` in ``cwd`` with :func:`clean_env`."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        env=clean_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_error_line(err: str, prog: str, text: str) -> None:
    """``err`` is a single ``<prog>: error: ...`` line that contains ``text``."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{prog}: error: "), err
    assert text in lines[0], err
