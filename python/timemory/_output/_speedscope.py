"""The exports for speedscope and for KCachegrind / QCachegrind (the callgrind format): each is
the function that streams its file natively from an export source (the joined walk of the
source's components: this process's live call graphs, or trees read back from a run's files),
without the GIL and without holding the document.

speedscope: an evented profile per value that adds up along the call graph (time in ns,
memory in bytes, counts), per component and per thread view, laid out as a flame graph (the
call graph keeps sums, not timestamps; the profile names say so). callgrind: a part per thread
view, an event per such value, integer costs in those base units.
"""

from __future__ import annotations

import sys

from .. import _core
from .._text import echo
from ._run import _streamed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = ["make_callgrind", "make_speedscope"]


def _creator() -> str:
    return "timemory@" + _core.build_info["version"]


def _none_nests(name: str, src: Any) -> bool:
    """Whether none of ``src``'s components has a value that nests; then says so on stderr."""
    if _core.export_values(src.indices):
        return False
    keys = ", ".join(_core.component_info(i)["key"] for i in src.indices) or "none"
    echo(
        f"[timemory]> {name} file not written: no value of {keys} adds up along the call graph "
        "(a reading such as a maximum, a rate or a percentage has no flame graph)",
        sys.stderr,
    )
    return True


def make_speedscope(src: Any) -> Callable[[bytes], None] | None:
    """speedscope's JSON file format of ``src`` (an export source: ``indices``, ``native``,
    ``rank``, ``copy``), as the function of the path that writes it; None when none of its
    components has a value that nests along the call graph (a percentage, a rate, a reading:
    no flame graph shows them)."""
    if _none_nests("speedscope", src):
        return None
    native, rank, copy = src.native, src.rank, src.copy
    return _streamed(lambda path: _core.write_speedscope(path, native, rank, copy, "", _creator()))


def make_callgrind(src: Any) -> Callable[[bytes], None] | None:
    """The callgrind profile format of ``src`` (an export source: ``indices``, ``native``,
    ``rank``, ``copy``), as the function of the path that writes it; None when none of its
    components has a value that nests along the call graph."""
    if _none_nests("callgrind", src):
        return None
    native, rank, copy = src.native, src.rank, src.copy
    return _streamed(lambda path: _core.write_callgrind(path, native, rank, copy, "", _creator()))
