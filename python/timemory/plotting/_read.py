"""Reading the flat JSON that timemory writes (``<label>.json``) into what the
plots draw: per component, its sub-values (one for most components, two or more for
``current_peak_rss``, ``read_bytes``...) with their units, and per rank the call-graph nodes in
pre-order with their depth, thread, count and values.

Nothing here needs matplotlib, so a bad file is reported before matplotlib is imported.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

__all__ = ["ComponentData", "InputError", "Node", "expand_inputs", "read_data", "read_file"]


class InputError(ValueError):
    """A file or dict that is not timemory flat JSON; the message names the file and the
    problem in one line."""


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
    return float(value)


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


def _component(key: str, body: Any, source: str) -> ComponentData:
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
        raise InputError(f"{source}: {key!r} has no 'ranks' list (not timemory flat JSON)")
    try:
        types = tuple(str(t).strip() for t in _as_list(body.get("type", key)))
        units = [str(u).strip() for u in _as_list(body.get("unit_repr", ""))]
        units += [""] * (len(types) - len(units))
        description = body.get("description", "")
        if isinstance(description, list):
            description = description[0] if description else ""
        processes = int(body.get("num_ranks") or body.get("process_count") or 1)
        threads = int(body.get("concurrency") or body.get("thread_count") or 1)
        ranks = []
        for index, rank in enumerate(body["ranks"]):
            nodes = []
            for entry in rank["graph"]:
                label, thread, prefix_rank = _split_prefix(str(entry["prefix"]))
                data = entry["entry"]
                values = tuple(_number(v) for v in _as_list(data["repr_data"]))
                if len(values) != len(types):
                    raise ValueError(
                        f"{len(values)} values for {len(types)} types in entry {label!r}"
                    )
                count = int(data.get("laps", entry.get("stats", {}).get("count", 0)))
                stats = _stats(entry.get("stats"), len(values))
                depth = int(entry["depth"])
                nodes.append(Node(label, depth, count, values, thread, prefix_rank, None, stats))
            ranks.append((int(rank.get("rank", index)), tuple(nodes)))
    except InputError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        what = f"missing key {err}" if isinstance(err, KeyError) else str(err)
        raise InputError(f"{source}: {key!r} is malformed ({what})") from None
    return ComponentData(
        key,
        types,
        tuple(units[: len(types)]),
        str(description),
        processes,
        threads,
        tuple(ranks),
        source,
    )


def read_data(data: Any, source: str = "<data>") -> list[ComponentData]:
    """The components of a flat JSON document (``{"timemory": {<key>: {...}}}``), as
    ``timemory.get()`` returns it or a ``<label>.json`` file holds it."""
    if isinstance(data, dict) and "timem" in data and "timemory" not in data:
        raise InputError(f"{source}: {_TIMEM_TOOL}")
    if not isinstance(data, dict) or not isinstance(data.get("timemory"), dict):
        raise InputError(f"{source}: not timemory output (no top-level 'timemory' object)")
    body = data["timemory"]
    kinds = {"metadata": "metadata.json", "functions": "functions.json"}
    for kind, name in kinds.items():
        if kind in body and len(body) == 1:
            raise InputError(f"{source}: this is timemory's {name}, which has no measurements")
    components = [_component(key, value, source) for key, value in body.items()]
    if not components:
        raise InputError(f"{source}: no component data in it (was anything recorded?)")
    return components


def read_file(path: str) -> list[ComponentData]:
    """The components of a flat JSON file; :class:`InputError` names what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory") from None
    except (OSError, UnicodeDecodeError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise InputError(f"{path}: cannot read it ({reason})") from None
    try:
        data = json.loads(text)
    except ValueError as err:
        raise InputError(f"{path}: not valid JSON ({err})") from None
    if isinstance(data, dict) and "traceEvents" in data:
        raise InputError(f"{path}: this is a flame graph (Chrome trace), not flat timemory JSON")
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
