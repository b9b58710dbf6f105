"""The run's lifecycle: initialise, read the collected data, report and finalise.

``finalize()`` (registered with atexit on import) stops the recording, then writes every
non-empty component's outputs through the output layer. What lies above this layer plugs in by
registering, so that nothing here imports it:

* :func:`add_initializer`: after :func:`initialize` read the settings (MPI's start-up);
* :func:`add_stopper`: stop a recording hook before anything is gathered (the profiler's);
* :func:`add_handoff`: a process whose data another one writes (a pool worker) hands them
  over instead of writing;
* :func:`add_finalizer`: after the output is written (MPI's finalisation);
* :func:`add_local_writer`: an aborting MPI rank's other data (the line profiler's lines).

The transports register the other processes' data with :mod:`timemory._processes`; the
renderers register formats with :mod:`timemory._output`.

The component and storage modules are imported where they are used: importing them up front
is most of timemory's memory footprint, which ``python -m timemory.profiler`` would otherwise
add to every profiled program. The output of this process alone (no MPI, transport or pool
workers) goes from the native call graph to the files without them, and metadata.json is
written without the json module (tests/test_import_footprint.py).
"""

from __future__ import annotations

import gc
import os
import sys

from . import _checkpoint, _core, _output, _processes
from . import settings as _settings
from ._components import MEASURABLE, measurable_indices, resolve
from ._output import manager
from ._text import echo, env_flag

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Sequence
    from typing import Any

__all__ = [
    "add_finalizer",
    "add_handoff",
    "add_initializer",
    "add_local_writer",
    "add_stopper",
    "clear",
    "finalize",
    "get",
    "get_text",
    "init",
    "initialize",
    "is_finalized",
    "manager",
    "report",
    "size",
    "stop_hooks",
    "timemory_finalize",
    "timemory_init",
    "write_rank_local",
    "written_processes",
]

_initializers: list[Callable[[], None]] = []
_stoppers: list[Callable[[], None]] = []
_handoffs: list[Callable[[], bool]] = []
_finalizers: list[Callable[[], None]] = []
#: Writers of data kept outside timemory's storage (the line profiler's lines), called by
#: :func:`write_rank_local` before timemory's own files; each writes this rank's data alone.
_local_writers: list[Callable[[], None]] = []


def add_initializer(func: Callable[[], None]) -> None:
    """Call ``func()`` at the end of every :func:`initialize` with a program name."""
    _initializers.append(func)


def add_stopper(func: Callable[[], None]) -> None:
    """Call ``func()`` to stop a recording hook (its open frames are recorded) before the
    data are gathered or written."""
    _stoppers.append(func)


def add_handoff(func: Callable[[], bool]) -> None:
    """At finalize, before anything else: ``func()`` returns True when it handed this
    process's data to another process that writes them; finalize then writes nothing."""
    _handoffs.append(func)


def add_finalizer(func: Callable[[], None]) -> None:
    """Call ``func()`` once finalize has written the output."""
    _finalizers.append(func)


def add_local_writer(writer: Callable[[], None]) -> None:
    """Have :func:`write_rank_local` call ``writer()`` too (an aborting rank's other data)."""
    _local_writers.append(writer)


# ------------------------------------------------------------------ data access
def _indices(components: Any) -> list[int]:
    """Measurable component indices for a user list (all when empty)."""
    return measurable_indices(list(components or []))


def _storage(index: int) -> Any:
    from .storage import _storage_for

    return _storage_for(index)


def _exchanged(indices: Sequence[int], views: Sequence[str]) -> tuple[bool, Any]:
    """``(distributed, processes)``: whether data are exchanged at all (MPI, a custom
    transport, pool workers) and, if so, every process's data on rank zero (None elsewhere).
    A collective when distributed."""
    if not _processes.distributed():
        return False, None
    from .storage import exchange, local_payload

    return True, exchange(local_payload(indices, views))


def get(hierarchy: bool = False, components: Sequence[Any] = ()) -> dict[str, Any]:
    """The collected data as a JSON dict (tree form when ``hierarchy``): every process's on
    rank zero under MPI (a collective: every rank must call it), this process's elsewhere.

    Only components with data appear. A new dict is built on every call.
    """
    indices = _indices(components)
    distributed, procs = _exchanged(indices, ["tree" if hierarchy else "flat"])
    out: dict[str, Any] = {}
    for index in indices:
        storage = _storage(index)
        if procs is not None:
            if index not in procs.indices():
                continue
            data = storage._tree_lists(procs) if hierarchy else storage._flat_lists(procs)
        else:
            if not _core.has_data(index):
                continue
            data = [storage.get_tree()] if hierarchy else [storage.get()]
        out.update(storage.dumps(data)["timemory"])
    return {"timemory": out}


def get_text(components: Sequence[Any] = ()) -> str:
    """The text tables of the components with data, concatenated: every process's on rank
    zero under MPI, with the cross-rank summary (a collective), "" on the other ranks."""
    indices = _indices(components)
    distributed, procs = _exchanged(indices, ["flat"])
    if distributed and procs is None:
        return ""
    if procs is None:
        options = _output.text_options()  # the same table as the text file
        return "".join(
            _core.text_table(i, _core.flat_snapshot(i), *options)
            for i in indices
            if _core.has_data(i)
        )
    out = []
    options = _output.text_options()
    for index in indices:
        if index not in procs.indices():
            continue
        storage = _storage(index)
        flat = storage._flat_lists(procs)
        out.append(_core.text_table(index, [e for rank in flat for e in rank], *options))
        if len(procs) > 1:
            out.append(_output.summary_table(index, storage._summary(procs), procs))
    return "".join(out)


def clear(components: Sequence[Any] = ()) -> None:
    """Empty the storage of these components (all when empty, and then also the timeline
    and the data that pool workers left for this process)."""
    for index in _indices(components):
        _core.clear(index)
    if not components:
        _core.timeline_clear()
        _processes.discard_local()


def size(components: Sequence[Any] = ()) -> dict[int, int]:
    """Number of call-graph entries per requested component (keyed by enum int)."""
    comps = list(components or [])
    indices = resolve(comps) if comps else sorted(MEASURABLE)
    return {int(i): (_core.graph_size(i) if i in MEASURABLE else 0) for i in indices}


# ------------------------------------------------------------------ output
def _write_all(local_only: bool = False, folder: str = "", final: bool = False) -> bool:
    """Write every non-empty storage, then print the tables: all files are on disk before
    anything goes to the console.

    Under MPI, rank zero writes every rank's data (one collective gather) and the other
    ranks write nothing, unless the output path names the rank or ``local_only`` (this rank
    alone, to ``<label>_<rank>`` files, for an aborting rank). ``folder`` replaces
    ``output_path`` for this write; ``final``: the write at finalize, which replaces the
    checkpoints (metadata.json says so)."""
    plan = _output.OutputPlan.from_settings(folder, rank_suffix=local_only)
    if final:
        plan.marker = _checkpoint.final_marker()
    procs = None
    if not local_only and not plan.names_rank and _processes.distributed():
        from .storage import exchange, local_payload

        views = ["flat", "tree"] if _output.tree_needed() else ["flat"]
        # the Python-defined components too (other ranks' are matched by key on arrival)
        indices = set(MEASURABLE).union(_core.user_component_indices())
        procs = exchange(local_payload(sorted(indices), views))
        _state["processes"] = procs if procs is not None else False
        if procs is None:
            return False  # rank zero writes this rank's data
    return _output.write_run(plan, procs)


def report(filename: str = "") -> None:
    """Write (and print) every storage now, as finalize does, without finalising.
    A non-empty ``filename`` replaces ``output_path`` for this call."""
    _write_all(folder=filename)


# ------------------------------------------------------------------ lifecycle
_state: dict[str, Any] = {"finalized": False, "finalizing": False, "processes": None}


def is_finalized() -> bool:
    return _state["finalized"]


def written_processes() -> Any:
    """What the last output gathered: every process's data on rank zero, False on the other
    ranks of an MPI job, None when the output held this process alone."""
    return _state.get("processes")


def _output_dir_name(argv0: str, prefix: str, suffix: str) -> str:
    name = os.path.basename(argv0)
    for ext in (".py", ".exe"):
        if name.endswith(ext):
            name = name[: -len(ext)]
    name = f"{prefix}{name}{suffix}".replace("_", "-")
    while "--" in name:
        name = name.replace("--", "-")
    return name if name.strip("-") else "timemory-output"


def initialize(
    argv: Sequence[str] | str = (), prefix: str = "timemory-", suffix: str = "-output"
) -> None:
    """Name the output directory after the program and (re)read the settings.

    ``initialize(["/x/test_hatchet.py"])`` sets ``output_path`` to
    ``timemory-test-hatchet-output``; ``TIMEMORY_OUTPUT_PATH`` still wins.
    No-op for an empty argv.
    """
    if isinstance(argv, str):
        argv = [argv]
    argv = list(argv)
    if not argv:
        return
    _settings.output_path = _output_dir_name(argv[0], prefix, suffix)
    _settings.read_config_files()
    _settings.parse()
    _settings.command_line = list(argv)
    for func in _initializers:
        func()


init = timemory_init = initialize


def stop_hooks() -> None:
    """Stop the registered recording hooks (the profiler, tracer and line profiler if
    running): their open frames and lines are recorded before anything is gathered or
    written."""
    for func in _stoppers:
        func()


def _stop_recording() -> None:
    gc.collect()
    stop_hooks()
    if _settings.stack_clearing:
        _core.stop_all_bundles()


def _skip() -> bool:
    return _state["finalized"] or _state["finalizing"] or env_flag("TIMEMORY_SKIP_FINALIZE")


def _written_paths() -> list[str]:
    """Every file this process's writes listed (``timemory.manager``)."""
    return [path for paths in manager._outputs.values() for path in paths]


def finalize() -> None:
    """Stop running markers and write every non-empty storage. Runs once.

    Under MPI every rank must get here (it is a collective): at exit, or inside
    ``MPI_Finalize``. A pool worker leaves its data to its parent instead of writing."""
    _checkpoint.stop()  # no checkpoint races the final write, nor runs on during exit
    if _skip():
        return
    _state["finalizing"] = True
    try:
        for handoff in _handoffs:
            if handoff():
                return
        _stop_recording()
        if _settings.auto_output:
            _write_all(final=True)
            _checkpoint.remove_stale(_written_paths())
        _processes.discard_local()
    finally:
        _state["finalizing"] = False
        _state["finalized"] = True
    for func in _finalizers:
        func()


def write_rank_local(reason: str) -> None:
    """Finalise this rank alone, without a collective: its data go to ``<label>_<rank>``
    files. For a rank that cannot reach the collective finalize (an uncaught exception)."""
    _checkpoint.stop()  # no checkpoint races the final write
    if _skip():
        return
    _state["finalizing"] = True
    rank = _processes.rank()
    try:
        echo(f"[timemory]> rank {rank}: {reason}; writing this rank's data alone", sys.stderr)
        _stop_recording()
        for writer in _local_writers:
            try:
                writer()
            except Exception as err:  # noqa: BLE001 - timemory's own files must still be written
                echo(f"[timemory]> rank {rank}: {err!r}", sys.stderr)
        if _settings.auto_output:
            _write_all(local_only=True, final=True)
            _checkpoint.remove_stale(_written_paths())
    finally:
        _state["finalizing"] = False
        _state["finalized"] = True


timemory_finalize = finalize
