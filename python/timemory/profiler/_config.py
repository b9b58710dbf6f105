"""The profiler's configuration and the labeler built from it.

The native hook asks the labeler once per code object (and once per C function with
``trace_c``) for that function's label, or None when a filter drops it; the answer is
cached on the code object until the configuration changes. Everything here is policy,
so it is Python; nothing here runs per call.
"""

from __future__ import annotations

import os
import sys
import types

from timemory import _core
from timemory._hook_config import (
    HookConfig,
    function_name,
    is_internal,
    make_filter,
    pattern_defaults,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

_BOOLS = (
    "trace_c",
    "include_internal",
    "include_args",
    "include_line",
    "include_filename",
    "full_filepath",
)


def _initial_state() -> dict[str, Any]:
    from timemory import settings

    state: dict[str, Any] = {name: False for name in _BOOLS}
    state["max_stack_depth"] = 65535
    state["verbosity"] = int(settings.verbose)
    state.update(pattern_defaults())
    return state


def short_module(path: str) -> str:
    """A source file as the profiler's labels name it when two functions share a name: its
    path relative to the deepest ``sys.path`` entry holding it (the script's folder,
    site-packages, the standard library), else to the current directory, else its last three
    parts, written as a module name (``sympy.core.basic``, ``pkg.__init__``); a name that is
    no path (``<string>``) unchanged.

    Dots rather than slashes and ``, line N`` rather than ``:N``: hatchet's timemory reader
    takes ``x/y/z`` and ``x:N`` in a label for a file and a line and keeps only the name
    before them, which would merge the two functions again."""
    if not os.path.isabs(path):
        return path
    best = ""
    for entry in sys.path:
        root = (os.path.abspath(entry) if entry else os.getcwd()).rstrip(os.sep)
        if len(root) > len(best) and path.startswith(root + os.sep):
            best = root
    if not best:
        cwd = os.getcwd().rstrip(os.sep)
        best = cwd if path.startswith(cwd + os.sep) else ""
    parts = path[len(best) + 1 :].split(os.sep) if best else path.split(os.sep)[-3:]
    stem, ext = os.path.splitext(parts[-1])
    parts[-1] = stem if ext in (".py", ".pyw") else parts[-1]
    return ".".join(p for p in parts if p)


def _make_labeler(state: dict[str, Any]) -> Callable[[Any], Any]:
    keep = make_filter(state)
    with_args = bool(state["include_args"])
    with_line = bool(state["include_line"])
    with_file = bool(state["include_filename"])
    full_path = bool(state["full_filepath"])
    short: dict[str, str] = {}  # path -> short_module(path), per labeler (sys.path may change)

    # (label or head, tail, where, source): the where ("module, line N", or a C function's
    # module) makes the call-graph node the function's, not the name's; the label stays short
    # and is shown as `label [where]` only where another function shares it. The source
    # (file, first line, name) is the function's key in a pstats file, as cProfile makes it:
    # the code's own co_filename, co_firstlineno and co_name; ("~", 0, its cProfile name) for
    # a C function. The hook registers it once per code object.
    def labeler(subject: Any) -> tuple[str, str, str, tuple[str, int, str]] | None:
        if isinstance(subject, types.CodeType):
            name, path, line = subject.co_name, subject.co_filename, subject.co_firstlineno
            internal = is_internal(path)
            is_code = True
            source = (path, line, name)
        else:  # a builtin function or method (trace_c)
            name = getattr(subject, "__qualname__", "") or getattr(subject, "__name__", "?")
            owner = getattr(subject, "__self__", None)
            module = getattr(subject, "__module__", None)
            if not module and owner is not None:
                module = (
                    getattr(owner, "__name__", None)
                    if isinstance(owner, types.ModuleType)
                    else type(owner).__module__
                )
            path, line = module or "builtins", 0
            internal = path == "timemory" or path.startswith("timemory.")
            is_code = False
            source = ("~", 0, c_function_name(subject, owner, path))
        if not keep(name, path, internal):
            return None
        filename = path if full_path else os.path.basename(path)
        module = name == "<module>"
        name = function_name(name, path, full_path, with_file)
        brackets = with_file or with_line
        head = "[" + name if brackets else name
        tail = "]" if brackets else ""
        if with_file:
            tail += "[" + filename + (f":{line}]" if with_line else "]")
        elif with_line:
            tail += f":{line}"
        if is_code:
            where = short.get(path)
            if where is None:
                where = short[path] = short_module(path)
            where = f"{where}, line {line}"
        else:
            where = path  # a C function: its module
        # module-level code takes no arguments: no "()" in its label
        if with_args and not module:
            return (head, tail, where, source)
        return (head + tail, "", where, source)

    return labeler


def c_function_name(function: Any, owner: Any, module: str) -> str:
    """A C function's name as cProfile writes it: ``<method 'append' of 'list' objects>``
    for a method (the repr of what its type holds under that name), else ``<built-in method
    math.sqrt>``, ``<built-in method builtins.len>`` (_lsprof's ``normalizeUserObj``)."""
    short = getattr(function, "__name__", "?")
    if owner is not None and not isinstance(owner, types.ModuleType):
        for klass in type(owner).__mro__:  # what _PyType_Lookup finds, without calling code
            held = klass.__dict__.get(short)
            if held is not None:
                try:
                    return repr(held)
                except Exception:  # a broken __repr__ must not lose the function
                    break
    return f"<built-in method {module}.{short}>"


def format_args(frame: types.FrameType) -> str:
    """``(n=5)``: the argument values of a call, for ``include_args``."""
    import inspect  # include_args only: inspect is a large import

    try:
        return inspect.formatargvalues(*inspect.getargvalues(frame))
    except Exception:  # a broken __repr__ must not lose the call
        return "(...)"


class Config(HookConfig):
    """The profiler's options. ``config`` is the instance users normally touch;
    reading a pattern set returns a copy, assigning replaces the set (the defaults too),
    ``+=`` adds to it, ``reset()`` restores the defaults (also the pattern sets)."""

    _tool = "profiler"
    _package = "profiler"
    _bools = _BOOLS
    _ints = ("max_stack_depth", "verbosity")
    _initial_state = staticmethod(_initial_state)
    _make_labeler = staticmethod(_make_labeler)
    _invalidate = staticmethod(_core.profiler_invalidate)

    @staticmethod
    def _running() -> bool:
        return bool(_core.profiler_active())


Config.reset()
config = Config()
