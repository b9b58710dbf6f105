"""Ensembles of stored runs as pandas data, read like LLNL Thicket's.

An :class:`Ensemble` holds two tables. ``dataframe``, the performance table, has one row per
(node, run), indexed by both: ``node`` is the call path as text (the labels from the top level
joined by ``/``), ``run`` the run's id. Its columns are the node's ``name`` (the leaf label, a
categorical), its ``depth``, then, per component, metric and statistic over the run's repeats,
``<component>.<metric>.<statistic>`` (``wall_clock.inclusive.median``). ``metadata``, the
metadata table, has one row per run, indexed by its id: a column per parameter, then the run's
fields (code, status, repeats, target...) and its environment's (python, timemory, cpu...).

The performance table is built column-wise: each run's ``table.json`` is read once, its values
go into NumPy arrays, and the statistics of many runs are computed together (one sort per block
of rows), so there is no Python object per node and run. Every node of any run has a row for
every run (NaN values and ``n`` 0 where a run lacks the node), as Thicket fills its tables.

A source is a :class:`~timemory.runs.Store`, the path of a store, or a list of runs
(``store.get_runs_with(...)``). A store is read from its files alone: the code that measured
its runs is not needed.
"""

from __future__ import annotations

import os

from ._errors import RunsError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any, Callable

    import numpy as np

__all__ = ["METRICS", "STATS", "Ensemble", "ensemble", "node_name"]

#: The metrics a table holds for each component: the node's value with its children
#: (``inclusive``), without them (``self``) and its number of laps (``count``).
METRICS = ("inclusive", "self", "count")

#: The statistics over a run's repeats, in column order: ``std`` is the sample standard
#: deviation (ddof 1, as pandas computes it), ``n`` the number of repeats that have the node.
STATS = ("median", "mean", "std", "min", "max", "n")

#: The separator of the labels in a node's name (a ``/`` or ``\\`` inside a label is escaped
#: with a backslash, so two different call paths never get the same name).
SEPARATOR = "/"

#: How many values (rows x repeats) of several runs are sorted together: enough that NumPy's
#: cost per call is spread thin, few enough that a block stays a few tens of MiB.
_BLOCK_VALUES = 1 << 21

#: How many call-path structures the table reader remembers (see _TableReader).
_KNOWN_STRUCTURES = 8


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        from .. import _about

        raise _about.missing_package("timemory.runs", "pandas", "pandas") from None
    return pandas


def _escape(label: str) -> str:
    if "/" in label or "\\" in label:
        return label.replace("\\", "\\\\").replace("/", "\\/")
    return label


def node_name(path: Sequence[str]) -> str:
    """The name of a call path in the ``node`` index: its labels joined by ``/``
    (``("main", "solve")`` -> ``"main/solve"``), a ``/`` or ``\\`` in a label escaped by a
    backslash."""
    return SEPARATOR.join(_escape(label) for label in path)


# ------------------------------------------------------------------ the runs of a source
#: The fields of a run (besides its id and parameters) that become metadata columns.
_RUN_FIELDS = (
    "code",
    "status",
    "repeats",
    "requested",
    "done",
    "error",
    "components",
    "created",
    "finished",
    "runtime",
    "result",
)


class _Record:
    """What an ensemble keeps of a run: its id, folder, parameters and metadata fields."""

    __slots__ = ("environment", "fields", "id", "parameters", "path", "status", "target")

    def __init__(self, manifest: Mapping[str, Any], path: str) -> None:
        self.id = str(manifest.get("id"))
        self.path = path
        parameters = manifest.get("parameters") or {}
        self.parameters = dict(parameters) if isinstance(parameters, dict) else {}
        self.status = manifest.get("status")
        target = manifest.get("target")
        self.target = target if isinstance(target, dict) else {}
        environment = manifest.get("environment")
        self.environment = environment if isinstance(environment, dict) else {}
        self.fields = {name: manifest.get(name) for name in _RUN_FIELDS}


def _manifest_of(run: Any) -> dict[str, Any]:
    """The manifest fields of a Run (as its run.json holds them)."""
    manifest = getattr(run, "manifest", None)
    if callable(manifest):
        return dict(manifest())
    names = ("id", "parameters", "environment", "target", *_RUN_FIELDS)
    return {name: getattr(run, name, None) for name in names}


def _records(source: Any) -> list[_Record]:
    """The runs of a source: a Store, the path of one, a Run or a sequence of Runs."""
    if isinstance(source, (str, os.PathLike)):
        from ._store import Store

        source = Store(source, create=False)
    if hasattr(source, "runs") and hasattr(source, "path") and not hasattr(source, "id"):
        source = source.runs
    if hasattr(source, "id") and hasattr(source, "path"):
        source = [source]
    try:
        runs = list(source)
    except TypeError:
        raise RunsError(
            f"ensemble: a source is a Store, the path of a store or a list of runs, not "
            f"{type(source).__name__}"
        ) from None
    records = []
    for run in runs:
        if not (hasattr(run, "id") and hasattr(run, "path")):
            raise RunsError(
                f"ensemble: a list of runs holds Run objects (store.runs, "
                f"store.get_runs_with(...)), not {type(run).__name__}"
            )
        records.append(_Record(_manifest_of(run), os.fspath(run.path)))
    return records


def _reason(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


class _TableReader:
    """Reads the runs' table.json files. The runs of one program mostly share their call
    paths: when a table's labels and parents are those of a table read before it (one of the
    last few structures), its paths are that table's (the same list object) and only its
    values are converted; any other table is checked whole by ``Table.from_json``."""

    def __init__(self, keys: Sequence[str] | None, metrics: Sequence[str]) -> None:
        self.keys = keys
        self.metrics = metrics
        # the call paths of the last few structures read: (labels, parents, paths), most
        # recent first (a sweep over a parameter that adds a node alternates between two)
        self.known: list[tuple[Any, Any, list[tuple[str, ...]]]] = []

    def read(self, record: _Record) -> Any:
        """The run's Table, None (reported in one line) when table.json is missing or
        corrupt."""
        import json

        from ._graph import Table

        path = os.path.join(record.path, "table.json")
        try:
            with open(path, "rb") as stream:
                doc = json.loads(stream.read())
            table = self._same_paths(doc, Table)
            if table is None:
                table = Table.from_json(doc, where=path)
                self.known.insert(0, (doc["labels"], doc["parents"], table.paths))
                del self.known[_KNOWN_STRUCTURES:]
            return table
        except (OSError, ValueError) as error:  # RunsError is a ValueError
            from ._store import _report_skipped

            # the line the store prints for a run it cannot read
            reason = _reason(error)
            if path not in reason:
                reason = f"{path}: {reason}"
            _report_skipped(record.id, record.path, reason)
            return None

    def _same_paths(self, doc: Any, table_type: Any) -> Any:
        """The table of ``doc`` when it has the previous table's call paths and is well
        formed; None otherwise (``Table.from_json`` then reads it, and names what is wrong)."""

        from ._graph import TABLE_FORMAT, TABLE_VERSION

        if not (
            isinstance(doc, dict)
            and doc.get("format") == TABLE_FORMAT
            and doc.get("version") == TABLE_VERSION
        ):
            return None
        labels, parents = doc.get("labels"), doc.get("parents")
        match = next(
            (k for k, known in enumerate(self.known) if labels == known[0] and parents == known[1]),
            None,
        )
        if match is None:
            return None
        if match:
            self.known.insert(0, self.known.pop(match))
        paths = self.known[0][2]
        repeats, comps = doc.get("repeats"), doc.get("components")
        if not isinstance(repeats, int) or isinstance(repeats, bool) or repeats < 0:
            return None
        if not isinstance(comps, dict):
            return None
        shape = (len(paths), repeats)
        units: dict[str, str] = {}
        values: dict[str, dict[str, np.ndarray]] = {}
        for key, body in comps.items():
            if not isinstance(body, dict):
                return None
            units[key] = str(body.get("unit", ""))
            if self.keys is not None and key not in self.keys:
                values[key] = {}  # not asked for: not converted
                continue
            per: dict[str, np.ndarray] = {}
            for metric in self.metrics:
                block = _float_rows(body.get(metric), shape)
                if block is None:
                    return None
                per[metric] = block
            values[key] = per
        return table_type(list(values), units, paths, values, repeats)


def _float_rows(rows: Any, shape: tuple[int, int]) -> np.ndarray | None:
    """A list of ``shape[0]`` lists of ``shape[1]`` numbers (null: NaN) as a float64 array;
    None when it is not one."""
    import itertools

    import numpy as np

    if not isinstance(rows, list) or len(rows) != shape[0]:
        return None
    # the checks run in C (map): a Python loop per node would cost as much as the reading
    if rows and (set(map(type, rows)) != {list} or set(map(len, rows)) != {shape[1]}):
        return None
    try:
        # one pass over the numbers, no shape discovery: the common case, no null
        return np.fromiter(
            itertools.chain.from_iterable(rows), dtype=np.float64, count=shape[0] * shape[1]
        ).reshape(shape)
    except (TypeError, ValueError):
        pass
    try:
        block = np.array(rows, dtype=np.float64)  # null (a repeat without the node) -> NaN
    except (TypeError, ValueError):
        return None
    return block.reshape(shape) if block.shape == shape or block.size == 0 else None


# ------------------------------------------------------------------ statistics of blocks
def _block_stats(block: np.ndarray, stats: Sequence[str]) -> dict[str, np.ndarray]:
    """The statistics of each row of ``block`` (rows x repeats, NaN: no value), from one
    sort: NaN sorts last, so a row's ``n`` values are its first ``n`` columns."""
    import numpy as np

    rows, width = block.shape
    present = ~np.isnan(block)
    n = np.count_nonzero(present, axis=1)
    out: dict[str, np.ndarray] = {}
    if "n" in stats:
        out["n"] = n.astype(np.int64)
    if width == 0:
        empty = np.full(rows, np.nan)
        out.update({s: empty.copy() for s in stats if s != "n"})
        return out
    ordered = np.sort(block, axis=1) if {"median", "min", "max"} & set(stats) else block
    row = np.arange(rows)
    none = n == 0
    last = np.maximum(n - 1, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        if "median" in stats:
            # the mean of the two middle values (the middle one twice when n is odd), as
            # numpy's median computes it
            low = ordered[row, last // 2]
            high = ordered[row, np.where(none, 0, n // 2)]
            median = (low + high) / 2.0
            median[none] = np.nan
            out["median"] = median
        if "mean" in stats or "std" in stats:
            # without NaN (every repeat has every node: the common case) nothing is masked
            complete = rows == 0 or n.min() == width
            total = (block if complete else np.where(present, block, 0.0)).sum(axis=1)
            mean = total / n
            if "mean" in stats:
                out["mean"] = mean
            if "std" in stats:
                deviation = block - mean[:, None]
                if not complete:
                    deviation[~present] = 0.0
                var = (deviation * deviation).sum(axis=1) / (n - 1)
                std = np.sqrt(var)
                std[n < 2] = np.nan
                out["std"] = std
        if "min" in stats:
            out["min"] = ordered[:, 0].copy()
        if "max" in stats:
            out["max"] = ordered[row, last]
            out["max"][none] = np.nan
    return out


# ------------------------------------------------------------------ the ensemble
class Ensemble:
    """Stored runs as a performance table and a metadata table, as Thicket has them; made by
    :func:`ensemble`.

    ``dataframe``: a pandas DataFrame indexed by (``node``, ``run``): ``node`` is the call
    path as text, its labels from the top level joined by ``/`` (:meth:`node_name`), ``run``
    the run's id. Every node of any run has a row for every run, node-major (the union of the
    call paths in pre-order, then the runs in order). Columns: ``name`` (the leaf label, a
    categorical), ``depth`` (0 at the top level), then per component, metric and statistic
    over the run's repeats ``<component>.<metric>.<statistic>``
    (``wall_clock.inclusive.median``, ``wall_clock.self.std``, ``wall_clock.inclusive.n``);
    NaN (and ``n`` 0) where the run lacks the node. With ``repeats=True`` the index is
    (``node``, ``run``, ``repeat``) and the columns ``<component>.<metric>``, the raw values.

    ``metadata``: a DataFrame indexed by ``run``: a column per parameter (NaN or None where a
    run lacks it; a list value is a tuple), then the run's fields (``code``, ``status``,
    ``repeats``, ``requested``, ``done``, ``error``, ``components``, ``created``,
    ``finished``, ``runtime``: its seconds summed over repeats, ``result``, ``target.kind``,
    ``target.name``, ``target.args``) and its environment's (``python``, ``timemory``,
    ``cpu``..., nested fields joined by dots). A field with the name of a parameter is
    prefixed ``run.`` or ``environment.``: the parameter keeps the name.

    Also: ``nodes`` (the node names in order), ``paths`` (each node's call path, a tuple of
    labels), ``runs`` (the run ids), ``units`` (each component's base unit: ``ns``,
    ``bytes``...), ``components``, ``metrics``, ``stats``, ``repeats``, and ``skipped`` (run
    id -> why it has no rows: not done, table.json missing or corrupt)."""

    #: The name of a call path in the ``node`` index (``Ensemble.node_name(("main",
    #: "solve"))`` is ``"main/solve"``; a ``/`` or ``\\`` in a label is escaped by a backslash)
    node_name = staticmethod(node_name)

    def __init__(
        self,
        dataframe: Any,
        metadata: Any,
        *,
        paths: list[tuple[str, ...]],
        records: list[_Record],
        units: dict[str, str],
        components: list[str],
        metrics: list[str],
        stats: list[str],
        repeats: bool,
        skipped: dict[str, str],
    ) -> None:
        self.dataframe = dataframe
        self.metadata = metadata
        self.paths = paths
        self.nodes = [node_name(p) for p in paths]
        self._records = records
        self.runs = [r.id for r in records]
        self.units = units
        self.components = components
        self.metrics = metrics
        self.stats = stats
        self.repeats = repeats
        self.skipped = skipped
        self._rows: dict[str, dict[str, Any]] | None = None

    def __len__(self) -> int:
        return len(self.runs)

    def __repr__(self) -> str:
        kind = "repeats" if self.repeats else "statistics"
        return (
            f"<Ensemble of {len(self.runs)} runs, {len(self.paths)} nodes, "
            f"{', '.join(self.components)} ({kind})>"
        )

    # -------------------------------------------------------------- selections
    def _metadata_rows(self) -> dict[str, dict[str, Any]]:
        """Per run, its metadata as the filters read it: the columns, with the parameters as
        stored (a list stays a list) and those the run lacks left out, so that a missing
        parameter never matches."""
        if self._rows is None:
            parameter_names = {name for r in self._records for name in r.parameters}
            table = self.metadata.to_dict("index") if len(self.metadata.columns) else {}
            rows = {}
            for record in self._records:
                row = {
                    k: v for k, v in table.get(record.id, {}).items() if k not in parameter_names
                }
                row.update(record.parameters)
                row["id"] = row["run"] = record.id
                rows[record.id] = row
            self._rows = rows
        return self._rows

    def _subset(self, ids: Iterable[str]) -> Ensemble:
        """The ensemble of the runs ``ids`` (in this ensemble's order), without the nodes none
        of them has."""
        import numpy as np

        keep_ids = set(ids)
        records = [r for r in self._records if r.id in keep_ids]
        frame = self.dataframe
        index = frame.index
        run_level = index.levels[1]
        run_keep = np.asarray(run_level.isin(list(keep_ids)))
        run_codes = np.asarray(index.codes[1])
        rows = run_keep[run_codes]
        present = self._present_rows()
        node_codes = np.asarray(index.codes[0])
        node_keep = np.zeros(len(index.levels[0]), dtype=bool)
        node_keep[node_codes[rows & present]] = True
        rows &= node_keep[node_codes]
        sub = frame[rows]
        sub.index = sub.index.remove_unused_levels()
        paths_by_name = dict(zip(self.nodes, self.paths))
        paths = [paths_by_name[name] for name in sub.index.levels[0]]
        metadata = self.metadata[self.metadata.index.isin(list(keep_ids))]
        return Ensemble(
            sub,
            metadata,
            paths=paths,
            records=records,
            units=dict(self.units),
            components=list(self.components),
            metrics=list(self.metrics),
            stats=list(self.stats),
            repeats=self.repeats,
            skipped=dict(self.skipped),
        )

    def _present_rows(self) -> np.ndarray:
        """Per row of the performance table: does the run have the node."""
        import numpy as np

        frame = self.dataframe
        n_columns = [c for c in frame.columns if c.endswith(".n")]
        if n_columns:
            return (
                np.asarray(frame[n_columns].to_numpy().max(axis=1) > 0)
                if len(frame)
                else (np.zeros(0, dtype=bool))
            )
        values = [c for c in frame.columns if c not in ("name", "depth")]
        if not values or not len(frame):
            return np.ones(len(frame), dtype=bool)
        return np.asarray(~np.isnan(frame[values].to_numpy(dtype=float)).all(axis=1))

    def _check_columns(self, names: Iterable[str]) -> None:
        columns = set(self.metadata.columns)
        for name in names:
            base = name.split("__", 1)[0]
            if base not in columns and base not in ("id", "run"):
                from .._about import close_matches

                valid = ", ".join(sorted(columns)) or "none"
                hint = close_matches(base, sorted(columns))
                raise RunsError(f"no metadata column {base!r}{hint} (the columns: {valid})")

    def filter_metadata(
        self, select: Callable[[Any], bool] | None = None, /, **filters: Any
    ) -> Ensemble:
        """The ensemble of the runs whose metadata match.

        ``select``: as Thicket's ``filter_metadata``, a function of a metadata row (a pandas
        Series) that returns True to keep the run. ``filters``: as ``Store.get_runs_with``,
        ``name=value`` or ``name__{ne,lt,le,gt,ge,in}=value`` on the parameters and the other
        metadata columns (``status="done"``, ``python="3.12.4"``; ``id=`` a run id or a list);
        a list value without a suffix means ``__in``. A name that is no metadata column is a
        :class:`RunsError` naming the columns."""
        from ._params import matches

        self._check_columns(filters)
        ids = self.runs
        if filters:
            rows = self._metadata_rows()
            ids = [i for i in ids if matches(rows[i], filters)]
        if select is not None:
            chosen = self.metadata.apply(select, axis=1) if len(self.metadata) else []
            kept = set(self.metadata.index[list(map(bool, chosen))])
            ids = [i for i in ids if i in kept]
        return self._subset(ids)

    def groupby(self, by: str | Sequence[str]) -> dict[Any, Ensemble]:
        """The ensembles of the runs grouped by the values of metadata columns (as Thicket's
        ``groupby``): a dict from the value (a tuple of values when ``by`` is a list) to the
        ensemble of those runs, in sorted order of the values (in the order they come when
        they cannot be sorted). A list value (a list parameter) is a tuple in the key."""
        names = [by] if isinstance(by, str) else list(by)
        if not names:
            raise RunsError("groupby: name at least one metadata column")
        self._check_columns(names)
        groups: dict[tuple[Any, ...], list[str]] = {}
        rows = self._metadata_rows()
        for run_id in self.runs:
            values = tuple(_hashable(rows[run_id].get(name)) for name in names)
            groups.setdefault(values, []).append(run_id)
        try:
            ordered = sorted(groups, key=lambda values: tuple(map(_sort_key, values)))
        except TypeError:
            ordered = list(groups)
        single = isinstance(by, str)
        return {values[0] if single else values: self._subset(groups[values]) for values in ordered}

    # -------------------------------------------------------------- Thicket
    def to_thicket(self) -> Any:
        """A ``thicket.Thicket`` of this ensemble: its graph of hatchet nodes (one per call
        path), its performance table indexed by (``node``, ``profile``) with the value columns
        of :attr:`dataframe` and ``name`` (exclusive metrics: the ``self`` columns, inclusive:
        the ``inclusive`` ones) and its metadata table indexed by ``profile``, with a ``run``
        column (the run's id) before the others. A profile is a run, or, for an ensemble of
        ``repeats=True``, one repeat of a run (``run`` and ``repeat`` columns), numbered as
        Thicket's readers number files: ``Thicket.profile_hasher`` of its name (the run's id,
        or ``<id>/<repeat>``), which ``profile_mapping`` gives back. Thicket's statistics
        (``thicket.stats.median(tk, columns=[...])``) then work across the profiles of each
        node. Needs llnl-thicket (one line says so when it is missing)."""
        pd = _pandas()
        try:
            import contextlib
            import sys

            # thicket prints a notice on stdout when it is imported without seaborn: stdout
            # is the program's, whatever timemory brings in says its piece on stderr
            with contextlib.redirect_stdout(sys.stderr):
                import thicket
            from hatchet.frame import Frame
            from hatchet.graph import Graph
            from hatchet.node import Node
        except ImportError:
            from .._about import MissingPackage

            raise MissingPackage(
                "Ensemble.to_thicket needs the llnl-thicket package, which is not installed: "
                "pip install llnl-thicket",
                name="timemory.runs",
            ) from None
        import numpy as np

        nodes: list[Any] = []
        roots = []
        by_path: dict[tuple[str, ...], Any] = {}
        for i, path in enumerate(self.paths):
            node = Node(Frame({"name": path[-1], "type": "region"}), None, i, len(path) - 1)
            parent = by_path.get(path[:-1])
            if parent is None:
                roots.append(node)
            else:
                node.parents.append(parent)
                parent.children.append(node)
            by_path[path] = node
            nodes.append(node)
        graph = Graph(roots)
        graph.enumerate_traverse()

        frame = self.dataframe
        index = frame.index
        node_objects = np.empty(len(nodes), dtype=object)
        node_objects[:] = nodes
        node_of_name = dict(zip(self.nodes, range(len(nodes))))
        level_to_node = np.array([node_of_name[n] for n in index.levels[0]], dtype=np.int64)
        row_nodes = node_objects[level_to_node[np.asarray(index.codes[0])]]
        run_codes = np.asarray(index.codes[1], dtype=np.int64)
        run_level = np.asarray(index.levels[1], dtype=object)
        # a profile per run (or per repeat of a run), numbered as Thicket's readers number
        # theirs: a hash of its name (profile_mapping gives the name back); its statistics
        # group the rows by node and need numbers in the profile column
        if self.repeats:
            repeat = np.asarray(index.get_level_values("repeat"), dtype=np.int64)
            width = int(repeat.max()) + 1 if len(repeat) else 1
            pairs, row_profile = np.unique(run_codes * width + repeat, return_inverse=True)
            pair_runs = run_level[pairs // width]
            names = [f"{r}/{k}" for r, k in zip(pair_runs.tolist(), (pairs % width).tolist())]
            metadata = pd.DataFrame({"run": pair_runs, "repeat": pairs % width}).join(
                self.metadata, on="run"
            )
        else:
            used = np.unique(run_codes)
            row_profile = np.searchsorted(used, run_codes)
            names = run_level[used].tolist()
            metadata = self.metadata.loc[names].reset_index()
        hashes = [thicket.Thicket.profile_hasher(name) for name in names]
        if len(set(hashes)) != len(hashes):  # two names with one hash: number them instead
            hashes = list(range(len(names)))
        profile_of_row = np.asarray(hashes, dtype=np.int64)[row_profile.reshape(-1)]
        metadata.index = pd.Index(hashes, name="profile", dtype=np.int64)
        data = frame.reset_index(drop=True).drop(columns=["depth"])
        data["name"] = data["name"].astype(object)
        data.index = pd.MultiIndex.from_arrays(
            [pd.Index(row_nodes, dtype=object), pd.Index(profile_of_row, dtype=np.int64)],
            names=["node", "profile"],
        )
        values = [c for c in data.columns if c != "name"]
        exc = [c for c in values if ".self" in c]
        inc = [c for c in values if ".inclusive" in c]
        default = inc[0] if inc else values[0] if values else "name"
        return thicket.Thicket(
            graph,
            data,
            exc_metrics=exc,
            inc_metrics=inc,
            default_metric=default,
            metadata=metadata,
            profile=hashes,
            profile_mapping=dict(zip(hashes, names)),
        )


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _sort_key(value: Any) -> Any:
    # None (a run without the parameter) sorts last, as pandas sorts missing values
    return (value is None, () if value is None else value)


# ------------------------------------------------------------------ building
def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = _hashable(value)


def _metadata(pd: Any, records: list[_Record]) -> Any:
    """The metadata table: parameters, then the run's fields, then its environment's; a
    field whose name a parameter has is prefixed ``run.`` or ``environment.``."""
    import numpy as np

    parameter_names = sorted({name for r in records for name in r.parameters})
    taken = set(parameter_names)
    rows: list[dict[str, Any]] = []
    field_names: dict[str, None] = {}
    env_names: dict[str, None] = {}
    for record in records:
        fields: dict[str, Any] = {}
        for name, value in record.fields.items():
            if name == "runtime" and isinstance(value, (list, tuple)):
                value = float(sum(v for v in value if isinstance(v, (int, float))))
            fields[name] = _hashable(value)
        for name in ("kind", "name", "args"):
            fields[f"target.{name}"] = _hashable(record.target.get(name))
        env: dict[str, Any] = {}
        _flatten("", record.environment, env)
        rows.append({"fields": fields, "env": env})
        field_names.update(dict.fromkeys(fields))
        env_names.update(dict.fromkeys(env))
    columns: dict[str, Any] = {}
    for name in parameter_names:
        columns[name] = _column([_hashable(r.parameters.get(name)) for r in records])
    for group, names, prefix in (
        ("fields", field_names, "run."),
        ("env", env_names, "environment."),
    ):
        for name in names:
            column = name if name not in taken else prefix + name
            taken.add(column)
            columns[column] = _column([row[group].get(name) for row in rows])
    index = pd.Index(np.array([r.id for r in records], dtype=object), name="run", dtype=object)
    return pd.DataFrame(columns, index=index)


def _column(values: list[Any]) -> Any:
    """A metadata column: numbers as numbers (NaN where missing), else Python objects."""
    import numpy as np

    if (
        values
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) or v is None for v in values
        )
        and any(v is not None for v in values)
    ):
        if all(isinstance(v, int) for v in values):
            return np.array(values, dtype=np.int64)
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _check_choices(what: str, given: Iterable[str], valid: Sequence[str]) -> list[str]:
    chosen = []
    for name in given:
        if name not in valid:
            raise RunsError(f"unknown {what} {name!r} (valid: {', '.join(valid)})")
        chosen.append(name)
    return chosen


def _names(value: str | Sequence[str] | None, default: Sequence[str]) -> list[str]:
    if value is None:
        return list(default)
    if isinstance(value, str):
        from .._text import split_names

        return list(split_names(value))
    return list(value)


class _Builder:
    """The performance table built while the runs' tables are read: each table's call paths
    get ids in the order they first come (the node union), its arrays wait in a block with
    the next runs' and the block's statistics are computed together; only the statistics
    (or, with ``repeats``, the values) of the runs read so far are kept, not their tables.
    :meth:`columns` then puts them at their rows, once the union and the runs are known."""

    def __init__(
        self,
        keys: Sequence[str] | None,
        metrics: list[str],
        stats: list[str],
        repeats: bool,
        runs: int,
    ) -> None:
        self.keys = keys
        self.capacity = (16, max(runs, 1))  # node ids x runs of the statistics arrays
        self.metrics = metrics
        self.stats = stats
        self.repeats = repeats
        self.first: dict[tuple[str, ...], int] = {}  # call path -> id, in order of appearance
        self.units: dict[str, str] = {}
        self.counts: list[int] = []  # repeats per run
        self._ids: dict[int, tuple[list[tuple[str, ...]], np.ndarray]] = {}
        self._pending: list[tuple[int, np.ndarray, Any]] = []
        self._pending_values = 0
        # with repeats, (key, metric) -> pieces: (node ids, run, (rows x repeats) values)
        self.pieces: dict[tuple[str, str], list[tuple[Any, int, Any]]] = {}
        # else (key, metric) -> statistic -> array of node id x run, put at its final rows
        # one column at a time by columns(): at most one column is held twice
        self.arrays: dict[tuple[str, str], dict[str, np.ndarray]] = {}

    def add(self, table: Any) -> None:
        import numpy as np

        for key in table.components:
            self.units.setdefault(key, table.units.get(key, ""))
        paths = table.paths
        # runs of one program share their call paths (the reader gives them the same list)
        known = self._ids.get(id(paths))
        if known is not None and known[0] is paths:
            ids = known[1]
        else:
            first = self.first
            # a path's ancestors come before it in a table, so they have smaller ids
            ids = np.fromiter(
                (first.setdefault(path, len(first)) for path in paths),
                dtype=np.int64,
                count=len(paths),
            )
            if len(self._ids) >= 4 * _KNOWN_STRUCTURES:
                self._ids.clear()
            # the list is kept with its ids: its id() cannot name another list meanwhile
            self._ids[id(paths)] = (paths, ids)
        run = len(self.counts)
        self.counts.append(int(table.repeats))
        self._pending.append((run, ids, table))
        self._pending_values += len(paths) * max(int(table.repeats), 1)
        if self._pending_values >= _BLOCK_VALUES:
            self.flush()

    def _keys_of(self, table: Any) -> Iterable[str]:
        if self.keys is None:
            return table.components
        return [key for key in table.components if key in self.keys]

    def flush(self) -> None:
        import numpy as np

        pending, self._pending, self._pending_values = self._pending, [], 0
        if not pending:
            return
        keys: dict[str, None] = {}
        for _, _, table in pending:
            keys.update(dict.fromkeys(self._keys_of(table)))
        for key in keys:
            for metric in self.metrics:
                parts = [
                    (run, ids, block)
                    for run, ids, table in pending
                    if (block := _values(table, key, metric)) is not None
                ]
                if not parts:
                    continue
                if self.repeats:
                    pieces = self.pieces.setdefault((key, metric), [])
                    pieces.extend((ids, run, block) for run, ids, block in parts)
                    continue
                width = max(block.shape[1] for _, _, block in parts)
                stacked = np.full((sum(len(ids) for _, ids, _ in parts), width), np.nan)
                start = 0
                for _, ids, block in parts:
                    stacked[start : start + len(ids), : block.shape[1]] = block
                    start += len(ids)
                nodes = np.concatenate([ids for _, ids, _ in parts])
                runs = np.repeat(
                    np.fromiter((run for run, _, _ in parts), np.int64, len(parts)),
                    np.fromiter((len(ids) for _, ids, _ in parts), np.int64, len(parts)),
                )
                arrays = self._arrays(key, metric)
                for name, column in _block_stats(stacked, self.stats).items():
                    arrays[name][nodes, runs] = column

    def _arrays(self, key: str, metric: str) -> dict[str, np.ndarray]:
        """The statistics arrays of a component's metric, made or grown to hold every node
        id so far (the node ids grow as runs with other call paths come)."""

        nodes, runs = self.capacity
        if len(self.first) > nodes:
            while nodes < len(self.first):
                nodes *= 2
            self.capacity = (nodes, runs)
            for held in self.arrays.values():
                for name, old in held.items():
                    grown = self._new(name)
                    grown[: len(old)] = old
                    held[name] = grown
        arrays = self.arrays.get((key, metric))
        if arrays is None:
            arrays = {name: self._new(name) for name in self.stats}
            self.arrays[key, metric] = arrays
        return arrays

    def _new(self, stat: str) -> np.ndarray:
        import numpy as np

        if stat == "n":
            return np.zeros(self.capacity, dtype=np.int64)
        return np.full(self.capacity, np.nan)

    def order(self) -> tuple[list[tuple[str, ...]], np.ndarray]:
        """The union of the call paths in pre-order (siblings in the order they first come)
        and the node id of each."""
        import numpy as np

        first = self.first
        ordered = list(first)
        ordered.sort(key=lambda path: tuple(first[path[: k + 1]] for k in range(len(path))))
        return ordered, np.fromiter((first[p] for p in ordered), np.int64, len(ordered))

    def columns(self, keys: list[str], ids: np.ndarray) -> dict[str, np.ndarray]:
        """The value columns, node-major (``ids``: the node id of each node in order): row
        (node, run) is node * runs + run; with ``repeats``, (node, run, repeat) is
        node * all repeats + the run's first repeat + repeat."""
        import numpy as np

        n_nodes, n_runs = len(ids), len(self.counts)
        out: dict[str, np.ndarray] = {}
        if self.repeats:
            position = np.empty(len(self.first), dtype=np.int64)
            position[ids] = np.arange(n_nodes)
            starts = np.concatenate(([0], np.cumsum(self.counts, dtype=np.int64)))
            total = int(starts[-1])
            for key in keys:
                for metric in self.metrics:
                    flat = np.full(n_nodes * total, np.nan)
                    for nodes, run, block in self.pieces.pop((key, metric), []):
                        rows = position[nodes][:, None] * total + starts[run]
                        flat[rows + np.arange(block.shape[1])[None, :]] = block
                    out[f"{key}.{metric}"] = flat
            return out
        for key in keys:
            for metric in self.metrics:
                arrays = self.arrays.pop((key, metric), None)
                for stat in self.stats:
                    if arrays is None:  # no run has the metric
                        column = (
                            np.zeros(n_nodes * n_runs, dtype=np.int64)
                            if stat == "n"
                            else np.full(n_nodes * n_runs, np.nan)
                        )
                    else:
                        column = arrays.pop(stat)[ids, :n_runs].reshape(-1)
                    out[f"{key}.{metric}.{stat}"] = column
        return out


def ensemble(
    source: Any,
    components: str | Sequence[str] | None = None,
    *,
    metric: str | Sequence[str] = ("inclusive", "self"),
    stats: str | Sequence[str] = STATS,
    repeats: bool = False,
) -> Ensemble:
    """The runs of ``source`` as an :class:`Ensemble` (performance and metadata tables).

    ``source``: a :class:`~timemory.runs.Store`, the path of a store, a Run or a list of Runs
    (``store.get_runs_with(n__ge=1000)``). ``components``: the component keys to keep
    (default: every component of the runs). ``metric``: which of ``inclusive``, ``self``,
    ``count`` (a name or a list). ``stats``: which of ``median``, ``mean``, ``std``, ``min``,
    ``max``, ``n``. ``repeats=True``: one row per (node, run, repeat) with the raw values,
    columns ``<component>.<metric>``, instead of statistics.

    Values are in each component's base unit (``Ensemble.units``; ``frame.attrs["units"]``).
    A run that is not done is left out (``Ensemble.skipped``); one whose table.json is
    missing or corrupt too, with one line on stderr. Unknown names are a :class:`RunsError`
    naming the valid ones; pandas missing is one line naming the install command."""
    pd = _pandas()
    import numpy as np

    metrics = _check_choices("metric", _names(metric, ()), METRICS)
    chosen_stats = [] if repeats else _check_choices("statistic", _names(stats, ()), STATS)
    wanted = _names(components, ()) if components is not None else None

    records: list[_Record] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    reader = _TableReader(wanted, metrics)
    records_in = _records(source)
    builder = _Builder(wanted, metrics, chosen_stats, repeats, len(records_in))
    for record in records_in:
        if record.id in seen:
            continue  # one run listed twice
        seen.add(record.id)
        if record.status not in (None, "done"):
            skipped[record.id] = f"status {record.status}"
            continue
        table = reader.read(record)
        if table is None:
            skipped[record.id] = "table.json missing or corrupt"
            continue
        records.append(record)
        builder.add(table)
    builder.flush()

    units = builder.units
    if wanted is None:
        keys = list(units)
    else:
        keys = []
        for key in wanted:
            if key not in units:
                from .._about import close_matches

                raise RunsError(
                    f"component {key!r} is in none of the runs{close_matches(key, list(units))}"
                    f" (their components: {', '.join(units) or 'none'})"
                )
            keys.append(key)
        units = {key: units[key] for key in keys}

    paths, ids = builder.order()
    n_nodes, n_runs = len(paths), len(records)
    node_index = pd.Index(
        np.array([node_name(p) for p in paths], dtype=object), name="node", dtype=object
    )
    run_index = pd.Index(np.array([r.id for r in records], dtype=object), name="run", dtype=object)
    label_codes, label_values = pd.factorize(
        pd.Index(np.array([p[-1] for p in paths], dtype=object))
    )
    depths = np.array([len(p) - 1 for p in paths], dtype=np.int64)
    if repeats:
        counts = np.array(builder.counts, dtype=np.int64)
        rows_per_node = int(counts.sum())
        repeat_codes = (
            np.concatenate([np.arange(c) for c in counts]) if n_runs else np.zeros(0, np.int64)
        )
        index = pd.MultiIndex(
            levels=[
                node_index,
                run_index,
                pd.RangeIndex(int(counts.max()) if n_runs else 0, name="repeat"),
            ],
            codes=[
                np.repeat(np.arange(n_nodes), rows_per_node),
                np.tile(np.repeat(np.arange(n_runs), counts), n_nodes),
                np.tile(repeat_codes, n_nodes),
            ],
            names=["node", "run", "repeat"],
            verify_integrity=False,
        )
    else:
        rows_per_node = n_runs
        index = pd.MultiIndex(
            levels=[node_index, run_index],
            codes=[np.repeat(np.arange(n_nodes), n_runs), np.tile(np.arange(n_runs), n_nodes)],
            names=["node", "run"],
            verify_integrity=False,
        )
    columns: dict[str, Any] = {
        "name": pd.Categorical.from_codes(
            np.repeat(label_codes, rows_per_node), categories=label_values, validate=False
        ),
        "depth": np.repeat(depths, rows_per_node),
    }
    columns.update(builder.columns(keys, ids))
    frame = pd.DataFrame(columns, index=index, copy=False)
    frame.attrs.update(
        units=dict(units), components=list(keys), metrics=list(metrics), repeats=repeats
    )
    return Ensemble(
        frame,
        _metadata(pd, records),
        paths=paths,
        records=records,
        units=dict(units),
        components=list(keys),
        metrics=list(metrics),
        stats=list(chosen_stats),
        repeats=repeats,
        skipped=skipped,
    )


def _values(table: Any, key: str, metric: str) -> np.ndarray | None:
    """A table's (paths x repeats) array of one component's metric, None when it lacks it."""
    by_metric = table.values.get(key)
    if by_metric is None or metric not in by_metric:
        return None
    return by_metric[metric]
