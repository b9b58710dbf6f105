"""Runs: profiled executions keyed by their parameters, stored, compared and gathered.

* :class:`Store` - a folder of runs; a run is a script, module or callable executed with named
  parameters, repeated, each repeat keeping its whole call graph.
* :func:`compare` - the call graphs of two runs (or groups of runs, or output folders) node by
  node, with a rank test per node and the false discovery rate controlled across nodes.
* :func:`ensemble` - many runs as pandas data (a performance table and a parameter table).
* :class:`Graph`, :class:`Table`, :func:`read_folder` - the call graph of one repeat and the
  repeats of a run, keyed by call path.

The names are imported when first used: ``import timemory.runs`` loads none of the machinery.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ._errors import RunsError
    from ._graph import Graph, Table, from_live, read_folder

# the names of the other parts join __all__ as they land: _store, _execute, _compare, _ensemble
__all__ = ["Graph", "RunsError", "Table", "from_live", "read_folder"]

# public name -> the submodule defining it
_LAZY = {
    "RunsError": "_errors",
    "Graph": "_graph",
    "Table": "_graph",
    "read_folder": "_graph",
    "from_live": "_graph",
    "Store": "_store",
    "Run": "_store",
    "Module": "_execute",
    "parameters": "_execute",
    "compare": "_compare",
    "Comparison": "_compare",
    "ensemble": "_ensemble",
    "Ensemble": "_ensemble",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'timemory.runs' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
