"""``diff_output``: each run's output also gets a comparison of this run against an earlier
run's output folder (``input_path``).

At finalize, once the component files are written, the call graph this write produced (its
``<prefix><label>.tree.json`` files) is compared with the one the input folder holds (its
files named ``<input_prefix><label>.<ext>`` for an ``ext`` of ``input_extensions``; the call
graph is read from the ``.tree.json`` ones) by :func:`timemory.runs.compare`: nodes matched by
call path, per node and component the ratio of this run's inclusive value to the input's,
nodes added and removed. One run on each side is one repeat: no statistics can tell a change
from noise, so the verdict of a matched node is "not enough data" and the ratios are shown
as measured. The result goes to ``diff.txt`` (a table) and ``diff.json`` (the comparison's
JSON) in the output folder, written atomically, and one line on stderr says where.

The lifecycle and the output layer do not import this module (it is in the tools layer):
``timemory._registrations`` registers a ``"diff"`` format, enabled by ``diff_output``, whose
writer imports it when it runs. A problem (no ``input_path``, no input files, no call graph
on a side) is one line on stderr and no diff files; the run's other files are never affected.
"""

from __future__ import annotations

import os
import sys

from .. import settings as _settings
from .._text import echo, split_names

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Sequence
    from typing import Any

__all__ = ["DiffError", "graph_of_files", "input_files", "write_diff"]

#: What a note on stderr starts with.
TAG = "[timemory]> diff_output"


class DiffError(ValueError):
    """Why no comparison was written, in one line."""


def input_files() -> tuple[str, list[str], list[str]]:
    """The input folder, the files of it that count (named ``<input_prefix>...`` with one of
    ``input_extensions``) and the call-graph files among them (``.tree.json``), as the
    settings say. :class:`DiffError` when ``input_path`` is empty or not a folder, or when no
    file counts."""
    where = str(_settings.input_path or "")
    if not where:
        raise DiffError(
            "diff_output is on but input_path is empty: set TIMEMORY_INPUT_PATH "
            "(--timemory-input-path) to the output folder of the run to compare with"
        )
    head = _settings.compose_input_filename("", "")
    folder, prefix = os.path.split(head)
    folder = folder or "."
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise DiffError(f"input_path {folder!r} {what} (the output folder of an earlier run)")
    extensions = [e.lstrip(".") for e in split_names(str(_settings.input_extensions or ""))]
    extensions = [e for e in extensions if e]
    try:
        names = sorted(os.listdir(folder))
    except OSError as err:
        raise DiffError(f"input_path {folder!r} cannot be read: {err.strerror or err}") from None
    counted = [
        os.path.join(folder, n)
        for n in names
        if n.startswith(prefix)
        and any(n.endswith("." + e) for e in extensions)
        and os.path.isfile(os.path.join(folder, n))
    ]
    shown = (
        f"{prefix}*.{{{','.join(extensions)}}}"
        if len(extensions) != 1
        else (f"{prefix}*.{extensions[0] if extensions else ''}")
    )
    if not counted:
        raise DiffError(
            f"no input files in {folder!r} named {shown} (input_prefix {prefix!r}, "
            f"input_extensions {str(_settings.input_extensions)!r})"
        )
    trees = [p for p in counted if p.endswith(".tree.json")]
    if not trees:
        raise DiffError(
            f"none of the {len(counted)} input files in {folder!r} named {shown} holds a call "
            f"graph ({prefix}<label>.tree.json, written while tree_output is on; "
            "input_extensions must include json)"
        )
    return folder, counted, trees


def graph_of_files(paths: Sequence[str]) -> Any:
    """The call graph (:class:`timemory.runs.Graph`) of these ``<prefix><label>.tree.json``
    files alone. The folder reader takes every tree file of a folder, so that files of other
    runs (other prefixes) beside them are left out by linking these into a private folder
    under their names without the prefix."""
    from .._files import make_private_dir
    from ..runs import read_folder

    staging = make_private_dir("timemory-diff-")
    made: list[str] = []
    try:
        for path in paths:
            # the reader names each component from the JSON inside, not from the file name
            target = os.path.join(staging, os.path.basename(path))
            os.symlink(os.path.abspath(path), target)
            made.append(target)
        return read_folder(staging)
    finally:
        for target in made:
            try:
                os.unlink(target)
            except OSError:
                pass
        try:
            os.rmdir(staging)
        except OSError:
            pass


def _this_write(run: Any) -> list[str]:
    """The call-graph files this write produced: the tree files timemory listed in the plan's
    folder with the plan's prefix (an output folder can hold other runs' files)."""
    from .._output import manager

    probe = run.plan.path("x", ".tree.json")
    folder = os.path.dirname(probe)
    start = os.path.basename(probe)[: -len("x.tree.json")]
    seen: dict[str, None] = {}
    for path in manager._outputs.get("tree", []):
        if os.path.dirname(path) == folder and os.path.basename(path).startswith(start):
            if os.path.isfile(path):
                seen[path] = None
    return list(seen)


def compare_with_input(run: Any) -> tuple[Any, str, list[str]]:
    """The comparison of this write's call graph (B) with the input folder's (A), the input
    folder and the input files read. :class:`DiffError` when either side has no call graph."""
    from ..runs import RunsError, Table, compare

    folder, _, trees = input_files()
    mine = _this_write(run)
    if not mine:
        raise DiffError(
            "this run wrote no call-graph files to compare (<label>.tree.json: tree_output is "
            "off, or nothing was recorded)"
        )
    own = {os.path.realpath(p) for p in mine}
    if any(os.path.realpath(p) in own for p in trees):
        raise DiffError(
            f"input_path {folder!r} with input_prefix {str(_settings.input_prefix)!r} names "
            "this run's own files, which it has just replaced: write this run elsewhere "
            "(output_path) or keep the earlier run under another prefix (input_prefix)"
        )
    try:
        before = Table.from_graphs([graph_of_files(trees)])
        now = Table.from_graphs([graph_of_files(mine)])
        common = [c for c in now.components if c in before.components]
        if not common:
            raise DiffError(
                f"no component in common: the input has {', '.join(before.components)}, this "
                f"run {', '.join(now.components)}"
            )
        comparison = compare(before, now, components=common, normalize="none")
    except RunsError as err:
        raise DiffError(str(err)) from None
    comparison.a, comparison.b = folder, "this run"
    return comparison, folder, trees


def _text(comparison: Any, folder: str, trees: Sequence[str], output: str) -> str:
    names = ", ".join(os.path.basename(t) for t in trees)
    repeats = tuple(getattr(comparison, "repeats", (1, 1)))
    lines = [
        f"timemory diff: this run ({output}) against {folder} ({names})",
        "ratio = this run / input, inclusive values; nodes matched by call path",
    ]
    if max(repeats) <= 1:
        lines.append(
            "one run on each side: no statistics, a matched node's verdict is "
            "'not enough data' (timemory compare with repeated runs tells changes from noise)"
        )
    return "\n".join(lines) + "\n" + str(comparison.text(limit=None)).rstrip("\n") + "\n"


def _json(comparison: Any, folder: str, trees: Sequence[str], output: str) -> str:
    import json

    doc = {
        "format": "timemory-diff",
        "version": 1,
        "input": folder,
        "input_files": [os.path.basename(t) for t in trees],
        "output": output,
        "comparison": comparison.to_json(),
    }
    return json.dumps(doc, indent=1, sort_keys=False, allow_nan=False) + "\n"


def write_diff(run: Any) -> str | None:
    """The ``diff`` format's writer (a ``"run"`` view): writes ``diff.json`` itself and
    returns the text of ``diff.txt``; None (and one line on stderr saying why) when there is
    nothing to compare. Not on checkpoints: a comparison is made of finished runs."""
    if run.plan.is_checkpoint:
        return None
    try:
        comparison, folder, trees = compare_with_input(run)
    except DiffError as err:
        echo(f"{TAG}: no comparison written: {err}", sys.stderr)
        return None
    output = os.path.dirname(run.plan.path("diff", ".txt")) or "."
    text = _text(comparison, folder, trees, output)
    path = run.plan.write("diff", ".json", _json(comparison, folder, trees, output), "json", "diff")
    counts = comparison.counts()
    matched = sum(n for v, n in counts.items() if v not in ("added", "removed"))
    where = run.plan.path("diff", ".txt")
    echo(
        f"{TAG}: compared with {folder}: {matched} rows matched, {counts.get('added', 0)} "
        f"added, {counts.get('removed', 0)} removed -> {where}"
        + (f" and {os.path.basename(path)}" if path else ""),
        sys.stderr,
    )
    return text
