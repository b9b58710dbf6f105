"""The type stubs of the native modules (timemory/_core.pyi, timemory/_ert.pyi) name exactly
what the modules hold: every name of the module is in its stub and every name of the stub is
in the module, for the module and for each of its classes; and a function's parameters are
named as the module's own signature names them."""

from __future__ import annotations

import ast
import importlib
import os
import re

import pytest
import timemory

PACKAGE = os.path.dirname(timemory.__file__)


def _stub(module: str) -> ast.Module:
    with open(os.path.join(PACKAGE, f"{module}.pyi"), encoding="utf-8") as f:
        return ast.parse(f.read())


def _declared(body: list[ast.stmt]) -> dict[str, ast.stmt]:
    """What a stub body declares: functions, classes and annotated names. Plain assignments
    are the stub's own type aliases (``_T = TypeVar(...)``), not names of the module."""
    out: dict[str, ast.stmt] = {}
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def _public(names: list[str]) -> set[str]:
    # pybind11 gives every class a `_pybind11_conduit_v1_` of its own
    return {n for n in names if not n.startswith("__") and n != "_pybind11_conduit_v1_"}


def _differences(stub: set[str], actual: set[str], where: str) -> list[str]:
    out = []
    if actual - stub:
        out.append(f"{where}: not in the stub: {sorted(actual - stub)}")
    if stub - actual:
        out.append(f"{where}: in the stub but not in the module: {sorted(stub - actual)}")
    return out


def _split_params(text: str) -> list[str]:
    """The top-level comma-separated items of a parameter list."""
    items, depth, current = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            items.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        items.append(current)
    return [item.strip() for item in items]


def _documented_params(obj: object, name: str) -> list[str] | None:
    """Parameter names from the first docstring line, ``name(a, b: int = 1, *args)``, as
    pybind11 writes it and as the C-API functions here write theirs; None when the line is
    no signature or names its parameters argN (pybind11 without py::arg)."""
    doc = (getattr(obj, "__doc__", None) or "").splitlines()
    if not doc or not doc[0].startswith(name + "("):
        return None
    depth, end = 0, -1
    for i, ch in enumerate(doc[0][len(name) :]):
        depth += {"(": 1, "[": 1, ")": -1, "]": -1}.get(ch, 0)
        if depth == 0:
            end = len(name) + i
            break
    if end < 0:
        return None
    names = []
    for item in _split_params(doc[0][len(name) + 1 : end]):
        param = re.split(r"[:=]", item, maxsplit=1)[0].strip().lstrip("*")
        if param and param not in ("/", "self"):
            names.append(param)
    if any(re.fullmatch(r"arg\d+", n) for n in names):
        return None
    return names


def _stub_params(node: ast.FunctionDef) -> list[str]:
    a = node.args
    names = [p.arg for p in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    if a.vararg:
        names.insert(len(a.posonlyargs) + len(a.args), a.vararg.arg)
    if a.kwarg:
        names.append(a.kwarg.arg)
    return [n for n in names if n != "self"]


@pytest.mark.parametrize("module", ["_core", "_ert"])
def test_stub_names_match_the_module(module):
    native = importlib.import_module(f"timemory.{module}")
    declared = _declared(_stub(module).body)
    problems = _differences(set(declared), _public(dir(native)), f"timemory.{module}")
    for name, node in declared.items():
        if isinstance(node, ast.ClassDef) and hasattr(native, name):
            members = set(_declared(node.body))
            cls = getattr(native, name)
            problems += _differences(
                _public(list(members)), _public(dir(cls)), f"timemory.{module}.{name}"
            )
            # the special methods the stub declares exist too (__len__, __enter__...)
            missing = sorted(m for m in members if m.startswith("__") and not hasattr(cls, m))
            if missing:
                problems.append(f"timemory.{module}.{name}: no {missing}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", ["_core", "_ert"])
def test_stub_parameters_match_the_module(module):
    native = importlib.import_module(f"timemory.{module}")
    problems = []
    checked = 0
    for name, node in _declared(_stub(module).body).items():
        if not isinstance(node, ast.FunctionDef) or not hasattr(native, name):
            continue
        documented = _documented_params(getattr(native, name), name)
        if documented is None:
            continue
        checked += 1
        if documented != _stub_params(node):
            problems.append(f"{module}.{name}: module {documented}, stub {_stub_params(node)}")
    assert checked >= 3, "no signature was read: the docstring format changed"
    assert not problems, "\n".join(problems)


def test_the_comparison_sees_a_difference():
    # the helpers report both directions, so a stale stub cannot pass unnoticed
    problems = _differences({"a", "b"}, {"b", "c"}, "m")
    assert problems == ["m: not in the stub: ['c']", "m: in the stub but not in the module: ['a']"]
    tree = ast.parse("x: int\n_T = 1\ndef f(a, /, b, *c, d, **e): ...\nclass K: ...\n")
    declared = _declared(tree.body)
    assert sorted(declared) == ["K", "f", "x"]
    assert _stub_params(declared["f"]) == ["a", "b", "c", "d", "e"]  # type: ignore[arg-type]
