"""Access to the recorded call-graph data without I/O.

For every component with a value there is a ``<Name>Storage`` class
(``WallClockStorage``...) with static ``get``/``get_tree`` (this process),
``dmp_get``/``dmp_get_tree`` (every rank, gathered on rank zero), ``dumps``
(the exact JSON dict ``timemory.get`` returns) and ``load*`` (the inverse).

One code path serialises: ``timemory.get()`` is ``dumps(dmp_get())`` for
each component, so both always agree, key order included.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence

from .. import _core, _processes
from .._components import MEASURABLE, resolve
from .._processes import output_meta
from ..component import _TABLE

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

__all__ = [
    "Statistics",
    "Storage",
    "StorageResult",
    "StorageTree",
    "StorageTreeEntry",
    "StorageTreeEntryValue",
    "ProcessSummary",
    "storage_class",
    "set_gather",
]

_STAT_KEYS = ("sum", "count", "min", "max", "sqr", "mean", "stddev")


# ------------------------------------------------------------------ statistics
class Statistics:
    """Count, sum, sum of squares, min and max of the per-interval values, in
    display units. For multi-valued components each accessor returns a tuple."""

    def __init__(self, views: Sequence[dict[str, float]]):
        self._views = [dict(v) for v in views] or [dict.fromkeys(_STAT_KEYS, 0.0)]

    def _get(self, key: str) -> Any:
        values = [v[key] for v in self._views]
        return values[0] if len(values) == 1 else tuple(values)

    def count(self) -> int:
        return int(self._views[0]["count"])

    def sum(self) -> Any:
        return self._get("sum")

    def sqr(self) -> Any:
        return self._get("sqr")

    def min(self) -> Any:
        return self._get("min")

    def max(self) -> Any:
        return self._get("max")

    def mean(self) -> Any:
        return self._get("mean")

    def variance(self) -> Any:
        out = []
        for v in self._views:
            n = v["count"]
            out.append(0.0 if n < 2 else (v["sqr"] - v["sum"] * v["sum"] / n) / (n - 1))
        return out[0] if len(out) == 1 else tuple(out)

    def stddev(self) -> Any:
        var = self.variance()
        if isinstance(var, tuple):
            return tuple(math.sqrt(abs(x)) for x in var)
        return math.sqrt(abs(var))

    def reset(self) -> None:
        self._views = [dict.fromkeys(_STAT_KEYS, 0.0) for _ in self._views]

    def _combine(self, other: Any, sign: float) -> Statistics:
        out = Statistics(self._views)
        if isinstance(other, Statistics):
            for mine, theirs in zip(out._views, other._views):
                mine["sum"] += sign * theirs["sum"]
                mine["sqr"] += sign * theirs["sqr"]
                if sign > 0:
                    mine["count"] += theirs["count"]
                    mine["min"] = (
                        min(mine["min"], theirs["min"]) if mine["count"] else theirs["min"]
                    )
                    mine["max"] = max(mine["max"], theirs["max"])
        else:  # a sample value
            values = other if isinstance(other, (tuple, list)) else [other]
            for mine, x in zip(out._views, values):
                first = mine["count"] == 0
                mine["sum"] += sign * x
                mine["sqr"] += x * x
                mine["count"] += 1
                mine["min"] = x if first else min(mine["min"], x)
                mine["max"] = x if first else max(mine["max"], x)
        for v in out._views:
            v["mean"] = v["sum"] / v["count"] if v["count"] else 0.0
        return out

    def __add__(self, other: Any) -> Statistics:
        return self._combine(other, 1.0)

    def __sub__(self, other: Any) -> Statistics:
        return self._combine(other, -1.0)

    __iadd__ = __add__
    __isub__ = __sub__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Statistics) and self._views == other._views

    def __repr__(self) -> str:
        return (
            f"Statistics(count={self.count()}, sum={self.sum()}, "
            f"min={self.min()}, max={self.max()})"
        )


# ------------------------------------------------------------------ results
class StorageResult:
    """One entry of the flat (pre-order) view.

    Results point into a native batch of entries (``_b``, at index ``_i``) that they share,
    so that a list of them is built natively, without Python code per entry."""

    __slots__ = ("_b", "_i")
    _index = -1

    def __init__(self, entry: _core.FlatEntry):
        self._b = _core.FlatBatch(self._index, [entry])
        self._i = 0

    @classmethod
    def _list(cls, batch: _core.FlatBatch) -> list[StorageResult]:
        return _core.results(cls, batch)

    @property
    def _e(self) -> _core.FlatEntry:
        return self._b.entry(self._i)

    def tid(self) -> int:
        return self._b.tid(self._i)

    def pid(self) -> int:
        return self._b.pid(self._i)

    def depth(self) -> int:
        return self._b.depth(self._i)

    def hash(self) -> int:
        return self._b.hash(self._i)

    def rolling_hash(self) -> int:
        return self._b.rolling_hash(self._i)

    def prefix(self) -> str:
        return self._b.prefix(self._i)

    def label(self) -> str:
        return self._b.label(self._i)

    def remote(self) -> bool:
        """Whether this work ran in parallel elsewhere (another thread or process) beneath
        the call path that submitted it: it is not part of its parent's inclusive value."""
        return self._b.is_remote(self._i)

    def hierarchy(self) -> list[int]:
        return self._b.hierarchy(self._i)

    def data(self) -> Any:
        return self._b.data(self._i)

    def stats(self) -> Statistics:
        return Statistics(_core.stats_view(self._index, self._b.entry(self._i).entry))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.prefix()!r} laps={self._b.laps(self._i)}>"


class StorageTreeEntryValue:
    """Inclusive or exclusive payload of a tree node."""

    __slots__ = ("_entry",)
    _index = -1

    def __init__(self, entry: _core.Entry):
        self._entry = entry

    def data(self) -> Any:
        return _core.entry_component(self._index, self._entry)

    def stats(self) -> Statistics:
        return Statistics(_core.stats_view(self._index, self._entry))


class _TreeNodeRef:
    """A node of a native tree batch (``_b``, node id ``_i``), shared by the tree objects."""

    __slots__ = ("_b", "_i")

    def __init__(self, node: _core.TreeNode):
        self._b = _core.TreeBatch(getattr(self, "_index", -1), [node])
        self._i = 0

    @classmethod
    def _at(cls, batch: _core.TreeBatch, i: int) -> Any:
        obj = cls.__new__(cls)
        obj._b, obj._i = batch, i
        return obj

    @property
    def _n(self) -> _core.TreeNode:
        """A copy of the node with its subtree."""
        return self._b.node(self._i)


class StorageTreeEntry(_TreeNodeRef):
    """The value of a tree node."""

    __slots__ = ()
    _index = -1
    _value_class: type[StorageTreeEntryValue] = StorageTreeEntryValue

    def is_dummy(self) -> bool:
        b, i = self._b, self._i
        return b.depth(i) == 0 or b.hash(i) == 0 or b.is_dummy(i)

    def tid(self) -> set:
        return self._b.tids(self._i)

    def pid(self) -> set:
        return self._b.pids(self._i)

    def depth(self) -> int:
        return self._b.depth(self._i) - 1

    def hash(self) -> int:
        return self._b.hash(self._i)

    def prefix(self) -> str:
        return self._b.label(self._i)

    def remote(self) -> bool:
        """Whether this work ran in parallel elsewhere (another thread or process) beneath
        the call path that submitted it: its parent's inclusive value does not include it,
        nor is it subtracted from the parent's exclusive value."""
        return self._b.is_remote(self._i)

    def inclusive(self) -> StorageTreeEntryValue:
        return self._value_class(self._b.inclusive(self._i))

    def exclusive(self) -> StorageTreeEntryValue:
        return self._value_class(self._b.exclusive(self._i))


class StorageTree(_TreeNodeRef):
    """A node of the tree view: ``value()`` and ``children()``.

    Tree objects point into a native batch holding the whole tree (``_b``, node id ``_i``),
    so walking a tree copies nothing."""

    __slots__ = ()
    _index = -1
    _entry_class: type[StorageTreeEntry] = StorageTreeEntry

    @classmethod
    def _list(cls, batch: _core.TreeBatch) -> list[StorageTree]:
        return _core.tree_objects(cls, batch, batch.roots())

    def value(self) -> StorageTreeEntry:
        return self._entry_class._at(self._b, self._i)

    def children(self) -> list[StorageTree]:
        return _core.tree_objects(type(self), self._b, self._b.children(self._i))

    def remote(self) -> bool:
        """Whether the node's work ran in parallel elsewhere beneath the call path that
        submitted it (``value().remote()``): not part of its parent's inclusive value."""
        return self._b.is_remote(self._i)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self._b.label(self._i)!r} "
            f"children={self._b.child_count(self._i)}>"
        )


class ProcessSummary:
    """Cross-process statistics of one call-graph node (``Storage.dmp_summary()``).

    Values are the node's accumulated value per process (``data().get()``, display units),
    over the processes that have the node; for multi-valued components each accessor
    returns a tuple. A process is an MPI rank or a pool worker of one.
    """

    __slots__ = ("_s", "_ids")

    def __init__(self, row: _core.ProcessSummary, ids: list[tuple[int, int]]):
        self._s = row
        self._ids = ids

    @staticmethod
    def _one(values: Sequence[Any]) -> Any:
        return values[0] if len(values) == 1 else tuple(values)

    def label(self) -> str:
        return self._s.label

    def prefix(self) -> str:
        return self._s.prefix

    def depth(self) -> int:
        return self._s.depth

    def hash(self) -> int:
        return self._s.hash

    def hierarchy(self) -> list[int]:
        return list(self._s.hierarchy)

    def remote(self) -> bool:
        """Whether the node's work ran in parallel elsewhere beneath the call path that
        submitted it, in any process."""
        return bool(self._s.remote)

    def processes(self) -> list[int]:
        """Indices (in ``dmp_get_tree()`` order) of the processes that have the node (that
        measured it: a process where it is only the submitting path of a task is not one)."""
        return list(self._s.processes)

    def ranks(self) -> list[int]:
        """The MPI ranks whose processes have the node."""
        return sorted({self._ids[p][0] for p in self._s.processes})

    def pids(self) -> list[int]:
        return [self._ids[p][1] for p in self._s.processes]

    def laps(self) -> int:
        """Calls over every process."""
        return int(self._s.laps)

    def min(self) -> Any:
        return self._one(self._s.min)

    def max(self) -> Any:
        return self._one(self._s.max)

    def mean(self) -> Any:
        return self._one(self._s.mean)

    def total(self) -> Any:
        return self._one(self._s.total)

    def imbalance(self) -> Any:
        """max / mean (1.0 when perfectly balanced, 0.0 when the mean is 0)."""
        return self._one(self._s.imbalance)

    def max_process(self) -> Any:
        return self._one(self._s.max_process)

    def max_rank(self) -> Any:
        """The MPI rank of the process with the largest value."""
        return self._one([self._ids[p][0] if p >= 0 else -1 for p in self._s.max_process])

    def __repr__(self) -> str:
        return (
            f"<ProcessSummary {self._s.label!r} processes={len(self._s.processes)} "
            f"min={self.min()} mean={self.mean()} max={self.max()} "
            f"imbalance={self.imbalance()} max_rank={self.max_rank()}>"
        )


# ------------------------------------------------------------------ gathering
def set_gather(func: Callable[[Any], list[Any] | None] | None) -> None:
    """Install the transport ``dmp_get`` uses instead of MPI: ``func(obj)`` is a collective
    that returns every rank's ``obj`` in rank order on rank zero and None on the other ranks
    (``obj`` is picklable: bytes in dicts and tuples). None restores the MPI transport."""
    _processes.set_custom_gather(func)


def _distributed() -> bool:
    """True when data must be exchanged: MPI in use, a custom transport, or pool workers'
    data waiting to be merged."""
    return _processes.distributed()


class Processes:
    """Every process's packed data, on rank zero after an exchange: one
    ``(rank, pid, {component index: {"flat": bytes, "tree": bytes}})`` per process, ranks in
    order, each rank followed by its pool workers."""

    __slots__ = ("items", "mpi_size")

    def __init__(self, items: list[tuple[int, int, dict[int, dict[str, bytes]]]], mpi_size: int):
        self.items = items
        self.mpi_size = mpi_size

    def __len__(self) -> int:
        return len(self.items)

    def packed(self, index: int, view: str) -> list[bytes]:
        """One packed ``view`` ("flat" or "tree") per process (empty data where a process has
        none of this component)."""
        out = []
        for _, _, payload in self.items:
            data = payload.get(index, {}).get(view)
            out.append(data if data is not None else _EMPTY[view](index))
        return out

    def indices(self) -> list[int]:
        """Components with data in any process."""
        return sorted({i for _, _, payload in self.items for i in payload})


_EMPTY = {
    "flat": lambda index: _core.pack_flat(index, []),
    "tree": lambda index: _core.pack_tree(index, []),
}


def local_payload(indices: Sequence[int], views: Sequence[str]) -> dict[int, dict[str, bytes]]:
    """This process's packed data of ``indices`` (those with data), ``views`` among "flat"
    and "tree"."""
    payload: dict[int, dict[str, bytes]] = {}
    for index in indices:
        if not _core.has_data(index):
            continue
        item = payload[index] = {}
        if "flat" in views:
            item["flat"] = _core.pack_flat_snapshot(index)
        if "tree" in views:
            item["tree"] = _core.pack_tree_snapshot(index)
    return payload


def exchange(payload: dict[int, dict[str, bytes]]) -> Processes | None:
    """A collective over every rank: this process's ``payload`` plus its pool workers', all
    gathered on rank zero. Returns the processes on rank zero, None on the other ranks."""
    gathered = _processes.gather(_processes.local_items(payload))
    if gathered is None:
        return None
    items = [(r, pid, data) for r, procs in enumerate(gathered) for pid, data in procs]
    return Processes(items, len(gathered))


def _node_groups(procs: Processes) -> list[list[int]]:
    """Process indices merged together under ``collapse_processes``: all of them, or, when
    ``settings.node_count`` > 1, one group per node (ranks split evenly in rank order, pool
    workers with their rank)."""
    from .. import settings

    n = len(procs)
    nodes = int(settings.node_count or 0)
    if nodes <= 1 or n <= 1:
        return [list(range(n))]
    per_node = -(-max(procs.mpi_size, 1) // nodes)
    groups: dict[int, list[int]] = {}
    for i, (rank, _, _) in enumerate(procs.items):
        groups.setdefault(rank // per_node, []).append(i)
    return [groups[k] for k in sorted(groups)]


_DECOR = re.compile(r"^(\|\d+)*>>> (\s*\|_)?")

# The ranges of the native fields a document's numbers go into.
_U64 = 2**64 - 1
_INT = 2**31 - 1


# at most this many values per entry (the native entries' fixed arrays)
_MAX_VALUES = 8
_CHECKS: dict[str, Any] = {}


def _checks() -> tuple[Any, dict[str, Any]]:
    """:mod:`timemory._documents` and the checks of the native fields, made on first use."""
    from .. import _documents as d

    if not _CHECKS:
        _CHECKS.update(
            hash=d.as_integer(0, _U64),
            int=d.as_integer(0, _INT),
            count=d.as_integer(),
            values=d.as_numbers(_MAX_VALUES),
        )
    return d, _CHECKS


def _divisors(index: int, section: dict[str, Any], where: Any) -> list[float]:
    """Raw units per display unit of a JSON section's values: its ``unit_value`` (the units
    it was written in), else those of the current settings."""
    d, c = _checks()
    written = d.member(section, "unit_value", where, c["values"], None)
    if written is None:
        return list(_core.unit_info(index)[0])
    return written


def _entry_from_json(divisors: list[float], entry: Any, stats: Any, where: Any) -> _core.Entry:
    """The native entry of a document's ``entry`` and ``stats`` objects (at ``where``, the
    object that holds them)."""
    d, c = _checks()
    entry = d.as_object(entry, (where, "entry")) if entry is not None else {}
    stats = d.as_object(stats, (where, "stats")) if stats is not None else {}
    at_entry, at_stats = (where, "entry"), (where, "stats")
    values = c["values"]
    e = _core.Entry()
    e.laps = d.member(entry, "laps", at_entry, c["count"], 0)
    value = d.member(entry, "value", at_entry, values, [0.0])
    e.value = value
    e.accum = d.member(entry, "accum", at_entry, values, value)
    # stats are written in display units: store them back in raw-scaled form
    e.stats_count = d.member(stats, "count", at_stats, c["count"], 0)
    per_key = {k: d.member(stats, k, at_stats, values, [0.0]) for k in ("sum", "sqr", "min", "max")}
    e.stats_sum = [v * x for v, x in zip(per_key["sum"], divisors)]
    e.stats_sqr = [v * x * x for v, x in zip(per_key["sqr"], divisors)]
    e.stats_min = [v * x for v, x in zip(per_key["min"], divisors)]
    e.stats_max = [v * x for v, x in zip(per_key["max"], divisors)]
    return e


def _flat_from_json(
    divisors: list[float], graph: list[Any], where: Any, pid: int = 0
) -> list[_core.FlatEntry]:
    d, c = _checks()
    out = []
    sums: list[int] = []  # the rolling hash of each level of the current path
    for i, item in enumerate(graph):
        at = (where, i)
        item = d.as_object(item, at)
        f = _core.FlatEntry()
        f.hash = d.member(item, "hash", at, c["hash"])
        f.prefix = prefix = d.member(item, "prefix", at, d.as_string)
        f.label = _DECOR.sub("", prefix, count=1)
        f.depth = depth = d.member(item, "depth", at, c["int"], 0)
        # the hierarchy is made on demand from the entries before (a copy per entry is
        # quadratic in the depth)
        del sums[depth:]
        sums.append(((sums[-1] if sums else 0) + f.hash) % 2**64)
        f.rolling_hash = d.member(item, "rolling_hash", at, c["hash"], sums[-1])
        f.pid = pid
        f.remote = d.member(item, "remote", at, d.as_bool, False)
        f.context = d.member(item, "context", at, d.as_bool, False)
        f.entry = _entry_from_json(divisors, item.get("entry"), item.get("stats"), at)
        out.append(f)
    return out


def _ids(value: Any, where: Any) -> set[int]:
    """A tree node's ``tid``/``pid``: one id or a list of them."""
    d, c = _checks()
    if isinstance(value, list):
        return {c["int"](v, (where, i)) for i, v in enumerate(value)}
    return {c["int"](value, where)}


def _tree_from_json(divisors: list[float], obj: Any, where: Any) -> _core.TreeNode:
    """The native tree of a document's root object (``{"node": ..., "children": [...]}``):
    read in pre-order with an explicit stack and put together natively, so a deep tree
    neither recurses nor copies its subtrees once per level."""
    d, c = _checks()
    nodes: list[_core.TreeNode] = []
    counts: list[int] = []
    stack: list[tuple[Any, Any]] = [(obj, where)]
    while stack:
        item, at = stack.pop()
        item = d.as_object(item, at)
        node = d.member(item, "node", at, d.as_object)
        at_node = (at, "node")
        t = _core.TreeNode()
        t.hash = d.member(node, "hash", at_node, c["hash"], 0)
        t.label = d.member(node, "prefix", at_node, d.as_string, "")
        t.tids = _ids(node.get("tid", [0]), (at_node, "tid"))
        t.pids = _ids(node.get("pid", [0]), (at_node, "pid"))
        t.depth = d.member(node, "depth", at_node, c["int"], 0)
        t.is_dummy = d.member(node, "is_dummy", at_node, d.as_bool, False)
        t.remote = d.member(node, "remote", at_node, d.as_bool, False)
        t.context = d.member(node, "context", at_node, d.as_bool, False)
        inc = d.member(node, "inclusive", at_node, d.as_object, {})
        exc = d.member(node, "exclusive", at_node, d.as_object, {})
        at_inc, at_exc = (at_node, "inclusive"), (at_node, "exclusive")
        t.inclusive = _entry_from_json(divisors, inc.get("entry"), inc.get("stats"), at_inc)
        t.exclusive = _entry_from_json(
            divisors, exc.get("entry", inc.get("entry")), exc.get("stats"), at_exc
        )
        children = d.member(item, "children", at, d.as_list, [])
        nodes.append(t)
        counts.append(len(children))
        at_children = (at, "children")
        stack.extend((children[k], (at_children, k)) for k in reversed(range(len(children))))
    return _core.tree_from_preorder(nodes, counts)


def _read_json(obj: Any) -> tuple[dict[str, Any], str]:
    """The document (an object) and its name of a dict, a JSON string, a path or a file-like
    object; :class:`~timemory._documents.DocumentError` for one that is not a JSON object."""
    from .. import _documents as d

    if isinstance(obj, dict):
        return obj, "<data>"
    if hasattr(obj, "read"):
        name = getattr(obj, "name", None)
        name = name if isinstance(name, str) else "<stream>"
        data, name = d.parse_json(obj.read(), name), name
    elif isinstance(obj, (str, os.PathLike)):
        text = os.fspath(obj)
        if isinstance(text, str) and text.lstrip().startswith("{"):
            data, name = d.parse_json(text, "<string>"), "<string>"
        else:
            name = os.fsdecode(text)
            try:
                data = d.read_json(text, name)
            except OSError as err:
                raise OSError(f"cannot read timemory JSON '{name}': {err.strerror}") from err
    else:
        raise TypeError(
            f"expected a dict, JSON string, path or file object, not {type(obj).__name__}"
        )
    return d.as_object(data, name), name


# ------------------------------------------------------------------ storage
class Storage:
    """Static access to one component's storage (subclassed per component)."""

    _index = -1
    _key = ""
    _result: type[StorageResult] = StorageResult
    _tree: type[StorageTree] = StorageTree

    # -- this process
    @classmethod
    def get(cls) -> list[StorageResult]:
        return cls._result._list(_core.flat_snapshot(cls._index))

    @classmethod
    def get_tree(cls) -> list[StorageTree]:
        return cls._tree._list(_core.tree_snapshot(cls._index))

    # -- every rank (gathered on rank zero through MPI or the installed transport)
    @classmethod
    def dmp_get(cls) -> list[list[StorageResult]]:
        """Flat results of every process: on rank zero one merged list under
        ``collapse_processes`` (one per node when ``node_count`` > 1), else one list per
        process; ``[get()]`` on the other ranks and without MPI or pool workers.
        A collective under MPI: every rank must call it."""
        if not _distributed():
            return [cls.get()]
        # packed without making Python objects: rank zero only needs the bytes
        packed = _core.pack_flat_snapshot(cls._index)
        procs = exchange({cls._index: {"flat": packed}} if _core.has_data(cls._index) else {})
        if procs is None:
            return [cls._result._list(_core.unpack_flat(cls._index, packed))]
        return cls._flat_lists(procs)

    @classmethod
    def dmp_get_tree(cls) -> list[list[StorageTree]]:
        """Root trees of every process, one list per process (never merged), on rank zero;
        ``[get_tree()]`` on the other ranks and without MPI or pool workers. A collective."""
        if not _distributed():
            return [cls.get_tree()]
        packed = _core.pack_tree_snapshot(cls._index)
        procs = exchange({cls._index: {"tree": packed}} if _core.has_data(cls._index) else {})
        if procs is None:
            return [cls._tree._list(_core.unpack_tree(cls._index, packed))]
        return cls._tree_lists(procs)

    @classmethod
    def dmp_summary(cls) -> list[ProcessSummary]:
        """Cross-process statistics per call-graph node, on rank zero (``[]`` on the other
        ranks): for each node of the merged call graph, the min, max and mean over the
        processes (ranks, and pool workers) that have it of its accumulated value
        (``data().get()``), the imbalance max/mean and the rank of the max. Nodes that exist
        in some processes only are kept. A collective under MPI."""
        packed = _core.pack_flat_snapshot(cls._index)
        payload = {cls._index: {"flat": packed}} if _core.has_data(cls._index) else {}
        if _distributed():
            procs = exchange(payload)
        else:
            procs = Processes([(0, os.getpid(), payload)], 1)
        if procs is None:
            return []
        return cls._summary(procs)

    # -- the NumPy snapshot (timemory.storage.Snapshot)
    @classmethod
    def snapshot(cls) -> Snapshot:
        """A snapshot of this process's call graph of the component: one record per node,
        its values at the top level of a record (see :class:`Snapshot`). A copy: later
        recording and ``timemory.clear()`` leave it as it is."""
        return Snapshot(_core.graph_table([cls._index], _processes.rank(), False, False))

    @classmethod
    def as_numpy(cls) -> Any:
        """``snapshot().as_numpy()``: a read-only NumPy structured array of the call graph,
        without a copy of the snapshot; its ``base`` keeps the snapshot alive."""
        return cls.snapshot().as_numpy()

    @classmethod
    def to_numpy(cls) -> Any:
        """``snapshot().to_numpy()``: a writable NumPy structured array of the call graph."""
        return cls.snapshot().to_numpy()

    mpi_get = dmp_get
    upcxx_get = dmp_get
    mpi_get_tree = dmp_get_tree
    upcxx_get_tree = dmp_get_tree

    # -- pandas and hatchet (timemory.storage._frames)
    @classmethod
    def to_pandas(cls) -> Any:
        """``snapshot().to_pandas()``: this process's call graph of the component as a pandas
        DataFrame (see :func:`timemory.storage.to_pandas`)."""
        return cls.snapshot().to_pandas()

    @classmethod
    def to_hatchet(cls) -> Any:
        """``snapshot().to_hatchet()``: this process's call graph of the component as a
        ``hatchet.GraphFrame`` (see :func:`timemory.storage.to_hatchet`)."""
        return cls.snapshot().to_hatchet()

    # -- views of exchanged data (rank zero)
    @classmethod
    def _flat_lists(cls, procs: Processes) -> list[list[StorageResult]]:
        from .. import settings

        packed = procs.packed(cls._index, "flat")
        results = cls._result._list
        if len(packed) == 1:
            return [results(_core.unpack_flat(cls._index, packed[0]))]
        if settings.collapse_processes:
            return [
                results(_core.merge_packed_flat(cls._index, [packed[i] for i in g]))
                for g in _node_groups(procs)
            ]
        width = len(str(len(packed) - 1))
        return [
            results(_core.unpack_flat(cls._index, data, f"|{i:0{width}d}"))
            for i, data in enumerate(packed)
        ]

    @classmethod
    def _tree_lists(cls, procs: Processes) -> list[list[StorageTree]]:
        return [
            cls._tree._list(_core.unpack_tree(cls._index, data))
            for data in procs.packed(cls._index, "tree")
        ]

    @classmethod
    def _summary(cls, procs: Processes) -> list[ProcessSummary]:
        rows = _core.summarize_packed_flat(cls._index, procs.packed(cls._index, "flat"))
        ids = [(rank, pid) for rank, pid, _ in procs.items]
        return [ProcessSummary(r, ids) for r in rows]

    # -- serialisation
    @classmethod
    def _component_json(cls, text: str) -> dict[str, Any]:
        return {"timemory": {cls._key: json.loads(text)}}

    @classmethod
    def dumps(cls, obj: Any) -> dict[str, Any]:
        """The JSON dict of a ``get``/``dmp_get``/``get_tree``/``dmp_get_tree`` result."""
        return cls._component_json(cls.dumps_text(obj))

    @classmethod
    def dumps_text(cls, obj: Any, ranks_key: str = "graph") -> str:
        """JSON text of the object stored under ``timemory.<key>`` (what the
        output files hold and ``dumps`` parses). ``ranks_key`` names the list of
        per-rank trees (the tree files written under MPI use "mpi")."""
        items = list(obj)
        nested = bool(items) and isinstance(items[0], (list, tuple))
        ranks = [list(r) for r in items] if nested else [items]
        sample = next((x for r in ranks for x in r), None)
        meta = output_meta(len(ranks))
        if isinstance(sample, StorageTree) or (sample is None and ranks_key != "graph"):
            return _core.tree_json(cls._index, ranks, meta, ranks_key)
        if sample is not None and not isinstance(sample, StorageResult):
            raise TypeError(
                f"{cls.__name__}.dumps takes storage results or trees, not {type(sample).__name__}"
            )
        data = ranks
        return _core.flat_json(cls._index, data, meta)

    @classmethod
    def _section(cls, obj: Any) -> tuple[dict[str, Any], Any]:
        """The component's object of a document (see :func:`_read_json`) and its place."""
        return cls._section_in(*_read_json(obj))

    @classmethod
    def _section_in(cls, data: dict[str, Any], name: str) -> tuple[dict[str, Any], Any]:
        """The component's object of the document ``data`` named ``name``, and its place."""
        d, _ = _checks()
        body = d.member(data, "timemory", name, d.as_object)
        at = (name, "timemory")
        if cls._key not in body:
            has = ", ".join(sorted(map(str, body))) or "none"
            d.fail((at, cls._key), f"missing (the components in this document: {has})")
        return d.as_object(body[cls._key], (at, cls._key)), (at, cls._key)

    @classmethod
    def _flat_ranks(cls, section: dict[str, Any], where: Any) -> list[list[StorageResult]]:
        d, _ = _checks()
        if "ranks" not in section:
            d.fail(where, "not a flat timemory JSON: no 'ranks' key")
        ranks = d.member(section, "ranks", where, d.as_list)
        divisors = _divisors(cls._index, section, where)
        out = []
        for i, rank in enumerate(ranks):
            at = ((where, "ranks"), i)
            graph = d.member(d.as_object(rank, at), "graph", at, d.as_list, [])
            entries = _flat_from_json(divisors, graph, (at, "graph"))
            out.append(cls._result._list(_core.FlatBatch(cls._index, entries)))
        return out

    @classmethod
    def _tree_ranks(cls, section: dict[str, Any], where: Any) -> list[list[StorageTree]]:
        d, _ = _checks()
        key = next((k for k in ("graph", "mpi", "upcxx", "upc") if k in section), None)
        if key is None:
            d.fail(where, "not a tree timemory JSON: no 'graph' or 'mpi' key")
        ranks = d.member(section, key, where, d.as_list)
        out = []
        divisors = _divisors(cls._index, section, where)
        for i, rank in enumerate(ranks):
            at = ((where, key), i)
            if isinstance(rank, list):
                roots = [_tree_from_json(divisors, r, (at, j)) for j, r in enumerate(rank)]
            else:
                roots = [_tree_from_json(divisors, rank, at)]
            out.append(cls._tree._list(_core.TreeBatch(cls._index, roots)))
        return out

    @classmethod
    def load_json_dmp(cls, obj: Any) -> list[list[StorageResult]]:
        """The flat results of every rank in a flat JSON document: ``obj`` is a dict, JSON
        text, a path or a file object. A document that is not one raises ``ValueError``
        naming the document and the place in it (``OSError`` when the file cannot be read)."""
        return cls._flat_ranks(*cls._section(obj))

    @classmethod
    def load_json(cls, obj: Any) -> list[StorageResult]:
        """The flat results of a flat JSON document, every rank's one after the other."""
        return [e for rank in cls.load_json_dmp(obj) for e in rank]

    @classmethod
    def load_json_tree_dmp(cls, obj: Any) -> list[list[StorageTree]]:
        """The root trees of every rank in a tree JSON document (as :meth:`load_json_dmp`)."""
        return cls._tree_ranks(*cls._section(obj))

    @classmethod
    def load_json_tree(cls, obj: Any) -> list[StorageTree]:
        """The root trees of a tree JSON document, every rank's one after the other."""
        return [t for rank in cls.load_json_tree_dmp(obj) for t in rank]

    @classmethod
    def load(cls, obj: Any) -> Any:
        """Whichever of the four shapes the JSON holds."""
        section, where = cls._section(obj)
        if "ranks" in section:
            ranks = cls._flat_ranks(section, where)
            return ranks[0] if len(ranks) == 1 else ranks
        ranks_t = cls._tree_ranks(section, where)
        return ranks_t[0] if len(ranks_t) == 1 else ranks_t


# Five classes per measurable component (the storage, its results and its tree types), made on
# first use like the component classes: a program reads the storage of a few components only.
_MEASURABLE: dict[int, dict[str, Any]] = {
    info["index"]: info for info in _TABLE if info["index"] in MEASURABLE
}
_STORAGE: dict[int, type] = {}
_SUFFIXES = ("StorageTreeEntryValue", "StorageTreeEntry", "StorageTree", "StorageResult", "Storage")
_BY_CLASS_NAME: dict[str, tuple[int, str]] = {
    info["class_name"] + suffix: (index, suffix)
    for index, info in _MEASURABLE.items()
    for suffix in _SUFFIXES
}
__all__ += list(_BY_CLASS_NAME)


def _measurable_info(index: int) -> dict[str, Any] | None:
    """The table row of a measurable component; a Python-defined component registered after
    this module was imported joins ``_MEASURABLE`` here (its Storage class is then named
    after its class: ``QueueDepthStorage``, unless a built-in one has that name)."""
    info = _MEASURABLE.get(index)
    if info is None and index in MEASURABLE:
        info = _MEASURABLE[index] = _core.component_info(index)
        for suffix in _SUFFIXES:
            _BY_CLASS_NAME.setdefault(info["class_name"] + suffix, (index, suffix))
    return info


def _storage_for(index: int) -> type:
    """The Storage class of a measurable component's enum index (KeyError otherwise)."""
    storage = _STORAGE.get(index)
    if storage is not None:
        return storage
    info = _measurable_info(index)
    if info is None:
        raise KeyError(index)
    base = info["class_name"]
    attrs = {"_index": index, "__module__": __name__}
    value = type(
        f"{base}StorageTreeEntryValue", (StorageTreeEntryValue,), dict(attrs, __slots__=())
    )
    entry = type(
        f"{base}StorageTreeEntry",
        (StorageTreeEntry,),
        dict(attrs, __slots__=(), _value_class=value),
    )
    tree = type(f"{base}StorageTree", (StorageTree,), dict(attrs, __slots__=(), _entry_class=entry))
    result = type(f"{base}StorageResult", (StorageResult,), dict(attrs, __slots__=()))
    storage = type(
        f"{base}Storage",
        (Storage,),
        dict(
            attrs,
            _key=info["key"],
            _result=result,
            _tree=tree,
            __doc__=f"Storage of {base} ({info['description']}).",
        ),
    )
    for cls in (value, entry, tree, result, storage):
        if _BY_CLASS_NAME.get(cls.__name__, (index,))[0] == index:  # never a built-in's name
            globals()[cls.__name__] = cls
    _STORAGE[index] = storage
    return storage


def __getattr__(name: str) -> Any:
    if name not in _BY_CLASS_NAME:
        for index in MEASURABLE - _MEASURABLE.keys():  # registered since the import
            _measurable_info(index)
    if name in _BY_CLASS_NAME:
        _storage_for(_BY_CLASS_NAME[name][0])
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    for index in MEASURABLE - _MEASURABLE.keys():
        _measurable_info(index)
    return sorted(set(globals()) | set(_BY_CLASS_NAME))


# the NumPy snapshot (its module reads the classes above)
from ._snapshot import Snapshot, as_numpy, load_folder, snapshot  # noqa: E402

__all__ += ["Snapshot", "as_numpy", "load_folder", "snapshot"]


#: how a Python-defined component's values combine, as its JSON metadata names it
_USER_RULES = ("sum", "max", "min", "last")


def _written_strings(value: Any, n: int, where: Any) -> list[str]:
    """A section's ``type`` or ``unit_repr``: one string, or a list of ``n``."""
    d, _ = _checks()
    if isinstance(value, list):
        if len(value) != n:
            d.fail(where, f"a list of {n} strings (one per value)", value)
        return [d.as_string(v, (where, i)) for i, v in enumerate(value)]
    return [d.as_string(value, where)] * n


def _foreign_index(key: str, section: Any, where: Any) -> int | None:
    """The index of the component a document's section ``key`` was written by, when a
    process that registered a Python-defined component wrote it and this one has not: a row
    made of what the file says (its labels, units and rule; ``_core.register_user_component``
    with no class: it holds the data read, measures nothing, and becomes the component when a
    class of that label is registered). None when the section is not such a component's."""
    d, c = _checks()
    if not isinstance(section, dict) or section.get("combine") not in _USER_RULES:
        return None
    key = key.lower()
    if (
        not key.isascii()
        or not key[:1].isalpha()
        or not all(ch.isalnum() or ch == "_" for ch in key)
    ):
        d.fail(where, "a component name of letters, digits and '_'", key)
    divisors = d.member(section, "unit_value", where, c["values"], [1.0])
    if not all(x > 0 and math.isfinite(x) for x in divisors):
        d.fail((where, "unit_value"), "positive finite numbers", divisors)
    n = len(divisors)
    units = _written_strings(section.get("unit_repr", ""), n, (where, "unit_repr"))
    names = _written_strings(section.get("type", key), n, (where, "type")) if n > 1 else []
    description = d.member(section, "description", where, d.as_string, "")
    spec = {
        "key": key,
        "class_name": "".join(part.capitalize() for part in key.split("_")),
        "label": key,
        "description": description or f"Python-defined component '{key}' (read back)",
        "combine": section["combine"],
        "name": f"'{key}' (read back, its class not registered here)",
        "units": list(zip(divisors, units)),
        "sub_labels": names,
        "has_start": False,
        "has_stop": False,
        "has_sample": False,
    }
    try:
        index = int(_core.register_user_component(None, spec))
    except (ValueError, RuntimeError) as err:  # a built-in's name, or no slot left
        d.fail(where, f"a component this process can hold ({err})")
    from ..component import _add_user_info

    _add_user_info(_core.component_info(index))
    return index


def _index_of_section(key: str, section: Any, where: Any) -> int | None:
    """The measurable index of a document's component ``key``: a known one, else one a
    Python-defined component wrote (see :func:`_foreign_index`); None for neither."""
    try:
        indices = resolve(key)
    except ValueError:
        return _foreign_index(key, section, where)
    if len(indices) == 1 and _measurable_info(indices[0]) is not None:
        return indices[0]
    return None


def load(obj: Any) -> dict[str, Any]:
    """Every component of a timemory JSON document (``obj``: a dict, JSON text, a path or a
    file object, flat or tree), read as its ``XStorage.load`` reads it: ``{key: data}``.
    A component written by a Python-defined class this process has not registered is read
    back with the labels, units and rule the file holds (the class itself measures under the
    same label once registered). ``ValueError`` naming the place for a document that is not
    one, or a component this build does not know."""
    from .. import _documents as d

    document, name = _read_json(obj)
    body = d.member(document, "timemory", name, d.as_object)
    out: dict[str, Any] = {}
    for key, section in body.items():
        if key in ("metadata", "functions"):
            continue
        where = ((name, "timemory"), key)
        index = _index_of_section(str(key), section, where)
        if index is None:
            d.fail(where, "a component this build knows", str(key))
        storage: Any = _storage_for(index)
        out[str(key)] = storage.load(document)
    return out


def storage_class(component: str | int | type) -> type:
    """The Storage class of a component name, enum value or class."""
    indices = resolve(component)
    if len(indices) != 1 or _measurable_info(indices[0]) is None:
        raise ValueError(f"no storage for {component!r}: it is unavailable or holds no value")
    return _storage_for(indices[0])


# pandas and hatchet views of a snapshot (pandas and hatchet are imported only when called)
from ._frames import call_path, to_hatchet, to_pandas  # noqa: E402

__all__ += ["call_path", "load", "to_hatchet", "to_pandas"]
