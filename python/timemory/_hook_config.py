"""What the function profiler (``timemory.profiler.config``) and the line tracer
(``timemory.trace.config``) configure the same way: the default skip patterns, the pattern
sets (assigning replaces, ``+=`` adds), the class-level option machinery, the function/file
filter their labelers apply once per code object and the name a label gives module-level code.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))

# What the profiler and the tracer skip by default. A user looking for the hot spot wants
# everything their program runs, as cProfile shows it (it skips nothing), so the defaults are
# minimal: timemory's own frames are left out by `is_internal` (`include_internal` shows them),
# and each pattern below matches one named standard-library module by its full file name,
# anchored at both ends, never a substring that could also match a user's file.


def _stdlib_file(name: str) -> tuple[str, ...]:
    """The anchored pattern of the standard-library file ``name`` where this interpreter
    found it: in the folder of os.py, which is ``sysconfig.get_paths()["stdlib"]`` without
    importing sysconfig (the import system sets a module's ``co_filename`` to the file it
    loaded). None where os has no file (an embedded interpreter)."""
    os_file = getattr(os, "__file__", None)
    if not os_file:
        return ()
    return ("^" + re.escape(os.path.join(os.path.dirname(os_file), name)) + "$",)


DEFAULT_SKIP_FUNCTIONS: tuple[str, ...] = ()
DEFAULT_SKIP_FILENAMES: tuple[str, ...] = (
    # The import system (importlib._bootstrap and _bootstrap_external, always frozen in
    # CPython, so these are their file names in every code object). Without it each `import`
    # reads as the module's own code right under the line that imports it, as
    # `python -X importtime` shows imports; the machinery's own time (finding and reading the
    # files) is charged to that line, never lost. Its five to eight frames per import
    # otherwise fill the call tree of a program that imports a package.
    r"^<frozen importlib\._bootstrap(_external)?>$",
    # The thread machinery of threading.py: with it, every thread's graph starts at the
    # function the thread runs (`Thread(target=work)`: `work`), not at threading's
    # `_bootstrap`/`run` with `_delete` beside it, and creating, starting and joining a thread
    # is one call of the program's, not some twenty nodes of threading's internals. The time
    # of `start()`, `join()` and `Event.wait()` is charged to the line that calls them.
    *_stdlib_file("threading.py"),
)

PATTERN_SETS = ("only_functions", "only_filenames", "skip_functions", "skip_filenames")


def pattern_defaults() -> dict[str, list[str]]:
    return {
        "only_functions": [],
        "only_filenames": [],
        "skip_functions": list(DEFAULT_SKIP_FUNCTIONS),
        "skip_filenames": list(DEFAULT_SKIP_FILENAMES),
    }


class Patterns(list):
    """What reading a pattern set of a ``config`` returns: a copy, as a list, where ``+=``
    takes one regex as well as a list of them, so that ``config.skip_filenames += "x"`` adds
    the pattern ``x`` (a plain list would add its characters, each a pattern)."""

    def __iadd__(self, other: Any) -> Patterns:
        return super().__iadd__([other] if isinstance(other, str) else other)

    def __add__(self, other: Any) -> Patterns:
        return Patterns([*self, *([other] if isinstance(other, str) else other)])


def check_patterns(value: Any, name: str) -> list[str]:
    """``value`` (a regex or an iterable of them) as a list without repeats; one error line
    naming the option and the pattern for anything else."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, Iterable):
        raise TypeError(f"config.{name} takes a regex or a list of regexes, got {value!r}")
    patterns: list[str] = []
    for pattern in value:
        if not isinstance(pattern, str):
            raise TypeError(f"config.{name}: patterns must be str, got {pattern!r}")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"config.{name}: invalid regular expression {pattern!r}: {exc}"
            ) from None
        if pattern not in patterns:
            patterns.append(pattern)
    return patterns


_PACKAGE_PREFIX = os.path.join(PACKAGE_DIR, "")


def is_internal(path: str) -> bool:
    """Whether a code object's file belongs to timemory itself (a file inside the package's
    folder: not a sibling whose name starts the same, such as ``timemory_extras/``)."""
    return path.startswith(_PACKAGE_PREFIX)


def function_name(name: str, path: str, full_path: bool, file_shown: bool) -> str:
    """The name a label gives the code object ``name`` of file ``path``: its own name, except
    for a module's top-level code, which every module calls ``<module>``. Unless the label
    shows the file anyway, that is ``<module FILE>``: ``<module script.py>``,
    ``<module pkg/__init__.py>`` (the package named, as every package has that file),
    ``<module <string>>`` for ``python -c`` or ``exec`` of a string, ``<module <stdin>>`` for
    the interactive interpreter, ``<module <ipython-input-3-...>>`` for a notebook cell."""
    if name != "<module>" or file_shown:
        return name
    if full_path or (path.startswith("<") and path.endswith(">")):
        return f"<module {path}>"
    base = os.path.basename(path)
    if base in ("__init__.py", "__main__.py"):
        base = os.path.basename(os.path.dirname(path)) + "/" + base
    return f"<module {base}>"


def make_filter(state: dict[str, Any]) -> Callable[[str, str, bool], bool]:
    """``keep(name, path, internal)``: the filters in the reference's order; a pattern
    matches where it is found in the name or path (``re.search``: anchor it with ``^`` and
    ``$`` to match a whole name); ``internal`` tells whether the code is timemory's own."""
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
            return Patterns(value) if isinstance(value, list) else value
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
            # assigning replaces the set (the defaults too); `config.skip_filenames += [...]`
            # adds, as reading gives a copy that `+=` extends before it is assigned back
            state[name] = check_patterns(value, name)
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
    users normally touch; reading a pattern set returns a copy, assigning replaces the set,
    ``+=`` adds to it, ``reset()`` restores the defaults (also the pattern sets).

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
