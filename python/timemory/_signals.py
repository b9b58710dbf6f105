"""Signals that end a job: the data collected so far is written, then the process ends as the
signal would have ended it.

Schedulers end long jobs with SIGTERM (Slurm at the time limit, ``timeout``, ``docker stop``),
terminals with SIGHUP, resource limits with SIGXCPU. Without a handler the process dies at once
and everything recorded is lost. For each *ending* signal (``settings.signals``; SIGTERM, SIGHUP,
SIGQUIT, SIGXCPU and SIGUSR2 by default) whose disposition is the default one when timemory is
imported, a handler is installed that

1. calls the program's exit action (:func:`set_exit_action`), then writes the output through the
   normal path (:func:`timemory._lifecycle.finalize`; an MPI rank of several writes its own
   ``<label>_<rank>`` files, since the other ranks may never reach a collective; a command-line
   tool writes everything it writes at its normal end);
2. restores the default disposition and raises the signal again: a parent sees "killed by
   SIGTERM" (``$?`` 143), as without timemory.

A second signal while the files are written does not interrupt them; a third ends the process at
once (the default disposition). A signal that arrives while the output is written anyway (at
exit, by a pool worker, for a checkpoint) lets that write finish, then ends the process.

Whose handler it is: a handler the program installed before importing timemory (a function,
``SIG_IGN``, or one set from C) is left in place and runs as before; a handler the program
installs afterwards replaces timemory's (``signal.signal`` returns timemory's, so a handler that
calls the previous one chains to it).

Python runs a signal handler in the main thread, between two bytecodes. A main thread blocked in
C code that retries after the signal (a lock of a C library, a signal that landed just before a
blocking call started) would never run it. So the C-level handler's wakeup file descriptor is
read by a watcher thread (started with ``_thread``: no profile or trace hook of ``threading`` is
installed in it); when the main thread has not moved for half a second after an ending signal,
the watcher writes the data and ends the process itself. The watcher also counts the signals
(the main thread can see two signals as one). On Python 3.12 and later it is paused around
``os.fork`` so that the parent is not multi-threaded while it forks (those versions warn then);
a forked child starts its own. A child of ``os.fork`` keeps its signals blocked from the fork
until it has a wakeup pipe of its own: the interpreter forgets, when the child starts, a signal
it caught earlier (a pool's SIGTERM to a worker not yet run since its fork). An ending signal
pending then ends the child as its default action does.

``settings.dump_signal`` (off by default; e.g. SIGUSR1) writes the output so far as a checkpoint
and lets the program continue.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from _thread import allocate_lock, get_ident

from . import _core, _lifecycle, _processes
from . import settings as _settings
from ._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Iterable
    from typing import Any

__all__ = [
    "DEFAULT_SIGNALS",
    "add_after_rank_write",
    "add_before_write",
    "ENDING_CHOICES",
    "FAULT_SIGNALS",
    "apply_settings",
    "disable",
    "dump_signal",
    "enable",
    "ensure",
    "finalize_at_exit",
    "handled",
    "hold",
    "hold_sigint",
    "interruptible",
    "release",
    "set_exit_action",
    "set_writer",
    "signal_number",
]

#: Handled by default.
DEFAULT_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGXCPU", "SIGUSR2")
#: Every signal that may be an ending signal (``settings.signals``) or the dump signal: the
#: asynchronous signals a Python handler can catch whose default action ends the process.
#: Not SIGINT (Ctrl-C raises KeyboardInterrupt and the data are written at exit), not SIGPIPE
#: (Python ignores it), not the faults (below).
ENDING_CHOICES: tuple[str, ...] = _settings._ENDING_SIGNALS
#: Synchronous faults: a Python handler would run only after the faulting instruction ran again,
#: forever. They are reported by :mod:`faulthandler` (the Python stack of every thread, on stderr)
#: when signal detection asks for them; their data are not written (the crash-safe checkpoints
#: keep what was recorded before).
FAULT_SIGNALS = tuple(
    name for name in ("SIGSEGV", "SIGFPE", "SIGABRT", "SIGBUS", "SIGILL") if hasattr(signal, name)
)
#: Seconds the main thread may stay still after an ending signal before the watcher writes.
STUCK_AFTER = 0.5

_state: dict[str, Any] = {
    "installed": {},  # signum -> the disposition before timemory's handler
    "ending_set": frozenset(),  # the ending signals handled
    "forced": set(),  # handled whatever the settings list (a pool worker's SIGTERM)
    "dump": 0,  # the dump signal (0: none)
    "exit_action": None,  # func(signum) before the write
    "writer": None,  # a command-line tool's complete write, in place of finalize
    "ending": 0,  # the signal being handled (0: none)
    "ending_thread": 0,  # the thread that writes and ends the process
    "pending": 0,  # an ending signal that waits for a write in progress
    "busy": 0,  # writes in progress that a signal must not cut short
    "count": 0,  # ending signals the watcher read
    "calls": 0,  # calls of the handler for ending signals
    "dumping": False,
    "interruptible": 0,  # inside a part of a write that stops on Ctrl-C (ERT)
    "main": 0,  # the main thread's ident
    "pid": 0,  # the process the handlers were set up in (a forked child until its hooks ran)
    "wakeup": None,  # (read end, write end) of the wakeup fd the watcher reads
    "watcher": None,  # [lock released when the watcher stops, its native thread id]
    "faults": False,  # faulthandler enabled by signal detection
    "at_fork": False,
    "at_exit": False,
}
#: Held by the one thread that writes and ends the process on an ending signal.
_ENDING = allocate_lock()
#: Called before the write on an ending signal (the pool workers' end), see add_before_write.
_BEFORE_WRITE: list[Callable[[], Any]] = []


#: Called after an MPI rank wrote its own files on an ending signal, see add_after_rank_write.
_AFTER_RANK_WRITE: list[Callable[[], Any]] = []


def add_after_rank_write(func: Callable[[], Any]) -> None:
    """Call ``func()`` once a rank of several wrote its own files on an ending signal, before
    it ends (the MPI transport waits for the other ranks' files: a launcher kills every rank
    as soon as one has ended)."""
    _AFTER_RANK_WRITE.append(func)


def add_before_write(func: Callable[[], Any]) -> None:
    """Call ``func()`` when an ending signal is caught, before the data are written (a
    transport ends the processes whose data this one writes, so that they are included)."""
    _BEFORE_WRITE.append(func)


# ------------------------------------------------------------------ names
def signal_number(name: Any) -> int:
    """The number of a signal given as a name (``"SIGTERM"``, ``"term"``), a number or a
    ``signal.Signals``/``timemory.signals.Signal`` member. ValueError for an unknown one."""
    if isinstance(name, int):
        return int(name)
    text = str(name).strip().upper()
    if text.isdigit():
        return int(text)
    if not text.startswith("SIG"):
        text = "SIG" + text
    number = getattr(signal, text, None)
    if not isinstance(number, int) or text.startswith(("SIG_", "SIGRT")):
        raise ValueError(f"unknown signal {name!r}")
    return int(number)


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [n for n in value.replace(";", ",").replace(" ", ",").split(",") if n]
    return list(value or [])


def _ending_numbers(names: Iterable[Any]) -> list[int]:
    valid = {int(getattr(signal, n)) for n in ENDING_CHOICES}
    out = []
    for name in names:
        number = signal_number(name)
        if number not in valid:
            raise ValueError(
                f"{signal_name(number)} cannot be an ending signal; "
                f"valid names: {', '.join(ENDING_CHOICES)}"
            )
        out.append(number)
    return out


# ------------------------------------------------------------------ installing
def _install(signum: int) -> bool:
    """timemory's handler for ``signum`` if its disposition is the default one (or already
    timemory's); True when it is timemory's afterwards."""
    try:
        current = signal.getsignal(signum)
        if current is _handler:
            return True
        if current is not signal.SIG_DFL:
            return False  # the program's (or ignored): it stays
        signal.signal(signum, _handler)
    except (ValueError, OSError):  # not the main thread; a signal this platform refuses
        return False
    _state["installed"][signum] = current
    return True


def _uninstall(signum: int) -> None:
    previous = _state["installed"].pop(signum, signal.SIG_DFL)
    try:
        if signal.getsignal(signum) is _handler:
            signal.signal(signum, previous)
    except (ValueError, OSError):
        pass


def _settings_signals() -> tuple[list[int], int]:
    """The ending signals and the dump signal the settings ask for (the precedence of the
    settings: allow_signal_handler, disable_all_signals, enable_all_signals, signals)."""
    if not _settings.allow_signal_handler or _settings.disable_all_signals:
        return [], 0
    names = ENDING_CHOICES if _settings.enable_all_signals else _names(_settings.signals)
    dump = signal_number(_settings.dump_signal) if _settings.dump_signal else 0
    return _ending_numbers(names), dump


def apply_settings() -> None:
    """Install (or remove) the handlers the settings ask for: at ``import timemory`` and
    every :func:`timemory.initialize`. Does nothing outside the main thread."""
    try:
        ending, dump = _settings_signals()
    except ValueError as err:  # the settings validate their values; a last line of defence
        echo(f"[timemory]> signals: {err}", sys.stderr)
        return
    if not _allowed():
        disable()
        return
    enable(ending, dump=dump, replace=True)
    if _settings.enable_signal_handler:
        enable_faults()
    elif _state["faults"]:
        import faulthandler

        faulthandler.disable()
        _state["faults"] = False


def _allowed() -> bool:
    return bool(_settings.allow_signal_handler) and not _settings.disable_all_signals


def enable(signums: Iterable[int], dump: int | None = None, replace: bool = False) -> list[int]:
    """Handle ``signums`` as ending signals (and ``dump`` as the dump signal; None keeps the
    current one). ``replace`` drops the ending signals not listed. Returns the signals whose
    handler is timemory's now."""
    wanted = set(signums) | _state["forced"]
    if dump is not None:
        if _state["dump"] and _state["dump"] != dump and _state["dump"] not in wanted:
            _uninstall(_state["dump"])
        _state["dump"] = dump
    if replace:
        for signum in list(_state["installed"]):
            if signum not in wanted and signum != _state["dump"]:
                _uninstall(signum)
        ending: set[int] = set()
    else:
        ending = set(_state["ending_set"])
    handled_now = [s for s in sorted(wanted) if _install(s)]
    ending |= set(handled_now)
    _state["ending_set"] = frozenset(ending)
    if _state["dump"] and not _install(_state["dump"]):
        _state["dump"] = 0
    if _state["installed"]:
        _start()
    return handled_now


def ensure(signum: int) -> bool:
    """Handle ``signum`` as an ending signal if its disposition is the default one (a pool
    worker's SIGTERM, whatever the settings); True when timemory's handler is installed."""
    if not _allowed():
        return False
    _state["forced"].add(signum)
    return signum in enable([signum]) or signum in _state["ending_set"]


def disable() -> None:
    """Remove timemory's handlers (the dispositions before them come back) and the fault
    reports of signal detection."""
    for signum in list(_state["installed"]):
        _uninstall(signum)
    _state["ending_set"] = frozenset()
    _state["forced"] = set()
    _state["dump"] = 0
    if _state["faults"]:
        import faulthandler

        faulthandler.disable()
        _state["faults"] = False


def enable_faults() -> None:
    """Report crashes (SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL) with the Python stack of every
    thread on stderr (:mod:`faulthandler`), unless the program enabled it itself."""
    import faulthandler

    if not faulthandler.is_enabled():
        faulthandler.enable(all_threads=True)
        _state["faults"] = True


def handled() -> dict[str, list[str]]:
    """The signals timemory handles now: ``{"ending": [...], "dump": [...], "faults": [...]}``."""
    import faulthandler

    return {
        "ending": [signal_name(s) for s in sorted(_state["ending_set"])],
        "dump": [signal_name(_state["dump"])] if _state["dump"] else [],
        "faults": list(FAULT_SIGNALS) if faulthandler.is_enabled() else [],
    }


def dump_signal() -> int:
    return int(_state["dump"])


def set_exit_action(func: Callable[[int], Any] | None) -> None:
    """``func(signum)`` is called when an ending signal is caught, before the data are
    written (None: no action). What it raises is reported and does not stop the write."""
    if func is not None and not callable(func):
        raise TypeError(f"set_exit_action: expected a callable(signum), got {func!r}")
    _state["exit_action"] = func


def set_writer(func: Callable[[], Any] | None) -> None:
    """A command-line tool's complete write (timemory's files and its own) in place of
    :func:`timemory._lifecycle.finalize` when an ending signal ends the program."""
    _state["writer"] = func


def _start() -> None:
    _state["main"] = _state["main"] or get_ident()
    _state["pid"] = _state["pid"] or os.getpid()
    if not _state["at_fork"] and hasattr(os, "register_at_fork"):
        _state["at_fork"] = True
        # registered first, so that it runs last before the fork (after the watcher's pause):
        # the child keeps its signals blocked until _in_child gave it a wakeup pipe
        os.register_at_fork(before=_core.hold_fork_signals)
        if sys.version_info >= (3, 12):  # the versions that warn: about 0.4 ms per fork
            os.register_at_fork(before=_pause_watcher, after_in_parent=_resume_watcher)
        os.register_at_fork(after_in_child=_in_child)
    if not _state["at_exit"]:
        import atexit

        # registered before timemory's finalize, so it runs after it: a signal held off while
        # the output was written at exit ends the process then
        atexit.register(_after_write)
        _lifecycle.add_finalizer(_after_write)
        _state["at_exit"] = True
    _start_watcher()


# ------------------------------------------------------------------ holding a write
def hold() -> None:
    """A write starts that an ending signal must not cut short (pair with :func:`release`)."""
    _state["busy"] += 1


def release() -> None:
    """The write is over: a signal that came meanwhile ends the process now."""
    _state["busy"] = max(0, _state["busy"] - 1)
    if not _state["busy"]:
        _after_write()


def _after_write() -> None:
    pending = _state["pending"]
    if pending and not _state["busy"] and not _state["ending"] and not _writing():
        _end(pending, in_main=get_ident() == _state["main"])


def _writing() -> bool:
    return bool(_lifecycle._state["finalizing"])


class interruptible:  # noqa: N801 - used as a statement: `with interruptible():`
    """A part of a write that handles KeyboardInterrupt itself (ERT at exit stops on Ctrl-C
    and the files are written without its ceilings): a Ctrl-C held off by
    :func:`finalize_at_exit` or the command-line tools raises there."""

    def __enter__(self) -> None:
        _state["interruptible"] += 1

    def __exit__(self, *exc: Any) -> None:
        _state["interruptible"] -= 1


def hold_sigint(held: list[int]) -> Callable[[int, Any], None]:
    """A SIGINT handler for a write: it records the Ctrl-C in ``held``, or raises
    KeyboardInterrupt inside an :class:`interruptible` part."""

    def handler(signum: int, frame: Any) -> None:
        if _state["interruptible"]:
            raise KeyboardInterrupt
        held.append(signum)

    return handler


def finalize_at_exit() -> None:
    """timemory's finalize at interpreter exit, with Ctrl-C held off meanwhile: a second
    Ctrl-C while the files are written does not lose them (the first one's exit status, 130,
    stays)."""
    held: list[int] = []
    previous = None
    try:
        current = signal.getsignal(signal.SIGINT)
        if current is signal.default_int_handler:
            previous = signal.signal(signal.SIGINT, hold_sigint(held))
    except ValueError:  # not the main thread
        pass
    try:
        _lifecycle.finalize()
    finally:
        if previous is not None:
            try:
                signal.signal(signal.SIGINT, previous)
            except ValueError:
                pass
        if held:
            echo("[timemory]> Ctrl-C held off while the output was written", sys.stderr)


# ------------------------------------------------------------------ the handler
def _handler(signum: int, frame: Any) -> None:
    """timemory's handler (main thread)."""
    if os.getpid() != _state["pid"]:
        # a forked child whose after-fork hooks have not run yet (a pool worker still
        # starting): it has recorded nothing of its own, and its storage is still its
        # parent's, which the parent writes: an ending signal ends it as the default action
        # does, a dump signal has nothing to write
        if signum in _state["ending_set"]:
            _die(signum, in_main=True)
        return
    if signum == _state["dump"] and signum not in _state["ending_set"]:
        _dump(signum)
        return
    # the watcher counts the signals exactly, but it may not get the GIL before the write is
    # over; the handler may see two as one: each count is a lower bound
    _state["calls"] += 1
    if _state["ending"] or _state["pending"]:
        count = max(_state["calls"], _state["count"])
        if count >= 3:
            _die(signum, in_main=True)
        if count >= 2:
            # a third one ends the process at once, whatever the write is doing (in C code
            # that holds the GIL, a Python handler would run only after it)
            for other in _state["ending_set"]:
                try:
                    signal.signal(other, signal.SIG_DFL)
                except (ValueError, OSError):
                    pass
    if _state["ending"]:
        if _state["ending_thread"] != get_ident():
            # the watcher writes: recording must not go on meanwhile; it ends the process
            _ENDING.acquire()
        return  # the write in progress goes on
    if _state["pending"]:
        return
    if _state["busy"] or _state["dumping"] or _writing():
        _state["pending"] = signum
        return
    _end(signum, in_main=True)


def _end(signum: int, in_main: bool) -> None:
    """Write the data (once, whichever thread comes first), then end the process."""
    if not _ENDING.acquire(blocking=False):
        if in_main:
            _ENDING.acquire()  # the watcher writes and ends the process: recording must wait
        return
    _state["ending"] = signum
    _state["ending_thread"] = get_ident()
    try:
        # first: what follows (the exit action, the write) is not the program's to measure
        _lifecycle.stop_hooks()
        for before in _BEFORE_WRITE:
            before()
        action = _state["exit_action"]
        if action is not None:
            try:
                action(signum)
            except Exception as err:  # noqa: BLE001 - the data must still be written
                echo(f"[timemory]> the exit action for {signal_name(signum)} failed: {err!r}")
        _write(signum)
    except BaseException as err:  # noqa: BLE001 - the process must end as the signal says
        echo(f"[timemory]> writing after {signal_name(signum)} failed: {err!r}", sys.stderr)
    finally:
        _die(signum, in_main)


def _write(signum: int) -> None:
    if _lifecycle.is_finalized():
        return
    name = signal_name(signum)
    rank, size = _processes.rank_size()
    if size > 1:
        # the other ranks may be anywhere: no collective, this rank's own files
        _lifecycle.write_rank_local(f"{name} received")
        for after in _AFTER_RANK_WRITE:
            after()
        return
    if not _is_worker():  # a pool worker hands its data over quietly, as at its normal end
        echo(f"[timemory]> {name} received: writing the data collected so far", sys.stderr)
    writer = _state["writer"]
    if writer is not None:
        writer()
    else:
        _lifecycle.finalize()


def _is_worker() -> bool:
    """A process-pool worker (its data go to its parent; timemory._workers, a transport above
    this layer, is looked up rather than imported)."""
    workers = sys.modules.get("timemory._workers")
    return workers is not None and bool(workers.is_worker())


def _die(signum: int, in_main: bool) -> None:
    """End the process as ``signum``'s default action does."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    try:
        if in_main and get_ident() == _state["main"]:
            signal.signal(signum, signal.SIG_DFL)
        else:
            _default_from_any_thread(signum)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
        time.sleep(1.0)  # delivered before kill() returns; this is a last resort
    finally:
        os._exit(128 + signum)


def _default_from_any_thread(signum: int) -> None:
    """``signal.signal(signum, SIG_DFL)`` works in the main thread only; the watcher asks
    the C library directly."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.signal(signum, None)  # SIG_DFL is the null handler


def _dump(signum: int) -> None:
    """The dump signal: write a checkpoint of the output and go on."""
    if _state["ending"] or _state["dumping"] or _writing() or _lifecycle.is_finalized():
        return
    if _is_worker():
        return  # a worker's data go to its parent, which writes them
    _state["dumping"] = True
    try:
        from . import _checkpoint

        # a checkpoint: this process's files (no collective: other MPI ranks go on), marked
        # in metadata.json as a checkpoint with its time; the final write replaces them
        if _checkpoint.write_checkpoint():
            echo(f"[timemory]> {signal_name(signum)}: the output so far is written", sys.stderr)
    except Exception as err:  # noqa: BLE001 - a checkpoint must not end the program
        echo(f"[timemory]> {signal_name(signum)}: the checkpoint failed: {err!r}", sys.stderr)
    finally:
        _state["dumping"] = False
    _after_write()


# ------------------------------------------------------------------ the watcher
def _start_watcher(before_spawn: Callable[[], Any] | None = None) -> None:
    """Read the signals' wakeup fd from a thread of its own, unless the program set one
    (``before_spawn()`` is called once the wakeup fd is set, before the thread starts)."""
    if _state["wakeup"] is not None:
        if _state["watcher"] is None:
            _spawn_watcher()
        return
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    try:
        previous = signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
    except (ValueError, OSError):
        previous = None
    if previous != -1:  # the program's wakeup fd (it keeps it), or not the main thread
        if previous is not None:
            signal.set_wakeup_fd(previous)
        os.close(read_end)
        os.close(write_end)
        return
    _state["wakeup"] = (read_end, write_end)
    # a forked child forgets this fd inside fork(), before its hooks give it one of its own:
    # the signals it gets meanwhile must not reach this process's watcher
    _core.set_watched_wakeup_fd(write_end)
    if before_spawn is not None:
        before_spawn()
    _spawn_watcher()


def _spawn_watcher() -> None:
    import _thread

    stopped = allocate_lock()
    stopped.acquire()
    _state["watcher"] = [stopped, 0]
    _thread.start_new_thread(_watch, (_state["wakeup"][0], _state["watcher"]))


def _watch(read_end: int, me: list[Any]) -> None:
    import _thread

    me[1] = _thread.get_native_id()
    try:
        while True:
            try:
                data = os.read(read_end, 64)
            except InterruptedError:
                continue
            except OSError:
                return
            if not data:
                return
            for signum in data:
                if signum:
                    _seen(signum)
            if 0 in data:
                return  # paused for a fork
    finally:
        me[0].release()


def _seen(signum: int) -> None:
    """The watcher read ``signum`` from the wakeup fd (any thread may have caught it)."""
    if signum not in _state["ending_set"]:
        return
    try:
        if signal.getsignal(signum) is not _handler:
            return  # the program's handler now
    except ValueError:
        return
    _state["count"] += 1
    if _state["count"] >= 3 and (_state["ending"] or _state["pending"]):
        _die(signum, in_main=False)
    if _state["count"] == 1:
        import _thread

        _thread.start_new_thread(_take_over_if_stuck, (signum,))


def _take_over_if_stuck(signum: int) -> None:
    """Let the main thread's handler write, unless the main thread does not move.

    While a write is under way the signal waits for its end (``pending``), which ends the
    process; this thread keeps watching until the process is ending, and ends it itself once
    no write is under way and the signal is still pending (the main thread blocked in C code,
    a pool worker waiting for work, never runs the handler that would)."""
    last: Any = None
    still = 0
    while still * 0.05 < STUCK_AFTER:
        time.sleep(0.05)
        if _state["ending"]:
            return
        if _state["busy"] or _state["dumping"] or _writing():
            # a write is under way (a pool worker leaving its data, say, in a slow file
            # system call): cutting it short would lose it, and its end ends the process
            _state["pending"] = _state["pending"] or signum
            still, last = 0, None
            continue
        if _state["pending"]:
            break  # the write is over and nothing ended the process
        frame = sys._current_frames().get(_state["main"])
        where = (id(frame), frame.f_lasti if frame is not None else -1)
        still = still + 1 if where == last else 0
        last = where
    _end(_state["pending"] or signum, in_main=False)


def _pause_watcher() -> None:
    """Before ``os.fork``: stop the watcher, so that the parent forks with one thread."""
    watcher, wakeup = _state["watcher"], _state["wakeup"]
    if watcher is None or wakeup is None:
        return
    try:
        os.write(wakeup[1], b"\0")
    except OSError:
        return
    if not watcher[0].acquire(timeout=2.0):
        return
    _state["watcher"] = None
    task = f"/proc/self/task/{watcher[1]}"
    for _ in range(200):  # its kernel thread is gone a moment after the lock is released
        if not watcher[1] or not os.path.exists(task):
            break
        time.sleep(0.0002)


def _resume_watcher() -> None:
    if _state["wakeup"] is not None and _state["watcher"] is None:
        _spawn_watcher()


def _in_child() -> None:
    """A forked child: the parent's pipe is the parent's; a watcher of its own.

    The child's signals are blocked since the fork (timemory's native fork handler, see
    fork_signals.cpp): a signal sent to it meanwhile (a pool terminating a worker that was not
    yet scheduled) is still pending, and the interpreter, which forgets at the start of a child
    the signals it caught before, has not seen it. They are unblocked once the child has its own
    wakeup pipe and before its watcher starts (a thread inherits its creator's mask: a watcher
    with every signal blocked could take none in place of the main thread), so that such a
    signal reaches this child's handler and watcher instead of being lost.
    """
    global _ENDING
    try:
        _ENDING = allocate_lock()
        _state.update(
            main=get_ident(), ending=0, pending=0, busy=0, count=0, calls=0, dumping=False
        )
        _state["pid"] = os.getpid()
        wakeup, _state["wakeup"], _state["watcher"] = _state["wakeup"], None, None
        if wakeup is None:
            return
        early = _pending_ending_signal()
        if early:
            # sent before this child ran any code of its own: it has recorded nothing, and
            # the rest of its start (multiprocessing's bootstrap) has not run, so a write now
            # would act on its parent's state (its pool workers): it ends as the default
            # action ends it, as the handler ends a child whose hooks have not run
            _die(early, in_main=True)
        try:
            signal.set_wakeup_fd(-1)
        except ValueError:
            pass
        for fd in wakeup:
            try:
                os.close(fd)
            except OSError:
                pass
        if _state["installed"]:
            _start_watcher(before_spawn=_core.release_fork_signals)
    finally:
        _core.release_fork_signals()  # does nothing when they were released above


def _pending_ending_signal() -> int:
    """An ending signal that timemory handles and that is pending (blocked since the fork)."""
    try:
        pending = signal.sigpending()
    except (AttributeError, OSError):
        return 0
    for signum in sorted(int(s) for s in pending):
        if signum in _state["ending_set"] and signal.getsignal(signum) is _handler:
            return signum
    return 0


# settings.signals and the others are read again whenever timemory.initialize() reads the settings
_lifecycle.add_initializer(apply_settings)
