"""The original timemory's ``timemory.analyze``: call graphs read with hatchet, filtered,
combined and written as trees, tables, graphviz dot or flame graphs.

``timemory-analyze`` (also ``timemory analyze`` and ``python -m timemory.analyze``) is the
command line of :func:`embedded_analyze`; the helpers work on hatchet GraphFrames (or lists of
them) and can be used on their own::

    from timemory import analyze

    gf = analyze.load("timemory-app-output")          # every <label>.tree.json in the folder
    gf = analyze.search(gf, "solve")                 # nodes whose name contains "solve"
    analyze.dump(gf, analyze.DEFAULT_METRIC, "tree")  # to stderr; a name: to a file

What is read: an output folder (its ``*.tree.json``), a ``<label>.tree.json`` file, a flat
``<label>.json`` whose tree file sits beside it, a run folder of a run store (its repeats), or
a dict as ``timemory.get(hierarchy=True)`` returns it. The metric columns are named as
hatchet's ``GraphFrame.from_timemory`` names them: ``sum.wall_clock`` (the node's own part),
``sum.wall_clock (inc)`` (inclusive), and ``min.``, ``max.``, ``sqr.``, ``mean.``, ``stddev.``
likewise. ``--metric`` is a regular expression over those names; its default,
:data:`DEFAULT_METRIC`, selects the inclusive sums.

``subtract`` of two single inputs is hatchet's point difference (``gf_a - gf_b``, per node).
Between groups of runs (several inputs per side, or run folders of a store, which hold
repeats) it is :func:`timemory.runs.compare`: a rank test per node with the false discovery
rate controlled across nodes, whose verdict (slower, faster, no change, not enough data,
added, removed) is reported instead of a difference of two noisy numbers.

hatchet is an optional dependency (the ``hatchet`` extra): without it the functions raise one
line naming the install command. A user's mistake (a missing file, a bad regular expression,
a bad expression, an unknown column) is an :class:`AnalyzeError`, one line.
"""

from __future__ import annotations

import os
import re
import sys

from .. import _about
from .._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

__all__ = [
    "DEFAULT_METRIC",
    "FORMATS",
    "GRAPH_FORMATS",
    "MODES",
    "AnalyzeError",
    "add",
    "compare_groups",
    "dump",
    "embedded_analyze",
    "expand_inputs",
    "expression",
    "group",
    "is_run_folder",
    "load",
    "match",
    "metric_columns",
    "output_name",
    "parse_expression",
    "render",
    "search",
    "sort",
    "subtract",
    "unify",
]

#: ``--metric``'s default: the inclusive sum of every component (``sum.wall_clock (inc)``).
#: The original's ``"sum.*(.inc)$"`` was written for a fork whose columns ended in ``.inc``;
#: hatchet's reader (and timemory's own frames) end inclusive columns with ``" (inc)"``.
DEFAULT_METRIC = r"^sum\..+ \(inc\)$"

#: The output formats and the extension of their files.
FORMATS = {
    "tree": ".txt",
    "table": ".txt",
    "dot": ".dot",
    "flamegraph": ".flamegraph.txt",
    "markdown": ".md",
    "html": ".html",
    "markdown_grid": ".md",
}

#: The formats that draw the call graph (a sorted or grouped table has none).
GRAPH_FORMATS = ("tree", "dot", "flamegraph")

#: The analysis modes of ``-M/--mode``.
MODES = ("add", "subtract", "unify", "group")

#: The tokens of an ``--expression``.
EXPRESSION_TOKENS = ("x", "<", "<=", ">", ">=", "&&", "||")

_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class AnalyzeError(ValueError):
    """A problem the user can fix (a missing file, a bad regular expression or expression,
    an unknown column or component), in one line naming what was given and what is valid."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


# ------------------------------------------------------------------ optional packages
def _hatchet() -> Any:
    try:
        import hatchet
    except ImportError:
        raise _about.missing_package("timemory.analyze", "hatchet", "hatchet") from None
    return hatchet


def _is_graphframe(obj: Any) -> bool:
    return hasattr(obj, "graph") and hasattr(obj, "dataframe") and hasattr(obj, "exc_metrics")


def _each(data: Any, func: Callable[[Any], Any]) -> Any:
    """``func`` applied to ``data``, or to each element of a list of them (a list back)."""
    if isinstance(data, (list, tuple)):
        return [func(item) for item in data]
    return func(data)


def _compile(pattern: str, what: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as err:
        raise AnalyzeError(f"{what} {pattern!r} is not a valid regular expression: {err}") from None


# ------------------------------------------------------------------ loading
def is_run_folder(path: str) -> bool:
    """Whether ``path`` is the folder of one run of a run store (``runs/<id>``: its
    ``run.json`` manifest and one output folder per repeat)."""
    return os.path.isfile(os.path.join(path, "run.json")) and bool(_repeat_folders(path))


def _repeat_folders(path: str) -> list[str]:
    try:
        names = sorted(n for n in os.listdir(path) if n.startswith("repeat-"))
    except OSError:
        return []
    return [os.path.join(path, n) for n in names if os.path.isdir(os.path.join(path, n))]


def expand_inputs(paths: Iterable[str]) -> list[str]:
    """The inputs to load: a run folder of a store becomes its repeats' output folders, in
    order; anything else is kept. A path that does not exist is an :class:`AnalyzeError`."""
    out: list[str] = []
    for path in paths:
        if not os.path.exists(path):
            raise AnalyzeError(f"{path}: no such file or folder")
        out += _repeat_folders(path) if is_run_folder(path) else [path]
    return out


def _tree_files(path: str) -> list[str]:
    """The call-graph files a path stands for: a folder's ``*.tree.json``, a tree file, or the
    tree file beside a flat ``<label>.json`` (the flat entries hold no call graph)."""
    if os.path.isdir(path):
        try:
            names = sorted(n for n in os.listdir(path) if n.endswith(".tree.json"))
        except OSError as err:
            raise AnalyzeError(f"{path}: cannot be read: {err.strerror or err}") from None
        if not names:
            raise AnalyzeError(
                f"{path}: no call-graph files (*.tree.json) in this folder; they are written "
                "while tree_output is on (TIMEMORY_TREE_OUTPUT, the default)"
            )
        return [os.path.join(path, n) for n in names]
    if not os.path.exists(path):
        raise AnalyzeError(f"{path}: no such file or folder")
    if path.endswith(".json") and not path.endswith(".tree.json"):
        tree = path[: -len(".json")] + ".tree.json"
        if os.path.isfile(tree):
            return [tree]
    return [path]


def _read_document(path: str) -> dict[str, Any]:
    from .. import _documents

    try:
        doc = _documents.read_json(path)
    except OSError as err:
        raise AnalyzeError(f"{path}: cannot be read: {err.strerror or err}") from None
    except ValueError as err:  # DocumentError: one line naming the file and the place
        raise AnalyzeError(str(err)) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("timemory"), dict):
        raise AnalyzeError(f"{path}: not timemory JSON (no 'timemory' object at the top)")
    data = doc["timemory"]
    graphs = [k for k, v in data.items() if isinstance(v, dict) and ("graph" in v or "mpi" in v)]
    if not graphs:
        flat = any(isinstance(v, dict) and "ranks" in v for v in data.values())
        why = (
            "it holds the flat entries; read its <label>.tree.json (written while tree_output "
            "is on, the default)"
            if flat
            else "no component with a call graph in it"
        )
        raise AnalyzeError(f"{path}: no call graph: {why}")
    return {"timemory": {k: data[k] for k in graphs}}


def _select_list(select: Any) -> list[str] | None:
    if select is None or select == [] or select == "":
        return None
    names = select.split() if isinstance(select, str) else [str(s) for s in select]
    return [n.lower() for n in names] or None


def load(
    data: Any,
    select: Any = None,
    per_thread: bool = False,
    per_rank: bool = False,
    **kwargs: Any,
) -> Any:
    """A hatchet GraphFrame of ``data``: an output folder (every ``*.tree.json`` in it), a
    tree JSON file, a flat ``<label>.json`` with its tree file beside it, a dict as
    ``timemory.get(hierarchy=True)`` returns it, or an open file of tree JSON (a GraphFrame is
    returned as it is). ``select``:
    the components to keep (names, or one space-separated string: ``"wall_clock peak_rss"``);
    ``per_thread`` / ``per_rank`` keep threads' and ranks' nodes apart when filters squash the
    graph (hatchet's reader options). :class:`AnalyzeError` for a path that does not exist, a
    file that is not timemory's tree JSON, or a selection that matches no component."""
    hatchet = _hatchet()
    if _is_graphframe(data):
        return data
    name = "data"
    if isinstance(data, (str, os.PathLike)):
        name = os.fspath(data)
        doc: dict[str, Any] = {"timemory": {}}
        for path in _tree_files(name):
            doc["timemory"].update(_read_document(path)["timemory"])
    elif isinstance(data, dict):
        doc = data
    elif hasattr(data, "read"):
        import json

        name = getattr(data, "name", "stream")
        try:
            doc = json.loads(data.read())
        except ValueError as err:
            raise AnalyzeError(f"{name}: not valid JSON: {err}") from None
        if not isinstance(doc, dict):
            raise AnalyzeError(f"{name}: not timemory JSON (no 'timemory' object at the top)")
    else:
        raise AnalyzeError(
            f"cannot load a {type(data).__name__}: give a folder, a .tree.json file, a dict or "
            "an open file"
        )
    present = sorted(str(k).lower() for k in (doc.get("timemory") or {}))
    chosen = _select_list(select)
    if chosen is not None:
        unknown = [c for c in chosen if c not in present]
        if len(unknown) == len(chosen):
            raise AnalyzeError(
                f"{name}: --select {' '.join(chosen)} matches no component here; the "
                f"components: {', '.join(present) or 'none'}"
            )
    try:
        gf = hatchet.GraphFrame.from_timemory(
            doc, select=chosen, per_thread=per_thread, per_rank=per_rank, **kwargs
        )
    except Exception as err:  # noqa: BLE001 - the reader's failures name no file: say which
        raise AnalyzeError(
            f"{name}: hatchet could not read it ({type(err).__name__}: {err})"
        ) from None
    if gf is None or len(gf.dataframe) == 0:
        raise AnalyzeError(f"{name}: the call graph is empty")
    if "count" in gf.dataframe.columns and "count" not in gf.exc_metrics:
        # a metric to hatchet: the calls of the nodes a filter merges are summed, as are
        # those of add and subtract, instead of one node's count being kept
        gf.exc_metrics.append("count")
    gf.dataframe.attrs["source"] = name
    return gf


# ------------------------------------------------------------------ columns
def _columns_of(frame: Any) -> list[str]:
    if _is_graphframe(frame):
        return list(frame.exc_metrics) + list(frame.inc_metrics)
    import pandas

    return [
        str(c)
        for c in frame.columns
        if pandas.api.types.is_numeric_dtype(frame[c]) and c not in ("depth", "rank", "thread")
    ]


def metric_columns(frame: Any, metric: str = DEFAULT_METRIC) -> list[str]:
    """The metric columns of ``frame`` (a GraphFrame or DataFrame) that ``metric`` names:
    the column of that exact name, else every column the regular expression finds
    (``re.search``), those of the frame's default component (wall_clock when present) first.
    :class:`AnalyzeError` naming the columns when none matches."""
    columns = _columns_of(frame)
    if metric in columns:
        return [metric]
    prog = _compile(metric, "--metric")
    found = [c for c in columns if prog.search(c)]
    if not found:
        shown = [c for c in columns if c.startswith("sum.")] or columns
        raise AnalyzeError(
            f"--metric {metric!r} matches no metric column; the columns: {', '.join(shown)}"
            + (" (and min., max., sqr., mean., stddev. of each)" if shown != columns else "")
        )
    default = str(getattr(frame, "default_metric", "") or "")
    component = default.split(".", 1)[-1].replace(" (inc)", "")

    def rank(column: str) -> int:
        return 0 if column.split(".", 1)[-1].replace(" (inc)", "") == component else 1

    return sorted(found, key=rank)


def _metric(frame: Any, metric: str) -> str:
    return metric_columns(frame, metric)[0]


# ------------------------------------------------------------------ filters
def _field_text(frame: Any, field: str) -> Callable[[Any], str]:
    columns = list(frame.dataframe.columns) + list(frame.dataframe.index.names)
    if field not in columns:
        raise AnalyzeError(
            f"--field {field!r} is not a column; the columns: "
            + ", ".join(str(c) for c in frame.dataframe.columns if not _is_statistic(str(c)))
        )
    return lambda row: str(row[field])


def _is_statistic(column: str) -> bool:
    return column.split(".", 1)[0] in ("sum", "min", "max", "sqr", "mean", "stddev")


def _filter(frame: Any, keep: Callable[[Any], bool], what: str) -> Any:
    """``frame`` squashed to the rows ``keep`` accepts; :class:`AnalyzeError` when none is
    (hatchet has no empty GraphFrame)."""
    if not any(keep(row) for _, row in frame.dataframe.reset_index().iterrows()):
        source = frame.dataframe.attrs.get("source", "")
        raise AnalyzeError(f"{what} keeps no node" + (f" of {source}" if source else ""))
    # one process: hatchet's default forks a worker per CPU for a Python predicate
    result = frame.filter(keep, num_procs=1)
    result.dataframe.attrs.update(frame.dataframe.attrs)
    return result


def match(data: Any, pattern: str, field: str = "name") -> Any:
    """The nodes whose ``field`` (default the name) the regular expression ``pattern`` matches
    in full (``re.fullmatch``); the graph is squashed to them. A GraphFrame or a list."""
    prog = _compile(pattern, "--match")

    def one(frame: Any) -> Any:
        text = _field_text(frame, field)
        return _filter(
            frame, lambda row: prog.fullmatch(text(row)) is not None, f"--match {pattern!r}"
        )

    return _each(data, one)


def search(data: Any, pattern: str, field: str = "name") -> Any:
    """The nodes whose ``field`` (default the name) contains a match of ``pattern``
    (``re.search``); the graph is squashed to them. A GraphFrame or a list."""
    prog = _compile(pattern, "--search")

    def one(frame: Any) -> Any:
        text = _field_text(frame, field)
        return _filter(
            frame, lambda row: prog.search(text(row)) is not None, f"--search {pattern!r}"
        )

    return _each(data, one)


_TOKEN = re.compile(r"\s*(<=|>=|&&|\|\||<|>|[&|]+|[^\s<>&|]+)")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def parse_expression(math_expr: str) -> Callable[[float], bool]:
    """The predicate of an expression over ``x``: comparisons (``x > 1e3``, ``5 >= x``) of
    ``x`` and numbers with ``< <= > >=``, joined by ``&&`` and ``||``. As in the original,
    ``&&`` separates the terms that must all hold and ``||`` the alternatives inside a term:
    ``x > 1 && x < 5 || x > 10`` is ``x > 1 and (x < 5 or x > 10)``. Nothing is evaluated as
    Python. :class:`AnalyzeError` naming the valid tokens otherwise."""
    valid = " ".join(EXPRESSION_TOKENS)
    text = str(math_expr or "")

    def bad(why: str) -> AnalyzeError:
        return AnalyzeError(
            f"--expression {text!r}: {why}; use x, numbers and {valid} (e.g. 'x > 1e3 && x < 1e6')"
        )

    tokens = _TOKEN.findall(text)
    if not tokens:
        raise bad("empty")
    for token in tokens:
        if token not in EXPRESSION_TOKENS:
            try:
                float(token)
            except ValueError:
                raise bad(f"{token!r} is not valid") from None

    def operand(token: str) -> float | None:
        if token == "x":
            return None
        try:
            value = float(token)
        except ValueError:
            raise bad(f"{token!r} is not valid") from None
        if value != value:  # NaN compares false with everything
            raise bad(f"{token!r} is not a number to compare with")
        return value

    def comparison(part: list[str]) -> Callable[[float], bool]:
        if len(part) != 3 or part[1] not in _OPS:
            raise bad(f"{' '.join(part) or 'nothing'!r} is not a comparison of x with a number")
        left, right = operand(part[0]), operand(part[2])
        if (left is None) == (right is None):
            raise bad(f"{' '.join(part)!r} must compare x with a number")
        op = _OPS[part[1]]
        number = right if left is None else left
        assert number is not None  # exactly one side is x
        if left is None:
            return lambda x: op(x, number)
        return lambda x: op(number, x)

    def split(items: list[str], sep: str) -> list[list[str]]:
        parts: list[list[str]] = [[]]
        for item in items:
            if item == sep:
                parts.append([])
            else:
                parts[-1].append(item)
        return parts

    terms = [[comparison(c) for c in split(t, "||")] for t in split(tokens, "&&")]
    return lambda x: all(any(c(x) for c in alts) for alts in terms)


def expression(data: Any, math_expr: str, metric: str = DEFAULT_METRIC) -> Any:
    """The nodes whose ``metric`` value ``x`` satisfies ``math_expr`` (see
    :func:`parse_expression`: ``"x > 1.0e3 && x < 1e6"``); the graph is squashed to them.
    A GraphFrame or a list."""
    keep = parse_expression(math_expr)

    def one(frame: Any) -> Any:
        column = _metric(frame, metric)
        return _filter(frame, lambda row: keep(float(row[column])), f"--expression {math_expr!r}")

    return _each(data, one)


# ------------------------------------------------------------------ tables
def _table(frame: Any, metric: str) -> Any:
    """The rows of a GraphFrame as a flat DataFrame in the graph's order: ``name``, ``depth``
    (rank and thread when the frame has them), ``count`` and the ``metric`` columns."""
    columns = metric_columns(frame, metric)
    df = frame.dataframe.reset_index()
    nodes = df["node"]
    levels = [c for c in ("rank", "thread") if c in frame.dataframe.index.names]
    out = df[levels].copy()
    out.insert(0, "name", df["name"].astype(str).values)
    out.insert(1, "depth", [int(getattr(n, "_depth", 0)) for n in nodes])
    if "count" in df.columns:
        out["count"] = df["count"].values
    for column in columns:
        out[column] = df[column].values
    out.attrs["metrics"] = columns
    out.attrs["source"] = frame.dataframe.attrs.get("source", "")
    return out


def sort(data: Any, metric: str = DEFAULT_METRIC, ascending: bool = False) -> Any:
    """The rows of each GraphFrame as a table (see ``-f table``) sorted by ``metric`` (the
    first column it matches), largest first unless ``ascending``. A DataFrame or a list."""

    def one(frame: Any) -> Any:
        table = _table(frame, metric) if _is_graphframe(frame) else frame
        column = _metric(table, metric)
        return table.sort_values(by=[column], ascending=ascending, kind="stable")

    return _each(data, one)


def group(
    data: Any, metric: str = DEFAULT_METRIC, field: str = "name", ascending: bool = False
) -> Any:
    """A flat profile: the rows of each GraphFrame grouped by ``field`` (default the name)
    with their counts and metric columns summed, sorted by ``metric`` (largest first unless
    ``ascending``). The exclusive sums add up to the program's total; an inclusive sum counts
    a name nested in itself once per level. A DataFrame or a list."""

    def one(frame: Any) -> Any:
        if not _is_graphframe(frame):
            table = frame
        else:
            table = frame.dataframe.reset_index()
            if field not in table.columns:
                raise AnalyzeError(
                    f"--group {field!r} is not a column; the columns: "
                    + ", ".join(str(c) for c in table.columns if c != "node")
                )
        columns = metric_columns(frame, metric)
        every = [c for c in _columns_of(frame) if c in table.columns and c != "count"]
        keep = (["count"] if "count" in table.columns else []) + every
        grouped = table.groupby(field, sort=False)[keep].sum().reset_index()
        grouped = grouped[[field] + (["count"] if "count" in keep else []) + columns]
        grouped = grouped.sort_values(by=[columns[0]], ascending=ascending, kind="stable")
        grouped.attrs["metrics"] = columns
        return grouped

    return _each(data, one)


# ------------------------------------------------------------------ combining
def _frames(data: Any) -> list[Any]:
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    return [item if _is_graphframe(item) else load(item) for item in items]


def add(data: Any) -> Any:
    """The per-node sum of two or more GraphFrames (their graphs unified: a node of either
    is in the result)."""
    frames = _frames(data)
    result = frames[0].deepcopy()
    for frame in frames[1:]:
        result = result + frame
    return result


def _is_group(item: Any) -> bool:
    if isinstance(item, (list, tuple)):
        return True
    if isinstance(item, (str, os.PathLike)):
        return is_run_folder(os.fspath(item))
    return type(item).__name__ in ("Run", "Table")


def subtract(data: Any, **compare_options: Any) -> Any:
    """The difference of inputs.

    * Two or more GraphFrames (or paths): hatchet's per-node point difference of the first
      and the others (``a - b - c``), graphs unified.
    * Two *groups*: ``[side_a, side_b]`` where a side is a list of inputs (output folders,
      tree files, run folders of a store, runs or tables), a run folder (its repeats), a
      :class:`timemory.runs.Run` or ``Table``: :func:`timemory.runs.compare` of b (the
      reference) with a, so a verdict "slower" means a is slower than b. ``compare_options``
      go to it (``min_effect``, ``alpha``, ``metric``, ``components``). Returns the
      Comparison."""
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    if len(items) == 2 and (_is_group(items[0]) or _is_group(items[1])):
        return compare_groups(items[0], items[1], **compare_options)
    if compare_options:
        raise AnalyzeError(
            "comparison options apply to groups of runs only: give two sides, each a list of "
            "inputs or a run folder"
        )
    frames = _frames(items)
    if len(frames) < 2:
        raise AnalyzeError("subtract needs two inputs or more (the first less the others)")
    result = frames[0].deepcopy()
    for frame in frames[1:]:
        result = result - frame
    return result


def unify(data: Any) -> Any:
    """The first GraphFrame on the union of every input's graph (a node of any input is in
    it, with the first's values, zero where the first lacks it)."""
    frames = _frames(data)
    result = frames[0].deepcopy()
    for frame in frames[1:]:
        result.unify(frame.copy())
    return result


def _side(item: Any) -> Any:
    """One side of a comparison as :func:`timemory.runs.compare` takes it: output folders, run
    folders, runs and tables as they are (several are pooled), a tree file as its call graph
    alone."""
    items = list(item) if isinstance(item, (list, tuple)) else [item]
    if not items:
        raise AnalyzeError("a side of the comparison is empty")
    out = []
    for one in items:
        if isinstance(one, (str, os.PathLike)):
            path = os.fspath(one)
            if not os.path.exists(path):
                raise AnalyzeError(f"{path}: no such file or folder")
            if os.path.isfile(path):
                from ._diff import graph_of_files

                one = graph_of_files(_tree_files(path))
            else:
                one = path
        out.append(one)
    return out if len(out) > 1 else out[0]


def compare_groups(a: Any, b: Any, **options: Any) -> Any:
    """:func:`timemory.runs.compare` of side ``b`` (the reference) with side ``a``: the
    verdicts say whether ``a`` is slower or faster than ``b``, node by node."""
    from ..runs import RunsError, compare

    try:
        return compare(_side(b), _side(a), **options)
    except RunsError as err:
        raise AnalyzeError(str(err)) from None


# ------------------------------------------------------------------ output
def _number(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return ""
        return f"{value:.6g}"
    return str(value)


def _rows(frame: Any) -> tuple[list[str], list[list[str]]]:
    head = [str(c) for c in frame.columns]
    rows = [[_number(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    return head, rows


def _markdown_table(frame: Any, grid: bool = False) -> str:
    """A DataFrame as a Markdown pipe table (``grid``: a grid table, as pandas'
    ``to_markdown(tablefmt="grid")`` draws it), without tabulate."""
    head, rows = _rows(frame)
    # a label such as "<module app.py>" would be taken for an HTML tag
    escape = str.maketrans({"|": "\\|", "<": "\\<", ">": "\\>"})
    cells = [[c.translate(escape) for c in row] for row in [head] + rows]
    width = [max(len(row[i]) for row in cells) for i in range(len(head))]
    numeric = [
        all(_is_number(row[i]) for row in cells[1:]) and bool(rows) for i in range(len(head))
    ]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, width, numeric)]
        return "| " + " | ".join(parts) + " |"

    if grid:
        rule = "+" + "+".join("-" * (w + 2) for w in width) + "+"
        double = rule.replace("-", "=")
        out = [rule, line(cells[0]), double]
        for row in cells[1:]:
            out += [line(row), rule]
        if not rows:
            out.append(rule)
        return "\n".join(out)
    marks = [("-" * (w + 1) + ":") if n else (":" + "-" * (w + 1)) for w, n in zip(width, numeric)]
    return "\n".join([line(cells[0]), "|" + "|".join(marks) + "|"] + [line(r) for r in cells[1:]])


def _text_table(frame: Any) -> str:
    """A DataFrame as aligned text columns: text left-aligned, numbers right-aligned."""
    head, rows = _rows(frame)
    numeric = [all(_is_number(row[i]) for row in rows) and bool(rows) for i in range(len(head))]
    width = [max([len(head[i])] + [len(row[i]) for row in rows]) for i in range(len(head))]

    def line(row: list[str]) -> str:
        parts = [c.rjust(w) if n else c.ljust(w) for c, w, n in zip(row, width, numeric)]
        return "  ".join(parts).rstrip()

    return "\n".join(line(row) for row in [head] + rows)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text == ""
    return True


def _folded(frame: Any, metric: str) -> str:
    """The folded stacks of a GraphFrame (``root;child;leaf value`` per node), for
    flamegraph.pl, inferno or speedscope. A flame graph adds each frame's children to it, so
    the value is the node's own part: the exclusive column of an inclusive ``metric``."""
    column = _metric(frame, metric)
    if column.endswith(" (inc)") and column[: -len(" (inc)")] in frame.dataframe.columns:
        column = column[: -len(" (inc)")]
    df = frame.dataframe
    values = df[column].groupby(level=0).sum() if df.index.nlevels > 1 else df[column]
    names = df["name"].groupby(level=0).first() if df.index.nlevels > 1 else df["name"]
    lines = []
    for root in frame.graph.roots:
        for node in root.traverse():
            value = float(values.get(node, 0.0))
            if not value > 0.0:
                continue
            path = ";".join(
                str(names.get(n, n.frame.get("name"))).replace(";", ",") for n in node.path()
            )
            lines.append(f"{path} {value:.9f}".rstrip("0").rstrip("."))
    return "\n".join(lines)


def _tree(frame: Any, metric: str) -> str:
    """hatchet's tree of the ``metric`` columns, under a line naming them, without hatchet's
    banner, colours (a file or pipe would get the escape codes) or the file of each node when
    no node has one."""
    columns = metric_columns(frame, metric)
    files = frame.dataframe["file"] if "file" in frame.dataframe.columns else ()
    context = "file" if any(str(f) not in ("<unknown>", "", "nan") for f in files) else None
    text = frame.tree(
        metric_column=columns if len(columns) > 1 else columns[0],
        context_column=context,
        render_header=False,
    )
    return f"{' | '.join(columns)}\n" + _ANSI.sub("", str(text)).rstrip("\n")


def _is_comparison(obj: Any) -> bool:
    return hasattr(obj, "rows") and hasattr(obj, "text") and hasattr(obj, "to_json")


def _comparison_frame(comparison: Any) -> Any:
    import pandas

    fields = ["path", "component", "metric", "n_a", "n_b", "ratio", "low", "high", "p", "q"]
    fields.append("verdict")
    rows = []
    for row in comparison.rows:
        values = {f: getattr(row, f, None) for f in fields}
        values["path"] = "/".join(values["path"] or ())
        rows.append(values)
    return pandas.DataFrame(rows, columns=fields)


def render(obj: Any, metric: str, dtype: str) -> str:
    """The text of ``obj`` (a GraphFrame, a DataFrame from sort/group, a Comparison) in the
    format ``dtype`` (:data:`FORMATS`)."""
    if dtype not in FORMATS:
        raise AnalyzeError(f"format {dtype!r}: the formats: {', '.join(FORMATS)}")
    if _is_comparison(obj):
        if dtype in ("tree", "table"):
            return str(obj.text()).rstrip("\n")
        if dtype not in ("markdown", "markdown_grid", "html"):
            raise AnalyzeError(
                f"-f {dtype}: a comparison of groups has no call graph to draw; use -f tree, "
                "table, markdown, html or markdown_grid"
            )
        obj = _comparison_frame(obj)
    if _is_graphframe(obj):
        if dtype == "tree":
            return _tree(obj, metric)
        if dtype == "dot":
            return str(obj.to_dot(metric=_metric(obj, metric))).rstrip("\n")
        if dtype == "flamegraph":
            return _folded(obj, metric)
        obj = _table(obj, metric)
    elif dtype in GRAPH_FORMATS:
        raise AnalyzeError(
            f"-f {dtype}: a sorted or grouped table has no call graph; use -f table, markdown, "
            "html or markdown_grid (or leave out -s/-g)"
        )
    if dtype == "table":
        return _text_table(obj)
    if dtype == "html":
        return str(obj.to_html(index=False)).rstrip("\n")
    return _markdown_table(obj, grid=dtype == "markdown_grid")


def output_name(file: str, dtype: str, formats: Sequence[str] = ()) -> str:
    """The file of format ``dtype`` for the name ``file``: its extension (``.txt``,
    ``.dot``...) replaces one of the known extensions or is appended; when another of the
    ``formats`` written has the same extension (tree and table are both ``.txt``), the
    format's name goes before it (``analysis.tree.txt``, ``analysis.table.txt``) so that
    neither file replaces the other."""
    ext = FORMATS[dtype]
    if any(FORMATS[f] == ext for f in formats if f != dtype):
        ext = f".{dtype}{ext}"
    if file.endswith(ext):
        return file
    known = {e for e in FORMATS.values()} | {".json"}
    for old in sorted(known, key=len, reverse=True):
        if file.endswith(old) and len(file) > len(old):
            return file[: -len(old)] + ext
    return file + ext


def _write_file(path: str, text: str) -> str:
    from .._files import atomic_write

    try:
        atomic_write(path, text if text.endswith("\n") else text + "\n")
    except OSError as err:
        raise AnalyzeError(f"{path}: cannot be written: {err.strerror or err}") from None
    return path


def _render_image(path: str, command: list[str], stdin_path: str) -> str | None:
    """Run a converter (graphviz ``dot``, ``flamegraph.pl``) on the file just written; its
    standard output becomes ``path``. None when the converter is missing or fails (said on
    stderr): the text file is there either way."""
    import shutil
    import subprocess

    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run([*command, stdin_path], capture_output=True, timeout=600, check=False)
    except (OSError, subprocess.SubprocessError) as err:
        echo(f"[analyze]> {command[0]} failed: {err}", sys.stderr)
        return None
    if done.returncode != 0 or not done.stdout:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        echo(f"[analyze]> {command[0]} failed: {why[-1] if why else done.returncode}", sys.stderr)
        return None
    from .._files import atomic_write

    try:
        atomic_write(path, done.stdout)
    except OSError as err:
        echo(f"[analyze]> {path}: cannot be written: {err.strerror or err}", sys.stderr)
        return None
    return path


def _dart(path: str) -> None:
    ext = os.path.splitext(path)[1].lstrip(".")
    kind = f"image/{ext}" if ext in ("png", "svg") else "text/string"
    name = os.path.basename(path)
    echo(f'<DartMeasurementFile name="{name}" type="{kind}">{path}</DartMeasurementFile>')


def _titled(obj: Any, text: str, many: bool) -> str:
    source = ""
    if many:
        attrs = getattr(getattr(obj, "dataframe", obj), "attrs", {}) or {}
        source = str(attrs.get("source") or "")
    return f"# {source}\n{text}" if source else text


def dump(
    data: Any,
    metric: str = DEFAULT_METRIC,
    dtype: str = "tree",
    file: Any = None,
    echo_dart: bool = False,
    formats: Sequence[str] = (),
) -> list[str]:
    """Write ``data`` (a GraphFrame, a DataFrame from sort/group, a Comparison, or a list of
    them) in the format ``dtype``: to stderr (where everything timemory prints goes) when
    ``file`` is None, to an open file, or to the file ``file`` with the format's extension
    (:func:`output_name`; ``formats``: the other formats written to the same name), or, for a
    list, to one file per element when ``file`` is a list of as many names. dot files also
    get a ``.dot.png`` when graphviz's ``dot`` is installed, flame graphs an ``.svg`` when
    ``flamegraph.pl`` is. ``echo_dart`` prints a CDash ``<DartMeasurementFile>`` tag per file.
    Returns the files written."""
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    many = len(items) > 1
    texts = [render(item, metric, dtype) for item in items]
    written: list[str] = []
    if file is None or hasattr(file, "write"):
        stream = sys.stderr if file is None else file
        for item, text in zip(items, texts):
            stream.write(_titled(item, text, many) + "\n")
        stream.flush()
        return written
    if isinstance(file, (list, tuple)):
        names = [os.fspath(f) for f in file]
        if len(names) == 1:
            names = names * len(items) if not many else names
        if len(names) != len(items) and len(names) != 1:
            raise AnalyzeError(
                f"-o: {len(names)} output names for {len(items)} results; give one name, or one "
                "per input"
            )
    else:
        names = [os.fspath(file)]
    if len(names) == 1:
        groups = [(names[0], [_titled(i, t, many) for i, t in zip(items, texts)])]
    else:
        groups = [(n, [t]) for n, t in zip(names, texts)]
    for name, parts in groups:
        path = output_name(name, dtype, formats)  # missing folders are made by the writer
        written.append(_write_file(path, "\n\n".join(parts)))
        echo(f"[analyze]|0> Outputting '{path}'...")
        image = None
        if dtype == "dot":
            image = _render_image(path[: -len(".dot")] + ".dot.png", ["dot", "-Tpng"], path)
        elif dtype == "flamegraph":
            stem = path[: -len(".txt")] if path.endswith(".txt") else path
            image = _render_image(stem + ".svg", ["flamegraph.pl", "--hash"], path)
        if image:
            echo(f"[analyze]|0> Outputting '{image}'...")
            written.append(image)
    if echo_dart:
        for path in written:
            _dart(path)
    return written


# ------------------------------------------------------------------ the command line
def _verbosity(value: Any) -> int:
    if value is None:
        value = os.environ.get("TIMEMORY_VERBOSE", "0")
    try:
        return int(value)
    except (TypeError, ValueError):
        from .._text import parse_bool

        try:
            return int(parse_bool(value))
        except (TypeError, ValueError):
            return 0


def _this_rank() -> int:
    mpi = sys.modules.get("mpi4py.MPI")  # never imported here: that would initialise MPI
    if mpi is not None:
        try:
            return int(mpi.COMM_WORLD.Get_rank())
        except Exception:  # noqa: BLE001 - MPI finalised or not initialised: rank 0
            return 0
    from .. import _processes

    return _processes.rank()


def embedded_analyze(
    args: Sequence[str] | None = None,
    data: Sequence[Any] = (),
    call_exit: bool = False,
    verbose: Any = None,
    ranks: Sequence[int] = (),
) -> int:
    """Run the ``timemory-analyze`` command line ``args`` (default ``sys.argv[1:]``) in this
    process, on the files it names and the ``data`` given (dicts as
    ``timemory.get(hierarchy=True)`` returns them, or GraphFrames). ``ranks``: the MPI ranks
    that analyse (the others return 0 at once; MPI is never initialised here). ``verbose``
    (default ``TIMEMORY_VERBOSE``): 1 or more lists each input's metric columns.

    Returns the exit status: 0; 2 for a usage error or bad input (one line on stderr, no
    traceback); 1 when hatchet is missing. With ``call_exit`` (or ``--exit-on-failure``) a
    failure exits the process with that status instead."""
    from .__main__ import run

    if ranks and _this_rank() not in set(int(r) for r in ranks):
        return 0
    argv = list(sys.argv[1:] if args is None else args)
    status, exit_on_failure = run(argv, list(data), _verbosity(verbose))
    if status and (call_exit or exit_on_failure):
        sys.exit(status)
    return status
