"""Where the package is assembled: what the lifecycle and the output registry call in the
layers above them, registered at ``import timemory`` without importing any of it.

The transports register themselves when they are imported (:mod:`timemory.mpi` its collective
and its finalisation, :mod:`timemory._workers` the pool workers' data and their hand-over). What
must work before anything imports its module is registered here, as small adapters that import
it on first use: a program that never imports ``timemory.plotting`` still gets its plots
(``plot_output``), one that records ``cpu_roofline_*`` without importing ``timemory.roofline``
still gets the ERT block, ``mpi_init`` still starts MPI, a running profiler, tracer or line
profiler is still stopped before the output is written, and the thread and process pools a
program imports hand their tasks the submitting call path (:mod:`timemory.executors`).
"""

from __future__ import annotations

import sys

from . import _checkpoint, _import_hooks, _lifecycle, _output, _signals
from . import settings as _settings
from ._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

# ------------------------------------------------------------------ lifecycle
_HOOK_MODULES = ("timemory.profiler", "timemory.trace", "timemory.line_profiler")


def _stop_tool_hooks() -> None:
    """The profiler, tracer and line profiler, if loaded (none can run otherwise)."""
    for name in _HOOK_MODULES:
        hook = sys.modules.get(name)
        if hook is not None:
            hook._stop_for_finalize()


def _start_mpi() -> None:
    """``settings.mpi_init``: initialise MPI when a program is named."""
    if _settings.mpi_init:
        from . import mpi

        mpi.init()


def _in_worker() -> bool:
    """A pool worker hands its data to its parent, which checkpoints them: none here."""
    workers = sys.modules.get("timemory._workers")
    return workers is not None and bool(workers.is_worker())


_lifecycle.add_stopper(_stop_tool_hooks)
_lifecycle.add_initializer(_start_mpi)
_checkpoint.add_exclusion(_in_worker)
_checkpoint.install()  # starts the checkpoint thread now when the setting is on


# ------------------------------------------------------------------ executors
def _patch_executor(module: Any) -> None:
    """A pool module the program imported: its tasks carry the submitting call path
    (:mod:`timemory.executors`, imported only then)."""
    from . import executors

    executors._patch(module)


for _pool_module in (
    "concurrent.futures.thread",
    "concurrent.futures.process",
    "multiprocessing.pool",
):
    _import_hooks.after_import(_pool_module, _patch_executor)


# ------------------------------------------------------------------ formats
def _embed_ert(component: Any) -> None:
    """The roofline components' ``roofline`` member: this machine's ERT ceilings (cached)."""
    try:
        from .roofline import _embed_ert

        with _signals.interruptible():  # a Ctrl-C held off during the write stops ERT
            _embed_ert()
    except (Exception, KeyboardInterrupt) as err:  # noqa: BLE001 - the ceilings must
        # never cost the run its data; Ctrl-C during the measurement stops ERT only
        what = "was interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
        echo(
            f"[{component.label}]> ERT {what} ({type(err).__name__}: {err}); the files have no "
            "ceilings ('roofline' member empty)",
            sys.stderr,
        )


def _collect_plot(component: Any) -> None:
    """Keep the component's flat JSON for a bar chart drawn once every file is written."""
    path = component.run.plan.path(component.label, ".png")
    text = "".join(component.flat_json())
    component.run.pending.setdefault("plot", []).append((text, path, component.label))


def _draw_plots(run: Any) -> list[str]:
    """``settings.plot_output``: a bar chart per component. matplotlib is imported only here;
    without it (or if a plot fails) there is a warning on stderr and every other output is
    still written."""
    try:
        from .plotting import plot_at_finalize

        return plot_at_finalize(run.pending["plot"], echo_dart=bool(_settings.dart_output))
    except Exception as err:  # noqa: BLE001 - plots must never cost the run its data
        echo(
            f"[timemory]> plot_output: no plots were drawn: {type(err).__name__}: {err}",
            sys.stderr,
        )
        return []


_output.register_format(
    _output.Format(
        "roofline",
        "",
        "",
        _embed_ert,
        "prepare",
        applies=lambda info: str(info["key"]).startswith("cpu_roofline"),
    )
)
_output.register_format(
    _output.Format(
        "plot", "plot_output", ".png", _collect_plot, "flat", kind="plot", finish=_draw_plots
    )
)


def _write_diff(run: Any) -> Any:
    """``settings.diff_output``: this run compared with the output folder ``input_path``
    (diff.txt, diff.json). The comparison is imported only here; a failure is a line on
    stderr, never the run's data."""
    try:
        from .analyze._diff import write_diff

        return write_diff(run)
    except Exception as err:  # noqa: BLE001 - a comparison must never cost the run its data
        echo(f"[timemory]> diff_output: no comparison written: {type(err).__name__}: {err}")
        return None


_output.register_format(
    _output.Format("diff", "diff_output", ".txt", _write_diff, "run", kind="text")
)
