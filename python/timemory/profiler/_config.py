"""The profiler's configuration (§4.3) and the labeler built from it.

The native hook asks the labeler once per code object (and once per C function with
``trace_c``) for that function's label, or None when a filter drops it; the answer is
cached on the code object until the configuration changes. Everything here is policy,
so it is Python; nothing here runs per call.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Iterable
from typing import Any, Callable

from timemory import _core

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEFAULT_SKIP_FUNCTIONS = (
    "^(FILE|FUNC|LINE)$",
    "^get_fcode$",
    "^_(_exit__|handle_fromlist|shutdown|get_sep)$",
    "^is(function|class)$",
    "^basename$",
    "^<.*>$",
)
# The reference also skips every __main__.py; that hides the code of `-m package`, and
# timemory's own __main__ modules are excluded as internal anyway.
DEFAULT_SKIP_FILENAMES = (
    "(__init__|functools|encoder|decoder|_pylab_helpers|threading).py$",
    "^<.*>$",
)

_BOOLS = (
    "trace_c",
    "include_internal",
    "include_args",
    "include_line",
    "include_filename",
    "full_filepath",
)
_PATTERN_SETS = ("only_functions", "only_filenames", "skip_functions", "skip_filenames")


def _initial_state() -> dict[str, Any]:
    from timemory import settings

    state: dict[str, Any] = {name: False for name in _BOOLS}
    state["max_stack_depth"] = 65535
    state["verbosity"] = int(settings.verbose)
    state["only_functions"] = []
    state["only_filenames"] = []
    state["skip_functions"] = list(DEFAULT_SKIP_FUNCTIONS)
    state["skip_filenames"] = list(DEFAULT_SKIP_FILENAMES)
    return state


def _add_patterns(current: list[str], value: Any, name: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise TypeError(f"config.{name} takes a regex or a list of regexes, got {value!r}")
    added = list(current)
    for pattern in value:
        if not isinstance(pattern, str):
            raise TypeError(f"config.{name}: patterns must be str, got {pattern!r}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"config.{name}: invalid regular expression {pattern!r}: {exc}"
            ) from None
        if pattern not in added:
            added.append(pattern)
    return added


class _ConfigMeta(type):
    """Makes every option a read/write property of the class itself, as the reference's
    binding class has static properties: ``Config.trace_c = True`` and
    ``config.trace_c = True`` are the same setting."""

    _state: dict[str, Any]

    def __getattr__(cls, name: str) -> Any:
        state = cls.__dict__.get("_state")
        if state is None:
            raise AttributeError(name)
        if name in state:
            value = state[name]
            return list(value) if isinstance(value, list) else value
        raise AttributeError(f"type object 'Config' has no attribute {name!r}")

    def __setattr__(cls, name: str, value: Any) -> None:
        if name.startswith("_") and name != "_is_running":
            return super().__setattr__(name, value)
        state = cls._state
        if name in _BOOLS:
            state[name] = bool(value)
        elif name in ("max_stack_depth", "verbosity"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"config.{name} must be an int, got {value!r}")
            state[name] = value
        elif name in _PATTERN_SETS:
            # as in the reference: the setter adds to the set and never clears it
            state[name] = _add_patterns(state[name], value, name)
        elif name == "_is_running":
            raise AttributeError("config._is_running is read-only")
        else:
            valid = ", ".join(sorted((*_BOOLS, *_PATTERN_SETS, "max_stack_depth", "verbosity")))
            raise AttributeError(f"unknown profiler option {name!r}; valid options: {valid}")
        cls._labeler = None
        _core.profiler_invalidate()


class Config(metaclass=_ConfigMeta):
    """The profiler's options (§4.3). ``config`` is the instance users normally touch;
    reading a pattern set returns a copy, assigning adds patterns, ``reset()`` restores
    the defaults (also the pattern sets)."""

    _state: dict[str, Any] = {}
    _labeler: Callable[[Any], Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name == "_is_running":
            return bool(_core.profiler_active())
        return getattr(type(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(type(self), name, value)

    def __dir__(self) -> list[str]:
        return sorted((*_BOOLS, *_PATTERN_SETS, "max_stack_depth", "verbosity", "reset"))

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in type(self)._state.items())
        return f"timemory.profiler.config({items})"

    @classmethod
    def reset(cls) -> None:
        type.__setattr__(cls, "_state", _initial_state())
        type.__setattr__(cls, "_labeler", None)
        _core.profiler_invalidate()

    @classmethod
    def labeler(cls) -> Callable[[Any], Any]:
        """The labeler for the current options (rebuilt after any change)."""
        if cls._labeler is None:
            type.__setattr__(cls, "_labeler", _make_labeler(dict(cls._state)))
        return cls._labeler  # type: ignore[return-value]


def _make_labeler(state: dict[str, Any]) -> Callable[[Any], Any]:
    only_funcs = [re.compile(p) for p in state["only_functions"]]
    skip_funcs = [re.compile(p) for p in state["skip_functions"]]
    only_files = [re.compile(p) for p in state["only_filenames"]]
    skip_files = [re.compile(p) for p in state["skip_filenames"]]
    internal = bool(state["include_internal"])
    with_args = bool(state["include_args"])
    with_line = bool(state["include_line"])
    with_file = bool(state["include_filename"])
    full_path = bool(state["full_filepath"])

    def labeler(subject: Any) -> str | tuple[str, str] | None:
        if isinstance(subject, types.CodeType):
            name, path, line = subject.co_name, subject.co_filename, subject.co_firstlineno
            is_internal = path.startswith(_PACKAGE_DIR)
        else:  # a builtin function or method (trace_c)
            name = getattr(subject, "__qualname__", None) or getattr(subject, "__name__", "?")
            owner = getattr(subject, "__self__", None)
            module = getattr(subject, "__module__", None)
            if not module and owner is not None:
                module = (
                    getattr(owner, "__name__", None)
                    if isinstance(owner, types.ModuleType)
                    else type(owner).__module__
                )
            path, line = module or "builtins", 0
            is_internal = path == "timemory" or path.startswith("timemory.")
        # filters in the reference's order (§4.2), as substring searches
        if only_funcs and not any(p.search(name) for p in only_funcs):
            return None
        if any(p.search(name) for p in skip_funcs):
            return None
        if not internal and is_internal:
            return None
        if only_files and not any(p.search(path) for p in only_files):
            return None
        if any(p.search(path) for p in skip_files):
            return None
        filename = path if full_path else os.path.basename(path)
        brackets = with_file or with_line
        head = "[" + name if brackets else name
        tail = "]" if brackets else ""
        if with_file:
            tail += "[" + filename + (f":{line}]" if with_line else "]")
        elif with_line:
            tail += f":{line}"
        return (head, tail) if with_args else head + tail

    return labeler


def format_args(frame: types.FrameType) -> str:
    """``(n=5)``: the argument values of a call, for ``include_args``."""
    import inspect  # include_args only: inspect is a large import

    try:
        return inspect.formatargvalues(*inspect.getargvalues(frame))
    except Exception:  # a broken __repr__ must not lose the call
        return "(...)"


Config.reset()
config = Config()
