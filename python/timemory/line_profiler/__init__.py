"""Line-by-line profiling with any scalar timemory component, on top of the ``line_profiler``
package: the familiar ``LineProfiler`` API and ``.lprof`` files, with wall
clock, CPU clock, peak RSS, page faults... as the per-line measurement.

    from timemory.line_profiler import LineProfiler

    profile = LineProfiler(component="peak_rss")

    @profile
    def work(): ...

    work()
    profile.print_stats()            # Line #, Hits, Metric, Per Hit, % Metric, Line Contents
    profile.dump_stats("work.lprof")  # python -m line_profiler work.lprof reads it

The measuring is native (``timemory._core``): a C trace hook drives timemory's line tracker
for the profiled code objects only (other frames get their line events switched off when they
are called), and adds one reading per line executed into per-thread counters. No Python code
runs per line. A line's value includes the time (or memory, faults...) of the functions it
calls, profiled or not, as in ``line_profiler``.

Results are ``line_profiler.LineStats`` (:class:`LineStats` is a subclass that also says what
was measured): ``timings`` maps ``(filename, first line, function name)`` to
``[(lineno, hits, total)]`` with totals in integer raw units of the component, and ``unit``
converts them, for ``line_profiler``'s own tools: seconds per unit for the clocks (exact), and
the component's display unit per raw unit otherwise (MB for memory, 1 for counts), which
``line_profiler``'s ``show_text`` and ``python -m line_profiler`` still label "s".
:func:`show_text` and :meth:`LineStats.print` here label them with the component's unit.

Only one line-level session runs at a time in a process: enabling a profiler while
``timemory.trace`` traces (or the reverse) raises RuntimeError. Profiler instances share the
counts of a function that more than one of them profiles with the same component while they
are enabled together (a profiler counts from the moment it adds the function).
"""

from __future__ import annotations

import copyreg
import functools
import io
import math
import os
import pickle
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Callable

from timemory import _core, _output
from timemory._components import resolve

try:
    import line_profiler as _lp
    from line_profiler.line_profiler import get_code_block as _get_code_block
except ImportError:  # the `line` extra is not installed
    from timemory import _about

    # one line naming this package's extra (not `pip install timemory[line]`: on PyPI that
    # name is another project's); no chained traceback of the failed import
    raise _about.missing_package("timemory.line_profiler", "line_profiler", "line") from None

__all__ = [
    "LineProfiler",
    "LineStats",
    "load_stats",
    "scalar_components",
    "show_func",
    "show_text",
]

#: Default component, as in the reference's ``-c WallClock``.
DEFAULT_COMPONENT = "wall_clock"

_TimingsMap = Mapping[Any, Sequence[Any]]


# ---------------------------------------------------------------------- components
def _component_index(component: Any) -> int:
    """The index of the one scalar component ``component`` names: a primary id, alias, enum
    name, class name (``"WallClock"``), enum value or component class. ValueError names the
    valid choices (every component for an unknown name, the scalar ones otherwise)."""
    if isinstance(component, str) and ":" in component:
        import timemory.component  # noqa: F401  (resolves 'module:Class' names)
    if isinstance(component, str):
        for info in _core.component_table():
            if info["class_name"] == component:
                component = info["index"]
                break
    return int(_core.line_profiler_component(resolve(component)))


def scalar_components() -> list[str]:
    """The ids of the components the line profiler can measure here: one value per
    measurement that adds up over lines (clocks, peak/page RSS, page faults, context
    switches, I/O operation counts, trip_count...)."""
    return [_core.component_info(i)["id"] for i in _core.line_profiler_scalar_components()]


def _units(index: int) -> tuple[float, float, str]:
    """``(unit, metric_unit, display_unit)`` of a component's raw values: ``unit`` for
    ``line_profiler`` (seconds per raw unit for clocks, whose raw unit is the nanosecond;
    display units per raw unit otherwise), ``metric_unit`` display units per raw unit under
    the current settings, ``display_unit`` its name ("sec", "MB", "" for counts)."""
    info = _core.component_info(index)
    divisors, reprs = _core.unit_info(index)
    metric_unit = 1.0 / float(divisors[0])
    unit = 1e-9 if info["units"][0] == "timing" else metric_unit
    return unit, metric_unit, str(reprs[0])


# ---------------------------------------------------------------------- results
class LineStats(_lp.LineStats):
    """``line_profiler.LineStats`` that also records what was measured: ``component`` (its
    id), ``display_unit`` ("sec", "MB", "" for counts) and ``metric_unit`` (display units per
    unit of ``timings``). ``print()`` labels the columns and totals with them.

    Pickled (``dump_stats``/``to_file``) as a plain ``line_profiler.LineStats`` carrying these
    attributes, so that ``python -m line_profiler`` and ``line_profiler.load_stats`` read the
    file without timemory; :func:`load_stats` gives this class back."""

    def __init__(
        self,
        timings: _TimingsMap,
        unit: float,
        component: str = DEFAULT_COMPONENT,
        display_unit: str = "sec",
        metric_unit: float | None = None,
    ) -> None:
        super().__init__(dict(timings), unit)
        self.component = component
        self.display_unit = display_unit
        self.metric_unit = unit if metric_unit is None else metric_unit

    @property
    def metrics(self) -> _TimingsMap:
        """The reference's name for ``timings``."""
        return self.timings

    def __reduce__(self) -> Any:
        state = {
            "component": self.component,
            "display_unit": self.display_unit,
            "metric_unit": self.metric_unit,
        }
        return (_lp.LineStats, (self.timings, self.unit), state)

    def __add__(self, other: Any) -> LineStats:
        self._check_same_metric(other)
        timings, unit = self._get_aggregated_timings([self, other])
        return self._like(timings, unit)

    def __iadd__(self, other: Any) -> LineStats:
        self._check_same_metric(other)
        self.timings, self.unit = self._get_aggregated_timings([self, other])
        return self

    def _check_same_metric(self, other: Any) -> None:
        theirs = getattr(other, "component", DEFAULT_COMPONENT)
        if theirs != self.component:
            raise ValueError(f"cannot add line stats of {theirs} to line stats of {self.component}")

    def _like(self, timings: _TimingsMap, unit: float) -> LineStats:
        # the aggregate is expressed in the coarser unit: rescale the display factor with it
        scale = self.metric_unit / self.unit if self.unit else 1.0
        return LineStats(timings, unit, self.component, self.display_unit, unit * scale)

    def print(
        self,
        stream: Any = None,
        output_unit: float | None = None,
        stripzeros: bool = False,
        details: bool = True,
        summarize: bool = False,
        sort: bool = False,
        rich: bool = False,
        *,
        config: Any = None,
    ) -> None:
        """Show the stats with the component's unit (``rich`` and ``config`` are accepted
        for ``line_profiler`` compatibility and ignored)."""
        show_text(
            self,
            output_unit=output_unit,
            stream=stream,
            stripzeros=stripzeros,
            details=details,
            summarize=summarize,
            sort=sort,
        )

    def to_file(self, filename: os.PathLike[str] | str) -> None:
        """Pickle to ``filename`` (see the class documentation), written whole or not at all."""
        _output.write_as("lprof", os.fspath(filename), self)

    @classmethod
    def from_stats(cls, stats: Any) -> LineStats:
        """This class from any ``LineStats``-like object (its metric attributes if it has
        them, else a timer in seconds, as ``line_profiler`` makes)."""
        if isinstance(stats, cls):
            return stats
        return cls(
            stats.timings,
            stats.unit,
            getattr(stats, "component", "timer"),
            getattr(stats, "display_unit", "s"),
            getattr(stats, "metric_unit", stats.unit),
        )


def _lprof(stats: LineStats) -> bytes:
    """The content of an ``.lprof`` file: the pickled stats, as ``line_profiler`` reads them."""
    return pickle.dumps(stats, pickle.HIGHEST_PROTOCOL)


# written where the user names it (dump_stats, the command line's -o), not into the output folder
_output.register_format(_output.Format("lprof", "", ".lprof", _lprof, "lprof", kind="lprof"))

# What an .lprof file may name: line_profiler's statistics class (where line_profiler 3 to 5
# defines it, and the name of the single-module line_profiler before that) and what pickle
# protocols 0 and 1 use to rebuild a plain object. Nothing else is looked up, let alone
# imported: unpickling a name is how a pickle runs code.
_RECONSTRUCTOR = getattr(copyreg, "_reconstructor")  # noqa: B009 - private, not in the stubs
_LPROF_CLASSES: dict[tuple[str, str], Any] = {
    ("line_profiler.line_profiler", "LineStats"): _lp.LineStats,
    ("line_profiler", "LineStats"): _lp.LineStats,
    ("copyreg", "_reconstructor"): _RECONSTRUCTOR,
    ("copy_reg", "_reconstructor"): _RECONSTRUCTOR,
    ("builtins", "object"): object,
    ("__builtin__", "object"): object,
}


class _LprofUnpickler(pickle.Unpickler):
    """Unpickles line_profiler's statistics only (:data:`_LPROF_CLASSES`)."""

    def find_class(self, module: str, name: str) -> Any:
        found = _LPROF_CLASSES.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"it asks for {module}.{name}, which line_profiler's statistics never need; "
                "refused without running it (only line_profiler's LineStats are unpickled)"
            )
        return found


def _read_lprof(name: os.PathLike[str] | str) -> LineStats:
    """One ``.lprof`` file, unpickled with :class:`_LprofUnpickler`; ValueError (one line
    naming the file) for anything else."""
    where = os.fspath(name)
    with open(where, "rb") as f:
        try:
            stats = _LprofUnpickler(f).load()
        except RecursionError:
            raise ValueError(f"{where}: not an .lprof file (nested too deeply)") from None
        except Exception as err:  # noqa: BLE001 - every malformed pickle becomes one line
            reason = " ".join(str(err).split()) or type(err).__name__
            raise ValueError(f"{where}: not an .lprof file: {reason}") from None
    timings = getattr(stats, "timings", None)
    unit = getattr(stats, "unit", None)
    if not isinstance(timings, dict) or not isinstance(unit, (int, float)):
        raise ValueError(f"{where}: not an .lprof file: no line_profiler timings and unit in it")
    return LineStats.from_stats(stats)


def load_stats(filename: os.PathLike[str] | str, *more: os.PathLike[str] | str) -> LineStats:
    """Read one or more ``.lprof`` files (of the same component) and add them up.

    Only line_profiler's statistics are unpickled: a file that names any other class or
    function (which is how a pickle runs code) is refused with a ``ValueError`` naming the
    file, as is a file that is not an ``.lprof`` at all."""
    loaded = [_read_lprof(name) for name in (filename, *more)]
    total = loaded[0]
    for stats in loaded[1:]:
        total = total + stats
    return total


# ---------------------------------------------------------------------- text
_HEADER = ("Line #", "Hits", "Metric", "Per Hit", "% Metric", "Line Contents")
_TEMPLATE = "%6s %9s %12s %8s %8s  %-s"


def _fmt(value: float, width: int) -> str:
    text = f"{value:5.1f}"
    return text if len(text) <= width else f"{value:5.3g}"


def show_func(
    filename: str,
    start_lineno: int,
    func_name: str,
    timings: Sequence[tuple[int, int, float]],
    metric_unit: float,
    display_unit: str,
    output_unit: float | None = None,
    stream: Any = None,
    stripzeros: bool = False,
) -> None:
    """One function's table: its total, then per source line the hits, the metric in units
    of ``output_unit`` display units (default ``metric_unit``), per hit and % of the total."""
    stream = stream or sys.stdout
    total_hits = sum(t[1] for t in timings)
    total = sum(t[2] for t in timings)
    if stripzeros and total_hits == 0:
        return
    scale = metric_unit / (output_unit or metric_unit)
    unit_text = f" {display_unit}" if display_unit else ""
    stream.write(f"Total metric: {total * metric_unit:g}{unit_text}\n")
    if os.path.exists(filename):
        stream.write(f"File: {filename}\nFunction: {func_name} at line {start_lineno}\n")
        sublines = _get_code_block(filename, start_lineno)
    else:
        stream.write(
            f"\nCould not find file {filename}\nContinuing without the function's contents.\n"
        )
        last = max([t[0] for t in timings] + [start_lineno])
        sublines = [""] * (last - start_lineno + 1)
    display = {}
    for lineno, nhits, value in timings:
        percent = "" if total == 0 else f"{100.0 * value / total:5.1f}"
        display[lineno] = (
            str(nhits),
            _fmt(value * scale, 12),
            _fmt(value * scale / nhits if nhits else 0.0, 8),
            percent,
        )
    header = _TEMPLATE % _HEADER
    stream.write(f"\n{header}\n{'=' * len(header)}\n")
    empty = ("", "", "", "")
    for lineno, line in zip(range(start_lineno, start_lineno + len(sublines)), sublines):
        stream.write(_TEMPLATE % (lineno, *display.get(lineno, empty), line.rstrip("\r\n")) + "\n")
    stream.write("\n")


def show_text(
    stats: Any,
    unit: float | None = None,
    output_unit: float | None = None,
    stream: Any = None,
    stripzeros: bool = False,
    details: bool = True,
    summarize: bool = False,
    sort: bool = False,
    *,
    component: str | None = None,
    display_unit: str | None = None,
    metric_unit: float | None = None,
) -> None:
    """The text report of ``stats`` (a :class:`LineStats`, any ``LineStats``-like object, or
    a ``timings`` mapping with its ``unit``): ``Metric unit: <unit> <display unit>``, then per
    function ``Total metric: <sum> <display unit>`` and the table with the columns ``Line #,
    Hits, Metric, Per Hit, % Metric, Line Contents``; ``summarize`` adds one total per
    function, ``sort`` orders functions by ascending total."""
    if isinstance(stats, Mapping):
        if unit is None:
            raise TypeError("show_text(timings, unit): the unit of a timings mapping is needed")
        stats = LineStats(stats, unit, component or "timer", display_unit or "s", metric_unit)
    stats = LineStats.from_stats(stats)
    stream = stream or sys.stdout
    metric = stats.metric_unit if metric_unit is None else metric_unit
    shown_unit = stats.display_unit if display_unit is None else display_unit
    items = list(stats.timings.items())
    if sort:
        items.sort(key=lambda kv: sum(t[2] for t in kv[1]))
    stream.write(f"Component: {component or stats.component}\n")
    stream.write(f"Metric unit: {output_unit or metric:g} {shown_unit}".rstrip() + "\n\n")
    if details:
        for (filename, lineno, name), timings in items:
            show_func(
                filename, lineno, name, timings, metric, shown_unit, output_unit, stream, stripzeros
            )
    if summarize:
        for (filename, lineno, name), timings in items:
            total = sum(t[2] for t in timings) * metric
            if not stripzeros or total:
                stream.write(f"{total:10.6g} {shown_unit} - {filename}:{lineno} - {name}\n")


# ---------------------------------------------------------------------- the profiler
def _code_lines(code: Any) -> list[int]:
    """The line numbers a code object has instructions on."""
    if hasattr(code, "co_lines"):
        return sorted({line for _, _, line in code.co_lines() if line is not None})
    import dis

    return sorted({line for _, line in dis.findlinestarts(code)})


def _code_of(func: Any) -> Any:
    for get in (lambda f: f.__code__, lambda f: f.__func__.__code__):
        try:
            return get(func)
        except AttributeError:
            continue
    return None


class LineProfiler(_lp.LineProfiler):
    """``line_profiler.LineProfiler`` measuring ``component`` per line with timemory's native
    hook instead of its own timer.

    The API is ``line_profiler``'s: ``add_function``, ``add_callable``/``add_class``/
    ``add_module``, the decorator (``@profile``, also on generators, coroutines, methods,
    properties and classes), ``enable_by_count``/``disable_by_count`` (and ``enable``/
    ``disable``, which count the same way), the context manager, ``run``/``runctx``/
    ``runcall``, ``get_stats``, ``print_stats``, ``dump_stats``. ``component`` is any scalar
    component (see :func:`scalar_components`): a name, alias, class name such as
    ``"WallClock"``, enum value or component class; anything else is a ValueError naming the
    valid ones. ``num_preallocated`` is accepted for the reference's API; counters are
    created per line as lines run.

    Profiling runs on every thread while any profiler is enabled (threads started meanwhile
    included), and the counts of all threads are added up.
    """

    # the functions added, an attribute of line_profiler's native base that its stub leaves out
    functions: list[Callable]

    def __init__(
        self, *functions: Callable, component: Any = DEFAULT_COMPONENT, num_preallocated: int = 0
    ) -> None:
        self._component = _component_index(component)
        # this profiler's enable count, native: the decorated functions flip it in C
        self._switch = _core.LineProfilerSwitch(self._component)
        self._codes: dict[int, Any] = {}  # table id -> code object
        self._baseline: dict[tuple[int, int], tuple[int, float]] = {}  # counts at add_function
        super().__init__(*functions)

    # -------------------------------------------------------------- what is measured
    @property
    def component(self) -> str:
        """The id of the component measured per line."""
        return str(_core.component_info(self._component)["id"])

    def add_function(self, func: Any) -> None:
        """Profile the lines of a Python function (or of the function under a method)."""
        code = _code_of(func)
        if code is None:
            import warnings

            warnings.warn(f"Could not extract a code object for the object {func!r}", stacklevel=2)
            return
        table = _core.line_profiler_add(code, _code_lines(code))
        if table not in self._codes:
            self._codes[table] = code
            self.functions.append(func)
            # the counters are per code object: what ran before (under another profiler)
            # is not this profiler's
            self._baseline.update(
                {(t, line): (hits, total) for t, line, hits, total in self._rows() if t == table}
            )

    def _rows(self) -> list[tuple[int, int, int, float]]:
        return list(_core.line_profiler_stats(self._component))

    def _rebase(self) -> None:
        """Count from now on only (a forked child must not report its parent's lines)."""
        self._baseline.update(
            {(t, line): (hits, total) for t, line, hits, total in self._rows() if t in self._codes}
        )

    # -------------------------------------------------------------- on and off
    @property
    def enable_count(self) -> int:
        """How many enables of this profiler are not matched by a disable yet."""
        return int(self._switch.count)

    def enable_by_count(self) -> None:
        """Start profiling unless it runs already; counts the calls. Profiling runs on every
        thread, threads started meanwhile included (``threading.settrace``)."""
        self._switch.enable()

    def disable_by_count(self) -> None:
        """Stop profiling when every enable (of every profiler) has been matched."""
        self._switch.disable()

    enable = enable_by_count
    disable = disable_by_count

    def wrap_function(self, func: Any) -> Any:
        """``func`` profiled on every call: a native wrapper that enables the profiler (by
        count) around each call, as ``line_profiler``'s wrapper does, without a Python frame
        of its own (on recursive code that frame and the two method calls would run traced
        on every call). Like a function, it has ``func``'s ``__name__``, ``__doc__``,
        ``__wrapped__``..., binds as a method and pickles by name. A subclass that redefines
        ``enable_by_count`` or ``disable_by_count`` gets ``line_profiler``'s wrapper, which
        calls them."""
        cls = type(self)
        if (
            cls.enable_by_count is not LineProfiler.enable_by_count
            or cls.disable_by_count is not LineProfiler.disable_by_count
        ):
            return super().wrap_function(func)
        already = getattr(self, "_already_a_wrapper", None)  # line_profiler >= 4.1
        if already is not None and already(func):
            return func
        wrapper = _core.line_profiler_wrap(func, self._switch)
        functools.update_wrapper(wrapper, func)
        mark = getattr(self, "_mark_wrapper", None)
        return mark(wrapper) if mark is not None else wrapper

    @classmethod
    def _get_underlying_functions(
        cls, func: object, seen: set[int] | None = None, stop_at_classes: bool = False
    ) -> Any:
        # the function under a native wrapper (line_profiler looks inside its own wrappers,
        # which are functions, but not inside callable objects)
        if isinstance(func, _core.LineProfiledFunction):
            func = func.__timemory_function__
        return super()._get_underlying_functions(func, seen, stop_at_classes)

    # -------------------------------------------------------------- results
    def get_stats(self) -> LineStats:
        """The counts so far of every function this profiler profiles, every thread added
        up (functions not run yet have no lines)."""
        from line_profiler._line_profiler import label

        unit, metric_unit, display_unit = _units(self._component)
        info = _core.component_info(self._component)
        # a Python-defined component's values are its own numbers (kept as they are, not
        # rounded to whole raw units); with a max/min/last rule a line's value is the rule's
        # over every execution, which a baseline cannot be taken off
        user = bool(info.get("user"))
        summed = not user or info["combine"] == "sum"
        merged: dict[Any, dict[int, list[float]]] = {label(c): {} for c in self._codes.values()}
        for table, lineno, hits, total in self._rows():
            code = self._codes.get(table)
            before = self._baseline.get((table, lineno), (0, 0.0))
            if code is None or hits <= before[0]:
                continue
            row = merged[label(code)].setdefault(lineno, [0, 0.0])
            row[0] += hits - before[0]
            row[1] = row[1] + total - before[1] if summed else total
        timings = {
            key: [
                (lineno, int(n), v if user else int(math.floor(v + 0.5)))
                for lineno, (n, v) in sorted(lines.items())
            ]
            for key, lines in merged.items()
        }
        return LineStats(timings, unit, self.component, display_unit, metric_unit)

    def dump_stats(self, filename: os.PathLike[str] | str) -> None:
        """Write the stats as an ``.lprof`` file (a pickled ``line_profiler.LineStats``)."""
        self.get_stats().to_file(filename)

    def print_stats(
        self,
        stream: Any = None,
        output_unit: float | None = None,
        stripzeros: bool = False,
        details: bool = True,
        summarize: bool = False,
        sort: bool = False,
        rich: bool = False,
        *,
        config: Any = None,
    ) -> None:
        """Print the stats with the component's unit (see :func:`show_text`)."""
        self.get_stats().print(stream, output_unit, stripzeros, details, summarize, sort, rich)

    def text(self, **kwargs: Any) -> str:
        """The report :meth:`print_stats` prints, as a string."""
        out = io.StringIO()
        self.print_stats(stream=out, **kwargs)
        return out.getvalue()


def _stop_for_finalize() -> None:
    """End a running line-profiling session (its open lines are counted), e.g. before
    ``timemory.finalize()`` writes the output or at exit; the profilers' enable counts are
    forgotten."""
    _core.line_profiler_reset()
