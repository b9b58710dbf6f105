"""Python-defined components merged across threads and processes by their ``combine`` rule.

Threads: the thread graphs are merged (collapse_threads) by the rule. Processes: the packed
data name a Python-defined component by its identity (key, units, rule), not by its index,
which depends on the order a process registered its classes in; the receiving process finds
the row by key, or makes one that holds the data without a class. The pool tests run a
program whose workers register the classes in another order than the parent.

The merged values are read from the native views (``_core``): the components return known
numbers, so every value is asserted exactly.
"""

from __future__ import annotations

import itertools
import json
import threading

import pytest
import timemory
from timemory import _core, _processes, settings
from timemory.bundle import marker
from timemory.component import Base, register

_SERIAL = itertools.count()


def _component(combine: str, reading, names: tuple[str, ...] = ()) -> type[Base]:
    """A registered component of a label of its own (registrations outlive a test)."""
    label = f"merge_{combine}_{next(_SERIAL)}"
    cls = type(
        label.title().replace("_", ""),
        (Base,),
        {"label": label, "combine": combine, "names": names, "sample": lambda self: reading()},
    )
    return register(cls)


def _rows(batch, n: int = 1) -> dict[str, tuple[int, list[float]]]:
    return {
        batch.label(i): (batch.laps(i), batch.entry(i).entry.accum[:n]) for i in range(len(batch))
    }


# ------------------------------------------------------------------ threads
def _in_threads(cls: type[Base], values: list[float], local: threading.local) -> None:
    """One thread per value, one after the other (their thread ids in the order of values),
    each measuring "work" once while its reading is that value."""

    def run(value: float) -> None:
        local.value = value
        with marker([cls], key="work"):
            pass

    for value in values:
        t = threading.Thread(target=run, args=(value,))
        t.start()
        t.join()


@pytest.mark.parametrize(
    "combine, expected",
    [("max", 7.0), ("min", 1.0), ("sum", 16.0), ("last", 2.0)],
)
def test_threads_collapse_by_the_rule(combine, expected, monkeypatch):
    local = threading.local()
    cls = _component(combine, lambda: local.value)
    monkeypatch.setattr(settings, "collapse_threads", True)
    _in_threads(cls, [3.0, 7.0, 1.0, 3.0, 2.0], local)
    # "last": the value of the thread merged last (thread ids in increasing order)
    assert _rows(_core.flat_snapshot(cls._index)) == {"work": (5, [expected])}
    _core.clear(cls._index)


def test_threads_not_collapsed_keep_their_own_values(monkeypatch):
    local = threading.local()
    cls = _component("max", lambda: local.value)
    monkeypatch.setattr(settings, "collapse_threads", False)
    _in_threads(cls, [3.0, 7.0, 1.0], local)
    batch = _core.flat_snapshot(cls._index)
    assert sorted(batch.entry(i).entry.accum[0] for i in range(len(batch))) == [1.0, 3.0, 7.0]
    _core.clear(cls._index)


def test_a_tuple_component_merges_each_value_over_threads(monkeypatch):
    local = threading.local()
    cls = _component("max", lambda: (local.value, -local.value), names=("up", "down"))
    monkeypatch.setattr(settings, "collapse_threads", True)
    _in_threads(cls, [2.0, 5.0, 4.0], local)
    assert _rows(_core.flat_snapshot(cls._index), 2) == {"work": (3, [5.0, -2.0])}
    _core.clear(cls._index)


# ------------------------------------------------------------------ packed data
def _measured(combine: str, values: list[float], names: tuple[str, ...] = ()) -> type[Base]:
    reading = [0.0]
    if names:
        cls = _component(
            combine, lambda: tuple(reading[0] * (k + 1) for k in range(len(names))), names
        )
    else:
        cls = _component(combine, lambda: reading[0])
    for value in values:
        reading[0] = value
        with marker([cls], key="outer"):
            with marker([cls], key="inner"):
                pass
    return cls


def _renamed(data: bytes, key: str, new: str) -> bytes:
    """Packed data of a component named ``new`` (as long as ``key``): another process's (the
    key and the label are the same string)."""
    assert len(new) == len(key) and data.count(key.encode()) == 2
    return data.replace(key.encode(), new.encode())


def test_packed_data_name_a_python_component_by_its_identity():
    cls = _measured("max", [2.0, 9.0, 4.0], names=("a", "b"))
    data = _core.pack_flat_snapshot(cls._index)
    spec = _core.packed_component(data)
    assert spec["key"] == cls.label and spec["index"] == cls._index
    assert spec["combine"] == "max"
    assert spec["sub_labels"] == ["a", "b"]
    assert [tuple(u) for u in spec["units"]] == [(1.0, "")] * 2
    assert _core.packed_component(_core.pack_tree_snapshot(cls._index))["key"] == cls.label
    # a built-in component's data are named by index
    assert (
        _core.packed_component(_core.pack_flat(_core.resolve_components("wall_clock")[0], []))
        == (_core.resolve_components("wall_clock")[0])
    )
    # found by key: the same row
    assert _processes.local_indices({cls._index: {"flat": data}}) == {cls._index: {"flat": data}}
    assert _rows(_core.unpack_flat(cls._index, data), 2) == {
        "outer": (3, [9.0, 18.0]),
        "inner": (3, [9.0, 18.0]),
    }
    _core.clear(cls._index)


def test_data_of_a_component_this_process_never_registered_get_a_row_of_their_own():
    cls = _measured("min", [5.0, 3.0, 8.0])
    key = cls.label
    new = key.replace("merge_", "other_")[: len(key)].ljust(len(key), "x")
    assert _core.resolve_components([key]) == [cls._index]
    foreign = _renamed(_core.pack_flat_snapshot(cls._index), key, new)
    foreign_tree = _renamed(_core.pack_tree_snapshot(cls._index), key, new)
    _core.clear(cls._index)
    before = set(_core.user_component_indices())
    payload = _processes.local_indices({cls._index: {"flat": foreign, "tree": foreign_tree}})
    (index,) = payload
    assert index not in before and index != cls._index
    info = _core.component_info(index)
    assert (info["key"], info["combine"], info["user"]) == (new, "min", True)
    # the row holds the merged data: two processes' lists of it merge by the rule
    merged = _core.merge_packed_flat(index, [foreign, foreign])
    assert _rows(merged) == {"outer": (6, [3.0]), "inner": (6, [3.0])}
    tree = _core.unpack_tree(index, foreign_tree)
    assert sorted(tree.label(i) for i in range(len(tree)) if tree.hash(i)) == ["inner", "outer"]
    # and measures nothing (no class): a marker of it records no value
    with marker([new], key="nothing"):
        pass
    assert _core.flat_snapshot(index).__len__() == 0 or all(
        _core.flat_snapshot(index).laps(i) == 0 for i in range(len(_core.flat_snapshot(index)))
    )
    # the same data again find the same row
    assert list(_processes.local_indices({cls._index: {"flat": foreign}})) == [index]
    # a class registered later for that label keeps the row (and measures)
    reading = [6.0]
    later = register(
        type("Later", (Base,), {"label": new, "combine": "min", "sample": lambda s: reading[0]})
    )
    assert later._index == index
    with marker([later], key="later"):
        pass
    assert _rows(_core.flat_snapshot(index))["later"] == (1, [6.0])
    _core.clear(index)


def test_data_that_do_not_fit_the_local_row_of_their_label_are_dropped_once(capfd):
    two = _measured("max", [1.0], names=("a", "b"))
    one = _measured("max", [1.0])
    # another process's `one` label with two values: this process's row has one
    foreign = _renamed(_core.pack_flat_snapshot(two._index), two.label, one.label)
    assert _processes.local_indices({two._index: {"flat": foreign}}) == {}
    assert _processes.local_indices({two._index: {"flat": foreign}}) == {}
    err = capfd.readouterr().err
    assert err.count(f"data of component '{one.label}' are dropped") == 1
    assert "2 value(s)" in err and "1 value(s)" in err
    _core.clear(one._index)
    _core.clear(two._index)


def test_packed_data_of_a_python_component_are_not_read_as_another_component():
    cls = _measured("sum", [1.0])
    data = _core.pack_flat_snapshot(cls._index)
    wall = _core.resolve_components("wall_clock")[0]
    with pytest.raises(ValueError, match=f"packed storage data of component '{cls.label}'"):
        _core.unpack_flat(wall, data)
    with pytest.raises(ValueError, match="not packed"):
        _core.packed_component(b"\x00" * 16)
    with pytest.raises(ValueError, match="truncated"):
        _core.packed_component(data[:20])
    _core.clear(cls._index)


def test_a_custom_gather_hands_back_payloads_keyed_by_local_indices():
    cls = _measured("max", [4.0])
    key = cls.label
    new = "x" + key[1:]
    foreign = _renamed(_core.pack_flat_snapshot(cls._index), key, new)
    # what another rank sent: the payload under that rank's own index for the component
    timemory.storage.set_gather(lambda obj: [obj, [(4242, {7: {"flat": foreign}})]])
    try:
        gathered = _processes.gather([(1, {})])
    finally:
        timemory.storage.set_gather(None)
    (pid, payload) = gathered[1][0]
    (index,) = payload
    assert pid == 4242 and _core.component_info(index)["key"] == new
    _core.clear(cls._index)


# ------------------------------------------------------------------ pool workers
COMPONENTS = """
import os
from timemory.bundle import marker
from timemory.component import Base, register

LEVEL = [0.0]


class Peak(Base):
    label = "pool_peak"
    combine = "max"
    def sample(self):
        return LEVEL[0]


class Total(Base):
    label = "pool_total"
    combine = "sum"
    def sample(self):
        return LEVEL[0]


class Low(Base):
    label = "pool_low"
    combine = "min"
    def sample(self):
        return LEVEL[0]


class Latest(Base):
    label = "pool_latest"
    combine = "last"
    def sample(self):
        return LEVEL[0]


class Pair(Base):
    label = "pool_pair"
    combine = "max"
    names = ("up", "down")
    def sample(self):
        return (LEVEL[0], -LEVEL[0])


ORDER = [Peak, Total, Low, Latest, Pair]


def register_reversed():
    # the pool's initializer: the opposite order of the parent's registrations, before any
    # task (and the call path it carries) arrives: other slots than the parent's
    for cls in reversed(ORDER):
        register(cls)


def task(x):
    LEVEL[0] = float(x)
    with marker(ORDER, key="task"):
        pass
    return os.getpid(), {cls.label: cls._index for cls in ORDER}
"""

POOL_PROGRAM = """
import json, multiprocessing, os, sys
sys.path.insert(0, os.getcwd())
import timemory
from timemory import _core, _workers
from timemory.bundle import marker
from timemory.component import register
from timemory.storage import exchange, local_payload
import comps



def main():
    method = sys.argv[1]
    ctx = multiprocessing.get_context(method)
    # fork: the workers inherit what is registered now (Peak, Total) and register the rest in
    # their own order; spawn: the workers register all of them, in the opposite order
    early = comps.ORDER if method == "spawn" else [comps.Peak, comps.Total]
    for cls in early:
        register(cls)
    comps.LEVEL[0] = 0.5
    with marker(early, key="outer"):
        pool = ctx.Pool(2, initializer=comps.register_reversed)
        workers = pool.map(comps.task, range(1, 9), chunksize=1)
        pool.close()
        pool.join()
    if method == "fork":
        register(comps.Latest)  # the slot the workers gave Pair; Low and Pair stay unregistered
    mine = {cls.label: cls._index for cls in comps.ORDER if cls._index is not None}

    procs = exchange(local_payload(_workers.data_indices(), ["flat", "tree"]))

    def index_of(key):
        found = [i for i in _core.user_component_indices() if _core.component_info(i)["key"] == key]
        return found[0]

    merged = {}
    for cls in comps.ORDER:
        index = index_of(cls.label)
        n = len(_core.component_info(index)["units"])
        flat = _core.merge_packed_flat(index, procs.packed(index, "flat"))
        merged[cls.label] = {
            flat.label(i): [flat.laps(i), flat.entry(i).entry.accum[:n], flat.depth(i)]
            for i in range(len(flat))
        }
        trees = [_core.unpack_tree(index, data) for data in procs.packed(index, "tree")]
        merged[cls.label]["trees"] = sum(len(t) for t in trees)

    with open("result.json", "w") as f:
        json.dump({"mine": mine, "workers": [w[1] for w in workers], "processes": len(procs),
                   "merged": merged}, f)


if __name__ == "__main__":
    main()
"""


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pool_workers_merge_beneath_the_submitting_path_by_the_rule(run_python, tmp_path, method):
    (tmp_path / "comps.py").write_text(COMPONENTS)
    proc = run_python(POOL_PROGRAM, args=(method,), timeout=240)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback (most recent call last)" not in proc.stderr, proc.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    # the workers' slots differ from the parent's for some components
    assert any(w[k] != result["mine"].get(k) for w in result["workers"] for k in w)
    assert result["processes"] >= 2
    merged = result["merged"]
    values = range(1, 9)
    # the tasks beneath the parent's "outer" (depth 1), merged over the workers by the rule
    assert merged["pool_peak"]["task"] == [8, [8.0], 1]
    assert merged["pool_total"]["task"] == [8, [float(sum(values))], 1]
    assert merged["pool_low"]["task"][:2] == [8, [1.0]]
    latest = merged["pool_latest"]["task"]
    assert latest[0] == 8 and latest[1][0] in values
    assert merged["pool_pair"]["task"][:2] == [8, [8.0, -1.0]]
    # the parent's own measurement of what it registered before the pool
    assert merged["pool_peak"]["outer"] == [1, [0.5], 0]
    assert merged["pool_total"]["outer"] == [1, [0.5], 0]
    if method == "spawn":
        # the workers' placeholders of "outer" (no value of their own) leave it as it was
        assert merged["pool_low"]["outer"] == [1, [0.5], 0]
        assert merged["pool_latest"]["outer"] == [1, [0.5], 0]
        assert merged["pool_pair"]["outer"] == [1, [0.5, -0.5], 0]
    for key in ("pool_peak", "pool_pair"):
        assert merged[key]["trees"] > 0
