"""Dask ``distributed`` workers measured beneath the client's call path, their data merged into
the client's (``pip install 'timemory[dask]'``).

    from dask.distributed import Client
    import timemory.dask

    with Client() as client, timemory.dask.profile(client, components=["wall_clock"]) as p:
        with marker(["wall_clock"], key="solve"):
            client.gather(client.map(step, range(100)))
        p.collect()  # on demand; the block's end collects too

* Every task is measured where it runs. :class:`TimemoryPlugin` (a
  ``distributed.WorkerPlugin`` named ``"timemory"``, registered by :func:`profile` on the
  present and future workers, or by the program: ``client.register_plugin(TimemoryPlugin())``)
  measures each task, in the worker thread that executes it, with the chosen components,
  under its function's name (``step``; a function of ``__main__`` shipped by cloudpickle too).
* The call path follows the task. Importing this module makes every ``Client`` attach the
  submitting thread's open call path (``timemory._context``) to what it submits
  (``submit``, ``map``, ``compute``, ``persist``, ``get``: ``dask.delayed`` and collections
  computed on the distributed scheduler) as the task annotation ``"timemory"``; the worker
  records the task beneath it (``solve -> step``), as a *remote* child (see
  docs/guide/executors.md). ``settings.executor_context = False``: tasks are top-level roots.
* The data come back into the client's storage when the block ends and on
  :meth:`Profile.collect`: ``timemory.get()``, ``XStorage.dmp_get()`` and the output files hold
  one entry per worker process (its pid, like a pool worker's; merged with
  ``collapse_processes``). A threads cluster (``processes=False``) records into the client's
  own storage (its threads). What a worker keeps grows with its distinct call paths.
* Faults are listed, never dropped. A worker that fails to report is named on stderr with
  the reason and in ``metadata.json`` (``dask_workers_failed``); one that died keeps the data
  of its last collection (``checkpoint=SECONDS`` collects periodically) or has none, and the
  line says which. A worker where timemory cannot be imported is one error line naming it;
  the others are measured.
"""

from __future__ import annotations

import os
import sys
import time

from .. import _context, _processes
from .. import settings as _settings
from .._about import missing_package
from .._text import ERROR, WARNING, echo
from . import _worker

try:
    import cloudpickle
    from distributed import Client, WorkerPlugin
except ImportError as err:  # the optional extra is not installed
    raise missing_package("timemory.dask", "dask[distributed]", "dask") from err

from . import _loader

# the plugin's loader and the collecting function travel by value: they run on a worker
# where timemory cannot be imported, and say so
cloudpickle.register_pickle_by_value(_loader)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence
    from typing import Any

__all__ = ["Profile", "TimemoryPlugin", "WorkerRecord", "profile"]

_DEFAULT_COMPONENTS = ("wall_clock",)


def _component_indices(components: Sequence[Any]) -> list[int]:
    from .._components import resolve

    return list(dict.fromkeys(resolve(list(components)))) if components else []


class TimemoryPlugin(WorkerPlugin):
    """Measures every task of a worker in the thread that runs it, with ``components`` (an
    empty list: no node of its own per task; the call path still follows it), beneath the
    call path its client captured. Register it with ``client.register_plugin(plugin)`` (it
    reaches the future workers too) or through :func:`profile`.

    ``client_pid``/``client_host`` name the client's process (default: this one): a worker
    running in it (a threads cluster) records into the client's own storage."""

    name = _worker.PLUGIN_NAME
    idempotent = False

    def __init__(
        self,
        components: Sequence[Any] = _DEFAULT_COMPONENTS,
        client_pid: int | None = None,
        client_host: str | None = None,
    ):
        if isinstance(components, str):
            components = [components]
        # resolved now: a bad name is one error line here, in the client, naming the choices
        _component_indices(list(components))
        # a Python-defined component's class travels as it is (pickled by reference, or by
        # value from __main__): the workers register it in slots of their own
        self.components = [c if isinstance(c, (str, type)) else int(c) for c in components]
        self.client_pid = os.getpid() if client_pid is None else int(client_pid)
        self.client_host = _worker.host() if client_host is None else str(client_host)
        # the client's script: the file of the __main__ functions cloudpickle ships
        main = sys.modules.get("__main__")
        main_file = getattr(main, "__file__", None)
        self.main_file = os.path.abspath(main_file) if isinstance(main_file, str) else ""
        self._measured: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "components": self.components,
            "client_pid": self.client_pid,
            "client_host": self.client_host,
            "main_file": self.main_file,
        }

    def __reduce__(self) -> Any:
        """Shipped as a :class:`~timemory.dask._loader.TimemoryLoader` by value: a worker
        where timemory cannot be imported loads it all the same (see that module)."""
        loader = _loader.TimemoryLoader(self.__getstate__())
        return (cloudpickle.loads, (cloudpickle.dumps(loader),))

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._measured = None

    def setup(self, worker: Any) -> None:
        self._measured = _worker.TaskMeasure(
            _component_indices(self.components), getattr(self, "main_file", "")
        )
        _worker.setup(self, worker)

    def teardown(self, worker: Any) -> None:
        self._measured = None
        _worker.teardown(self, worker)

    def __repr__(self) -> str:
        return f"TimemoryPlugin(components={self.components!r})"


# ------------------------------------------------------------------ the submitting side
def _annotation() -> Any:
    """The task annotation that carries the calling thread's open call path (None: nothing
    open, or ``settings.executor_context`` off). Plain data (lists, ints, strings): the
    scheduler passes it on without unpickling anything of timemory's.

    The path ends where the program called Dask: the functions of dask and distributed open
    beneath it (``Client.map``, ``dask.compute``... recorded by the profiler) are left out,
    so the tasks land beneath the program's own function, as a local call would."""
    if not _settings.executor_context:
        return None
    ctx = _context.capture()
    if ctx is None:
        return None
    records = {int(r[0]): r for r in ctx.records()}
    dirs = _executor_dirs()
    paths = []
    for index, path in ctx.paths:
        hashes = [int(h) for h in path]
        while hashes and _in_dirs(records.get(hashes[-1]), dirs):
            hashes.pop()
        if hashes:
            # a Python-defined component by identity: its index differs in the workers
            paths.append((_processes.component_identity(int(index)), hashes))
    if not paths:
        return None
    used = dict.fromkeys(h for _, hashes in paths for h in hashes)
    ident = hash(tuple((i, tuple(hashes)) for i, hashes in paths))
    return (ident, paths, [list(records[h]) for h in used if h in records])


_DIRS: list[tuple[str, ...]] = []


def _executor_dirs() -> tuple[str, ...]:
    """The folders of the dask and distributed packages (with a trailing separator)."""
    if not _DIRS:
        import dask
        import distributed

        _DIRS.append(
            tuple(os.path.join(os.path.dirname(m.__file__ or ""), "") for m in (dask, distributed))
        )
    return _DIRS[0]


def _in_dirs(record: Any, dirs: tuple[str, ...]) -> bool:
    """Whether a node's record (hash, label, where, source) is a function of those folders
    (a marker has no source: never)."""
    source: Any = record[3] if record is not None else None
    return bool(source) and str(source[0]).startswith(dirs)


def _patch_client() -> None:
    """``Client._graph_to_futures`` (what submit, map, compute, persist and get all call, in
    the submitting thread) annotates the graph's tasks with that thread's call path."""
    original = Client._graph_to_futures
    if getattr(original, "__timemory__", False):
        return

    def _graph_to_futures(self: Any, *args: Any, **kwargs: Any) -> Any:
        carried = _annotation()
        if carried is None:
            return original(self, *args, **kwargs)
        import dask

        with dask.annotate(**{_worker.ANNOTATION: carried}):
            return original(self, *args, **kwargs)

    _graph_to_futures.__timemory__ = True  # type: ignore[attr-defined]
    _graph_to_futures.__wrapped__ = original  # type: ignore[attr-defined]
    Client._graph_to_futures = _graph_to_futures


_patch_client()


# ------------------------------------------------------------------ what was collected
class WorkerRecord:
    """One worker as the client knows it: ``address``, ``name``, ``host``, ``pid``;
    ``collected`` the time (``time.time()``) of its last collection (None: never),
    ``local`` True when it runs in the client's process, ``failed`` the reason it did not
    report at the last collection (None: it did)."""

    __slots__ = ("address", "name", "host", "pid", "collected", "local", "failed", "_said")

    def __init__(self, address: str):
        self.address = address
        self.name = ""
        self.host = ""
        self.pid = 0
        self.collected: float | None = None
        self.local = False
        self.failed: str | None = None
        self._said: str | None = None  # the failure last printed: each is printed once

    def label(self) -> str:
        shown = self.address
        if self.name and self.name != self.address:
            shown += f" (name {self.name})"
        return shown

    def __repr__(self) -> str:
        return (
            f"WorkerRecord({self.address!r}, name={self.name!r}, pid={self.pid}, "
            f"collected={self.collected!r}, failed={self.failed!r})"
        )


# every profile's collected data, until written or timemory.clear():
# (profile serial, host, pid) -> (pid, packed data)
_collected: dict[tuple[int, str, int], tuple[int, Any]] = {}
_serial = [0]


def _payloads() -> list[tuple[int, Any]]:
    return list(_collected.values())


def _has_data() -> bool:
    return bool(_collected)


def _discard() -> None:
    _collected.clear()


_processes.add_local_source(payloads=_payloads, has_data=_has_data, discard=_discard)


def _reason(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


# ------------------------------------------------------------------ profile
class Profile:
    """What :func:`profile` returns: the plugin on the client's workers and the data
    collected from them. ``workers`` maps each worker address seen to its
    :class:`WorkerRecord`; ``failed`` the workers that did not report at the last
    collection, to the reason."""

    def __init__(
        self,
        client: Any,
        components: Sequence[Any] = _DEFAULT_COMPONENTS,
        checkpoint: float | None = None,
    ):
        if not isinstance(client, Client):
            raise TypeError(
                f"timemory.dask.profile needs a distributed.Client, not {type(client).__name__}"
            )
        if getattr(client, "asynchronous", False):
            raise TypeError(
                "timemory.dask.profile needs a synchronous distributed.Client "
                "(Client(asynchronous=False), the default)"
            )
        if checkpoint is not None and (
            isinstance(checkpoint, bool)
            or not isinstance(checkpoint, (int, float))
            or not checkpoint > 0
        ):
            raise ValueError(
                f"timemory.dask.profile: checkpoint must be a positive number of seconds "
                f"or None, not {checkpoint!r}"
            )
        self.client = client
        self.plugin = TimemoryPlugin(components)
        self.checkpoint = float(checkpoint) if checkpoint else None
        self.workers: dict[str, WorkerRecord] = {}
        self.failed: dict[str, str] = {}
        self._serial = 0
        self._active = False
        # False: the program registered the plugin itself; it stays registered after the end
        self._owns_plugin = True
        self._stop_event: Any = None
        self._thread: Any = None
        self._lock: Any = None

    # -- starting and stopping
    def start(self) -> Profile:
        """Register the plugin on every worker (and the future ones); start the checkpoints."""
        import threading

        if self._active:
            return self
        if getattr(self.client, "_timemory_profile", None) is not None:
            raise RuntimeError(
                "timemory.dask.profile: this client is profiled already (one profile per "
                "client at a time)"
            )
        _serial[0] += 1
        self._serial = _serial[0]
        self._lock = threading.Lock()
        self.client._timemory_profile = self
        self._active = True
        self._register()
        if self.checkpoint:
            self._stop_event = threading.Event()
            self._thread = threading.Thread(
                target=self._checkpoints, name="timemory-dask-checkpoint", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> Profile:
        """Collect the workers' data a last time, then unregister the plugin."""
        if not self._active:
            return self
        self._active = False
        if self._thread is not None:
            self._stop_event.set()
            self._thread.join()
            self._thread = None
        try:
            if self._client_open():
                self._collect(final=True)
                try:
                    if self._owns_plugin:
                        self.client.unregister_worker_plugin(self.plugin.name)
                    else:
                        self.client.run(_loader.forget, on_error="ignore")
                except Exception as err:  # noqa: BLE001 - the collected data are kept
                    if self._client_open():
                        echo(
                            f"[timemory]> dask: unregistering the plugin: {_reason(err)}",
                            level=WARNING,
                        )
            else:
                self._closed_before_collecting()
        finally:
            self.client._timemory_profile = None
            self._record_metadata()
        return self

    def __enter__(self) -> Profile:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _client_open(self) -> bool:
        return getattr(self.client, "status", "") in ("running", "connecting", "newly-created")

    def _register(self) -> None:
        """Register the plugin (the scheduler sends it to the future workers too), then ask
        every worker whether it is set up: one where it is not (timemory cannot be imported
        there, its setup failed) is one error line naming it, and the others are measured."""
        from distributed.protocol.pickle import dumps

        plugin = self.plugin
        # a plugin the program registered itself stays (its components apply): only collected
        self._owns_plugin = not self.client.run_on_scheduler(_loader.registered)
        if self._owns_plugin:
            try:
                # the scheduler's call rather than Client.register_plugin, which raises the
                # first worker's error and stops there
                self.client.sync(
                    self.client.scheduler.register_worker_plugin,
                    plugin=dumps(plugin),
                    name=plugin.name,
                    idempotent=plugin.idempotent,
                )
            except Exception:  # noqa: BLE001 - a worker's error: the probe below names it
                pass
        results = self.client.run(_loader.collect, payload=False, on_error="return")
        for address, result in sorted(results.items()):
            record = self._record(address)
            reason = self._update(record, result)
            if reason is not None:
                record.failed = record._said = self.failed[address] = reason
                echo(
                    f"[timemory]> error: dask worker {record.label()}: {reason}; it is not "
                    "measured, the other workers are",
                    level=ERROR,
                )

    def _update(self, record: WorkerRecord, result: Any) -> str | None:
        """Take what ``_worker.collect`` returned (or the error it raised) into ``record``;
        the reason it cannot be measured, None when it can."""
        if isinstance(result, BaseException):
            return f"it could not be asked ({_reason(result)})"
        if "error" in result:
            record.name = str(result.get("name", ""))
            return str(result["error"])
        record.name = str(result.get("name", ""))
        record.host = str(result.get("host", ""))
        record.pid = int(result.get("pid", 0))
        record.local = (record.host, record.pid) == (_worker.host(), os.getpid())
        if not result.get("plugin"):
            return "the timemory plugin is not set up there (its setup failed)"
        return None

    def _record(self, address: str) -> WorkerRecord:
        record = self.workers.get(address)
        if record is None:
            record = self.workers[address] = WorkerRecord(address)
        return record

    # -- collecting
    def collect(self) -> Profile:
        """Bring every worker's data (all of it so far) into the client's storage now; the
        workers that do not report are listed on stderr with the reason."""
        if not self._active:
            raise RuntimeError("timemory.dask: collect() is only possible inside the profile")
        self._collect(final=False, quiet=False)
        return self

    def _checkpoints(self) -> None:
        while not self._stop_event.wait(self.checkpoint):
            try:
                self._collect(final=False, quiet=True)
            except Exception:  # noqa: BLE001 - a failed checkpoint is retried at the next
                pass

    def _collect(self, final: bool, quiet: bool = False) -> None:
        with self._lock:
            self._collect_locked(final, quiet)

    def _collect_locked(self, final: bool, quiet: bool) -> None:
        try:
            results = self.client.run(_loader.collect, on_error="return")
        except Exception as err:  # noqa: BLE001 - the cluster went away: what was collected stays
            if not self._client_open():
                if final:
                    self._closed_before_collecting()
                return
            results = {}
            if not quiet:
                echo(
                    f"[timemory]> dask: collecting the workers' data failed: {_reason(err)}",
                    level=WARNING,
                )
        now = time.time()
        for address, result in sorted(results.items()):
            record = self._record(address)
            reason = self._update(record, result)
            if reason is not None:
                record.failed = reason
                continue
            record.failed = None
            record.collected = now
            if not record.local:
                _collected[(self._serial, record.host, record.pid)] = (
                    record.pid,
                    result.get("payload") or {},
                )
        for address, record in self.workers.items():
            if address not in results and record.failed is None:
                record.failed = "it left the cluster (died or was removed)"
        self.failed = {a: r.failed for a, r in sorted(self.workers.items()) if r.failed}
        if not quiet:
            self._report_failed()

    def _kept(self, record: WorkerRecord, end: float) -> str:
        if record.collected is None:
            return "no data of it"
        return (
            f"its data from the last collection at {_clock(record.collected)} "
            f"({end - record.collected:.1f} s earlier) are kept"
        )

    def _report_failed(self) -> None:
        now = time.time()
        for address, reason in self.failed.items():
            record = self.workers[address]
            if record._said == reason:
                continue
            record._said = reason
            echo(
                f"[timemory]> dask worker {record.label()} did not report: {reason}; "
                + self._kept(record, now),
                level=WARNING,
            )

    def _closed_before_collecting(self) -> None:
        now = time.time()
        kept = [r for r in self.workers.values() if r.collected is not None]
        echo(
            "[timemory]> warning: the Dask client or cluster was closed before timemory "
            f"collected its workers' data; {len(kept)} of {len(self.workers)} workers' data "
            "from earlier collections are kept"
            + (f" (the last at {_clock(max(r.collected or 0.0 for r in kept))})" if kept else ""),
            level=WARNING,
        )
        for record in self.workers.values():
            if record.failed is None:
                record.failed = "the client or cluster was closed before the final collection"
        self.failed = {a: r.failed for a, r in sorted(self.workers.items()) if r.failed}
        for address, reason in self.failed.items():
            record = self.workers[address]
            echo(
                f"[timemory]> dask worker {record.label()}: {reason}; {self._kept(record, now)}",
                level=WARNING,
            )

    def _record_metadata(self) -> None:
        """``metadata.json``: the workers of every profile of the run (``dask_workers``) and
        those that did not report (``dask_workers_failed``), each line once."""
        from .._output import manager

        end = time.time()
        for record in self.workers.values():
            if record.pid:
                own = " (the client's process)" if record.local else ""
                _metadata["dask_workers"][
                    f"{record.label()}: pid {record.pid} on {record.host}{own}"
                ] = None
        for address, reason in self.failed.items():
            record = self.workers[address]
            _metadata["dask_workers_failed"][
                f"{record.label()}: {reason}; {self._kept(record, end)}"
            ] = None
        for key, lines in _metadata.items():
            if lines:
                manager.add_metadata(key, list(lines))


# what metadata.json lists of the run's profiles (ordered sets: each line once)
_metadata: dict[str, dict[str, None]] = {"dask_workers": {}, "dask_workers_failed": {}}


def profile(
    client: Any,
    components: Sequence[Any] = _DEFAULT_COMPONENTS,
    checkpoint: float | None = None,
) -> Profile:
    """``with profile(client, components=["wall_clock"]) as p:``: every task the client's
    workers run in the block is measured with ``components`` in the thread that runs it,
    beneath the call path that submitted it; the data come into this process's storage at
    the block's end and on ``p.collect()``; ``checkpoint=SECONDS`` collects periodically, so a
    worker that dies keeps the data of its last collection."""
    return Profile(client, components, checkpoint)
