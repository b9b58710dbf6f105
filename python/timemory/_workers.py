"""Worker processes (``multiprocessing`` and ``concurrent.futures`` pools, ``os.fork``): their
data end up in the parent's output.

A forked child starts with empty storage of its own. A worker (a forked child, or a
process that ``multiprocessing`` spawned) never writes output files: when it ends it leaves
its packed data, once and cumulatively, in the parent's spool folder (named by the
``TIMEMORY_WORKER_SPOOL`` environment variable, which spawned workers inherit), and the
parent merges every worker's data into ``dmp_get()`` and its output, per worker (pid) or
collapsed with ``collapse_processes``.

While a command-line tool (``python -m timemory.profiler``, ``.trace``, ``.line_profiler``) runs
a program, the processes that ``multiprocessing`` spawns (spawn and forkserver start methods)
run the same tool with the same options: the hand-over travels in the preparation data that
``multiprocessing`` pickles for the new process, and unpickling it there, before the program's
main module is imported again, starts the tool and defines its builtins (``@profile``).

A worker leaves its data when ``multiprocessing`` ends it normally (its exit finalizers), at
interpreter exit (``atexit``: a spawned worker, a plain forked child), and when a pool
terminates it with SIGTERM (``Pool.__exit__`` does): timemory's ending-signal handler
(:mod:`timemory._signals`, installed in every worker whose SIGTERM has the default disposition,
whatever ``settings.signals`` says) hands the data over, then the worker ends as SIGTERM ends it.
"""

from __future__ import annotations

import os
import sys
import time

from . import _core, _lifecycle, _output, _processes, _signals
from ._components import MEASURABLE
from ._files import atomic_write_with
from ._output import _timeline
from ._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

_SPOOL_ENV = "TIMEMORY_WORKER_SPOOL"
_state: dict[str, Any] = {
    "worker": False,
    "spool": "",
    "name": "",
    "hooked": False,
    "flushing": False,
}
# name -> function returning picklable data a worker leaves besides its storage (the line
# profiler's line stats); the parent reads them with extras(name)
_EXTRAS: dict[str, Any] = {}
_AFTER_FORK: dict[str, Any] = {}


class _Token:
    """A live object for ``multiprocessing.util.register_after_fork`` (weakly referenced)."""


_TOKEN = _Token()


def is_worker() -> bool:
    return bool(_state["worker"])


def spool() -> str:
    return str(_state["spool"])


def _new_spool() -> str:
    base = os.environ.get("TMPDIR") or "/tmp"
    return os.path.join(base, f"timemory-workers-{os.getpid()}-{time.time_ns() % 10**12}")


def _install() -> None:
    """At ``import timemory``: a process spawned by ``multiprocessing`` is a worker of the
    process whose spool it inherited; any other process owns a new spool for its workers."""
    inherited = os.environ.get(_SPOOL_ENV, "")
    if inherited and _spawned_by_multiprocessing():
        _become_worker(inherited, forked=False)
    else:
        _state["spool"] = _new_spool()
        os.environ[_SPOOL_ENV] = _state["spool"]
    os.register_at_fork(after_in_child=_after_fork_in_child)


def become_owner() -> None:
    """In a forked child that writes its own output (a repeat of ``timemory.runs``): it is no
    longer a worker of its parent, and its own workers leave their data in a new spool of its
    own, which its output then includes."""
    _state.update(worker=False, name="", spool=_new_spool())
    os.environ[_SPOOL_ENV] = _state["spool"]


def _spawned_by_multiprocessing() -> bool:
    """True in a process that multiprocessing started (spawn, forkserver), while it unpickles
    its work (``_inheriting``) or once it runs (``parent_process()``)."""
    process = sys.modules.get("multiprocessing.process")
    if process is None:
        return False
    current = process.current_process()
    return bool(getattr(current, "_inheriting", False)) or process.parent_process() is not None


def _become_worker(spool_dir: str, forked: bool) -> None:
    _state.update(worker=True, spool=spool_dir, name=f"{os.getpid()}-{time.time_ns() % 10**12}")
    _hook_multiprocessing(forked)


def data_indices() -> list[int]:
    """The components whose data a process hands over: the built-in ones that hold data and
    the Python-defined ones (registered, or rows that hold other processes' data)."""
    return sorted(set(MEASURABLE).union(_core.user_component_indices()))


def _after_fork_in_child() -> None:
    # the parent's data, Python-defined components' too, are the parent's to write
    for index in data_indices():
        _core.clear(index)
    _core.timeline_clear()
    _output.manager._outputs.clear()
    for reset in _AFTER_FORK.values():
        reset()
    _state["hooked"] = False  # the parent's registrations do not survive the child's bootstrap
    _become_worker(_state["spool"], forked=True)


def _hook_multiprocessing(forked: bool) -> None:
    """Have ``multiprocessing`` flush this worker when it ends it, with an exit finalizer.
    When a process object bootstraps, fork and forkserver children clear the finalizers and
    then run the after-fork callbacks; spawned ones do neither. So a forked process registers
    ours as an after-fork callback, one spawned (and still unpickling its data,
    ``_inheriting``) both now and as a callback, and a process that runs already (timemory
    imported by a task) now. (A fork server's child ends with ``os._exit``, without
    ``atexit``: the finalizer is its only flush besides SIGTERM.)"""
    util = sys.modules.get("multiprocessing.util")
    process = sys.modules.get("multiprocessing.process")
    if util is None or process is None or _state["hooked"]:
        return
    _state["hooked"] = True
    inheriting = getattr(process.current_process(), "_inheriting", False)
    if forked or inheriting:
        util.register_after_fork(_TOKEN, _in_multiprocessing_child)
    if not forked:
        _in_multiprocessing_child(_TOKEN)


def _in_multiprocessing_child(_token: Any) -> None:
    import signal
    from multiprocessing import util

    registry = util._finalizer_registry  # type: ignore[attr-defined]  # private: not in typeshed
    if not any(getattr(f, "_callback", None) is flush for f in list(registry.values())):
        util.Finalize(None, flush, exitpriority=100)
    # Pool.terminate() (and so `with Pool(...)`) ends idle workers with SIGTERM: leave the
    # data first, unless the program handles SIGTERM itself. The signal handler's watcher
    # thread also covers a worker whose main thread never runs the handler: a SIGTERM that
    # lands after its last check and before it blocks in ``sem_wait`` (an idle worker taking
    # its queue's lock) would otherwise leave it asleep forever and its pool waiting for it.
    _signals.ensure(signal.SIGTERM)


def flush() -> None:
    """Leave this worker's data (all of it so far) in the parent's spool folder."""
    if not _state["worker"]:
        return
    # A pool may send SIGTERM while its worker is ending normally: the flush finishes first,
    # then the signal ends the worker. Held before the flag is set: a signal handled in
    # between would otherwise find a flush under way that has not written anything yet.
    _signals.hold()
    if _state["flushing"]:  # the signal held by the flush below, ending the process
        _signals.release()
        return
    _state["flushing"] = True
    try:
        try:
            _leave_data()
        finally:
            # still flushing: a signal held meanwhile ends the process now, without
            # leaving the same data a second time
            _signals.release()
    finally:
        _state["flushing"] = False


def _leave_data() -> None:
    import pickle

    from .storage import local_payload

    _lifecycle.stop_hooks()
    _core.stop_all_bundles()
    payload: dict[Any, Any] = local_payload(data_indices(), ("flat", "tree"))
    extras = {name: get() for name, get in _EXTRAS.items()}
    extras = {name: value for name, value in extras.items() if value is not None}
    if extras:
        payload["extras"] = extras
    if not payload:
        return
    path = os.path.join(_state["spool"], f"{_state['name']}.pkl")
    # atomically (the writer makes the spool folder): the parent never reads half of it
    data = (os.getpid(), payload)
    atomic_write_with(path, lambda f: pickle.dump(data, f, protocol=4))


def has_data() -> bool:
    """True when workers of this process left data."""
    if _state["worker"] or not _state["spool"]:
        return False
    try:
        return any(n.endswith(".pkl") for n in os.listdir(_state["spool"]))
    except OSError:
        return False


def add_extra(name: str, get: Any, after_fork: Any = None) -> None:
    """A worker leaves ``get()`` (picklable, None for nothing) with its data, under ``name``;
    ``after_fork()`` runs in a forked child first (to forget what the parent had counted)."""
    _EXTRAS[name] = get
    if after_fork is not None:
        _AFTER_FORK[name] = after_fork


def extras(name: str) -> list[Any]:
    """In the parent: what every worker left under ``name`` (see :func:`add_extra`)."""
    return [data["extras"][name] for _, data in _read_all() if name in data.get("extras", {})]


def _leave_timeline() -> tuple[int, bytes] | None:
    """What a worker leaves of its timeline (settings.timeline_events): its pid and the packed
    events, written by the parent as the worker's process track."""
    packed = _timeline.pack()
    return None if packed is None else (os.getpid(), packed)


add_extra("timeline", _leave_timeline)
_timeline.add_source(lambda: extras("timeline"))


def payloads() -> list[tuple[int, dict[int, dict[str, bytes]]]]:
    """``(pid, packed data)`` of every worker that left data, in the order they started."""
    return [(pid, {k: v for k, v in data.items() if k != "extras"}) for pid, data in _read_all()]


def _read_all() -> list[tuple[int, dict[Any, Any]]]:
    if not has_data():
        return []
    import pickle

    from ._files import UnsafeFolderError, check_folder

    try:
        # the files are unpickled: only from a folder no other user could write into
        check_folder(_state["spool"])
    except UnsafeFolderError as err:
        echo(f"[timemory]> the pool workers' data are not read: {err}", sys.stderr)
        return []
    out = []
    names = [n for n in os.listdir(_state["spool"]) if n.endswith(".pkl")]
    for name in sorted(names, key=lambda n: int(n.split("-")[1].split(".")[0])):
        try:
            with open(os.path.join(_state["spool"], name), "rb") as f:
                out.append(pickle.load(f))
        except (OSError, EOFError, pickle.UnpicklingError) as err:
            echo(f"[timemory]> unreadable worker data '{name}': {err}", sys.stderr)
    return out


def discard() -> None:
    """Forget the workers' data (``timemory.clear()`` and after the output is written)."""
    if _state["worker"] or not _state["spool"]:
        return
    # os only, not shutil: this runs at exit, where importing more modules turns an
    # unhandled KeyboardInterrupt's exit status 130 into 1
    folder = _state["spool"]
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        try:
            os.remove(os.path.join(folder, name))
        except OSError:
            pass
    try:
        os.rmdir(folder)
    except OSError:
        pass


def _hand_off() -> bool:
    """At finalize: a worker leaves its data to its parent instead of writing them."""
    if not _state["worker"]:
        return False
    flush()
    return True


#: Seconds an ending signal waits for this process's pool workers to leave their data.
WORKERS_WAIT = 30.0


def _end_daemonic_children() -> None:
    """An ending signal (SIGTERM...) in a process with pool workers: they are ended first, as
    ``multiprocessing`` ends its daemonic children at a normal exit (SIGTERM), and leave their
    data, which this process's output then includes. Without this they would outlive it (a
    killed process runs no exit handler) and their data would be lost."""
    if "multiprocessing" not in sys.modules:
        return
    import multiprocessing
    from multiprocessing import util

    # first what a normal exit runs first: the pools' finalizers stop their worker handlers
    # (which would otherwise fork new workers for the ended ones, from a thread, into a
    # process that may be importing: those hang) and terminate their workers
    try:
        util._run_finalizers(0)  # type: ignore[attr-defined]  # private: not in typeshed
    except Exception as err:  # noqa: BLE001 - the data must still be written
        echo(f"[timemory]> ending the pool workers: {err!r}", sys.stderr)
    # its own: a forked child still starting knows its parent's children too (not yet cleared)
    children = [
        p
        for p in multiprocessing.active_children()
        if p.daemon and getattr(p, "_parent_pid", None) == os.getpid()
    ]
    for child in children:
        try:
            child.terminate()
        except OSError:
            pass
    deadline = time.monotonic() + WORKERS_WAIT
    for child in children:
        child.join(max(0.0, deadline - time.monotonic()))


# the parent writes what its workers left; a worker hands its own data over at finalize
_processes.add_local_source(payloads=payloads, has_data=has_data, discard=discard)
_lifecycle.add_handoff(_hand_off)
_signals.add_before_write(_end_daemonic_children)


# ------------------------------------------------------------------ command-line tools
def hand_over_tool(module: str, options: list[str]) -> None:
    """While a command-line tool runs a program: the processes ``multiprocessing`` spawns
    run ``module.start_in_worker(options)`` before anything else (see the module docstring)."""
    from ._import_hooks import after_import

    after_import("multiprocessing.spawn", lambda spawn: _patch_spawn(spawn, module, options))


def _patch_spawn(spawn: Any, module: str, options: list[str]) -> None:
    original = spawn.get_preparation_data
    hand_over = _ToolHandOver(module, tuple(options))

    def get_preparation_data(name: str) -> dict[str, Any]:
        data = original(name)
        data["timemory_tool"] = hand_over  # multiprocessing's prepare() ignores unknown keys
        return data

    spawn.get_preparation_data = get_preparation_data


class _ToolHandOver:
    __slots__ = ("module", "options")

    def __init__(self, module: str, options: tuple[str, ...]):
        self.module = module
        self.options = options

    def __reduce__(self) -> Any:
        return (_start_tool, (self.module, self.options))


def _start_tool(module: str, options: tuple[str, ...]) -> None:
    """Runs in the spawned process while it unpickles its preparation data."""
    import importlib

    try:
        importlib.import_module(module).start_in_worker(list(options))
    except BaseException as err:  # noqa: BLE001 - the worker must still run its task
        echo(f"[timemory]> worker {os.getpid()}: could not start {module}: {err!r}", sys.stderr)
