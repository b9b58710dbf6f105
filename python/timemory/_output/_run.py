"""One write of the run's data: every component's files through the registered formats, then
the run's own files, then the tables on the console. All files are on disk before anything
is printed.

The data come as the native views of this process (no storage objects, nor the import of
``timemory.storage``, on the way from the call graph to the files) or, after an exchange, as
every process's packed data, read through the storage classes.
"""

from __future__ import annotations

from .. import _core, _processes
from .. import settings as _settings
from .._components import MEASURABLE
from .._files import path_text
from .._text import echo
from . import _json
from ._plan import add_written, announce_folders, folders_deferred
from ._record import manager, metadata_wanted
from ._registry import COMPONENT_VIEWS, Format, formats, register_format

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Sequence
    from typing import Any

    from ._plan import OutputPlan

__all__ = [
    "ComponentOutput",
    "RunOutput",
    "json_ranks",
    "local_trees",
    "summary_table",
    "text_options",
    "tree_needed",
    "write_run",
]


class _Ref:
    """An entry of a native flat or tree batch (slots ``_b``, ``_i``, as the storage result and
    tree objects): what the native writers take, made without importing timemory.storage."""

    __slots__ = ("_b", "_i")
    _b: Any  # the batch (set natively)
    _i: int  # the index in it

    def data(self) -> Any:
        return self._b.data(self._i)

    def prefix(self) -> str:
        return self._b.prefix(self._i)


def local_trees(index: int, copy: bool = False) -> list[Any]:
    """This process's root trees of a component, as the writers take them (one rank);
    ``copy``: hold each graph's lock only while it is copied (a background checkpoint)."""
    batch = _core.tree_snapshot(index, copy)
    return [_core.tree_objects(_Ref, batch, batch.roots())]


def json_ranks(index: int, ranks: list[Any], ranks_key: str = "", procs: Any = None) -> str:
    """The JSON text stored under ``timemory.<key>`` (``Storage.dumps_text``): flat entries
    (``ranks_key`` empty) or the root trees of each rank, under ``ranks_key``; ``procs``: the
    exchanged processes the lists hold (None: one process per list)."""
    ranks = ranks or [[]]
    meta = _meta(len(ranks), procs)
    if ranks_key and (ranks_key != "graph" or any(len(r) for r in ranks)):
        return _core.tree_json(index, ranks, meta, ranks_key)
    return _core.flat_json(index, ranks, meta)


def _wrap(key: str, text: str, plan: OutputPlan | None = None) -> tuple[str, str, str]:
    """The parts of ``{"timemory": {"<key>": <text>}}``: written one after the other, a large
    output is never copied into one string. A checkpoint's file also says so, beside
    ``timemory``: ``"checkpoint": {"final": false, "time": ...}``."""
    return _head(key), text, _tail(plan)


def _tail(plan: OutputPlan | None) -> str:
    """What ends a component's JSON file after its data: a checkpoint's marker too."""
    if plan is not None and plan.is_checkpoint:
        return '}, "checkpoint": ' + _json.dumps(plan.marker).replace("\n", "") + "}\n"
    return "}}\n"


def _meta(num_ranks: int, procs: Any) -> dict[str, int]:
    """The counts of a file of ``num_ranks`` lists: of the exchanged processes ``procs``
    (every rank and pool worker, whether their lists were merged or not), else of this
    process alone."""
    if procs is None:
        return _processes.output_meta(num_ranks)
    return _processes.output_meta(num_ranks, len(procs), int(getattr(procs, "mpi_size", 1)))


def _head(key: str) -> str:
    return '{"timemory": {"' + key + '": '


def _streamed(write: Callable[[bytes], None], concurrent: int = 0) -> Callable[[bytes], None]:
    """A file's content as the function that writes it to a path: ``write(path)`` streams the
    document natively into the file (temp file created exclusively in the folder, fsync,
    rename) without the GIL and without holding the whole text; its failures are OSErrors.
    ``concurrent`` (0: no): a writer of the recorded graph that may run beside the others of
    its component (OutputPlan.write_all), and how long it takes against them (the longest
    start first)."""

    def to(path: bytes) -> None:
        try:
            write(path)
        except ValueError as err:  # the native writer reports failures with the path
            raise OSError(str(err)) from None

    to.concurrent = concurrent  # type: ignore[attr-defined]
    return to


class RunOutput:
    """One write: its plan, the exchanged processes (None: this process's data alone), the
    name of the per-rank tree list (``"mpi"`` under MPI, else ``"graph"``), whether any
    component had data (``wrote``), and what collecting formats keep until ``finish``
    (``pending``, by format name)."""

    __slots__ = ("plan", "procs", "ranks_key", "wrote", "pending")

    def __init__(self, plan: OutputPlan, procs: Any, ranks_key: str) -> None:
        self.plan, self.procs, self.ranks_key = plan, procs, ranks_key
        self.wrote = False
        self.pending: dict[str, list[Any]] = {}


class ComponentOutput:
    """One component during a write: ``index``, ``info`` (``_core.component_info``),
    ``label``, ``key``, its ``run``, and its views, each made on first use: ``flat`` (the flat
    entries of each rank, a native FlatBatch or storage results), :meth:`flat_json`,
    :meth:`trees` (made only after the flat views are released), ``text`` (the table, made
    when it is printed; else the text file is streamed). ``live``: the data are this
    process's recorded graph, which the built-in formats write from directly."""

    __slots__ = (
        "index",
        "info",
        "label",
        "key",
        "run",
        "live",
        "text",
        "summary",
        "more",
        "_flat",
        "_make_flat",
        "_json",
        "_trees",
        "_tree",
    )

    def __init__(
        self,
        index: int,
        run: RunOutput,
        flat: list[Any] | Callable[[], list[Any]],
        tree: Callable[[], list[Any]],
        summary: str = "",
    ) -> None:
        self.index, self.run, self._tree, self.summary = index, run, tree, summary
        self.live = callable(flat)
        self._flat: list[Any] | None = None if callable(flat) else flat
        self._make_flat: Callable[[], list[Any]] | None = flat if callable(flat) else None
        self.info = _core.component_info(index)
        self.label, self.key = self.info["label"], self.info["key"]
        self.text = ""
        #: what follows "... and K more rows" under a text table capped at
        #: settings.text_max_rows: where every row is (set by the write, when JSON is written)
        self.more = ""
        self._json: tuple[str, str, str] | None = None
        self._trees: list[Any] | None = None

    @property
    def copies(self) -> bool:
        """Live writers copy each graph before writing it (a background checkpoint: the
        program's threads record on meanwhile)."""
        return self.run.plan.is_checkpoint

    @property
    def flat(self) -> list[Any]:
        """The flat entries of each rank (made on first use for live data)."""
        if self._flat is None:
            self._flat = self._make_flat() if self._make_flat is not None else []
        return self._flat

    def entries(self) -> Any:
        """The flat entries of every rank in one sequence."""
        flat = self.flat
        return flat[0] if len(flat) == 1 else [e for rank in flat for e in rank]

    def flat_json(self) -> tuple[str, str, str]:
        """The flat JSON file's text, in parts."""
        if self._json is None:
            text = json_ranks(self.index, self.flat, "", self.run.procs)
            self._json = _wrap(self.key, text, self.run.plan)
        return self._json

    def trees(self) -> list[Any]:
        """The root trees of each rank."""
        if self._trees is None:
            self._trees = self._tree()
        return self._trees

    def _release_flat(self) -> None:
        self._json = None
        self._flat = None if self.live else []


def _write_format(
    fmt: Format,
    target: Any,
    basename: str,
    tag: str,
    run: RunOutput,
    staged: list[tuple[Any, ...]] | None = None,
) -> None:
    """Write one format's file; with ``staged``, add the write to it instead (written by
    OutputPlan.write_all, in that order)."""
    content = fmt.write(target)
    if content is None:
        return
    if fmt.announce is None or fmt.announce is True:
        announce: Any = True
    elif fmt.announce is False:
        announce = False
    else:
        func = fmt.announce
        announce = lambda path: func(run, path)  # noqa: E731
    if staged is not None:
        staged.append((basename, fmt.suffix, content, fmt.kind, tag, announce))
    else:
        run.plan.write(basename, fmt.suffix, content, fmt.kind, tag, announce)


def _write_component(
    component: ComponentOutput, enabled: dict[str, list[Format]], summary: str
) -> list[str]:
    """Write one component's files; returns what to print."""
    info, label = component.info, component.label
    mine = {
        view: [f for f in fmts if f.applies is None or f.applies(info)]
        for view, fmts in enabled.items()
    }
    for fmt in mine["prepare"]:
        fmt.write(component)
    if any(f.name == "json" for f in mine["flat"]):
        component.more = _more(component.run.plan, label)
    # a live component's files are written together at the end (the native writers of the
    # recorded graph at once, OutputPlan.write_all); else each as it is made, the flat views
    # released before the trees are made
    staged: list[tuple[Any, ...]] | None = [] if component.live else None
    for fmt in mine["flat"]:
        _write_format(fmt, component, label, label, component.run, staged)
    if _settings.cout_output:  # else the text file is streamed
        component.text = _text(component) + summary
    elif not component.live:  # the flat entries are released before the table is written
        component.text = _core.text_table(component.index, component.entries(), *_cap(component))
        component.text += summary
    console = [component.text] if _settings.cout_output else []
    s = _settings
    if s.dart_output and (not s.dart_type or s.dart_type == label):
        entries = component.entries()
        if isinstance(entries, _core.FlatBatch):
            entries = _core.results(_Ref, entries)
        for entry in entries[: max(int(s.dart_count), 1)]:
            value = entry.data().get()
            name = entry.prefix().replace(">>> ", "").strip() if s.dart_label else label
            console.append(
                f'<DartMeasurement name="{name}" type="numeric/double">{value}</DartMeasurement>'
            )
        del entries
    component._release_flat()
    for fmt in mine["tree"]:
        _write_format(fmt, component, label, label, component.run, staged)
    component._trees = None
    for fmt in mine["table"]:
        _write_format(fmt, component, label, label, component.run, staged)
    if staged:
        component.run.plan.write_all(staged)
    return console


def _more(plan: OutputPlan, label: str) -> str:
    """Where every row of a capped text table is: the component's flat JSON file."""
    return " in " + path_text(plan.path(label, ".json"))


def text_options(more: str = "") -> tuple[int, str, bool, bool]:
    """The arguments after the entries of the native text tables (``_core.text_table``...):
    the row limit (settings.text_max_rows; 0: every row), ``more`` (the end of the "... and K
    more rows" line), and whether each row's times / memory values are in the unit that suits
    the row (when the user did not name one: settings.timing_units, memory_units)."""
    auto_timing = not _settings.timing_units
    auto_memory = not _settings.memory_units
    return int(_settings.text_max_rows), more, auto_timing, auto_memory


def _cap(component: ComponentOutput) -> tuple[int, str, bool, bool]:
    return text_options(component.more)


def _text(component: ComponentOutput) -> str:
    if component.live:
        return _core.live_text_table(component.index, *_cap(component))
    return _core.text_table(component.index, component.entries(), *_cap(component))


#: the run-level formats that read every component's call-graph trees (the exports)
TREE_READERS: set[str] = set()


def tree_needed() -> bool:
    """Whether an enabled format reads the call-graph trees (they are then exchanged too)."""
    return any(f.enabled() for f in formats("tree")) or any(
        f.enabled() for f in formats("run") if f.name in TREE_READERS
    )


def write_run(plan: OutputPlan, procs: Any = None) -> bool:
    """Write every component with data through the enabled formats, then the run's files,
    then print the tables; ``procs``: every process's data after an exchange (None: this
    process's). Returns whether any component had data."""
    run = RunOutput(plan, procs, "mpi" if _processes.collective_in_use() else "graph")
    enabled = {view: [f for f in formats(view) if f.enabled()] for view in COMPONENT_VIEWS}
    if plan.is_checkpoint:
        # a checkpoint measures nothing (the roofline's ERT) and draws nothing (the plots)
        enabled = {
            view: [f for f in fmts if f.view != "prepare" and f.finish is None]
            for view, fmts in enabled.items()
        }
    console: list[str] = []
    copy = plan.is_checkpoint  # the live views of a checkpoint copy each graph
    for index in sorted(MEASURABLE):
        summary = ""
        if procs is not None:
            if index not in procs.indices():
                continue
            from ..storage import _storage_for

            storage: Any = _storage_for(index)
            flat = storage._flat_lists(procs)
            tree = lambda st=storage: st._tree_lists(procs)  # noqa: E731
            if len(procs) > 1:
                label = _core.component_info(index)["label"]
                more = _more(plan, label) if any(f.name == "json" for f in enabled["flat"]) else ""
                summary = summary_table(index, storage._summary(procs), procs, more)
        else:
            if not _core.has_data(index):
                continue
            # live: the built-in formats write from the recorded graph; the views are made
            # only for a format that asks for them. A checkpoint copies each graph (its lock
            # held only for the copy): the program records on while the copy is written
            flat = lambda i=index: [_core.flat_snapshot(i, copy)]  # noqa: E731
            tree = lambda i=index: local_trees(i, copy)  # noqa: E731
        component = ComponentOutput(index, run, flat, tree, summary)
        del flat, tree
        console += _write_component(component, enabled, summary)
        del component
        run.wrote = True
    for fmt in formats():
        if fmt.finish is not None and fmt.name in run.pending:
            images = fmt.finish(run)
            if images:
                manager._outputs.setdefault(fmt.kind, []).extend(images)
                add_written(images)
    for fmt in formats("run"):
        if fmt.enabled():
            _write_format(fmt, run, fmt.name, fmt.name, run)
    if plan.is_checkpoint:
        return run.wrote  # quiet: the tables are printed by the final write
    for text in console:
        echo(text)
    if not folders_deferred():
        announce_folders()
    return run.wrote


def summary_table(index: int, rows: Sequence[Any], procs: Any, more: str = "") -> str:
    """The cross-process summary of one component as a text table: per call-graph node, over
    the processes that have it, min / mean / max of its value, the rank with the max and the
    imbalance max/mean (first value of multi-valued components). The nodes come in the order
    of the summary (:func:`timemory._output._summary.summarize`: their label's self value over
    every process, largest first), values in the unit that suits each, at most
    ``settings.text_max_rows`` rows then "... and K more rows" + ``more``."""
    from ._summary import format_value, short_label, summarize

    info = _core.component_info(index)
    divisor = float(_core.unit_info(index)[0][0] or 1.0)
    family = (info["units"] or ["none"])[0]
    nranks = len({rank for rank, _, _ in procs.items})
    what = f"{nranks} RANKS" if nranks > 1 else f"{len(procs)} PROCESSES"
    if nranks > 1 and len(procs) > nranks:
        what += f" ({len(procs)} PROCESSES)"
    title = f"{info['label'].upper()}: CROSS-PROCESS SUMMARY OVER {what}"
    head = ("LABEL", "DEPTH", "PROCS", "MIN", "MEAN", "MAX", "MAX RANK", "IMBALANCE")
    rank_of = {r.label: i for i, r in enumerate(summarize(index, processes=procs))}
    first = lambda v: v[0] if isinstance(v, tuple) else v  # noqa: E731
    ordered = sorted(
        rows, key=lambda r: (rank_of.get(r.label(), len(rank_of)), -float(first(r.mean())))
    )
    limit = int(_settings.text_max_rows)
    shown = ordered[:limit] if limit else ordered
    label_width = max(int(_settings.max_width), 8)
    value = lambda v: format_value(float(first(v)) * divisor, family)  # noqa: E731
    if family == "custom":  # a Python-defined component: its values in its display unit
        unit = str(_core.unit_info(index)[1][0])
        value = lambda v: f"{format_value(float(first(v)), family)} {unit}".rstrip()  # noqa: E731
    body = [
        (
            short_label(r.label(), label_width),
            str(r.depth()),
            str(len(r.processes())),
            value(r.min()),
            value(r.mean()),
            value(r.max()),
            str(first(r.max_rank())),
            f"{float(first(r.imbalance())):.2f}",
        )
        for r in shown
    ]
    widths = [max([len(h)] + [len(b[i]) for b in body]) for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            f" {c:<{widths[0]}} " if i == 0 else f" {c:>{widths[i]}} " for i, c in enumerate(cells)
        ]
        return "|" + "|".join(parts) + "|"

    total = max(sum(widths) + 3 * len(widths) + 1, len(title) + 4)
    widths[0] += total - (sum(widths) + 3 * len(widths) + 1)
    rule = "|" + "-" * (total - 2) + "|"
    out = [rule, "|" + title.center(total - 2) + "|", rule, line(head)]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += [line(b) for b in body]
    out.append(rule)
    if len(shown) < len(ordered):
        left = len(ordered) - len(shown)
        out.append(f"... and {left} more {'row' if left == 1 else 'rows'}{more}")
    return "\n".join(out) + "\n\n"


# ------------------------------------------------------------------ the built-in formats
def _flat_json(component: ComponentOutput) -> Callable[[bytes], None]:
    index, head, tail = component.index, _head(component.key), _tail(component.run.plan)
    if component.live:
        meta, copy = _processes.output_meta(1), component.copies
        return _streamed(
            lambda path: _core.write_live_flat_json(path, index, meta, head, tail, copy), 1
        )
    ranks = component.flat or [[]]
    meta = _meta(len(ranks), component.run.procs)
    return _streamed(lambda path: _core.write_flat_json(path, index, ranks, meta, head, tail))


def _tree_json(component: ComponentOutput) -> Callable[[bytes], None]:
    index, head, key = component.index, _head(component.key), component.run.ranks_key
    tail = _tail(component.run.plan)
    if component.live:
        meta, copy = _processes.output_meta(1), component.copies
        return _streamed(
            lambda path: _core.write_live_tree_json(path, index, meta, key, head, tail, copy),
            2,  # twice as long as the others (two entries a node)
        )
    ranks = component.trees() or [[]]
    meta = _meta(len(ranks), component.run.procs)
    if key == "graph" and not any(len(r) for r in ranks):  # as json_ranks: no trees, flat
        return _streamed(lambda path: _core.write_flat_json(path, index, ranks, meta, head, tail))
    return _streamed(lambda path: _core.write_tree_json(path, index, ranks, meta, key, head, tail))


def _flamegraph(component: ComponentOutput) -> Callable[[bytes], None]:
    index, copy = component.index, component.copies
    if component.live:
        return _streamed(lambda path: _core.write_live_flamegraph_json(path, index, "\n", copy), 1)
    roots = [t for rank in component.trees() for t in rank]
    return _streamed(lambda path: _core.write_flamegraph_json(path, index, roots, "\n"))


def _text_table(component: ComponentOutput) -> str | Callable[[bytes], None]:
    if component.text or not component.live:
        return component.text
    index, summary, copy = component.index, component.summary, component.copies
    cap = _cap(component)
    return _streamed(lambda path: _core.write_live_text_table(path, index, summary, copy, *cap), 1)


def _functions(run: RunOutput) -> Callable[[bytes], None] | None:
    # every label with its hashes, as _json.dumps writes {"timemory": {"functions": {label:
    # [hash, ...]}}}, written natively: a million labels made no Python dict and string
    if not metadata_wanted(run.wrote):
        return None
    return _streamed(lambda path: _core.write_functions_json(path, "\n"))


def _metadata(run: RunOutput) -> str | None:
    # registered after functions: its "output" list then names every file written
    if not metadata_wanted(run.wrote):
        return None
    metadata = manager.get_metadata()
    # the processes, ranks and threads whose data this write holds (as in every JSON file)
    counts = _meta(len(run.procs) if run.procs is not None else 1, run.procs)
    metadata["counts"] = {
        k: counts[k] for k in ("process_count", "mpi_size", "thread_count", "concurrency")
    }
    if run.plan.marker is not None:
        metadata["checkpoint"] = run.plan.marker
        if run.plan.is_checkpoint:
            metadata["output"] = {k: list(v) for k, v in run.plan.written.items()}
    return _json.dumps({"timemory": {"metadata": metadata}}) + "\n"


def _announce_metadata(run: RunOutput, path: str) -> str:
    functions = path_text(run.plan.path("functions", ".json"))  # a non-UTF-8 name, escaped
    return f"[metadata::manager::finalize]> Outputting '{path_text(path)}' and '{functions}'..."


register_format(Format("json", "json_output", ".json", _flat_json, "flat"))
register_format(Format("tree", "tree_output", ".tree.json", _tree_json, "tree", kind="tree"))
register_format(
    Format(
        "flamegraph",
        "flamegraph_output",
        ".flamegraph.json",
        _flamegraph,
        "tree",
        kind="flamegraph",
        applies=lambda info: bool(info["flamegraph"]),
    )
)
register_format(Format("text", "text_output", ".txt", _text_table, "table", kind="text"))
register_format(Format("functions", "", ".json", _functions, "run", announce=False))
register_format(Format("metadata", "", ".json", _metadata, "run", announce=_announce_metadata))
