"""Python-defined components (timemory.component.Base) in the measuring API: markers (context
manager, decorator, shared by threads, nested, recursive), component_bundle,
component_decorator, timemory.region, by class, by label and by "module:Class"; the combine
rules; tuple and sampled values; units; the checks at registration; the errors of a
component's own methods.

The values are read from the native storage (``_core.flat_snapshot``), so these tests do not
depend on the outputs. The components return known numbers: nothing here depends on time.
Registered classes stay registered for the whole process (the table has 64 slots): the test
that fills them runs in a program of its own.
"""

from __future__ import annotations

import collections
import importlib
import sys
import textwrap
import threading

import pytest
from timemory import _core, component, region
from timemory.bundle import component_bundle, component_decorator, marker
from timemory.component import Base, register

WALL_CLOCK = _core.find_component("wall_clock")


def recorded(cls):
    """Laps recorded for ``cls``: a dropped component's nodes hold none (the node of the
    marker it failed in stays, a placeholder with no count)."""
    return sum(laps for laps, _ in entries_of(cls))


def entries_of(cls):
    out = []
    for v in values(cls).values():
        out += v if isinstance(v, list) else [v]
    return out


def values(cls_or_index):
    """label -> (laps, accum) of a component's flat entries on every thread (a list of them
    when a label is on several entries: threads, depths)."""
    index = cls_or_index if isinstance(cls_or_index, int) else cls_or_index._index
    n = _core.component_info(index)["n_raw"]
    batch = _core.flat_snapshot(index)
    out = {}
    for i in range(len(batch)):
        entry = batch.entry(i).entry
        out.setdefault(batch.label(i), []).append((entry.laps, list(entry.accum)[:n]))
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


class Counter(Base):
    """Counts its measurements: the value of one is what ``feed`` says next."""

    label = "test_counter"
    feed: collections.deque = collections.deque()
    live: set = set()  # ids of the objects in a measurement now
    most_live = 0

    def start(self):
        assert id(self) not in Counter.live, "one object measured two intervals at once"
        Counter.live.add(id(self))
        Counter.most_live = max(Counter.most_live, len(Counter.live))

    def stop(self):
        Counter.live.discard(id(self))

    def get(self):
        return Counter.feed.popleft() if Counter.feed else 1


def feed(cls, *numbers):
    cls.feed.clear()
    cls.feed.extend(numbers)


@pytest.fixture(scope="module", autouse=True)
def _registered():
    # registered when these tests run, not when the module is collected: a registration
    # lasts for the process, and the other modules' tests run before them with none
    for cls in (Counter, Pair, Level, StopSays, StopOnly, StaticGet, *RULES.values()):
        register(cls)


@pytest.fixture(autouse=True)
def _fresh_counter(_registered):
    # every registered component's storage, emptied directly: what timemory.clear() empties
    # is the outputs' part of the work
    for cls in component.registered().values():
        _core.clear(cls._index)
    Counter.feed.clear()
    Counter.live.clear()
    Counter.most_live = 0
    yield


# ------------------------------------------------------------------ where a component goes


def test_marker_by_class_label_and_mixed_with_native(fake_clock):
    feed(Counter, 3, 4)
    with marker([Counter, "wall_clock"], key="by_class"):
        fake_clock.advance(0.5)
    with marker(["test_counter"], key="by_label"):
        pass
    assert values(Counter) == {"by_class": (1, [3.0]), "by_label": (1, [4.0])}
    assert values(WALL_CLOCK) == {"by_class": (1, [0.5e9])}


def test_marker_by_import_path_registers_the_class(tmp_path, monkeypatch):
    (tmp_path / "pycomp_mod.py").write_text(
        textwrap.dedent(
            """
            from timemory.component import Base

            class Depth(Base):
                label = "pycomp_depth"
                combine = "max"
                def get(self):
                    return 7
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with marker(["pycomp_mod:Depth", "wall_clock"], key="k"):
        pass
    cls = sys.modules["pycomp_mod"].Depth
    assert cls._index is not None and component.registered()["pycomp_depth"] is cls
    assert values(cls) == {"k": (1, [7.0])}
    # reloading the module makes a new class of the same label: it keeps the slot
    old = cls._index
    importlib.reload(sys.modules["pycomp_mod"])
    new = sys.modules["pycomp_mod"].Depth
    assert new is not cls and register(new)._index == old
    with marker([new], key="k"):
        pass
    assert values(old) == {"k": (2, [7.0])}


def test_decorator_and_recursion_give_each_interval_its_own_object():
    @marker([Counter])
    def recurse(n):
        if n:
            recurse(n - 1)

    recurse(3)
    # four intervals open at once, each with an object of its own; one node per depth
    assert Counter.most_live == 4 and not Counter.live
    batch = _core.flat_snapshot(Counter._index)
    assert sorted(batch.depth(i) for i in range(len(batch))) == [0, 1, 2, 3]
    assert all(batch.entry(i).entry.laps == 1 for i in range(len(batch)))


def test_nested_markers_of_one_marker_object():
    m = marker([Counter], key="same")
    feed(Counter, 10, 20)
    with m:
        with m:
            assert Counter.most_live == 2
    tree = _core.tree_snapshot(Counter._index)
    (root,) = tree.roots()
    labels, stack = [], [root]
    while stack:
        i = stack.pop()
        if tree.hash(i):
            labels.append((tree.label(i), tree.inclusive(i).accum[0]))
        stack += tree.children(i)
    # the inner interval stops first: it took the first value
    assert labels == [("same", 20.0), ("same", 10.0)]


def test_threads_measure_with_their_own_objects():
    per_thread = 50
    barrier = threading.Barrier(4)

    def work():
        barrier.wait()
        for _ in range(per_thread):
            with marker([Counter, "wall_clock"], key="t"):
                pass

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = values(Counter)["t"]
    entries = entries if isinstance(entries, list) else [entries]
    assert sum(laps for laps, _ in entries) == 4 * per_thread
    assert sum(accum[0] for _, accum in entries) == 4 * per_thread  # get() returns 1
    assert not Counter.live


def test_a_marker_shared_by_threads():
    shared = marker([Counter], key="shared")
    inside = threading.Barrier(3)

    def work():
        with shared:
            inside.wait()  # all three intervals are open at once
        for _ in range(20):
            with shared:
                pass

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    entries = values(Counter)["shared"]
    entries = entries if isinstance(entries, list) else [entries]
    assert sum(laps for laps, _ in entries) == 3 * 21
    assert Counter.most_live >= 3 and not Counter.live


def test_component_bundle_and_component_decorator():
    feed(Counter, 2, 5)
    component_bundle.configure([Counter, "wall_clock"])
    try:
        b = component_bundle("f", "file.py", 1)
        b.start()
        b.stop()
    finally:
        component_bundle.reset()
    d = component_decorator(["test_counter"], "deco")
    d.stop()
    assert values(Counter) == {"f@file.py:1": (1, [2.0]), "deco": (1, [5.0])}


def test_region_push_pop_with_a_python_component():
    feed(Counter, 6)
    region.push_components([Counter, "wall_clock"])
    try:
        region.push("reg")
        region.pop("reg")
    finally:
        region.pop_components()
    assert values(Counter) == {"reg": (1, [6.0])}
    assert values(WALL_CLOCK)["reg"][0] == 1


# ------------------------------------------------------------------ values and rules


def _rule_class(rule):
    class Rule(Base):
        label = f"test_rule_{rule}"
        combine = rule
        feed: collections.deque = collections.deque()

        def get(self):
            return type(self).feed.popleft()

    return Rule


RULES = {rule: _rule_class(rule) for rule in ("sum", "max", "min", "last")}


@pytest.mark.parametrize(
    ("rule", "expected"), [("sum", 15.0), ("max", 7.0), ("min", 3.0), ("last", 5.0)]
)
def test_combine_rules_on_repeated_calls(rule, expected):
    cls = RULES[rule]
    feed(cls, 3, 7, 5)

    @marker([cls])
    def call():
        pass

    for _ in range(3):
        call()
    assert values(cls) == {"test_combine_rules_on_repeated_calls.call": (3, [expected])}
    table_rule = {"sum": "sum", "max": "max", "min": "min", "last": "latest"}[rule]
    assert _core.component_info(cls._index)["combine"] == table_rule


class Pair(Base):
    """Two numbers at once."""

    label = "test_pair"
    names = ("sent", "received")
    unit = "bytes"
    display_unit = "kB"
    scale = 1000.0

    def get(self):
        return (1000, 250.0)


class Level(Base):
    label = "test_level"
    combine = "max"
    level = 0

    def sample(self):
        return Level.level


class StopSays(Base):
    label = "test_stop_says"
    gets = 0

    def stop(self):
        return 42

    def get(self):
        StopSays.gets += 1
        return 0


class StopOnly(Base):
    """No get(): stop() returns the value (None once: then the missing get() is the error)."""

    label = "test_stop_only"
    results = collections.deque()

    def stop(self):
        return StopOnly.results.popleft()


def test_tuple_values_with_names_and_units():
    with marker([Pair], key="io"):
        pass
    with marker([Pair], key="io"):
        pass
    assert values(Pair) == {"io": (2, [2000.0, 500.0])}
    info = _core.component_info(Pair._index)
    assert info["user"] and info["sub_labels"] == ["sent", "received"]
    assert info["description"] == "Two numbers at once."
    divisors, reprs = _core.unit_info(Pair._index)
    assert list(divisors) == [1000.0, 1000.0] and list(reprs) == ["kB", "kB"]
    # timemory.component's table holds the row too
    assert component._BY_INDEX[Pair._index]["key"] == "test_pair"


def test_sample_only_component_reads_at_stop():
    with marker([Level], key="a"):
        Level.level = 9
    with marker([Level], key="a"):
        Level.level = 4
    assert values(Level) == {"a": (2, [9.0])}


def test_stop_returning_the_value_saves_get(capfd):
    with marker([StopSays], key="s"):
        pass
    assert values(StopSays) == {"s": (1, [42.0])} and StopSays.gets == 0
    StopOnly.results.extend([3, None, 5])
    for _ in range(3):
        with marker([StopOnly], key="s"):
            pass
    assert values(StopOnly) == {"s": (1, [3.0])}
    assert (
        "component 'test_stop_only' (tests.test_user_components.StopOnly): get() raised "
        "NotImplementedError: StopOnly.stop() returned no value and the class defines no get()"
    ) in capfd.readouterr().err


def test_a_method_replaced_on_the_class_is_the_one_called(monkeypatch):
    with marker([Counter], key="k"):
        pass
    monkeypatch.setattr(Counter, "get", lambda self: 99)
    with marker([Counter], key="k"):
        pass
    monkeypatch.undo()
    with marker([Counter], key="k"):
        pass
    assert values(Counter) == {"k": (3, [1.0 + 99.0 + 1.0])}


class StaticGet(Base):
    """A get() that is not a plain function: called the ordinary way."""

    label = "test_static_get"
    get = staticmethod(lambda: 11)


def test_methods_that_are_not_plain_functions():
    with marker([StaticGet], key="k"):
        pass
    assert values(StaticGet) == {"k": (1, [11.0])}


# ------------------------------------------------------------------ checks at registration


def _one_line_error(cls, kind):
    with pytest.raises(kind) as err:
        register(cls)
    text = str(err.value)
    assert "\n" not in text
    return text


def test_register_refuses_bad_classes_in_one_line():
    class BadLabel(Base):
        label = "has space"

        def get(self):
            return 1

    assert "label 'has space'" in _one_line_error(BadLabel, ValueError)

    class BuiltIn(Base):
        label = "wall_clock"

        def get(self):
            return 1

    assert "taken by a built-in component" in _one_line_error(BuiltIn, ValueError)

    class BadRule(Base):
        combine = "mean"

        def get(self):
            return 1

    text = _one_line_error(BadRule, ValueError)
    assert "'mean'" in text and "Valid choices are: sum, max, min, last" in text

    class BadNames(Base):
        names = ("a", 2)

        def get(self):
            return (1, 2)

    assert "names must be a tuple of str" in _one_line_error(BadNames, TypeError)

    class TooMany(Base):
        names = tuple(f"v{i}" for i in range(9))

        def get(self):
            return (0,) * 9

    assert "at most 8 values" in _one_line_error(TooMany, ValueError)

    class NoValue(Base):
        def start(self):
            pass

    assert "defines none of get(), sample() or stop()" in _one_line_error(NoValue, TypeError)
    with pytest.raises(TypeError, match="subclass of timemory.component.Base"):
        register(int)
    # none of them took a slot
    assert not {"bad_label", "built_in", "bad_rule", "bad_names", "too_many", "no_value"} & set(
        component.registered()
    )


def test_a_bad_class_in_a_marker_is_one_line():
    class BadRule2(Base):
        combine = "avg"

        def get(self):
            return 1

    with pytest.raises(ValueError, match="Valid choices are: sum, max, min, last"):
        marker([BadRule2], key="k")
    with pytest.raises(ValueError, match="cannot import 'no_such_module_xyz'"):
        marker(["no_such_module_xyz:Q"], key="k")
    with pytest.raises(ValueError, match="is not a subclass of timemory.component.Base"):
        marker(["collections:deque"], key="k")


def test_more_than_64_classes_are_refused(run_python):
    result = run_python(
        """
        from timemory.component import Base, register

        made = []
        for i in range(65):
            cls = type(f"C{i}", (Base,), {"label": f"c{i}", "get": lambda self: 1})
            try:
                register(cls)
            except RuntimeError as err:
                print(i, err)
                break
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "64 at most 64 Python-defined components can be registered"


# ------------------------------------------------------------------ errors in the methods


def _failing(method, how="raise"):
    def boom(self):
        if how == "raise":
            raise ValueError("boom")
        return "text" if how == "str" else None

    body = {"label": f"test_fail_{method}_{how}", "get": lambda self: 1}
    body["sample" if method == "sample" else method] = boom
    if method == "sample":
        del body["get"]
    if method == "__init__":
        body["__init__"] = lambda self: boom(self)
    return register(type(f"Fail_{method}_{how}", (Base,), body))


@pytest.mark.parametrize("method", ["__init__", "start", "stop", "get", "sample"])
def test_an_exception_in_a_method_drops_the_component_once(method, capfd):
    cls = _failing(method)
    feed(Counter, 5, 6, 7)
    for _ in range(3):
        with marker([cls, Counter, "wall_clock"], key="k"):
            pass
    err = capfd.readouterr().err
    label = f"test_fail_{method}_raise"
    lines = [line for line in err.splitlines() if label in line]
    assert lines == [
        f"timemory: component '{label}' ({cls.__module__}.{cls.__qualname__}): {method}() raised "
        "ValueError: boom; it is dropped from the measurement (the rest continues)"
    ]
    assert _core.user_component_failed(cls._index)
    assert recorded(cls) == 0
    assert values(Counter) == {"k": (3, [18.0])}
    assert values(WALL_CLOCK)["k"][0] == 3


@pytest.mark.parametrize(("how", "what"), [("str", "str"), ("none", "NoneType")])
def test_get_returning_no_number_is_reported(how, what, capfd):
    cls = _failing("get", how)
    with marker([cls, Counter], key="k"):
        pass
    err = capfd.readouterr().err
    assert (
        f"get() raised TypeError: returned {what}; a number or a tuple of numbers was expected"
        in err
    )
    assert recorded(cls) == 0 and values(Counter) == {"k": (1, [1.0])}


def test_wrong_number_of_values_is_reported(capfd):
    @register
    class Short(Base):
        label = "test_short"
        names = ("a", "b", "c")

        def get(self):
            return (1, 2)

    with marker([Short], key="k"):
        pass
    assert "returned 2 values; 3 were expected" in capfd.readouterr().err
    assert recorded(Short) == 0


def test_the_programs_exception_is_unaffected(capfd):
    @register
    class GetFails(Base):
        label = "test_get_fails_in_a_raising_call"

        def get(self):
            raise ValueError("the component's")

    @marker([GetFails, Counter])
    def fails():
        raise KeyError("mine")

    with pytest.raises(KeyError, match="mine"):
        fails()
    with pytest.raises(KeyError, match="mine"):
        with marker([GetFails, Counter], key="k"):
            raise KeyError("mine")
    assert "get() raised ValueError: the component's" in capfd.readouterr().err
    assert values(Counter) == {
        "test_the_programs_exception_is_unaffected.fails": (1, [1.0]),
        "k": (1, [1.0]),
    }


def test_a_component_that_works_measures_through_a_raising_call():
    @marker([Counter])
    def fails():
        raise KeyError("mine")

    feed(Counter, 8)
    with pytest.raises(KeyError, match="mine"):
        fails()
    assert values(Counter) == {
        "test_a_component_that_works_measures_through_a_raising_call.fails": (1, [8.0])
    }


def test_keyboard_interrupt_in_a_component_reaches_the_program(run_python):
    result = run_python(
        """
        import timemory
        from timemory.bundle import marker
        from timemory.component import Base, register

        timemory.settings.auto_output = False


        @register
        class Interrupted(Base):
            label = "interrupted"

            def get(self):
                raise KeyboardInterrupt


        try:
            with marker([Interrupted], key="k"):
                pass
            for _ in range(100_000):  # the interrupt is raised at the next check
                pass
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted")
        """
    )
    assert result.stdout.strip() == "interrupted", result.stderr
    assert "get() raised KeyboardInterrupt" in result.stderr
