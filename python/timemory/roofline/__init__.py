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
    file, a loaded file, or the component dict itself. :class:`RooflineError` (a
    ``ValueError``) for a file that cannot be read or a document that is not one, naming
    the document and the place in it."""
    from .. import _documents as d

    data = path_or_data
    name = "<data>"
    if isinstance(path_or_data, (str, os.PathLike)):
        name = os.fsdecode(path_or_data)
        try:
            data = d.read_json(path_or_data, name)
        except OSError as err:
            raise RooflineError(f"cannot read {name}: {err.strerror or err}") from None
        except d.DocumentError as err:
            raise RooflineError(str(err)) from None
    where: Any = name
    if isinstance(data, dict) and "timemory" in data:
        body = data["timemory"] if isinstance(data["timemory"], dict) else {}
        keys = [k for k, v in body.items() if isinstance(v, dict) and "ranks" in v]
        data, where = (body[keys[0]], ((name, "timemory"), keys[0])) if keys else (None, name)
    if not isinstance(data, dict) or "ranks" not in data:
        raise RooflineError(f"{name}: not a flat timemory JSON file of a roofline component")
    try:
        _check_component(data, where)
    except d.DocumentError as err:
        raise RooflineError(str(err)) from None
    return data


def _check_component(component: dict[str, Any], where: Any) -> None:
    """That everything the roofline reads from a component is there with the right type:
    the plot then reads it without checks."""
    from .. import _documents as d

    count = d.as_integer()
    types = d.member(component, "type", where, _strings, [])
    width = len(types) or 64
    values = d.as_numbers(width)
    d.member(component, "unit_value", where, d.as_numbers(64), None)
    at_ranks = (where, "ranks")
    for i, rank in enumerate(d.as_list(component["ranks"], at_ranks)):
        at_rank = (at_ranks, i)
        rank = d.as_object(rank, at_rank)
        d.member(rank, "rank", at_rank, count, 0)
        at_graph = (at_rank, "graph")
        for j, item in enumerate(d.member(rank, "graph", at_rank, d.as_list, [])):
            at_item = (at_graph, j)
            item = d.as_object(item, at_item)
            d.member(item, "prefix", at_item, d.as_string)
            entry = d.member(item, "entry", at_item, d.as_object)
            d.member(entry, "laps", (at_item, "entry"), count, 1)
            data = d.member(entry, "repr_data", (at_item, "entry"), values)
            if types and len(data) != len(types):
                d.fail(
                    ((at_item, "entry"), "repr_data"),
                    f"a list of {len(types)} numbers (one per type: {', '.join(types)})",
                    entry["repr_data"],
                )
    block = d.member(component, "roofline", where, _optional_object, None)
    if block is not None:
        _check_block(block, (where, "roofline"))


def _optional_object(value: Any, where: Any) -> Any:
    from .. import _documents as d

    return None if value is None else d.as_object(value, where)


def _strings(value: Any, where: Any) -> list[str]:
    from .. import _documents as d

    return [d.as_string(v, (where, i)) for i, v in enumerate(d.as_list(value, where))]


def _check_block(block: dict[str, Any], where: Any) -> None:
    """The ERT block: ``ceilings`` (peak and bandwidth figures by name), ``ert`` (the
    measurements the ceilings are computed from), ``machine`` (its caches, cpu and isa)."""
    from .. import _documents as d

    ceilings = d.member(block, "ceilings", where, _optional_object, None)
    if ceilings:
        for key in ("peak", "bandwidth"):
            figures = d.member(ceilings, key, (where, "ceilings"), d.as_object)
            for name, value in figures.items():
                _figure(value, (((where, "ceilings"), key), name))
    ert = d.member(block, "ert", where, d.as_list, [])
    count = d.as_integer()
    for i, entry in enumerate(ert):
        at = ((where, "ert"), i)
        entry = d.as_object(entry, at)
        d.member(entry, "dtype", at, d.as_string)
        d.member(entry, "label", at, d.as_string)
        d.member(entry, "working-set", at, count)
        d.member(entry, "total-ops", at, d.as_number)
        d.member(entry, "total-bytes", at, d.as_number)
        counter = d.member(entry, "counter", at, d.as_object)
        d.member(counter, "repr_data", (at, "counter"), d.as_number)
        params = d.member(entry, "exec-params", at, d.as_object)
        d.member(params, "nthreads", (at, "exec-params"), count)
    machine = d.member(block, "machine", where, d.as_object, {})
    at_machine = (where, "machine")
    for key in ("cpu", "isa"):
        d.member(machine, key, at_machine, d.as_string, "")
    caches = d.member(machine, "caches", at_machine, _optional_list, None) or []
    for i, cache in enumerate(caches):
        at_cache = ((at_machine, "caches"), i)
        cache = d.as_object(cache, at_cache)
        for key in ("level", "size", "shared"):
            d.member(cache, key, at_cache, count)


def _optional_list(value: Any, where: Any) -> Any:
    from .. import _documents as d

    return None if value is None else d.as_list(value, where)


# What a log-log plot can place (matplotlib's axis arithmetic overflows far beyond): ceilings
# (GFLOP/s, GB/s) and regions (FLOP/byte, GFLOP/s). No machine or measurement comes near.
_CEILINGS = (1e-30, 1e30)
_POINTS = (1e-100, 1e100)


def _figure(value: Any, where: Any) -> float:
    """A ceiling (GFLOP/s or GB/s): 0 (none: not drawn) or a number a log scale can place."""
    from .. import _documents as d

    number = d.as_number(value, where)
    if not (number == 0 or _CEILINGS[0] <= number <= _CEILINGS[1]):  # NaN fails too
        d.fail(where, "0 or a number from 1e-30 to 1e30", value)
    return number


_FLOP_KEYS = ("flops", "counted_ops", "flop_count", "dp_operations", "sp_operations")
_BYTE_KEYS = ("bytes", "bandwidth", "counted_ins", "ldst_executed")
_TIME_KEYS = ("runtime", "elapsed")


def _column(types: list[str], keys: tuple[str, ...], what: str, name: str) -> int:
    lowered = [str(t).strip().lower() for t in types]
    for key in keys:
        for i, t in enumerate(lowered):
            if t == key or (key == "flop_count" and t.startswith(key)):
                return i
    raise RooflineError(f"{name}: no {what} values (types: {', '.join(types) or 'none'})")


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
    ai_name, op_name = (
        os.fsdecode(x) if isinstance(x, (str, os.PathLike)) else f"the {what} data"
        for x, what in ((ai_data, "ai"), (op_data, "op"))
    )
    types_ai, types_op = list(ai.get("type") or []), list(op.get("type") or [])
    i_bytes = _column(types_ai, _BYTE_KEYS, "byte", ai_name)
    i_flops = _column(types_op, _FLOP_KEYS, "FLOP", op_name)
    i_time = _column(types_op, _TIME_KEYS, "runtime", op_name)
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
        if not (flops > 0 and nbytes > 0 and runtime > 0):  # NaN as well
            continue
        intensity, gflops = flops / nbytes, flops / runtime / 1e9
        low, high = _POINTS
        if not (low <= intensity <= high and low <= gflops <= high):
            continue  # nowhere on a log-log plot (NaN neither)
        points.append(
            {
                "label": _label(o["prefix"]),
                "intensity": intensity,
                "gflops": gflops,
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

            found = ceilings(block["ert"], caches=(block.get("machine") or {}).get("caches"))
            # figures from measurements that make no sense (a zero time...) cannot be drawn
            for key in ("peak", "bandwidth"):
                low, high = _CEILINGS
                found[key] = {k: v for k, v in found[key].items() if low <= v <= high}
            return found
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
