"""The plugin as the workers receive it: shipped by value (cloudpickle), so that a worker
where timemory cannot be imported still loads it and registers it, quietly, instead of
failing the scheduler's broadcast (a traceback in the scheduler's log). That worker is then
named in one line by the client (the probe, :func:`collect`, answers with the import
error) and the other
workers are measured. This module imports nothing of timemory's at its top: its class
travels without it."""

from __future__ import annotations

from distributed import WorkerPlugin

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only
    from typing import Any


class TimemoryLoader(WorkerPlugin):
    """Imports timemory on the worker and sets :class:`timemory.dask.TimemoryPlugin` up with
    ``state``; where that import fails, ``error`` holds why and no task is measured."""

    name = "timemory"
    idempotent = False

    def __init__(self, state: dict[str, Any]) -> None:
        self.state = state
        self.plugin: Any = None
        self.error: str | None = None
        # what the task hook looks for (timemory.dask._worker): set once timemory is set up
        self._measured: Any = None

    def setup(self, worker: Any) -> None:
        try:
            from timemory.dask import TimemoryPlugin
        except Exception as err:  # noqa: BLE001 - the client names this worker and the reason
            self.error = f"timemory cannot be imported there ({_why(err)})"
            return
        plugin = TimemoryPlugin.__new__(TimemoryPlugin)
        plugin.__setstate__(self.state)
        try:
            plugin.setup(worker)
        except Exception as err:  # noqa: BLE001 - likewise
            self.error = f"timemory could not be set up there ({_why(err)})"
            return
        self.plugin = plugin
        self._measured = plugin._measured

    def teardown(self, worker: Any) -> None:
        self._measured = None
        if self.plugin is not None:
            self.plugin.teardown(worker)


def _why(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def collect(dask_worker: Any = None, payload: bool = True) -> dict[str, Any]:
    """Run on a worker by the client: ``timemory.dask._worker.collect`` there, or, where
    timemory cannot be imported, ``{"error": why}`` (shipped by value like the plugin: the
    reason reaches the client as this worker's answer rather than as a failed broadcast)."""
    name = str(getattr(dask_worker, "name", ""))
    plugin = dask_worker.plugins.get("timemory") if dask_worker is not None else None
    error = getattr(plugin, "error", None)
    if error is not None:
        return {"error": error, "name": name}
    try:
        from timemory.dask import _worker
    except Exception as err:  # noqa: BLE001 - reported by the client, naming this worker
        return {"error": f"timemory cannot be imported there ({_why(err)})", "name": name}
    return _worker.collect(dask_worker, payload)


def registered(dask_scheduler: Any = None) -> bool:
    """Run on the scheduler by the client: whether a plugin named ``timemory`` is registered
    for the workers (by the program itself, before a profile)."""
    return "timemory" in getattr(dask_scheduler, "worker_plugins", {})


def forget(dask_worker: Any = None) -> bool:
    """Run on a worker by the client at the end of a profile whose plugin the program
    registered (and keeps): the worker forgets what was collected, as the plugin's teardown
    does, so that a later profile collects only its own tasks."""
    plugin = dask_worker.plugins.get("timemory") if dask_worker is not None else None
    inner = getattr(plugin, "plugin", None)
    if inner is None:
        return False
    from timemory.dask import _worker

    _worker.teardown(inner, dask_worker)
    return True
