"""Reading the flat JSON that timemory writes (``<label>.json``) into what the
plots draw: per component, its sub-values (one for most components, two or more for
``current_peak_rss``, ``read_bytes``...) with their units, and per rank the call-graph nodes in
pre-order with their depth, thread, count and values.

Nothing here needs matplotlib, so a bad file is reported before matplotlib is imported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

from timemory import _documents
from timemory._documents import MISSING

__all__ = ["ComponentData", "InputError", "Node", "expand_inputs", "read_data", "read_file"]


class InputError(_documents.DocumentError):
    """A file or dict that is not timemory flat JSON (a ``ValueError``); the message names
    the file, the place in it and the problem in one line:
    ``wall.json: timemory.wall_clock.ranks[0].graph[3].entry: expected an object, found a
    list``."""


class Node(NamedTuple):
    """One call-graph entry of a rank."""

    label: str  # the region's label, without the ">>> " and "|_" decoration
    depth: int  # 0 at the top level
    count: int  # type: ignore[assignment]  # laps; a public field name shadowing tuple.count
    values: tuple[float, ...]  # repr_data, one per sub-value, in display units
    thread: int | None  # the thread id when threads were not collapsed
    rank: int | None  # the rank in the prefix when processes were not collapsed
    origin: str | None = None  # the input it came from, in a chart of several inputs
    # per sub-value (mean, min, max) of one lap, from the entry's statistics, when it has them
    stats: tuple[tuple[float, float, float], ...] | None = None


class ComponentData(NamedTuple):
    """One component of a flat JSON file."""

    key: str  # "wall_clock"
    types: tuple[str, ...]  # "wall"; ("start peak rss", "stop peak rss") for a pair
    units: tuple[str, ...]  # one per type: "sec", "MB"...
    description: str
    processes: int
    threads: int  # threads per process
    ranks: tuple[tuple[int, tuple[Node, ...]], ...]  # (rank, nodes in pre-order)
    source: str  # the file (or "<data>") it came from

    @property
    def label(self) -> str:
        """The short label the output files are named after (``wall``, ``peak_rss``)."""
        return self.types[0] if len(self.types) == 1 else self.key


# "|<rank>|<tid>>>> ", "|<tid>>>> " or ">>> ", then "  " * (depth - 1) + "|_" below depth 0
_PREFIX = re.compile(r"^(?:\|(\d+))?(?:\|(\d+))?>>> ")
_INDENT = re.compile(r"^\s*\|_")


def _split_prefix(prefix: str) -> tuple[str, int | None, int | None]:
    """``(label, thread, rank)`` of a flat entry's prefix."""
    match = _PREFIX.match(prefix)
    thread = rank = None
    if match:
        first, second = match.group(1), match.group(2)
        if second is not None:  # |rank|tid
            rank, thread = int(first), int(second)
        elif first is not None:
            thread = int(first)
        prefix = prefix[match.end() :]
    prefix = _INDENT.sub("", prefix, count=1)
    # labels of traced lines pad the source text to a column: keep one space
    return " ".join(prefix.split()), thread, rank


def _as_list(value: Any) -> list[Any]:
    """A scalar, a cereal pair ``{"first", "second"}`` or an array, as a list."""
    if isinstance(value, dict) and "first" in value:
        return [value["first"], value.get("second")]
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"expected a number within the range of a double, got {value}") from None


# The values a chart can draw: beyond, the axes' arithmetic overflows (matplotlib fails on a
# linear axis from -1e308 to 1e308 and on a log axis down to 5e-324). No measurement comes
# near these bounds.
_LARGEST = 1e100
_SMALLEST = 1e-100
_DRAWABLE = "a number from -1e100 to 1e100, 0 or not closer to 0 than 1e-100"


def _drawable_numbers(value: Any, where: Any) -> list[float]:
    """The values a chart draws: a number, a list of numbers or a pair, within what a chart
    can draw."""
    numbers = _NUMBERS(value, where)
    for i, number in enumerate(numbers):
        size = abs(number)
        if not (size <= _LARGEST and (size >= _SMALLEST or size == 0)):  # NaN fails too
            _documents.fail(where if len(numbers) == 1 else (where, i), _DRAWABLE, number)
    return numbers


_NUMBERS = _documents.as_numbers(64)
_VALUES = _drawable_numbers
setattr(_VALUES, "expected", "a number or a list of numbers")  # noqa: B010
_COUNT = _documents.as_integer()
_DEPTH = _documents.as_integer(0, 2**31 - 1)


_TIMEM_TOOL = (
    "this looks like the JSON of the timem tool, which is not read here; "
    "plot timemory's flat JSON (<label>.json) instead"
)


def _stats(stats: Any, width: int) -> tuple[tuple[float, float, float], ...] | None:
    """``(mean, min, max)`` per sub-value of an entry's ``stats``; ``None`` when they are
    missing or do not fit (statistics are optional: a chart does not need them)."""
    try:
        columns = [[_number(v) for v in _as_list(stats[k])] for k in ("mean", "min", "max")]
    except (KeyError, TypeError, ValueError):
        return None
    if any(len(c) != width for c in columns):
        return None
    return tuple(zip(*columns))


def _component(key: str, body: Any, where: Any) -> ComponentData:
    """The component ``key`` of a flat JSON document: ``body`` at ``where``, the place
    ``(document, "timemory")``."""
    d = _documents
    source = d.document_name(where)
    at = (where, key)
    if key == "timem":
        raise InputError(f"{source}: {_TIMEM_TOOL}")
    if key == "line_profile":
        raise InputError(
            f"{source}: this is a line profile (<metric>.lines.json), which has no call graph "
            "to plot; its table is the <metric>.lines.txt beside it"
        )
    if not isinstance(body, dict) or "ranks" not in body:
        if isinstance(body, dict) and ("graph" in body or "mpi" in body or "upcxx" in body):
            raise InputError(
                f"{source}: {key!r} is tree JSON (<label>.tree.json); "
                "plot the flat <label>.json written beside it"
            )
        d.as_object(body, at)
        raise InputError(f"{d.location(at)}: no 'ranks' list (not timemory flat JSON)")
    try:
        types = tuple(s.strip() for s in _strings(body.get("type", key), (at, "type")))
        if not types:
            d.fail((at, "type"), "expected at least one type name")
        units = [u.strip() for u in _strings(body.get("unit_repr", ""), (at, "unit_repr"))]
        units += [""] * (len(types) - len(units))
        description = body.get("description", "")
        if isinstance(description, list):
            description = description[0] if description else ""
        description = d.as_string(description, (at, "description"))
        # the processes whose data the file holds: a job's data merged into one list count
        # every process in process_count; num_ranks counts the lists, each one process at least
        processes = max(
            d.member(body, "process_count", at, _COUNT, 0),
            d.member(body, "num_ranks", at, _COUNT, 0),
            1,
        )
        threads = d.member(body, "concurrency", at, _COUNT, 0)
        threads = threads or d.member(body, "thread_count", at, _COUNT, 0) or 1
        ranks = []
        at_ranks = (at, "ranks")
        for index, rank in enumerate(d.as_list(body["ranks"], at_ranks)):
            at_rank = (at_ranks, index)
            rank = d.as_object(rank, at_rank)
            nodes = []
            at_graph = (at_rank, "graph")
            for i, entry in enumerate(d.member(rank, "graph", at_rank, d.as_list)):
                at_entry = (at_graph, i)
                entry = d.as_object(entry, at_entry)
                prefix = d.member(entry, "prefix", at_entry, d.as_string)
                label, thread, prefix_rank = _split_prefix(prefix)
                data = d.member(entry, "entry", at_entry, d.as_object)
                at_data = (at_entry, "entry")
                values = tuple(d.member(data, "repr_data", at_data, _VALUES))
                if len(values) != len(types):
                    d.fail(
                        (at_data, "repr_data"),
                        f"{len(values)} values for the {len(types)} types "
                        f"({', '.join(types)}) of {key!r}",
                    )
                stats = entry.get("stats")
                count = d.member(data, "laps", at_data, _COUNT, MISSING)
                if count is MISSING:
                    count = _stats_count(stats)
                depth = d.member(entry, "depth", at_entry, _DEPTH)
                stats = _stats(stats, len(values))
                nodes.append(Node(label, depth, count, values, thread, prefix_rank, None, stats))
            number = d.member(rank, "rank", at_rank, _COUNT, index)
            ranks.append((number, tuple(nodes)))
    except _documents.DocumentError as err:
        raise InputError(str(err)) from None
    return ComponentData(
        key,
        types,
        tuple(units[: len(types)]),
        description,
        processes,
        threads,
        tuple(ranks),
        source,
    )


def _strings(value: Any, where: Any) -> list[str]:
    """A string, a list of strings or a pair of them (``type``, ``unit_repr``)."""
    items = _as_list(value)
    return [
        _documents.as_string(v, where if len(items) == 1 else (where, i))
        for i, v in enumerate(items)
    ]


def _stats_count(stats: Any) -> int:
    count = stats.get("count", 0) if isinstance(stats, dict) else 0
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 0


def read_data(data: Any, source: str = "<data>") -> list[ComponentData]:
    """The components of a flat JSON document (``{"timemory": {<key>: {...}}}``), as
    ``timemory.get()`` returns it or a ``<label>.json`` file holds it; :class:`InputError`
    (a ``ValueError``) names ``source``, the place in the document and what is wrong."""
    if isinstance(data, dict) and "timem" in data and "timemory" not in data:
        raise InputError(f"{source}: {_TIMEM_TOOL}")
    if isinstance(data, dict) and "traceEvents" in data:
        raise InputError(f"{source}: this is a flame graph (Chrome trace), not flat timemory JSON")
    if not isinstance(data, dict) or not isinstance(data.get("timemory"), dict):
        raise InputError(f"{source}: not timemory output (no top-level 'timemory' object)")
    body = data["timemory"]
    kinds = {"metadata": "metadata.json", "functions": "functions.json"}
    for kind, name in kinds.items():
        if kind in body and len(body) == 1:
            raise InputError(f"{source}: this is timemory's {name}, which has no measurements")
    where = (source, "timemory")
    components = [_component(str(key), value, where) for key, value in body.items()]
    if not components:
        raise InputError(f"{source}: no component data in it (was anything recorded?)")
    return components


def read_file(path: str) -> list[ComponentData]:
    """The components of a flat JSON file; :class:`InputError` names what is wrong."""
    try:
        data = _documents.read_json(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except OSError as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise InputError(f"{path}: cannot read it ({reason})") from None
    except _documents.DocumentError as err:
        raise InputError(str(err)) from None
    return read_data(data, path)


# files timemory writes beside the flat JSON, which have no bars to draw
_NOT_FLAT = (".tree.json", ".flamegraph.json", ".lines.json", "metadata.json", "functions.json")


def expand_inputs(paths: Sequence[str]) -> Iterator[str]:
    """The files to plot: files as given, and for a folder (an output folder) the flat JSON
    files in it, sorted."""
    for path in paths:
        if os.path.isdir(path):
            names = sorted(
                n for n in os.listdir(path) if n.endswith(".json") and not n.endswith(_NOT_FLAT)
            )
            if not names:
                raise InputError(f"{path}: no flat timemory JSON files (<label>.json) in it")
            yield from (os.path.join(path, n) for n in names)
        else:
            yield path
