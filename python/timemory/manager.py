"""``timemory.manager``: the run's metadata and the list of files written.

As in the original package, ``timemory.manager`` is the ``manager`` class: after ``import
timemory.manager`` the name still calls (``timemory.manager()``) and reads and sets the class's
members (``timemory.manager.add_metadata(...)``, ``.text_files``, ``.json_files``,
``.get_metadata()``, ``.set_write_metadata(...)``, ``.write_ctest_notes(...)``), and
``from timemory.manager import manager, add_metadata`` works too.
"""

from __future__ import annotations

import sys
import types

from ._output import manager

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = ["manager"]

# read and set on the class through this module
_MEMBERS = frozenset(
    {
        "add_metadata",
        "get_metadata",
        "json_files",
        "set_write_metadata",
        "text_files",
        "write_ctest_notes",
    }
)


class _ManagerModule(types.ModuleType):
    """This module, standing for the class: calls make a ``manager``, the class's members are
    read and set through it."""

    def __call__(self) -> manager:
        return manager()

    def __getattr__(self, name: str) -> Any:
        if name in _MEMBERS:
            return getattr(manager, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _MEMBERS:
            setattr(manager, name, value)
        else:
            super().__setattr__(name, value)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *_MEMBERS})


sys.modules[__name__].__class__ = _ManagerModule
