"""What runs inside a Dask worker: each task measured in the thread that executes it, beneath
the call path the client captured when it submitted the task.

``distributed`` runs a task in ``distributed.worker._run_task`` (in the worker's thread pool),
which calls ``_run_task_simple(task, data, delay)``, which calls ``task(data)``. The plugin
replaces that module function once per process with one that hands it a :class:`_Measured`
task instead: entering the client's call path (the task's ``timemory`` annotation), a marker
named after the task's function around ``task(data)``, leaving the path. The marker and the
context are native: what a worker keeps grows with the distinct call paths, not the tasks.
A worker without the plugin (none registered, or unregistered) runs its tasks untouched.
"""

from __future__ import annotations

import os
import socket

from .. import _core, _lifecycle, _processes, _workers
from ..bundle import marker

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

#: The annotation key that carries the client's call path with a task.
ANNOTATION = "timemory"
#: The plugin's name on the workers (``Worker.plugins``).
PLUGIN_NAME = "timemory"

_state: dict[str, Any] = {
    # this process is a Dask worker process of another process's client: its data travel
    # through the Dask collection only (never written here, never left in a pool spool)
    "remote": False,
    "original": None,  # distributed.worker._run_task_simple before the patch
    "thread_state": None,  # distributed.worker.thread_state: the running task's key, worker
    # a client collected this worker's data since its storage was last cleared
    "collected": False,
}
#: dask's task node class (a graph's function calls; its other nodes hold data or aliases)
_TASK: list[Any] = [None]
_TASK_REF: list[Any] = [None]
_GRAPH_NODE: list[Any] = [None]


def host() -> str:
    return socket.gethostname()


def setup(plugin: Any, worker: Any) -> None:
    """The plugin's ``setup``: this process becomes a Dask worker process (unless the client
    runs in it: a threads cluster records into the client's own storage) and every task of
    ``worker`` is measured from now on."""
    if (plugin.client_host, plugin.client_pid) != (host(), os.getpid()):
        if not _state["remote"]:
            _state["remote"] = True
            # spawned by the nanny through multiprocessing, it took itself for a pool worker
            # of the client's process (the inherited spool): its data would then reach the
            # client twice, through that spool at exit and through Dask
            if _workers.is_worker():
                _workers.become_owner()
    _patch()


def teardown(plugin: Any, worker: Any) -> None:
    """The plugin's ``teardown`` (unregistered at the end of ``profile``, after the final
    collection): a worker process forgets what the client collected, so that a later
    profile collects only its own tasks. A threads cluster's storage is the client's."""
    if _state["remote"]:
        for index in _workers.data_indices():
            _core.clear(index)
        _state["collected"] = False


def _hand_off() -> bool:
    """At finalize: a Dask worker process writes nothing (its data went to the client).

    A worker that is also a rank of an MPI job (dask-mpi) must still take part in the job's
    collective write at finalize, which the other ranks wait in. It sends only what the client
    did not collect: nothing of what a collection took (the final one cleared it at teardown;
    after a checkpoint without a final collection the client keeps that checkpoint, so the
    rest is dropped here rather than counted twice). What it recorded outside a profile
    reaches the output this way, once."""
    if not _state["remote"]:
        return False
    if not _processes.collective_in_use():
        return True
    if _state["collected"]:
        for index in _workers.data_indices():
            _core.clear(index)
        _core.timeline_clear()
    return False


_lifecycle.add_handoff(_hand_off)


def _patch() -> None:
    import distributed.worker as dworker
    from dask._task_spec import GraphNode, Task, TaskRef

    if _state["original"] is not None:
        return
    _TASK[0] = Task
    _TASK_REF[0] = TaskRef
    _GRAPH_NODE[0] = GraphNode
    _state["thread_state"] = dworker.thread_state
    _state["original"] = dworker._run_task_simple
    dworker._run_task_simple = _run_task_simple


def _run_task_simple(task: Any, data: Any, time_delay: float) -> Any:
    original = _state["original"]
    if original is None:
        # pickled by reference into a process pool that a worker runs tasks on (an executor
        # of its own): not patched there, the task runs as distributed runs it
        import distributed.worker as dworker

        return dworker._run_task_simple(task, data, time_delay)
    thread_state = _state["thread_state"]
    execution = getattr(thread_state, "execution_state", None)
    worker = execution.get("worker") if execution else None
    plugin = worker.plugins.get(PLUGIN_NAME) if worker is not None else None
    measure = getattr(plugin, "_measured", None)
    if measure is None:
        return original(task, data, time_delay)
    return original(measure(worker, getattr(thread_state, "key", None), task), data, time_delay)


#: What cloudpickle names the file of every code object it ships by value.
DYNAMIC_CODE = "<dynamic-code>"


class TaskMeasure:
    """Per plugin instance: the components (indices) each task is measured with and the
    call paths seen so far (their labels registered once).

    A function of the client's ``__main__`` arrives, with the functions of ``__main__`` it
    calls, as new code objects named ``<dynamic-code>`` (cloudpickle ships them by value):
    the profiler would name their file so, and would label every task's copy anew. Each is
    given the client's script as its file, once per distinct function (the code objects are
    reused across tasks: the profiler's labels stay bounded by the distinct functions)."""

    __slots__ = ("indices", "contexts", "main_file", "codes")

    def __init__(self, indices: list[int], main_file: str = ""):
        self.indices = indices
        self.main_file = main_file
        # (name, first line, bytecode, constants) -> the code object with the real file
        self.codes: dict[Any, Any] = {}
        # the annotation's key -> the path as context_enter takes it; one entry per distinct
        # submitting call path
        self.contexts: dict[int, Any] = {}

    def __call__(self, worker: Any, key: Any, task: Any) -> _Measured:
        paths = None
        ts = worker.state.tasks.get(key) if key is not None else None
        annotations = getattr(ts, "annotations", None)
        carried = annotations.get(ANNOTATION) if annotations else None
        if carried:
            ident = carried[0]
            paths = self.contexts.get(ident)
            if paths is None:
                _core.context_register([tuple(r) for r in carried[2]])
                local = [(_processes.local_component(i), p) for i, p in carried[1]]
                paths = self.contexts[ident] = [
                    (int(i), list(p)) for i, p in local if i is not None
                ]
        name = None
        if type(task) is _TASK[0]:
            func = getattr(task, "func", None)
            code = getattr(func, "__code__", None)
            if code is not None and code.co_filename == DYNAMIC_CODE and self.main_file:
                self._real_files(func, set())
            if self.indices:
                name = self._name(func)
        return _Measured(task, paths, name, self.indices)

    def _real_files(self, func: Any, seen: set[int]) -> None:
        """``func`` and the ``__main__`` functions it reaches through its globals (shipped
        with it) get code objects whose file is the client's script."""
        seen.add(id(func))
        code = func.__code__
        # a wrapper's module and name are those of what it wraps (functools.wraps): its code
        # (named otherwise) is not the script's
        if (
            code.co_filename == DYNAMIC_CODE
            and getattr(func, "__module__", None) == "__main__"
            and code.co_name == getattr(func, "__name__", None)
        ):
            key = (code.co_name, code.co_firstlineno, code.co_code, code.co_consts)
            real = self.codes.get(key)
            if real is None:
                real = self.codes[key] = _with_file(code, self.main_file)
            try:
                func.__code__ = real
            except (TypeError, ValueError):  # free variables differ: left as shipped
                pass
        # what it calls: its globals, what it decorates (``functools.wraps``), its closure
        reached = list(getattr(func, "__globals__", {}).values())
        reached.append(getattr(func, "__wrapped__", None))
        reached += [_cell(c) for c in getattr(func, "__closure__", None) or ()]
        for value in reached:
            if id(value) not in seen and getattr(value, "__code__", None) is not None:
                if getattr(value.__code__, "co_filename", None) == DYNAMIC_CODE:
                    self._real_files(value, seen)

    def _name(self, func: Any) -> str:
        name = getattr(func, "__name__", None)
        if isinstance(name, str):
            return name
        from dask.utils import funcname

        return str(funcname(func))


def _cell(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def _with_file(code: Any, path: str) -> Any:
    """``code`` and the code objects nested in it (its inner functions) with file ``path``."""
    consts = tuple(
        _with_file(c, path) if isinstance(c, type(code)) and c.co_filename == DYNAMIC_CODE else c
        for c in code.co_consts
    )
    return code.replace(co_filename=path, co_consts=consts)


class _Measured:
    """``task(values)`` beneath the submitting call path, measured under its function's name
    (a data or alias node of a graph: only the call path)."""

    __slots__ = ("task", "paths", "name", "indices")

    def __init__(self, task: Any, paths: Any, name: str | None, indices: list[int]):
        self.task = task
        self.paths = paths
        self.name = name
        self.indices = indices

    def __call__(self, values: Any = ()) -> Any:
        token = _core.context_enter(self.paths) if self.paths else None
        try:
            call = _direct(self.task, values)
            if self.name is None:
                return call() if call is not None else self.task(values)
            with marker(self.indices, key=self.name):
                return call() if call is not None else self.task(values)
        finally:
            if token is not None:
                _core.context_leave(token)


def _direct(task: Any, values: Any) -> Any:
    """For a task whose arguments are values or other tasks' results (what ``submit`` and
    ``map`` make): its function called directly, as ``Task.__call__`` would call it, so
    that the function profiler, where it runs in the worker, shows the task's function
    right beneath the client's call path rather than dask's ``Task.__call__`` between
    them. None for anything else (nested graph nodes as arguments, other node types):
    the task then runs as dask runs it."""
    if type(task) is not _TASK[0]:
        return None
    ref, node = _TASK_REF[0], _GRAPH_NODE[0]
    args = []
    for a in task.args:
        if isinstance(a, node):
            return None
        args.append(values[a.key] if isinstance(a, ref) else a)
    kwargs = {}
    for k, a in (task.kwargs or {}).items():
        if isinstance(a, node):
            return None
        kwargs[k] = values[a.key] if isinstance(a, ref) else a
    func = task.func
    return lambda: func(*args, **kwargs)


def collect(dask_worker: Any = None, payload: bool = True) -> dict[str, Any]:
    """Run on a worker by the client (``Client.run``): this process's packed data (all of it
    so far; not with ``payload=False``) with the worker's name, host and pid, and whether the
    plugin is set up on it."""
    from ..storage import local_payload

    plugin = dask_worker.plugins.get(PLUGIN_NAME) if dask_worker is not None else None
    out: dict[str, Any] = {
        "host": host(),
        "pid": os.getpid(),
        "name": str(getattr(dask_worker, "name", "")),
        "plugin": getattr(plugin, "_measured", None) is not None,
    }
    if payload and out["plugin"] and _state["remote"]:
        out["payload"] = local_payload(_workers.data_indices(), ("flat", "tree"))
        _state["collected"] = True
    return out
