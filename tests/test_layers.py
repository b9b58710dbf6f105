"""The package's imports point down the layers only.

Every module of python/timemory is read with ``ast``; every import in it (at the top and
inside functions, ``import x`` and ``from x import y``, absolute and relative, and
``importlib.import_module("...")`` with a literal name) is mapped to the layer of the module
it names, and an import of a module in a higher layer fails the test with the importing
module, its line and both layers.

A lower layer that needs something from a higher one gets it by registration instead: the
transports and renderers register with the lifecycle (``timemory._lifecycle.add_*``), the
processes registry (``timemory._processes``) and the format registry (``timemory._output``);
``timemory._registrations`` wires what must work before anything imports it.
"""

from __future__ import annotations

import ast
import os
import textwrap

import pytest

PACKAGE_ROOT = os.path.join(os.path.dirname(os.path.dirname(__file__)), "python", "timemory")

#: Lowest first. A module may import modules of its own layer and of the layers below it.
LAYERS = ("native", "base", "data", "output", "lifecycle", "tools", "entry points")

#: Module (or package: it covers its submodules, ``__main__`` included) -> layer; the longest
#: matching name wins. The transports (mpi, the process-pool workers and the import hook that
#: starts MPI's) and the renderers (plotting, roofline) sit beside the tools; so does ``_cli``,
#: the command-line runner and helpers that the tools' command lines and the renderers share.
#: A package's ``__main__`` (``python -m timemory.profiler``) is that tool's command line, in
#: the tool's layer: ``timemory.plotting.embedded_plot`` runs it in-process.
MODULE_LAYERS = {
    "timemory._core": "native",
    "timemory._ert": "native",
    "timemory._text": "base",
    "timemory._files": "base",
    "timemory._machine": "base",
    "timemory._processes": "base",
    "timemory._hook_config": "base",
    "timemory._documents": "base",
    # the version line, missing-package messages and did-you-mean of every command line
    "timemory._about": "base",
    "timemory.common": "base",
    "timemory.units": "base",
    "timemory.settings": "base",
    "timemory._components": "data",
    "timemory.component": "data",
    "timemory.storage": "data",
    # the submitting call path that follows a task (over _core only), below the transports
    "timemory._context": "data",
    "timemory.hardware_counters": "data",
    "timemory._output": "output",
    "timemory._lifecycle": "lifecycle",
    "timemory._signals": "lifecycle",
    "timemory._checkpoint": "lifecycle",
    "timemory.manager": "tools",
    "timemory.bundle": "tools",
    "timemory.util": "tools",
    "timemory.region": "tools",
    "timemory.scope": "tools",
    "timemory.profiler": "tools",
    "timemory.trace": "tools",
    "timemory.line_profiler": "tools",
    "timemory._cli": "tools",
    "timemory.mpi": "tools",
    "timemory._workers": "tools",
    # Dask workers measured beneath the client's call path: a transport beside the tools
    "timemory.dask": "tools",
    "timemory._import_hooks": "tools",
    "timemory.plotting": "tools",
    "timemory.roofline": "tools",
    "timemory.runs": "tools",
    "timemory.analyze": "tools",
    # the original package's other public modules: option helpers, MPI facts, the vendor
    # tools and APIs (unavailable here, reported as such), beside the tools
    "timemory.options": "tools",
    "timemory.mpi_support": "tools",
    "timemory.tools": "tools",
    "timemory.api": "tools",
    # the original's signal API, over timemory._signals
    "timemory.signals": "tools",
    # the original binding module's names, re-exported from the package itself
    "timemory.libs": "entry points",
    "timemory._registrations": "entry points",
    # the IPython magics, loaded by `%load_ext timemory` through the package
    "timemory._ipython": "entry points",
    # the `timemory` command (python -m timemory): it runs every tool
    "timemory._command": "entry points",
    "timemory.__main__": "entry points",
    "timemory": "entry points",
    # the pytest plugin's options: a package of its own, outside timemory, so that a pytest
    # session without --timemory imports nothing of timemory; it hands a --timemory session
    # to timemory.runs._pytest, and nothing in timemory imports it
    "timemory_pytest": "entry points",
}


def layer_of(module: str) -> str | None:
    """The layer of a timemory module (None for a module outside the package)."""
    if module == "timemory_pytest" or module.startswith("timemory_pytest."):
        return MODULE_LAYERS["timemory_pytest"]
    if module != "timemory" and not module.startswith("timemory."):
        return None
    # a submodule is in its package's layer; a module directly under timemory must be
    # listed itself (the package's own layer is not a default: a new module that nobody
    # placed would be allowed to import anything)
    name = module
    while name != "timemory":
        if name in MODULE_LAYERS:
            return MODULE_LAYERS[name]
        name = name.rpartition(".")[0]
    return MODULE_LAYERS["timemory"] if module == "timemory" else None


def package_modules(root: str = PACKAGE_ROOT) -> dict[str, str]:
    """``{dotted module name: file path}`` of every module of the package."""
    modules = {}
    parent = os.path.dirname(root)
    for folder, _, files in os.walk(root):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            dotted = os.path.relpath(path, parent)[: -len(".py")].replace(os.sep, ".")
            if dotted.endswith(".__init__"):
                dotted = dotted[: -len(".__init__")]
            modules[dotted] = path
    return modules


def imports_of(
    source: str, module: str, is_package: bool, known: set[str]
) -> list[tuple[int, str]]:
    """``(line, imported module)`` of every import in ``source`` (the module ``module``).
    ``from a import b`` names ``a.b`` when that is a module (in ``known``), else ``a``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = parts[: len(parts) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.append((node.lineno, candidate if candidate in known else target))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                or (
                    isinstance(node.func, ast.Name)
                    and node.func.id in ("import_module", "__import__")
                )
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def upward_imports(
    source: str, module: str, is_package: bool = False, known: set[str] | None = None
) -> list[str]:
    """One line per import in ``source`` that points up a layer:
    ``<module>:<line> imports <target> (<its layer>) from layer <module's layer>``."""
    here = layer_of(module)
    if here is None:
        raise ValueError(f"{module} has no layer: add it to MODULE_LAYERS in {__file__}")
    problems = []
    for line, target in imports_of(source, module, is_package, known or set()):
        there = layer_of(target)
        if there is None and target.startswith("timemory"):
            problems.append(f"{module}:{line} imports {target}, which has no layer")
        elif there is not None and LAYERS.index(there) > LAYERS.index(here):
            problems.append(
                f"{module}:{line} imports {target} ({there}) from layer {here}: "
                "register it with the lower layer instead"
            )
    return problems


# ------------------------------------------------------------------ the package


def test_every_module_has_a_layer():
    missing = [m for m in package_modules() if layer_of(m) is None]
    assert not missing, f"modules without a layer (add them to MODULE_LAYERS): {missing}"


def test_no_import_points_up_a_layer():
    modules = package_modules()
    known = set(modules) | {"timemory._core", "timemory._ert"}
    problems = []
    for module, path in sorted(modules.items()):
        with open(path, encoding="utf-8") as handle:
            source = handle.read()
        problems += upward_imports(source, module, path.endswith("__init__.py"), known)
    assert not problems, "imports that point up a layer:\n" + "\n".join(problems)


def test_the_walk_sees_the_whole_package():
    # a moved or renamed package must not silently leave the test with nothing to check
    modules = package_modules()
    for name in ("timemory", "timemory._lifecycle", "timemory._output._run", "timemory.mpi"):
        assert name in modules, name


# ------------------------------------------------------------------ the checker itself

KNOWN = {
    "timemory._core",
    "timemory._lifecycle",
    "timemory._output._run",
    "timemory.mpi",
    "timemory.plotting",
    "timemory.plotting.figure",
    "timemory.settings",
}


def _check(source: str, module: str, is_package: bool = False) -> list[str]:
    return upward_imports(textwrap.dedent(source), module, is_package, KNOWN)


def test_checker_reports_an_upward_import_inside_a_function():
    problems = _check(
        """
        import os

        def finish():
            from . import mpi
            mpi.finalize()
        """,
        "timemory._lifecycle",
    )
    assert problems == [
        "timemory._lifecycle:5 imports timemory.mpi (tools) from layer lifecycle: "
        "register it with the lower layer instead"
    ]


def test_checker_resolves_relative_and_absolute_forms():
    source = """
        from .. import _lifecycle
        from ..plotting import draw
        import timemory.mpi
        from timemory import plotting
        import importlib
        importlib.import_module("timemory.mpi")
        """
    problems = _check(source, "timemory._output._run")
    lines = [p.split(" ")[0] for p in problems]
    assert lines == [
        "timemory._output._run:2",
        "timemory._output._run:3",
        "timemory._output._run:4",
        "timemory._output._run:5",
        "timemory._output._run:7",
    ]
    assert "imports timemory._lifecycle (lifecycle) from layer output" in problems[0]
    assert "imports timemory.plotting (tools) from layer output" in problems[1]


def test_checker_accepts_imports_down_and_beside():
    source = """
        from .. import _core, _lifecycle, settings
        from ..plotting import figure
        from . import _state
        """
    assert _check(source, "timemory.mpi", is_package=True) == []


def test_checker_counts_the_package_itself_as_an_entry_point():
    # `from timemory import version` reads the package's __init__, the top of the layers
    assert _check("from .. import version\n", "timemory.roofline.ert") == [
        "timemory.roofline.ert:1 imports timemory (entry points) from layer tools: "
        "register it with the lower layer instead"
    ]


def test_checker_places_a_main_module_in_its_package_layer():
    assert layer_of("timemory.settings.__main__") == "base"
    assert _check("import timemory\n", "timemory.settings.__main__") == [
        "timemory.settings.__main__:1 imports timemory (entry points) from layer base: "
        "register it with the lower layer instead"
    ]


def test_checker_refuses_a_module_without_a_layer():
    with pytest.raises(ValueError, match="has no layer"):
        _check("import os\n", "elsewhere.module")


def test_a_module_nobody_placed_has_no_layer():
    # the package's layer is not a default for a new module under it
    assert layer_of("timemory.some_new_module") is None
    assert layer_of("timemory") == "entry points"
    assert layer_of("timemory.plotting._bars") == "tools"
