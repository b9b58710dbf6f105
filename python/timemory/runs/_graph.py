"""The call graph of one repeat (:class:`Graph`) and the repeats of a run side by side
(:class:`Table`), keyed by call path so that graphs of different processes, runs and machines
can be matched node by node.

A node is identified by its call path: the labels from the top level down to it. The threads
and ranks of a repeat are summed per call path (a run is compared with another run as a whole;
its per-thread views stay in its output folders). Values are in base units (ns, bytes...), the
first value of a component that has several.

A :class:`Table` is what a stored run keeps in ``table.json``, and what the comparison and the
ensemble read: per component and metric (``inclusive``, ``self``, ``count``) an array of
shape (nodes, repeats), NaN where a repeat does not have the node.
"""

from __future__ import annotations

import os

from ._errors import RunsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    import numpy as np

__all__ = ["METRICS", "TABLE_FORMAT", "TABLE_VERSION", "Graph", "Table", "from_live", "read_folder"]

#: the values kept per node and component
METRICS = ("inclusive", "self", "count")
TABLE_FORMAT = "timemory-run-table"
TABLE_VERSION = 1


class Graph:
    """One repeat's call graph: per component and metric a float64 array aligned with
    :attr:`paths` (unique call paths, pre-order)."""

    __slots__ = ("components", "units", "paths", "values")

    def __init__(
        self,
        components: list[str],
        units: dict[str, str],
        paths: list[tuple[str, ...]],
        values: dict[str, dict[str, np.ndarray]],
    ) -> None:
        self.components = components
        self.units = units
        self.paths = paths
        self.values = values

    def __len__(self) -> int:
        return len(self.paths)

    def __repr__(self) -> str:
        return f"<Graph: {len(self.paths)} nodes of {', '.join(self.components)}>"


def _from_snapshot(snap: Any) -> Graph:
    import numpy as np

    arr = snap.as_numpy()
    labels = snap.labels
    keys = list(snap.components)
    parent = arr["parent"]
    label = arr["label"]
    n = len(arr)
    # rows are in pre-order within each thread view and rank, so a parent's path is known
    # before its children's; equal paths of other threads and ranks are summed
    row_paths: list[tuple[str, ...]] = [()] * n
    where: dict[tuple[str, ...], int] = {}
    slot = np.empty(n, dtype=np.int64)
    for i in range(n):
        p = int(parent[i])
        path = (row_paths[p] if p >= 0 else ()) + (labels[int(label[i])],)
        row_paths[i] = path
        j = where.get(path)
        if j is None:
            j = where[path] = len(where)
        slot[i] = j
    paths = list(where)
    values: dict[str, dict[str, np.ndarray]] = {}
    for key in keys:
        sub = arr[key]
        per: dict[str, np.ndarray] = {}
        for metric in METRICS:
            column = np.asarray(sub[metric], dtype=np.float64)
            if column.ndim > 1:  # several values: the first one
                column = column[:, 0]
            out = np.zeros(len(paths), dtype=np.float64)
            np.add.at(out, slot, column)
            per[metric] = out
        values[key] = per
    return Graph(keys, {k: str(snap.units.get(k, "")) for k in keys}, paths, values)


def read_folder(path: str | os.PathLike[str], components: Any = None) -> Graph:
    """The call graph of a saved output folder (what ``timemory profile -d DIR`` writes: its
    ``<label>.tree.json`` files); :class:`RunsError` in one line when it cannot be read or
    holds no call graph."""
    from .. import storage

    try:
        snap = storage.snapshot(components, source=os.fspath(path))
    except (OSError, ValueError, TypeError) as err:
        raise RunsError(str(err)) from None
    return _from_snapshot(snap)


def from_live(components: Any = None) -> Graph:
    """The call graph this process has recorded so far (nothing is cleared);
    :class:`RunsError` when nothing was recorded."""
    from .. import storage

    try:
        snap = storage.snapshot(components)
    except ValueError as err:
        raise RunsError(str(err)) from None
    if not snap.components:
        raise RunsError("nothing was recorded in this process (no component holds data)")
    return _from_snapshot(snap)


class Table:
    """The repeats of a run (or of a group of runs) side by side: ``values[key][metric]`` has
    shape ``(len(paths), repeats)``, NaN where a repeat lacks the node."""

    __slots__ = ("components", "units", "paths", "values", "repeats", "_index")

    def __init__(
        self,
        components: list[str],
        units: dict[str, str],
        paths: list[tuple[str, ...]],
        values: dict[str, dict[str, np.ndarray]],
        repeats: int,
    ) -> None:
        self.components = components
        self.units = units
        self.paths = paths
        self.values = values
        self.repeats = repeats
        self._index: dict[tuple[str, ...], int] | None = None

    def __repr__(self) -> str:
        return (
            f"<Table: {len(self.paths)} nodes x {self.repeats} repeats of "
            f"{', '.join(self.components)}>"
        )

    def index(self) -> dict[tuple[str, ...], int]:
        """Call path -> row."""
        if self._index is None:
            self._index = {p: i for i, p in enumerate(self.paths)}
        return self._index

    @classmethod
    def _merge(cls, parts: Sequence[tuple[Any, int]]) -> Table:
        """Side by side: ``parts`` are (graph or table, its number of columns)."""
        import numpy as np

        components: list[str] = []
        units: dict[str, str] = {}
        where: dict[tuple[str, ...], int] = {}
        for part, _ in parts:
            for key in part.components:
                if key not in units:
                    components.append(key)
                    units[key] = part.units.get(key, "")
            for path in part.paths:
                if path not in where:
                    where[path] = len(where)
        total = sum(width for _, width in parts)
        values = {
            key: {m: np.full((len(where), total), np.nan) for m in METRICS} for key in components
        }
        column = 0
        for part, width in parts:
            rows = np.fromiter(
                (where[p] for p in part.paths), dtype=np.int64, count=len(part.paths)
            )
            for key in part.components:
                for metric in METRICS:
                    block = part.values[key][metric]
                    if block.ndim == 1:
                        block = block[:, None]
                    values[key][metric][rows, column : column + width] = block
            column += width
        return cls(components, units, list(where), values, total)

    @classmethod
    def from_graphs(cls, graphs: Sequence[Graph]) -> Table:
        """One column per graph (repeat)."""
        return cls._merge([(g, 1) for g in graphs])

    @classmethod
    def concat(cls, tables: Sequence[Table]) -> Table:
        """The repeats of several tables pooled (a group of runs)."""
        return cls._merge([(t, t.repeats) for t in tables])

    # -------------------------------------------------------------- JSON (a run's table.json)
    def to_json(self) -> dict[str, Any]:
        """A JSON-able document: node labels with the index of their parent (pre-order),
        per component its unit and, per metric, one list of repeat values per node (null for
        a repeat without the node)."""
        import numpy as np

        index = self.index()
        parents = [index[p[:-1]] if len(p) > 1 else -1 for p in self.paths]

        def rows(block: np.ndarray) -> list[list[float | None]]:
            out = block.astype(object)
            out[np.isnan(block)] = None
            return out.tolist()

        return {
            "format": TABLE_FORMAT,
            "version": TABLE_VERSION,
            "repeats": self.repeats,
            "labels": [p[-1] for p in self.paths],
            "parents": parents,
            "components": {
                key: {
                    "unit": self.units.get(key, ""),
                    **{m: rows(self.values[key][m]) for m in METRICS},
                }
                for key in self.components
            },
        }

    @classmethod
    def from_json(cls, doc: Any, where: str = "table") -> Table:
        """The table of :meth:`to_json`; :class:`RunsError` naming ``where`` for a document
        that is not one."""
        import numpy as np

        def bad(why: str) -> RunsError:
            return RunsError(f"{where}: not a run table ({why})")

        if not isinstance(doc, dict) or doc.get("format") != TABLE_FORMAT:
            raise bad(f'no "format": "{TABLE_FORMAT}"')
        version = doc.get("version")
        if not isinstance(version, int) or version > TABLE_VERSION:
            raise bad(f"version {version!r}; this timemory reads version {TABLE_VERSION}")
        repeats, labels, parents = doc.get("repeats"), doc.get("labels"), doc.get("parents")
        comps = doc.get("components")
        if not isinstance(repeats, int) or repeats < 0:
            raise bad('"repeats" is not a count')
        if not isinstance(labels, list) or not isinstance(parents, list):
            raise bad('"labels" and "parents" must be lists')
        if len(labels) != len(parents):
            raise bad('"labels" and "parents" differ in length')
        if not isinstance(comps, dict):
            raise bad('"components" is not an object')
        paths: list[tuple[str, ...]] = []
        for i, (label, parent) in enumerate(zip(labels, parents)):
            if not isinstance(label, str):
                raise bad(f"label {i} is not a string")
            if not isinstance(parent, int) or not -1 <= parent < i:
                raise bad(f"parent of node {i} is not an earlier node")
            paths.append((paths[parent] if parent >= 0 else ()) + (label,))
        if len(set(paths)) != len(paths):
            raise bad("two nodes have the same call path")
        values: dict[str, dict[str, np.ndarray]] = {}
        units: dict[str, str] = {}
        for key, body in comps.items():
            if not isinstance(body, dict):
                raise bad(f"component {key!r} is not an object")
            units[str(key)] = str(body.get("unit", ""))
            per: dict[str, np.ndarray] = {}
            for metric in METRICS:
                try:
                    block = np.array(body[metric], dtype=np.float64)
                except (KeyError, TypeError, ValueError):
                    raise bad(f"{key}.{metric} is not a list of numbers per node") from None
                if block.size == 0:
                    block = block.reshape(len(paths), repeats)
                if block.shape != (len(paths), repeats):
                    raise bad(
                        f"{key}.{metric} has shape {block.shape}, not "
                        f"({len(paths)} nodes, {repeats} repeats)"
                    )
                per[metric] = block
            values[str(key)] = per
        return cls(list(values), units, paths, values, repeats)
