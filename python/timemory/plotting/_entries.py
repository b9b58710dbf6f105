"""The reference's entry-level plotting objects: ``timemory_data`` (one call-graph entry
with its statistics), ``plot_data`` (the entries of one component and rank, with what the chart
needs to know about them) and ``read`` (one rank of flat JSON into a ``plot_data``).

A ``plot_data`` is drawn by turning it into the :class:`~timemory.plotting.ComponentData` the
other plots use (:meth:`plot_data.component`), so both paths produce the same chart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from timemory.plotting._bars import PlotParams
from timemory.plotting._read import (
    ComponentData,
    InputError,
    Node,
    _as_list,
    _number,
    _split_prefix,
)

__all__ = ["plot_data", "read", "timemory_data"]

# what follows the ">>> " of a prefix below the top level: "  " * (depth - 1) + "|_"
_NESTED = re.compile(r"^(?:\|\d+)*>>> ( *)\|_")


def _depth_of(prefix: str) -> int:
    match = _NESTED.match(prefix)
    return len(match.group(1)) // 2 + 1 if match else 0


def _scalar_or_list(value: Any) -> Any:
    """A number stays a number; a cereal pair or an array becomes a list of numbers."""
    items = [_number(v) for v in _as_list(value)]
    return items[0] if len(items) == 1 and not isinstance(value, (dict, list, tuple)) else items


def _combine(a: Any, b: Any, how: Any) -> Any:
    """``how`` applied to two values of the same shape (numbers, or lists of numbers)."""
    if a is None or b is None:
        return None
    if isinstance(a, list):
        return [how(x, y) for x, y in zip(a, b)]
    return how(a, b)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _add(x: float, y: float) -> float:
    return x + y


class timemory_data:  # noqa: N801 - the reference's name
    """One call-graph entry: ``timemory_data(func, obj, stats=None)``.

    ``func`` is the entry's label or flat-JSON prefix (``">>> |_solve"``); ``obj`` is either
    an element of a rank's ``graph`` list (with ``entry``, ``stats``, ``depth``) or its
    ``entry`` dict alone, in which case ``stats`` may be given apart.

    Attributes: ``laps``; ``data`` (``repr_data``: the accumulated value in display units);
    ``value`` and ``accum`` (raw); ``sum``, ``sqr``, ``min``, ``max`` (from the statistics,
    ``None`` when the entry has none); ``depth`` (from ``obj`` or the prefix's indentation).
    Multi-valued components (``current_peak_rss``, ``read_char``...) hold a list of numbers
    where others hold one number. ``a + b`` sums two entries: laps, values, sums and squares
    add up, ``min``/``max`` take the smaller/larger.
    """

    __slots__ = ("func", "depth", "laps", "data", "value", "accum", "sum", "sqr", "min", "max")
    func: str
    depth: int
    laps: int
    # a number, or a list of numbers for a multi-valued component (_scalar_or_list)
    data: float | list[float]
    value: float | list[float]
    accum: float | list[float]
    # the same, None when the entry has no statistics
    sum: float | list[float] | None
    sqr: float | list[float] | None
    min: float | list[float] | None
    max: float | list[float] | None

    def __init__(self, func: str, obj: dict, stats: dict | None = None) -> None:
        if not isinstance(obj, dict):
            raise InputError(f"{func}: expected a flat JSON graph entry (a dict), got {obj!r}")
        entry = obj.get("entry", obj)
        if stats is None:
            stats = obj.get("stats")
        try:
            self.func = str(func)
            self.depth = int(obj["depth"]) if "depth" in obj else _depth_of(self.func)
            self.laps = int(entry.get("laps", (stats or {}).get("count", 0)))
            self.data = _scalar_or_list(entry["repr_data"])
            self.value = _scalar_or_list(entry.get("value", entry["repr_data"]))
            self.accum = _scalar_or_list(entry.get("accum", entry.get("value", 0)))
            stats = stats or {}
            for name in ("sum", "sqr", "min", "max"):
                setattr(self, name, _scalar_or_list(stats[name]) if name in stats else None)
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            # OverflowError: a depth or count of inf (int() of it)
            what = f"missing key {err}" if isinstance(err, KeyError) else str(err)
            raise InputError(f"{func}: not a flat JSON graph entry ({what})") from None

    @property
    def values(self) -> tuple[float, ...]:
        """``data`` as a tuple, one number per sub-value."""
        return tuple(self.data) if isinstance(self.data, list) else (self.data,)

    def lap_stats(self) -> tuple[tuple[float, float, float], ...] | None:
        """``(mean, min, max)`` of one lap per sub-value, when the statistics are known."""
        if self.sum is None or self.min is None or self.max is None or self.laps <= 0:
            return None
        sums, lows, highs = (_listed(v) for v in (self.sum, self.min, self.max))
        if not len(sums) == len(lows) == len(highs) == len(self.values):
            return None
        return tuple((s / self.laps, lo, hi) for s, lo, hi in zip(sums, lows, highs))

    def __add__(self, other: timemory_data) -> timemory_data:
        if not isinstance(other, timemory_data):
            return NotImplemented
        if len(self.values) != len(other.values):
            raise ValueError(f"{self.func}: cannot add entries with different numbers of values")
        out = object.__new__(timemory_data)
        out.func, out.depth = self.func, self.depth
        out.laps = self.laps + other.laps
        for name in ("data", "value", "accum", "sum", "sqr"):
            setattr(out, name, _combine(getattr(self, name), getattr(other, name), _add))
        out.min = _combine(self.min, other.min, min)
        out.max = _combine(self.max, other.max, max)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, timemory_data):
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: not hashable

    def __repr__(self) -> str:
        return f"timemory_data({self.func!r}, laps={self.laps}, data={self.data!r})"


def _as_tuple(value: str | Sequence[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)


class plot_data:  # noqa: N801 - the reference's name
    """The entries of one component (and rank) to draw as one bar chart.

    ``filename``: the input it came from (a ``.json`` name gives the image its name:
    ``wall.json`` -> ``wall.png``); ``concurrency``: threads per process; ``mpi_size``:
    processes; ``timemory_functions``: the :class:`timemory_data` entries in call-graph
    order; ``title`` (default: ``ctype``); ``units`` and ``ctype`` (the component's type label,
    e.g. ``"wall"``; a list of one per sub-value for multi-valued components); ``cid``: the
    component's key (``"wall_clock"``); ``description``: the chart's subtitle; ``plot_params``
    (default :class:`PlotParams`); ``output_name``: the image's name without extension
    (default: from ``filename``).

    Every attribute can be changed; :func:`read` fills one from a rank of flat JSON.
    """

    def __init__(
        self,
        filename: str = "output",
        concurrency: int = 1,
        mpi_size: int = 1,
        timemory_functions: Iterable[timemory_data] = (),
        title: str = "",
        units: str | Sequence[str] = "",
        ctype: str | Sequence[str] = "",
        cid: str = "",
        description: str = "",
        plot_params: PlotParams | None = None,
        output_name: str | None = None,
    ) -> None:
        self.filename = filename
        self.concurrency = concurrency
        self.mpi_size = mpi_size
        self.timemory_functions: list[timemory_data] = list(timemory_functions)
        self.title = title
        self.units = units
        self.ctype = ctype
        self.cid = cid
        self.description = description
        self.plot_params = plot_params if plot_params is not None else PlotParams()
        self.output_name = output_name

    def __len__(self) -> int:
        return len(self.timemory_functions)

    def __repr__(self) -> str:
        return (
            f"plot_data({self.cid or self.ctype!r}, filename={self.filename!r}, "
            f"{len(self)} entries)"
        )

    def add(self, entry: timemory_data) -> None:
        """Append ``entry``, or add it to the entry with the same ``func`` already held."""
        for index, held in enumerate(self.timemory_functions):
            if held.func == entry.func:
                self.timemory_functions[index] = held + entry
                return
        self.timemory_functions.append(entry)

    def image_name(self) -> str:
        """The image's name without extension: ``output_name``, else ``filename``'s base name
        without ``.json`` (``"output"`` when it has none)."""
        if self.output_name:
            return self.output_name
        name = os.path.basename(str(self.filename))
        name = name[: -len(".json")] if name.endswith(".json") else name
        return name or "output"

    def component(self) -> ComponentData:
        """The :class:`ComponentData` of these entries, as the bar charts draw it."""
        types = _as_tuple(self.ctype) or ("",)
        if types == ("",):
            types = (self.cid or self.image_name(),)
        widths = {len(e.values) for e in self.timemory_functions}
        if widths and widths != {len(types)}:
            found = ", ".join(str(w) for w in sorted(widths))
            raise InputError(
                f"{self.filename}: the entries have {found} values each, but ctype names "
                f"{len(types)} ({', '.join(types)})"
            )
        units = list(_as_tuple(self.units))
        units = (units + [""] * len(types))[: len(types)] if len(units) != 1 else units * len(types)
        nodes = []
        for entry in self.timemory_functions:
            label, thread, rank = _split_prefix(entry.func)
            node = Node(label, entry.depth, entry.laps, entry.values, thread, rank)
            nodes.append(node._replace(stats=entry.lap_stats()))
        return ComponentData(
            self.cid or types[0],
            types,
            tuple(units),
            str(self.description),
            int(self.mpi_size or 1),
            int(self.concurrency or 1),
            ((0, tuple(nodes)),),
            str(self.filename),
        )


def read(data: dict, **kwargs: Any) -> plot_data:
    """One rank of flat JSON (``timemory.<key>.ranks[j]``: a dict with ``graph_size`` and
    ``graph``) as a :class:`plot_data`; ``kwargs`` are passed to :class:`plot_data`.

    Entries with no laps are left out; entries with the same prefix (the same label at the
    same place in the call graph) are summed into one. :class:`InputError` names what is
    missing from ``data``.
    """
    if not isinstance(data, dict) or not isinstance(data.get("graph"), list):
        if isinstance(data, dict) and "ranks" in data:
            hint = "this is a whole component: pass one of its 'ranks'"
        elif isinstance(data, dict) and "timemory" in data:
            hint = "this is a whole flat JSON document: pass timemory.<key>.ranks[j]"
        else:
            hint = "expected a dict with 'graph_size' and a 'graph' list"
        raise InputError(f"read(): not one rank of timemory flat JSON ({hint})")
    graph = data["graph"]
    size = data.get("graph_size", len(graph))
    if size != len(graph):
        raise InputError(f"read(): 'graph_size' is {size} but the 'graph' has {len(graph)} entries")
    entries: dict[str, timemory_data] = {}  # by prefix, in order of first appearance
    for index, element in enumerate(graph):
        if not isinstance(element, dict) or "prefix" not in element:
            raise InputError(f"read(): graph entry {index} has no 'prefix'")
        entry = timemory_data(element["prefix"], element)
        if entry.laps > 0:
            held = entries.get(entry.func)
            entries[entry.func] = entry if held is None else held + entry
    out = plot_data(**kwargs)
    out.timemory_functions.extend(entries.values())
    return out
