"""pandas and hatchet views of a NumPy snapshot of the call graph.

Both are built from the snapshot's columns (``Snapshot.as_numpy()``): no Python object per
row for the DataFrame (the labels and files become categoricals from their codes), one hatchet
``Node`` per call-graph node for the GraphFrame (hatchet's graph is made of them), and no JSON
written or parsed.

The metric columns are named as hatchet's ``GraphFrame.from_timemory`` names them, so a
program that read the output folder with hatchet finds the same columns: for each component
value, ``sum.<value>``, ``min.<value>``, ``max.<value>``, ``sqr.<value>``, ``mean.<value>`` and
``stddev.<value>`` (the node's own part: exclusive), and the same six with ``" (inc)"``
(inclusive). ``<value>`` is the component's key (``wall_clock``) or, for a component with
several values, the value's name as hatchet writes it (``Total-cycles``). Values are in the
units the output files use (``timing_units``, ``memory_units``...): ``frame.attrs["units"]``
names them.
"""

from __future__ import annotations

from .. import _about, _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

    import numpy as np

__all__ = ["call_path", "snapshot_to_hatchet", "snapshot_to_pandas", "to_hatchet", "to_pandas"]

#: The statistics of each component value, in hatchet's column order.
STATS = ("sum", "min", "max", "sqr", "mean", "stddev")

#: What hatchet's reader names a node that has neither file nor line.
UNKNOWN_FILE = "<unknown>"

#: The combine modes whose exclusive value is their inclusive one: an absolute reading (a peak
#: at start and stop, a timestamp) has no part of its own (Entry::subtract), nor has the
#: largest, smallest or latest reading of a Python-defined component.
_NOT_SUBTRACTED = frozenset({"abs_pair", "last", "max", "min", "latest"})


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise _about.missing_package("timemory.storage", "pandas", "pandas") from None
    return pandas


def _hatchet() -> Any:
    try:
        import hatchet
    except ImportError:
        raise _about.missing_package("timemory.storage", "hatchet", "hatchet") from None
    return hatchet


def metric_names(key: str, value_names: list[str]) -> list[str]:
    """The name of each value of component ``key`` in the metric columns: the key for a
    component with one value, else each value's name with spaces and underscores made dashes
    (hatchet's reader names them so)."""
    if len(value_names) <= 1:
        return [key]
    return [v.strip().replace(" ", "-").replace("_", "-") for v in value_names]


def _component_columns(snapshot: Any, arr: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(key, structured array of that component's fields) per component of the snapshot:
    a storage's snapshot holds the fields at the top level, a bundle's one struct per key."""
    keys = list(snapshot.components)
    if "sum" in (arr.dtype.names or ()):
        return [(keys[0], arr)]
    return [(key, arr[key]) for key in keys]


def _children_sum(parent: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, the sum of ``values`` over its children (rows whose parent it is)."""
    import numpy as np

    n = len(parent)
    child = parent >= 0
    return np.bincount(parent[child], weights=values[child], minlength=n)


def _metric_columns(
    snapshot: Any, arr: np.ndarray
) -> tuple[dict[str, np.ndarray], list[str], list[str], dict[str, str]]:
    """The metric columns in display units (hatchet's names), the exclusive and inclusive
    column names, and the display unit of each metric name."""
    import numpy as np

    columns: dict[str, np.ndarray] = {}
    exc: list[str] = []
    inc: list[str] = []
    units: dict[str, str] = {}
    parent = np.asarray(arr["parent"])
    value_names = getattr(snapshot, "value_names", {}) or {}
    for key, fields in _component_columns(snapshot, arr):
        index = _core.find_component(key)
        divisors, unit_names = _core.unit_info(index)
        subtracts = _core.component_info(index)["combine"] not in _NOT_SUBTRACTED
        count = np.asarray(fields["count"]).astype(np.float64)
        names = metric_names(key, list(value_names.get(key, [key])))
        for k, metric in enumerate(names):

            def value(field: str, fields: np.ndarray = fields, k: int = k) -> np.ndarray:
                column = np.asarray(fields[field])
                return column[:, k] if column.ndim > 1 else column

            u = float(divisors[k]) if k < len(divisors) and divisors[k] else 1.0
            units[metric] = unit_names[k] if k < len(unit_names) else ""
            raw_sum, raw_sqr = value("sum"), value("sum_sq")
            inc_sum = raw_sum / u
            inc_sqr = raw_sqr / (u * u)
            if subtracts:
                # the exclusive statistics as the tree files hold them: the node's sum and
                # sum of squares less its children's, count, min and max its own
                exc_sum = (raw_sum - _children_sum(parent, raw_sum)) / u
                exc_sqr = (raw_sqr - _children_sum(parent, raw_sqr)) / (u * u)
            else:
                exc_sum, exc_sqr = inc_sum.copy(), inc_sqr.copy()
            minimum = value("min") / u
            maximum = value("max") / u
            for suffix, total, squares, names_out in (
                ("", exc_sum, exc_sqr, exc),
                (" (inc)", inc_sum, inc_sqr, inc),
            ):
                # every column its own array: a frame's columns are changed one at a time
                low, high = (minimum, maximum) if suffix else (minimum.copy(), maximum.copy())
                stats = dict(
                    zip(STATS, (total, low, high, squares, *_mean_stddev(total, squares, count)))
                )
                for stat in STATS:
                    name = f"{stat}.{metric}{suffix}"
                    columns[name] = stats[stat]
                    names_out.append(name)
    return columns, exc, inc, units


def _mean_stddev(total: np.ndarray, squares: np.ndarray, count: np.ndarray) -> tuple[Any, Any]:
    """Mean and sample standard deviation as the files compute them (0 for fewer than one
    and two laps)."""
    import numpy as np

    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(count > 0, total / count, 0.0)
        var = (squares - total * total / count) / (count - 1.0)
        stddev = np.where(count > 1, np.sqrt(np.abs(var)), 0.0)
    return mean, stddev


def _categorical(pd: Any, codes: np.ndarray, table: list[str]) -> Any:
    """A categorical column from codes into ``table`` (-1: missing); a table that holds the
    same text twice is folded first (the codes remapped, no string per row)."""
    import numpy as np

    # an object array first: pandas makes an Index of a list element by element; the one
    # uniqueness check pandas makes (one hash per label) is cached on that Index
    texts = np.empty(len(table), dtype=object)
    texts[:] = table
    categories = pd.Index(texts, dtype=object, copy=False)
    if not categories.is_unique:
        folded, uniques = pd.factorize(categories)
        codes = np.where(codes >= 0, folded[np.maximum(codes, 0)], -1)
        categories = pd.Index(uniques, dtype=object)
    dtype = pd.CategoricalDtype(categories)
    return pd.Categorical.from_codes(codes, dtype=dtype, validate=False)


def _default_metric(exc: list[str], inc: list[str]) -> str:
    """What hatchet's reader takes as the default metric."""
    for preferred in ("sum.wall_clock", "sum.cpu_clock"):
        if preferred in exc:
            return preferred
    return exc[0] if exc else inc[0] if inc else "sum"


def snapshot_to_pandas(snapshot: Any) -> Any:
    """The DataFrame of a snapshot (``Snapshot.to_pandas()``): see :func:`to_pandas`."""
    pd = _pandas()
    import numpy as np

    arr = snapshot.as_numpy()
    n = len(arr)

    def column(field: str) -> np.ndarray:
        # a copy: the snapshot's fields are read-only, strided views of its records; the
        # frame's columns are contiguous and writable, as any DataFrame's
        return np.array(arr[field], copy=True)

    columns: dict[str, Any] = {
        "name": _categorical(pd, column("label"), list(snapshot.labels)),
        **{f: column(f) for f in ("parent", "depth", "rank", "pid", "thread")},
        "file": _categorical(pd, column("file"), list(snapshot.files)),
        **{f: column(f) for f in ("line", "hash", "count")},
    }
    metrics, exc, inc, units = _metric_columns(snapshot, arr)
    columns.update(metrics)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(n, name="node"), copy=False)
    frame.attrs.update(
        components=list(snapshot.components),
        units=units,
        exc_metrics=exc,
        inc_metrics=inc,
        default_metric=_default_metric(exc, inc),
    )
    return frame


def call_path(frame: Any, node: int) -> tuple[str, ...]:
    """The labels from the top level down to ``node`` (a row of :func:`to_pandas`'s frame,
    or of a slice of it that keeps the node's ancestors): one lookup per level."""
    parents = frame["parent"]
    names = frame["name"]
    path = []
    while node >= 0:
        path.append(names.at[node])
        node = int(parents.at[node])
    return tuple(reversed(path))


def _path_ids(parent: np.ndarray, depth: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """For each row, the id of its call path (the hashes from the top level down to it):
    rows of different views (ranks, threads) with the same path get the same id, the first
    row of each path numbering it. One vectorised step per depth level."""
    import numpy as np

    n = len(parent)
    path = np.full(n, -1, dtype=np.int64)
    order = np.argsort(depth, kind="stable")
    bounds = np.flatnonzero(np.diff(depth[order])) + 1
    next_id = 0
    for level in np.split(order, bounds):
        if not len(level):
            continue
        parent_path = np.where(parent[level] >= 0, path[np.maximum(parent[level], 0)], -1)
        keys = np.empty(len(level), dtype=[("p", np.int64), ("h", np.uint64)])
        keys["p"] = parent_path
        keys["h"] = hashes[level]
        uniques, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        # number the paths of this level in the order their first rows come
        rank = np.empty(len(uniques), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(uniques))
        path[level] = next_id + rank[inverse.reshape(-1)]
        next_id += len(uniques)
    return path


def snapshot_to_hatchet(snapshot: Any) -> Any:
    """The hatchet GraphFrame of a snapshot (``Snapshot.to_hatchet()``): see
    :func:`to_hatchet`."""
    pd = _pandas()  # first: hatchet imports it, and the missing one is named
    hatchet = _hatchet()
    import numpy as np

    Frame, Graph, Node = hatchet.frame.Frame, hatchet.graph.Graph, hatchet.node.Node

    frame = snapshot_to_pandas(snapshot)
    parent = frame["parent"].to_numpy()
    depth = frame["depth"].to_numpy()
    rank = frame["rank"].to_numpy()
    thread = frame["thread"].to_numpy()
    several_ranks = len(rank) > 0 and rank.min() != rank.max()
    several_threads = len(thread) > 0 and thread.min() != thread.max()

    labels = np.asarray(frame["name"].cat.categories, dtype=object)
    codes = frame["name"].cat.codes.to_numpy()
    if several_ranks or several_threads:
        # hatchet keeps one node per call path, and the views' rows under it
        path = _path_ids(parent, depth, frame["hash"].to_numpy())
        first = np.full(path.max() + 1 if len(path) else 0, -1, dtype=np.int64)
        first[path[::-1]] = np.arange(len(path) - 1, -1, -1)
        node_parent = np.where(parent[first] >= 0, path[np.maximum(parent[first], 0)], -1)
        node_codes, node_depth = codes[first], depth[first]
    else:
        path = None
        node_parent, node_codes, node_depth = parent, codes, depth

    nodes: list[Any] = [None] * len(node_parent)
    roots = []
    names = labels.tolist()
    # the one loop per node: hatchet's graph is made of Node objects. The collector would
    # walk every node made so far again and again (each Node holds lists): it pauses
    import gc

    collecting = gc.isenabled()
    gc.disable()
    try:
        for i, (p, code, d) in enumerate(
            zip(node_parent.tolist(), node_codes.tolist(), node_depth.tolist())
        ):
            node = Node(Frame({"name": names[code], "type": "region"}), None, i, d)
            if p < 0:
                roots.append(node)
            else:
                up = nodes[p]
                node.parents.append(up)
                up.children.append(node)
            nodes[i] = node
    finally:
        if collecting:
            gc.enable()
    graph = Graph(roots)

    index_nodes = np.empty(len(nodes), dtype=object)
    index_nodes[:] = nodes
    if path is not None:
        index_nodes = index_nodes[path]
    files = frame["file"].cat.add_categories([UNKNOWN_FILE]).fillna(UNKNOWN_FILE)
    data = frame.drop(columns=["parent", "depth", "hash", "name", "file"])
    data.insert(0, "name", labels[codes] if len(codes) else np.empty(0, dtype=object))
    data.insert(0, "type", "region")
    data.insert(2, "file", files.astype(object).to_numpy())
    data.index = pd.Index(index_nodes, name="node", dtype=object)
    levels = (["rank"] if several_ranks else []) + (["thread"] if several_threads else [])
    if levels:
        data = data.set_index(levels, append=True)
    attrs = dict(frame.attrs)
    data.attrs.update(attrs)
    return hatchet.GraphFrame(
        graph,
        data,
        list(attrs["exc_metrics"]),
        list(attrs["inc_metrics"]),
        attrs["default_metric"],
    )


def _snapshot(components: Any, source: Any) -> Any:
    from . import snapshot

    return snapshot(components, source)


def to_pandas(components: Any = None, source: Any = None) -> Any:
    """The call graph as a pandas DataFrame, one row per call-graph node, built from the
    NumPy snapshot's columns (``timemory.snapshot(components, source)``).

    Index ``node``: the snapshot's row id (pre-order; the views of several ranks or threads
    follow each other, so the id alone names a row). Columns: ``name`` (the label, a
    categorical), ``parent`` (row id, -1 at the top level), ``depth``, ``rank``, ``pid``,
    ``thread``, ``file`` (categorical, missing when unknown), ``line`` (0 when unknown),
    ``hash``, ``count`` (laps), then per component value the metric columns hatchet's
    ``from_timemory`` makes: ``sum.wall_clock``, ``min.wall_clock``, ``max.wall_clock``,
    ``sqr.wall_clock``, ``mean.wall_clock``, ``stddev.wall_clock`` (exclusive) and each with
    ``" (inc)"`` (inclusive), in the output files' units.

    ``frame.attrs``: ``units`` (metric name -> unit), ``exc_metrics``, ``inc_metrics``,
    ``default_metric`` (as hatchet's reader chooses it), ``components``.
    :func:`call_path` gives a node's path of labels.

    pandas is an optional extra: without it this raises one line naming the install command.
    """
    return snapshot_to_pandas(_snapshot(components, source))


def to_hatchet(components: Any = None, source: Any = None) -> Any:
    """The call graph as a ``hatchet.GraphFrame``, from the NumPy snapshot's columns (no JSON
    written or read).

    As ``GraphFrame.from_timemory`` makes it: the graph of hatchet nodes (frame ``name``:
    the label, ``type``: ``"region"``), the DataFrame indexed by them (and by ``rank`` and
    ``thread`` when the data has several: one node per call path, a row per view), the same
    metric columns, ``exc_metrics``, ``inc_metrics`` and default metric. Differences: ``line``
    is an integer, ``file`` is the function's file when the profiler recorded it, and a
    label is the node's name as it is (hatchet's reader cuts ``func@file:line`` labels).
    """
    return snapshot_to_hatchet(_snapshot(components, source))
