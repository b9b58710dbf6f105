"""Every setting is declared once, in the table of timemory/settings/__init__.py, and what is
derived from it (the properties, the environment variables, the options, what the native core
mirrors, the annotations type checkers read, docs/settings.md) agrees with it."""

from __future__ import annotations

import argparse
import ast
import collections
import importlib.util
import pathlib

import pytest
from timemory import _core, settings

REPO = pathlib.Path(__file__).resolve().parents[2]
SOURCE = REPO / "python" / "timemory" / "settings" / "__init__.py"
TOOL = REPO / "tools" / "generate_settings.py"
REGENERATE = "regenerate it with `python tools/generate_settings.py` (after `pip install -e .`)"
PYTHON_TYPES = {"bool": bool, "int": int, "float": float, "str": str, "list[str]": list}


def _tool():
    spec = importlib.util.spec_from_file_location("generate_settings", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _declarations() -> list[ast.Call]:
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_setting"
    ]


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg}


def test_every_setting_is_declared_exactly_once():
    names = [ast.literal_eval(call.args[0]) for call in _declarations()]
    twice = [name for name, n in collections.Counter(names).items() if n > 1]
    assert not twice, f"declared more than once: {twice}"
    assert names == [spec.name for spec in settings._SPEC_LIST]
    assert list(settings._SPECS) == names
    assert all(spec.category for spec in settings._SPEC_LIST)


def test_environment_variables_are_derived_from_the_name():
    explicit = {
        ast.literal_eval(call.args[0]) for call in _declarations() if "env" in _keywords(call)
    }
    for spec in settings._SPEC_LIST:
        if spec.name not in explicit:
            assert spec.env == f"TIMEMORY_{spec.name.upper()}", spec.name
        assert spec.env == "" or spec.env.startswith("TIMEMORY_"), spec.name
        if spec.env:
            assert settings._lookup(spec.env) == spec.name
    envs = [spec.env for spec in settings._SPEC_LIST if spec.env]
    assert len(envs) == len(set(envs)), "two settings read the same variable"


def test_options_are_derived_from_the_table():
    flags = [flag for spec in settings._SPEC_LIST for flag in spec.flags]
    assert len(flags) == len(set(flags)), "two settings have the same option"
    inst = settings()
    parser = argparse.ArgumentParser()
    settings.add_arguments(parser, inst, subparser=False)
    options = parser._option_string_actions
    for spec in settings._SPEC_LIST:
        for flag in spec.flags:
            assert options[flag].dest == f"timemory_{spec.name}"
        if not spec.flags:
            assert f"--timemory-{spec.name.replace('_', '-')}" not in options


def test_mirror_flags_match_what_the_native_core_reads():
    mirrored = [spec.name for spec in settings._SPEC_LIST if spec.mirrored]
    assert settings._MIRRORED == tuple(mirrored)
    for spec in settings._SPEC_LIST:
        if spec.mirrored:
            # the current value again: a KeyError says the core does not read this key
            for key, value in settings._mirror_pairs(settings._GLOBAL, spec.name):
                _core.config_set(key, value)
        else:
            with pytest.raises(KeyError, match="unknown core setting"):
                _core.config_set(spec.name, settings._GLOBAL._values[spec.name])


def test_a_mirrored_setting_reaches_the_core():
    saved = settings.max_depth
    try:
        settings.max_depth = 17
        assert _core.config_get("max_depth") == 17
    finally:
        settings.max_depth = saved
    assert _core.config_get("max_depth") == saved


def _annotation_blocks() -> list[dict[str, str]]:
    """The generated ``name: type`` blocks (the module's and the Settings class's)."""
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    blocks = []
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            found = {
                stmt.target.id: ast.unparse(stmt.annotation)
                for stmt in node.body
                if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)
            }
            if found:
                blocks.append(found)
    return blocks


def test_type_checkers_see_every_setting_with_the_type_of_its_value():
    blocks = _annotation_blocks()
    assert len(blocks) == 2, "expected the module's block and the Settings class's block"
    copy = settings()
    for block in blocks:
        assert list(block) == list(settings._SPECS)
        for name, annotation in block.items():
            assert isinstance(getattr(settings, name), PYTHON_TYPES[annotation]), name
            assert isinstance(getattr(copy, name), PYTHON_TYPES[annotation]), name


def test_generated_annotations_are_current():
    tool = _tool()
    expected = tool.expected()[tool.SETTINGS_SOURCE]
    assert SOURCE.read_text(encoding="utf-8") == expected, (
        f"the annotation blocks of {SOURCE.relative_to(REPO)} are out of date: {REGENERATE}"
    )


def test_settings_doc_is_current():
    tool = _tool()
    doc = pathlib.Path(tool.SETTINGS_DOC)
    current = doc.read_text(encoding="utf-8") if doc.exists() else ""
    assert current == tool.expected()[tool.SETTINGS_DOC], (
        f"{doc.relative_to(REPO)} is out of date: {REGENERATE}"
    )


def test_settings_doc_has_one_row_per_setting():
    text = _tool().docs(settings._SPEC_LIST)
    for spec in settings._SPEC_LIST:
        rows = [line for line in text.splitlines() if line.startswith(f"| `{spec.name}` |")]
        assert len(rows) == 1, spec.name
        cells = [cell.strip() for cell in rows[0].strip("|").split(" | ")]
        assert cells[1] == (f"`{spec.env}`" if spec.env else "none")
        assert cells[5] == ("yes" if spec.mirrored else "no")
    # the defaults computed at import are described, not shown: the page is the same anywhere
    assert "the id of the process that imports timemory" in text
