"""The original timemory's compiled module, ``timemory.libs`` (also importable as
``timemory.libs.libpytimemory``): one place with the library-level functions, classes and
submodules that the package also offers at its top level.

Here nothing is compiled into this module: each name is the package's own object
(``timemory.libs.get is timemory.get``), looked up on first use, so importing
``timemory.libs`` costs nothing more than ``import timemory``. The function-wrapper
functions come from :mod:`timemory.tools`; UPC++ is not part of this build
(:func:`upcxx_init` and :func:`upcxx_finalize` raise
:class:`~timemory.api.UnavailableError`). The signal functions of the original
(``enable_signal_detection``, ``disable_signal_detection``, ``set_exit_action``) and its
``signals`` module are :mod:`timemory.signals`'s.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

# The names of the original compiled module, as the package offers them (the module of each
# is imported when the name is first used).
_FROM_PACKAGE = (
    "report",
    "toggle",
    "enable",
    "disable",
    "is_enabled",
    "enabled",
    "has_mpi_support",
    "set_rusage_children",
    "set_rusage_self",
    "timemory_init",
    "timemory_finalize",
    "initialize",
    "init",
    "finalize",
    "timemory_argparse",
    "add_arguments",
    "get",
    "get_text",
    "clear",
    "size",
    "get_hash",
    "get_hash_identifier",
    "add_hash_id",
    "mpi_init",
    "mpi_finalize",
    "dmp_init",
    "dmp_finalize",
    "api",
    "component",
    "hardware_counters",
    "manager",
    "units",
    "scope",
    "settings",
    "storage",
    "region",
    "options",
    "timer_decorator",
    "component_decorator",
    "component_bundle",
    "component_tuple",
    "timer",
    "rss_usage",
    "scope_destructor",
    "signals",
    "enable_signal_detection",
    "disable_signal_detection",
    "set_exit_action",
)
# The function-wrapper tools, from timemory.tools.
_FROM_TOOLS = (
    "start_mpip",
    "stop_mpip",
    "start_ompt",
    "stop_ompt",
    "start_ncclp",
    "stop_ncclp",
    "start_mallocp",
    "stop_mallocp",
    "start_function_wrappers",
    "stop_function_wrappers",
    "init_mpip",
    "init_ompt",
)

__all__ = [*_FROM_PACKAGE, *_FROM_TOOLS, "upcxx_init", "upcxx_finalize", "libpytimemory"]

#: This module under the original compiled module's name.
libpytimemory = sys.modules[__name__]
sys.modules.setdefault(__name__ + ".libpytimemory", libpytimemory)

_UPCXX_REASON = (
    "this build has no UPC++ support; MPI through mpi4py is its distributed-memory "
    "transport (timemory.mpi_init, timemory.dmp_init)"
)


def upcxx_init() -> None:
    """Initialise UPC++: raises :class:`~timemory.api.UnavailableError` (no UPC++ in this
    build; ``timemory.dmp_init()`` initialises MPI)."""
    from ..api import UnavailableError

    raise UnavailableError("UPC++", _UPCXX_REASON)


def upcxx_finalize() -> None:
    """Finalise UPC++: raises :class:`~timemory.api.UnavailableError` (no UPC++ in this
    build; ``timemory.dmp_finalize()`` finalises MPI)."""
    from ..api import UnavailableError

    raise UnavailableError("UPC++", _UPCXX_REASON)


def __getattr__(name: str) -> Any:
    if name in _FROM_PACKAGE:
        import timemory

        value = getattr(timemory, name)
    elif name in _FROM_TOOLS:
        from .. import tools

        value = getattr(tools, name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
