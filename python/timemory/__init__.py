"""timemory: low-overhead performance measurement for Python.

    import timemory
    from timemory.bundle import marker

    @marker(["wall_clock", "peak_rss"])
    def work(): ...

Data are recorded natively into a per-thread call graph and written at exit
(text tables, JSON, hatchet-loadable tree JSON, flame graphs) under
``timemory.settings.output_path``. Importing installs no profile or trace hook.
"""

from __future__ import annotations

import atexit as _atexit
import os as _os
import sys as _sys

_os.environ.setdefault("TIMEMORY_BANNER", "OFF")
_os.environ.setdefault("PROFILESELECTED", "1")

from . import (
    _core,  # noqa: E402
    _import_hooks,  # noqa: E402
    _signals,  # noqa: E402
    _workers,  # noqa: E402
    settings,  # noqa: E402
)

settings._push_all_to_core()

from . import _registrations  # noqa: E402, F401 - what the lifecycle and the output call above them
from ._lifecycle import (  # noqa: E402
    clear,
    finalize,
    get,
    get_text,
    init,
    initialize,
    is_finalized,
    manager,
    report,
    size,
    timemory_finalize,
    timemory_init,
)

# Submodules and the names re-exported from them are imported on first use (PEP 562), so
# `python -m timemory.profiler` does not pay for the component and storage classes or the
# bundle machinery (their import is most of timemory's memory footprint) unless a program
# uses them. `timemory.component`, `from timemory import marker` and `import timemory.bundle`
# all work as if they had been imported here.
_LAZY_SUBMODULES = frozenset(
    {
        "api",
        "bundle",
        "common",
        "component",
        "hardware_counters",
        "libs",
        "mpi",
        "mpi_support",
        "options",
        "profiler",
        "region",
        "scope",
        "signals",
        "storage",
        "tools",
        "trace",
        "units",
        "util",
    }
)
_LAZY_NAMES = {
    "component_bundle": "bundle",
    "component_decorator": "bundle",
    "component_tuple": "bundle",
    "marker": "bundle",
    "scope_destructor": "bundle",
    "timer_decorator": "bundle",
    "rss_usage": "bundle._classes",
    "timer": "bundle._classes",
    "export": "_output._exports",
    "FILE": "common",
    "FRAME": "common",
    "FUNC": "common",
    "LINE": "common",
    # the function-wrapper tools and UPC++ (unavailable in this build: they raise)
    **dict.fromkeys(
        (
            "start_function_wrappers",
            "stop_function_wrappers",
            "start_mpip",
            "stop_mpip",
            "start_ompt",
            "stop_ompt",
            "start_ncclp",
            "stop_ncclp",
            "start_mallocp",
            "stop_mallocp",
        ),
        "tools",
    ),
    # the original's signal API
    **dict.fromkeys(
        ("enable_signal_detection", "disable_signal_detection", "set_exit_action"), "signals"
    ),
    # the NumPy snapshot (numpy itself is imported only when a view is asked for)
    "snapshot": "storage",
    "as_numpy": "storage",
    # the pandas and hatchet views (pandas and hatchet are imported only when called)
    "to_pandas": "storage",
    "to_hatchet": "storage",
    "upcxx_init": "libs",
    "upcxx_finalize": "libs",
}


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY_SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f"{__name__}.{_LAZY_NAMES[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_SUBMODULES | set(_LAZY_NAMES))


version = _core.build_info["version"]
version_info = tuple(int(x) for x in version.split(".")[:3])
build_info = {
    "date": _core.build_info["date"],
    "library_architecture": _core.build_info["library_architecture"],
    "system_name": _core.build_info["system_name"],
    "system_version": _core.build_info["system_version"],
    "build_type": _core.build_info["build_type"],
    "compiler": _core.build_info["compiler_id"],
    "compiler_id": _core.build_info["compiler_id"],
    "compiler_version": _core.build_info["compiler_version"],
}

add_metadata = manager.add_metadata
get_metadata = manager.get_metadata


def toggle(on: bool = True) -> None:
    """Switch recording on or off (``settings.enabled``)."""
    settings.enabled = bool(on)


def enable() -> None:
    settings.enabled = True


def disable() -> None:
    settings.enabled = False


def is_enabled() -> bool:
    return bool(settings.enabled)


enabled = is_enabled


def has_mpi_support() -> bool:
    """True when mpi4py can be imported (the MPI transport is Python-side)."""
    from . import mpi

    return mpi.is_supported()


def mpi_init() -> None:
    """Initialise MPI through mpi4py (if nobody has): from then on the data of every rank
    are gathered on rank zero."""
    from . import mpi

    mpi.init()


def mpi_finalize() -> None:
    """Finalise MPI; timemory writes its output first (every rank must call it)."""
    from . import mpi

    mpi.finalize()


dmp_init = mpi_init
dmp_finalize = mpi_finalize


def set_rusage_children() -> None:
    """Measure getrusage-based components for waited-for children instead of this process."""
    _core.set_rusage_children()


def set_rusage_self() -> None:
    _core.set_rusage_self()


def add_arguments(parser=None, subparser=True):  # type: ignore[no-untyped-def]
    """Add the ``timemory-config`` subparser (or the ``--timemory-*`` options) to an
    argparse parser; see :func:`timemory.settings.add_arguments`."""
    return settings.add_arguments(parser, None, subparser)


timemory_argparse = add_arguments


def get_hash(key: str) -> int:
    """Register ``key`` in the hash database and return its 64-bit hash."""
    return _core.add_hash_id(key)


add_hash_id = get_hash


def get_hash_identifier(hash_id: int) -> str:
    """The string registered for ``hash_id`` ("" if unknown)."""
    return _core.get_hash_identifier(hash_id)


def get_include() -> str:
    """The directory of the C API's headers (``timemory/capi.h``, ``timemory/capi.hpp``) for
    native extensions; ``python -m timemory --cmake-dir`` is the folder of
    ``timemoryConfig.cmake``. See docs/guide/native.md."""
    return _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "include")


__all__ = [
    "version",
    "version_info",
    "build_info",
    "settings",
    "component",
    "hardware_counters",
    "storage",
    "bundle",
    "util",
    "units",
    "scope",
    "common",
    "api",
    "libs",
    "mpi_support",
    "options",
    "tools",
    "initialize",
    "init",
    "timemory_init",
    "finalize",
    "timemory_finalize",
    "report",
    "get",
    "get_text",
    "clear",
    "size",
    "export",
    "toggle",
    "enable",
    "disable",
    "is_enabled",
    "enabled",
    "has_mpi_support",
    "mpi",
    "mpi_init",
    "mpi_finalize",
    "dmp_init",
    "dmp_finalize",
    "upcxx_init",
    "upcxx_finalize",
    "start_function_wrappers",
    "stop_function_wrappers",
    "start_mpip",
    "stop_mpip",
    "start_ompt",
    "stop_ompt",
    "start_ncclp",
    "stop_ncclp",
    "start_mallocp",
    "stop_mallocp",
    "set_rusage_children",
    "set_rusage_self",
    "add_arguments",
    "timemory_argparse",
    "get_hash",
    "add_hash_id",
    "get_hash_identifier",
    "get_include",
    "manager",
    "add_metadata",
    "get_metadata",
    "marker",
    "component_bundle",
    "component_tuple",
    "component_decorator",
    "timer",
    "timer_decorator",
    "rss_usage",
    "scope_destructor",
    "FILE",
    "FUNC",
    "LINE",
    "FRAME",
    "is_finalized",
    "signals",
    "snapshot",
    "as_numpy",
    "enable_signal_detection",
    "disable_signal_detection",
    "set_exit_action",
    "to_pandas",
    "to_hatchet",
]


def _auto_initialize() -> None:
    """Name the output after the program and write it at exit."""
    from ._text import env_flag  # the words every boolean of timemory accepts

    argv = list(_sys.argv) if getattr(_sys, "argv", None) else []
    if argv and (
        argv[0] == "-m"
        or _os.path.basename(argv[0]).startswith("timemory-")
        or any(a in ("-h", "--help", "-?") for a in argv)
    ):
        _os.environ.setdefault("TIMEMORY_LIBRARY_CTOR", "0")
    if "--" in argv:
        argv = argv[argv.index("--") + 1 :]
    while argv and argv[0].startswith("-"):
        argv.pop(0)
    if not argv or not argv[0]:
        argv = ["python"]
    if env_flag("TIMEMORY_LIBRARY_CTOR", True):
        initialize(argv)
    if env_flag("TIMEMORY_LIBRARY_DTOR", True):
        _atexit.register(_signals.finalize_at_exit)  # finalize, with a second Ctrl-C held off
    settings.python_exe = _sys.executable
    settings.command_line = list(_sys.argv) if getattr(_sys, "argv", None) else []


_workers._install()
_signals.apply_settings()  # before the exit's finalize is registered: see timemory._signals
_import_hooks.after_import("mpi4py.MPI", _import_hooks.activate_mpi)
_auto_initialize()


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext timemory``: the ``%%timemory``, ``%timemory`` and ``%%timemory_lines``
    magics (see ``docs/guide/jupyter.md``). IPython is imported here, not by ``import
    timemory``."""
    from . import _ipython

    _ipython.load_ipython_extension(ipython)


def unload_ipython_extension(ipython: object) -> None:
    """``%unload_ext timemory``: remove the magics."""
    from . import _ipython

    _ipython.unload_ipython_extension(ipython)
