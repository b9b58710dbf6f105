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
import sys

from . import _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "add_local_source",
    "component_identity",
    "collective_in_use",
    "discard_local",
    "distributed",
    "gather",
    "local_indices",
    "local_component",
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
    outside a job). A collective when a transport is in use. ``obj`` is a list of
    ``(pid, payload)`` (:func:`local_items`): on rank zero every payload comes back keyed by
    this process's component indices (:func:`local_indices`)."""
    if _custom:
        out = _custom[0](obj)
    elif _collective:
        out = _collective[0][3](obj)
    else:
        out = [obj]
    if out is None:
        return None
    return [_remapped(items) for items in out]


def _remapped(items: Any) -> Any:
    """One rank's ``[(pid, payload), ...]`` with the payloads keyed by this process's indices
    (anything else, from a custom transport, as it is)."""
    if not isinstance(items, list):
        return items
    return [
        (item[0], local_indices(item[1]))
        if isinstance(item, (tuple, list)) and len(item) == 2
        else item
        for item in items
    ]


def local_items(payload: Any) -> list[tuple[int, Any]]:
    """This process's ``(pid, payload)`` followed by those the local sources hold (their
    payloads keyed by this process's component indices)."""
    items: list[tuple[int, Any]] = [(os.getpid(), payload)]
    for payloads, _, _ in _local:
        items += [(pid, local_indices(data)) for pid, data in payloads()]
    return items


# ------------------------------------------------------------------ other processes' components
# A payload is keyed by the sending process's component indices. A built-in component has the
# same index everywhere; a Python-defined one has the slot its process registered it in, which
# depends on the order it registered its classes. Its packed data name it by key (with its
# units, combine rule, ...): here it is found by key, or given a row of its own that holds the
# data without a class (register_user_component(None, spec)).
_DROPPED: set[str] = set()  # keys whose data did not fit the local row (reported once)
# (key, values, rule) -> this process's index (None: dropped); a row never moves or changes
# shape once made, so what was found once holds for every later payload (rank zero of a large
# job sees each component once per rank)
_FOUND: dict[tuple[str, int, str], int | None] = {}


def local_indices(payload: Any) -> Any:
    """``payload`` (``{component index: {"flat": bytes, "tree": bytes}}`` of another process,
    or of this one) keyed by this process's component indices. Data of a Python-defined
    component whose local row of the same label differs (another number of values or combine
    rule) are dropped with one line on stderr."""
    if not isinstance(payload, dict):
        return payload
    out: dict[Any, Any] = {}
    for index, views in payload.items():
        packed = next(iter(views.values()), None) if isinstance(views, dict) else None
        if not isinstance(index, int) or not isinstance(packed, bytes):
            out[index] = views
            continue
        local = _local_index(packed)
        if local is not None:
            out[local] = views
    return out


def component_identity(index: int) -> int | bytes:
    """What names component ``index`` to another process: its index for a built-in component,
    the header of its (empty) packed data for a Python-defined one (key, units, rule) or a
    row made at run time (a ``perf::`` event, by key), which :func:`local_component` there
    turns into that process's index."""
    if index < _core.builtin_component_count():
        return index
    return bytes(_core.pack_flat(index, []))


def local_component(identity: int | bytes) -> int | None:
    """This process's index of the component another process named by
    :func:`component_identity` (None: its data do not fit this process's row of its label)."""
    if isinstance(identity, int):
        return identity
    return _local_index(identity)


def _local_index(packed: bytes) -> int | None:
    component = _core.packed_component(packed)
    if isinstance(component, int):
        return component
    key = component["key"]
    shape = (key, len(component["units"]), component["combine"])
    if shape not in _FOUND:
        _FOUND[shape] = _row_of(component)
    return _FOUND[shape]


def _row_of(component: dict[str, Any]) -> int | None:
    key = component["key"]
    known = set(_core.user_component_indices())
    local = int(_core.register_user_component(None, component))
    info = _core.component_info(local)
    if (
        len(info["units"]) != len(component["units"])
        or _rule(info["combine"]) != component["combine"]
    ):
        if key not in _DROPPED:
            _DROPPED.add(key)
            from ._text import echo

            echo(
                f"[timemory]> another process's data of component '{key}' are dropped: its "
                f"{len(component['units'])} value(s) combined by '{component['combine']}' do not "
                f"fit this process's '{key}' ({len(info['units'])} value(s), "
                f"'{_rule(info['combine'])}')",
                sys.stderr,
            )
        return None
    if local not in known:
        # the package's tables learn of the new row: timemory.component's (which passes it on
        # to the measurable set), or, when that module is not loaded (it reads the native table
        # when it loads), the measurable set itself. Looked up, not imported: higher layers.
        component_module = sys.modules.get("timemory.component")
        add = getattr(component_module, "_add_user_info", None)
        if add is not None:
            add(info)
        else:
            add = getattr(sys.modules.get("timemory._components"), "add_measurable", None)
            if add is not None:
                add(local)
    return local


def _rule(combine: str) -> str:
    """The ``combine`` attribute's name of a native table's rule ("latest" is "last")."""
    return "last" if combine == "latest" else combine


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
