"""What the function profiler (``timemory.profiler.config``) and the line tracer
(``timemory.trace.config``) configure the same way: the default skip patterns, the pattern
sets that only grow, the class-level option machinery, and the function/file filter their
labelers apply once per code object.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

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

PATTERN_SETS = ("only_functions", "only_filenames", "skip_functions", "skip_filenames")


def pattern_defaults() -> dict[str, list[str]]:
    return {
        "only_functions": [],
        "only_filenames": [],
        "skip_functions": list(DEFAULT_SKIP_FUNCTIONS),
        "skip_filenames": list(DEFAULT_SKIP_FILENAMES),
    }


def add_patterns(current: list[str], value: Any, name: str) -> list[str]:
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


def is_internal(path: str) -> bool:
    """Whether a code object's file belongs to timemory itself."""
    return path.startswith(PACKAGE_DIR)


def make_filter(state: dict[str, Any]) -> Callable[[str, str, bool], bool]:
    """``keep(name, path, internal)``: the filters in the reference's order, as
    substring searches; ``internal`` tells whether the code is timemory's own."""
    only_funcs = [re.compile(p) for p in state["only_functions"]]
    skip_funcs = [re.compile(p) for p in state["skip_functions"]]
    only_files = [re.compile(p) for p in state["only_filenames"]]
    skip_files = [re.compile(p) for p in state["skip_filenames"]]
    with_internal = bool(state["include_internal"])

    def keep(name: str, path: str, internal: bool) -> bool:
        if only_funcs and not any(p.search(name) for p in only_funcs):
            return False
        if any(p.search(name) for p in skip_funcs):
            return False
        if internal and not with_internal:
            return False
        if only_files and not any(p.search(path) for p in only_files):
            return False
        return not any(p.search(path) for p in skip_files)

    return keep


class HookConfigMeta(type):
    """Makes every option a read/write property of the class itself, as the reference's
    binding classes have static properties: ``Config.include_line = True`` and
    ``config.include_line = True`` are the same setting.

    A class using it names its options (``_bools``, ``_ints``, the pattern sets), the tool
    (``_tool``, for messages) and ``_invalidate()``, which makes the native hook forget
    the labels it cached."""

    _state: dict[str, Any]
    _bools: tuple[str, ...] = ()
    _ints: tuple[str, ...] = ()
    _tool = ""

    def __getattr__(cls, name: str) -> Any:
        state = cls.__dict__.get("_state")
        if state is None:
            raise AttributeError(name)
        if name in state:
            value = state[name]
            return list(value) if isinstance(value, list) else value
        raise AttributeError(f"type object {cls.__name__!r} has no attribute {name!r}")

    def __setattr__(cls, name: str, value: Any) -> None:
        if name.startswith("_") and name != "_is_running":
            return super().__setattr__(name, value)
        state = cls._state
        if name in cls._bools:
            state[name] = bool(value)
        elif name in cls._ints:
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"config.{name} must be an int, got {value!r}")
            state[name] = value
        elif name in PATTERN_SETS:
            # as in the reference: the setter adds to the set and never clears it
            state[name] = add_patterns(state[name], value, name)
        elif name == "_is_running":
            raise AttributeError("config._is_running is read-only")
        else:
            valid = ", ".join(sorted(cls._options()))
            raise AttributeError(f"unknown {cls._tool} option {name!r}; valid options: {valid}")
        type.__setattr__(cls, "_labeler", None)
        cls._invalidate()

    def _options(cls) -> tuple[str, ...]:
        return (*cls._bools, *PATTERN_SETS, *cls._ints)


class HookConfig(metaclass=HookConfigMeta):
    """Base of the profiler's and the tracer's ``Config``. ``config`` is the instance
    users normally touch; reading a pattern set returns a copy, assigning adds patterns,
    ``reset()`` restores the defaults (also the pattern sets).

    Subclasses define ``_initial_state()``, ``_make_labeler(state)``, ``_invalidate()``
    and ``_running()``."""

    _state: dict[str, Any] = {}
    _labeler: Callable[[Any], Any] | None = None

    def __getattr__(self, name: str) -> Any:
        if name == "_is_running":
            return type(self)._running()
        return getattr(type(self), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(type(self), name, value)

    def __dir__(self) -> list[str]:
        return sorted((*type(self)._options(), "reset"))

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in type(self)._state.items())
        return f"timemory.{type(self)._package}.config({items})"

    @classmethod
    def reset(cls) -> None:
        type.__setattr__(cls, "_state", cls._initial_state())
        type.__setattr__(cls, "_labeler", None)
        cls._invalidate()

    @classmethod
    def labeler(cls) -> Callable[[Any], Any]:
        """The labeler for the current options (rebuilt after any change)."""
        if cls._labeler is None:
            type.__setattr__(cls, "_labeler", cls._make_labeler(dict(cls._state)))
        return cls._labeler  # type: ignore[return-value]
