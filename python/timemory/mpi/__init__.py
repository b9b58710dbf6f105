"""MPI through mpi4py: the transport that gathers every rank's data on rank zero.

timemory never initialises MPI behind a program's back. MPI counts as in use once mpi4py's
``MPI`` module is loaded and MPI is initialised, whoever did it: the program (``from mpi4py
import MPI`` initialises by default), ``settings.mpi_init``, or :func:`init`
(``timemory.mpi_init()``). From then on ``dmp_get()``, ``dmp_get_tree()``, ``timemory.get()``
and the output at finalize gather on rank zero; without MPI they hold this process alone.

Ordering at the end of a run, so that no data are lost and no rank waits forever:

* timemory's own finalize runs from ``atexit``, before mpi4py finalises MPI;
* a program that calls ``MPI.Finalize()`` itself has timemory finalise first, from the
  delete callback of an attribute on ``MPI.COMM_SELF`` (MPI runs it at the start of
  ``MPI_Finalize``, which every rank calls, so the gather inside is safe);
* an uncaught exception on one rank of several writes that rank's own data to per-rank files
  and aborts the job (``MPI.COMM_WORLD.Abort``) after the traceback, as ``python -m mpi4py``
  does: the other ranks may be waiting for the failed one, and a gather would never complete.
  The launcher ends the other ranks with SIGKILL then, so first the ranks on the same node get
  a SIGTERM and write their own ``<label>_<rank>`` files (timemory's ending-signal handler);
* an ending signal (SIGTERM, which ``mpiexec`` forwards to every rank, SIGHUP...) on a rank of
  several writes that rank's own ``<label>_<rank>`` files (no collective: the other ranks may
  be anywhere), then ends it as the signal would (:mod:`timemory._signals`).

    import timemory.mpi
    timemory.mpi.is_supported(), timemory.mpi.is_initialized()
    timemory.mpi.rank(), timemory.mpi.size()
"""

from __future__ import annotations

import os
import sys

from .. import _lifecycle, _processes, _signals
from .. import settings as _settings
from .._text import ERROR, echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = [
    "is_supported",
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

_state: dict[str, Any] = {"activated": False, "keyval": None, "excepthook": None}


def is_supported() -> bool:
    """True when mpi4py can be imported (checked without importing it, which would start MPI)."""
    if "mpi4py" in sys.modules:
        return True
    import importlib.util

    return importlib.util.find_spec("mpi4py") is not None


def _module() -> Any:
    """mpi4py's ``MPI`` module if the program (or timemory) loaded it, else None."""
    return sys.modules.get("mpi4py.MPI")


def is_initialized() -> bool:
    """True between MPI's initialisation and its finalisation (through mpi4py)."""
    mpi = _module()
    if mpi is None:
        return False
    try:
        return bool(mpi.Is_initialized()) and not bool(mpi.Is_finalized())
    except Exception:  # noqa: BLE001 - a half-imported or broken mpi4py is no MPI
        return False


def is_finalized() -> bool:
    """True once MPI has been finalised."""
    mpi = _module()
    return mpi is not None and bool(mpi.Is_finalized())


def comm() -> Any:
    """``MPI.COMM_WORLD`` while MPI is in use (activating timemory's hooks), else None."""
    if not is_initialized():
        return None
    if not _state["activated"]:
        _activate()
    return _module().COMM_WORLD


def rank() -> int:
    """This process's rank in ``COMM_WORLD`` (0 without MPI)."""
    world = comm()
    return 0 if world is None else int(world.Get_rank())


def size() -> int:
    """The number of ranks in ``COMM_WORLD`` (1 without MPI)."""
    world = comm()
    return 1 if world is None else int(world.Get_size())


def library_version() -> str:
    """The MPI library's version text ("" when MPI is not loaded)."""
    mpi = _module()
    return "" if mpi is None else str(mpi.Get_library_version()).strip()


_THREAD_LEVELS = {"single", "funneled", "serialized", "multiple"}


def init() -> bool:
    """Initialise MPI through mpi4py if nobody has yet (``timemory.mpi_init()``).

    ``settings.mpi_thread`` and ``settings.mpi_thread_type`` choose the thread support level
    when timemory is the one to initialise. Returns True when MPI is in use afterwards;
    raises ImportError naming the missing package when mpi4py is not installed.
    """
    if is_initialized():
        comm()
        return True
    if is_finalized():
        return False
    try:
        import mpi4py
    except ImportError:
        from timemory import _about

        raise _about.missing_package("timemory.mpi", "mpi4py", "mpi") from None
    if "mpi4py.MPI" not in sys.modules:
        level = str(_settings.mpi_thread_type or "").lower()
        mpi4py.rc.threads = bool(_settings.mpi_thread)
        if level in _THREAD_LEVELS:
            mpi4py.rc.thread_level = level
    from mpi4py import MPI

    if not MPI.Is_initialized():
        MPI.Init_thread() if mpi4py.rc.threads else MPI.Init()
    comm()
    return True


def finalize() -> None:
    """Finalise MPI (``timemory.mpi_finalize()``); timemory writes its output first."""
    mpi = _module()
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        mpi.Finalize()


def gather(obj: Any) -> list[Any] | None:
    """``obj`` of every rank, in rank order, on rank zero (None on the other ranks).

    A collective: every rank must call it. Without MPI it returns ``[obj]``.
    """
    world = comm()
    if world is None or world.Get_size() == 1:
        return [obj]
    return world.gather(obj, root=0)


# ------------------------------------------------------------------ hooks
def _on_mpi_finalize(*_args: Any) -> int:
    """Delete callback of timemory's attribute on ``MPI.COMM_SELF``: MPI is being finalised
    while still usable; write the output now (every rank is here)."""
    try:
        _lifecycle.finalize()
    except BaseException as err:  # noqa: BLE001 - must not propagate into MPI_Finalize
        echo(f"[timemory]> finalize before MPI_Finalize failed: {err!r}", level=ERROR)
    return 0


def _excepthook(exc_type: Any, exc: BaseException, tb: Any) -> None:
    previous = _state["excepthook"] or sys.__excepthook__
    previous(exc_type, exc, tb)
    abort_on_uncaught()


def abort_on_uncaught(status: int = 1) -> None:
    """After an uncaught exception on one rank of several: write this rank's data to per-rank
    files (no collective: the other ranks may never get there) and abort the job. Nothing
    happens without MPI or with a single rank."""
    world = comm()
    if world is None or world.Get_size() < 2:
        return
    try:
        _lifecycle.write_rank_local(reason="an uncaught exception")
    except BaseException as err:  # noqa: BLE001 - the abort must happen whatever failed
        echo(f"[timemory]> could not write rank {world.Get_rank()}'s data: {err!r}", level=ERROR)
    try:
        _end_peers_on_this_node()
    except Exception as err:  # noqa: BLE001 - the abort must happen whatever failed
        echo(f"[timemory]> could not ask the other ranks to write: {err!r}", sys.stderr)
    sys.stderr.flush()
    sys.stdout.flush()
    world.Abort(status)


#: Seconds an aborting rank waits for the other ranks of its node to write their data.
PEERS_WAIT = 60.0
_RANK_VARIABLES = (b"PMI_RANK=", b"OMPI_COMM_WORLD_RANK=", b"PMIX_RANK=", b"MV2_COMM_WORLD_RANK=")


def _end_peers_on_this_node() -> None:
    """Before an abort: the launchers end the other ranks with SIGKILL, which nothing can
    catch. So the ranks of this job on this node (the other children of this rank's parent, the
    launcher's proxy, that are MPI ranks and catch SIGTERM: timemory's ending-signal handler)
    get a SIGTERM first, and this rank waits (up to :data:`PEERS_WAIT` seconds) until they have
    written their ``<label>_<rank>`` files and ended. Linux (``/proc``) only; ranks on other
    nodes are not reached."""
    import signal
    import time

    parent, me = os.getppid(), os.getpid()
    if parent <= 1:
        return  # no launcher above this rank (orphaned): its siblings are not its job's
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return
    peers = []
    for pid in pids:
        if pid == me or _proc_parent(pid) != parent or not _catches_sigterm(pid):
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                environ = f.read()
        except OSError:
            continue
        if any(b"\0" + name in b"\0" + environ for name in _RANK_VARIABLES):
            peers.append(pid)
    for pid in peers:
        try:
            os.kill(pid, signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + PEERS_WAIT
    while peers and time.monotonic() < deadline:
        peers = [pid for pid in peers if _proc_parent(pid) == parent and not _ended(pid)]
        time.sleep(0.05)


def _proc_fields(pid: int) -> list[str]:
    """The fields of ``/proc/<pid>/stat`` after the command name ([] when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read().decode("ascii", "replace")
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()


def _proc_parent(pid: int) -> int:
    fields = _proc_fields(pid)
    return int(fields[1]) if len(fields) > 1 else -1


def _ended(pid: int) -> bool:
    fields = _proc_fields(pid)
    return not fields or fields[0] in ("Z", "X")


def _catches_sigterm(pid: int) -> bool:
    import signal

    try:
        with open(f"/proc/{pid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (int(signal.SIGTERM) - 1) & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def _activate() -> None:
    """First sight of an initialised MPI: finalise timemory from inside ``MPI_Finalize``
    (whoever calls it) and abort the job on an uncaught exception."""
    mpi = _module()
    if _state["activated"] or mpi is None or not is_initialized():
        return
    _state["activated"] = True
    keyval = mpi.Comm.Create_keyval(delete_fn=_on_mpi_finalize)
    mpi.COMM_SELF.Set_attr(keyval, "timemory")
    _state["keyval"] = keyval
    if mpi.COMM_WORLD.Get_size() > 1 and sys.excepthook is not _excepthook:
        _state["excepthook"] = sys.excepthook
        sys.excepthook = _excepthook


def _env_rank() -> int:
    """The rank mpiexec gives this process (before or without MPI initialisation), else -1."""
    for name in ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "MV2_COMM_WORLD_RANK"):
        value = os.environ.get(name)
        if value is not None and value.strip().isdigit():
            return int(value)
    return -1


def _finalize_after_output() -> None:
    """``settings.mpi_finalize``: finalise MPI once timemory's finalize wrote the output."""
    if _settings.mpi_finalize:
        finalize()


#: Seconds a rank that an ending signal ended waits for the other ranks' files.
RANKS_WAIT = 30.0
_signal_time: list[float] = []


def _note_signal_time() -> None:
    import time

    _signal_time[:] = [time.time()]


def _wait_for_other_ranks() -> None:
    """An ending signal made this rank write its own ``<label>_<rank>`` files: ``mpiexec``
    forwards SIGTERM to every rank, and kills the ranks left (SIGKILL) as soon as one of them
    has ended. So before ending, wait (up to :data:`RANKS_WAIT` seconds) until every rank's
    ``metadata_<rank>.json``, written last, is newer than the signal. Not when the output path
    names the rank (each rank then has its own folder)."""
    import time

    from .. import _output

    world = comm()
    if world is None or world.Get_size() < 2 or not _signal_time:
        return
    plan = _output.OutputPlan.from_settings(rank_suffix=True)
    if plan.names_rank:
        return
    me = world.Get_rank()
    paths = [
        _output.OutputPlan(plan.wanted, r, True).path("metadata", ".json")
        for r in range(world.Get_size())
        if r != me
    ]
    since = _signal_time[0] - 1.0  # file times may be coarser than time.time()
    deadline = time.monotonic() + RANKS_WAIT
    while paths and time.monotonic() < deadline:
        paths = [p for p in paths if not _written_since(p, since)]
        if paths:
            time.sleep(0.05)


def _written_since(path: str, since: float) -> bool:
    try:
        return os.stat(path).st_mtime >= since
    except OSError:
        return False


# the job's collective: the output names ranks and gathers on rank zero through it
_processes.set_collective(in_use=lambda: comm() is not None, rank=rank, size=size, gather=gather)
_lifecycle.add_finalizer(_finalize_after_output)
_signals.add_before_write(_note_signal_time)
_signals.add_after_rank_write(_wait_for_other_ranks)
