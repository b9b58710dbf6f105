"""The roofline model: how close each region runs to this machine's
limits.

* :mod:`timemory.roofline.ert` measures the limits: peak GFLOP/s (SP, DP) and the bandwidth of
  each memory level, cached per machine.
* The ``cpu_roofline_flops`` / ``cpu_roofline_dp_flops`` / ``cpu_roofline_sp_flops`` components
  record FLOPs, bytes and runtime per region. The work is declared with :func:`add_work`; a
  region that declares no FLOPs gets those the CPU counted (``PAPI_DP_OPS`` /
  ``PAPI_SP_OPS`` through ``perf_event_open``) where it can count them, and one that declares
  no bytes gets an estimate from the load and store instructions counted (``PAPI_LST_INS``,
  one element each) — virtual machines cannot count them, :func:`counter_status` says why.
  Their JSON carries the ERT data as its ``roofline`` member.
* :func:`plot_roofline` (and ``python -m timemory.roofline``) draws the roofline: log-log,
  arithmetic intensity (FLOP/byte) against GFLOP/s, one point per region.

::

    from timemory.bundle import marker
    from timemory import roofline

    with marker(["cpu_roofline_dp_flops"], key="daxpy"):
        y += a * x
        roofline.add_work(flops=2 * n, bytes=3 * 8 * n)   # FLOPs and bytes moved
"""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = [
    "RooflineError",
    "add_work",
    "counter_status",
    "ert_block",
    "hotspots",
    "load",
    "plot_roofline",
    "RTYPES",
]

#: ``-t/--rtype`` choices; only the CPU ones have data here (no GPU support).
RTYPES = (
    "cpu_roofline",
    "cpu_roofline_sp",
    "cpu_roofline_dp",
    "gpu_roofline",
    "gpu_roofline_hp",
    "gpu_roofline_sp",
    "gpu_roofline_dp",
    "gpu_roofline_inst",
)


class RooflineError(ValueError):
    """Input that cannot be plotted (no roofline data, no ERT block, mismatched files); the
    message is one line."""


def add_work(flops: float = 0.0, bytes: float = 0.0, dtype: str = "dp") -> None:  # noqa: A002
    """Declare work done by the calling thread: ``flops`` floating-point operations of
    ``dtype`` (``"dp"``, ``"sp"``, or ``""`` for untyped, counted by ``cpu_roofline_flops``
    only) and ``bytes`` moved to or from memory. Every running ``cpu_roofline_*`` region of the
    thread gets it (``cpu_roofline_dp_flops`` counts DP FLOPs, ``cpu_roofline_sp_flops`` SP
    FLOPs, ``cpu_roofline_flops`` all; bytes count in all three)."""
    from .. import _core

    _core.roofline_add_work(dtype, float(flops), float(bytes))


def counter_status() -> dict[str, tuple[bool, str]]:
    """Whether this machine can count the roofline's work in hardware: ``{"PAPI_DP_OPS":
    (available, reason), "PAPI_SP_OPS": ..., "PAPI_LST_INS": ...}``. Where it can, a region
    that declared no FLOPs gets the counted ones, and one that declared no bytes gets one
    element (8 bytes; 4 for ``cpu_roofline_sp_flops``) per load or store instruction counted:
    an estimate, low for vectorised code, which moves a whole vector per instruction."""
    from .. import _core

    out = {}
    for name in ("PAPI_DP_OPS", "PAPI_SP_OPS", "PAPI_LST_INS"):
        info = _core.hw_event_info(name)
        out[name] = (bool(info["available"]), str(info["reason"]))
    return out


def ert_block(data: dict[str, Any]) -> dict[str, Any]:
    """The ``roofline`` member from an :func:`ert.run <timemory.roofline.ert.run>`
    result: ``{"entries", "ert", "ceilings", "machine"}``."""
    return {
        "entries": len(data["ert"]),
        "ert": data["ert"],
        "ceilings": data["ceilings"],
        "machine": data["machine"],
    }


_EMBEDDED: list[bool] = []


def _embed_ert() -> None:
    """Measure (or load from the cache) this machine's ERT and hand it to the native writer,
    once per process: called before a cpu_roofline_* component's files are written."""
    if _EMBEDDED:
        return
    from .. import _core
    from . import ert

    _EMBEDDED.append(True)  # once, even when it fails: one report, not one per component
    _core.roofline_set_ert(json.dumps(ert_block(ert.run())))


# ------------------------------------------------------------------------------ reading


def load(path_or_data: Any) -> dict[str, Any]:
    """The component dict (``{"type", "roofline", "ranks", ...}``) of a flat roofline JSON
    file, a loaded file, or the component dict itself."""
    data = path_or_data
    name = "input"
    if isinstance(path_or_data, (str, os.PathLike)):
        name = os.fspath(path_or_data)
        try:
            with open(name, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError) as err:
            raise RooflineError(f"cannot read {name}: {err}") from None
    if isinstance(data, dict) and "timemory" in data:
        data = data["timemory"]
        keys = [k for k, v in data.items() if isinstance(v, dict) and "ranks" in v]
        data = data[keys[0]] if keys else None
    if not isinstance(data, dict) or "ranks" not in data:
        raise RooflineError(f"{name} is not a flat timemory JSON file of a roofline component")
    return data


_FLOP_KEYS = ("flops", "counted_ops", "flop_count", "dp_operations", "sp_operations")
_BYTE_KEYS = ("bytes", "bandwidth", "counted_ins", "ldst_executed")
_TIME_KEYS = ("runtime", "elapsed")


def _column(types: list[str], keys: tuple[str, ...], what: str, name: str) -> int:
    lowered = [str(t).strip().lower() for t in types]
    for key in keys:
        for i, t in enumerate(lowered):
            if t == key or (key == "flop_count" and t.startswith(key)):
                return i
    raise RooflineError(f"{name} has no {what} values (types: {', '.join(types)})")


def _entries(component: dict[str, Any], rank: int | None) -> list[dict[str, Any]]:
    ranks = component["ranks"]
    if rank is not None:
        ranks = [r for r in ranks if int(r.get("rank", 0)) == rank]
    return [e for r in ranks for e in r.get("graph", []) if e["entry"].get("laps", 1)]


def _label(prefix: str) -> str:
    """A flat entry's label without its decoration, its rank and thread (when the data keep
    them apart) in brackets: ``"|1>>> solve"`` -> ``"solve [t1]"``."""
    from ..plotting._read import _split_prefix

    label, thread, rank = _split_prefix(prefix)
    tags = [f"r{rank}"] if rank is not None else []
    tags += [f"t{thread}"] if thread is not None else []
    return f"{label} [{' '.join(tags)}]" if tags else label


def hotspots(ai_data: Any, op_data: Any, rank: int | None = None) -> list[dict[str, Any]]:
    """One point per region, pairing the i-th entry of the ``ai`` and ``op`` data:
    ``{"label", "intensity" (FLOP/byte), "gflops", "flops", "bytes", "runtime", "laps"}``.
    FLOPs and runtime come from ``op``, bytes from ``ai``. Regions with no FLOPs or bytes are
    left out (nothing to place on a log-log plot)."""
    ai, op = load(ai_data), load(op_data)
    types_ai, types_op = list(ai.get("type") or []), list(op.get("type") or [])
    i_bytes = _column(types_ai, _BYTE_KEYS, "byte", "ai data")
    i_flops = _column(types_op, _FLOP_KEYS, "FLOP", "op data")
    i_time = _column(types_op, _TIME_KEYS, "runtime", "op data")
    # runtime in seconds: repr_data is in the file's timing unit, unit_value ns per unit
    units = op.get("unit_value")
    per_unit = 1.0
    if isinstance(units, list) and len(units) > i_time:
        per_unit = float(units[i_time]) / 1e9
    ai_entries, op_entries = _entries(ai, rank), _entries(op, rank)
    if len(ai_entries) != len(op_entries):
        raise RooflineError(
            f"the ai and op data have {len(ai_entries)} and {len(op_entries)} regions: "
            "they must come from two runs of the same program"
        )
    points = []
    for a, o in zip(ai_entries, op_entries):
        nbytes = float(a["entry"]["repr_data"][i_bytes])
        flops = float(o["entry"]["repr_data"][i_flops])
        runtime = float(o["entry"]["repr_data"][i_time]) * per_unit
        if flops <= 0 or nbytes <= 0 or runtime <= 0:
            continue
        points.append(
            {
                "label": _label(o["prefix"]),
                "intensity": flops / nbytes,
                "gflops": flops / runtime / 1e9,
                "flops": flops,
                "bytes": nbytes,
                "runtime": runtime,
                "laps": int(o["entry"].get("laps", 1)),
            }
        )
    return points


def _ceilings(ai: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    for component in (op, ai):
        block = component.get("roofline") or {}
        if block.get("ceilings"):
            return block["ceilings"]
        if block.get("ert"):
            from .ert import ceilings

            return ceilings(block["ert"], caches=block.get("machine", {}).get("caches"))
    raise RooflineError(
        "the input has no ERT data (its 'roofline' member is empty): write it with a timemory "
        "that runs ERT at finalize"
    )


# ------------------------------------------------------------------------------ plotting


def plot_roofline(ai_data: Any, op_data: Any, *args: Any, **kwargs: Any) -> str:
    """Draw the roofline and return the image's path: see
    :func:`timemory.roofline._plot.plot_roofline` (imported on first use, with matplotlib)."""
    from ._plot import plot_roofline as draw

    return draw(ai_data, op_data, *args, **kwargs)
