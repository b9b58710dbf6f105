"""Run-level control: initialise, collect, report and finalise.

``finalize()`` (registered with atexit on import) stops running markers and
writes every non-empty component's outputs; every file is written atomically.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence

from . import _core, _workers
from . import settings as _settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

# The component and storage modules are imported where they are used: importing them up front
# is most of timemory's memory footprint, which `python -m timemory.profiler` would otherwise add
# to every profiled program. The output of this process alone (no MPI, transport or pool
# workers) goes from the native call graph to the files without them, and metadata.json is
# written without the json module (tests/test_import_footprint.py): at exit they cost about
# 0.5 MiB of peak RSS.
# The components that can hold data, from the table of every component, which is not kept:
# its dicts would be about 0.2 MiB of every profiled program's memory. The description of a
# component is read again (_core.component_info) where its files are written.
# papi_vector / papi_array count in any case: their availability follows settings.papi_events
_MEASURABLE = frozenset(
    info["index"] for info in _core.component_table() if info["available"] and info["has_value"]
) | frozenset(_core.hw_component_indices())


def _resolve(components: Any) -> list[int]:
    return list(_core.resolve_components(components, False))


def _storage(index: int) -> Any:
    from .storage import _storage_for

    return _storage_for(index)


class _Ref:
    """An entry of a native flat or tree batch (slots ``_b``, ``_i``, as the storage result and
    tree objects): what the native writers take, made without importing timemory.storage."""

    __slots__ = ("_b", "_i")

    def data(self) -> Any:
        return self._b.data(self._i)

    def prefix(self) -> str:
        return self._b.prefix(self._i)


def output_meta(num_ranks: int = 1) -> dict[str, int]:
    """The metadata keys every JSON output carries, for ``num_ranks`` lists of data."""
    mpi = sys.modules.get("timemory.mpi")
    mpi_size = mpi.size() if mpi is not None and mpi.comm() is not None else 1
    nthreads = max(_core.thread_count(), 1)
    return {
        "thread_count": nthreads,
        "mpi_size": mpi_size,
        "upcxx_size": 1,
        "process_count": max(num_ranks, mpi_size),
        "num_ranks": max(num_ranks, 1),
        "concurrency": nthreads,
    }


# json.dumps(obj, indent=2) without importing json (about 100 KiB of memory at exit, where the
# finalize path needs no other JSON): the same text, byte for byte (tests/test_output.py).
_JSON_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}


def _json_str(text: str) -> str:
    if text.isascii() and text.isprintable() and '"' not in text and "\\" not in text:
        return '"' + text + '"'
    out = []
    for ch in text:
        if ch in _JSON_ESCAPES:
            out.append(_JSON_ESCAPES[ch])
        elif " " <= ch <= "~":
            out.append(ch)
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            n = ord(ch) - 0x10000
            out.append(f"\\u{0xD800 | (n >> 10):04x}\\u{0xDC00 | (n & 0x3FF):04x}")
    return '"' + "".join(out) + '"'


def _json_dumps(obj: Any, level: str = "") -> str:
    """``json.dumps(obj, indent=2)``."""
    if isinstance(obj, str):
        return _json_str(obj)
    if obj is None:
        return "null"
    if obj is True or obj is False:
        return "true" if obj else "false"
    if isinstance(obj, int):
        return int.__repr__(obj)
    if isinstance(obj, float):
        if obj != obj:
            return "NaN"
        if obj in (float("inf"), float("-inf")):
            return "Infinity" if obj > 0 else "-Infinity"
        return float.__repr__(obj)
    inner = level + "  "
    if isinstance(obj, (list, tuple)):
        if not obj:
            return "[]"
        items = [inner + _json_dumps(v, inner) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + level + "]"
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = []
        for key, value in obj.items():
            if not isinstance(key, str):
                if key is not None and not isinstance(key, (int, float)):
                    raise TypeError(
                        f"keys must be str, int, float, bool or None, not {type(key).__name__}"
                    )
                key = _json_dumps(key)
            items.append(f"{inner}{_json_str(key)}: {_json_dumps(value, inner)}")
        return "{\n" + ",\n".join(items) + "\n" + level + "}"
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


__all__ = [
    "manager",
    "initialize",
    "init",
    "timemory_init",
    "finalize",
    "timemory_finalize",
    "report",
    "get",
    "get_text",
    "clear",
    "size",
    "is_finalized",
    "write_rank_local",
]

_TRUTHY = {"yes", "y", "true", "t", "1", "on"}
_LAUNCH = time.localtime()


def _env_true(name: str, default: str = "") -> bool:
    return os.environ.get(name, default).strip().lower() in _TRUTHY


def _indices(components: Iterable[Any]) -> list[int]:
    """Measurable component indices for a user list (all when empty)."""
    comps = list(components or [])
    if not comps:
        return sorted(_MEASURABLE)
    return [i for i in _resolve(comps) if i in _MEASURABLE]


# ------------------------------------------------------------------ MPI
# timemory.mpi is loaded once mpi4py's MPI module is (timemory._import_hooks): without it MPI
# cannot be in use, and these need not import it.
def _mpi_comm() -> Any:
    mpi = sys.modules.get("timemory.mpi")
    return None if mpi is None else mpi.comm()


def _mpi_rank() -> int:
    mpi = sys.modules.get("timemory.mpi")
    return 0 if mpi is None else mpi.rank()


# ------------------------------------------------------------------ data access
def _exchanged(indices: Sequence[int], views: Sequence[str]) -> tuple[bool, Any]:
    """``(distributed, processes)``: whether data are exchanged at all (MPI, a custom
    transport, pool workers) and, if so, every process's data on rank zero (None elsewhere).
    A collective when distributed."""
    from .storage import _distributed, exchange, local_payload

    if not _distributed():
        return False, None
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
        return "".join(
            _core.text_table(i, _core.flat_snapshot(i)) for i in indices if _core.has_data(i)
        )
    out = []
    for index in indices:
        if index not in procs.indices():
            continue
        storage = _storage(index)
        flat = storage._flat_lists(procs)
        out.append(_core.text_table(index, [e for rank in flat for e in rank]))
        if len(procs) > 1:
            out.append(_summary_table(index, storage._summary(procs), procs))
    return "".join(out)


def clear(components: Sequence[Any] = ()) -> None:
    """Empty the storage of these components (all when empty, and then also the data that
    pool workers left for this process)."""
    for index in _indices(components):
        _core.clear(index)
    if not components:
        _workers.discard()


def size(components: Sequence[Any] = ()) -> dict[int, int]:
    """Number of call-graph entries per requested component (keyed by enum int)."""
    comps = list(components or [])
    indices = _resolve(comps) if comps else sorted(_MEASURABLE)
    return {int(i): (_core.graph_size(i) if i in _MEASURABLE else 0) for i in indices}


# ------------------------------------------------------------------ metadata
def _physical_cores(root: str = "/sys/devices/system/cpu") -> int:
    """Cores, not hardware threads: distinct (package, core) pairs of the online CPUs'
    sysfs topology (every architecture; /proc/cpuinfo names them on x86 only), 0 without."""
    cores = set()
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        if not (name.startswith("cpu") and name[3:].isdigit()):
            continue
        topology = os.path.join(root, name, "topology")
        try:
            with open(os.path.join(topology, "physical_package_id")) as package:
                with open(os.path.join(topology, "core_id")) as core:
                    cores.add((package.read().strip(), core.read().strip()))
        except OSError:
            continue
    return len(cores)


def _cpu_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        # os.uname(), not the platform module: this runs at exit, and importing platform
        # (or subprocess, tempfile...) then turns an unhandled KeyboardInterrupt's exit
        # status 130 into 1
        "CPU_MODEL": os.uname().machine or "unknown",
        "CPU_VENDOR": "unknown",
        "CPU_FEATURES": [],
        "CPU_FREQUENCY": 0.0,
        "HW_CONCURRENCY": os.cpu_count() or 1,
    }
    cpuinfo_cores = set()
    package = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in ("model name", "Processor", "cpu model"):  # x86, old ARM, MIPS
                    info["CPU_MODEL"] = value
                elif key == "vendor_id":
                    info["CPU_VENDOR"] = value
                elif key == "flags" and not info["CPU_FEATURES"]:
                    info["CPU_FEATURES"] = value.split()
                elif key == "cpu MHz" and not info["CPU_FREQUENCY"]:
                    info["CPU_FREQUENCY"] = float(value)
                elif key == "physical id":
                    package = value
                elif key == "core id":  # a core is a (package, core id) pair
                    cpuinfo_cores.add((package, value))
    except (OSError, ValueError):
        pass
    info["HW_PHYSICAL_CPU"] = _physical_cores() or len(cpuinfo_cores) or info["HW_CONCURRENCY"]
    for level, name in ((1, "HW_L1_CACHE_SIZE"), (2, "HW_L2_CACHE_SIZE"), (3, "HW_L3_CACHE_SIZE")):
        info[name] = _cache_size(level)
    return info


def _cache_size(level: int) -> int:
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for entry in sorted(os.listdir(base)):
            path = os.path.join(base, entry)
            with open(os.path.join(path, "level")) as f:
                if int(f.read()) != level:
                    continue
            with open(os.path.join(path, "type")) as f:
                if f.read().strip() == "Instruction":
                    continue
            with open(os.path.join(path, "size")) as f:
                text = f.read().strip()
            mult = {"K": 1024, "M": 1024**2}.get(text[-1:], 1)
            return int(text.rstrip("KM")) * mult
    except (OSError, ValueError):
        pass
    return 0


class manager:
    """The run's metadata and the list of files written."""

    text_files: list[str] = []
    json_files: list[str] = []
    _info: dict[str, Any] = {}
    _user_keys: list[str] = []
    _outputs: dict[str, list[str]] = {}
    _write_metadata = 0

    @staticmethod
    def add_metadata(label: str, value: Any) -> None:
        """Add ``label: value`` to ``metadata.json`` (str, int, float or a list of those)."""
        scalar = (str, int, float)
        ok = isinstance(value, scalar) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, scalar) for v in value)
        )
        if not isinstance(label, str) or not ok:
            raise RuntimeError(
                f"add_metadata({label!r}, ...): value must be a str, int, float "
                "or a list of those, "
                f"not {type(value).__name__}"
            )
        manager._info[label] = list(value) if isinstance(value, (list, tuple)) else value
        if label not in manager._user_keys:
            manager._user_keys.append(label)

    @staticmethod
    def get_metadata() -> dict[str, Any]:
        from . import version

        info: dict[str, Any] = {}
        for key in ("SHELL", "HOME", "PWD", "USER"):
            if key in os.environ:
                info[key] = os.environ[key]
        info["LAUNCH_DATE"] = time.strftime("%m/%d/%y", _LAUNCH)
        info["LAUNCH_TIME"] = time.strftime("%H:%M", _LAUNCH)
        info["TIMEMORY_API"] = "python"
        info["TIMEMORY_VERSION"] = version
        info["TIMEMORY_GIT_DESCRIBE"] = version
        info["TIMEMORY_GIT_REVISION"] = ""
        if not manager._cpu:
            manager._cpu.update(_cpu_info())
        info.update(manager._cpu)
        info.update(manager._info)
        return {
            "info": info,
            "settings": _settings.dump(),
            "output": {k: list(v) for k, v in manager._outputs.items()},
            "environment": {
                k: v for k, v in sorted(os.environ.items()) if k.startswith("TIMEMORY_")
            },
        }

    _cpu: dict[str, Any] = {}

    @staticmethod
    def set_write_metadata(value: int) -> None:
        """-1 never write metadata.json, 0 only with other output, 1 always."""
        manager._write_metadata = int(value)

    @classmethod
    def write_ctest_notes(cls, directory: str = ".", append: bool = False) -> str:
        path = os.path.join(directory, "CTestNotes.cmake")
        lines = "".join(f'list(APPEND CTEST_NOTES_FILES "{f}")\n' for f in cls.text_files)
        os.makedirs(directory, exist_ok=True)
        with open(path, "a" if append else "w") as f:
            f.write(lines)
        return path


# ------------------------------------------------------------------ output
def _say(text: str, stream: Any = None) -> None:
    """Print without letting a closed or broken stdout (``| head``) stop the
    file writes that follow."""
    try:
        print(text, file=stream or sys.stdout, flush=True)
    except (OSError, ValueError):
        pass


def _write(
    path: str, content: str | tuple[str, ...], kind: str, label: str, announce: bool = True
) -> None:
    """Write one output file (``content``: the text, or its parts in order); a failure is
    reported and the other files still get written."""
    rank = _mpi_rank()
    try:
        _core.atomic_write(path, *((content,) if isinstance(content, str) else content))
    except ValueError as err:  # the native writer reports failures with the path
        _say(f"[{label}]|{rank}> Error writing '{path}': {err}", sys.stderr)
        return
    if announce:
        _say(f"[{label}]|{rank}> Outputting '{path}'...")
    manager._outputs.setdefault(kind, []).append(path)
    (manager.text_files if kind == "text" else manager.json_files).append(path)


def _make_temp_dir(prefix: str) -> str:
    """A new private directory under $TMPDIR (or /tmp), like ``tempfile.mkdtemp``, which is
    not imported: it runs at exit, where importing tempfile turns an unhandled
    KeyboardInterrupt's exit status 130 into 1 (and tempfile costs 1 MiB of memory)."""
    base = os.environ.get("TMPDIR") or "/tmp"
    for attempt in range(100):
        path = os.path.join(base, f"{prefix}{os.getpid()}-{time.time_ns() % 10**9}-{attempt}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary directory name under {base}")


def _output_file(basename: str, extension: str, rank_suffix: bool = False) -> str:
    """``settings.compose_output_filename``, but an output directory that cannot be
    created does not lose the data: it is reported and a new temporary directory
    takes its place for the rest of the run. ``rank_suffix`` adds ``_<rank>``."""
    rank = _mpi_rank()
    try:
        return _settings.compose_output_filename(basename, extension, rank_suffix, rank)
    except OSError as err:
        wanted = _settings.output_path
        fallback = _make_temp_dir("timemory-output-")
        _say(
            f"[timemory]> cannot create the output directory '{wanted}' ({err.strerror}); "
            f"writing to '{fallback}' instead",
            sys.stderr,
        )
        _settings.output_path = fallback
        return _settings.compose_output_filename(basename, extension, rank_suffix, rank)


def _wrap(key: str, text: str) -> tuple[str, str, str]:
    """The parts of ``{"timemory": {"<key>": <text>}}``: written one after the other, a large
    output is never copied into one string."""
    return '{"timemory": {"' + key + '": ', text, "}}\n"


def _summary_table(index: int, rows: Sequence[Any], procs: Any) -> str:
    """The cross-process summary of one component as a text table: per call-graph node, over
    the processes that have it, min / mean / max of its value, the rank with the max and the
    imbalance max/mean (first value of multi-valued components)."""
    info = _core.component_info(index)
    unit = _core.unit_info(index)[1][0]
    nranks = len({rank for rank, _, _ in procs.items})
    what = f"{nranks} RANKS" if nranks > 1 else f"{len(procs)} PROCESSES"
    if nranks > 1 and len(procs) > nranks:
        what += f" ({len(procs)} PROCESSES)"
    title = f"{info['label'].upper()}: CROSS-PROCESS SUMMARY OVER {what} [{unit}]"
    head = ("LABEL", "PROCS", "MIN", "MEAN", "MAX", "MAX RANK", "IMBALANCE")
    body = []
    for r in rows:
        first = lambda v: v[0] if isinstance(v, tuple) else v  # noqa: E731
        body.append(
            (
                r.prefix(),
                str(len(r.processes())),
                f"{first(r.min()):.3f}",
                f"{first(r.mean()):.3f}",
                f"{first(r.max()):.3f}",
                str(first(r.max_rank())),
                f"{first(r.imbalance()):.3f}",
            )
        )
    widths = [max([len(h)] + [len(b[i]) for b in body]) for i, h in enumerate(head)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            f" {c:<{widths[0]}} " if i == 0 else f" {c:>{widths[i]}} " for i, c in enumerate(cells)
        ]
        return "|" + "|".join(parts) + "|"

    total = sum(widths) + 3 * len(widths) + 1
    rule = "|" + "-" * (total - 2) + "|"
    out = [rule, "|" + title.center(total - 2) + "|", rule, line(head)]
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += [line(b) for b in body]
    out.append(rule)
    return "\n".join(out) + "\n\n"


def _json_ranks(index: int, ranks: list[Any], ranks_key: str = "") -> str:
    """The JSON text stored under ``timemory.<key>`` (``Storage.dumps_text``): flat entries
    (``ranks_key`` empty) or the root trees of each rank, under ``ranks_key``."""
    ranks = ranks or [[]]
    meta = output_meta(len(ranks))
    if ranks_key and (ranks_key != "graph" or any(len(r) for r in ranks)):
        return _core.tree_json(index, ranks, meta, ranks_key)
    return _core.flat_json(index, ranks, meta)


def _write_component(
    index: int,
    flat: list[Any],
    tree: Callable[[], list[Any]],
    summary: str,
    ranks_key: str,
    rank_suffix: bool,
    plots: list[tuple[str, str, str]],
) -> list[str]:
    """Write one component's files; returns what to print, and adds to ``plots`` what
    ``plot_output`` draws once every file is written.

    ``flat``: the flat entries of each rank (a native FlatBatch, or storage results); it is
    emptied once the flat outputs are made, before ``tree()`` makes the root trees of each
    rank (called only when a tree output is written), so that the two views are not held
    in memory at once."""
    info = _core.component_info(index)
    label, key = info["label"], info["key"]
    s = _settings
    if key.startswith("cpu_roofline") and s.file_output:
        from .roofline import _embed_ert

        try:
            _embed_ert()  # the "roofline" block: this machine's ERT ceilings (cached)
        except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001 - the ceilings must
            # never cost the run its data; Ctrl-C during the measurement stops ERT only
            what = "was interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
            _say(
                f"[{label}]> ERT {what} ({type(err).__name__}: {err}); the files have no "
                "ceilings ('roofline' member empty)",
                sys.stderr,
            )
    out = lambda ext: _output_file(label, ext, rank_suffix)  # noqa: E731
    if s.file_output and (s.json_output or s.plot_output):
        flat_json = _wrap(key, _json_ranks(index, flat))
        if s.json_output:
            _write(out(".json"), flat_json, "json", label)
        if s.plot_output:
            plots.append(("".join(flat_json), out(".png"), label))
        del flat_json
    entries = flat[0] if len(flat) == 1 else [e for rank in flat for e in rank]
    text = _core.text_table(index, entries) + summary
    console = [text] if s.cout_output else []
    if s.dart_output and (not s.dart_type or s.dart_type == label):
        if isinstance(entries, _core.FlatBatch):
            entries = _core.results(_Ref, entries)
        for entry in entries[: max(int(s.dart_count), 1)]:
            value = entry.data().get()
            name = entry.prefix().replace(">>> ", "").strip() if s.dart_label else label
            console.append(
                f'<DartMeasurement name="{name}" type="numeric/double">{value}</DartMeasurement>'
            )
    del entries
    flat.clear()
    if s.file_output:
        if s.tree_output or (s.flamegraph_output and info["flamegraph"]):
            trees = tree()
            if s.tree_output:
                tree_json = _wrap(key, _json_ranks(index, trees, ranks_key))
                _write(out(".tree.json"), tree_json, "tree", label)
                del tree_json
            if s.flamegraph_output and info["flamegraph"]:
                roots = [t for rank in trees for t in rank]
                _write(
                    out(".flamegraph.json"),
                    _core.flamegraph_json(index, roots) + "\n",
                    "flamegraph",
                    label,
                )
            del trees
        if s.text_output:
            _write(out(".txt"), text, "text", label)
    return console


def _local_trees(index: int) -> list[Any]:
    """This process's root trees of a component, as the writers take them (one rank)."""
    batch = _core.tree_snapshot(index)
    return [_core.tree_objects(_Ref, batch, batch.roots())]


def _per_rank_paths() -> bool:
    """True when the output path names the rank (``%rank%``/``%r``): every rank then writes
    its own data to its own files."""
    text = f"{_settings.output_path}\0{_settings.output_prefix}"
    return "%rank%" in text or "%r" in text


def _exchange_needed() -> bool:
    """``storage._distributed()`` without importing the storage module where it cannot be
    true otherwise (a custom transport is installed through that module): a program that
    recorded nothing imports nothing more at exit."""
    storage = sys.modules.get("timemory.storage")
    if storage is not None:
        return bool(storage._distributed())
    return _mpi_comm() is not None or _workers.has_data()


def _write_all(local_only: bool = False) -> bool:
    """Write every non-empty storage, then print the tables: all files are on
    disk before anything goes to the console.

    Under MPI, rank zero writes every rank's data (one collective gather) and the other
    ranks write nothing, unless the output path names the rank or ``local_only`` (this rank
    alone, to ``<label>_<rank>`` files, for an aborting rank)."""
    s = _settings
    need_tree = bool(s.file_output and (s.tree_output or s.flamegraph_output))
    views = ["flat", "tree"] if need_tree else ["flat"]
    procs = None
    if not local_only and not _per_rank_paths() and _exchange_needed():
        from .storage import exchange, local_payload

        procs = exchange(local_payload(sorted(_MEASURABLE), views))
        _state["processes"] = procs if procs is not None else False
        if procs is None:
            return False  # rank zero writes this rank's data
    ranks_key = "mpi" if _mpi_comm() is not None else "graph"
    wrote = False
    console: list[str] = []
    plots: list[tuple[str, str, str]] = []
    for index in sorted(_MEASURABLE):
        summary = ""
        if procs is not None:
            if index not in procs.indices():
                continue
            storage = _storage(index)
            flat = storage._flat_lists(procs)
            tree = lambda st=storage: st._tree_lists(procs)  # noqa: E731
            if len(procs) > 1:
                summary = _summary_table(index, storage._summary(procs), procs)
        else:
            # the native views as they are: no storage objects (nor the import of
            # timemory.storage) on the way from the call graph to the files
            if not _core.has_data(index):
                continue
            flat = [_core.flat_snapshot(index)]
            tree = lambda i=index: _local_trees(i)  # noqa: E731
        console += _write_component(index, flat, tree, summary, ranks_key, local_only, plots)
        del flat, tree
        wrote = True
    if plots:
        _plot(plots)
    mode = manager._write_metadata
    if _settings.file_output and (mode > 0 or (mode == 0 and (wrote or manager._user_keys))):
        meta_path = _output_file("metadata", ".json", local_only)
        func_path = _output_file("functions", ".json", local_only)
        _say(f"[metadata::manager::finalize]> Outputting '{meta_path}' and '{func_path}'...")
        functions: dict[str, list[int]] = {}
        for hash_id, label in _core.hash_ids():
            functions.setdefault(label, []).append(hash_id)
        functions_text = _json_dumps({"timemory": {"functions": functions}}) + "\n"
        _write(func_path, functions_text, "json", "metadata", announce=False)
        # metadata last, so its "output" list names every file written
        meta = {"timemory": {"metadata": manager.get_metadata()}}
        _write(meta_path, _json_dumps(meta) + "\n", "json", "metadata", announce=False)
    for text in console:
        _say(text)
    return wrote


def _plot(plots: list[tuple[str, str, str]]) -> None:
    """``settings.plot_output``: a bar chart per component, after its files are written.
    matplotlib is imported only here; without it (or if a plot fails) there is a warning on
    stderr and every other output is still written."""
    try:
        from .plotting import plot_at_finalize

        images = plot_at_finalize(plots, echo_dart=bool(_settings.dart_output))
    except Exception as err:  # noqa: BLE001 - plots must never cost the run its data
        _say(
            f"[timemory]> plot_output: no plots were drawn: {type(err).__name__}: {err}", sys.stderr
        )
        return
    manager._outputs.setdefault("plot", []).extend(images)


def report(filename: str = "") -> None:
    """Write (and print) every storage now, as finalize does, without finalising.
    A non-empty ``filename`` replaces ``output_path`` for this call."""
    saved = _settings.output_path
    if filename:
        _settings.output_path = filename
    try:
        _write_all()
    finally:
        if filename:
            _settings.output_path = saved


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
    if _settings.mpi_init:
        from . import mpi

        mpi.init()


init = timemory_init = initialize


_HOOK_MODULES = ("timemory.profiler", "timemory.trace", "timemory.line_profiler")


def stop_hooks() -> None:
    """Stop the profiler, tracer and line profiler if running: their open frames and lines
    are recorded before anything is gathered or written."""
    for name in _HOOK_MODULES:
        hook = sys.modules.get(name)
        if hook is not None:
            hook._stop_for_finalize()


def _stop_recording() -> None:
    gc.collect()
    stop_hooks()
    if _settings.stack_clearing:
        _core.stop_all_bundles()


def finalize() -> None:
    """Stop running markers and write every non-empty storage. Runs once.

    Under MPI every rank must get here (it is a collective): at exit, or inside
    ``MPI_Finalize``. A pool worker leaves its data to its parent instead of writing."""
    if _state["finalized"] or _state["finalizing"] or _env_true("TIMEMORY_SKIP_FINALIZE"):
        return
    _state["finalizing"] = True
    try:
        if _workers.is_worker():
            _workers.flush()
            return
        _stop_recording()
        if _settings.auto_output:
            _write_all()
        _workers.discard()
    finally:
        _state["finalizing"] = False
        _state["finalized"] = True
    if _settings.mpi_finalize:
        mpi = sys.modules.get("timemory.mpi")
        if mpi is not None:
            mpi.finalize()


#: Writers of data kept outside timemory's storage (the line profiler's lines), called by
#: :func:`write_rank_local` before timemory's own files; each writes this rank's data alone.
_local_writers: list[Callable[[], None]] = []


def add_local_writer(writer: Callable[[], None]) -> None:
    """Have :func:`write_rank_local` call ``writer()`` too (an aborting rank's other data)."""
    _local_writers.append(writer)


def write_rank_local(reason: str) -> None:
    """Finalise this rank alone, without a collective: its data go to ``<label>_<rank>``
    files. For a rank that cannot reach the collective finalize (an uncaught exception)."""
    if _state["finalized"] or _state["finalizing"] or _env_true("TIMEMORY_SKIP_FINALIZE"):
        return
    _state["finalizing"] = True
    try:
        _say(
            f"[timemory]> rank {_mpi_rank()}: {reason}; writing this rank's data alone", sys.stderr
        )
        _stop_recording()
        for writer in _local_writers:
            try:
                writer()
            except Exception as err:  # noqa: BLE001 - timemory's own files must still be written
                _say(f"[timemory]> rank {_mpi_rank()}: {err!r}", sys.stderr)
        if _settings.auto_output:
            _write_all(local_only=True)
    finally:
        _state["finalizing"] = False
        _state["finalized"] = True


timemory_finalize = finalize
