"""Components written in Python: subclass :class:`Base`, register the class, and use it
wherever a built-in component goes (``marker([QueueDepth])``, ``"queue_depth"``,
``-c mypkg:QueueDepth`` on the command lines).

A registered class takes one of the native table's free slots: its measurements are stored,
merged and written like the built-in ones', combined by its ``combine`` rule. See
docs/guide/components.md.
"""

from __future__ import annotations

import math

from .. import _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only (importing typing costs memory every program pays)
    from typing import Any, ClassVar

__all__ = ["Base", "register", "registered"]

#: how two measurements of one node combine, as the ``combine`` attribute names them
COMBINE_RULES = ("sum", "max", "min", "last")

_REGISTERED: dict[type, int] = {}  # class -> index in the native table


class Base:
    """Base class of a component written in Python.

    Class attributes (all optional):

    - ``label``: the name it is used by and written under (``"queue_depth"``; default: the
      class name in snake case). Lower-case letters, digits and ``_``; not a built-in name.
    - ``description``: one line (default: the first line of the class docstring).
    - ``unit``: the unit of the numbers ``get()`` returns (``"bytes"``); ``display_unit`` and
      ``scale``: the unit shown and the divisor that gets there (``"MB"``, ``1e6``).
    - ``combine``: how two measurements of one call-path node combine (repeated calls,
      threads, processes, MPI ranks): ``"sum"`` (default), ``"max"``, ``"min"``, ``"last"``.
    - ``names``: for a component whose ``get()`` returns a tuple, one name per value.

    Methods: ``start()`` and ``stop()`` bracket a measurement; ``get()`` returns its value (a
    number, or a tuple of numbers as long as ``names``). ``stop()`` may return the value
    itself, which saves the ``get()`` call. A component that only reads a level (a queue's
    depth, a GPU's memory in use) defines ``sample()`` instead: it is called at the stop of
    each measurement. One object measures one interval at a time: the measurements of a
    class share objects made with ``cls()`` (so ``__init__`` takes no arguments). The methods
    called are the class's (an attribute of an object of the same name is not looked at).

    An exception from any of these methods is reported once on stderr (which component,
    which method) and the component is dropped from later measurements; the others go on.
    """

    label: ClassVar[str] = ""
    description: ClassVar[str] = ""
    unit: ClassVar[str] = ""
    display_unit: ClassVar[str | None] = None
    scale: ClassVar[float] = 1.0
    combine: ClassVar[str] = "sum"
    names: ClassVar[tuple[str, ...]] = ()
    # the native table index once registered; None on every class until then, so a
    # subclass of a registered class is a component of its own
    _index: ClassVar[int | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._index = None

    def start(self) -> None:
        """Begin a measurement."""

    def stop(self) -> Any:
        """End the measurement (may return its value, instead of get())."""
        return None

    def get(self) -> Any:
        """The value of the last measurement: a number, or a tuple of numbers."""
        # called for a class whose stop() returned no value and that has no get() of its own
        raise NotImplementedError(
            f"{type(self).__name__}.stop() returned no value and the class defines no get()"
        )

    def sample(self) -> Any:
        """A point-in-time reading, taken at the stop of each measurement."""
        raise NotImplementedError(f"{type(self).__name__} defines neither get() nor sample()")


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        starts_word = not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())
        if ch.isupper() and i and starts_word:
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _valid_key(key: str) -> bool:
    return (
        bool(key)
        and key[0].isalpha()
        and key.isascii()
        and all(c.isalnum() or c == "_" for c in key)
    )


def _spec(cls: type[Base]) -> dict[str, Any]:
    """What the native table keeps of ``cls``, checked; TypeError/ValueError in one line."""
    name = f"{cls.__module__}.{cls.__qualname__}"
    label = cls.label or _snake(cls.__name__)
    if not isinstance(label, str) or not _valid_key(label.lower()):
        raise ValueError(
            f"component {name}: label {label!r} must be letters, digits and '_' "
            "(starting with a letter)"
        )
    key = label.lower()
    combine = cls.combine
    if combine not in COMBINE_RULES:
        raise ValueError(
            f"component {name}: unknown combine rule {combine!r}. "
            f"Valid choices are: {', '.join(COMBINE_RULES)}"
        )
    names = cls.names
    if not isinstance(names, (tuple, list)) or not all(isinstance(n, str) for n in names):
        raise TypeError(f"component {name}: names must be a tuple of str, not {names!r}")
    if len(names) > 8:
        raise ValueError(f"component {name}: at most 8 values (names), not {len(names)}")
    n = max(1, len(names))
    unit = cls.unit if cls.display_unit is None else cls.display_unit
    scale = cls.scale
    if not isinstance(unit, str):
        raise TypeError(f"component {name}: unit and display_unit must be str, not {unit!r}")
    positive = isinstance(scale, (int, float)) and math.isfinite(scale) and scale > 0
    if isinstance(scale, bool) or not positive:
        raise ValueError(f"component {name}: scale must be a positive finite number, not {scale!r}")
    has_get = cls.get is not Base.get
    has_sample = cls.sample is not Base.sample
    has_stop = cls.stop is not Base.stop
    if not (has_get or has_sample or has_stop):
        raise TypeError(
            f"component {name} defines none of get(), sample() or stop(): one returns its value"
        )
    doc = (cls.__doc__ or "").strip().splitlines()
    description = cls.description or (doc[0] if doc else f"Python-defined component {name}")
    return {
        "key": key,
        "class_name": cls.__name__,
        "label": key,
        "description": str(description),
        "combine": combine,
        "name": f"'{key}' ({name})",
        "units": [(float(scale), unit)] * n,
        "sub_labels": list(names) if len(names) > 1 else [],
        "has_start": cls.start is not Base.start,
        "has_stop": has_stop,
        "has_sample": has_sample and not has_get,
    }


def register(cls: Any = None, /) -> Any:
    """Register a :class:`Base` subclass as a component (as a class decorator, or called);
    returns the class. Registering it again (or a class of the same label: a reloaded
    module) keeps its slot, and the newer class measures."""
    if cls is None:  # @register()
        return register
    if not (isinstance(cls, type) and issubclass(cls, Base)) or cls is Base:
        raise TypeError(f"register() takes a subclass of timemory.component.Base, not {cls!r}")
    spec = _spec(cls)
    index = int(_core.register_user_component(cls, spec))
    cls._index = index
    _REGISTERED[cls] = index
    from . import _add_user_info  # the package's tables (imported by then: this is its submodule)

    _add_user_info(_core.component_info(index))
    return cls


def registered() -> dict[str, type]:
    """The registered components: label -> class."""
    return {_core.component_info(i)["key"]: cls for cls, i in _REGISTERED.items()}


def _import_path(path: str) -> type[Base]:
    module_name, _, qualname = path.partition(":")
    if not module_name or not qualname:
        raise ValueError(f"component {path!r}: an import path is 'module:Class'")
    import importlib

    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise ValueError(f"component {path!r}: cannot import {module_name!r}: {err}") from None
    for part in qualname.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(
                f"component {path!r}: module {module_name!r} has no {qualname!r}"
            ) from None
    if not (isinstance(obj, type) and issubclass(obj, Base)):
        raise ValueError(f"component {path!r} is not a subclass of timemory.component.Base")
    return obj


def _resolve(item: Any) -> int | None:
    """The native resolver's callback: the index of a Base subclass or a 'module:Class' path
    (registered now if needed); None for anything else."""
    cls: type[Base]
    if isinstance(item, str):
        cls = _import_path(item.strip())
    elif isinstance(item, type) and issubclass(item, Base) and item is not Base:
        cls = item
    else:
        return None
    if cls.__dict__.get("_index") is None:
        register(cls)
    index: int | None = cls._index
    return index
