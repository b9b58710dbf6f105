"""The NumPy snapshot of the call graphs: :class:`Snapshot`, :func:`snapshot`, :func:`as_numpy`
and :func:`load_folder` (re-exported by :mod:`timemory.storage`).

A snapshot is a native table (``_core.GraphTable``) of fixed-size records, one per call-graph
node, copied out of the call graphs when it is made: NumPy reads it in place, read-only, and
the array's ``base`` keeps the table alive. Recording afterwards, or ``timemory.clear()``,
never moves or frees the memory a view reads, because the table owns a copy.

NumPy is imported here only, inside the functions that need it: ``import timemory`` and a
profiled program never load it.
"""

from __future__ import annotations

import os

from .. import _core, _processes
from .._components import MEASURABLE, resolve

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

    import numpy

    from . import StorageTree

__all__ = ["Snapshot", "as_numpy", "load_folder", "snapshot"]

# the JSON files of an output folder that hold no call graph
_NOT_DATA = ("metadata.json", "functions.json")


class Snapshot:
    """A snapshot of one or more components' call graphs: one record per node (pre-order per
    thread view and rank), made by ``XStorage.snapshot()`` or :func:`timemory.snapshot`.

    Fields of a record, in order: ``node`` (its position), ``parent`` (-1 at the top level),
    ``depth``, ``rank``, ``pid``, ``thread``, ``label`` (a code into :attr:`labels`),
    ``file`` (a code into :attr:`files`, -1 when unknown), ``line`` (0 when unknown),
    ``hash``, ``count`` (the calls of the first component that has the node), then per value
    of a component ``sum``, ``min``, ``max``, ``sum_sq`` (its statistics), ``self`` and
    ``inclusive`` (its exclusive and inclusive value, as the files show them), in base units
    (:attr:`units`). A component of several values has each of these as a subarray. A
    snapshot of several components (:func:`timemory.snapshot`) nests each component's values
    under its key, each starting with the component's own ``count``: ``arr["wall_clock"]["self"]``.

    The snapshot is a copy made when it is taken: later recording and ``timemory.clear()``
    leave it, and every view of it, as it was.
    """

    __slots__ = ("_t", "_dtype", "_labels")

    def __init__(self, table: _core.GraphTable):
        self._t = table
        self._dtype: Any = None
        self._labels: list[str] | None = None

    def __len__(self) -> int:
        return len(self._t)

    def __repr__(self) -> str:
        return f"<Snapshot {len(self._t)} nodes of {', '.join(self._t.components) or 'nothing'}>"

    @property
    def table(self) -> _core.GraphTable:
        """The native table: exports its records as read-only bytes (the buffer protocol)."""
        return self._t

    @property
    def nested(self) -> bool:
        """Whether each component's values are nested under its key."""
        return self._t.nested

    @property
    def components(self) -> list[str]:
        """The component keys, in column order."""
        return list(self._t.components)

    @property
    def labels(self) -> list[str]:
        """The labels, indexed by the ``label`` field (one per distinct label)."""
        if self._labels is None:
            self._labels = self._t.labels
        return list(self._labels)

    @property
    def files(self) -> list[str]:
        """The source files, indexed by the ``file`` field (-1: no file known)."""
        return list(self._t.files)

    @property
    def value_names(self) -> dict[str, list[str]]:
        """The names of each component's values (the subarray order of a multi-valued one)."""
        return dict(zip(self._t.components, self._t.value_names))

    @property
    def value_units(self) -> dict[str, list[str]]:
        """The base unit of each value of each component: ``ns``, ``B``, ``B/sec``, ``%``,
        or ``""`` for counts; a Python-defined component's unit when it has no ``scale``
        (its values are what it returned), else ``""``."""
        return dict(zip(self._t.components, self._t.value_units))

    @property
    def units(self) -> dict[str, str]:
        """The base unit of each component: the unit its values share, or, when they differ
        (the I/O components: bytes and a rate), their units joined by ", " in value order."""
        return {
            key: units[0] if len(set(units)) == 1 else ", ".join(units)
            for key, units in zip(self._t.components, self._t.value_units)
        }

    @property
    def dtype(self) -> numpy.dtype:
        """The NumPy structured dtype of a record."""
        if self._dtype is None:
            self._dtype = _dtype(self._t)
        return self._dtype

    def as_numpy(self) -> numpy.ndarray:
        """A read-only structured array over the snapshot's memory, without a copy; its
        ``base`` keeps the snapshot alive."""
        import numpy as np

        # the memoryview's obj is the table: the array's base chain ends there (the stub
        # cannot declare __buffer__, which pybind11 classes have on Python 3.12 and later only)
        return np.frombuffer(memoryview(self._t), dtype=self.dtype)  # type: ignore[arg-type]

    def to_numpy(self) -> numpy.ndarray:
        """A writable copy of :meth:`as_numpy`, independent of the snapshot."""
        return self.as_numpy().copy()

    def to_pandas(self) -> Any:
        """The snapshot as a pandas DataFrame (see :func:`timemory.storage.to_pandas`)."""
        from ._frames import snapshot_to_pandas

        return snapshot_to_pandas(self)

    def to_hatchet(self) -> Any:
        """The snapshot as a ``hatchet.GraphFrame`` (see :func:`timemory.storage.to_hatchet`)."""
        from ._frames import snapshot_to_hatchet

        return snapshot_to_hatchet(self)


def _dtype(table: _core.GraphTable) -> numpy.dtype:
    """The structured dtype of the table's records, from its field description."""
    import numpy as np

    names: list[str] = []
    formats: list[Any] = []
    offsets: list[int] = []
    nested: dict[str, tuple[int, list[str], list[Any], list[int]]] = {}
    for component, name, offset, kind, size, shape in table.fields:
        fmt = np.dtype((f"{kind}{size}", shape)) if shape else np.dtype(f"{kind}{size}")
        if not component:
            names.append(name)
            formats.append(fmt)
            offsets.append(offset)
            continue
        if component not in nested:
            nested[component] = (offset, [], [], [])
            names.append(component)
            formats.append(None)  # its dtype, once all its fields are known
            offsets.append(offset)
        start, sub_names, sub_formats, sub_offsets = nested[component]
        sub_names.append(name)
        sub_formats.append(fmt)
        sub_offsets.append(offset - start)
    for i, name in enumerate(names):
        if formats[i] is None:
            start, sub_names, sub_formats, sub_offsets = nested[name]
            end = max(o + f.itemsize for o, f in zip(sub_offsets, sub_formats))
            formats[i] = np.dtype(
                {
                    "names": sub_names,
                    "formats": sub_formats,
                    "offsets": sub_offsets,
                    "itemsize": end,
                }
            )
    return np.dtype(
        {"names": names, "formats": formats, "offsets": offsets, "itemsize": table.itemsize}
    )


# ------------------------------------------------------------------ sources
def _with_data() -> list[int]:
    """This process's components that hold data, in enum order."""
    return [i for i in sorted(MEASURABLE) if _core.has_data(i)]


def _key(index: int) -> str:
    return str(_core.component_info(index)["key"])


def _indices(components: Any) -> list[int]:
    """The measurable enum indices of a user's component list (ValueError naming the valid
    names for an unknown one, or one that holds no values)."""
    indices = resolve(components)
    bad = [i for i in indices if i not in MEASURABLE]
    if bad:
        raise ValueError(
            f"{_key(bad[0])} holds no values to snapshot (it is unavailable here or records "
            "nothing; e.g. wall_clock, cpu_clock, peak_rss)"
        )
    return indices


def _live(components: Any) -> list[int]:
    """The live components a snapshot reads: ``components`` (each must hold data), or every
    one with data."""
    have = _with_data()
    if components is None:
        return have
    indices = _indices(components)
    missing = [i for i in indices if i not in have]
    if missing:
        shown = f"components with data: {', '.join(_key(i) for i in have)}" if have else ""
        raise ValueError(
            f"{_key(missing[0])} has no data in this process "
            f"({shown or 'nothing was recorded yet'})"
        )
    return indices


def load_folder(
    path: str | os.PathLike[str], components: Any = None
) -> list[tuple[int, list[list[StorageTree]]]]:
    """The call-graph trees of a saved output folder: every ``<label>.tree.json`` in it, read
    with the checked readers of :class:`Storage` (``load_json_tree_dmp``).

    Returns one ``(component index, ranks)`` per component, ``ranks`` one list of root trees
    per rank (several files of one component: their ranks one after the other, in file-name
    order). ``components`` (names, enum values or classes) picks and orders them; None: every
    component of the folder, in enum order. ``OSError`` for a folder that cannot be read,
    ``ValueError`` for a folder without tree files, a file that is not tree JSON, or a
    component the folder has no data of; each in one line.
    """
    from .. import _documents as d
    from .._files import path_text
    from . import _index_of_section, _read_json, storage_class

    folder = os.fsdecode(os.fspath(path))
    shown = path_text(folder)  # undecodable bytes as \xff escapes
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        raise OSError(f"{shown}: no such folder") from None
    except NotADirectoryError:
        raise OSError(f"{shown}: not a folder (give the output folder of a run)") from None
    except OSError as err:
        raise OSError(f"{shown}: cannot read it ({err.strerror})") from None
    trees = [n for n in names if n.endswith(".tree.json")]
    if not trees:
        flat = [n for n in names if n.endswith(".json") and n not in _NOT_DATA]
        hint = (
            "; its flat .json files alone are not enough: the call graph is read from the tree "
            "output (settings.tree_output, TIMEMORY_TREE_OUTPUT=ON)"
            if flat
            else ""
        )
        raise ValueError(f"{shown}: no tree JSON files (<label>.tree.json) in it{hint}")
    found: dict[int, list[list[StorageTree]]] = {}
    for name in trees:
        document, where = _read_json(os.path.join(folder, name))
        body = d.member(document, "timemory", where, d.as_object)
        for key in body:
            index = _index_of_section(str(key), body[key], ((where, "timemory"), key))
            if index is None:
                d.fail((where, "timemory"), f"unknown component {key!r}")
            cls: Any = storage_class(index)
            found.setdefault(index, []).extend(cls._tree_ranks(*cls._section_in(document, where)))
    if components is None:
        return [(i, found[i]) for i in sorted(found)]
    indices = _indices(components)
    missing = [i for i in indices if i not in found]
    if missing:
        have = ", ".join(_key(i) for i in sorted(found))
        raise ValueError(f"{shown}: no data of {_key(missing[0])} in it (components in it: {have})")
    return [(i, found[i]) for i in indices]


def _table(indices: list[int] | None, loaded: Any, nested: bool) -> _core.GraphTable:
    if loaded is not None:
        return _core.graph_table(loaded, 0, False, nested)
    return _core.graph_table(indices, _processes.rank(), False, nested)


def snapshot(components: Any = None, source: str | os.PathLike[str] | None = None) -> Snapshot:
    """A snapshot of several components' call graphs side by side, each component's values
    nested under its key (``arr["wall_clock"]["self"]``).

    ``components``: names, enum values or classes (a list or a comma-separated string), in
    column order; None: every component with data. ``source``: None for this process's
    recorded data, or the path of a saved output folder (its ``<label>.tree.json`` files,
    see :func:`load_folder`). An unknown component, or one without data, raises
    ``ValueError`` in one line naming the valid choices.
    """
    if source is None:
        return Snapshot(_table(_live(components), None, True))
    if not isinstance(source, (str, os.PathLike)):
        kind = type(source).__name__
        raise TypeError(
            f"source must be None (this process) or an output folder's path, not {kind}"
        )
    return Snapshot(_table(None, load_folder(source, components), True))


def as_numpy(components: Any = None, source: str | os.PathLike[str] | None = None) -> numpy.ndarray:
    """``snapshot(components, source).as_numpy()``: a read-only structured array whose
    ``base`` keeps the snapshot alive."""
    return snapshot(components, source).as_numpy()
