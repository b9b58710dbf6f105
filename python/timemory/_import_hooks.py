"""Run a function right after a module is imported (for the first time), without importing
it: MPI's hooks once ``mpi4py.MPI`` is loaded, the hand-over of a command-line tool to the
processes ``multiprocessing`` spawns once ``multiprocessing.spawn`` is loaded."""

from __future__ import annotations

import sys

from ._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from importlib.abc import Loader as _LoaderBase
    from typing import Any, Callable
else:  # the loader protocol needs no base class at run time (importlib.abc is not imported)
    _LoaderBase = object

_CALLBACKS: dict[str, list[Callable[[Any], None]]] = {}


def activate_mpi(_module: Any) -> None:
    """Once ``mpi4py.MPI`` is loaded (and MPI initialised by that import): timemory's MPI hooks,
    so that a later ``MPI.Finalize()`` in the program still finds timemory's data.
    ``timemory.mpi`` is imported only then (or when used)."""
    from . import mpi

    mpi._activate()


def after_import(name: str, callback: Callable[[Any], None]) -> None:
    """``callback(module)`` once ``name`` is imported; at once if it already is."""
    module = sys.modules.get(name)
    if module is not None:
        callback(module)
        return
    _CALLBACKS.setdefault(name, []).append(callback)
    _watcher().watch(name)


def _watcher() -> Any:
    """The import watcher in ``sys.meta_path`` (its ``find_spec`` is native: a profiled
    program's imports do not show it), added first."""
    from . import _core

    for finder in sys.meta_path:
        if isinstance(finder, _core.ImportWatcher):
            return finder
    watcher = _core.ImportWatcher(_found)
    sys.meta_path.insert(0, watcher)
    return watcher


def _found(name: str, path: Any = None, target: Any = None) -> Any:
    """The spec of a watched module, from the finders after the watcher, its loader wrapped."""
    from . import _core

    for finder in sys.meta_path:
        if isinstance(finder, _core.ImportWatcher) or not hasattr(finder, "find_spec"):
            continue
        spec = finder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Loader(spec.loader)
            return spec
    return None


class _Loader(_LoaderBase):
    """Wraps the loader of a watched module: runs its callbacks once it is executed."""

    def __init__(self, loader: Any):
        self._loader = loader

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        sys.modules.setdefault(module.__name__, module)
        from . import _core

        for finder in sys.meta_path:
            if isinstance(finder, _core.ImportWatcher):
                finder.unwatch(module.__name__)
        for callback in _CALLBACKS.pop(module.__name__, []):
            try:
                callback(module)
            except Exception as err:  # noqa: BLE001 - never break the program's import
                echo(f"[timemory]> after importing {module.__name__}: {err!r}", sys.stderr)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)
