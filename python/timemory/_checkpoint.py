"""Crash-safe checkpoints: a background thread that rewrites the output folder's files every
``settings.checkpoint_interval`` seconds, so that a run ended by SIGKILL, the OOM killer,
``os._exit`` or a crash in native code keeps every region completed before the last
checkpoint.

A checkpoint is an ordinary write of this process's data (the same formats, the same output
plan, each file replaced atomically), made quiet: nothing is printed, the run's list of files
(``timemory.manager``) is left alone, the roofline's ERT is not measured and no plot is drawn.
Its metadata.json (and the flat and tree JSON files) carry ``"checkpoint": {"final": false,
"time": ..., "unix_time": ..., "sequence": n}``; the final write at exit replaces the files
and says ``"final": true``. Every region that completed before ``time`` is in the files.

The program's threads keep running while a checkpoint is written: the native snapshot and
writers release the GIL, and the per-graph lock is only taken while a snapshot copies a graph.

* One thread per process, a daemon, started by :func:`start` (at ``import timemory`` when
  the setting is on, by the command-line tools, or when the setting is changed to a positive
  value) and stopped for good by :func:`stop`, which finalize calls before its own write: the
  lock makes a checkpoint in progress finish first, and no checkpoint starts after it.
* Not in a worker process (a pool worker hands its data to its parent, which checkpoints
  them), nor in a forked child (every forked child is such a worker).
* Under MPI each rank writes its own ``<label>_<rank>`` files: a background thread must not
  enter a collective.
* Errors are reported once, on stderr; a checkpoint that fails never stops the program.
"""

from __future__ import annotations

import os
import sys
import time
from _thread import RLock

from . import _output, _processes
from . import settings as _settings
from ._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "add_exclusion",
    "add_writer",
    "final_marker",
    "install",
    "remove_stale",
    "running",
    "start",
    "stop",
    "write_checkpoint",
]

#: Held by a checkpoint while it writes and by :func:`stop`: the final write never races one.
#: Reentrant: finalize may run from a signal handler on a thread that is inside a checkpoint
#: (that checkpoint then writes nothing more: its plan is cancelled).
_LOCK = RLock()
_state: dict[str, Any] = {
    "thread": None,  # the running threading.Thread
    "wake": None,  # its threading.Event: set to re-read the interval or to stop
    "stopped": False,  # stop() ran: no checkpoint any more in this process
    "sequence": 0,  # checkpoints written
    "enabled": False,  # a checkpoint was ever scheduled: the final write says "final": true
    "reported": False,  # an error was printed (only the first one is)
    "last": None,  # the last checkpoint's plan (its files, for the clean-up after the final)
}
#: ``func()`` True: this process must not checkpoint (a pool worker)
_exclusions: list[Callable[[], bool]] = []
#: ``func(plan)`` writes data kept outside timemory's storage (the line profiler's lines) with
#: a checkpoint's plan
_writers: list[Callable[[Any], Any]] = []


def add_writer(func: Callable[[Any], Any]) -> None:
    """Have every checkpoint call ``func(plan)`` before timemory's own files (metadata.json is
    the last file of a checkpoint): a tool whose data are not in timemory's storage writes
    them with the checkpoint's (quiet) output plan."""
    _writers.append(func)


def add_exclusion(func: Callable[[], bool]) -> None:
    """Never checkpoint while ``func()`` returns True (registered from above: the pool
    workers)."""
    _exclusions.append(func)


def _interval() -> float:
    return float(_settings.checkpoint_interval)


def _excluded() -> bool:
    return any(func() for func in _exclusions)


def running() -> bool:
    """Whether this process's checkpoint thread is alive."""
    thread = _state["thread"]
    return thread is not None and thread.is_alive()


def start() -> bool:
    """Start the checkpoint thread if ``settings.checkpoint_interval`` is positive and none
    runs; returns whether one runs now. No thread in a worker, or once :func:`stop` ran."""
    if _state["stopped"] or _interval() <= 0 or _excluded():
        return running()
    with _LOCK:
        if running():
            _state["wake"].set()  # re-read the interval
            return True
        import threading  # only a process that checkpoints pays for it

        wake = threading.Event()
        thread = threading.Thread(
            target=_loop, args=(wake,), name="timemory-checkpoint", daemon=True
        )
        _state.update(thread=thread, wake=wake, enabled=True)
        thread.start()
    return True


def stop() -> None:
    """Stop the checkpoint thread for good: a checkpoint in progress ends after the file it is
    writing, and this waits for it. Called by finalize before the final write."""
    _state["stopped"] = True  # a checkpoint under way writes no further file (its plan checks)
    with _LOCK:  # and the file it is writing is finished
        wake, thread = _state["wake"], _state["thread"]
    if wake is not None:
        wake.set()
    if thread is not None and thread.is_alive():
        import threading

        if thread is not threading.current_thread():
            thread.join()


def _loop(wake: Any) -> None:
    """Checkpoint every interval, at a fixed rate (the next one is due one interval after the
    last one began, at once when writing took longer), until stopped or the interval is 0."""
    due = time.monotonic() + _interval()
    while True:
        interval = _interval()
        if _state["stopped"] or interval <= 0:
            break
        due = min(due, time.monotonic() + interval)  # the interval may have been shortened
        delay = due - time.monotonic()
        if delay > 0:
            wake.wait(delay)
            wake.clear()
            continue  # re-read the interval and the state: a wake-up is not a checkpoint
        began = time.monotonic()
        write_checkpoint()
        due = began + interval
    with _LOCK:
        if _state["wake"] is wake:
            _state.update(thread=None, wake=None)


def _marker(final: bool) -> dict[str, Any]:
    now = time.time()
    fraction = f"{now % 1:.6f}"[1:]
    return {
        "final": final,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + fraction + "+00:00",
        "unix_time": now,
        "sequence": _state["sequence"],
        "interval": _interval(),
    }


def final_marker() -> dict[str, Any] | None:
    """The ``checkpoint`` block of the final write's metadata (``"final": true``), None in a
    run that never checkpointed."""
    return _marker(True) if _state["enabled"] else None


def write_checkpoint() -> bool:
    """Write a checkpoint now, from any thread: this process's data, quietly; returns whether
    one was written (not after :func:`stop`, nor while another write holds the lock)."""
    if not _LOCK.acquire(blocking=False):
        return False  # another checkpoint (or the final write) is under way
    try:
        if _state["stopped"] or _excluded():
            return False
        _state["sequence"] += 1
        _state["enabled"] = True
        plan = _output.OutputPlan.from_settings(rank_suffix=_processes.collective_in_use())
        plan.marker = _marker(False)
        plan.cancelled = lambda: bool(_state["stopped"])
        try:
            if _settings.auto_output:
                # metadata.json last: when it says a checkpoint was taken, every file of
                # that checkpoint is in place
                for writer in _writers:
                    writer(plan)
                _output.write_run(plan)
        except Exception as err:  # noqa: BLE001 - a checkpoint must never end the program
            plan.errors.append(f"{type(err).__name__}: {err}")
        if plan.errors:
            _report(plan.errors[0])
        else:
            _state["last"] = plan
        return not plan.errors
    finally:
        _LOCK.release()


def _report(message: str) -> None:
    if not _state["reported"]:
        _state["reported"] = True
        echo(f"[timemory]> checkpoint failed (reported once): {message}", sys.stderr)


def remove_stale(final_files: Any) -> None:
    """After the final write (``final_files``: its paths): remove the last checkpoint's
    files it did not replace in the same folder (another rank suffix, a format switched off
    since), so that the folder holds the final write alone."""
    last = _state["last"]
    keep = set(final_files)
    if last is None or not keep:
        return  # nothing written here (an MPI rank whose data rank zero wrote): keep them
    folders = {os.path.dirname(path) for path in keep}  # a final write elsewhere removes none
    for paths in last.written.values():
        for path in paths:
            if path not in keep and os.path.dirname(path) in folders:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def _interval_changed(value: float) -> None:
    """``settings.checkpoint_interval`` was set: start the thread, or wake it to re-read."""
    if value > 0:
        start()
    elif _state["wake"] is not None:
        _state["wake"].set()


def _after_fork_in_child() -> None:
    # the parent's thread is not in this process, and a lock it held stays held: start
    # afresh; a forked child is a worker that hands its data to its parent, so no thread
    global _LOCK
    _LOCK = RLock()
    _state.update(thread=None, wake=None, stopped=True, last=None)


def install() -> None:
    """At ``import timemory``: follow the setting, and start when it is on already."""
    _settings._ON_CHANGE["checkpoint_interval"] = _interval_changed
    os.register_at_fork(after_in_child=_after_fork_in_child)
    start()
