"""The run store: a folder holding profiled runs keyed by their parameters.

Layout (nothing is written through a planted symlink)::

    DIR/timemory-store.json   {"format": "timemory-run-store", "version": 1, "created": ISO}
    DIR/index.json            a cache of every run's manifest, checked against runs/* on open
    DIR/runs/<id>/run.json    the run's manifest, written last
    DIR/runs/<id>/table.json  the repeats' call graphs as one Table
    DIR/runs/<id>/repeat-NNN/ the output folder of each repeat (what `timemory profile -d` writes)
    DIR/locks/<id>.lock       flock'ed while the run is computed or written
    DIR/locks/store.lock      flock'ed while index.json is rewritten
    DIR/work/                 the temporary folders the repeats are measured in

A run is written into a private temporary folder (``runs/.tmp-<id>-<pid>-<random>``) and
renamed into place once whole, so readers see a complete run or none; files rewritten in
place (``index.json``, an appended run's ``table.json`` and ``run.json``) are written with
:func:`timemory._files.atomic_write`.

A run's id is the first 16 hex digits of the sha256 of the canonical JSON of its parameters
(with their names), its code identity and the environment fingerprint (:func:`environment`):
the same experiment measured again in the same environment is the same run, and is not
recomputed.

The index is only a cache: on open, ``runs/`` is listed and every ``run.json`` whose size or
modification time differs from what the index recorded is read again (the others are taken
from the index, one JSON read for the whole store); removed runs are dropped. It is rewritten
(atomically, under the store lock) when that changed anything. Saving a run rewrites it only
when a share of the runs is missing from it (so saving n runs one by one writes O(n) bytes of
index in all, not O(n²)); a run missing from the index is found and read by the next open.
"""

from __future__ import annotations

import os
import re
import stat
import sys

from ._errors import RunsError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from typing import Any

    from ._graph import Table

    _Key = tuple[int, int, int]  # (mtime_ns, size, inode) of a run.json

__all__ = [
    "STORE_FORMAT",
    "STORE_VERSION",
    "Run",
    "Store",
    "code_identity",
    "environment",
    "load_tables",
]

STORE_FORMAT = "timemory-run-store"
STORE_VERSION = 1
RUN_FORMAT = "timemory-run"
RUN_VERSION = 1
INDEX_FORMAT = "timemory-run-index"
INDEX_VERSION = 1

#: The settings that change what a run's call graph holds (which nodes, how deep, merged how),
#: part of every run's environment fingerprint. Formatting (precision, units, widths) and the
#: output files chosen change no number of the graph and are left out.
RESULT_SETTINGS = (
    "flat_profile",
    "timeline_profile",
    "max_depth",
    "collapse_threads",
    "collapse_processes",
)
#: The function profiler's options (``timemory.profiler.config``) that change the nodes of
#: the graph: what is recorded (filters, C functions, timemory's own frames, depth) and how
#: nodes are labelled (arguments, lines and files in the labels split or merge nodes).
PROFILER_OPTIONS = (
    "trace_c",
    "include_internal",
    "include_args",
    "include_line",
    "include_filename",
    "full_filepath",
    "max_stack_depth",
    "only_functions",
    "only_filenames",
    "skip_functions",
    "skip_filenames",
)

_ID = re.compile(r"^[0-9a-f]{16}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}(-dirty)?$")
_REPEAT = re.compile(r"^repeat-([0-9]{3,})$")
# runs/.tmp-<id>-<pid>-<random> (a run being written), runs/.trash-<id>-<pid>-<random> (one
# being replaced or removed), work/<id>-<pid>-<n>-<attempt> (repeats being measured)
_LEFTOVER = re.compile(r"^\.(tmp|trash)-([0-9a-f]{16})-([0-9]+)-[0-9a-f]+$")
_WORK = re.compile(r"^[0-9a-f]{16}-([0-9]+)-[0-9]+-[0-9]+$")
_STATUSES = ("done", "failed", "pending")
_RUN_KEYS = ("id", "code", "done", "status")
_LOCK_NAME = "store.lock"
# what index.json writes once for the runs that share it, and what it does not repeat
_SHARED_KEYS = ("environment", "target", "components")
_NOT_IN_INDEX = frozenset(("format", "id", *_SHARED_KEYS))
# A folder changed less than this long ago may change again and keep the same time: file
# systems stamp times from a clock that ticks every few milliseconds (a jiffy), or every
# second or two where times have no sub-second part (ext3, FAT, some network file systems).
_RACY_NS = 50_000_000
_RACY_NS_COARSE = 2_000_000_000

# (run folder, mtime_ns, size, inode of its run.json) reported as skipped by this process
_reported: set[tuple[str, int, int, int]] = set()
# environment facts that do not change while a process runs
_static: dict[str, Any] = {}
_package_versions: dict[str, str] = {}
_component_key: dict[int, str] = {}  # component enum index -> key


# ------------------------------------------------------------------ small helpers


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _json_text(doc: Any, compact: bool = False) -> str:
    import json

    if compact:  # a table: thousands of numbers nobody reads by eye
        return json.dumps(doc, separators=(",", ":"), allow_nan=False) + "\n"
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def _read_json(path: str) -> Any:
    """The JSON document of the regular file ``path``, opened without following a symlink."""
    import json

    # O_NONBLOCK: a FIFO planted in place of the file must not block the open
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return json.loads(handle.read())


def _write_json(path: str, doc: Any, compact: bool = False) -> None:
    from timemory._files import atomic_write

    atomic_write(path, _json_text(doc, compact))


def _write_new(path: str, doc: Any, compact: bool = False) -> None:
    """Write the JSON ``doc`` to ``path``, a new file of a folder this process just made
    (private, not yet visible as a run): created exclusively, never through a symlink, and
    not synced, since readers see it only once the whole folder is renamed into place (an
    fsync per file costs 10 ms or more, most of the time of saving a run)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(_json_text(doc, compact))


def _alive(pid: int) -> bool:
    """Whether the process ``pid`` may still run (on this machine: a store on a network file
    system shared by several machines keeps the leftovers of the others)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True
    return True


def _random() -> str:
    return os.urandom(4).hex()


def _report_skipped(run_id: str, path: str, reason: str) -> None:
    from timemory._text import WARNING, echo

    echo(f"timemory: run {run_id} in {path} skipped: {reason}", level=WARNING)


def _is_symlink(path: str) -> bool:
    try:
        return stat.S_ISLNK(os.lstat(path).st_mode)
    except OSError:
        return False


def _remove_tree(path: str) -> None:
    """Delete ``path``: a folder with what it holds (symlinks inside are removed, never
    followed), or a file or symlink; nothing when it is gone."""
    import shutil

    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class _FileLock:
    """An exclusive ``flock`` of ``path`` (created, never through a symlink), blocking."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> _FileLock:
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except OSError as err:
            raise RunsError(f"cannot lock {self.path}: {err.strerror or err}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except BaseException:
            os.close(self.fd)
            self.fd = -1
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing releases the flock
            self.fd = -1


# ------------------------------------------------------------------ ids and fingerprints


def _run_id(parameters: Mapping[str, Any], code: str | None, env: Mapping[str, Any]) -> str:
    import hashlib

    from ._params import canonical_json

    text = canonical_json({"parameters": parameters, "code": code, "environment": env})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _component_keys(components: Any) -> list[str]:
    """``components`` (names, enum values, classes, or a comma-separated string) as their
    keys (``wall_clock``), in order, duplicates dropped; RunsError for an unknown name."""
    from timemory import _components, _core

    if isinstance(components, str):
        from timemory._text import split_names

        components = split_names(components)
    try:
        indices = _components.resolve(list(components))
    except (ValueError, TypeError) as err:
        raise RunsError(str(err).splitlines()[0] if str(err) else repr(err)) from None
    if not _component_key:  # the table is fixed for the process, and takes 1 ms to make
        _component_key.update((info["index"], info["key"]) for info in _core.component_table())
    return [_component_key[i] for i in indices]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                name, sep, value = line.partition(":")
                if sep and name.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    import platform

    return platform.processor() or ""


def _package_version(name: str) -> str:
    version = _package_versions.get(name)
    if version is None:
        import importlib.metadata

        try:
            version = importlib.metadata.version(name)
        except (importlib.metadata.PackageNotFoundError, ValueError):
            version = "absent"
        _package_versions[name] = version
    return version


def _static_environment() -> dict[str, Any]:
    if not _static:
        import platform

        from timemory import _core

        _static["python"] = f"{sys.implementation.name} {platform.python_version()}"
        _static["timemory"] = str(_core.build_info["version"])
        _static["machine"] = platform.machine()
        _static["cpu"] = _cpu_model()
    return dict(_static)


def _profiler_options() -> dict[str, Any]:
    """The profiler's options of :data:`PROFILER_OPTIONS`; a pattern set still at its
    default is written ``"default"`` (the default skip patterns hold the standard library's
    path, which would make the same experiment a different run on each installation)."""
    from timemory._hook_config import PATTERN_SETS, pattern_defaults
    from timemory.profiler import config

    defaults = pattern_defaults()
    options: dict[str, Any] = {}
    for name in PROFILER_OPTIONS:
        value = getattr(config, name)
        if name in PATTERN_SETS:
            value = "default" if list(value) == defaults[name] else list(value)
        options[name] = value
    return options


def environment(components: Any, packages: Iterable[str] = ()) -> dict[str, Any]:
    """The environment fingerprint of a run measuring ``components`` now: the Python
    implementation and version, timemory's and numpy's versions, the versions of
    ``packages`` (``"absent"`` for one not installed), the machine's architecture and CPU
    model, the components (sorted keys), the settings of :data:`RESULT_SETTINGS` and the
    profiler options of :data:`PROFILER_OPTIONS`. Two runs with equal parameters and code
    but a different fingerprint are different runs."""
    from timemory import settings

    if isinstance(packages, str):
        from timemory._text import split_names

        packages = split_names(packages)
    env = _static_environment()
    env["numpy"] = _package_version("numpy")
    env["packages"] = {name: _package_version(name) for name in sorted(set(packages))}
    env["components"] = sorted(set(_component_keys(components)))
    env["settings"] = {name: getattr(settings, name) for name in RESULT_SETTINGS}
    env["profiler"] = _profiler_options()
    return env


def code_identity(code: Any) -> str | None:
    """The code identity a run is keyed by: None; any string as it is; ``"git:PATH"`` as
    ``"git:<full commit>"`` of the repository holding PATH, with ``"-dirty"`` when a tracked
    file of its work tree has changes. RunsError (one line) when PATH is not in a git
    repository or git is not installed. ``"git:<40 hex digits>[-dirty]"`` (an identity
    already resolved) is kept as it is unless it names an existing path."""
    if code is None:
        return None
    if not isinstance(code, str):
        raise RunsError(f"code must be None or a string (a version, or 'git:PATH'), got {code!r}")
    if not code.startswith("git:"):
        return code
    path = code[len("git:") :] or "."
    if _COMMIT.match(path) and not os.path.exists(path):
        return code
    if not os.path.exists(path):
        raise RunsError(f"code={code!r}: no such file or folder: {path}")
    folder = path if os.path.isdir(path) else (os.path.dirname(path) or ".")
    commit = _git(code, folder, "rev-parse", "--verify", "HEAD").strip()
    changes = _git(code, folder, "status", "--porcelain", "--untracked-files=no")
    return f"git:{commit}" + ("-dirty" if changes.strip() else "")


def _git(code: str, folder: str, *args: str) -> str:
    import subprocess

    try:
        done = subprocess.run(
            ["git", "-C", folder, *args],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        raise RunsError(f"code={code!r}: git is not installed (no 'git' on PATH)") from None
    except (OSError, subprocess.SubprocessError) as err:
        raise RunsError(f"code={code!r}: git failed: {err}") from None
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0].strip() if lines else f"exit status {done.returncode}"
        if "not a git repository" in reason:
            reason = f"{folder} is not in a git repository"
        raise RunsError(f"code={code!r}: {reason}")
    return done.stdout


# ------------------------------------------------------------------ runs


class Run:
    """One run of a store: a target measured ``repeats`` times with named ``parameters``.

    Read from its ``run.json`` alone (no access to the code that made it is needed):
    ``id``, ``parameters``, ``code``, ``environment``, ``target`` (``{"kind", "name",
    "args"}``), ``components``, ``repeats`` (done), ``requested``, ``done``, ``status``
    (``"done"``, ``"failed"`` or ``"pending"``), ``error``, ``result``, ``runtime`` (seconds
    per repeat), ``created``, ``finished`` and ``path`` (its folder)."""

    __slots__ = ("_doc", "path")

    def __init__(self, path: str, doc: dict[str, Any]) -> None:
        self.path = path
        self._doc = doc

    id = property(lambda self: self._doc["id"], doc="The run's id (16 hex digits).")
    parameters = property(lambda self: self._doc["parameters"], doc="Its named parameters.")
    code = property(lambda self: self._doc["code"], doc="Its code identity (or None).")
    environment = property(lambda self: self._doc["environment"], doc="Its fingerprint.")
    target = property(lambda self: self._doc["target"], doc='{"kind", "name", "args"}.')
    components = property(lambda self: self._doc["components"], doc="Component keys.")
    repeats = property(lambda self: self._doc["repeats"], doc="Repeats measured.")
    requested = property(lambda self: self._doc["requested"], doc="Repeats asked for.")
    done = property(lambda self: self._doc["done"], doc="Whether it is measured.")
    status = property(lambda self: self._doc["status"], doc="done, failed or pending.")
    error = property(lambda self: self._doc["error"], doc="Why it failed (or None).")
    result = property(lambda self: self._doc["result"], doc="What the target returned.")
    runtime = property(lambda self: self._doc["runtime"], doc="Seconds per repeat.")
    created = property(lambda self: self._doc["created"], doc="When it was added (ISO).")
    finished = property(lambda self: self._doc["finished"], doc="When it was measured.")

    def manifest(self) -> dict[str, Any]:
        """A copy of its ``run.json`` document."""
        return dict(self._doc)

    def table(self) -> Table:
        """The repeats' call graphs (its ``table.json``); RunsError when the run has none or
        the file is corrupt."""
        from ._graph import Table

        path = os.path.join(self.path, "table.json")
        try:
            doc = _read_json(path)
        except FileNotFoundError:
            raise RunsError(f"run {self.id} has no table ({self.status}): no {path}") from None
        except (OSError, ValueError) as err:
            raise RunsError(f"run {self.id}: cannot read {path}: {err}") from None
        try:
            return Table.from_json(doc, where=path)
        except RunsError as err:
            raise RunsError(f"run {self.id}: {err}") from None
        except (ValueError, TypeError, KeyError, IndexError) as err:
            raise RunsError(f"run {self.id}: {path} is corrupt: {err!r}") from None

    def repeat_dirs(self) -> list[str]:
        """The output folders of its repeats (``repeat-000``, ...), in order; symlinks and
        files planted there are left out."""
        found = []
        try:
            with os.scandir(self.path) as entries:
                for entry in entries:
                    match = _REPEAT.match(entry.name)
                    if match and stat.S_ISDIR(os.lstat(entry.path).st_mode):
                        found.append((int(match.group(1)), entry.path))
        except OSError:
            return []
        return [path for _, path in sorted(found)]

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in self.parameters.items())
        if len(items) > 60:
            items = items[:57] + "..."
        return f"<Run {self.id} {self.status} {self.repeats}/{self.requested} ({items})>"


def load_tables(runs: Iterable[Run]) -> list[tuple[Run, Table]]:
    """``(run, run.table())`` of every run of ``runs`` that has a table; a done run whose
    table.json is missing or corrupt is reported once on stderr (``timemory: run <id> in
    <path> skipped: <reason>``) and left out, as a corrupt run.json is by :class:`Store`;
    pending and failed runs are left out silently."""
    loaded = []
    for run in runs:
        if not run.done:
            continue
        try:
            loaded.append((run, run.table()))
        except RunsError as err:
            path = os.path.join(run.path, "table.json")
            try:
                info = os.lstat(path)
                key = (run.path, info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:
                key = (run.path, -3, -3, -3)
            if key not in _reported:
                _reported.add(key)
                reason = str(err)
                prefix = f"run {run.id}: "
                _report_skipped(
                    run.id, run.path, reason[len(prefix) :] if reason.startswith(prefix) else reason
                )
    return loaded


def _check_manifest(doc: Any, run_id: str) -> str | None:
    """Why ``doc`` is not a usable run.json of the run ``run_id`` (None when it is)."""
    if not isinstance(doc, dict) or doc.get("format") != RUN_FORMAT:
        return f"not a {RUN_FORMAT} document"
    version = doc.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        return f"format version {version!r} is not a number"
    if version > RUN_VERSION:
        return f"format version {version} is newer than this timemory reads ({RUN_VERSION})"
    if doc.get("id") != run_id:
        return f"its id {doc.get('id')!r} is not its folder's name"
    kinds = {
        "parameters": dict,
        "environment": dict,
        "target": dict,
        "components": list,
        "runtime": list,
        "repeats": int,
        "requested": int,
        "done": bool,
    }
    for key, kind in kinds.items():
        if not isinstance(doc.get(key), kind):
            return f"{key!r} is missing or not a {kind.__name__}"
    if doc.get("status") not in _STATUSES:
        return f"status {doc.get('status')!r} is not one of {', '.join(_STATUSES)}"
    if doc.get("code") is not None and not isinstance(doc.get("code"), str):
        return "'code' is not a string"
    for key in ("error", "result", "created", "finished"):
        doc.setdefault(key, None)
    return None


def _jsonable_result(run_id: str, result: Any) -> Any:
    """``result`` as it reads back from JSON, or its repr() (with a warning) when it is not
    JSON-serialisable; never pickled."""
    from ._params import jsonable

    return jsonable(result, f"run {run_id}: its result")


def _import_callable(run: Run) -> Any:
    name = run.target.get("name") or ""
    module, sep, qualname = name.partition(":")
    if not sep or not module or not qualname:
        raise RunsError(f"run {run.id}: its callable {name!r} is not 'module:qualname'")
    import importlib

    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception as err:  # noqa: BLE001 - any failure of the import is the user's
        raise RunsError(
            f"run {run.id}: cannot import its callable {name!r} ({type(err).__name__}: {err}); "
            "add it again with add_run() in this process"
        ) from None
    if not callable(obj):
        raise RunsError(f"run {run.id}: {name!r} is not callable")
    return obj


def _target_of(run: Run, live: Any) -> Any:
    """What ``_execute.measure`` runs for ``run``: ``live``, the object given to add_run in
    this process, else the target rebuilt from its description."""
    if live is not None:
        return live
    kind = run.target.get("kind")
    if kind == "callable":
        return _import_callable(run)
    name = run.target.get("name")
    if not name:
        raise RunsError(f"run {run.id} has no target to measure (it was saved, not added)")
    if kind == "module":
        return f"-m {name}"
    return name


# ------------------------------------------------------------------ the store


class Store:
    """A folder of runs, created (with private permissions) when ``create`` and it does not
    exist or is empty.

    RunsError (one line naming the path) when ``path`` is a file, a folder that is not a store
    (it is not empty and holds no ``timemory-store.json``), or a store of a newer format.
    ``packages``: distributions whose versions join the environment fingerprint of the runs
    this object adds. Calling the store (``store()``) measures the runs that are missing.
    One object is for one thread; processes share a store safely (each run is measured and
    written under its own file lock)."""

    def __init__(self, path: Any, create: bool = True, *, packages: Iterable[str] = ()) -> None:
        self.path = os.path.abspath(os.fspath(path))
        self.packages = sorted(set([packages] if isinstance(packages, str) else packages))
        self._runs: dict[str, Run] = {}  # id -> run, in the order they were added
        self._keys: dict[str, _Key] = {}  # id -> (mtime_ns, size, inode) of its run.json
        self._skipped: dict[str, tuple[_Key, str]] = {}  # id -> (key, reason)
        self._envs: dict[str, dict[str, Any]] = {}  # canonical JSON -> the one shared dict
        self._changes = 0  # runs written or dropped since the index file was written
        self._folder_key: tuple[int, int, int] | None = None  # runs/ when last scanned
        self._held: set[str] = set()  # ids whose lock this object holds
        self._targets: dict[str, Any] = {}  # id -> the object given to add_run
        self._leftovers: list[str] = []  # temporary names in runs/ seen by the last scan
        self._open(create)
        self._refresh(full=True)

    # -------------------------------------------------------------- opening

    @property
    def _runs_dir(self) -> str:
        return os.path.join(self.path, "runs")

    def _open(self, create: bool) -> None:
        marker = os.path.join(self.path, "timemory-store.json")
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            if not create:
                raise RunsError(f"no run store at {self.path}: the folder does not exist") from None
            self._create()
            return
        except OSError as err:
            raise RunsError(f"cannot open the run store {self.path}: {err.strerror}") from None
        if not stat.S_ISDIR(info.st_mode):
            raise RunsError(f"{self.path} is not a folder: a run store is a folder")
        try:
            doc = _read_json(marker)
        except FileNotFoundError:
            try:
                empty = not os.listdir(self.path)
            except OSError as err:
                raise RunsError(f"cannot open the run store {self.path}: {err.strerror}") from None
            if not empty:
                raise RunsError(
                    f"{self.path} is not a run store (it has no timemory-store.json) and is "
                    "not empty: give a new or empty folder"
                ) from None
            if not create:
                raise RunsError(f"{self.path} is not a run store (an empty folder)") from None
            self._create()
            return
        except (OSError, ValueError) as err:
            raise RunsError(f"{marker} is not a run store's file: {err}") from None
        if not isinstance(doc, dict) or doc.get("format") != STORE_FORMAT:
            raise RunsError(f"{marker} is not a run store's file (format {STORE_FORMAT})")
        version = doc.get("version")
        if not isinstance(version, int) or isinstance(version, bool):
            raise RunsError(f"{marker}: format version {version!r} is not a number")
        if version > STORE_VERSION:
            raise RunsError(
                f"{self.path} is a run store of format version {version}; this timemory "
                f"reads version {STORE_VERSION} at most (upgrade timemory)"
            )
        for sub in ("runs", "locks"):
            _make_dir(os.path.join(self.path, sub))

    def _create(self) -> None:
        from timemory._files import check_folder

        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            try:
                os.mkdir(self.path, 0o700)
            except FileExistsError:
                pass  # an empty folder: made a store
            check_folder(self.path)
            _make_dir(os.path.join(self.path, "runs"))
            _make_dir(os.path.join(self.path, "locks"))
            doc = {"format": STORE_FORMAT, "version": STORE_VERSION, "created": _now()}
            _write_json(os.path.join(self.path, "timemory-store.json"), doc)
        except OSError as err:
            raise RunsError(f"cannot create the run store {self.path}: {err}") from None

    # -------------------------------------------------------------- the index

    def _env(self, env: dict[str, Any]) -> dict[str, Any]:
        """One shared dict per distinct environment (10,000 runs hold a few)."""
        from ._params import canonical_json

        return self._envs.setdefault(canonical_json(env), env)

    def _load_index(self) -> None:
        self._runs.clear()
        self._keys.clear()
        self._skipped.clear()
        try:
            doc = _read_json(os.path.join(self.path, "index.json"))
        except (OSError, ValueError):
            return  # none yet, or damaged: rebuilt from the runs
        try:
            if doc.get("format") != INDEX_FORMAT or doc.get("version") != INDEX_VERSION:
                return
            shared = doc["shared"]
            for env_slot in {entry[5][0] for entry in doc["runs"] if entry[4] is not None}:
                shared[env_slot] = self._env(shared[env_slot])
            folder = self._runs_dir
            for run_id, mtime, size, inode, manifest, extra in doc["runs"]:
                if not _ID.match(run_id):
                    raise ValueError(run_id)
                key = (mtime, size, inode)
                if manifest is None:
                    self._skipped[run_id] = (key, str(extra))
                    continue
                manifest["format"] = RUN_FORMAT
                manifest["id"] = run_id
                for name, slot in zip(_SHARED_KEYS, extra):
                    manifest[name] = shared[slot]
                self._runs[run_id] = Run(f"{folder}/{run_id}", manifest)
                self._keys[run_id] = key
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            self._runs.clear()  # a damaged cache: every run is read again
            self._keys.clear()
            self._skipped.clear()

    def _index_doc(self) -> dict[str, Any]:
        """index.json: per run its id, its run.json's state and its manifest, where the
        values most runs share (environment, target, components) are written once, in
        ``shared``, and named by their place there (10,000 runs: 2 MB rather than 6)."""
        import json

        slots: dict[str, int] = {}
        shared: list[Any] = []
        entries: list[Any] = []
        for run_id, run in self._runs.items():
            key = self._keys.get(run_id)
            if key is None:
                continue
            doc = run._doc
            refs = []
            for name in _SHARED_KEYS:
                text = json.dumps(doc[name], sort_keys=True)
                slot = slots.get(text)
                if slot is None:
                    slot = slots[text] = len(shared)
                    shared.append(doc[name])
                refs.append(slot)
            manifest = {k: v for k, v in doc.items() if k not in _NOT_IN_INDEX}
            entries.append([run_id, *key, manifest, refs])
        for run_id, (key, reason) in self._skipped.items():
            entries.append([run_id, *key, None, reason])
        return {"format": INDEX_FORMAT, "version": INDEX_VERSION, "shared": shared, "runs": entries}

    def _write_index(self) -> None:
        """Bring the runs in line with the folder and rewrite index.json, under the store
        lock (so that two processes never write it from views older than the folder)."""
        import json

        from timemory._files import atomic_write

        lock = self._lock(_LOCK_NAME)
        try:
            lock.__enter__()
        except RunsError:  # a store this user may only read: the index stays as it is
            self._sync(self._scan())
            return
        try:
            self._sync(self._scan())
            text = json.dumps(self._index_doc(), separators=(",", ":"), allow_nan=False)
            try:
                atomic_write(os.path.join(self.path, "index.json"), text)
            except OSError as err:  # a cache: the runs themselves are saved
                from timemory._text import WARNING, echo

                echo(f"timemory: cannot write the index of {self.path}: {err}", level=WARNING)
                return
        finally:
            lock.__exit__()
        self._changes = 0

    def _lock(self, name: str) -> _FileLock:
        return _FileLock(os.path.join(self.path, "locks", name))

    def _scan(self) -> dict[str, _Key]:
        """``{id: (mtime_ns, size, inode)}`` of the run.json of every run folder now; what
        is planted in place of a folder or of a run.json is reported and left out."""
        found: dict[str, _Key] = {}
        runs_dir = self._runs_dir
        self._leftovers = []
        try:
            entries = os.scandir(runs_dir)
        except OSError as err:
            raise RunsError(f"cannot list the runs of {self.path}: {err.strerror}") from None
        with entries:
            for entry in entries:
                name = entry.name
                if not _ID.match(name):
                    if _LEFTOVER.match(name):  # a run being written or replaced
                        self._leftovers.append(name)
                    continue  # and foreign files
                if entry.is_symlink():
                    self._report(name, (-1, -1, -1), "it is a symlink, not a folder")
                    continue
                try:
                    info = os.lstat(f"{runs_dir}/{name}/run.json")  # os.path.join: 2x slower
                except FileNotFoundError:
                    continue  # not a folder, or one being made (run.json is written last)
                except OSError as err:
                    self._report(name, (-1, -1, -1), f"cannot read run.json: {err.strerror}")
                    continue
                if not stat.S_ISREG(info.st_mode):
                    self._report(name, (-2, -2, -2), "run.json is not a regular file")
                    continue
                found[name] = (info.st_mtime_ns, info.st_size, info.st_ino)
        return found

    def _report(self, run_id: str, key: _Key, reason: str) -> None:
        """Say once per process that the run ``run_id`` (in this state) is skipped."""
        folder = os.path.join(self._runs_dir, run_id)
        if (folder, *key) not in _reported:
            _reported.add((folder, *key))
            _report_skipped(run_id, folder, reason)

    def _recover(self) -> bool:
        """Finish or clear what processes that died while writing left in ``runs/`` and
        ``work/``: a whole run (its run.json written) whose rename into place never happened
        is renamed into place, unless a run with its id was written since; the rest of a
        dead process's temporary folders is deleted. Whether a run was recovered."""
        recovered = False
        for name in self._leftovers:
            found = _LEFTOVER.match(name)
            if found is None or _alive(int(found.group(3))):
                continue
            kind, run_id = found.group(1), found.group(2)
            path = os.path.join(self._runs_dir, name)
            final = os.path.join(self._runs_dir, run_id)
            with self._run_lock(run_id):
                try:  # a folder holding a regular run.json: never through a symlink
                    whole = stat.S_ISDIR(os.lstat(path).st_mode) and stat.S_ISREG(
                        os.lstat(os.path.join(path, "run.json")).st_mode
                    )
                except OSError:
                    whole = False
                if kind == "tmp" and whole and not os.path.lexists(final):
                    try:
                        os.rename(path, final)
                        recovered = True
                        continue
                    except OSError:
                        pass
                _remove_tree(path)
        work = os.path.join(self.path, "work")
        try:
            names = os.listdir(work)
        except OSError:
            names = []
        for name in names:
            found = _WORK.match(name)
            if found is not None and not _alive(int(found.group(1))):
                _remove_tree(os.path.join(work, name))
        return recovered

    def _folder_state(self) -> tuple[int, int, int] | None:
        """runs/'s (mtime_ns, links, inode), or None when a change made now could leave it
        as it is (its time is within the file system's time granularity of now)."""
        import time

        try:
            info = os.stat(self._runs_dir)
        except OSError:
            return None
        mtime = info.st_mtime_ns
        racy = _RACY_NS_COARSE if mtime % 1_000_000_000 == 0 else _RACY_NS
        if time.time_ns() - mtime < racy:
            return None
        return (info.st_mtime_ns, info.st_nlink, info.st_ino)

    def _refresh(self, full: bool = False) -> None:
        """Bring the runs in line with the folder: on open (``full``), from the index and
        the size, time and inode of every run.json; later only when ``runs/`` changed."""
        state = self._folder_state()
        if not full and state is not None and state == self._folder_key:
            return
        if full:
            self._load_index()
            for run_id, (key, reason) in self._skipped.items():
                self._report(run_id, key, reason)
        found = self._scan()
        if full and self._leftovers and self._recover():
            found = self._scan()
        if self._sync(found):
            self._write_index()
        self._folder_key = state

    def _sync(self, found: dict[str, _Key]) -> bool:
        """Update the runs from ``found`` (see :meth:`_scan`); whether anything changed."""
        changed = False
        for run_id in [r for r in self._runs if r not in found]:
            del self._runs[run_id]
            self._keys.pop(run_id, None)
            changed = True
        for run_id in [r for r in self._skipped if r not in found]:
            del self._skipped[run_id]
            changed = True
        fresh: list[Run] = []
        for run_id, key in found.items():
            if self._keys.get(run_id) == key:
                continue
            skipped = self._skipped.get(run_id)
            if skipped is not None and skipped[0] == key:
                continue
            changed = True
            run = self._read_run(run_id, key)
            if run is None:
                self._runs.pop(run_id, None)
                self._keys.pop(run_id, None)
            elif run_id in self._runs:
                self._runs[run_id] = run  # keeps its place
            else:
                fresh.append(run)
        if fresh:  # in the order they were created (a run being replaced may have been missed)
            for run in fresh:
                self._runs[run.id] = run
            order = sorted(self._runs.values(), key=lambda r: (str(r.created or ""), r.id))
            self._runs = {run.id: run for run in order}
        self._changes += changed
        return changed

    def _read_run(self, run_id: str, key: _Key) -> Run | None:
        """The run of runs/<id>/run.json (whose state is ``key``); None, reported once, when
        it is unreadable or not a run's manifest."""
        folder = os.path.join(self._runs_dir, run_id)
        try:
            doc = _read_json(os.path.join(folder, "run.json"))
        except OSError as err:
            reason = f"cannot read run.json: {err.strerror or err}"
        except ValueError as err:
            reason = f"run.json is not valid JSON ({err})"
        else:
            problem = _check_manifest(doc, run_id)
            if problem is None:
                doc["environment"] = self._env(doc["environment"])
                self._keys[run_id] = key
                self._skipped.pop(run_id, None)
                return Run(folder, doc)
            reason = f"run.json: {problem}"
        self._skipped[run_id] = (key, reason)
        self._report(run_id, key, reason)
        return None

    def _record(self, run: Run) -> Run:
        """``run`` was just written by this object: keep it, with its run.json's state, and
        rewrite the index when an eighth of the runs (16 at least) changed since it was
        written (saving n runs one by one then writes O(n) bytes of index, not O(n²))."""
        try:
            info = os.lstat(os.path.join(run.path, "run.json"))
            self._keys[run.id] = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            self._keys.pop(run.id, None)
        self._skipped.pop(run.id, None)
        self._runs[run.id] = run
        self._changes += 1
        if self._changes >= max(16, len(self._runs) // 8):
            self._write_index()
        return run

    # -------------------------------------------------------------- reading

    @property
    def runs(self) -> list[Run]:
        """Every run (pending, failed and done), in the order they were added."""
        self._refresh()
        return list(self._runs.values())

    def __len__(self) -> int:
        self._refresh()
        return len(self._runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __repr__(self) -> str:
        return f"<Store {self.path}: {len(self._runs)} runs>"

    def get(self, run_id: str) -> Run:
        """The run with id ``run_id`` (or a unique prefix of it, 4 hex digits at least);
        RunsError naming the closest ids."""
        self._refresh()
        text = str(run_id).strip().lower()
        if text in self._runs:
            return self._runs[text]
        if len(text) >= 4:
            found = [r for r in self._runs if r.startswith(text)]
            if len(found) == 1:
                return self._runs[found[0]]
            if found:
                shown = ", ".join(found[:5])
                raise RunsError(f"run id {run_id!r} is ambiguous in {self.path}: {shown}")
        import difflib

        close = difflib.get_close_matches(text, list(self._runs), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise RunsError(f"no run {run_id!r} in {self.path} ({len(self._runs)} runs){hint}")

    def get_runs_with(self, **filters: Any) -> list[Run]:
        """The runs whose parameters match ``filters``: ``n=1000``, ``n__ge=1000``,
        ``mode=["a", "b"]`` (a list means any of), with the suffixes ``__ne``, ``__lt``,
        ``__le``, ``__gt``, ``__ge`` and ``__in``. The keys ``id``, ``code``, ``done`` and
        ``status`` (with the same suffixes) match the run's own fields, not parameters."""
        from ._params import SUFFIXES, matches

        own: dict[str, Any] = {}
        params: dict[str, Any] = {}
        for key, value in filters.items():
            name, sep, suffix = key.partition("__")
            if sep and suffix not in SUFFIXES:
                valid = ", ".join(f"__{s}" for s in SUFFIXES)
                raise RunsError(f"unknown filter suffix in {key!r}: valid suffixes are {valid}")
            (own if name in _RUN_KEYS else params)[key] = value
        self._refresh()
        found = []
        for run in self._runs.values():
            doc = run._doc
            if own and not matches({k: doc[k] for k in _RUN_KEYS}, own):
                continue
            if matches(doc["parameters"], params):
                found.append(run)
        return found

    def export_ids(self) -> list[dict[str, Any]]:
        """``[{"id", "parameters", "code", "done"}]`` of every run, in order."""
        return [
            {"id": r.id, "parameters": r.parameters, "code": r.code, "done": r.done}
            for r in self.runs
        ]

    # -------------------------------------------------------------- adding

    def _identify(
        self, parameters: Mapping[str, Any] | None, components: Any, code: Any
    ) -> tuple[str, dict[str, Any], str | None, dict[str, Any], list[str]]:
        """(id, canonical parameters, code identity, environment, component keys)."""
        from ._params import canonical

        params = canonical(parameters or {})
        keys = _component_keys(components)
        if not keys:
            raise RunsError("no components: name at least one (e.g. 'wall_clock')")
        ident = code_identity(code)
        env = self._env(environment(keys, self.packages))
        return _run_id(params, ident, env), params, ident, env, keys

    def _describe(self, target: Any, args: Sequence[Any]) -> dict[str, Any]:
        if target is None:
            return {"kind": "external", "name": "", "args": [str(a) for a in args]}
        if isinstance(target, dict):
            return {
                "kind": str(target.get("kind", "external")),
                "name": str(target.get("name") or ""),
                "args": [str(a) for a in target.get("args", args)],
            }
        from . import _execute

        return dict(_execute.describe(target, tuple(args)))

    def add_run(
        self,
        target: Any,
        parameters: Mapping[str, Any] | None = None,
        *,
        repeats: int = 10,
        components: Any = ("wall_clock",),
        code: Any = None,
        args: Sequence[Any] = (),
    ) -> Run:
        """Register a run of ``target`` (a callable, a script path, or a module as ``"-m
        name"``) with ``parameters``, to be measured ``repeats`` times by calling the store.
        Returns the stored run when it is done already (it is not measured again), else the
        pending run (written to the store, so another process can measure it too)."""
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
            raise RunsError(f"repeats must be a whole number of at least 1, got {repeats!r}")
        run_id, params, ident, env, keys = self._identify(parameters, components, code)
        description = self._describe(target, args)
        with self._run_lock(run_id):
            stored = self._reload(run_id)
            if stored is not None and stored.done:
                self._targets[run_id] = target
                return stored
            doc = _manifest(run_id, params, ident, env, description, keys, repeats)
            if stored is not None:  # pending or failed: its status, error and age are kept
                for key in ("status", "error", "created"):
                    doc[key] = stored._doc[key]
                if doc == stored._doc:
                    self._targets[run_id] = target
                    return stored
            run = self._install(doc, None, ())
        self._targets[run_id] = target
        return run

    def add_factorial_runs(
        self, target: Any, grid: Mapping[str, Sequence[Any]], **kwargs: Any
    ) -> list[Run]:
        """:meth:`add_run` for every combination of ``grid``'s values: the cartesian product,
        names sorted, each name's values in the order given (the last name varies fastest)."""
        import itertools

        if not hasattr(grid, "items"):
            raise RunsError(f"grid must map parameter names to lists of values, got {grid!r}")
        names = sorted(grid)
        values = []
        for name in names:
            options = grid[name]
            if isinstance(options, (str, bytes, dict)) or not hasattr(options, "__iter__"):
                raise RunsError(
                    f"grid[{name!r}] must be a list of values, got {options!r} "
                    f"(write [{options!r}] for one value)"
                )
            values.append(list(options))
        return [
            self.add_run(target, dict(zip(names, combo)), **kwargs)
            for combo in itertools.product(*values)
        ]

    # -------------------------------------------------------------- measuring

    def __call__(self) -> list[Run]:
        """Measure every pending or failed run (one another process finished meanwhile is
        taken as it is); returns every run. A run whose measurement fails is kept as
        ``failed`` with its error, and measured again by the next call."""
        self._refresh(full=True)
        for run in [r for r in self._runs.values() if not r.done]:
            self._compute(run)
        if self._changes:
            self._write_index()
        return list(self._runs.values())

    def compute(self, run: Run | str) -> Run:
        """Measure one run (a :class:`Run` or its id) if it is not done yet, as ``store()``
        does for every missing run; returns it as stored afterwards."""
        return self._compute(run if isinstance(run, Run) else self.get(run))

    def _compute(self, run: Run) -> Run:
        from timemory._files import make_private_dir

        from . import _execute

        with self._run_lock(run.id):
            stored = self._reload(run.id)
            if stored is None:
                return run  # removed meanwhile
            if stored.done:
                return stored
            here = environment(stored.components, stored.environment.get("packages", ()))
            if here != stored.environment:
                differ = sorted(
                    k
                    for k in set(here) | set(stored.environment)
                    if here.get(k) != stored.environment.get(k)
                )
                from timemory._text import WARNING, echo

                echo(
                    f"timemory: run {run.id} was added in another environment (it differs in "
                    f"{', '.join(differ)}): left {stored.status}",
                    level=WARNING,
                )
                return stored
            target = _target_of(stored, self._targets.get(run.id))
            work = os.path.join(self.path, "work")
            _make_dir(work)
            workdir = make_private_dir(f"{run.id}-", [work])
            try:
                measured = _execute.measure(
                    target,
                    dict(stored.parameters),
                    repeats=stored.requested,
                    components=list(stored.components),
                    workdir=workdir,
                    args=tuple(stored.target.get("args") or ()),
                )
                error = getattr(measured, "error", None)
                if error is None:
                    saved = self._save(
                        stored._doc,
                        measured.table,
                        result=measured.result,
                        runtime=measured.runtime,
                        repeat_dirs=measured.repeat_dirs,
                        status="done",
                        error=None,
                    )
                else:
                    # the repeats measured before the failure are kept with it: nothing
                    # measured is lost, and the next store() measures the run again
                    kept = list(getattr(measured, "repeat_dirs", ()) or ())
                    table = getattr(measured, "table", None) if kept else None
                    saved = self._save(
                        stored._doc,
                        table,
                        result=None,
                        runtime=measured.runtime if table is not None else (),
                        repeat_dirs=kept if table is not None else (),
                        status="failed",
                        error=str(error),
                    )
            finally:
                _remove_tree(workdir)
            return saved

    # -------------------------------------------------------------- writing

    def _run_lock(self, run_id: str) -> _HeldLock:
        return _HeldLock(self, run_id)

    def _reload(self, run_id: str) -> Run | None:
        """The run ``run_id`` as its run.json says now (None when there is none, or it is
        unreadable, or its folder is a symlink)."""
        folder = os.path.join(self._runs_dir, run_id)
        try:
            if not stat.S_ISDIR(os.lstat(folder).st_mode):
                return None
            info = os.lstat(os.path.join(folder, "run.json"))
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        key = (info.st_mtime_ns, info.st_size, info.st_ino)
        if self._keys.get(run_id) == key and run_id in self._runs:
            return self._runs[run_id]
        run = self._read_run(run_id, key)
        if run is not None:
            self._record(run)
        return run

    def _install(self, doc: dict[str, Any], table: Table | None, repeat_dirs: Sequence[Any]) -> Run:
        """Write the run ``doc`` (its ``table``, its ``repeat_dirs`` moved in as repeat-000,
        ...) into a new folder, then rename it to runs/<id>, replacing what was there (a
        symlink planted there is replaced, never followed). The caller holds the run's lock."""
        import shutil

        run_id = doc["id"]
        final = os.path.join(self._runs_dir, run_id)
        temp = os.path.join(self._runs_dir, f".tmp-{run_id}-{os.getpid()}-{_random()}")
        sources = [_check_repeat(source) for source in repeat_dirs]
        try:
            os.mkdir(temp, 0o700)
        except OSError as err:
            raise RunsError(f"cannot save run {run_id} in {self.path}: {err}") from None
        trash = ""
        try:
            for number, source in enumerate(sources):
                shutil.move(source, os.path.join(temp, f"repeat-{number:03d}"))
            if table is not None:
                _write_new(os.path.join(temp, "table.json"), table.to_json(), compact=True)
            _write_new(os.path.join(temp, "run.json"), doc)
            if os.path.lexists(final):
                trash = os.path.join(self._runs_dir, f".trash-{run_id}-{os.getpid()}-{_random()}")
                os.rename(final, trash)
            os.rename(temp, final)
        except OSError as err:
            kept = f"; its files are in {temp}" if os.path.lexists(temp) else ""
            raise RunsError(f"cannot save run {run_id} in {self.path}: {err}{kept}") from None
        if trash:
            _remove_tree(trash)
        return self._record(Run(final, doc))

    def _save(
        self,
        doc: dict[str, Any],
        table: Table | None,
        *,
        result: Any,
        runtime: Iterable[float],
        repeat_dirs: Sequence[Any],
        status: str,
        error: str | None,
    ) -> Run:
        """Write the measured run ``doc`` (a manifest); the caller holds its lock."""
        if status not in _STATUSES:
            raise RunsError(f"status must be one of {', '.join(_STATUSES)}, got {status!r}")
        if status == "done" and table is None:
            raise RunsError(f"run {doc['id']}: a done run needs its table")
        repeats = int(table.repeats) if table is not None else 0
        doc = dict(doc)
        doc.update(
            repeats=repeats,
            requested=max(int(doc.get("requested") or 0), repeats),
            done=status == "done",
            status=status,
            error=None if error is None else str(error),
            result=_jsonable_result(doc["id"], result),
            runtime=[float(t) for t in runtime],
            finished=_now() if status == "done" else None,
        )
        return self._install(doc, table, repeat_dirs)

    def save(
        self,
        parameters: Mapping[str, Any] | None,
        table: Table | None,
        *,
        code: Any = None,
        target: Any = None,
        components: Any,
        result: Any = None,
        runtime: Sequence[float] = (),
        repeat_dirs: Sequence[Any] = (),
        status: str = "done",
        error: str | None = None,
    ) -> Run:
        """Store a run measured elsewhere: ``table`` holds its repeats, ``repeat_dirs`` their
        output folders (moved into the run as repeat-000, ...). ``target``: what was
        measured (an object add_run takes, a ``{"kind", "name", "args"}`` dict, or None).
        When a done run with the same id is stored already, the new repeats are appended to
        it (:meth:`append`), and a failure does not replace it."""
        run_id, params, ident, env, keys = self._identify(parameters, components, code)
        description = self._describe(target, ())
        with self._run_lock(run_id):
            stored = self._reload(run_id)
            if stored is not None and stored.done:
                if status == "done" and table is not None:
                    return self._append_locked(stored, table, runtime, repeat_dirs)
                return stored
            requested = int(table.repeats) if table is not None else 0
            doc = _manifest(run_id, params, ident, env, description, keys, requested)
            if stored is not None:
                doc["created"] = stored.created or doc["created"]
            return self._save(
                doc,
                table,
                result=result,
                runtime=runtime,
                repeat_dirs=repeat_dirs,
                status=status,
                error=error,
            )

    def append(
        self,
        run: Run | str,
        table: Table,
        runtime: Sequence[float] = (),
        repeat_dirs: Sequence[Any] = (),
    ) -> Run:
        """Add the repeats of ``table`` (and their output folders, numbered on from the
        run's last repeat-NNN) to ``run`` (a run or its id); the run is then done."""
        run_id = run.id if isinstance(run, Run) else self.get(run).id
        with self._run_lock(run_id):
            stored = self._reload(run_id)
            if stored is None:
                raise RunsError(f"no run {run_id} in {self.path} to append to")
            return self._append_locked(stored, table, runtime, repeat_dirs)

    def _append_locked(
        self, run: Run, table: Table, runtime: Iterable[float], repeat_dirs: Sequence[Any]
    ) -> Run:
        import shutil

        from ._graph import Table as TableType

        combined = TableType.concat([run.table(), table]) if run.repeats else table
        sources = [_check_repeat(source) for source in repeat_dirs]
        numbers = [int(os.path.basename(p)[len("repeat-") :]) for p in run.repeat_dirs()]
        start = max(numbers) + 1 if numbers else 0
        doc = dict(run._doc)
        doc.update(
            repeats=int(combined.repeats),
            requested=max(int(doc["requested"]), int(combined.repeats)),
            done=True,
            status="done",
            error=None,
            runtime=[*doc["runtime"], *(float(t) for t in runtime)],
            finished=_now(),
        )
        try:
            for offset, source in enumerate(sources):
                shutil.move(source, os.path.join(run.path, f"repeat-{start + offset:03d}"))
            _write_json(os.path.join(run.path, "table.json"), combined.to_json(), compact=True)
            _write_json(os.path.join(run.path, "run.json"), doc)
        except OSError as err:
            raise RunsError(f"cannot append to run {run.id} in {self.path}: {err}") from None
        return self._record(Run(run.path, doc))

    def remove(self, runs: Run | str | Iterable[Run | str]) -> int:
        """Delete ``runs`` (runs or ids) with their folders; returns how many were removed."""
        if isinstance(runs, (Run, str)):
            runs = [runs]
        ids = [r.id if isinstance(r, Run) else self.get(r).id for r in runs]
        removed = 0
        for run_id in dict.fromkeys(ids):
            folder = os.path.join(self._runs_dir, run_id)
            trash = os.path.join(self._runs_dir, f".trash-{run_id}-{os.getpid()}-{_random()}")
            with self._run_lock(run_id):
                try:
                    os.rename(folder, trash)
                except FileNotFoundError:
                    pass
                except OSError as err:
                    raise RunsError(f"cannot remove run {run_id} from {self.path}: {err}") from None
                else:
                    removed += 1
                    _remove_tree(trash)
                self._runs.pop(run_id, None)
                self._keys.pop(run_id, None)
                self._skipped.pop(run_id, None)
        self._write_index()
        return removed


def _make_dir(path: str) -> None:
    """Create the folder ``path`` (private) unless it exists; RunsError when something else
    (a file, a symlink) is in its place."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise RunsError(f"{path} is not a folder (a file or symlink is in its place)") from None
    except OSError as err:
        raise RunsError(f"cannot create {path}: {err.strerror}") from None


def _check_repeat(source: Any) -> str:
    """``source`` (a repeat's output folder) when it is a folder, not a symlink to one."""
    path = os.fspath(source)
    try:
        info = os.lstat(path)
    except OSError as err:
        raise RunsError(f"repeat folder {path}: {err.strerror}") from None
    if not stat.S_ISDIR(info.st_mode):
        raise RunsError(f"repeat folder {path} is not a folder (a symlink or a file)")
    return path


def _manifest(
    run_id: str,
    parameters: dict[str, Any],
    code: str | None,
    env: dict[str, Any],
    target: dict[str, Any],
    components: list[str],
    requested: int,
) -> dict[str, Any]:
    """A pending run's run.json."""
    return {
        "format": RUN_FORMAT,
        "version": RUN_VERSION,
        "id": run_id,
        "parameters": parameters,
        "code": code,
        "environment": env,
        "target": target,
        "components": components,
        "repeats": 0,
        "requested": requested,
        "done": False,
        "status": "pending",
        "error": None,
        "result": None,
        "runtime": [],
        "created": _now(),
        "finished": None,
    }


class _HeldLock:
    """The lock of one run, taken once per store object: nested uses are free (a flock on a
    second descriptor of the same file would wait for this process itself)."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.lock: _FileLock | None = None

    def __enter__(self) -> _HeldLock:
        if self.run_id not in self.store._held:
            self.lock = self.store._lock(f"{self.run_id}.lock").__enter__()
            self.store._held.add(self.run_id)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.lock is not None:
            self.store._held.discard(self.run_id)
            self.lock.__exit__()
            self.lock = None
