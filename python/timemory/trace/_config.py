"""The line tracer's configuration and the labeler built from it.

The native hook asks the labeler once per code object for the labels of its lines, or None
when a filter drops the function; the answer is cached on the code object until the
configuration changes. Everything here is policy, so it is Python; nothing here runs per
line.

A label is the line's source text, left-justified and padded so that the label is about
``settings.max_width`` wide (less 3 for the ``>>>`` prefix of the tables and 3 for each of
``collapse_threads`` and ``collapse_processes``), then `` [func][file:NN]`` with the line
number zero-padded to the digits of the file's line count. Lines shown before they run (with
zero laps) are the lines of the function's body that hold code: not its decorators or
signature, not its docstring, not comments.
"""

from __future__ import annotations

import os
import sys
import types
from typing import Any, Callable

from timemory import _core
from timemory._hook_config import (
    HookConfig,
    function_name,
    is_internal,
    make_filter,
    pattern_defaults,
)

_BOOLS = ("include_internal", "include_args", "include_line", "include_filename", "full_filepath")
_CO_OPTIMIZED = 0x0001  # inspect.CO_OPTIMIZED: set for functions, not class bodies or modules


def _initial_state() -> dict[str, Any]:
    from timemory import settings

    state: dict[str, Any] = {name: False for name in _BOOLS}
    # the tracer's defaults differ from the profiler's: labels name the file and line
    state["include_line"] = True
    state["include_filename"] = True
    state["verbosity"] = int(settings.verbose)
    state.update(pattern_defaults())
    return state


def _label_width() -> int:
    """The width a label is padded to."""
    from timemory import settings

    width = int(settings.max_width) - 3
    width -= 3 if settings.collapse_threads else 0
    width -= 3 if settings.collapse_processes else 0
    return width


def _code_lines(code: types.CodeType) -> list[int]:
    """The lines that hold code of the code object (not of the functions it defines)."""
    ranges = getattr(code, "co_lines", None)
    if ranges is not None:  # 3.10+
        return sorted({line for _, _, line in ranges() if line})
    import dis

    return sorted({line for _, line in dis.findlinestarts(code) if line})


def _line_text(source: list[str], lineno: int) -> str:
    # newlines removed and tabs expanded, so a label is one line that aligns in a table
    return source[lineno - 1].rstrip().expandtabs() if 0 < lineno <= len(source) else ""


def _source(path: str, getlines: Callable[[str], list[str]]) -> list[str]:
    """The lines of the file ``path``. A standard-library module frozen into the interpreter
    (3.11+: os, posixpath, codecs...) names itself ``<frozen NAME>`` in its code objects; its
    source is the file the module names as ``__file__``."""
    lines = getlines(path)
    if not lines and path.startswith("<frozen ") and path.endswith(">"):
        module = sys.modules.get(path[len("<frozen ") : -1])
        filename = getattr(module, "__file__", None)
        if isinstance(filename, str):
            lines = getlines(filename)
    return lines


def _not_shown(code: types.CodeType, lines: list[int], texts: dict[int, str]) -> set[int]:
    """The lines holding code that are no statement of the body: the header line (3.11+ put
    the frame's set-up there, which never runs as a line) and the docstring of a class or
    module, which they store. A function's docstring and comments hold no code at all."""
    first = code.co_firstlineno
    if code.co_flags & _CO_OPTIMIZED:
        return {first} if lines and lines[-1] > first else set()  # a one-line def keeps it
    header = set() if code.co_name == "<module>" else {first}
    body = [line for line in lines if line not in header]
    if body and texts[body[0]].lstrip().lstrip("rRuUbBfF").startswith(("'", '"')):
        header.add(body[0])  # the first statement is a string: the docstring
    return header


def _make_labeler(state: dict[str, Any]) -> Callable[[types.CodeType], Any]:
    import linecache  # imports tokenize: only when tracing starts

    keep = make_filter(state)
    with_args = bool(state["include_args"])
    with_line = bool(state["include_line"])
    with_file = bool(state["include_filename"])
    full_path = bool(state["full_filepath"])
    width = _label_width()

    def labeler(code: types.CodeType) -> list[tuple[int, Any, bool]] | None:
        name, path = code.co_name, code.co_filename
        if not keep(name, path, is_internal(path)):
            return None
        lines = _code_lines(code)
        source = _source(path, linecache.getlines)
        texts = {line: _line_text(source, line) for line in lines}
        hidden = _not_shown(code, lines, texts)
        digits = len(str(len(source) or (lines[-1] if lines else 0)))
        filename = path if full_path else os.path.basename(path)
        module = name == "<module>"
        name = function_name(name, path, full_path, with_file)
        longest = max((len(t) for n, t in texts.items() if n not in hidden), default=0)
        out: list[tuple[int, Any, bool]] = []
        for line in lines:
            number = str(line).zfill(digits)
            if with_file:
                tail = f"][{filename}:{number}]" if with_line else f"][{filename}]"
            else:
                tail = f":{number}]" if with_line else "]"
            text = texts[line]
            pad = max(longest, width - len(name) - len(tail) - 2)
            head = f"{text:<{pad}} [{name}"
            # without the source a line is not listed before it runs: its label has no text
            shown = bool(text.strip()) and line not in hidden
            # module-level code takes no arguments: no "()" in its labels
            label = (head, tail) if with_args and not module else head + tail
            out.append((line, label, shown))
        return out

    return labeler


class Config(HookConfig):
    """The tracer's options. ``config`` is the instance users normally touch;
    reading a pattern set returns a copy, assigning replaces the set (the defaults too),
    ``+=`` adds to it, ``reset()`` restores the defaults (also the pattern sets)."""

    _tool = "tracer"
    _package = "trace"
    _bools = _BOOLS
    _ints = ("verbosity",)
    _initial_state = staticmethod(_initial_state)
    _make_labeler = staticmethod(_make_labeler)
    _invalidate = staticmethod(_core.tracer_invalidate)

    @staticmethod
    def _running() -> bool:
        return bool(_core.tracer_active())


Config.reset()
config = Config()
