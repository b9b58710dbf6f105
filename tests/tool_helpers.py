"""Helpers for the tests that run timemory's command-line tools in a subprocess (importable
from any test module: ``pythonpath = ["tests"]`` in the pytest configuration)."""

from __future__ import annotations

import mmap
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


def tree_counts(source: object = "wall_clock") -> dict[tuple[str, ...], int]:
    """{label path: count} of a native tree batch, or of this process's merged tree of the
    component named ``source`` (threads merged); the dummy root left out."""
    from timemory import _core

    batch = _core.tree_snapshot(_core.find_component(source)) if isinstance(source, str) else source
    out: dict[tuple[str, ...], int] = {}
    stack: list[tuple[int, tuple[str, ...]]] = [(i, ()) for i in batch.roots()]
    while stack:
        i, prefix = stack.pop()
        path = prefix if batch.hash(i) == 0 else (*prefix, batch.label(i))
        if path:
            out[path] = out.get(path, 0) + batch.inclusive(i).laps
        stack += [(c, path) for c in batch.children(i)]
    return out


PAGE = mmap.PAGESIZE


def touch_fresh_pages(n: int) -> None:
    """Write one byte in each of n pages of new anonymous memory (one fault per page)."""
    buf = mmap.mmap(-1, n * PAGE)
    if hasattr(buf, "madvise") and hasattr(mmap, "MADV_NOHUGEPAGE"):
        buf.madvise(mmap.MADV_NOHUGEPAGE)  # a huge page would serve 512 pages with one fault
    for i in range(n):
        buf[i * PAGE] = 1
    buf.close()
