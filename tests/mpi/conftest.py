"""Running programs under ``mpiexec`` (the one mpich's wheel installs beside this Python).

Every run has a timeout: a hang fails the test instead of blocking the suite. The tests are
skipped, with the reason, only where MPI genuinely cannot start: no mpi4py, no mpiexec, or an
mpiexec that cannot run a two-rank hello world.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest

TIMEOUT = 240  # seconds for one mpiexec run: 4 ranks on 2 cores start in a few seconds


def _mpiexec() -> str | None:
    beside = Path(sys.executable).parent / "mpiexec"
    if beside.exists():
        return str(beside)
    return shutil.which("mpiexec")


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    env.pop("PYTHONWARNINGS", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@functools.cache
def _cannot_start() -> str:
    """Why MPI cannot start here ("" when it can)."""
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install '.[mpi]' or '.[test]')"
    exe = _mpiexec()
    if exe is None:
        return "no mpiexec beside this Python or on PATH (the mpich wheel provides one)"
    hello = "from mpi4py import MPI; print('rank', MPI.COMM_WORLD.Get_rank())"
    try:
        proc = subprocess.run(
            [exe, "-n", "2", sys.executable, "-c", hello],
            capture_output=True,
            text=True,
            timeout=120,
            env=_env(None),
        )
    except subprocess.TimeoutExpired:
        return f"'{exe} -n 2' did not finish a hello world in 120 s"
    if proc.returncode != 0 or proc.stdout.count("rank") != 2:
        return f"'{exe} -n 2' cannot run a hello world: {proc.stderr.strip()[-300:]}"
    return ""


@pytest.fixture(scope="session")
def mpi_available() -> None:
    reason = _cannot_start()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def mpirun(mpi_available: None, tmp_path: Path) -> Callable[..., subprocess.CompletedProcess]:
    """``mpirun(n, source=None, args=(), env={}, name="prog.py", timeout=TIMEOUT)`` writes
    ``source`` (if given) to ``tmp_path/name`` and runs ``mpiexec -n N python [name] *args``
    in ``tmp_path``; with ``source=None`` it runs ``python *args``."""

    def run(
        n: int,
        source: str | None = None,
        args: tuple = (),
        env: dict[str, str] | None = None,
        name: str = "prog.py",
        timeout: float = TIMEOUT,
    ) -> subprocess.CompletedProcess:
        command = [_mpiexec(), "-n", str(n), sys.executable]
        if source is not None:
            (tmp_path / name).write_text(textwrap.dedent(source))
            command.append(name)
        command += list(args)
        return subprocess.run(
            command,
            cwd=tmp_path,
            env=_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    return run
