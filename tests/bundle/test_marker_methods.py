"""marker.__enter__ / __exit__: the native descriptors that bind without a GC-tracked method
object per `with`, and the caches a marker made per use resolves its list and key through."""

from __future__ import annotations

import gc
import sys

import pytest
from timemory.bundle import marker
from timemory.storage import PeakRssStorage, WallClockStorage


def laps(storage=WallClockStorage):
    return [(e.prefix(), e.data().laps()) for e in storage.get()]


def test_bound_methods_know_their_marker():
    m = marker(["wall_clock"], key="bound")
    enter, leave = m.__enter__, m.__exit__
    assert enter.__self__ is m and leave.__self__ is m
    assert enter.__name__ == "__enter__" and leave.__qualname__ == "marker.__exit__"
    assert "bound method marker.__enter__" in repr(enter)
    assert enter() is m
    assert leave(None, None, None) is False
    assert laps() == [(">>> bound", 1)]


def test_unbound_calls_through_the_type():
    m = marker(["wall_clock"], key="unbound")
    assert marker.__enter__(m) is m
    assert marker.__exit__(m, None, None, None) is False
    assert laps() == [(">>> unbound", 1)]
    assert marker.__enter__.__get__(None, marker) is marker.__enter__
    assert "Start measuring" in marker.__enter__.__doc__
    assert marker.__exit__.__objclass__ is marker


@pytest.mark.parametrize(
    "call",
    [
        lambda m: marker.__enter__(object()),
        lambda m: marker.__enter__(),
        lambda m: marker.__exit__.__get__(object(), object),
        lambda m: m.__enter__(1),
        lambda m: m.__exit__(exc=None),
        lambda m: marker.__enter__(m, key="x"),
    ],
    ids=["foreign-self", "no-self", "foreign-get", "enter-args", "exit-kwargs", "unbound-kwargs"],
)
def test_bad_calls_are_type_errors(call):
    m = marker(["wall_clock"], key="bad")
    with pytest.raises(TypeError):
        call(m)
    assert laps() == []


def test_a_bound_method_keeps_its_marker_alive():
    enter = marker(["wall_clock"], key="kept").__enter__
    gc.collect()
    m = enter()
    assert m.__exit__(None, None, None) is False
    assert laps() == [(">>> kept", 1)]


def test_with_leaves_no_reference_behind():
    m = marker(["wall_clock"], key="refs")
    before = sys.getrefcount(m)
    for _ in range(50):
        with m:
            pass
    assert sys.getrefcount(m) == before
    assert laps() == [(">>> refs", 50)]


def test_exception_reaches_exit_and_propagates():
    seen = []

    class Recording(marker):
        def __exit__(self, *exc):
            seen.append(exc[0])
            return super().__exit__(*exc)

    with pytest.raises(KeyError):
        with Recording(["wall_clock"], key="sub"):
            raise KeyError("x")
    assert seen == [KeyError]
    assert laps() == [(">>> sub", 1)]


def test_subclass_overriding_enter_is_used():
    calls = []

    class Counting(marker):
        def __enter__(self):
            calls.append("enter")
            return super().__enter__()

    with Counting(["wall_clock"], key="counted") as m:
        assert isinstance(m, Counting)
    assert calls == ["enter"]
    assert laps() == [(">>> counted", 1)]


# ------------------------------------------------------------------ resolution caches


def test_the_same_list_items_resolve_the_same_every_use():
    for _ in range(3):
        with marker(["wall_clock", "peak_rss"], key="same"):
            pass
    for _ in range(2):
        with marker(["peak_rss"], key="same"):
            pass
    assert laps() == [(">>> same", 3)]
    assert laps(PeakRssStorage) == [(">>> same", 5)]


def test_names_built_at_run_time_resolve_as_constants_do():
    # equal names that are different str objects: each resolved on its own, same result
    for i in range(3):
        name = "".join(["wall", "_", "clock"])
        with marker([name], key="k" + str(i % 2)):
            pass
    assert laps() == [(">>> k0", 2), (">>> k1", 1)]


def test_an_unknown_name_is_refused_every_time():
    for _ in range(2):
        with pytest.raises(ValueError, match="wall_clock"):
            marker(["wall_clock", "no_such_component"], key="k")
    assert laps() == []


def test_keys_that_differ_get_their_own_labels():
    # more keys than cache slots, used twice: every label stays its own key's
    keys = [f"key{i}" for i in range(40)]
    for _ in range(2):
        for k in keys:
            with marker(["wall_clock"], key=k):
                pass
    assert laps() == [(f">>> {k}", 2) for k in keys]


def test_a_key_with_surrogates_is_recorded_escaped():
    key = "bad\udcffkey"
    with marker(["wall_clock"], key=key):
        pass
    with marker(["wall_clock"], key=key):
        pass
    (entry,) = WallClockStorage.get()
    assert entry.data().laps() == 2
    assert entry.prefix().startswith(">>> bad") and entry.prefix().endswith("key")
