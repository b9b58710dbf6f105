"""The processes a run's data come from, as the transports registered them.

Two kinds of transport register here when they are imported, so that nothing below them
(settings, storage, the output, the lifecycle) imports them by name:

* a *collective* (MPI, :mod:`timemory.mpi`): while it is in use this process has a rank in a
  job, and :func:`gather` is a collective that brings every rank's data to rank zero;
* *local sources* (the process-pool workers, :mod:`timemory._workers`): other processes that
  left their data for this one.

``timemory.storage.set_gather`` installs a custom collective in place of the registered one.
"""

from __future__ import annotations

import os

from . import _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "add_local_source",
    "collective_in_use",
    "discard_local",
    "distributed",
    "gather",
    "local_items",
    "output_meta",
    "rank",
    "rank_size",
    "set_collective",
    "set_custom_gather",
]


# the registered collective: (in_use, rank, size, gather), at most one
_collective: list[tuple[Any, ...]] = []
# storage.set_gather's function, at most one
_custom: list[Callable[[Any], list[Any] | None]] = []
# the local sources: (payloads, has_data, discard)
_local: list[tuple[Any, ...]] = []


def set_collective(
    in_use: Callable[[], bool],
    rank: Callable[[], int],
    size: Callable[[], int],
    gather: Callable[[Any], list[Any] | None],
) -> None:
    """Register the job's collective transport (it replaces an earlier one): ``in_use()``
    whether this process is part of a job now, ``rank()`` and ``size()`` its rank and the
    job's size, ``gather(obj)`` every rank's ``obj`` in rank order on rank zero, None on the
    other ranks (a collective: every rank calls it)."""
    _collective[:] = [(in_use, rank, size, gather)]


def set_custom_gather(func: Callable[[Any], list[Any] | None] | None) -> None:
    """Gather through ``func`` instead of the registered collective (None: the registered one
    again). While one is set, data are always exchanged."""
    _custom[:] = [func] if func is not None else []


def add_local_source(
    payloads: Callable[[], list[tuple[int, Any]]],
    has_data: Callable[[], bool],
    discard: Callable[[], None],
) -> None:
    """Register other processes whose data this one writes (pool workers): ``payloads()`` their
    ``(pid, packed data)``, ``has_data()`` whether they left any, ``discard()`` forgets them."""
    _local.append((payloads, has_data, discard))


def collective_in_use() -> bool:
    """True while this process is a rank of a job (MPI in use)."""
    return bool(_collective) and bool(_collective[0][0]())


def rank_size() -> tuple[int, int]:
    """This process's rank and the job's size while a collective is in use, else (0, 1)."""
    if not collective_in_use():
        return 0, 1
    _, rank_of, size_of, _ = _collective[0]
    return int(rank_of()), int(size_of())


def rank() -> int:
    """This process's rank (0 outside a job)."""
    return rank_size()[0]


def distributed() -> bool:
    """True when data must be exchanged: a custom gather, a collective in use, or a local
    source with data."""
    return bool(_custom) or collective_in_use() or any(has_data() for _, has_data, _ in _local)


def gather(obj: Any) -> list[Any] | None:
    """``obj`` of every rank in rank order on rank zero, None on the other ranks (``[obj]``
    outside a job). A collective when a transport is in use."""
    if _custom:
        return _custom[0](obj)
    if _collective:
        return _collective[0][3](obj)
    return [obj]


def local_items(payload: Any) -> list[tuple[int, Any]]:
    """This process's ``(pid, payload)`` followed by those the local sources hold."""
    items: list[tuple[int, Any]] = [(os.getpid(), payload)]
    for payloads, _, _ in _local:
        items += payloads()
    return items


def discard_local() -> None:
    """Forget what the local sources hold (after it was written, or on ``clear()``)."""
    for _, _, discard in _local:
        discard()


def output_meta(
    num_ranks: int = 1, processes: int | None = None, mpi_size: int | None = None
) -> dict[str, int]:
    """The metadata keys every JSON output carries, for ``num_ranks`` lists of data that hold
    the data of ``processes`` processes (default: one per list; the exchanged data of a job
    merged into one list hold every process's), ``mpi_size`` the ranks of the job (default:
    this job's size now)."""
    if mpi_size is None:
        mpi_size = rank_size()[1]
    nthreads = max(_core.thread_count(), 1)
    return {
        "thread_count": nthreads,
        "mpi_size": max(mpi_size, 1),
        "upcxx_size": 1,
        "process_count": max(processes if processes is not None else num_ranks, 1),
        "num_ranks": max(num_ranks, 1),
        "concurrency": nthreads,
    }
