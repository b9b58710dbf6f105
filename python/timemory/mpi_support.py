"""MPI facts (``timemory.mpi_support``): whether MPI can be used, what this process's MPI
is, and the MPI tools on this machine.

MPI here is mpi4py (the 'mpi' extra: ``pip install '.[mpi]'`` in timemory's source folder);
:mod:`timemory.mpi` is the transport and its functions are re-exported here
(``is_initialized``, ``rank``, ``size``, ...), so the answers are the same in both modules.
Nothing here imports ``mpi4py.MPI``, which would initialise MPI: until the program (or
:func:`timemory.mpi_init`) does, the facts say "no MPI in use" (rank 0 of 1).

    from timemory import mpi_support
    mpi_support.is_supported()      # mpi4py installed?
    mpi_support.info()              # {"supported": True, "initialized": False, "rank": 0, ...}
    mpi_support.mpi_exe_info()      # the launcher (mpiexec) and its version, also on stderr

``enable_mpip`` (MPI function wrappers) needs GOTCHA, which this build does not have: it
raises :class:`~timemory.api.UnavailableError`.
"""

from __future__ import annotations

import os
import sys

from .mpi import (
    comm,
    finalize,
    gather,
    init,
    is_finalized,
    is_initialized,
    is_supported,
    library_version,
    rank,
    size,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence
    from typing import Any

__all__ = [
    "is_supported",
    "mpi_exe_info",
    "mpi_c_info",
    "mpi_cxx_info",
    "enable_mpip",
    "info",
    "is_initialized",
    "is_finalized",
    "rank",
    "size",
    "comm",
    "init",
    "finalize",
    "gather",
    "library_version",
]


def _mpi4py_config() -> dict[str, str]:
    """mpi4py's build configuration (its compiler wrappers), {} without mpi4py. Importing
    the ``mpi4py`` package does not initialise MPI (its ``MPI`` module does)."""
    if not is_supported():
        return {}
    try:
        import mpi4py

        return {str(k): str(v) for k, v in mpi4py.get_config().items()}
    except Exception:  # noqa: BLE001 - a broken mpi4py is no MPI configuration
        return {}


def _find_program(names: Sequence[str]) -> str | None:
    """The first of ``names`` next to this Python (a virtual environment's MPI wheel puts its
    tools there) or in ``PATH``."""
    import shutil

    folders = [os.path.dirname(sys.executable), os.environ.get("PATH", "")]
    search = os.pathsep.join(f for f in folders if f)
    for name in names:
        path = shutil.which(name, path=search)
        if path is not None:
            return path
    return None


def _program_info(title: str, names: Sequence[str], flag_sets: Sequence[Sequence[str]]) -> str:
    """``<title>: <path>`` and the output of the first of ``flag_sets`` that succeeds, or a
    line saying it was not found; printed to stderr and returned."""
    from ._text import echo

    path = _find_program(names)
    if path is None:
        text = (
            f"{title}: not found (looked for {', '.join(names)} next to {sys.executable} "
            "and in PATH)"
        )
    else:
        import subprocess

        output = ""
        for flags in flag_sets:
            try:
                proc = subprocess.run(
                    [path, *flags], capture_output=True, text=True, timeout=60, check=False
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if proc.returncode == 0 and proc.stdout.strip():
                output = proc.stdout.strip()
                break
        text = f"{title}: {path}" + (f"\n{output}" if output else "")
    echo(text, sys.stderr)
    return text


def mpi_exe_info() -> str:
    """The MPI launcher (``mpiexec``, else ``mpirun``) and its ``--version`` text: printed to
    stderr and returned ("mpiexec: not found (...)" when there is none)."""
    return _program_info("mpiexec", ("mpiexec", "mpirun"), (("--version",),))


def _compiler_info(title: str, config_key: str, names: Sequence[str]) -> str:
    configured = _mpi4py_config().get(config_key, "")
    names = [configured, *names] if configured else list(names)
    # MPICH's wrappers print their compile line with -show, Open MPI's with --showme
    return _program_info(title, names, (("-show",), ("--showme",), ("--version",)))


def mpi_c_info() -> str:
    """The MPI C compiler wrapper (mpi4py's ``mpicc``, else ``mpicc`` next to this Python or
    in ``PATH``) and the compile line it runs: printed to stderr and returned."""
    return _compiler_info("mpicc", "mpicc", ("mpicc",))


def mpi_cxx_info() -> str:
    """The MPI C++ compiler wrapper (``mpicxx``, ``mpic++``, ``mpiCC``) and the compile line
    it runs: printed to stderr and returned."""
    return _compiler_info("mpicxx", "mpicxx", ("mpicxx", "mpic++", "mpiCC"))


def info() -> dict[str, Any]:
    """The MPI facts of this process, consistent with :mod:`timemory.mpi`: ``supported``
    (mpi4py installed), ``mpi4py_version`` ("" without it), ``initialized``, ``finalized``,
    ``rank``, ``size`` and ``library_version`` (the MPI library's text, "" until mpi4py's
    ``MPI`` module is loaded). Does not initialise MPI."""
    version = ""
    if is_supported():
        try:
            import mpi4py

            version = str(mpi4py.__version__)
        except Exception:  # noqa: BLE001 - a broken install reports no version
            version = ""
    return {
        "supported": is_supported(),
        "mpi4py_version": version,
        "initialized": is_initialized(),
        "finalized": is_finalized(),
        "rank": rank(),
        "size": size(),
        "library_version": library_version(),
    }


def enable_mpip(permit: Sequence[str] = (), reject: Sequence[str] = ()) -> int:
    """Wrap the MPI functions (all, only those in ``permit``, or all but those in
    ``reject``) to measure them; the original sets ``TIMEMORY_MPIP_PERMIT_LIST`` /
    ``TIMEMORY_MPIP_REJECT_LIST`` and calls ``start_mpip()``.

    The names must be strings (``TypeError`` otherwise). The wrappers need GOTCHA, which
    this build does not have: raises :class:`~timemory.api.UnavailableError` and leaves the
    environment unchanged."""
    for what, names in (("permit", permit), ("reject", reject)):
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise TypeError(f"enable_mpip: {what} must be a list of MPI function names (str)")
    from .tools import start_mpip

    return start_mpip()
