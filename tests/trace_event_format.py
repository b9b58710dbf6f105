"""A checker of the Chrome "Trace Event Format" (the JSON that chrome://tracing and the
Perfetto UI load), written from its specification, for the tests of the Perfetto export.

What the specification says, and what is checked here:

* The document is either a JSON array of events or an object whose ``traceEvents`` member
  is that array; the object may also have ``displayTimeUnit`` ("ms" or "ns"),
  ``otherData`` (an object of metadata) and members the viewer ignores.
* Every event is an object with ``ph``, the one-character phase, and ``pid``/``tid``
  (process and thread ids: integers here; the format allows strings for some phases, which
  timemory never writes). ``name`` is a string; ``cat`` when present is a string of
  comma-separated categories; ``args`` when present is an object.
* ``ts`` (and ``dur``, ``tts``, ``tdur``) are numbers of microseconds; fractions allowed.
* Duration events ``B``/``E``: each ``E`` closes the innermost open ``B`` of its thread,
  and the timestamps of a thread's duration events must be in increasing order; every
  ``B`` is closed by the end of the trace (a trace cut off may leave some open: ``strict``
  off allows that).
* Complete events ``X`` need ``dur``, never negative; unlike duration events their
  timestamps may come in any order. Two complete events of one thread either nest or are
  disjoint (a slice cannot end inside a sibling): checked as the B/E pairs they stand for.
* Counter events ``C`` carry their series in ``args``: each value a number. Counters
  belong to the process (the tid is ignored).
* Instant events ``i``/``I``: ``s`` when present is "g", "p" or "t".
* Metadata events ``M``: ``name`` one of ``process_name``, ``process_labels``,
  ``process_sort_index``, ``thread_name``, ``thread_sort_index``, with ``args`` holding
  ``name`` (a string) for the names, ``labels`` (a string) for the labels and
  ``sort_index`` (an integer) for the sort indices. ``ts`` is not needed.
* Async (``b``/``n``/``e``, legacy ``S``/``T``/``p``/``F``), flow (``s``/``t``/``f``) and
  object (``N``/``O``/``D``) events need an ``id`` (timemory writes none of them).

``check(document)`` returns the list of problems (empty when the trace is valid); each
names the event by its position in ``traceEvents``.
"""

from __future__ import annotations

import math
from typing import Any

PHASES = set("BEXiICbneSTpFstfPNODMVvRc()")
METADATA_NAMES = {
    "process_name": ("name", str),
    "process_labels": ("labels", str),
    "process_sort_index": ("sort_index", int),
    "thread_name": ("name", str),
    "thread_sort_index": ("sort_index", int),
}
NEEDS_ID = set("bneSTpFstfNOD")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def events_of(document: Any) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict) and isinstance(document.get("traceEvents"), list):
        return document["traceEvents"]
    raise ValueError("a trace is a JSON array of events or an object with a traceEvents array")


def check(document: Any, strict: bool = True) -> list[str]:
    problems: list[str] = []
    try:
        events = events_of(document)
    except ValueError as err:
        return [str(err)]
    if isinstance(document, dict):
        unit = document.get("displayTimeUnit", "ms")
        if unit not in ("ms", "ns"):
            problems.append(f"displayTimeUnit {unit!r} is neither 'ms' nor 'ns'")
        if "otherData" in document and not isinstance(document["otherData"], dict):
            problems.append("otherData is not an object")

    open_b: dict[tuple[Any, Any], list[tuple[str, float]]] = {}
    last_duration_ts: dict[tuple[Any, Any], float] = {}
    complete: dict[tuple[Any, Any], list[tuple[float, float, int]]] = {}
    for i, ev in enumerate(events):
        where = f"event {i}"
        if not isinstance(ev, dict):
            problems.append(f"{where}: not an object")
            continue
        ph = ev.get("ph")
        if not isinstance(ph, str) or ph not in PHASES:
            problems.append(f"{where}: unknown phase {ph!r}")
            continue
        where = f"event {i} ({ph} {ev.get('name')!r})"
        for key in ("pid", "tid"):
            if not _integer(ev.get(key)):
                problems.append(f"{where}: {key} is not an integer")
        if "name" in ev and not isinstance(ev["name"], str):
            problems.append(f"{where}: name is not a string")
        if ph not in "E" and not isinstance(ev.get("name"), str):
            problems.append(f"{where}: no name")
        if "cat" in ev and not isinstance(ev["cat"], str):
            problems.append(f"{where}: cat is not a string")
        if "args" in ev and not isinstance(ev["args"], dict):
            problems.append(f"{where}: args is not an object")
        if ph != "M" and not _number(ev.get("ts")):
            problems.append(f"{where}: ts is not a number of microseconds")
            continue
        for key in ("tts", "tdur"):
            if key in ev and not _number(ev[key]):
                problems.append(f"{where}: {key} is not a number")
        track = (ev.get("pid"), ev.get("tid"))
        if ph in NEEDS_ID and "id" not in ev and "id2" not in ev:
            problems.append(f"{where}: no id")
        if ph in "BE":
            ts = float(ev["ts"])
            if ts < last_duration_ts.get(track, -math.inf):
                problems.append(f"{where}: duration events of a thread out of timestamp order")
            last_duration_ts[track] = ts
            stack = open_b.setdefault(track, [])
            if ph == "B":
                stack.append((ev.get("name", ""), ts))
            elif not stack:
                problems.append(f"{where}: E with no open B on its thread")
            else:
                name, _ = stack.pop()
                if "name" in ev and ev["name"] != name:
                    problems.append(f"{where}: E named {ev['name']!r} closes B {name!r}")
        elif ph == "X":
            dur = ev.get("dur")
            if not _number(dur):
                problems.append(f"{where}: complete event without a numeric dur")
            elif dur < 0:
                problems.append(f"{where}: negative dur {dur}")
            else:
                complete.setdefault(track, []).append((float(ev["ts"]), float(dur), i))
        elif ph == "C":
            args = ev.get("args")
            if not isinstance(args, dict) or not args:
                problems.append(f"{where}: counter without series in args")
            else:
                for key, value in args.items():
                    if not _number(value):
                        problems.append(f"{where}: counter series {key!r} is not a number")
        elif ph in "iI":
            if "s" in ev and ev["s"] not in ("g", "p", "t"):
                problems.append(f"{where}: instant scope {ev['s']!r} is not g, p or t")
        elif ph == "M":
            spec = METADATA_NAMES.get(ev.get("name", ""))
            if spec is None:
                problems.append(f"{where}: unknown metadata name")
                continue
            key, kind = spec
            args = ev.get("args")
            if not isinstance(args, dict) or not isinstance(args.get(key), kind):
                problems.append(f"{where}: args.{key} is not a {kind.__name__}")
    if strict:
        for track, stack in open_b.items():
            for name, _ in stack:
                problems.append(f"B {name!r} of pid/tid {track} is never closed")
    problems.extend(_complete_nesting(complete))
    return problems


def _complete_nesting(tracks: dict[tuple[Any, Any], list[tuple[float, float, int]]]) -> list[str]:
    """Complete events of one thread nest or are disjoint: sorted by begin (the longer
    first), each must end before or when the innermost open one that contains its begin
    ends."""
    problems = []
    for track, slices in tracks.items():
        slices.sort(key=lambda s: (s[0], -s[1]))
        stack: list[tuple[float, int]] = []  # (end, event index)
        for ts, dur, i in slices:
            end = ts + dur
            while stack and stack[-1][0] <= ts:
                stack.pop()
            # a tolerance of a thousandth of a microsecond: the format's times are decimal
            if stack and end > stack[-1][0] + 1e-3:
                problems.append(
                    f"event {i}: complete event of pid/tid {track} overlaps event "
                    f"{stack[-1][1]} without nesting in it"
                )
            stack.append((end, i))
    return problems
