"""IPython and Jupyter magics: ``%load_ext timemory``, then

    %%timemory [-c COMPONENT ...] [--flat | --tree] [-o DIR] [--top N]   (a cell)
    %timemory [options] [--] statement                                   (a line)
    %%timemory_lines [-c COMPONENT] [-f FUNC ...] [-o DIR]               (line by line)

``%%timemory`` profiles the cell with the function profiler (``timemory.profiler``, any
components, wall_clock by default) and shows the functions ranked by their self time, as an
HTML table in a notebook and as text in a terminal. ``%%timemory_lines`` runs the line profiler
(``timemory.line_profiler``) on the cell: its own lines and those of every function defined in
it (and of the functions named with ``-f``).

Each result is about its cell. The profiler records into timemory's storage as anywhere else,
so the session keeps its totals (``timemory.get()``, the output written at exit), and a cell's
result is the difference between the storage after the cell and before it: the nodes the cell
added to, with what it added. ``-o DIR`` writes the cell's data as the usual output files.
When the cell raises or is interrupted (Ctrl-C), what was measured is shown (and written with
``-o``) before the exception goes on to IPython.

Code typed into cells is profiled whatever the skip patterns of ``timemory.profiler.config``
say about names in angle brackets and the cells' file names: a cell's own code is labelled
``In[N]`` and its functions by their names. The rest of the configuration applies as set.

This module imports IPython; ``timemory`` reaches it only through
``timemory.load_ipython_extension``, so that ``import timemory`` does not import IPython.
"""

from __future__ import annotations

import html
import os
import re
import shlex
import sys
import types

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class

from timemory import _core
from timemory._components import MEASURABLE, resolve
from timemory._output import _summary
from timemory._text import echo

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Iterator, Sequence
    from typing import Any, Callable

__all__ = [
    "CellProfile",
    "LineProfile",
    "TimemoryMagics",
    "load_ipython_extension",
    "unload_ipython_extension",
]

#: Rows shown per component unless ``--top`` says otherwise (0 shows every row).
DEFAULT_TOP = 20

#: What the magics take; one line each in the errors that name the valid choices.
CELL_USAGE = "%%timemory [-c COMPONENT ...] [--flat | --tree] [-o DIR] [--top N]"
LINE_USAGE = "%timemory [-c COMPONENT ...] [--flat | --tree] [-o DIR] [--top N] [--] statement"
LINES_USAGE = "%%timemory_lines [-c COMPONENT] [-f FUNCTION ...] [-o DIR]"

#: Names that code objects of cells have (their top-level code, lambdas, comprehensions).
_CELL_CODE_NAMES = ("<module>", "<lambda>", "<genexpr>", "<listcomp>", "<dictcomp>", "<setcomp>")


# ------------------------------------------------------------------ options
class _Options:
    """The parsed options of a magic."""

    __slots__ = ("components", "flat", "tree", "output", "top", "functions", "statement")

    def __init__(self) -> None:
        self.components: list[str] = []
        self.flat = False
        self.tree = False
        self.output = ""
        self.top = DEFAULT_TOP
        self.functions: list[str] = []
        self.statement = ""


_WORD = re.compile(r"""(?:[^\s'"]+|'[^']*'|"[^"]*")+""")


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """The words of ``text`` (quotes removed, as a shell does) with where each starts and ends."""
    out = []
    for match in _WORD.finditer(text):
        raw = match.group(0)
        out.append(("".join(shlex.split(raw)), match.start(), match.end()))
    return out


def _parse(line: str, usage: str, *, statement: bool, lines: bool = False) -> _Options:
    """The options of a magic's line. With ``statement`` (the line magic), the first word that
    is not an option or the value of one starts the statement (``--`` may mark it); without,
    every word must be an option. Every mistake is a UsageError of one line naming ``usage``."""
    opts = _Options()
    words = _tokens(line)
    i = 0

    def value(option: str) -> str:
        if i + 1 >= len(words):
            raise UsageError(f"{option} needs a value; usage: {usage}")
        return words[i + 1][0]

    while i < len(words):
        word = words[i][0]
        if word == "--":
            if not statement:
                raise UsageError(f"nothing may follow the options here; usage: {usage}")
            opts.statement = line[words[i][2] :].strip()
            break
        if word in ("-c", "--components", "--component"):
            names = []
            j = i + 1
            # component names: words made of name characters (comma-separated lists too);
            # the line magic's statement starts at the first other word
            while j < len(words) and re.fullmatch(r"[A-Za-z_][\w,]*", words[j][0]):
                names += [n for n in words[j][0].split(",") if n]
                j += 1
                if lines:
                    break  # the line profiler measures one component
            if not names:
                raise UsageError(f"{word} needs a component name; usage: {usage}")
            opts.components += names
            i = j
            continue
        if word.startswith("--components=") or word.startswith("--component="):
            opts.components += [n for n in word.partition("=")[2].split(",") if n]
        elif word == "--flat" and not lines:
            opts.flat = True
        elif word == "--tree" and not lines:
            opts.tree = True
        elif word in ("-o", "--output-dir"):
            opts.output = value(word)
            i += 1
        elif word.startswith("--output-dir="):
            opts.output = word.partition("=")[2]
        elif (word == "--top" or word.startswith("--top=")) and not lines:
            text = word.partition("=")[2] if "=" in word else value(word)
            i += 0 if "=" in word else 1
            try:
                opts.top = int(text)
            except ValueError:
                opts.top = -1
            if opts.top < 0:
                raise UsageError(f"--top takes a number of rows (0: all), not {text!r}")
        elif word in ("-f", "--function") and lines:
            opts.functions.append(value(word))
            i += 1
        elif word.startswith("-") and not (statement and _looks_like_code(word)):
            raise UsageError(f"unknown option {word!r}; usage: {usage}")
        elif statement:
            opts.statement = line[words[i][1] :].strip()
            break
        else:
            raise UsageError(f"unexpected {word!r}; usage: {usage}")
        i += 1
    if opts.flat and opts.tree:
        raise UsageError(f"--flat and --tree exclude each other; usage: {usage}")
    return opts


def _looks_like_code(word: str) -> bool:
    """A word starting with "-" that begins a statement (``-x + 1``) rather than an option."""
    return not re.fullmatch(r"--?[A-Za-z][\w-]*(=.*)?", word)


def _component_indices(names: Sequence[str], usage: str) -> list[int]:
    """The enum indices of the components named; an unknown or value-less one is one line."""
    if not names:
        return []
    for name in names:
        if _core.find_component(name) < 0:
            raise UsageError(_unknown_component(name))
    try:
        indices = resolve(list(names))
    except ValueError as err:
        raise UsageError(" ".join(str(err).split())) from None
    empty = [_core.component_info(i)["id"] for i in indices if i not in MEASURABLE]
    if empty:
        raise UsageError(f"{', '.join(empty)}: unavailable here or holds no value; usage: {usage}")
    return indices


def _unknown_component(name: str) -> str:
    """One line: the name, the closest valid ones, and every component that can record."""
    import difflib

    valid = sorted(str(_core.component_info(i)["id"]) for i in sorted(MEASURABLE))
    close = difflib.get_close_matches(name.lower(), valid, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"unknown component {name!r}{hint} (valid: {', '.join(valid)})"


# ------------------------------------------------------------------ cells as code
def _compile(shell: Any, source: str) -> tuple[types.CodeType, str, int]:
    """The code of a cell (or a line) as IPython would run it: magics and shell escapes
    transformed, cached under a cell name (tracebacks show its lines), compiled with the
    session's ``__future__`` flags. Returns the code, its file name and the cell's number."""
    number = _cell_number(shell)
    transformed = shell.transform_cell(source)
    filename = shell.compile.cache(transformed, number, raw_code=source)
    return shell.compile(transformed, filename, "exec"), filename, number


def _cell_number(shell: Any) -> int:
    """The number of the cell running (``In[N]``): the one IPython cached last (it counts
    ``execution_count`` up before running a cell since IPython 9, after it before)."""
    cached = getattr(getattr(shell, "compile", None), "_filename_map", None)
    if cached:
        return int(list(cached.values())[-1])
    return int(getattr(shell, "execution_count", 0) or 0)


def _cell_name(shell: Any, filename: str) -> str | None:
    """``In[N]`` for the file name of a cell's code, None for any other file."""
    compiler = getattr(shell, "compile", None)
    formatter = getattr(compiler, "format_code_name", None)
    if formatter is None:
        return None
    try:
        named = formatter(filename)
    except Exception:  # noqa: BLE001 - a compiler of another version: not a cell then
        return None
    return str(named[1]) if named else None


def _run(code: types.CodeType, namespaces: tuple[dict[str, Any], Any]) -> None:
    __tracebackhide__ = True  # noqa: F841 - IPython leaves this frame out of tracebacks
    exec(code, *namespaces)


# ------------------------------------------------------------------ the profiler's labels
class _CellLabels:
    """While a magic profiles: the labeler of ``timemory.profiler.config`` for code outside
    the cells, and for code typed into cells the same one without the default patterns that
    would skip it (names in angle brackets, the cells' file names); a cell's top-level code
    is labelled ``In[N]``."""

    def __init__(self, shell: Any) -> None:
        self.shell = shell

    def __enter__(self) -> _CellLabels:
        from timemory._hook_config import pattern_defaults
        from timemory.profiler._config import Config

        base = Config.labeler()
        state = Config._state
        defaults = pattern_defaults()
        sample = self.shell.compile.get_code_name("pass", "pass", 0)
        cell_state = dict(state)
        cell_state["skip_functions"] = [
            p
            for p in state["skip_functions"]
            if p not in defaults["skip_functions"]
            or not any(re.search(p, name) for name in _CELL_CODE_NAMES)
        ]
        cell_state["skip_filenames"] = [
            p
            for p in state["skip_filenames"]
            if p not in defaults["skip_filenames"] or not re.search(p, sample)
        ]
        for_cells = Config._make_labeler(cell_state)
        shell: Any = self.shell

        def labeler(subject: Any) -> Any:
            if isinstance(subject, types.CodeType):
                cell = _cell_name(shell, subject.co_filename)
                if cell is not None:
                    label = for_cells(subject)
                    if subject.co_name == "<module>" and label is not None:
                        # (label or head, tail, where): the top-level code is "<module FILE>",
                        # or "[<module>]..." where the label shows the file
                        head, *rest = label if isinstance(label, tuple) else (label,)
                        if head.startswith("<module "):
                            head = cell
                        else:
                            head = head.replace("<module>", cell, 1)
                        return (head, *rest) if rest else head
                    return label
            return base(subject)

        self.config = Config
        type.__setattr__(Config, "_labeler", labeler)
        _core.profiler_invalidate()  # labels cached under the plain configuration
        return self

    def __exit__(self, *exc: Any) -> None:
        type.__setattr__(self.config, "_labeler", None)
        _core.profiler_invalidate()  # the cells' labels are not the plain configuration's


# ------------------------------------------------------------------ what a cell added
def _minus(after: _core.Entry, before: _core.Entry | None) -> _core.Entry:
    """What an entry gained since ``before``: laps, totals and the sums of the statistics.
    The last value is the cell's (the node ran in it); min and max of a node that earlier
    cells ran too are the session's (the cell's own cannot be told apart)."""
    if before is None:
        return after
    out = _core.Entry()
    out.laps = after.laps - before.laps
    out.value = list(after.value)
    out.accum = [a - b for a, b in zip(after.accum, before.accum)]
    out.stats_count = after.stats_count - before.stats_count
    out.stats_sum = [a - b for a, b in zip(after.stats_sum, before.stats_sum)]
    out.stats_sqr = [a - b for a, b in zip(after.stats_sqr, before.stats_sqr)]
    out.stats_min = list(after.stats_min)
    out.stats_max = list(after.stats_max)
    return out


_MASK = 2**64 - 1


def _flat_keys(batch: _core.FlatBatch) -> dict[tuple[int, int, int], int]:
    """``{(thread, depth, rolling hash): position}`` of a flat view: a call-graph node by its
    path (the rolling hash adds up the hashes from the top), read without copying entries."""
    tid, depth, rolling = batch.tid, batch.depth, batch.rolling_hash
    return {(tid(i), depth(i), rolling(i)): i for i in range(len(batch))}


class _Before:
    """The flat views of the components a magic records, before the cell: what the cell's
    result is the difference to. Made and compared with a few native calls per node; the
    entries are copied for the nodes the cell ran only."""

    def __init__(self, indices: Sequence[int]) -> None:
        self.views = {}
        for index in indices:
            batch = _core.flat_snapshot(index, True)
            self.views[index] = (batch, _flat_keys(batch))

    def since(self) -> dict[int, tuple[list[Any], list[Any]]]:
        """``{index: (flat entries, root trees)}`` of what was recorded since: every node
        whose calls grew, with its ancestors (an ancestor still running, such as a marker
        open around the cell, has no completed call to add)."""
        out = {}
        for index, (before, keys) in self.views.items():
            after = _core.flat_snapshot(index, True)
            here = _flat_keys(after)
            laps, old_laps = after.laps, before.laps
            kept: set[int] = set()
            for key, i in here.items():
                j = keys.get(key)
                if j is not None and laps(i) == old_laps(j):
                    continue
                kept.add(i)
                tid, rolling = key[0], 0
                for level, node_hash in enumerate(after.hierarchy(i)[:-1]):
                    rolling = (rolling + node_hash) & _MASK
                    parent = here.get((tid, level, rolling))
                    if parent is not None:
                        kept.add(parent)
            if not kept:
                continue
            flat = []
            for i in sorted(kept):
                entry = after.entry(i)
                j = keys.get((after.tid(i), after.depth(i), after.rolling_hash(i)))
                entry.entry = _minus(entry.entry, before.entry(j).entry if j is not None else None)
                flat.append(entry)
            out[index] = (flat, [_tree_of(index, flat)])
        return out


def _tree_of(index: int, flat: list[Any]) -> _core.TreeNode:
    """The call tree of flat entries in pre-order (under a root of its own), with the
    exclusive values computed from the inclusive ones."""
    root = _core.TreeNode()
    root.label = ""
    root.depth = 0
    nodes, counts, parents = [root], [0], [0]  # parents: position of the node at each depth
    for entry in flat:
        t = _core.TreeNode()
        t.hash = entry.hash
        t.label = entry.label
        t.tids = {entry.tid}
        t.pids = {entry.pid}
        t.depth = entry.depth + 1
        t.remote = entry.remote  # a task's work elsewhere: not subtracted from its parent
        t.inclusive = entry.entry
        t.exclusive = entry.entry
        del parents[t.depth :]
        counts[parents[-1]] += 1
        parents.append(len(nodes))
        nodes.append(t)
        counts.append(0)
    return _core.compute_exclusive(index, _core.tree_from_preorder(nodes, counts))


# ------------------------------------------------------------------ values and units
_SECONDS = {
    "sec": 1.0,
    "s": 1.0,
    "msec": 1e-3,
    "ms": 1e-3,
    "usec": 1e-6,
    "us": 1e-6,
    "nsec": 1e-9,
    "ns": 1e-9,
    "psec": 1e-12,
    "min": 60.0,
    "hr": 3600.0,
}


def _first(value: Any) -> float:
    if isinstance(value, (tuple, list)):
        value = value[0] if value else 0.0
    return float(value)


def _seconds_text(seconds: float) -> str:
    """A duration with the unit that shows it best (s, ms, µs, ns)."""
    size = abs(seconds)
    if size == 0.0:
        return "0"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if size >= scale:
            return f"{seconds / scale:.3g} {unit}".replace("e+", "e")
    return f"{seconds / 1e-9:.3g} ns"


class _Metric:
    """How one component's values read: its id, unit and kind, and how to show a value."""

    def __init__(self, index: int) -> None:
        info = _core.component_info(index)
        self.index = index
        self.id = str(info["id"])
        self.kind = str(info["units"][0]) if info["units"] else ""
        reprs = _core.unit_info(index)[1]
        self.unit = str(reprs[0]) if reprs else ""
        self.values = int(info["n_disp"])
        divisors = _core.unit_info(index)[0]
        # base unit (what the summary holds: ns, bytes...) per display unit
        self.divisor = float(divisors[0]) if divisors and divisors[0] else 1.0
        # a share of a total means nothing for a rate or a ratio
        self.shares = "rate" not in self.kind and self.kind != "percent"

    def value(self, entry: _core.Entry) -> float:
        if entry.laps <= 0:
            return 0.0
        return _first(_core.entry_component(self.index, entry).get())

    def text(self, value: float) -> str:
        scale = _SECONDS.get(self.unit) if self.kind == "timing" else None
        if scale is not None:
            return _seconds_text(value * scale)
        if value == 0.0:
            return "0"
        unit = f" {self.unit}" if self.unit else ""
        return f"{value:.4g}{unit}"


# ------------------------------------------------------------------ the results
class _Row:
    __slots__ = ("label", "depth", "count", "self", "inclusive")

    def __init__(self, label: str, depth: int, count: int, self_: float, inclusive: float):
        self.label, self.depth, self.count = label, depth, count
        self.self, self.inclusive = self_, inclusive


def _walk(root: _core.TreeNode, metric: _Metric) -> Iterator[tuple[int, str, int, float, float]]:
    """``(depth, label, count, self, inclusive)`` of each node under a root, in call order."""
    stack = [(child, 0) for child in reversed(root.children)]
    while stack:
        node, depth = stack.pop()
        yield (
            depth,
            node.label,
            int(node.inclusive.laps),
            metric.value(node.exclusive),
            metric.value(node.inclusive),
        )
        stack.extend((child, depth + 1) for child in reversed(node.children))


class _ComponentResult:
    """One component of a cell's result: the added trees and flat entries."""

    def __init__(self, index: int, flat: list[Any], roots: list[Any]) -> None:
        self.metric = _Metric(index)
        self.flat = flat
        self.roots = roots

    def summary(self, cell: str = "") -> _summary.Summary:
        """The functions ranked by self time (the end-of-run summary of the cell's entries),
        its title naming the cell."""
        summary = _summary.summarize(self.metric.index, results=self.flat)
        if cell:
            summary.what = f"{cell}, {summary.what}" if summary.what else cell
        return summary

    def tree_rows(self) -> list[_Row]:
        return [
            _Row(*(label, d, n, s, i))
            for root in self.roots
            for d, label, n, s, i in _walk(root, self.metric)
        ]

    def total(self) -> float:
        """The inclusive value of the top-level calls: what the self values add up to."""
        return sum(
            self.metric.value(child.inclusive) for root in self.roots for child in root.children
        )


class CellProfile:
    """What ``%%timemory`` / ``%timemory`` measured in one cell, per component.

    Shown as an HTML table in a notebook and as text in a terminal, through :func:`_render`:
    the functions ranked by self time (``--tree``: the call tree in call order). ``rows(id)``
    gives the rows of one component as ``(label, count, self, inclusive)`` in its display
    unit; ``files`` the output files written with ``-o``; ``interrupted`` and ``error`` say
    whether the cell ended early."""

    def __init__(
        self,
        data: dict[int, tuple[list[Any], list[Any]]],
        *,
        top: int = DEFAULT_TOP,
        tree: bool = False,
        cell: str = "",
    ) -> None:
        self.components = {index: _ComponentResult(index, *data[index]) for index in data}
        self.top = top
        self.tree = tree
        self.cell = cell
        self.files: list[str] = []
        self.interrupted = False
        self.error = ""

    def rows(self, component: str | int | None = None) -> list[tuple[str, int, float, float]]:
        """``(label, count, self, inclusive)`` per function (per call-graph node with
        ``--tree``) of one component (the first by default), ranked as shown, in the
        component's display unit."""
        result = self._component(component)
        if result is None:
            return []
        if self.tree:
            return [(r.label, r.count, r.self, r.inclusive) for r in result.tree_rows()]
        div = result.metric.divisor
        return [(r.label, r.count, r.self_value / div, r.inclusive / div) for r in result.summary()]

    def _component(self, component: str | int | None) -> _ComponentResult | None:
        if component is None:
            return next(iter(self.components.values()), None)
        index = component if isinstance(component, int) else resolve(component)[0]
        return self.components.get(index)

    def text(self) -> str:
        return _render(self, self.top, html_form=False)

    def _repr_html_(self) -> str:
        return _render(self, self.top, html_form=True)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text() if not cycle else "CellProfile(...)")

    def __repr__(self) -> str:
        ids = ", ".join(c.metric.id for c in self.components.values())
        return f"<timemory CellProfile {self.cell} [{ids}]>"

    def __str__(self) -> str:
        return self.text()


def _render(results: CellProfile, top: int, html_form: bool = False) -> str:
    """A cell's result as text or HTML, per component: the summary's table of the functions
    ranked by self time (``timemory._output._summary``; ``--tree``: the call tree in call
    order), ``top`` rows of it (0: all), then the files written and how the cell ended."""
    tables = []
    capped = False
    for result in results.components.values():
        if results.tree:
            tables.append(_tree_table(result, results.cell, top, html_form))
            capped |= 0 < top < len(result.tree_rows())
            continue
        summary = result.summary(results.cell)
        capped |= 0 < top < len(summary)
        if html_form:
            tables.append(summary.to_html(top))
        else:
            tables.append(summary.to_text(top, prefix="timemory "))
    footer = []
    if not tables:
        footer.append("timemory: nothing was recorded in this cell")
    if capped:
        footer.append("timemory: --top 0 shows every row")
    if results.files:
        folders = sorted({os.path.dirname(os.path.abspath(f)) for f in results.files})
        footer.append(f"timemory: {len(results.files)} files in {', '.join(folders)}")
    if results.interrupted:
        footer.append("timemory: the cell was interrupted; this is what ran until then")
    elif results.error:
        footer.append(f"timemory: the cell raised {results.error}; this is what ran until then")
    if html_form:
        return "\n".join(tables + [f"<p>{html.escape(line)}</p>" for line in footer])
    return "\n\n".join(tables + (["\n".join(footer)] if footer else []))


def _tree_table(result: _ComponentResult, cell: str, top: int, html_form: bool) -> str:
    """The ``--tree`` view of one component: the cell's call-graph nodes in call order,
    indented by depth, with their own (self) and inclusive values."""
    metric = result.metric
    rows = result.tree_rows()
    total = result.total()
    shown = rows if top <= 0 else rows[:top]
    unit = f", first of {metric.values} values" if metric.values > 1 else ""
    title = f"timemory {metric.id}{unit}: {cell} call tree".replace("  ", " ")
    head = ["FUNCTION", "COUNT", "SELF"] + (["% SELF"] if metric.shares else [])
    head.append("INCLUSIVE")
    body = []
    for r in shown:
        cells = ["  " * r.depth + r.label, str(r.count), metric.text(r.self)]
        if metric.shares:
            cells.append(f"{100.0 * r.self / total:.1f}" if total else "")
        cells.append(metric.text(r.inclusive))
        body.append(cells)
    notes = []
    if len(rows) > len(shown):
        notes.append(f"... and {len(rows) - len(shown)} more rows")
    if total and metric.shares:
        notes.append(f"total {metric.text(total)}")
    if html_form:
        e = html.escape
        out = ['<table class="timemory-profile">']
        out.append(f'<caption style="text-align:left">{e(title)}</caption>')
        out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead>")
        out.append("<tbody>")
        for row in body:
            label = f'<td style="text-align:left;white-space:pre">{e(row[0])}</td>'
            values = "".join(f'<td style="text-align:right">{e(c)}</td>' for c in row[1:])
            out.append(f"<tr>{label}{values}</tr>")
        out.append("</tbody></table>")
        out += [f"<p>{e(n)}</p>" for n in notes]
        return "\n".join(out)
    widths = [max([len(head[k])] + [len(row[k]) for row in body]) for k in range(len(head))]
    widths[0] = min(widths[0], 60)
    lines = [title, _text_row(head, widths)]
    lines += [_text_row(row, widths) for row in body]
    return "\n".join(lines + notes)


def _text_row(cells: Sequence[str], widths: Sequence[int]) -> str:
    first = cells[0] if len(cells[0]) <= 60 else cells[0][:57] + "..."
    rest = [f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:])]
    return "  ".join([f"{first:<{widths[0]}}", *rest]).rstrip()


# ------------------------------------------------------------------ writing a cell's files
def _write_cell(data: dict[int, tuple[list[Any], list[Any]]], folder: str) -> list[str]:
    """Write the cell's data as the usual output files into ``folder``; returns the files."""
    from timemory import _output, settings
    from timemory.storage import Processes

    payload = {
        index: {"flat": _core.pack_flat(index, flat), "tree": _core.pack_tree(index, roots)}
        for index, (flat, roots) in data.items()
    }
    if not settings.file_output:
        echo("timemory: -o wrote no files: settings.file_output is off", sys.stderr)
        return []
    procs = Processes([(0, os.getpid(), payload)], 1)
    plan = _output.OutputPlan.from_settings(folder)
    before = {k: list(v) for k, v in _output.manager._outputs.items()}
    saved = settings.cout_output
    settings.cout_output = False  # the table is the cell's output, not a console print
    try:
        _output.write_run(plan, procs)
    finally:
        settings.cout_output = saved
    written = []
    for kind, paths in _output.manager._outputs.items():
        old = before.get(kind, [])
        written += [p for p in paths[len(old) :]]
    return written


# ------------------------------------------------------------------ the line profiler
def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    """A code object and every code object defined in it (functions, methods, lambdas)."""
    out = []
    stack = [code]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return out


class _CodeHolder:
    """What ``LineProfiler.add_function`` reads of a function: its code object."""

    def __init__(self, code: types.CodeType) -> None:
        self.__code__ = code


class LineProfile:
    """What ``%%timemory_lines`` measured: ``stats`` (a ``timemory.line_profiler.LineStats``),
    shown per function (the cell's own lines first) as an HTML table in a notebook and as
    text in a terminal, source lines beside their hits and values."""

    def __init__(self, stats: Any, names: dict[tuple[str, int, str], str], cell: str) -> None:
        self.stats = stats
        self.names = names  # (file, first line, function) -> what to call it
        self.cell = cell
        self.files: list[str] = []
        self.interrupted = False
        self.error = ""

    def functions(self) -> list[tuple[str, list[tuple[int, int, float, str]]]]:
        """``(name, [(line, hits, value, source)])`` per function that ran, the cell's
        own code first, then by total value; values in the component's display unit."""
        import linecache

        out = []
        for key, timings in self.stats.timings.items():
            if not timings:
                continue
            filename, first, name = key
            lines = linecache.getlines(filename)
            hit = {line: (n, v * self.stats.metric_unit) for line, n, v in timings}
            if name in ("<module>",) or key in self.names and self.names[key].startswith("In["):
                span = range(1, len(lines) + 1)
            else:
                span = range(first, _block_end(lines, first) + 1)
            rows = []
            for line in span:
                source = lines[line - 1].rstrip("\n") if 0 < line <= len(lines) else ""
                n, v = hit.get(line, (0, 0.0))
                rows.append((line, n, v, source))
            for line, (n, v) in sorted(hit.items()):
                if line not in span:
                    rows.append((line, n, v, ""))
            out.append((self.names.get(key, name), rows))
        out.sort(key=lambda f: (not f[0].startswith("In["), -sum(r[2] for r in f[1])))
        return out

    def text(self) -> str:
        return _render_lines(self, html_form=False)

    def _repr_html_(self) -> str:
        return _render_lines(self, html_form=True)

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.text() if not cycle else "LineProfile(...)")

    def __repr__(self) -> str:
        return f"<timemory LineProfile {self.cell} [{self.stats.component}]>"

    def __str__(self) -> str:
        return self.text()


def _block_end(lines: list[str], first: int) -> int:
    """The last line of the block (a def, a class) that starts at line ``first``."""
    import inspect

    if not 0 < first <= len(lines):
        return first
    try:
        block = inspect.getblock(lines[first - 1 :])
    except Exception:  # noqa: BLE001 - a block tokenize cannot read: its first line only
        return first
    return first + len(block) - 1


def _render_lines(result: LineProfile, html_form: bool) -> str:
    stats = result.stats
    unit = stats.display_unit
    timing = unit in _SECONDS

    def show(value: float) -> str:
        if value == 0.0:
            return ""
        if timing:
            return _seconds_text(value * _SECONDS[unit])
        return f"{value:.4g}{' ' + unit if unit else ''}"

    parts = []
    for name, rows in result.functions():
        total = sum(r[2] for r in rows)
        title = f"timemory {stats.component} per line: {name} (total {show(total) or '0'})"
        head = ["LINE", "HITS", stats.component.upper(), "PER HIT", "%", "SOURCE"]
        body = []
        for line, hits, value, source in rows:
            body.append(
                [
                    str(line),
                    str(hits) if hits else "",
                    show(value),
                    show(value / hits) if hits else "",
                    f"{100.0 * value / total:.1f}" if total and hits else "",
                    source,
                ]
            )
        parts.append((title, head, body))
    footer = []
    if not parts:
        footer.append("timemory: no profiled line ran in this cell")
    if result.files:
        folders = sorted({os.path.dirname(os.path.abspath(f)) for f in result.files})
        footer.append(f"timemory: {len(result.files)} files in {', '.join(folders)}")
    if result.interrupted:
        footer.append("timemory: the cell was interrupted; this is what ran until then")
    elif result.error:
        footer.append(f"timemory: the cell raised {result.error}; this is what ran until then")
    e = html.escape
    out = []
    for title, head, body in parts:
        if html_form:
            out.append('<table class="timemory-lines">')
            out.append(f'<caption style="text-align:left">{e(title)}</caption>')
            out.append("<thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr></thead>")
            out.append("<tbody>")
            for row in body:
                cells = "".join(f'<td style="text-align:right">{e(c)}</td>' for c in row[:5])
                source = (
                    f'<td style="text-align:left;white-space:pre"><code>{e(row[5])}</code></td>'
                )
                out.append(f"<tr>{cells}{source}</tr>")
            out.append("</tbody></table>")
        else:
            widths = [max([len(head[k])] + [len(r[k]) for r in body]) for k in range(5)]
            out.append(title)
            for row in [head, *body]:
                numbers = [f"{c:>{w}}" for c, w in zip(row[:5], widths)]
                out.append(("  ".join(numbers) + "  " + row[5]).rstrip())
            out.append("")
    if html_form:
        out += [f"<p>{e(f)}</p>" for f in footer]
        return "\n".join(out)
    out += footer
    return "\n".join(out).rstrip("\n")


# ------------------------------------------------------------------ the magics
def _display(result: Any) -> None:
    from IPython.display import display

    display(result)


@magics_class
class TimemoryMagics(Magics):
    """``%%timemory``, ``%timemory`` and ``%%timemory_lines``."""

    @cell_magic("timemory")
    def timemory_cell(self, line: str = "", cell: str = "") -> CellProfile | None:
        """Profile the cell with timemory's function profiler.

        %%timemory [-c COMPONENT ...] [--flat | --tree] [-o DIR] [--top N]

        -c, --components  components to record per call (wall_clock by default; several
                          names, space- or comma-separated)
        --flat            one row per function, ranked by self time (the default view)
        --tree            the call tree instead: one row per call path, in call order
        -o, --output-dir  write the cell's data as timemory's output files into DIR
        --top N           rows shown per component (default 20; 0 shows all)

        The result is shown as a table (HTML in a notebook, text in a terminal) and returned,
        so ``result = _`` keeps it: ``result.rows()`` gives its rows."""
        __tracebackhide__ = True  # noqa: F841
        opts = _parse(line, CELL_USAGE, statement=False)
        return self._profile(opts, cell, CELL_USAGE)

    @line_magic("timemory")
    def timemory_line(self, line: str = "") -> CellProfile | None:
        """Profile one statement with timemory's function profiler.

        %timemory [-c COMPONENT ...] [--flat | --tree] [-o DIR] [--top N] [--] statement

        The options are those of %%timemory; ``--`` separates them from a statement that
        starts like a component name."""
        __tracebackhide__ = True  # noqa: F841
        opts = _parse(line, LINE_USAGE, statement=True)
        if not opts.statement:
            raise UsageError(f"no statement to profile; usage: {LINE_USAGE}")
        return self._profile(opts, opts.statement, LINE_USAGE)

    def _profile(self, opts: _Options, source: str, usage: str) -> CellProfile | None:
        __tracebackhide__ = True  # noqa: F841
        from timemory.profiler import Profiler

        indices = _component_indices(opts.components, usage)
        if _core.profiler_active():
            raise UsageError(
                "timemory's profiler is already running in this session (a `with profile():`"
                " or a start() without stop()); stop it first"
            )
        shell: Any = self.shell
        code, _, number = _compile(shell, source)
        # the cell's thread and the threads it starts, not the kernel's own threads (its
        # IOPub thread wakes up in select() when the cell prints)
        profiler = Profiler(indices, all_threads=False)
        recorded = profiler.configure()
        before = _Before(recorded)
        outcome: BaseException | None = None
        namespaces = (shell.user_global_ns, shell.user_ns)  # read before: IPython properties
        with _CellLabels(shell):
            profiler.start()
            try:
                _run(code, namespaces)
            except BaseException as err:  # noqa: BLE001 - shown with the data, then re-raised
                outcome = err
            finally:
                profiler.stop()
        data = before.since()
        result = CellProfile(data, top=opts.top, tree=opts.tree, cell=f"In[{number}]")
        _ended(result, outcome)
        if opts.output and data:
            result.files = _write_files(lambda: _write_cell(data, opts.output))
        return _finish(result, outcome)

    @cell_magic("timemory_lines")
    def timemory_lines(self, line: str = "", cell: str = "") -> LineProfile | None:
        """Profile the cell line by line with timemory's line profiler.

        %%timemory_lines [-c COMPONENT] [-f FUNCTION ...] [-o DIR] [--top N]

        The cell's own lines and those of every function (and method, lambda...) defined in
        it are profiled, and those of the functions named with -f (any expression giving a
        function, e.g. ``-f mod.func``), as ``%lprun -f`` does.

        -c, --component   the scalar component measured per line (wall_clock by default)
        -f, --function    also profile this function (repeatable)
        -o, --output-dir  write the .lprof file and the line tables into DIR"""
        __tracebackhide__ = True  # noqa: F841
        opts = _parse(line, LINES_USAGE, statement=False, lines=True)
        try:
            from timemory import line_profiler
        except ImportError:
            raise UsageError(
                "%%timemory_lines needs the line_profiler package (timemory's `line` extra): "
                "pip install line_profiler"
            ) from None
        if len(opts.components) > 1:
            raise UsageError(f"-c takes one component here; usage: {LINES_USAGE}")
        component = opts.components[0] if opts.components else line_profiler.DEFAULT_COMPONENT
        try:
            profiler = line_profiler.LineProfiler(component=component)
        except ValueError as err:
            raise UsageError(" ".join(str(err).split())) from None
        shell: Any = self.shell
        extra = []
        for expression in opts.functions:
            try:
                extra.append(eval(expression, shell.user_global_ns, shell.user_ns))
            except Exception as err:  # noqa: BLE001 - a usage error, in one line
                raise UsageError(
                    f"-f {expression}: {type(err).__name__}: {' '.join(str(err).split())}"
                ) from None
        code, filename, number = _compile(shell, cell)
        cell_name = f"In[{number}]"
        names: dict[tuple[str, int, str], str] = {}
        from line_profiler._line_profiler import label

        for func in extra:
            profiler.add_function(func)
        for inner in _code_objects(code):
            profiler.add_function(_CodeHolder(inner))
            names[label(inner)] = cell_name if inner is code else inner.co_name
        outcome: BaseException | None = None
        namespaces = (shell.user_global_ns, shell.user_ns)
        profiler.enable_by_count()
        try:
            _run(code, namespaces)
        except BaseException as err:  # noqa: BLE001 - shown with the data, then re-raised
            outcome = err
        finally:
            profiler.disable_by_count()
        result = LineProfile(profiler.get_stats(), names, cell_name)
        _ended(result, outcome)
        if opts.output:
            result.files = _write_files(lambda: _write_lines(result, opts.output))
        return _finish(result, outcome)


def _ended(result: Any, outcome: BaseException | None) -> None:
    if isinstance(outcome, KeyboardInterrupt):
        result.interrupted = True
    elif outcome is not None:
        result.error = type(outcome).__name__


def _finish(result: Any, outcome: BaseException | None) -> Any:
    """The result to show (returned: IPython displays it as the cell's value), or, when the
    cell ended in an exception, shown now and the exception raised on to IPython."""
    __tracebackhide__ = True  # noqa: F841
    if outcome is None:
        return result
    _display(result)
    raise outcome


def _write_files(write: Callable[[], list[str]]) -> list[str]:
    """Run a writer; a failure is one line on stderr (the result is still shown)."""
    try:
        return write()
    except OSError as err:
        echo(f"timemory: cannot write the cell's files: {' '.join(str(err).split())}", sys.stderr)
        return []


def _write_lines(result: LineProfile, folder: str) -> list[str]:
    """The ``.lprof`` file and the line tables (text, JSON) of a cell, into ``folder``."""
    from timemory import _output
    from timemory.line_profiler import __main__ as tool  # registers the "lines" formats
    from timemory.line_profiler import _lprof

    plan = _output.OutputPlan.from_settings(folder)
    label = str(_core.component_info(resolve(result.stats.component)[0])["label"])
    base = f"{result.cell.replace('[', '').replace(']', '')}.{label}"
    written = []
    path = plan.write(base, ".lprof", _lprof(result.stats), "lprof", "line_profiler")
    if path is not None:
        written.append(path)
    written += _output.write_view(plan, "lines", result.stats, f"{base}.lines", "line_profiler")
    del tool
    return written


# ------------------------------------------------------------------ the extension
def load_ipython_extension(ipython: Any) -> None:
    """Register the magics (``%load_ext timemory``)."""
    ipython.register_magics(TimemoryMagics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics again (``%unload_ext timemory``)."""
    manager = getattr(ipython, "magics_manager", None)
    if manager is None:
        return
    for kind, name in (("cell", "timemory"), ("line", "timemory"), ("cell", "timemory_lines")):
        manager.magics[kind].pop(name, None)
