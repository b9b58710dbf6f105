"""Work handed to a thread or process pool is recorded beneath the call path that submitted it.

When the program imports them, timemory patches the standard library's pools so that each task
carries the submitting thread's open call path (markers, profiled functions...) and records its
own measurements beneath it, in whichever thread or process runs it:

* ``concurrent.futures.ThreadPoolExecutor``: ``submit``, ``map``;
* ``concurrent.futures.ProcessPoolExecutor``: ``submit``, ``map`` (fork, spawn, forkserver);
* ``multiprocessing.pool.Pool`` (and ``ThreadPool``): ``apply``, ``apply_async``, ``map``,
  ``map_async``, ``imap``, ``imap_unordered``, ``starmap``, ``starmap_async``.

The path is captured when the work is submitted (``submit``, or the ``map`` call itself, so
that the pool's own ``map`` does not show between the caller and the tasks) and entered in the
worker around the task only: the pool's own frames and timemory's wrapper record nothing
between the submitting node and the task. Nothing is patched by ``import timemory``: each
module is patched when the program first imports it (:mod:`timemory._import_hooks`).

``settings.executor_context`` (``TIMEMORY_EXECUTOR_CONTEXT``) off: tasks are recorded as
top-level nodes of their worker, as they were before (read at each submission).

Other executors (LiberTEM's, a custom ``Executor``...): submit ``wrap(fn)`` instead of ``fn``.
See docs/guide/executors.md.
"""

from __future__ import annotations

import functools

from . import _context, settings

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

__all__ = ["TARGETS", "capture", "patched", "wrap"]

#: What is patched, by the module whose import patches it: ``{module: {class: {method:
#: name of its function argument}}}`` (None: positional only, as ``submit``'s).
TARGETS: dict[str, dict[str, dict[str, str | None]]] = {
    "concurrent.futures.thread": {"ThreadPoolExecutor": {"submit": None, "map": "fn"}},
    "concurrent.futures.process": {"ProcessPoolExecutor": {"submit": None, "map": "fn"}},
    "multiprocessing.pool": {
        "Pool": dict.fromkeys(
            (
                "apply",
                "apply_async",
                "map",
                "map_async",
                "imap",
                "imap_unordered",
                "starmap",
                "starmap_async",
            ),
            "func",
        )
    },
}
# the names patched() reports the classes by
_PUBLIC = {
    "concurrent.futures.thread": "concurrent.futures",
    "concurrent.futures.process": "concurrent.futures",
    "multiprocessing.pool": "multiprocessing.pool",
}

_PATCHED: dict[str, tuple[str, ...]] = {}


def capture() -> _context.Context | None:
    """The calling thread's open call path, to hand to :func:`wrap` later (where the work is
    handed over from another place than where it is decided): picklable; None when nothing is
    open or ``settings.executor_context`` is off."""
    return _context.capture() if settings.executor_context else None


def wrap(fn: Callable[..., Any], context: _context.Context | None = None) -> Callable[..., Any]:
    """``fn`` to be run beneath ``context`` (default: the calling thread's open call path, now)
    by whichever thread or process calls it: a picklable callable (if ``fn`` is). ``fn`` itself
    when nothing is open (the task is recorded at the top level) or when
    ``settings.executor_context`` is off. For executors that timemory does not patch::

        future = executor.submit(timemory.executors.wrap(step), x)
    """
    if not settings.executor_context or isinstance(fn, _context.Task):
        return fn
    return _context.wrap(fn, context)


def patched() -> dict[str, tuple[str, ...]]:
    """What is patched now: ``{"concurrent.futures.ThreadPoolExecutor": ("submit", "map")...}``
    (a module is patched once the program has imported it; see :data:`TARGETS`)."""
    return dict(_PATCHED)


def _carried(fn: Any, chunk: Any) -> bool:
    """True for a task that carries a context already: a :class:`timemory._context.Task`, or
    ``ProcessPoolExecutor.map``'s chunk of a Task (the patched ``map`` wrapped it)."""
    if isinstance(fn, _context.Task):
        return True
    return (
        chunk is not None
        and isinstance(fn, functools.partial)
        and fn.func is chunk
        and bool(fn.args)
        and isinstance(fn.args[0], _context.Task)
    )


def _carrying(original: Any, name: str | None, chunk: Any = None) -> Callable[..., Any]:
    """``original`` (a method whose first argument after ``self`` is the function to run, by
    position or as ``name=``) made to hand the pool a :class:`~timemory._context.Task` that
    carries the calling thread's open call path."""

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        if settings.executor_context:
            if args:
                fn = args[0]
                if not _carried(fn, chunk):
                    context = _context.capture()
                    if context is not None:
                        args = (_context.Task(fn, context), *args[1:])
            elif name is not None and name in kwargs and not _carried(kwargs[name], chunk):
                context = _context.capture()
                if context is not None:
                    kwargs[name] = _context.Task(kwargs[name], context)
        return original(self, *args, **kwargs)

    method._timemory_carrying = True  # type: ignore[attr-defined]  # marks a patched method
    return method


def _patch(module: Any) -> None:
    """Patch the classes :data:`TARGETS` lists for ``module`` (once: a method patched already
    is left as it is)."""
    # ProcessPoolExecutor.map submits partial(_process_chunk, fn): fn is carried already
    chunk = getattr(module, "_process_chunk", None)
    for class_name, methods in TARGETS.get(module.__name__, {}).items():
        cls = getattr(module, class_name, None)
        if cls is None:
            continue
        done = []
        for method, argument in methods.items():
            current = getattr(cls, method, None)
            if current is None or getattr(current, "_timemory_carrying", False):
                continue
            setattr(cls, method, _carrying(current, argument, chunk))
            done.append(method)
        if done:
            key = f"{_PUBLIC[module.__name__]}.{class_name}"
            _PATCHED[key] = (*_PATCHED.get(key, ()), *done)
