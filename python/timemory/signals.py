"""The original timemory's signal API: :class:`Signal`, :func:`enable_signal_detection`,
:func:`disable_signal_detection` and :func:`set_exit_action`.

timemory handles the signals that end jobs without being asked (``settings.signals``: SIGTERM,
SIGHUP, SIGQUIT, SIGXCPU and SIGUSR2 by default; see :mod:`timemory._signals` and the signals
section of docs/guide/configuration.md): the data collected so far is written, then the process
ends as the signal would have ended it. This module chooses the signals from the program:

    import timemory
    from timemory.signals import Signal, enable_signal_detection, set_exit_action

    set_exit_action(lambda signum: print("ending on", signum))
    enable_signal_detection([Signal.Terminate, Signal.User1])

What each kind of signal gets:

* the signals that end a process and can be caught (``Terminate``, ``Hangup``, ``Quit``,
  ``CPUtime``, ``User1``, ``User2``, ``Alarm``, ``VirtualAlarm``, ``ProfileAlarm``,
  ``FileSize``, ``Trap``, ``System``): the data are written, then the process ends as the
  signal says;
* the crashes (``SegFault``, ``FPE``, ``Abort``, ``Bus``, ``Illegal``): the Python stack of every
  thread is printed on stderr (:mod:`faulthandler`); no data can be written from a crashing
  process (the crash-safe checkpoints keep what was recorded before);
* ``Interrupt`` (Ctrl-C): Python raises KeyboardInterrupt and the data are written at exit, as
  always; nothing more to do;
* ``Kill`` and ``Stop`` (SIGKILL cannot be caught; SIGTSTP stops, it does not end), ``Pipe``
  (Python ignores SIGPIPE: writes raise BrokenPipeError) and ``Urgent`` (ignored by default):
  a ValueError that names the signals that can be detected.

``Signal``'s values are this platform's signal numbers (``Emulate`` exists only where the
platform has SIGEMT); each member is also an attribute of this module (``timemory.signals.
Terminate``).
"""

from __future__ import annotations

import enum
import signal as _signal

from . import _signals
from . import settings as _settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Iterable
    from typing import Any

_MEMBERS = (
    ("Hangup", "SIGHUP"),
    ("Interrupt", "SIGINT"),
    ("Quit", "SIGQUIT"),
    ("Illegal", "SIGILL"),
    ("Trap", "SIGTRAP"),
    ("Abort", "SIGABRT"),
    ("Emulate", "SIGEMT"),
    ("FPE", "SIGFPE"),
    ("Kill", "SIGKILL"),
    ("Bus", "SIGBUS"),
    ("SegFault", "SIGSEGV"),
    ("System", "SIGSYS"),
    ("Pipe", "SIGPIPE"),
    ("Alarm", "SIGALRM"),
    ("Terminate", "SIGTERM"),
    ("Urgent", "SIGURG"),
    ("Stop", "SIGTSTP"),
    ("CPUtime", "SIGXCPU"),
    ("FileSize", "SIGXFSZ"),
    ("VirtualAlarm", "SIGVTALRM"),
    ("ProfileAlarm", "SIGPROF"),
    ("User1", "SIGUSR1"),
    ("User2", "SIGUSR2"),
)

#: The original's ``sys_signal``: member names of the original, this platform's numbers.
Signal = enum.IntEnum(  # type: ignore[misc]  # the functional API: members from the platform
    "Signal",
    [(name, int(getattr(_signal, sig))) for name, sig in _MEMBERS if hasattr(_signal, sig)],
    module=__name__,
)
Signal.__doc__ = "A signal, under the original timemory's name; the value is its number here."
globals().update(Signal.__members__)

__all__ = [
    "Signal",
    "disable_signal_detection",
    "enable_signal_detection",
    "handled_signals",
    "set_exit_action",
    *Signal.__members__,
]

_NOTHING_TO_DO = {int(_signal.SIGINT)}


def _refused() -> str:
    can = [
        m.name
        for m in Signal
        if _signal.Signals(m).name in _signals.ENDING_CHOICES
        or _signal.Signals(m).name in _signals.FAULT_SIGNALS
        or int(m) in _NOTHING_TO_DO
    ]
    return ", ".join(can)


def enable_signal_detection(signal_list: Iterable[Any] = ()) -> bool:
    """Handle the signals of ``signal_list`` (:class:`Signal` members, numbers or names such as
    ``"SIGTERM"``) on top of those handled already; an empty list means the settings' choice
    (``settings.signals``, every signal with ``enable_all_signals``, the crash reports with
    ``enable_signal_handler``). Returns False, installing nothing, when
    ``settings.allow_signal_handler`` is off or ``disable_all_signals`` is on.

    A signal whose handler the program set itself keeps the program's handler. Handlers can be
    set only from the main thread. ValueError (naming the signals that can be detected) for a
    signal that cannot be."""
    items = list(signal_list)
    ending, faults = [], False
    for item in items:
        try:
            number = _signals.signal_number(item.value if isinstance(item, Signal) else item)
        except ValueError:
            raise ValueError(
                f"enable_signal_detection: unknown signal {item!r}; signals that can be "
                f"detected: {_refused()}"
            ) from None
        try:
            name = _signal.Signals(number).name
        except ValueError:
            name = ""
        if name in _signals.ENDING_CHOICES:
            ending.append(number)
        elif name in _signals.FAULT_SIGNALS:
            faults = True
        elif number not in _NOTHING_TO_DO:
            raise ValueError(
                f"enable_signal_detection: {name or number} cannot be detected; signals that can "
                f"be detected: {_refused()}"
            )
    if not _settings.allow_signal_handler or _settings.disable_all_signals:
        return False
    if not items:
        _signals.apply_settings()
        return True
    _signals.enable(ending)
    if faults:
        _signals.enable_faults()
    return True


def disable_signal_detection() -> None:
    """Remove timemory's signal handlers: the signals act as they did before timemory (or as
    the program set them since), and the crash reports that signal detection turned on stop."""
    _signals.disable()


def set_exit_action(func: Callable[[int], Any] | None) -> None:
    """``func(signum)`` is called when a signal that ends the program is caught, before the
    data are written (None: no action). An exception it raises is reported on stderr and the
    data are written all the same."""
    _signals.set_exit_action(func)


def handled_signals() -> dict[str, list[str]]:
    """The signals timemory handles now: ``{"ending": [...], "dump": [...], "faults": [...]}``
    (``SIG`` names)."""
    return _signals.handled()
