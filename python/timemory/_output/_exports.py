"""The exports: the call graph in the formats of the tools users already have open (pstats for
snakeviz and gprof2dot, speedscope, callgrind for KCachegrind, a Perfetto / Chrome trace).

Each export is one run-level format of the registry (:mod:`timemory._output._registry`), one
file per write holding every component with data, enabled by its setting (off by default):

=============  ====================  ==========================  ===========================
format         setting               file (in the output folder)  writer
=============  ====================  ==========================  ===========================
``pstats``     ``pstats_output``     ``pstats.prof``             ``_pstats.stream_pstats``
``speedscope`` ``speedscope_output`` ``speedscope.json``         ``_speedscope.make_speedscope``
``callgrind``  ``callgrind_output``  ``callgrind.out.timemory``  ``_speedscope.make_callgrind``
``perfetto``   ``perfetto_output``   ``perfetto.trace.json``     ``_timeline.make_perfetto``
=============  ====================  ==========================  ===========================

A writer is ``make_<name>(src)`` over an :class:`ExportSource` (the data of one write, in the
form the native joined walk reads) and returns what a registry format returns. The writer
modules are imported when a file is made, not with this module: ``import timemory`` does not
pay for them, and a writer that is missing from this build makes its format report itself
unavailable (:func:`available`) instead of breaking the others.

The background checkpoints do not write the exports: they are rendered from the final data
(a checkpoint of a large graph would spend seconds of the program's CPU on files that the
next checkpoint replaces), and what a killed run keeps, its tree JSON, is what
``timemory export DIR`` makes them from afterwards.

:func:`export` writes them on demand, from this process's data now or from a saved output
folder (``timemory export DIR --to speedscope``).
"""

from __future__ import annotations

import os

from .. import _core, _processes
from .. import settings as _settings
from .._components import MEASURABLE
from ._registry import Format, formats, register_format
from ._run import TREE_READERS

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Sequence
    from typing import Any

    from ._run import RunOutput

__all__ = [
    "EXPORTS",
    "ExportSource",
    "available",
    "export",
    "export_names",
    "format_choices",
    "select_formats",
]

#: format name -> (setting, file suffix after the name, writer module, writer function,
#: what the file is for): the file is ``<name><suffix>`` in the output folder
EXPORTS: dict[str, tuple[str, str, str, str, str]] = {
    "pstats": (
        "pstats_output",
        ".prof",
        "timemory._output._pstats",
        "stream_pstats",
        "snakeviz, gprof2dot, pstats.Stats",
    ),
    "speedscope": (
        "speedscope_output",
        ".json",
        "timemory._output._speedscope",
        "make_speedscope",
        "speedscope (https://www.speedscope.app)",
    ),
    "callgrind": (
        "callgrind_output",
        ".out.timemory",
        "timemory._output._speedscope",
        "make_callgrind",
        "KCachegrind, QCachegrind, gprof2dot -f callgrind",
    ),
    "perfetto": (
        "perfetto_output",
        ".trace.json",
        "timemory._output._timeline",
        "make_perfetto",
        "Perfetto (ui.perfetto.dev), chrome://tracing",
    ),
}


class ExportSource:
    """The data of one export, as the writers read them.

    ``indices``: the components with data, in column order (the joined walk's columns);
    ``native``: what the ``_core`` functions take as their ``source``: a list of component
    indices (this process's live call graphs) or a list of ``(index, ranks)`` tuples, ``ranks``
    one list of root trees per rank or process (trees read back from files or exchanged);
    ``rank``: the rank the live rows carry (0 without MPI); ``copy``: live graphs are copied
    under their lock before they are read (the program records on meanwhile)."""

    __slots__ = ("indices", "native", "rank", "copy")

    def __init__(self, indices: list[int], native: Any, rank: int = 0, copy: bool = False):
        self.indices, self.native, self.rank, self.copy = list(indices), native, rank, copy

    def unit(self, index: int) -> tuple[str, float]:
        """The display unit of a component's (first) value: its name and its size in base
        units (``("sec", 1e9)`` for the clocks, whose entries hold ns; ``("", 1.0)`` for a
        count)."""
        return self.units(index)[0]

    def units(self, index: int) -> list[tuple[str, float]]:
        """:meth:`unit` of each value of a component with several values (read and written
        bytes...)."""
        sizes, names = _core.unit_info(index)
        out = [(str(n), float(s) or 1.0) for s, n in zip(sizes, names)]
        return out or [("", 1.0)]

    def __repr__(self) -> str:
        keys = [_core.component_info(i)["key"] for i in self.indices]
        kind = "loaded" if self.native and isinstance(self.native[0], tuple) else "live"
        return f"ExportSource({kind}, components={keys}, rank={self.rank})"

    @classmethod
    def live(cls, components: Any = None, copy: bool = False) -> ExportSource:
        """This process's recorded call graphs (of ``components``: all with data when None)."""
        wanted = _wanted(components)
        indices = [i for i in sorted(MEASURABLE) if _core.has_data(i)]
        if wanted is not None:
            indices = [i for i in wanted if i in indices]
        return cls(indices, list(indices), _processes.rank(), copy)

    @classmethod
    def exchanged(cls, procs: Any, components: Any = None) -> ExportSource:
        """Every process's data after an exchange (``procs``, a ``storage.Processes`` with
        the trees: :func:`timemory._output._run.tree_needed` asks for them while an export
        is enabled), one list of trees per process."""
        from ..storage import _storage_for

        wanted = _wanted(components)
        indices = procs.indices()
        if wanted is not None:
            indices = [i for i in wanted if i in indices]
        storages: list[Any] = [_storage_for(i) for i in indices]
        native = [(i, s._tree_lists(procs)) for i, s in zip(indices, storages)]
        return cls(indices, native)

    @classmethod
    def from_folder(cls, path: str, components: Any = None) -> ExportSource:
        """The trees of a saved output folder (its ``*.tree.json`` files: ``tree_output``
        must have been on), or of one tree JSON file. Raises ``ValueError`` in one line for a
        missing folder, one without tree JSON, or a file that is not one."""
        try:
            wanted = _wanted(components)
        except ValueError:
            # a Python-defined component that only the writing process registered: known
            # once its file is read (timemory.storage reads it back with what the file says)
            loaded = _load_folder(path, None)
            wanted = _wanted(components)
            named = wanted or []
            loaded = [(i, ranks) for i in named for j, ranks in loaded if i == j]
            if not loaded:
                names = ", ".join(_core.component_info(i)["key"] for i in named)
                raise ValueError(f"no tree JSON of {names} in '{_text(path)}'") from None
        else:
            loaded = _load_folder(path, wanted)
        return cls([i for i, _ in loaded], loaded)


def _wanted(components: Any) -> list[int] | None:
    """The measurable components of ``components`` (None: every one); ValueError (one line,
    the closest valid names) for an unknown name."""
    if components is None or components == [] or components == ():
        return None
    from .._components import resolve

    return resolve(components, measurable_only=True)


def _tree_files(path: str) -> list[str]:
    """The tree JSON files of an output folder (or ``path`` itself, one such file); ValueError
    in one line for a missing folder or one without tree JSON."""
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise ValueError(f"no such output folder: '{_text(path)}'")
    try:
        names = sorted(os.listdir(path))
    except OSError as err:
        raise ValueError(f"cannot read the output folder '{_text(path)}': {err.strerror}") from None
    files = [os.path.join(path, n) for n in names if n.endswith(".tree.json")]
    if not files:
        raise ValueError(
            f"no tree JSON (*.tree.json) in '{_text(path)}': the exports are made from the "
            "call-graph trees, which are written while tree_output is on (TIMEMORY_TREE_OUTPUT"
            ", the default; --format with tree)"
        )
    return files


def _load_folder(path: str, wanted: list[int] | None) -> list[tuple[int, list[Any]]]:
    """``[(index, ranks)]`` of the tree JSON files of a folder, in component order; the files
    of one component (one per rank when each rank wrote its own) are one list of ranks."""
    import json

    from .. import storage

    files = _tree_files(path)
    load_folder = getattr(storage, "load_folder", None)
    if load_folder is not None and os.path.isdir(path):
        try:
            return load_folder(path, wanted)
        except OSError as err:
            raise ValueError(str(err)) from None
    by_index: dict[int, list[Any]] = {}
    for name in files:
        try:
            with open(name, "rb") as stream:
                document = json.load(stream)
            body = document["timemory"]
            keys = [k for k in body if isinstance(body[k], dict)]
            # a known component, or a Python-defined one read back with what the file says
            found = (
                storage._index_of_section(keys[0], body[keys[0]], name) if len(keys) == 1 else None
            )
            index = -1 if found is None else found
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"'{_text(name)}' is not a timemory tree JSON file ({err})") from None
        if index not in MEASURABLE:
            raise ValueError(f"'{_text(name)}' is not a timemory tree JSON file")
        if wanted is not None and index not in wanted:
            continue
        # the storage class checks the document and names the place of what is wrong in it
        cls: Any = storage._storage_for(index)
        ranks = cls.load_json_tree_dmp(document)
        by_index.setdefault(index, []).extend(ranks)
    if not by_index:
        names = ", ".join(_core.component_info(i)["key"] for i in wanted or ())
        raise ValueError(f"no tree JSON of {names} in '{_text(path)}'")
    order = wanted if wanted is not None else sorted(by_index)
    return [(i, by_index[i]) for i in order if i in by_index]


def _text(path: str) -> str:
    from .._files import path_text

    return path_text(path)


# ------------------------------------------------------------------ the writers
def available(name: str) -> bool:
    """Whether the writer of the export ``name`` is in this build."""
    import importlib.util

    module = EXPORTS[name][2]
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _writer(name: str) -> Callable[[ExportSource], Any]:
    """The writer function of the export ``name``; ValueError in one line when this build has
    no such writer."""
    import importlib

    _, _, module, function, _ = EXPORTS[name]
    try:
        return getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError):
        raise ValueError(
            f"the {name} export is not available in this build ({module}.{function} is missing)"
        ) from None


# The sources of the write in progress (live and exchanged), each made once for all its
# exports (the exchanged trees are unpacked once) and released by the last enabled export.
_CURRENT: dict[Any, Any] = {"run": None}


def _source_of(run: RunOutput, name: str) -> ExportSource:
    """The source the export ``name`` reads in the write ``run``: the exchanged processes'
    trees after an exchange, else this process's live graphs. The Perfetto timeline is
    recorded per process and handed over by the pool workers as events, not as trees:
    without MPI, a process that recorded one gives its writer the live graphs (the writer
    adds the workers' timelines itself)."""
    live = run.procs is None or (
        name == "perfetto" and not _processes.collective_in_use() and _timeline_recorded()
    )
    if _CURRENT["run"] is not run:
        _CURRENT.clear()
        _CURRENT["run"] = run
    src = _CURRENT.get(live)
    if src is None:
        src = ExportSource.live() if live else ExportSource.exchanged(run.procs)
        _CURRENT[live] = src
    enabled = [f.name for f in formats("run") if f.name in EXPORTS and f.enabled()]
    if not enabled or enabled[-1] == name:
        _CURRENT.clear()  # the writer's content holds its source while the file is written
        _CURRENT["run"] = None
    return src


def _timeline_recorded() -> bool:
    """Whether this process recorded timeline events (the timeline writer says so)."""
    import importlib

    try:
        timeline = importlib.import_module("timemory._output._timeline")
    except ImportError:
        return False
    recorded = getattr(timeline, "recorded", None)
    return bool(recorded()) if recorded is not None else False


def _run_writer(name: str) -> Callable[[RunOutput], Any]:
    def write(run: RunOutput) -> Any:
        if run.plan.is_checkpoint or not run.wrote:
            return None  # made from the final data only (see the module's docstring)
        src = _source_of(run, name)
        if not src.indices:
            return None
        try:
            make = _writer(name)
        except ValueError as err:
            from .._text import ERROR, echo

            echo(f"[timemory]> {name}_output: {err}; no {name} file was written", level=ERROR)
            return None
        try:
            return make(src)
        except Exception as err:  # noqa: BLE001 - an export must not cost the run its files
            from .._text import ERROR, echo

            echo(
                f"[timemory]> {name}_output: the {name} file was not written: "
                f"{type(err).__name__}: {err}",
                level=ERROR,
            )
            return None

    return write


# ------------------------------------------------------------------ the selection
def export_names() -> list[str]:
    """The export formats, in the order of the registry."""
    return [f.name for f in formats("run") if f.name in EXPORTS]


def format_choices() -> dict[str, str]:
    """Every format the settings and ``--format`` select: name -> its setting, in
    registration order; formats written always (metadata) and those that share an earlier
    format's setting (the line profiler's line tables follow ``text`` and ``json``) are not
    choices of their own."""
    choices: dict[str, str] = {}
    for fmt in formats():
        if fmt.setting and fmt.setting not in choices.values():
            choices[fmt.name] = fmt.setting
    return choices


def parse_formats(text: str | Sequence[str], choices: Sequence[str] | None = None) -> list[str]:
    """The format names of a comma-separated list (or a list of such) among ``choices``
    (default: :func:`format_choices`); ValueError in one line naming the valid choices for an
    unknown or missing name."""
    from .._text import split_names

    items = [text] if isinstance(text, str) else list(text)
    names = [n for item in items for n in split_names(item)]
    if choices is None:
        choices = list(format_choices())
    unknown = [n for n in names if n not in choices]
    if unknown or not names:
        from .._about import close_matches, did_you_mean

        what = f"unknown format {unknown[0]!r}" if unknown else "no format named"
        hint = did_you_mean(close_matches(unknown[0], choices)) if unknown else ""
        raise ValueError(f"{what}{'; ' + hint if hint else ''} (the formats: {', '.join(choices)})")
    return list(dict.fromkeys(names))


def select_formats(names: Sequence[str]) -> None:
    """Write exactly the formats ``names`` (validated by :func:`parse_formats`): their
    settings on, the settings of every other choice off (the run-level files metadata.json
    and functions.json are written whenever a file is). ``perfetto`` also records the
    timeline its trace is made of."""
    for name, setting in format_choices().items():
        setattr(_settings, setting, name in names)
    if "perfetto" in names:
        enable_timeline()


def enable_timeline() -> bool:
    """Record the timeline of begin/end events the Perfetto trace is made of, when this build
    can (``timemory._output._timeline.enable_recording``); returns whether it could."""
    import importlib

    try:
        timeline = importlib.import_module("timemory._output._timeline")
    except ImportError:
        return False
    enable = getattr(timeline, "enable_recording", None)
    if enable is None:
        return False
    enable()
    return True


# ------------------------------------------------------------------ on demand
def export(
    to: str | Sequence[str],
    path: str | os.PathLike[str] | None = None,
    *,
    components: Any = None,
    source: str | os.PathLike[str] | None = None,
) -> list[str]:
    """Write the exports ``to`` (a format name, a comma-separated list or a list of names:
    ``"pstats"``, ``"speedscope"``, ``"callgrind"``, ``"perfetto"``) and return the files
    written (a format that can hold none of the components, pstats without a timer, writes
    nothing and says so on stderr).

    ``source``: None for this process's data now (the program records on meanwhile: each
    graph is copied under its lock), or a saved output folder (its tree JSON, written while
    ``tree_output`` is on) or one ``*.tree.json`` file. ``path``: the file to write (one
    format), or a folder for the files (an existing folder, a path ending in a separator, or
    several formats); default: the output folder (``settings.output_path``) for this
    process's data, the source's folder for a saved one. ``components``: the components to
    export (default: every one with data).

    Files are named as at finalize (``speedscope.json``...), written atomically (a temporary
    file created exclusively in the folder, then renamed: never through a planted symlink)
    and replace a file of that name. Raises ``ValueError`` in one line for an unknown format,
    a missing folder, a folder without tree JSON or nothing recorded, ``OSError`` naming the
    path for a file that cannot be written."""
    exports = parse_formats(to, export_names())
    if source is not None:
        _tree_files(os.fspath(source))  # what the user named first, before this build's writers
    writers = {n: _writer(n) for n in exports}
    if source is None:
        src = ExportSource.live(components, copy=True)
        if not src.indices:
            have = ExportSource.live().indices
            if not have:
                raise ValueError("nothing was recorded: there is no data to export")
            keys = ", ".join(_core.component_info(i)["key"] for i in have)
            raise ValueError(f"no data of these components (the components with data: {keys})")
        folder = None
    else:
        where = os.fspath(source)
        src = ExportSource.from_folder(where, components)
        folder = where if os.path.isdir(where) else os.path.dirname(where) or os.curdir
    targets = _targets(exports, None if path is None else os.fspath(path), folder)
    written = []
    for name in exports:
        content = writers[name](src)
        try:
            if not _write_file(targets[name], content):
                continue  # nothing of this source goes in this format (the writer said why)
        except OSError as err:
            why = " ".join(str(err).split())
            raise OSError(err.errno, f"cannot write '{_text(targets[name])}': {why}") from None
        written.append(targets[name])
    return written


def _targets(names: list[str], path: str | None, folder: str | None) -> dict[str, str]:
    """Where each export goes: ``path`` itself (one format, not a folder), else
    ``<folder>/<name><suffix>`` with ``folder`` ``path``, the source's or the output
    folder."""
    if path is not None:
        if len(names) == 1 and not os.path.isdir(path) and not path.endswith(("/", os.sep)):
            return {names[0]: path}
        folder = path
    if folder is None:
        from ._plan import OutputPlan

        plan = OutputPlan.from_settings()
        return {n: plan.path(n, EXPORTS[n][1]) for n in names}
    return {n: os.path.join(folder, n + EXPORTS[n][1]) for n in names}


def _write_file(path: str, content: Any) -> bool:
    """Write a writer's ``content`` to ``path`` atomically; False when there is none (the
    writer said why)."""
    from .._files import atomic_write, atomic_write_by

    if content is None:
        return False
    if callable(content):  # a native writer that streams the file
        atomic_write_by(path, content)
    else:
        atomic_write(path, *(content if isinstance(content, tuple) else (content,)))
    return True


# ------------------------------------------------------------------ the registrations
for _name, (_setting, _suffix, _, _, _) in EXPORTS.items():
    # before metadata.json, whose list of files then names them
    register_format(
        Format(_name, _setting, _suffix, _run_writer(_name), "run", kind=_name), before="metadata"
    )
    TREE_READERS.add(_name)  # exchanged with the flat data while the export is enabled
del _name, _setting, _suffix
