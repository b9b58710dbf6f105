"""Runtime settings of timemory.

``timemory.settings`` is this module, but its class is swapped at the end of the file so that
every setting is a typed module property: ``timemory.settings.verbose = 1`` converts and
validates, ``timemory.settings()`` returns an independent copy (a :class:`Settings`), and the
module functions (``parse``, ``read``, ``dump``, ``add_arguments``...) take that copy as their
``instance`` argument.  It is a package rather than a binding class so that
``python -m timemory.settings`` can show where every effective value came from.

Precedence: command line / API > environment > config file > default.  Every value remembers its
source ("default", "environment", "config file <path>", "command line", "api").

Each setting is declared once, in ``_TABLE`` (name, type, default, environment variable,
option, description, category, and whether the native core mirrors it); the properties, the
options, the annotations type checkers read and docs/settings.md are derived from it.

The native core keeps its own copy of the few settings it reads on hot paths (those declared
``mirrored=True``); every change of one of those on the global settings is pushed with
``_core.config_set``.
"""

from __future__ import annotations

import collections
import math
import numbers
import os
import re
import signal
import sys
import time
import types
import warnings
from collections.abc import Iterable, Sequence

from timemory._text import BOOL_WORDS, FALSE_WORDS, TRUE_WORDS, parse_bool, split_names

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    import argparse
    from typing import Any

__all__ = [
    "Settings",
    "SettingInfo",
    "TimemoryWarning",
    "add_argparse",
    "add_arguments",
    "compose_input_filename",
    "compose_output_filename",
    "describe",
    "dump",
    "parse",
    "read",
    "read_config_files",
    "source",
    "unit_info",
]


class TimemoryWarning(UserWarning):
    """A recoverable configuration problem: bad env value, unknown config key, ..."""


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _warn(message: str) -> None:
    # Attribute the warning to the first caller outside timemory (the user's parse()/read()/
    # initialize() call or import statement), not to this file.  warnings.warn does not count
    # importlib bootstrap frames in stacklevel, so neither do we.
    frame: types.FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None:
        filename = frame.f_code.co_filename
        if not ("importlib" in filename and "_bootstrap" in filename):
            level += 1
            if not filename.startswith(_PACKAGE_DIR):
                break
        frame = frame.f_back
    warnings.warn(message, TimemoryWarning, stacklevel=level)


def _core_module() -> Any:
    """The native core, or None while it cannot be imported.

    Imported lazily because this module is imported before/while the package initialises;
    tests replace this function to record the calls.
    """
    try:
        from timemory import _core
    except ImportError:
        return None
    return _core


# ------------------------------------------------------------------------------------------ kinds
# A kind converts any accepted input (Python value, or string from env/file/command line) into
# the typed value, raising TypeError/ValueError with a short reason; the caller adds the setting
# name and ``accepted()``.  ``ctype`` names the native type, ``pytype`` the Python type that type
# checkers and the docs show.


def _parse_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class _Kind:
    ctype = "string"
    pytype = "str"

    def accepted(self) -> str:
        raise NotImplementedError

    def convert(self, value: Any) -> Any:
        raise NotImplementedError

    def text(self, value: Any) -> str:
        return str(value)


class _BoolKind(_Kind):
    """The words of :data:`timemory._text.BOOL_WORDS`, as everywhere a user writes a boolean."""

    ctype = "bool"
    pytype = "bool"

    def accepted(self) -> str:
        return BOOL_WORDS

    def convert(self, value: Any) -> bool:
        if isinstance(value, numbers.Real) and not isinstance(value, (bool, int, float)):
            value = float(value)  # NumPy scalars, Fractions: parse_bool takes the builtins
        try:
            return parse_bool(value)
        except ValueError:
            # the caller names the accepted words once
            raise ValueError(f"invalid value {value!r}") from None


class _IntKind(_Kind):
    pytype = "int"

    def __init__(self, ctype: str, lo: int, hi: int) -> None:
        self.ctype, self.lo, self.hi = ctype, lo, hi

    def accepted(self) -> str:
        return f"an integer in [{self.lo}, {self.hi}] or a bool"

    def convert(self, value: Any) -> int:
        if isinstance(value, bool):  # bools are accepted for ints: dart_count = True
            result = int(value)
        elif isinstance(value, numbers.Integral):
            result = int(value)
        elif isinstance(value, numbers.Real):
            if not float(value).is_integer():
                raise ValueError(f"invalid value {value!r}: not an integer")
            result = int(float(value))
        elif isinstance(value, str):
            text = value.strip().lower()
            if text in TRUE_WORDS or text in FALSE_WORDS:
                result = int(text in TRUE_WORDS)
            else:
                try:
                    result = int(text)
                except ValueError:
                    number = _parse_number(text)  # "10e6" is how ERT sizes are usually written
                    if number is None or not number.is_integer():
                        raise ValueError(f"invalid value {value!r}") from None
                    result = int(number)
        else:
            raise TypeError(f"expected an int, got {type(value).__name__}")
        if not self.lo <= result <= self.hi:
            raise ValueError(f"invalid value {value!r}: out of range")
        return result


class _SecondsKind(_Kind):
    """A duration in seconds: a finite number at least 0 (0 usually means off)."""

    ctype = "double"
    pytype = "float"

    def accepted(self) -> str:
        return "a number of seconds >= 0 (0 = off)"

    def convert(self, value: Any) -> float:
        if isinstance(value, str):
            number = _parse_number(value.strip())
            if number is None:
                raise ValueError(f"invalid value {value!r}")
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(f"invalid value {value!r}")
        else:
            raise TypeError(f"expected a number of seconds, got {type(value).__name__}")
        if number < 0:
            raise ValueError(f"invalid value {value!r}: negative")
        return number


class _StrKind(_Kind):
    def __init__(self, choices: Sequence[str] = ()) -> None:
        self.choices = tuple(choices)

    def accepted(self) -> str:
        if self.choices:
            return ", ".join(repr(c) for c in self.choices) + " (any case)"
        return "a string"

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a str, got {type(value).__name__}")
        if not self.choices:
            return value
        text = value.strip().lower()
        if text not in self.choices:
            raise ValueError(f"invalid value {value!r}")
        return text


def _escapes_folder(text: str) -> bool:
    """Whether ``text``, a part of one file or folder name, could name another folder."""
    return "/" in text or os.sep in text or (os.altsep or "/") in text or ".." in text


class _NamePartKind(_StrKind):
    """A string that becomes part of a file name (``output_prefix``): no path separator and no
    ``..``, which would put the files outside the output folder."""

    def accepted(self) -> str:
        return "a file-name prefix: no '/' and no '..'"

    def convert(self, value: Any) -> str:
        text = super().convert(value)
        if _escapes_folder(text) or "\0" in text:
            raise ValueError(f"{text!r} would name a file outside the output folder")
        return text


class _TimeFormatKind(_StrKind):
    """A strftime format whose result names one folder (``time_format``)."""

    def accepted(self) -> str:
        return "a strftime format giving one folder name: no '/' and no '..' (not %D, %x...)"

    def convert(self, value: Any) -> str:
        text = super().convert(value)
        try:
            name = time.strftime(text, _LAUNCH_TIME)
        except ValueError as exc:  # e.g. an embedded NUL
            raise ValueError(f"{text!r}: {exc}") from None
        if _escapes_folder(name) or "\0" in name:
            raise ValueError(f"{text!r} gives {name!r}, not one folder name")
        return text


class _ListKind(_Kind):
    ctype = "list"
    pytype = "list[str]"

    def accepted(self) -> str:
        return "a list of strings (a string is split on spaces, ',' and ';')"

    def convert(self, value: Any) -> list[str]:
        if isinstance(value, str):
            return split_names(value)
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        raise TypeError(f"expected a list of str, got {type(value).__name__}")

    def text(self, value: Any) -> str:
        return ",".join(value)


# canonical display form -> (divisor from raw nanoseconds / bytes, accepted aliases)
_TIMING_UNITS: dict[str, tuple[float, tuple[str, ...]]] = {
    "nsec": (1.0, ("ns", "nanosecond", "nanoseconds")),
    "usec": (1.0e3, ("us", "microsecond", "microseconds")),
    "msec": (1.0e6, ("ms", "millisecond", "milliseconds")),
    "csec": (1.0e7, ("cs", "centisecond", "centiseconds")),
    "dsec": (1.0e8, ("ds", "decisecond", "deciseconds")),
    "sec": (1.0e9, ("s", "second", "seconds")),
    "min": (60.0e9, ("minute", "minutes")),
    "hr": (3600.0e9, ("hour", "hours")),
}
_MEMORY_UNITS: dict[str, tuple[float, tuple[str, ...]]] = {
    "byte": (1.0, ("b", "bytes")),
    "kb": (1.0e3, ("kilobyte", "kilobytes")),
    "mb": (1.0e6, ("megabyte", "megabytes")),
    "gb": (1.0e9, ("gigabyte", "gigabytes")),
    "tb": (1.0e12, ("terabyte", "terabytes")),
    "pb": (1.0e15, ("petabyte", "petabytes")),
    "kib": (1024.0, ("kibibyte", "kibibytes")),
    "mib": (1024.0**2, ("mebibyte", "mebibytes")),
    "gib": (1024.0**3, ("gibibyte", "gibibytes")),
    "tib": (1024.0**4, ("tebibyte", "tebibytes")),
    "pib": (1024.0**5, ("pebibyte", "pebibytes")),
}
_UNIT_DEFAULTS = {"timing": (1.0e9, "sec"), "memory": (1.0e6, "MB")}


class _UnitsKind(_Kind):
    def __init__(self, kind: str, table: dict[str, tuple[float, tuple[str, ...]]]) -> None:
        self.kind, self.table = kind, table
        self.lookup = {a: canon for canon, (_, aliases) in table.items() for a in (canon, *aliases)}

    def accepted(self) -> str:
        forms = ", ".join("/".join((canon, *aliases)) for canon, (_, aliases) in self.table.items())
        return f"'' (default, {_UNIT_DEFAULTS[self.kind][1]}), {forms} (any case)"

    def convert(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"expected a str, got {type(value).__name__}")
        text = value.strip().lower()
        if not text:
            return ""
        if text not in self.lookup:
            raise ValueError(f"invalid value {value!r}")
        return self.lookup[text]

    def info(self, value: str) -> tuple[float, str]:
        return (self.table[value][0], value) if value else _UNIT_DEFAULTS[self.kind]


def _component_choices(core: Any) -> list[str]:
    return list(dict.fromkeys(core.component_names()))


class _CoreCheckedKind(_Kind):
    """Names checked against the native core; accepted unchecked while it cannot be imported."""

    @staticmethod
    def names(value: Any) -> list[str]:
        """A str split on spaces, ',' and ';', or a list of str."""
        if isinstance(value, str):
            return split_names(value)
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        raise TypeError(f"expected a str or a list of str, got {type(value).__name__}")


class _ComponentsKind(_CoreCheckedKind):
    """Comma/space separated component names, checked against the core when it is loaded."""

    def accepted(self) -> str:
        core = _core_module()
        if core is None:
            return "comma- or space-separated component names"
        return "comma- or space-separated component names: " + ", ".join(_component_choices(core))

    def convert(self, value: Any) -> str:
        names = self.names(value)
        core = _core_module()
        if core is not None:
            unknown = [n for n in names if core.find_component(n) < 0]
            if unknown:
                raise ValueError(f"unknown component(s) {', '.join(map(repr, unknown))}")
        return ",".join(names)


class _EventsKind(_CoreCheckedKind):
    """Hardware counter names (PAPI presets, perf events), stored comma-separated, canonical."""

    def accepted(self) -> str:
        return (
            "comma- or space-separated hardware counter names "
            "(timemory.hardware_counters.events() lists them)"
        )

    def convert(self, value: Any) -> str:
        names = self.names(value)
        core = _core_module()
        if core is not None:
            names = [core.hw_canonical_name(n) for n in names]  # ValueError: "Valid choices are"
        return ",".join(dict.fromkeys(names))


#: The signals that may end a job with the data written (``signals``, ``dump_signal``): the
#: asynchronous signals a Python handler can catch whose default action ends the process, as
#: this platform has them (timemory._signals handles them).
_ENDING_SIGNALS = tuple(
    name
    for name in (
        "SIGTERM",
        "SIGHUP",
        "SIGQUIT",
        "SIGXCPU",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGVTALRM",
        "SIGPROF",
        "SIGXFSZ",
        "SIGTRAP",
        "SIGSYS",
        "SIGPWR",
    )
    if hasattr(signal, name)
)


class _SignalsKind(_Kind):
    """Signal names (``SIGTERM``, ``TERM``, ``term``), stored as ``SIG`` names separated by ','."""

    def __init__(self, many: bool) -> None:
        self.many = many

    def accepted(self) -> str:
        names = ", ".join(_ENDING_SIGNALS)
        if self.many:
            return f"'' (none) or comma-separated names of {names}"
        return f"'' (none) or one of {names}"

    def convert(self, value: Any) -> str:
        if isinstance(value, str):
            names = split_names(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            names = [v.strip() for v in value if v.strip()]
        else:
            raise TypeError(f"expected a str or a list of str, got {type(value).__name__}")
        out = []
        for name in names:
            text = name.upper()
            text = text if text.startswith("SIG") else "SIG" + text
            if text not in _ENDING_SIGNALS:
                raise ValueError(f"invalid signal {name!r}")
            out.append(text)
        if not self.many and len(out) > 1:
            raise ValueError(f"one signal, not {len(out)}")
        return ",".join(dict.fromkeys(out))


_BOOL = _BoolKind()
_INT = _IntKind("int", -(2**31), 2**31 - 1)
_INT16 = _IntKind("int16", -(2**15), 2**15 - 1)
_INT64 = _IntKind("int64", -(2**63), 2**63 - 1)
_UINT16 = _IntKind("uint16", 0, 2**16 - 1)
_UINT64 = _IntKind("uint64", 0, 2**64 - 1)
_SIZE_T = _IntKind("size_t", 0, 2**64 - 1)
_STR = _StrKind()
_SECONDS = _SecondsKind()
_LIST = _ListKind()
_COMPONENTS = _ComponentsKind()
_EVENTS = _EventsKind()
_ROOFLINE_MODE = _StrKind(("op", "ai"))
_NAME_PART = _NamePartKind()
_TIME_FORMAT = _TimeFormatKind()
_TIMING = _UnitsKind("timing", _TIMING_UNITS)
_MEMORY = _UnitsKind("memory", _MEMORY_UNITS)


# ------------------------------------------------------------------------------------------ table


# Every setting is declared once, in _TABLE below: its name, kind (type and accepted values),
# default, environment variable, description, command-line option, whether the native core
# mirrors it, and its category.  Everything else is derived from the table: the properties of
# Settings and of this module, the argparse options, the spellings config files may use, what is
# pushed to the core (_MIRRORED), the annotations type checkers read (the block generated below)
# and docs/settings.md (tools/generate_settings.py writes both).
#
# collections.namedtuple, not typing.NamedTuple or a dataclass: those compile their string
# annotations (or import inspect) at import, a few hundred KiB this module would add to every
# program run under the command-line tools.
#   name, kind (_Kind), default (a value, or a zero-argument callable evaluated at import, whose
#   docstring's first line says what it gives), description, env ("" = no environment variable),
#   flags (direct-mode option strings --timemory-...; () = no option), hidden (no --help line),
#   mirrored (pushed to the native core with _core.config_set), category (a heading in the docs)
_Spec = collections.namedtuple(
    "_Spec", "name kind default description env flags hidden mirrored category"
)


def _option_flags(name: str) -> tuple[str, ...]:
    return ("--timemory-" + name.replace("_", "-"),)


def _setting(
    name: str,
    kind: _Kind,
    default: Any,
    description: str,
    *,
    env: str | None = None,
    option: bool | tuple[str, ...] = True,
    mirrored: bool = False,
    hidden: bool = False,
) -> _Spec:
    """One declaration of _TABLE.  ``env`` None derives ``TIMEMORY_<NAME>`` ("" = none);
    ``option`` True derives ``--timemory-<name>``, a tuple gives the option strings, False
    none.  The category is filled in from the heading above the declaration."""
    if not isinstance(option, tuple):
        option = _option_flags(name) if option else ()
    env = f"TIMEMORY_{name.upper()}" if env is None else env
    return _Spec(name, kind, default, description, env, option, hidden, mirrored, "")


def _categorised(table: Iterable[str | _Spec]) -> tuple[_Spec, ...]:
    """The declarations of ``table``, each with the category of the last heading before it."""
    category, specs = "", []
    for entry in table:
        if isinstance(entry, str):
            category = entry
        else:
            specs.append(entry._replace(category=category))
    return tuple(specs)


_DEFAULT_CONFIG_FILES = (
    "~/.timemory.cfg;~/.timemory.json;~/.config/timemory.cfg;~/.config/timemory.json"
)


def _this_process_id() -> int:
    """the id of the process that imports timemory"""
    return os.getpid()


def _cpu_count() -> int:
    """the number of CPUs of the machine"""
    return os.cpu_count() or 1


def _no_command_line() -> list[str]:
    """empty; set to sys.argv when timemory is imported"""
    return []


def _timemory_environment() -> list[str]:
    """the TIMEMORY_* variables of the environment at import, as NAME=VALUE"""
    return [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("TIMEMORY_")]


def _craypat_counters() -> str:
    """the value of PAT_RT_PERFCTR, else empty"""
    return os.environ.get("PAT_RT_PERFCTR", "")


_INT32 = _IntKind("int32", -(2**31), 2**31 - 1)
_COUNT64 = _IntKind("int64", 0, 2**63 - 1)
_ROOF = "TIMEMORY_ROOFLINE_"
_TABLE: tuple[str | _Spec, ...] = (
    "General",
    _setting(
        "verbose",
        _INT,
        0,
        "Verbosity of timemory's lines on stderr: -1 errors only, 0 the summary and one line "
        "per output folder, 1 also every file",
    ),
    _setting("debug", _BOOL, False, "Enable debug output"),
    _setting("banner", _BOOL, False, "Print the library banner", option=False),
    _setting("enabled", _BOOL, True, "Activation state of timemory (global on/off)", mirrored=True),
    "Output",
    _setting("auto_output", _BOOL, True, "Generate output at finalization"),
    _setting("cout_output", _BOOL, True, "Print the result tables on the console (stderr)"),
    _setting("file_output", _BOOL, True, "Write output files (master switch)"),
    _setting("text_output", _BOOL, True, "Write text tables (<label>.txt)"),
    _setting("json_output", _BOOL, True, "Write flat JSON (<label>.json)"),
    _setting("tree_output", _BOOL, True, "Write hierarchical JSON (<label>.tree.json)"),
    _setting("flamegraph_output", _BOOL, True, "Write flame graph JSON (<label>.flamegraph.json)"),
    _setting(
        "pstats_output",
        _BOOL,
        False,
        "Write the call graph as a pstats profile for snakeviz, gprof2dot and pstats.Stats "
        "(pstats.prof; --format pstats)",
    ),
    _setting(
        "speedscope_output",
        _BOOL,
        False,
        "Write the call graph as a speedscope profile, every component (speedscope.json; "
        "--format speedscope)",
    ),
    _setting(
        "callgrind_output",
        _BOOL,
        False,
        "Write the call graph for KCachegrind/QCachegrind, one event per component "
        "(callgrind.out.timemory; --format callgrind)",
    ),
    _setting(
        "perfetto_output",
        _BOOL,
        False,
        "Write a Chrome trace-event timeline for Perfetto and chrome://tracing "
        "(perfetto.trace.json; --format perfetto); records the timeline as timeline_events does",
        mirrored=True,
    ),
    _setting("dart_output", _BOOL, False, "Print CDash <DartMeasurement> tags"),
    _setting("dart_type", _STR, "", "Only print dart tags for this component label"),
    _setting("dart_count", _UINT64, 1, "Number of dart tags per component"),
    _setting("dart_label", _BOOL, True, "Label dart tags with the component label"),
    _setting(
        "plot_output", _BOOL, False, "Plot each JSON output at finalization (timemory.plotting)"
    ),
    _setting(
        "diff_output",
        _BOOL,
        False,
        "Also write diff.txt and diff.json: this run compared node by node with the earlier "
        "run's output folder input_path (ratios, added and removed nodes)",
    ),
    _setting(
        "time_output", _BOOL, False, "Write output into a timestamped subfolder of output_path"
    ),
    _setting(
        "time_format", _TIME_FORMAT, "%F_%I.%M_%p", "strftime format of the time_output subfolder"
    ),
    _setting(
        "summary_top",
        _UINT16,
        20,
        "Rows of the summary the command-line tools print, the labels with the most self time "
        "first (0 = every row; the tools' --top)",
    ),
    _setting(
        "text_max_rows",
        _UINT64,
        500,
        "Rows of a text table (<label>.txt and the printed tables) at most: the rows with the "
        "most self time and the rows above them in the call graph (0 = every row; the JSON "
        "files keep every row)",
    ),
    _setting("ctest_notes", _BOOL, False, "Write CTestNotes listing the text output files"),
    _setting("output_path", _STR, "timemory-output", "Folder of the output files"),
    _setting(
        "checkpoint_interval",
        _SECONDS,
        0.0,
        "Seconds between checkpoints of the output files, written in the background so that "
        "a killed run keeps its data (0 = off; the command-line tools default to 30)",
    ),
    _setting(
        "output_prefix",
        _NAME_PART,
        "",
        "Output file name prefix ('-' added if it ends alphanumeric); no '/' or '..'",
    ),
    _setting(
        "input_path",
        _STR,
        "",
        "Output folder of the earlier run diff_output compares with",
    ),
    _setting(
        "input_prefix",
        _STR,
        "",
        "File-name prefix of that run's files in input_path (as output_prefix; empty: "
        "output_prefix)",
    ),
    _setting(
        "input_extensions",
        _STR,
        "json,xml",
        "Extensions of the files in input_path that count for diff_output (the call graph is "
        "read from the <label>.tree.json ones)",
    ),
    "Call graph",
    _setting("flat_profile", _BOOL, False, "Record every measurement at depth zero", mirrored=True),
    _setting(
        "timeline_profile",
        _BOOL,
        False,
        "Record every measurement as a distinct entry",
        mirrored=True,
    ),
    _setting(
        "timeline_events",
        _BOOL,
        False,
        "Record each measurement's begin and end (markers, decorators, regions, profiled "
        "functions) for the Perfetto / Chrome trace timeline",
        mirrored=True,
    ),
    _setting(
        "timeline_max_events",
        _COUNT64,
        1000000,
        "Most timeline events kept per process (32 bytes each, plus counter samples); past it "
        "events are dropped and counted, the call graph keeps everything",
        mirrored=True,
    ),
    _setting("max_depth", _UINT16, 65535, "Maximum call-graph depth recorded", mirrored=True),
    _setting("collapse_threads", _BOOL, True, "Merge the per-thread call graphs", mirrored=True),
    _setting("collapse_processes", _BOOL, True, "Merge the per-rank flat data at rank 0"),
    _setting(
        "executor_context",
        _BOOL,
        True,
        "Record work handed to thread and process pools and Dask beneath the call path that "
        "submitted it (docs/guide/executors.md)",
    ),
    "Formatting",
    _setting(
        "precision",
        _INT16,
        -1,
        "Output precision of every component (-1 = component default)",
        mirrored=True,
    ),
    _setting(
        "width",
        _INT16,
        -1,
        "Output width of every component (-1 = component default)",
        mirrored=True,
    ),
    _setting("max_width", _INT32, 120, "Maximum width of the label column", mirrored=True),
    _setting("scientific", _BOOL, False, "Print values in scientific notation", mirrored=True),
    _setting(
        "timing_precision",
        _INT16,
        -1,
        "Output precision of timing components",
        option=False,
        mirrored=True,
    ),
    _setting(
        "timing_width", _INT16, -1, "Output width of timing components", option=False, mirrored=True
    ),
    _setting("timing_units", _TIMING, "", "Units of timing components ('' = sec)", mirrored=True),
    _setting(
        "timing_scientific",
        _BOOL,
        False,
        "Scientific notation for timing components",
        option=False,
        mirrored=True,
    ),
    _setting(
        "memory_precision",
        _INT16,
        -1,
        "Output precision of memory components",
        option=False,
        mirrored=True,
    ),
    _setting(
        "memory_width", _INT16, -1, "Output width of memory components", option=False, mirrored=True
    ),
    _setting("memory_units", _MEMORY, "", "Units of memory components ('' = MB)", mirrored=True),
    _setting(
        "memory_scientific",
        _BOOL,
        False,
        "Scientific notation for memory components",
        option=False,
        mirrored=True,
    ),
    _setting(
        "separator_frequency",
        _INT64,
        0,
        "Separator line every N rows of text tables (0 = never)",
        env="TIMEMORY_SEPARATOR_FREQ",
        option=False,
    ),
    "Tracing and throttling",
    _setting(
        "throttle_count", _SIZE_T, 10000, "Calls of a traced function before it may be throttled"
    ),
    _setting(
        "throttle_value", _SIZE_T, 10000, "Throttle traced functions averaging less than this (ns)"
    ),
    "Component lists",
    _setting("global_components", _COMPONENTS, "", "Default components of every bundle"),
    _setting("components", _COMPONENTS, "", "Default components of the library and region API"),
    _setting("trace_components", _COMPONENTS, "", "Components of the tracer"),
    _setting("profiler_components", _COMPONENTS, "", "Components of the profiler"),
    _setting("ompt_components", _COMPONENTS, "", "Components of the OpenMP tools interface"),
    _setting("mpip_components", _COMPONENTS, "", "Components of the MPI profiling interface"),
    _setting("ncclp_components", _COMPONENTS, "", "Components of the NCCL profiling interface"),
    _setting("kokkos_components", _COMPONENTS, "", "Components of the Kokkos profiling interface"),
    "Distributed memory",
    _setting("mpi_init", _BOOL, False, "Initialize MPI at timemory initialization"),
    _setting("mpi_finalize", _BOOL, False, "Finalize MPI at timemory finalization"),
    _setting("mpi_thread", _BOOL, True, "Initialize MPI with thread support"),
    _setting(
        "mpi_thread_type",
        _StrKind(("", "single", "serialized", "funneled", "multiple")),
        "",
        "MPI thread support level",
    ),
    _setting("upcxx_init", _BOOL, False, "Initialize UPC++ at timemory initialization"),
    _setting("upcxx_finalize", _BOOL, False, "Finalize UPC++ at timemory finalization"),
    _setting("node_count", _INT32, 0, "Number of nodes (for per-node output)"),
    "Process",
    _setting("cpu_affinity", _BOOL, False, "Pin threads to CPUs"),
    _setting(
        "target_pid", _INT, _this_process_id, "Process id of the measured process", option=False
    ),
    _setting(
        "max_thread_bookmarks", _SIZE_T, 50, "Maximum number of per-thread bookmarks", option=False
    ),
    _setting(
        "stack_clearing", _BOOL, True, "Stop the running markers at finalization", mirrored=True
    ),
    _setting("add_secondary", _BOOL, True, "Record the secondary entries components provide"),
    _setting("destructor_report", _BOOL, False, "Report each component when it is destroyed"),
    _setting(
        "signals",
        _SignalsKind(many=True),
        "SIGTERM,SIGHUP,SIGQUIT,SIGXCPU,SIGUSR2",
        "Signals that write the data collected so far, then end the process as they would",
    ),
    _setting(
        "dump_signal",
        _SignalsKind(many=False),
        "",
        "Signal that writes the output so far and lets the program go on ('' = none)",
    ),
    _setting(
        "enable_signal_handler",
        _BOOL,
        False,
        "Also report crashes (SIGSEGV, SIGFPE, SIGABRT, SIGBUS, SIGILL) with the Python stack",
    ),
    _setting(
        "allow_signal_handler",
        _BOOL,
        True,
        "Allow timemory's signal handlers at all (False: none is ever installed)",
    ),
    _setting(
        "enable_all_signals",
        _BOOL,
        False,
        "Handle every signal that may end a job, not just settings.signals",
        option=False,
    ),
    _setting(
        "disable_all_signals",
        _BOOL,
        False,
        "Handle no signal (wins over enable_all_signals and signals)",
        option=False,
    ),
    "Configuration",
    _setting(
        "config_file",
        _STR,
        _DEFAULT_CONFIG_FILES,
        "Config files (';'-separated) read at init",
        option=("-C", "--timemory-config"),
    ),
    _setting(
        "suppress_config",
        _BOOL,
        False,
        "Do not read the config files",
        option=("--timemory-suppress-config", "--timemory-no-config"),
    ),
    _setting("suppress_parsing", _BOOL, False, "Do not read the TIMEMORY_* environment variables"),
    _setting("python_exe", _STR, "python", "Python interpreter used for helper scripts"),
    _setting(
        "command_line",
        _LIST,
        _no_command_line,
        "Command line of the measured program",
        env="",
        option=False,
    ),
    _setting(
        "environment",
        _LIST,
        _timemory_environment,
        "TIMEMORY_* environment at import",
        env="",
        option=False,
    ),
    "Hardware counters",
    _setting("papi_threading", _BOOL, True, "Enable PAPI thread support"),
    _setting(
        "papi_multiplexing",
        _BOOL,
        False,
        "Count each hardware event in its own group (the kernel multiplexes; counts are scaled)",
    ),
    _setting(
        "papi_fail_on_error",
        _BOOL,
        False,
        "Setting papi_events to an event this machine cannot count is an error, not a warning",
    ),
    _setting("papi_quiet", _BOOL, False, "No warning for hardware counters that are not available"),
    _setting("papi_attach", _BOOL, False, "Attach PAPI counters to target_pid", option=False),
    _setting(
        "papi_events",
        _EVENTS,
        "",
        "Hardware counters of papi_vector/papi_array: PAPI presets or perf event names "
        "('' = PAPI_TOT_CYC,PAPI_TOT_INS, or software events without a PMU)",
    ),
    _setting("papi_overflow", _INT, 0, "Sample on counter overflow at this value (0 = off)"),
    # no vendor libraries here: kept so that configurations are portable
    "GPU",
    _setting(
        "cuda_event_batch_size", _SIZE_T, 5, "Number of CUDA events allocated at once", option=False
    ),
    _setting(
        "nvtx_marker_device_sync",
        _BOOL,
        True,
        "Synchronize the device on NVTX markers",
        option=False,
    ),
    _setting("cupti_activity_level", _INT, 1, "CUPTI activity level"),
    _setting("cupti_activity_kinds", _STR, "", "CUPTI activity kinds"),
    _setting("cupti_events", _STR, "", "CUPTI hardware events"),
    _setting("cupti_metrics", _STR, "", "CUPTI metrics"),
    _setting("cupti_device", _INT, 0, "CUDA device for CUPTI"),
    _setting("cupti_pcsampling_period", _INT, 8, "CUPTI PC sampling period"),
    _setting("cupti_pcsampling_per_line", _BOOL, False, "CUPTI PC sampling per source line"),
    _setting("cupti_pcsampling_register_limit", _INT, 8, "CUPTI PC sampling register limit"),
    _setting(
        "cupti_pcsampling_serialized",
        _BOOL,
        False,
        "Serialize kernels during CUPTI PC sampling",
        option=("--timemory-cupti-pcsampling-serialize",),
    ),
    _setting("cupti_pcsampling_num_collect", _SIZE_T, 100, "CUPTI PC samples collected per pass"),
    _setting("cupti_pcsampling_stall_reasons", _STR, "", "CUPTI PC sampling stall reasons"),
    "Roofline",
    _setting(
        "roofline_mode", _ROOFLINE_MODE, "op", "'op' (operations) or 'ai' (arithmetic intensity)"
    ),
    _setting(
        "cpu_roofline_mode", _ROOFLINE_MODE, "op", "CPU roofline mode", env=_ROOF + "MODE_CPU"
    ),
    _setting(
        "gpu_roofline_mode", _ROOFLINE_MODE, "op", "GPU roofline mode", env=_ROOF + "MODE_GPU"
    ),
    _setting(
        "cpu_roofline_events",
        _STR,
        "",
        "Extra CPU roofline events",
        env=_ROOF + "EVENTS_CPU",
        option=False,
    ),
    _setting(
        "gpu_roofline_events",
        _STR,
        "",
        "Extra GPU roofline events",
        env=_ROOF + "EVENTS_GPU",
        option=False,
    ),
    _setting(
        "roofline_type_labels",
        _BOOL,
        False,
        "Label roofline entries with the data type",
        option=False,
    ),
    _setting(
        "roofline_type_labels_cpu",
        _BOOL,
        False,
        "Label CPU roofline entries with the data type",
        env=_ROOF + "TYPE_LABELS_CPU",
        option=False,
    ),
    _setting(
        "roofline_type_labels_gpu",
        _BOOL,
        False,
        "Label GPU roofline entries with the data type",
        env=_ROOF + "TYPE_LABELS_GPU",
        option=False,
    ),
    _setting(
        "instruction_roofline",
        _BOOL,
        False,
        "Instruction roofline instead of FLOP roofline",
        option=False,
    ),
    "Empirical roofline toolkit",
    _setting("ert_num_threads", _UINT64, 0, "ERT threads (0 = per-device default)", option=False),
    _setting("ert_num_threads_cpu", _UINT64, _cpu_count, "ERT CPU threads", option=False),
    _setting("ert_num_threads_gpu", _UINT64, 1, "ERT GPU threads", option=False),
    _setting("ert_num_streams", _UINT64, 1, "ERT GPU streams", option=False),
    _setting("ert_grid_size", _UINT64, 0, "ERT GPU grid size (0 = computed)", option=False),
    _setting("ert_block_size", _UINT64, 1024, "ERT GPU block size", option=False),
    _setting("ert_alignment", _UINT64, 0, "ERT buffer alignment (0 = default)", option=False),
    _setting(
        "ert_min_working_size",
        _UINT64,
        0,
        "ERT minimum working set size (0 = per-device default)",
        option=False,
    ),
    _setting(
        "ert_min_working_size_cpu", _UINT64, 64, "ERT CPU minimum working set size", option=False
    ),
    _setting(
        "ert_min_working_size_gpu",
        _UINT64,
        10_000_000,
        "ERT GPU minimum working set size",
        option=False,
    ),
    _setting(
        "ert_max_data_size",
        _UINT64,
        0,
        "ERT maximum data size (0 = per-device default)",
        option=False,
    ),
    _setting(
        "ert_max_data_size_cpu",
        _UINT64,
        0,
        "ERT CPU maximum data size (0 = from the cache sizes)",
        option=False,
    ),
    _setting(
        "ert_max_data_size_gpu", _UINT64, 500_000_000, "ERT GPU maximum data size", option=False
    ),
    _setting("ert_skip_ops", _STR, "", "ERT operation counts to skip", option=False),
    _setting(
        "ert_num_trials",
        _UINT64,
        0,
        "ERT repetitions per measurement, best kept (0 = 3)",
        option=False,
    ),
    _setting(
        "ert_full_sweep",
        _BOOL,
        False,
        "ERT working sets up to 4x the last cache, however long (default: a bounded sweep)",
        option=False,
    ),
    _setting(
        "ert_cache_sizes",
        _STR,
        "",
        "ERT cache sizes to plan for, innermost first, e.g. 48K,2M,300M:64 (empty = sysfs)",
        option=False,
    ),
    "Vendor tools",
    _setting(
        "craypat_categories",
        _STR,
        _craypat_counters,
        "CrayPAT groups",
        env="TIMEMORY_CRAYPAT",
        option=False,
    ),
    _setting(
        "network_interface", _STR, "", "Network interface of the network components", hidden=True
    ),
)

_SPEC_LIST = _categorised(_TABLE)
del _TABLE
_SPECS: dict[str, _Spec] = {s.name: s for s in _SPEC_LIST}
_DEFAULTS: dict[str, Any] = {
    s.name: s.default() if callable(s.default) else s.default for s in _SPEC_LIST
}


def _spellings() -> dict[str, str]:
    """Every spelling that names a setting: name, env var, options with/without --timemory-."""
    found: dict[str, str] = {}
    for spec in _SPEC_LIST:
        keys = [spec.name, spec.env.lower()]
        for flag in (f for f in spec.flags if f.startswith("--")):
            key = flag.lstrip("-").replace("-", "_")
            keys += [key, key.removeprefix("timemory_")]
        found.update({k: spec.name for k in keys if k})
    return found


_BY_KEY = _spellings()


def _lookup(key: str) -> str | None:
    return _BY_KEY.get(key.strip().lstrip("-").replace("-", "_").lower())


def _suggest(key: str) -> str:
    import difflib  # only on a misspelling: keeps the import footprint down

    close = difflib.get_close_matches(key.lower(), list(_SPECS), n=3)
    if close:
        return f"; did you mean {', '.join(close)}?"
    return "; 'python -m timemory.settings' lists them all"


# The core reads these on its hot paths; timing/memory units are pushed as derived values.
_MIRRORED = tuple(s.name for s in _SPEC_LIST if s.mirrored)

if TYPE_CHECKING:
    # The properties are installed on this module's class at run time (see _SettingsModule),
    # out of type checkers' sight; they read the settings, with their types, here.
    # BEGIN generated by tools/generate_settings.py: every setting with its type
    verbose: int
    debug: bool
    banner: bool
    enabled: bool
    auto_output: bool
    cout_output: bool
    file_output: bool
    text_output: bool
    json_output: bool
    tree_output: bool
    flamegraph_output: bool
    pstats_output: bool
    speedscope_output: bool
    callgrind_output: bool
    perfetto_output: bool
    dart_output: bool
    dart_type: str
    dart_count: int
    dart_label: bool
    plot_output: bool
    diff_output: bool
    time_output: bool
    time_format: str
    summary_top: int
    text_max_rows: int
    ctest_notes: bool
    output_path: str
    checkpoint_interval: float
    output_prefix: str
    input_path: str
    input_prefix: str
    input_extensions: str
    flat_profile: bool
    timeline_profile: bool
    timeline_events: bool
    timeline_max_events: int
    max_depth: int
    collapse_threads: bool
    collapse_processes: bool
    executor_context: bool
    precision: int
    width: int
    max_width: int
    scientific: bool
    timing_precision: int
    timing_width: int
    timing_units: str
    timing_scientific: bool
    memory_precision: int
    memory_width: int
    memory_units: str
    memory_scientific: bool
    separator_frequency: int
    throttle_count: int
    throttle_value: int
    global_components: str
    components: str
    trace_components: str
    profiler_components: str
    ompt_components: str
    mpip_components: str
    ncclp_components: str
    kokkos_components: str
    mpi_init: bool
    mpi_finalize: bool
    mpi_thread: bool
    mpi_thread_type: str
    upcxx_init: bool
    upcxx_finalize: bool
    node_count: int
    cpu_affinity: bool
    target_pid: int
    max_thread_bookmarks: int
    stack_clearing: bool
    add_secondary: bool
    destructor_report: bool
    signals: str
    dump_signal: str
    enable_signal_handler: bool
    allow_signal_handler: bool
    enable_all_signals: bool
    disable_all_signals: bool
    config_file: str
    suppress_config: bool
    suppress_parsing: bool
    python_exe: str
    command_line: list[str]
    environment: list[str]
    papi_threading: bool
    papi_multiplexing: bool
    papi_fail_on_error: bool
    papi_quiet: bool
    papi_attach: bool
    papi_events: str
    papi_overflow: int
    cuda_event_batch_size: int
    nvtx_marker_device_sync: bool
    cupti_activity_level: int
    cupti_activity_kinds: str
    cupti_events: str
    cupti_metrics: str
    cupti_device: int
    cupti_pcsampling_period: int
    cupti_pcsampling_per_line: bool
    cupti_pcsampling_register_limit: int
    cupti_pcsampling_serialized: bool
    cupti_pcsampling_num_collect: int
    cupti_pcsampling_stall_reasons: str
    roofline_mode: str
    cpu_roofline_mode: str
    gpu_roofline_mode: str
    cpu_roofline_events: str
    gpu_roofline_events: str
    roofline_type_labels: bool
    roofline_type_labels_cpu: bool
    roofline_type_labels_gpu: bool
    instruction_roofline: bool
    ert_num_threads: int
    ert_num_threads_cpu: int
    ert_num_threads_gpu: int
    ert_num_streams: int
    ert_grid_size: int
    ert_block_size: int
    ert_alignment: int
    ert_min_working_size: int
    ert_min_working_size_cpu: int
    ert_min_working_size_gpu: int
    ert_max_data_size: int
    ert_max_data_size_cpu: int
    ert_max_data_size_gpu: int
    ert_skip_ops: str
    ert_num_trials: int
    ert_full_sweep: bool
    ert_cache_sizes: str
    craypat_categories: str
    network_interface: str
    # END generated by tools/generate_settings.py


# --------------------------------------------------------------------------------------- instance


class Settings:
    """A set of values for every setting (``timemory.settings()`` returns a copy of the global one).

    Each setting is a typed property; assigning converts and validates it.
    """

    __slots__ = ("_values", "_sources", "_unverified")

    if TYPE_CHECKING:  # the properties are installed below the class, out of type checkers' sight
        # BEGIN generated by tools/generate_settings.py: every setting with its type
        verbose: int
        debug: bool
        banner: bool
        enabled: bool
        auto_output: bool
        cout_output: bool
        file_output: bool
        text_output: bool
        json_output: bool
        tree_output: bool
        flamegraph_output: bool
        pstats_output: bool
        speedscope_output: bool
        callgrind_output: bool
        perfetto_output: bool
        dart_output: bool
        dart_type: str
        dart_count: int
        dart_label: bool
        plot_output: bool
        diff_output: bool
        time_output: bool
        time_format: str
        summary_top: int
        text_max_rows: int
        ctest_notes: bool
        output_path: str
        checkpoint_interval: float
        output_prefix: str
        input_path: str
        input_prefix: str
        input_extensions: str
        flat_profile: bool
        timeline_profile: bool
        timeline_events: bool
        timeline_max_events: int
        max_depth: int
        collapse_threads: bool
        collapse_processes: bool
        executor_context: bool
        precision: int
        width: int
        max_width: int
        scientific: bool
        timing_precision: int
        timing_width: int
        timing_units: str
        timing_scientific: bool
        memory_precision: int
        memory_width: int
        memory_units: str
        memory_scientific: bool
        separator_frequency: int
        throttle_count: int
        throttle_value: int
        global_components: str
        components: str
        trace_components: str
        profiler_components: str
        ompt_components: str
        mpip_components: str
        ncclp_components: str
        kokkos_components: str
        mpi_init: bool
        mpi_finalize: bool
        mpi_thread: bool
        mpi_thread_type: str
        upcxx_init: bool
        upcxx_finalize: bool
        node_count: int
        cpu_affinity: bool
        target_pid: int
        max_thread_bookmarks: int
        stack_clearing: bool
        add_secondary: bool
        destructor_report: bool
        signals: str
        dump_signal: str
        enable_signal_handler: bool
        allow_signal_handler: bool
        enable_all_signals: bool
        disable_all_signals: bool
        config_file: str
        suppress_config: bool
        suppress_parsing: bool
        python_exe: str
        command_line: list[str]
        environment: list[str]
        papi_threading: bool
        papi_multiplexing: bool
        papi_fail_on_error: bool
        papi_quiet: bool
        papi_attach: bool
        papi_events: str
        papi_overflow: int
        cuda_event_batch_size: int
        nvtx_marker_device_sync: bool
        cupti_activity_level: int
        cupti_activity_kinds: str
        cupti_events: str
        cupti_metrics: str
        cupti_device: int
        cupti_pcsampling_period: int
        cupti_pcsampling_per_line: bool
        cupti_pcsampling_register_limit: int
        cupti_pcsampling_serialized: bool
        cupti_pcsampling_num_collect: int
        cupti_pcsampling_stall_reasons: str
        roofline_mode: str
        cpu_roofline_mode: str
        gpu_roofline_mode: str
        cpu_roofline_events: str
        gpu_roofline_events: str
        roofline_type_labels: bool
        roofline_type_labels_cpu: bool
        roofline_type_labels_gpu: bool
        instruction_roofline: bool
        ert_num_threads: int
        ert_num_threads_cpu: int
        ert_num_threads_gpu: int
        ert_num_streams: int
        ert_grid_size: int
        ert_block_size: int
        ert_alignment: int
        ert_min_working_size: int
        ert_min_working_size_cpu: int
        ert_min_working_size_gpu: int
        ert_max_data_size: int
        ert_max_data_size_cpu: int
        ert_max_data_size_gpu: int
        ert_skip_ops: str
        ert_num_trials: int
        ert_full_sweep: bool
        ert_cache_sizes: str
        craypat_categories: str
        network_interface: str
        # END generated by tools/generate_settings.py

    def __init__(self) -> None:
        self._values: dict[str, Any] = {k: _copied(v) for k, v in _DEFAULTS.items()}
        self._sources: dict[str, str] = dict.fromkeys(_SPECS, "default")
        # component settings accepted while the core could not be imported (checked later)
        self._unverified: set[str] = set()

    def copy(self) -> Settings:
        other = Settings()
        other._values = {k: _copied(v) for k, v in self._values.items()}
        other._sources = dict(self._sources)
        other._unverified = set(self._unverified)
        return other

    def source(self, name: str) -> str:
        """Where the current value of ``name`` came from."""
        _check_name(name)
        return self._sources[name]

    def __repr__(self) -> str:
        changed = {k: v for k, v in self._values.items() if v != _DEFAULTS[k]}
        return f"<timemory.settings.Settings changed={changed!r}>"


_GLOBAL: Settings = None  # type: ignore[assignment]  # set at the end of the module


def _check_name(name: str) -> None:
    if name not in _SPECS:
        raise AttributeError(f"timemory.settings has no setting {name!r}{_suggest(name)}")


def _copied(value: Any) -> Any:
    return list(value) if isinstance(value, list) else value  # lists are the only mutable values


def _get(inst: Settings, name: str) -> Any:
    return _copied(inst._values[name])  # so callers cannot change a list behind our back


#: setting name -> function called with the new value whenever the process's settings store
#: one (the checkpoint thread follows ``checkpoint_interval``); registered by the layers above
_ON_CHANGE: dict[str, Any] = {}


def _set(inst: Settings, name: str, value: Any, source: str, origin: str | None = None) -> bool:
    """Convert and store ``value``.

    ``origin`` None (API, command line): raise TypeError/ValueError naming the setting and the
    accepted values.  Otherwise (env var, config file) warn, keep the current value, return False.
    """
    spec = _SPECS[name]
    try:
        typed = spec.kind.convert(value)
    except (TypeError, ValueError) as exc:
        accepted = f"(accepted values: {spec.kind.accepted()})"
        if origin is None:
            raise type(exc)(f"timemory.settings.{name}: {exc} {accepted}") from None
        _warn(f"{origin}: {exc} {accepted}; keeping {inst._values[name]!r}")
        return False
    counters_changed = inst is _GLOBAL and name in _COUNTER_SETTINGS and typed != inst._values[name]
    if counters_changed:
        problem = _counters_problem(name, typed)
        if problem:
            if origin is None:
                raise ValueError(f"timemory.settings.{name}: {problem}")
            _warn(f"{origin}: {problem}; keeping {inst._values[name]!r}")
            return False
    inst._values[name] = typed
    inst._sources[name] = source
    if inst is _GLOBAL and name in _ON_CHANGE:
        _ON_CHANGE[name](typed)
    if isinstance(spec.kind, _CoreCheckedKind):
        if typed and _core_module() is None:
            inst._unverified.add(name)
        else:
            inst._unverified.discard(name)
    if inst is _GLOBAL and name in _MIRRORED:
        core = _core_module()
        if core is not None:
            for key, mirrored in _mirror_pairs(inst, name):
                core.config_set(key, mirrored)
    if counters_changed:
        core = _core_module()
        if core is not None and name not in inst._unverified:
            _configure_counters(core)
    return True


# The events of papi_vector / papi_array (a component's values are one per event).
_COUNTER_SETTINGS = ("papi_events", "papi_multiplexing")
_warned_counters: set[tuple[str, str]] = set()


def _counters_problem(name: str, value: Any) -> str:
    """Why the counter events cannot change now ("" if they can)."""
    core = _core_module()
    if core is None:
        return ""
    # new events reopen every counter at 0: a measurement started before would stop on
    # other counters (and maybe another event layout)
    running = core.hw_running()
    if running:
        return (
            f"papi_vector/papi_array are running ({running} measurement(s) started and not "
            "stopped: components, markers or a profiler, on any thread): stop them first"
        )
    if any(core.has_data(i) for i in core.hw_component_indices()):
        return (
            "papi_vector/papi_array hold data for the current events: "
            "timemory.clear(['papi_vector', 'papi_array']) first"
        )
    if name == "papi_events" and _GLOBAL._values["papi_fail_on_error"]:
        infos = [core.hw_event_info(n) for n in value.split(",") if n]
        missing = [f"{i['name']}: {i['reason']}" for i in infos if not i["available"]]
        if missing:
            return "not available (papi_fail_on_error is set): " + "; ".join(missing)
    return ""


def _configure_counters(core: Any) -> None:
    """Push the events to the core, warn once per unavailable event, refresh the cached
    component descriptions of the modules already imported."""
    names = [n for n in _GLOBAL._values["papi_events"].split(",") if n]
    core.hw_configure(names, _GLOBAL._values["papi_multiplexing"])
    if names and not _GLOBAL._values["papi_quiet"]:
        for event, available, reason in core.hw_configured():
            if not available and (event, reason) not in _warned_counters:
                _warned_counters.add((event, reason))
                _warn(f"hardware counter {event} is not available and is not counted: {reason}")
    for module, attr in (("timemory.component", "_BY_INDEX"),):
        loaded = sys.modules.get(module)
        if loaded is not None:
            for index in core.hw_component_indices():
                getattr(loaded, attr)[index].update(core.component_info(index))


def _mirror_pairs(inst: Settings, name: str) -> list[tuple[str, Any]]:
    if name in ("timing_units", "memory_units"):
        kind = name.split("_")[0]
        divisor, display = unit_info(kind, inst)
        return [(f"{kind}_unit", divisor), (f"{kind}_unit_repr", display)]
    return [(name, inst._values[name])]


def _resolve(instance: Settings | None) -> Settings:
    if instance is None:
        return _GLOBAL
    if not isinstance(instance, Settings):
        kind = type(instance).__name__
        raise TypeError(f"expected a timemory.settings() copy or None, got {kind}")
    return instance


def _push_all_to_core() -> bool:
    """Push every mirrored setting to the core; returns False (silently) if it cannot be imported.

    The package calls this once ``_core`` is importable.  Component settings accepted before the
    core was available are validated now; unknown names warn and fall back to the default.
    """
    core = _core_module()
    if core is None:
        return False
    for name in sorted(_GLOBAL._unverified):
        _GLOBAL._unverified.discard(name)
        try:
            _SPECS[name].kind.convert(_GLOBAL._values[name])
        except ValueError as exc:
            _warn(
                f"timemory.settings.{name} (from {_GLOBAL._sources[name]}): {exc} "
                f"(accepted values: {_SPECS[name].kind.accepted()}); using the default"
            )
            _GLOBAL._values[name] = _DEFAULTS[name]
            _GLOBAL._sources[name] = "default"
    for name in _MIRRORED:
        for key, value in _mirror_pairs(_GLOBAL, name):
            core.config_set(key, value)
    _configure_counters(core)
    return True


# ------------------------------------------------------------------------------------ environment

_warned_env: set[tuple[str, str]] = set()  # (variable, value): parse() again must not warn again


def parse(instance: Settings | None = None) -> None:
    """Re-read every setting whose ``TIMEMORY_*`` variable is present (unless suppress_parsing)."""
    _parse_env(_resolve(instance))


def _parse_env(inst: Settings) -> None:
    if inst._values["suppress_parsing"]:
        return
    # suppress_parsing first: when the environment sets it, nothing else is read
    first = _SPECS["suppress_parsing"]
    for spec in (first, *(s for s in _SPEC_LIST if s is not first)):
        if not spec.env or spec.env not in os.environ:
            continue
        raw = os.environ[spec.env]
        if (spec.env, raw) in _warned_env:
            continue
        if not _set(inst, spec.name, raw, "environment", origin=spec.env):
            _warned_env.add((spec.env, raw))
        if inst._values["suppress_parsing"]:
            return


# ----------------------------------------------------------------------------------- config files

_COMMENT = re.compile(r"(^|\s)#.*$")
_KEY_VALUE = re.compile(r"[\s=,;]+")
_VARIABLE = re.compile(r"\$env:(\w+)|\$\{(\w+)\}|\$(\w+)")


def read(
    instance_or_filename: Settings | str | os.PathLike[str] | None,
    filename: str | os.PathLike[str] | None = None,
) -> bool:
    """Read a text or JSON config file: ``read(path)`` or ``read(instance, path)``.

    Unreadable or malformed files raise OSError/ValueError; unknown keys and bad values warn.
    """
    if filename is None:
        if instance_or_filename is None or isinstance(instance_or_filename, Settings):
            raise TypeError("read() needs a filename: read(filename) or read(instance, filename)")
        inst, filename = _GLOBAL, instance_or_filename
    else:
        inst = _resolve(instance_or_filename)  # type: ignore[arg-type]
    _read_file(inst, os.fspath(filename), implicit=False)
    return True


def read_config_files(instance: Settings | None = None) -> list[str]:
    """Read the existing files of ``config_file`` unless suppress_config; returns the files read.

    These are implicit reads: problems warn instead of raising, and a file never overrides a value
    that came from the environment, the command line or the API.
    """
    inst = _resolve(instance)
    if inst._values["suppress_config"]:
        return []
    chosen = inst._sources["config_file"] != "default"  # a missing default file is normal
    done = []
    for entry in (e.strip() for e in re.split(r"[;,]", inst._values["config_file"])):
        if not entry:
            continue
        path = os.path.expanduser(os.path.expandvars(entry))
        if not os.path.exists(path):
            if chosen:
                _warn(f"timemory config file {entry!r} does not exist")
            continue
        try:
            _read_file(inst, path, implicit=True)
        except (OSError, ValueError) as exc:
            _warn(str(exc))
            continue
        done.append(path)
    return done


#: A config file larger than this is refused: settings take a few KiB, and a config file that
#: names /dev/zero (or a huge file) must not read until memory runs out.
CONFIG_FILE_LIMIT = 1 << 20


def _read_config_text(path: str) -> str:
    """The text of the config file ``path``. It must be a regular file of at most
    CONFIG_FILE_LIMIT bytes: it is opened without blocking (a FIFO with no writer would hang
    ``import timemory``) and examined before anything is read. OSError or ValueError, one line
    naming the file, otherwise."""
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise OSError(exc.errno, f"cannot read timemory config file: {exc.strerror}", path) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path}: not a regular file; a timemory config file must be one")
        if info.st_size > CONFIG_FILE_LIMIT:
            raise ValueError(
                f"{path}: {info.st_size} bytes, larger than a timemory config file may be "
                f"({CONFIG_FILE_LIMIT} bytes)"
            )
        chunks, size = [], 0
        while size <= CONFIG_FILE_LIMIT:  # a file growing while read stops at the limit too
            chunk = os.read(fd, CONFIG_FILE_LIMIT + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > CONFIG_FILE_LIMIT:
            raise ValueError(f"{path}: larger than a timemory config file may be")
    except OSError as exc:
        raise OSError(exc.errno, f"cannot read timemory config file: {exc.strerror}", path) from exc
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a text config file ({exc})") from None


def _read_file(inst: Settings, path: str, implicit: bool) -> None:
    text = _read_config_text(path)
    if path.endswith(".json") or text.lstrip().startswith("{"):
        pairs = _json_pairs(path, text)
    else:
        pairs = _text_pairs(text)
    source = f"config file {path}"
    for key, value in pairs:
        name = _lookup(key)
        if name is None:
            _warn(f"{path}: unknown timemory setting {key!r}{_suggest(key)}")
            continue
        current = inst._sources[name]
        if implicit and not (current == "default" or current.startswith("config file")):
            continue
        _set(inst, name, value, source, origin=f"{path}: {key}")


def _json_pairs(path: str, text: str) -> list[tuple[str, Any]]:
    import json  # JSON config files only: keeps the import footprint down

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: invalid JSON: {exc}") from None
    block = None
    root = data.get("timemory") if isinstance(data, dict) else None
    if isinstance(root, dict):
        meta = root.get("metadata")
        block = meta.get("settings") if isinstance(meta, dict) else None
        if not isinstance(block, dict):
            block = root.get("settings")
    if not isinstance(block, dict):
        raise ValueError(
            f"{path}: no settings found (expected an object at 'timemory.settings' "
            "or 'timemory.metadata.settings')"
        )
    pairs = []
    for key, value in block.items():
        if key.startswith("cereal"):  # serialisation bookkeeping in files written by C++ timemory
            continue
        if isinstance(value, dict):
            if "value" not in value:
                _warn(f"{path}: setting {key!r} is an object without a 'value' key; ignored")
                continue
            value = value["value"]
        pairs.append((key, value))
    return pairs


def _text_pairs(text: str) -> list[tuple[str, str]]:
    variables: dict[str, str] = {}

    def expand(value: str) -> str:
        def sub(match: re.Match[str]) -> str:
            env_name, braced, plain = match.groups()
            if env_name:
                return os.environ.get(env_name, match.group(0))
            name = braced or plain
            return variables.get(name, os.environ.get(name, match.group(0)))

        return _VARIABLE.sub(sub, value)

    pairs = []
    for line in text.splitlines():
        line = _COMMENT.sub("", line).strip()
        if not line:
            continue
        key, *rest = _KEY_VALUE.split(line, maxsplit=1)
        value = expand(rest[0].rstrip(" \t,;") if rest else "")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key.startswith("$"):  # "$NAME = value" defines a variable for the following lines
            variables[key[1:]] = value
        else:
            pairs.append((key, value))
    return pairs


def dump(filename: str | os.PathLike[str] = "", instance: Settings | None = None) -> dict[str, Any]:
    """Return ``{name: value}``; with a filename also write ``{"timemory": {"settings": ...}}``.

    A bare name goes through compose_output_filename (``<output_path>/<prefix><name>.json``); a
    path with a directory or a ``.json`` suffix is used as given.  The write is atomic.
    """
    inst = _resolve(instance)
    values = {name: _get(inst, name) for name in _SPECS}
    filename = os.fspath(filename)
    if filename:
        if os.path.dirname(filename) or filename.endswith(".json"):
            path = filename if filename.endswith(".json") else filename + ".json"
        else:
            path = compose_output_filename(filename, ".json", instance=inst)
        import json

        from .._files import atomic_write  # makes the folder too

        atomic_write(path, json.dumps({"timemory": {"settings": values}}, indent=2) + "\n")
    return values


# ------------------------------------------------------------------------------------ description


SettingInfo = collections.namedtuple(
    "SettingInfo", "name env type value default source description", module=__name__
)
SettingInfo.__doc__ = (
    "One setting as ``describe`` reports it (a named tuple: ``._asdict()`` gives a dict)."
)


def describe(instance: Settings | None = None) -> list[SettingInfo]:
    """One record per setting, in table order."""
    inst = _resolve(instance)
    return [
        SettingInfo(
            s.name,
            s.env,
            s.kind.ctype,
            _get(inst, s.name),
            _DEFAULTS[s.name],
            inst._sources[s.name],
            s.description,
        )
        for s in _SPEC_LIST
    ]


def source(name: str, instance: Settings | None = None) -> str:
    """Where the current value of setting ``name`` came from."""
    return _resolve(instance).source(name)


def unit_info(kind: str, instance: Settings | None = None) -> tuple[float, str]:
    """``(divisor, display)`` of the timing or memory units (raw values are ns and bytes)."""
    if kind not in _UNIT_DEFAULTS:
        raise ValueError(f"unit_info: invalid kind {kind!r} (accepted values: 'timing', 'memory')")
    inst = _resolve(instance)
    units = _TIMING if kind == "timing" else _MEMORY
    return units.info(inst._values[f"{kind}_units"])


# --------------------------------------------------------------------------------------- argparse


def add_arguments(
    parser: argparse.ArgumentParser | None = None,
    instance: Settings | None = None,
    subparser: Any = True,
    selection: Iterable[str] = (),
) -> argparse.ArgumentParser:
    """Add the timemory options and return ``parser`` (a new one when None).

    ``subparser=True``: a ``timemory-config`` sub-command with ``--<name>`` options;
    a parser object: ``--<name>`` options on it; False/None: ``--timemory-<name>`` options on
    ``parser``.  ``selection`` restricts the options to the named settings.
    """
    # argparse (about 1.7 ms of import time) is loaded by the programs that build a parser,
    # not by every `import timemory`
    from ._arguments import add_arguments_to

    return add_arguments_to(parser, instance, subparser, selection)


add_argparse = add_arguments


# ---------------------------------------------------------------------------------- output names

_LAUNCH_TIME = time.localtime()  # one timestamped folder per run, however long it lasts


def _name_part(text: str) -> str:
    """``text`` (from the environment) as a part of one name: path separators, NULs and ``..``
    replaced by ``_``, so that it cannot lead outside the folder it is used in."""
    for bad in {"/", os.sep, os.altsep or "/", "\0"}:
        text = text.replace(bad, "_")
    while ".." in text:
        text = text.replace("..", "_")
    return text


def _substitute(text: str, rank: int) -> str:
    """``text`` with its placeholders replaced: ``%pid%``/``%p``, ``%rank%``/``%r`` (``rank``,
    or this process's rank when it is negative), ``%size%``/``%s`` and ``%job%``/``%j``."""
    if "%" not in text:
        return text
    from .. import _processes

    mpi_rank, mpi_size = _processes.rank_size()
    rank = mpi_rank if rank < 0 else rank
    job = _name_part(os.environ.get("SLURM_JOB_ID", "0"))
    pairs = (
        ("%pid%", str(os.getpid())),
        ("%rank%", str(rank)),
        ("%size%", str(mpi_size)),
        ("%job%", job),
        ("%p", str(os.getpid())),
        ("%r", str(rank)),
        ("%s", str(mpi_size)),
        ("%j", job),
    )
    for token, value in pairs:
        text = text.replace(token, value)
    return text


def _names_rank(text: str) -> bool:
    """True when ``text`` (an output folder or prefix) holds the rank placeholder."""
    return "%rank%" in text or "%r" in text


def _compose(
    folder: str, prefix: str, basename: str, extension: str, dmp: bool, rank: int, explicit: str
) -> str:
    if explicit:
        head = _substitute(explicit, rank)
    else:
        if prefix and prefix[-1].isalnum():
            prefix += "-"
        head = (folder + "/" if folder else "") + prefix
    if extension and not extension.startswith("."):
        extension = "." + extension
    suffix = f"_{rank}" if dmp and rank >= 0 else ""
    path = head + _substitute(basename, rank) + suffix + extension
    while "//" in path:
        path = path.replace("//", "/")
    return path


def _output_location(
    rank: int = -1, folder: str | None = None, instance: Settings | None = None
) -> tuple[str, str]:
    """The output folder (``folder``, else ``output_path``; placeholders substituted, the
    time folder added when ``time_output``) and the file-name prefix, as a pure function of
    the settings: nothing is created here (the atomic writer makes missing folders)."""
    inst = _resolve(instance)
    folder = _substitute(inst._values["output_path"] if folder is None else folder, rank)
    if inst._values["time_output"]:
        stamp = time.strftime(inst._values["time_format"], _LAUNCH_TIME)
        folder = os.path.join(folder, _name_part(stamp))  # checked when set; the locale may change
    return folder, _substitute(inst._values["output_prefix"], rank)


def compose_output_filename(
    basename: str,
    extension: str,
    dmp: bool = False,
    rank: int = -1,
    make_dir: bool = True,
    explicit: str = "",
    instance: Settings | None = None,
) -> str:
    """``<output_path>[/<time folder>]/<prefix><basename>[_<rank>]<extension>``.

    ``explicit`` replaces ``<output_path>/<prefix>``.  ``%pid%``/``%p``, ``%rank%``/``%r``,
    ``%size%``/``%s`` and ``%job%``/``%j`` are substituted (not in the strftime'd time folder).
    ``make_dir`` creates the file's folder, as this public function always did; timemory's own
    output composes its paths without creating anything (the atomic writer does).
    """
    folder, prefix = _output_location(rank, instance=instance)
    path = _compose(folder, prefix, basename, extension, dmp, rank, explicit)
    if make_dir and os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def compose_input_filename(
    basename: str,
    extension: str,
    dmp: bool = False,
    rank: int = -1,
    explicit: str = "",
    instance: Settings | None = None,
) -> str:
    """Like compose_output_filename, from input_path/input_prefix (else the output ones)."""
    inst = _resolve(instance)
    folder = inst._values["input_path"] or inst._values["output_path"]
    prefix = inst._values["input_prefix"] or inst._values["output_prefix"]
    folder, prefix = _substitute(folder, rank), _substitute(prefix, rank)
    return _compose(folder, prefix, basename, extension, dmp, rank, explicit)


# ---------------------------------------------------------------------------- module as settings


class _SettingProperty:
    # A data descriptor per setting, on Settings (the instance's value) and on the module's
    # class (the global instance's value): one small object each instead of a property with
    # two closures, which for every setting twice is a noticeable part of the import's memory.
    __slots__ = ("name", "on_module", "__doc__")

    def __init__(self, name: str, on_module: bool) -> None:
        self.name, self.on_module, self.__doc__ = name, on_module, _SPECS[name].description

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return _get(_GLOBAL if self.on_module else obj, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        _set(_GLOBAL if self.on_module else obj, self.name, value, "api")


class _SettingsModule(types.ModuleType):
    """The class of this module: settings are module properties of the global instance."""

    def __call__(self) -> Settings:
        return _GLOBAL.copy()

    def __setattr__(self, name: str, value: Any) -> None:
        # a typo ("timemory.settings.verbsoe = 1") must not silently create an attribute
        if not (name.startswith("_") or name in _SPECS or name in self.__dict__):
            raise AttributeError(f"timemory.settings has no setting {name!r}{_suggest(name)}")
        super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_SPECS})


for _name in _SPECS:
    setattr(Settings, _name, _SettingProperty(_name, on_module=False))
    setattr(_SettingsModule, _name, _SettingProperty(_name, on_module=True))
del _name

# Built aside and published once complete: while _GLOBAL is not it, _set() mirrors nothing, and
# _push_all_to_core() then pushes everything in one go.
_initial = Settings()
_parse_env(_initial)
_GLOBAL = _initial
del _initial

sys.modules[__name__].__class__ = _SettingsModule
_push_all_to_core()
