"""The format registry: every kind of file timemory writes is one :class:`Format`, a name, the
setting that enables it, the file suffix and the function that makes its content. Adding a
format is one function and one :func:`register_format` call.

A format reads one *view* of the data:

* ``"prepare"``: a component's data before its files are made; writes no file of its own but
  adds to the others (the roofline's ERT block in its JSON);
* ``"flat"``, ``"tree"``, ``"table"``: a component's flat entries, its call-graph trees, its
  text table (``write(component)``, a :class:`timemory._output._run.ComponentOutput`), one
  file ``<label><suffix>`` per component;
* ``"run"``: the whole write (``write(run)``, a :class:`timemory._output._run.RunOutput`), one
  file ``<name><suffix>``;
* any other name: data a tool hands to :func:`write_view` (the line profiler's ``"lines"``),
  or, for a format written to a path the user names, :func:`write_as`.

A component's formats run view by view (prepare, flat, table, tree), each view's in the order
they were registered; the flat views are released before the trees are made, so the two are
never held in memory at once. ``write`` returns the file's content (str or bytes, or a tuple of
parts written one after the other, or a function that writes the file to the path it is given,
raising OSError: the native writers stream a large file this way), or None for no file.
"""

from __future__ import annotations

from .. import settings as _settings
from .._files import atomic_write, atomic_write_by

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import Any

    from ._plan import OutputPlan

__all__ = ["Format", "formats", "register_format", "write_as", "write_view"]

COMPONENT_VIEWS = ("prepare", "flat", "tree", "table")


class Format:
    """One kind of output file.

    ``name``: unique (``"json"``, ``"tree"``...); ``setting``: the boolean setting that
    enables it ("" for always), on top of ``settings.file_output``; ``suffix``: the end of the
    file name (``".tree.json"``); ``write``: the function that makes the content from its
    ``view``; ``kind``: where ``timemory.manager`` lists the files (``"text"``, ``"json"``...);
    ``applies``: for component views, which components have it (their
    ``_core.component_info`` dict; all when None); ``finish``: called once after every
    component with the run, for a format that collects first and writes at the end (plots),
    returns the files it wrote; ``announce``: None for the usual
    ``[<label>]|<rank>> Outputting '<path>'...``, a function of the run and the path giving
    the line to print, or False to print nothing."""

    __slots__ = (
        "name",
        "setting",
        "suffix",
        "write",
        "view",
        "kind",
        "applies",
        "finish",
        "announce",
    )

    def __init__(
        self,
        name: str,
        setting: str,
        suffix: str,
        write: Callable[[Any], Any],
        view: str = "flat",
        *,
        kind: str = "json",
        applies: Callable[[dict[str, Any]], bool] | None = None,
        finish: Callable[[Any], list[str]] | None = None,
        announce: Callable[[Any, str], str] | bool | None = None,
    ) -> None:
        if setting and not hasattr(_settings, setting):
            raise ValueError(f"format {name!r}: no setting {setting!r}")
        self.name, self.setting, self.suffix, self.write = name, setting, suffix, write
        self.view, self.kind, self.applies, self.finish = view, kind, applies, finish
        self.announce = announce

    def enabled(self) -> bool:
        """Whether the settings ask for this format now."""
        if not _settings.file_output:
            return False
        return not self.setting or bool(getattr(_settings, self.setting))

    def __repr__(self) -> str:
        return f"Format({self.name!r}, {self.setting!r}, {self.suffix!r}, view={self.view!r})"


_FORMATS: dict[str, Format] = {}


def register_format(fmt: Format, before: str = "") -> Format:
    """Add ``fmt`` to the registry (replacing, in its place, a format of the same name);
    ``before``: a new format goes before the registered format of that name (its view's
    formats are written in this order); returns it."""
    if before in _FORMATS and fmt.name not in _FORMATS:
        items = list(_FORMATS.items())
        at = [name for name, _ in items].index(before)
        _FORMATS.clear()
        _FORMATS.update(items[:at] + [(fmt.name, fmt)] + items[at:])
    else:
        _FORMATS[fmt.name] = fmt
    return fmt


def formats(view: str | None = None) -> list[Format]:
    """The registered formats (of ``view``), in registration order."""
    return [f for f in _FORMATS.values() if view is None or f.view == view]


def write_view(plan: OutputPlan, view: str, data: Any, basename: str, tag: str) -> list[str]:
    """Write every enabled format of ``view`` for ``data`` (``<basename><suffix>`` in the
    plan's folder, announced as ``[<tag>]|<rank>> Outputting ...``); returns the files
    written."""
    written = []
    for fmt in formats(view):
        if not fmt.enabled():
            continue
        content = fmt.write(data)
        if content is None:
            continue
        path = plan.write(basename, fmt.suffix, content, fmt.kind, tag)
        if path is not None:
            written.append(path)
    return written


def write_as(name: str, path: str, data: Any) -> None:
    """Write ``data`` in the format ``name`` to ``path`` atomically (a file the user names,
    such as a ``.lprof``); raises ``OSError`` naming the path and the reason."""
    content = _FORMATS[name].write(data)
    if callable(content):  # a native writer that streams the file
        atomic_write_by(path, content)
    else:
        atomic_write(path, *(content if isinstance(content, tuple) else (content,)))
