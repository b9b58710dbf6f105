"""marker: decorator and context manager recording into the call graph."""

from __future__ import annotations

import functools
import inspect
import os
import sys

import pytest
import timemory
from timemory import component, settings
from timemory.bundle import auto_tuple, marker
from timemory.storage import PeakRssStorage, WallClockStorage


def labels(storage=WallClockStorage):
    return [e.prefix() for e in storage.get()]


# ------------------------------------------------------------------ decorator labels
# Defined at module level, where __qualname__ is the plain dotted name.


@marker(["wall_clock"])
def decorated_work(clock):
    clock.advance(0.01)


class Worker:
    @marker(["wall_clock"])
    def run(self, x, *, y=1):
        return self, x, y


@marker(["wall_clock"], mode="full")
def traced_full():
    pass


@marker(["wall_clock"], key="phase")
def keyed_step():
    pass


@marker(["wall_clock"], add_args=True)
def add_with_args(a, b=2):
    return a + b


def test_decorator_label_is_the_qualname_and_counts_calls(fake_clock):
    for _ in range(3):
        decorated_work(fake_clock)
    entries = WallClockStorage.get()
    assert [e.prefix() for e in entries] == [">>> decorated_work"]
    assert entries[0].data().laps() == 3
    assert entries[0].data().get() == 0.03


def test_decorated_method_label_and_self_binding():
    w = Worker()
    me, x, y = w.run(5, y=7)
    assert me is w and (x, y) == (5, 7)
    me, _, _ = Worker.run(w, 1)
    assert me is w
    assert labels() == [">>> Worker.run"]
    assert WallClockStorage.get()[0].data().laps() == 2


def test_full_mode_label_has_file_and_line():
    traced_full()
    # the decoration site: the line of the decorator (what co_firstlineno reports) or of the def
    first_line = inspect.getsourcelines(traced_full.__wrapped__)[1]
    expected = {
        f">>> traced_full@{os.path.basename(__file__)}:{n}" for n in (first_line, first_line + 1)
    }
    assert labels()[0] in expected


def test_decorator_key_is_appended():
    keyed_step()
    assert labels() == [">>> keyed_step/phase"]


def test_decorator_blank_mode_label_is_the_key():
    @marker(["wall_clock"], key="just-the-key", mode="blank")
    def local():
        pass

    local()
    assert labels() == [">>> just-the-key"]


def test_decorator_add_args_labels_each_call():
    add = add_with_args
    assert add(1) == 3
    assert add(1, b=5) == 6
    assert add(1) == 3
    got = {e.prefix(): e.data().laps() for e in WallClockStorage.get()}
    name = "add_with_args"
    assert got == {f">>> {name}(a=1, b=2)": 2, f">>> {name}(a=1, b=5)": 1} or got == {
        f">>> {name}(a=1)": 2,
        f">>> {name}(a=1, b=5)": 1,
    }


def test_functools_metadata_is_kept():
    def original(a, b):
        """Adds."""
        return a + b

    wrapped = marker(["wall_clock"])(original)
    assert wrapped.__name__ == "original"
    assert wrapped.__qualname__ == original.__qualname__
    assert wrapped.__doc__ == "Adds."
    assert wrapped.__wrapped__ is original
    assert wrapped.__module__ == original.__module__
    assert inspect.signature(wrapped) == inspect.signature(original)
    assert wrapped(2, 3) == 5


def test_decorated_function_that_raises_still_records(fake_clock):
    @marker(["wall_clock"])
    def fails():
        fake_clock.advance(0.02)
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        fails()
    entry = WallClockStorage.get()[0]
    assert entry.data().laps() == 1
    assert entry.data().get() == 0.02


def test_decorated_return_value_and_arguments_pass_through():
    @marker(["wall_clock", "peak_rss"])
    def echo(*args, **kwargs):
        return args, kwargs

    assert echo(1, 2, k="v") == ((1, 2), {"k": "v"})


# ------------------------------------------------------------------ context manager labels


def test_context_manager_label_is_the_key(fake_clock):
    with marker(["wall_clock"], key="block") as m:
        fake_clock.advance(0.05)
    assert isinstance(m, marker)
    entries = WallClockStorage.get()
    assert [e.prefix() for e in entries] == [">>> block"]
    assert entries[0].data().get() == 0.05


def test_context_manager_empty_key_uses_the_enclosing_function():
    def enclosing_function():
        with marker(["wall_clock"]):
            pass

    enclosing_function()
    assert labels() == [">>> enclosing_function"]


def test_context_manager_full_mode():
    with marker(["wall_clock"], key="k", mode="full"):
        line = sys._getframe().f_lineno
    got = labels()[0]
    name = "test_context_manager_full_mode"
    base = os.path.basename(__file__)
    assert got in {f">>> {name}@{base}:{line - 1}/k", f">>> {name}@{base}:{line}/k"}


def test_context_manager_basic_mode():
    with marker(["wall_clock"], key="k", mode="basic"):
        pass
    assert labels() == [">>> test_context_manager_basic_mode/k"]


def test_context_manager_add_args():
    def function_with_args(x, y="z"):
        with marker(["wall_clock"], key="blk", add_args=True):
            pass

    function_with_args(7)
    assert labels() == [">>> blk(x=7, y='z')"]


def test_context_manager_exception_propagates_and_time_is_recorded(fake_clock):
    with pytest.raises(ZeroDivisionError):
        with marker(["wall_clock"], key="raises"):
            fake_clock.advance(0.02)
            1 / 0  # noqa: B018
    entry = WallClockStorage.get()[0]
    assert entry.prefix() == ">>> raises"
    assert entry.data().laps() == 1
    assert entry.data().get() == 0.02
    # the call graph is back at the top: a new marker is not nested under the failed one
    with marker(["wall_clock"], key="after"):
        pass
    assert [(e.prefix(), e.depth()) for e in WallClockStorage.get()] == [
        (">>> raises", 0),
        (">>> after", 0),
    ]


def test_exit_does_not_suppress():
    m = marker(["wall_clock"], key="x")
    m.__enter__()
    assert m.__exit__(ValueError, ValueError("v"), None) in (False, None)


# ------------------------------------------------------------------ components argument


COMPONENT_SPECS = [
    pytest.param(["wall_clock", "peak_rss"], id="strings"),
    pytest.param(["WALL_CLOCK", "peak_rss"], id="enum-strings"),
    pytest.param(["real_clock", "peak_rss"], id="alias"),
    pytest.param([component.wall_clock, component.id.peak_rss], id="enum-values"),
    pytest.param([component.WallClock.index(), int(component.PeakRss.index())], id="ints"),
    pytest.param([component.WallClock, component.PeakRss], id="classes"),
    pytest.param(lambda: ["wall_clock", "peak_rss"], id="callable"),
    pytest.param([lambda: ["wall_clock"], "peak_rss"], id="list-with-callable"),
    pytest.param(("wall_clock", "peak_rss"), id="tuple"),
]


@pytest.mark.parametrize("spec", COMPONENT_SPECS)
def test_components_forms(spec):
    with marker(spec, key="forms"):
        pass

    @marker(spec, key="decorated", mode="blank")
    def decorated():
        pass

    decorated()
    decorated()
    assert sorted(timemory.get()["timemory"]) == ["peak_rss", "wall_clock"]
    for storage in (WallClockStorage, PeakRssStorage):
        got = [(e.prefix(), e.data().laps()) for e in storage.get()]
        assert got == [(">>> forms", 1), (">>> decorated", 2)]


def test_callable_components_are_evaluated_at_each_use():
    chosen = ["wall_clock"]
    m = marker(lambda: list(chosen), key="lazy")
    with m:
        pass
    chosen[:] = ["peak_rss"]
    with m:
        pass
    assert [e.data().laps() for e in WallClockStorage.get()] == [1]
    assert [e.data().laps() for e in PeakRssStorage.get()] == [1]


def test_listing_a_component_twice_measures_it_once():
    with marker(["wall_clock", "wall_clock", "real_clock"], key="dup"):
        pass
    assert [e.data().laps() for e in WallClockStorage.get()] == [1]


@pytest.mark.parametrize(
    "spec", [["no_such_component"], ["wall_clock", "no_such_component"], "no_such_component"]
)
def test_unknown_component_is_a_value_error_naming_the_choices(spec):
    with pytest.raises(ValueError) as info:
        marker(spec, key="k")
    message = str(info.value)
    assert "no_such_component" in message
    assert "wall_clock" in message and "cpu_clock" in message


def test_unknown_component_from_a_callable_fails_at_use():
    m = marker(lambda: ["no_such_component"], key="k")
    with pytest.raises(ValueError, match="wall_clock"):
        with m:
            pass
    assert timemory.get() == {"timemory": {}}


def test_bad_component_type_is_a_type_error():
    with pytest.raises(TypeError):
        marker([3.5])


def test_bad_mode_is_rejected():
    with pytest.raises(ValueError, match="basic"):
        marker(["wall_clock"], mode="sideways")


def test_auto_tuple_is_marker():
    assert auto_tuple is marker


# ------------------------------------------------------------------ nesting and recursion


def test_nested_markers_build_the_tree():
    def run():
        with marker(["wall_clock"], key="outer"):
            with marker(["wall_clock"], key="a"):
                with marker(["wall_clock"], key="leaf"):
                    pass
            with marker(["wall_clock"], key="b"):
                pass
            with marker(["wall_clock"], key="a"):
                pass

    run()
    run()
    got = [(e.prefix(), e.depth(), e.data().laps()) for e in WallClockStorage.get()]
    assert got == [
        (">>> outer", 0, 2),
        (">>> |_a", 1, 4),
        (">>>   |_leaf", 2, 2),
        (">>> |_b", 1, 2),
    ]


def test_same_label_under_different_parents_are_different_nodes():
    with marker(["wall_clock"], key="p1"):
        with marker(["wall_clock"], key="same"):
            pass
    with marker(["wall_clock"], key="p2"):
        with marker(["wall_clock"], key="same"):
            pass
    with marker(["wall_clock"], key="same"):
        pass
    assert labels() == [">>> p1", ">>> |_same", ">>> p2", ">>> |_same", ">>> same"]


def test_reentering_the_same_marker_object_recursively(fake_clock):
    m = marker(["wall_clock"], key="rec")

    def recurse(n):
        with m:
            fake_clock.advance(0.002)
            if n:
                recurse(n - 1)

    recurse(3)
    recurse(1)
    got = [(e.prefix(), e.depth(), e.data().laps()) for e in WallClockStorage.get()]
    assert got == [
        (">>> rec", 0, 2),
        (">>> |_rec", 1, 2),
        (">>>   |_rec", 2, 1),
        (">>>     |_rec", 3, 1),
    ]
    # each level includes the levels below it
    # (ns) rec(3): 8, 6, 4, 2 ms by level; rec(1): 4, 2 ms
    values = [e.data().get_raw() for e in WallClockStorage.get()]
    assert values == [12e6, 8e6, 4e6, 2e6]


def test_same_marker_object_reused_sequentially():
    m = marker(["wall_clock"], key="again")
    for _ in range(5):
        with m:
            pass
    assert [(e.prefix(), e.data().laps()) for e in WallClockStorage.get()] == [(">>> again", 5)]


def test_decorated_recursion_is_nested():
    @marker(["wall_clock"])
    def down(n):
        if n:
            down(n - 1)

    down(2)
    assert [e.depth() for e in WallClockStorage.get()] == [0, 1, 2]


# ------------------------------------------------------------------ enabled


def test_disabled_records_nothing(monkeypatch):
    @marker(["wall_clock"])
    def work():
        return 42

    monkeypatch.setattr(settings, "enabled", False)
    with marker(["wall_clock"], key="off"):
        pass
    assert work() == 42
    assert timemory.size(["wall_clock"]) == {int(component.WallClock.index()): 0}
    assert timemory.get() == {"timemory": {}}
    monkeypatch.setattr(settings, "enabled", True)
    with marker(["wall_clock"], key="on"):
        pass
    assert labels() == [">>> on"]


def test_toggle_functions_gate_markers(monkeypatch):
    monkeypatch.setattr(settings, "enabled", True)
    timemory.disable()
    assert timemory.is_enabled() is False
    with marker(["wall_clock"], key="off"):
        pass
    timemory.enable()
    assert timemory.is_enabled() is True
    with marker(["wall_clock"], key="on"):
        pass
    timemory.toggle(False)
    assert settings.enabled is False
    timemory.toggle(True)
    assert labels() == [">>> on"]


def test_marker_objects_are_collected():
    import gc
    import weakref

    m = marker(["wall_clock"], key="gone")
    ref = weakref.ref(m)
    with m:
        pass
    del m
    gc.collect()
    assert ref() is None


def test_decorated_function_wrapper_is_collected():
    import gc
    import weakref

    def f():
        pass

    wrapped = marker(["wall_clock"])(f)
    ref = weakref.ref(wrapped)
    wrapped()
    del wrapped
    gc.collect()
    assert ref() is None


def test_functools_partial_is_decoratable():
    def add(a, b):
        return a + b

    wrapped = marker(["wall_clock"], key="p")(functools.partial(add, 1))
    assert wrapped(2) == 3
    assert len(WallClockStorage.get()) == 1


def test_key_must_be_a_string():
    with pytest.raises(TypeError, match="str"):
        marker(["wall_clock"], key=3)
