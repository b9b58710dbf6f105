"""The seam between the package and its native core goes one way: the native side is handed
the Python helpers it calls (_core._set_callbacks) instead of importing timemory modules by
name, and the native hooks are handed component indices that Python resolved once."""

from __future__ import annotations

import os
import re

import pytest
from timemory import _core
from timemory._components import resolve

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "source")
WALL_CLOCK = _core.find_component("wall_clock")


def _native_sources():
    for folder, _, files in os.walk(SOURCE):
        for name in files:
            if name.endswith((".cpp", ".hpp", ".inc")):
                yield os.path.join(folder, name)


def test_the_native_side_imports_no_timemory_module():
    if not os.path.isdir(SOURCE):
        pytest.skip("run from a source checkout")
    pattern = re.compile(r'PyImport_Import\w*\(\s*"timemory|py::module_::import\(\s*"timemory')
    found = []
    for path in _native_sources():
        with open(path, encoding="utf-8") as f:
            found += [f"{path}: {line.strip()}" for line in f if pattern.search(line)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "start",
    [
        lambda spec: _core.profiler_start(spec, lambda code: None),
        lambda spec: _core.tracer_start(spec, lambda code: None),
        _core.region_set_components,
        _core.line_profiler_component,
    ],
    ids=["profiler", "tracer", "region", "line_profiler"],
)
def test_the_hooks_take_resolved_indices_only(start):
    with pytest.raises(TypeError, match="resolve names first"):
        start(["wall_clock"])
    with pytest.raises(TypeError, match="list of component indices"):
        start("wall_clock")
    with pytest.raises(ValueError, match="Unknown component index 100000"):
        start([100000])
    with pytest.raises(ValueError, match="Unknown component index"):
        start([2**40 + WALL_CLOCK])  # not wrapped into range
    assert not _core.profiler_active() and not _core.tracer_active()


def test_line_profiler_component_checks_the_indices_it_is_handed():
    assert _core.line_profiler_component(resolve("wall_clock")) == WALL_CLOCK
    assert _core.line_profiler_component((WALL_CLOCK, WALL_CLOCK)) == WALL_CLOCK  # repeats drop
    with pytest.raises(ValueError, match="measures one component, not 2"):
        _core.line_profiler_component(resolve("wall_clock, cpu_clock"))


def test_the_resolver_refuses_an_int_out_of_range():
    assert _core.resolve_components(WALL_CLOCK) == [WALL_CLOCK]
    with pytest.raises(ValueError, match="Unknown component index"):
        _core.resolve_components(2**32 + WALL_CLOCK)


def test_set_callbacks_checks_before_it_sets():
    from timemory.bundle import marker

    with pytest.raises(TypeError, match="component_class must be callable or None"):
        _core._set_callbacks(format_call_args=None, component_class=42)
    with pytest.raises(TypeError):
        _core._set_callbacks(print)  # keywords only

    # the formatter timemory.bundle registered is still in place
    @marker(["wall_clock"], add_args=True)
    def f(n):
        return n

    assert f(3) == 3
    batch = _core.flat_snapshot(WALL_CLOCK)
    assert any("f(n=3)" in batch.label(i) for i in range(len(batch)))


def test_add_args_labels_use_the_registered_formatter():
    from timemory.bundle import _format_call_args, marker

    seen = []

    def formatter(func, args, kwargs):
        seen.append(args)
        return _format_call_args(func, args, kwargs)

    _core._set_callbacks(format_call_args=formatter)
    try:

        @marker(["wall_clock"], key="seam", add_args=True)
        def g(n):
            return n * 2

        assert g(4) == 8
    finally:
        _core._set_callbacks(format_call_args=_format_call_args)
    assert seen == [(4,)]


def test_stored_values_are_of_their_component_class(run_python):
    # a fresh process, where no component class has been made yet
    result = run_python(
        """
        import sys
        from timemory import _core

        index = _core.find_component("peak_rss")
        # before timemory.component is imported: the base class, and no import by name
        value = _core.entry_component(index, _core.Entry())
        print(type(value).__name__, "timemory.component" in sys.modules)

        import timemory.component as component

        assert index not in component._CLASSES
        # the native side asks the class maker timemory.component registered
        value = _core.entry_component(index, _core.Entry())
        print(type(value).__name__, type(value) is component._CLASSES[index])
        print(isinstance(value, _core.Component), value.get() is not None)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:3] == ["Component False", "PeakRss True", "True True"]
