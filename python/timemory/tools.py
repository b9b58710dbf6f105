"""Function-wrapper tools (``timemory.tools``): MPI, OpenMP (OMPT), NCCL and malloc calls
measured by wrapping the library functions themselves.

The original library wraps those functions with GOTCHA (rewriting the global offset table)
or switches on OMPT's callbacks. This build has neither, so ``available`` is False and
``reason`` says why. How each name behaves here:

* :class:`function_wrappers` (decorator and context manager) checks the names it is given,
  then runs the wrapped code without wrappers: a ``RuntimeWarning`` says so once per place
  that uses it, and ``is_running()`` stays False, as the original does when it is unavailable;
* :func:`start_function_wrappers` and the ``start_<tool>`` functions raise
  :class:`~timemory.api.UnavailableError` (a RuntimeError) when asked to start anything, so a
  program never believes it is measuring what it is not;
* :func:`stop_function_wrappers` accepts the ``[0, 0, 0, 0]`` of nothing started; the
  ``stop_<tool>`` functions raise :class:`~timemory.api.UnavailableError`;
* an unknown tool name raises ``RuntimeError`` (as in the original) naming the valid choices.

    from timemory.tools import function_wrappers
    @function_wrappers("mpi", memory=True)
    def solve(): ...
"""

from __future__ import annotations

import functools

from ._text import parse_bool
from .api import UnavailableError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any, Callable

__all__ = [
    "available",
    "reason",
    "function_wrappers",
    "start_function_wrappers",
    "stop_function_wrappers",
    "start_mpip",
    "stop_mpip",
    "start_ompt",
    "stop_ompt",
    "start_ncclp",
    "stop_ncclp",
    "start_mallocp",
    "stop_mallocp",
    "init_mpip",
    "init_ompt",
]

#: False: no function-wrapper tool can be started in this build.
available = False
#: Why the function wrappers are unavailable.
reason = (
    "this build has no GOTCHA function wrappers or OMPT callbacks; MPI, OpenMP, NCCL and "
    "malloc calls are not wrapped (time them with markers, the profiler or the region API)"
)

#: The tools, in the order of the ids lists, and what each wraps.
TOOLS = {
    "mpip": "MPI function wrappers (mpip)",
    "ompt": "OpenMP tools interface (ompt)",
    "ncclp": "NCCL function wrappers (ncclp)",
    "mallocp": "malloc function wrappers (mallocp)",
}
#: Every accepted name and the tool it selects.
NAMES = {
    "mpip": "mpip",
    "mpi": "mpip",
    "ompt": "ompt",
    "openmp": "ompt",
    "ncclp": "ncclp",
    "nccl": "ncclp",
    "mallocp": "mallocp",
    "malloc": "mallocp",
    "memory": "mallocp",
}


def _requested(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[str]:
    """The tools named by ``args`` (switched on) and ``kwargs`` (name=bool, or an on/off word),
    in tool order; RuntimeError naming the valid choices for an unknown name or value."""
    wanted = dict.fromkeys(TOOLS, False)
    for name, on in [*((a, True) for a in args), *kwargs.items()]:
        tool = NAMES.get(str(name).lower()) if isinstance(name, str) else None
        if tool is None:
            raise RuntimeError(
                f"unknown function wrapper {name!r}; valid choices: {', '.join(NAMES)}"
            )
        try:
            wanted[tool] = parse_bool(on)
        except (TypeError, ValueError) as exc:
            raise RuntimeError(f"function wrapper {name}={on!r}: {exc}") from None
    return [tool for tool, on in wanted.items() if on]


def start_function_wrappers(*args: str, **kwargs: bool) -> list[int]:
    """Start the function-wrapper tools named in ``args`` (``"mpi"``, ``"openmp"``,
    ``"nccl"``, ``"malloc"`` or their other names) and in ``kwargs`` (``malloc=True``);
    return the ids of ``[mpip, ompt, ncclp, mallocp]`` (0 for a tool not started).

    Here: ``[0, 0, 0, 0]`` when nothing is asked for; otherwise raises
    :class:`~timemory.api.UnavailableError` (see ``reason``). An unknown name raises
    ``RuntimeError`` naming the valid choices."""
    tools = _requested(args, kwargs)
    if tools:
        raise UnavailableError(", ".join(TOOLS[t] for t in tools), reason)
    return [0, 0, 0, 0]


def stop_function_wrappers(ids: list[int]) -> list[int]:
    """Stop the tools of ``ids`` (what :func:`start_function_wrappers` returned) and return
    the ids still active. Here only ``[0, 0, 0, 0]`` (nothing started) is valid; anything
    else raises ``ValueError``."""
    try:
        values = [int(i) for i in ids]
    except (TypeError, ValueError):
        values = []
    if len(values) != 4 or any(values):
        raise ValueError(
            f"stop_function_wrappers: expected the [mpip, ompt, ncclp, mallocp] ids that "
            f"start_function_wrappers returned, got {ids!r}; no function wrapper runs here"
        )
    return [0, 0, 0, 0]


def _tool_functions(tool: str) -> tuple[Callable[[], int], Callable[[int], int]]:
    def start() -> int:
        raise UnavailableError(TOOLS[tool], reason)

    def stop(activation: int) -> int:
        raise UnavailableError(TOOLS[tool], reason)

    start.__name__ = start.__qualname__ = f"start_{tool}"
    stop.__name__ = stop.__qualname__ = f"stop_{tool}"
    start.__module__ = stop.__module__ = __name__
    start.__doc__ = (
        f"Start the {TOOLS[tool]} and return its activation id (1 or more).\n\n"
        "Unavailable in this build: raises :class:`~timemory.api.UnavailableError`."
    )
    stop.__doc__ = (
        f"Stop one activation of the {TOOLS[tool]}; return how many are still active.\n\n"
        "Unavailable in this build: raises :class:`~timemory.api.UnavailableError`."
    )
    return start, stop


start_mpip, stop_mpip = _tool_functions("mpip")
start_ompt, stop_ompt = _tool_functions("ompt")
start_ncclp, stop_ncclp = _tool_functions("ncclp")
start_mallocp, stop_mallocp = _tool_functions("mallocp")
#: Deprecated name of :func:`start_mpip`.
init_mpip = start_mpip
#: Deprecated name of :func:`start_ompt`.
init_ompt = start_ompt


class function_wrappers:
    """Decorator and context manager that switches function-wrapper tools on around code:
    ``function_wrappers("mpi", "nccl", ompt=False)``, with the names of
    :func:`start_function_wrappers`.

    The names are checked at once (``RuntimeError`` naming the valid choices). This build
    has no function wrappers: the code runs unwrapped, a ``RuntimeWarning`` says why (once
    per place), and :meth:`is_running` stays False. ``start()`` / ``stop()`` do the same
    by hand. Exceptions of the wrapped code propagate unchanged.
    """

    def __init__(self, *args: str, **kwargs: bool) -> None:
        #: The tools this object switches on, in ``[mpip, ompt, ncclp, mallocp]`` order.
        self.tools = _requested(args, kwargs)
        self._ids: list[int] | None = None

    def start(self) -> None:
        """Switch the tools on (here: warn that they are unavailable)."""
        if self._ids is not None or not self.tools:
            return
        try:
            self._ids = start_function_wrappers(*self.tools)
        except UnavailableError as exc:
            import warnings

            warnings.warn(f"{exc}; running without them", RuntimeWarning, stacklevel=3)

    def stop(self) -> None:
        """Switch the tools off again."""
        if self._ids is not None:
            ids, self._ids = self._ids, None
            stop_function_wrappers(ids)

    def is_running(self) -> bool:
        """True while the tools are switched on (never here)."""
        return self._ids is not None

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate ``func``: the tools are on during each call."""

        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            self.start()
            try:
                return func(*args, **kwargs)
            finally:
                self.stop()

        return wrapped

    def __enter__(self) -> function_wrappers:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()
