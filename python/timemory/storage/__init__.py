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
from typing import Any, Callable

from .. import _core
from ..component import _TABLE

__all__ = [
    "Statistics",
    "Storage",
    "StorageResult",
    "StorageTree",
    "StorageTreeEntry",
    "StorageTreeEntryValue",
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
            out.append(0.0 if n < 2 else (v["sqr"] - v["sum"] ** 2 / n) / (n - 1))
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
    """One entry of the flat (pre-order) view."""

    __slots__ = ("_e",)
    _index = -1

    def __init__(self, entry: _core.FlatEntry):
        self._e = entry

    def tid(self) -> int:
        return self._e.tid

    def pid(self) -> int:
        return self._e.pid

    def depth(self) -> int:
        return self._e.depth

    def hash(self) -> int:
        return self._e.hash

    def rolling_hash(self) -> int:
        return self._e.rolling_hash

    def prefix(self) -> str:
        return self._e.prefix

    def label(self) -> str:
        return self._e.label

    def hierarchy(self) -> list[int]:
        return list(self._e.hierarchy)

    def data(self) -> Any:
        return _core.entry_component(self._index, self._e.entry)

    def stats(self) -> Statistics:
        return Statistics(_core.stats_view(self._index, self._e.entry))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._e.prefix!r} laps={self._e.entry.laps}>"


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


class StorageTreeEntry:
    """The value of a tree node."""

    __slots__ = ("_n",)
    _index = -1
    _value_class: type = StorageTreeEntryValue

    def __init__(self, node: _core.TreeNode):
        self._n = node

    def is_dummy(self) -> bool:
        return self._n.depth == 0 or self._n.hash == 0 or self._n.is_dummy

    def tid(self) -> set:
        return set(self._n.tids)

    def pid(self) -> set:
        return set(self._n.pids)

    def depth(self) -> int:
        return self._n.depth - 1

    def hash(self) -> int:
        return self._n.hash

    def prefix(self) -> str:
        return self._n.label

    def inclusive(self) -> StorageTreeEntryValue:
        return self._value_class(self._n.inclusive)

    def exclusive(self) -> StorageTreeEntryValue:
        return self._value_class(self._n.exclusive)


class StorageTree:
    """A node of the tree view: ``value()`` and ``children()``."""

    __slots__ = ("_n",)
    _entry_class: type = StorageTreeEntry

    def __init__(self, node: _core.TreeNode):
        self._n = node

    def value(self) -> StorageTreeEntry:
        return self._entry_class(self._n)

    def children(self) -> list[StorageTree]:
        return [type(self)(c) for c in self._n.children]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._n.label!r} children={len(self._n.children)}>"


# ------------------------------------------------------------------ gathering
def _local_gather(local: Any) -> list[Any]:
    return [local]


_gather: Callable[[Any], list[Any]] = _local_gather


def set_gather(func: Callable[[Any], list[Any]] | None) -> None:
    """Install the transport ``dmp_get`` uses: ``func(local)`` returns one item
    per rank on rank zero (``[local]`` on other ranks). None restores the
    single-process default. Items are JSON-serialisable dicts."""
    global _gather
    _gather = func or _local_gather


def output_meta() -> dict[str, int]:
    """The metadata keys every JSON output carries."""
    nthreads = max(_core.thread_count(), 1)
    return {
        "thread_count": nthreads,
        "mpi_size": 1,
        "upcxx_size": 1,
        "process_count": 1,
        "num_ranks": 1,
        "concurrency": nthreads,
    }


# ------------------------------------------------------------------ (de)serialisation
_DECOR = re.compile(r"^(\|\d+)*>>> (\s*\|_)?")


def _values(obj: Any) -> list[float]:
    if isinstance(obj, dict):
        return [float(obj["first"]), float(obj["second"])]
    if isinstance(obj, (list, tuple)):
        return [float(x) for x in obj]
    return [float(obj)]


def _entry_from_json(index: int, entry: dict[str, Any], stats: dict[str, Any]) -> _core.Entry:
    e = _core.Entry()
    e.laps = int(entry.get("laps", 0))
    e.value = _values(entry.get("value", 0))
    e.accum = _values(entry.get("accum", entry.get("value", 0)))
    # stats are written in display units: store them back in raw-scaled form
    divisors, _ = _core.unit_info(index)
    count = int(stats.get("count", 0))
    per_key = {k: _values(stats.get(k, 0)) for k in ("sum", "sqr", "min", "max")}
    e.stats_count = count
    e.stats_sum = [v * d for v, d in zip(per_key["sum"], divisors)]
    e.stats_sqr = [v * d * d for v, d in zip(per_key["sqr"], divisors)]
    e.stats_min = [v * d for v, d in zip(per_key["min"], divisors)]
    e.stats_max = [v * d for v, d in zip(per_key["max"], divisors)]
    return e


def _flat_from_json(index: int, graph: list[dict[str, Any]], pid: int = 0) -> list[_core.FlatEntry]:
    out = []
    path: list[int] = []
    for item in graph:
        f = _core.FlatEntry()
        f.hash = int(item["hash"])
        f.prefix = item["prefix"]
        f.label = _DECOR.sub("", item["prefix"], count=1)
        f.depth = int(item.get("depth", 0))
        del path[f.depth :]
        path.append(f.hash)
        f.hierarchy = list(path)
        f.rolling_hash = int(item.get("rolling_hash", sum(path) % 2**64))
        f.pid = pid
        f.entry = _entry_from_json(index, item.get("entry", {}), item.get("stats", {}))
        out.append(f)
    return out


def _tree_from_json(index: int, obj: dict[str, Any]) -> _core.TreeNode:
    node = obj["node"]
    t = _core.TreeNode()
    t.hash = int(node.get("hash", 0))
    t.label = node.get("prefix", "")
    as_set = lambda v: set(v) if isinstance(v, list) else {int(v)}  # noqa: E731
    t.tids = as_set(node.get("tid", [0]))
    t.pids = as_set(node.get("pid", [0]))
    t.depth = int(node.get("depth", 0))
    t.is_dummy = bool(node.get("is_dummy", False))
    inc, exc = node.get("inclusive", {}), node.get("exclusive", {})
    t.inclusive = _entry_from_json(index, inc.get("entry", {}), inc.get("stats", {}))
    t.exclusive = _entry_from_json(
        index, exc.get("entry", inc.get("entry", {})), exc.get("stats", {})
    )
    t.children = [_tree_from_json(index, c) for c in obj.get("children", [])]
    return t


def _read_json(obj: Any) -> dict[str, Any]:
    """A dict from a dict, a JSON string, a path or a file-like object."""
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "read"):
        return json.load(obj)
    if isinstance(obj, (str, os.PathLike)):
        text = str(obj)
        if text.lstrip().startswith("{"):
            return json.loads(text)
        try:
            with open(text) as f:
                return json.load(f)
        except OSError as err:
            raise OSError(f"cannot read timemory JSON '{text}': {err.strerror}") from err
    raise TypeError(f"expected a dict, JSON string, path or file object, not {type(obj).__name__}")


# ------------------------------------------------------------------ storage
class Storage:
    """Static access to one component's storage (subclassed per component)."""

    _index = -1
    _key = ""
    _result: type = StorageResult
    _tree: type = StorageTree

    # -- this process
    @classmethod
    def get(cls) -> list[StorageResult]:
        return [cls._result(e) for e in _core.flat_snapshot(cls._index)]

    @classmethod
    def get_tree(cls) -> list[StorageTree]:
        return [cls._tree(n) for n in _core.tree_snapshot(cls._index)]

    # -- every rank (gathered on rank zero through the installed transport)
    @classmethod
    def dmp_get(cls) -> list[list[StorageResult]]:
        local = cls.get()
        if _gather is _local_gather:
            return [local]
        ranks = _gather(cls.dumps(local))
        return [cls.load_json(r) for r in ranks]

    @classmethod
    def dmp_get_tree(cls) -> list[list[StorageTree]]:
        local = cls.get_tree()
        if _gather is _local_gather:
            return [local]
        ranks = _gather(cls.dumps(local))
        return [cls.load_json_tree(r) for r in ranks]

    mpi_get = dmp_get
    upcxx_get = dmp_get
    mpi_get_tree = dmp_get_tree
    upcxx_get_tree = dmp_get_tree

    # -- serialisation
    @classmethod
    def _component_json(cls, text: str) -> dict[str, Any]:
        return {"timemory": {cls._key: json.loads(text)}}

    @classmethod
    def dumps(cls, obj: Any) -> dict[str, Any]:
        """The JSON dict of a ``get``/``dmp_get``/``get_tree``/``dmp_get_tree`` result."""
        return cls._component_json(cls.dumps_text(obj))

    @classmethod
    def dumps_text(cls, obj: Any) -> str:
        """JSON text of the object stored under ``timemory.<key>`` (what the
        output files hold and ``dumps`` parses)."""
        items = list(obj)
        nested = bool(items) and isinstance(items[0], (list, tuple))
        ranks = [list(r) for r in items] if nested else [items]
        sample = next((x for r in ranks for x in r), None)
        meta = output_meta()
        meta["num_ranks"] = meta["mpi_size"] = meta["process_count"] = max(len(ranks), 1)
        if isinstance(sample, StorageTree):
            data = [[t._n for t in r] for r in ranks]
            return _core.tree_json(cls._index, data, meta, "graph")
        if sample is not None and not isinstance(sample, StorageResult):
            raise TypeError(
                f"{cls.__name__}.dumps takes storage results or trees, not {type(sample).__name__}"
            )
        data = [[e._e for e in r] for r in ranks]
        return _core.flat_json(cls._index, data, meta)

    @classmethod
    def _section(cls, obj: Any) -> dict[str, Any]:
        data = _read_json(obj)
        try:
            return data["timemory"][cls._key]
        except (KeyError, TypeError):
            raise ValueError(
                f"no '{cls._key}' data in this JSON (expected timemory.{cls._key})"
            ) from None

    @classmethod
    def load_json_dmp(cls, obj: Any) -> list[list[StorageResult]]:
        section = cls._section(obj)
        if "ranks" not in section:
            raise ValueError("not a flat timemory JSON: no 'ranks' key")
        return [
            [cls._result(e) for e in _flat_from_json(cls._index, r.get("graph", []))]
            for r in section["ranks"]
        ]

    @classmethod
    def load_json(cls, obj: Any) -> list[StorageResult]:
        return [e for rank in cls.load_json_dmp(obj) for e in rank]

    @classmethod
    def load_json_tree_dmp(cls, obj: Any) -> list[list[StorageTree]]:
        section = cls._section(obj)
        key = next((k for k in ("graph", "mpi", "upcxx", "upc") if k in section), None)
        if key is None:
            raise ValueError("not a tree timemory JSON: no 'graph' or 'mpi' key")
        out = []
        for rank in section[key]:
            roots = rank if isinstance(rank, list) else [rank]
            out.append([cls._tree(_tree_from_json(cls._index, r)) for r in roots])
        return out

    @classmethod
    def load_json_tree(cls, obj: Any) -> list[StorageTree]:
        return [t for rank in cls.load_json_tree_dmp(obj) for t in rank]

    @classmethod
    def load(cls, obj: Any) -> Any:
        """Whichever of the four shapes the JSON holds."""
        section = cls._section(obj)
        if "ranks" in section:
            ranks = cls.load_json_dmp({"timemory": {cls._key: section}})
            return ranks[0] if len(ranks) == 1 else ranks
        ranks_t = cls.load_json_tree_dmp({"timemory": {cls._key: section}})
        return ranks_t[0] if len(ranks_t) == 1 else ranks_t


# Five classes per measurable component (the storage, its results and its tree types), made on
# first use like the component classes: a program reads the storage of a few components only.
_MEASURABLE: dict[int, dict[str, Any]] = {
    info["index"]: info
    for info in _TABLE
    if (info["available"] and info["has_value"]) or info["index"] in _core.hw_component_indices()
}
_STORAGE: dict[int, type] = {}
_SUFFIXES = ("StorageTreeEntryValue", "StorageTreeEntry", "StorageTree", "StorageResult", "Storage")
_BY_CLASS_NAME: dict[str, tuple[int, str]] = {
    info["class_name"] + suffix: (index, suffix)
    for index, info in _MEASURABLE.items()
    for suffix in _SUFFIXES
}
__all__ += list(_BY_CLASS_NAME)


def _storage_for(index: int) -> type:
    """The Storage class of a measurable component's enum index (KeyError otherwise)."""
    storage = _STORAGE.get(index)
    if storage is not None:
        return storage
    info = _MEASURABLE[index]
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
        globals()[cls.__name__] = cls
    _STORAGE[index] = storage
    return storage


def __getattr__(name: str) -> Any:
    if name in _BY_CLASS_NAME:
        _storage_for(_BY_CLASS_NAME[name][0])
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_BY_CLASS_NAME))


def storage_class(component: str | int | type) -> type:
    """The Storage class of a component name, enum value or class."""
    indices = list(_core.resolve_components(component, False))
    if len(indices) != 1 or indices[0] not in _MEASURABLE:
        raise ValueError(f"no storage for {component!r}: it is unavailable or holds no value")
    return _storage_for(indices[0])
