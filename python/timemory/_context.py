"""The call path that submitted a task follows it to the thread or process that runs it.

Where work is handed to an executor (a thread or process pool, Dask), :func:`capture` takes the
submitting thread's open call path in every component graph where a node is open (a marker, a
profiled function...). Where the task runs, :func:`enter` makes that path current in the
executing thread: its nodes are *placeholders* there (no values of their own; merged with the
submitter's own nodes by their hashes) and whatever the task records lands beneath them, marked
*remote*: it ran in parallel with the submitter's own measurement, which neither includes it
nor has it subtracted from its self value (docs/guide/executors.md).

A :class:`Context` pickles with the labels (and functions' sources) of its nodes, so a process
that never saw those nodes names them as the submitter does.
"""

from __future__ import annotations

from . import _core, _processes

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

    Paths = tuple[tuple[int, tuple[int, ...]], ...]


class Context:
    """A captured call path: ``paths`` is ``((component index, (hash, ...)), ...)`` from the
    top level. Picklable; unpickling it registers the nodes' labels in that process."""

    __slots__ = ("paths", "_packed")

    def __init__(self, paths: Paths):
        self.paths = paths
        self._packed: bytes | None = None

    def hashes(self) -> list[int]:
        seen: dict[int, None] = {}
        for _, path in self.paths:
            seen.update(dict.fromkeys(path))
        return list(seen)

    def records(self) -> list[tuple[int, str, str, Any]]:
        """What another process needs to name the nodes (label, where, function source)."""
        return list(_core.context_labels(self.hashes()))

    def __reduce__(self) -> Any:
        # packed once: a pool pickles the same context with each of its tasks (the labels of
        # a node never change once registered)
        packed = self._packed
        if packed is None:
            import pickle

            # a Python-defined component's index differs between processes: named by identity
            paths = tuple((_processes.component_identity(i), p) for i, p in self.paths)
            packed = self._packed = pickle.dumps((paths, self.records()), protocol=4)
        return (_unpack, (packed,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and other.paths == self.paths

    def __hash__(self) -> int:
        return hash(self.paths)

    def __repr__(self) -> str:
        return f"Context({self.paths!r})"


def _restore(paths: Any, records: list[tuple[int, str, str, Any]]) -> Context:
    _core.context_register(records)
    local = ((_processes.local_component(i), p) for i, p in paths)
    return Context(tuple((int(i), tuple(p)) for i, p in local if i is not None))


# The contexts met lately, so that the thousands of tasks submitted from one call path share
# one Context (captured, or unpickled and registered, once). Bounded: cleared when full.
_KEEP = 4096
_CAPTURED: dict[Paths, Context] = {}
_UNPACKED: dict[bytes, Context] = {}


def _unpack(packed: bytes) -> Context:
    context = _UNPACKED.get(packed)
    if context is None:
        import pickle

        context = _restore(*pickle.loads(packed))
        context._packed = packed
        if len(_UNPACKED) >= _KEEP:
            _UNPACKED.clear()
        _UNPACKED[packed] = context
    return context


def capture() -> Context | None:
    """The calling thread's open call path, or None when nothing is open (a task submitted
    from there is recorded at the top level, as without an executor)."""
    paths = _core.context_capture()
    if not paths:
        return None
    key = tuple(paths)
    context = _CAPTURED.get(key)
    if context is None:
        if len(_CAPTURED) >= _KEEP:
            _CAPTURED.clear()
        context = _CAPTURED[key] = Context(key)
    return context


def enter(context: Context | None) -> Any:
    """Makes ``context`` current in the calling thread; returns the token for :func:`leave`."""
    if context is None:
        return None
    return _core.context_enter(context.paths)


def leave(token: Any) -> None:
    """Makes current again what was current before :func:`enter` returned ``token``."""
    if token is not None:
        _core.context_leave(token)


class Task:
    """``fn`` run beneath ``context``: a picklable callable (if ``fn`` is) that enters the
    context in the thread that calls it, and leaves it when ``fn`` returns or raises."""

    __slots__ = ("fn", "context")

    def __init__(self, fn: Callable[..., Any], context: Context | None):
        self.fn = fn
        self.context = context

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        token = enter(self.context)
        try:
            return self.fn(*args, **kwargs)
        finally:
            leave(token)

    def __reduce__(self) -> Any:
        return (Task, (self.fn, self.context))

    def __repr__(self) -> str:
        return f"Task({self.fn!r}, {self.context!r})"


def wrap(fn: Callable[..., Any], context: Context | None = None) -> Callable[..., Any]:
    """``fn`` as a :class:`Task` beneath ``context`` (default: captured now), or ``fn`` itself
    when there is nothing to follow it."""
    if context is None:
        context = capture()
    return fn if context is None else Task(fn, context)
