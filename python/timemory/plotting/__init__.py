"""Bar charts of timemory's call-graph data.

    python -m timemory.plotting -f timemory-app-output/wall.json     # -> ./wall.png
    timemory-plotter -f timemory-app-output/ -o plots --img-type svg  # every flat JSON in it

    from timemory import plotting
    plotting.plot(files=["wall.json"], output_dir="plots")    # -> ["plots/wall.png"]
    plotting.plot(data=timemory.get(), output_dir="plots")    # what was recorded so far

One horizontal bar per call-graph entry (value = ``repr_data``, the accumulated value in
display units), labelled with the label indented by call-graph depth and the entry's count; a
panel per sub-value for multi-valued components; the x axis names the type and unit; the
title gives the processes and threads per process. With ``settings.plot_output`` the files
written at finalize are plotted too.

The reference's entry-level API works one component and rank at a time::

    rank = json.load(open("wall.json"))["timemory"]["wall_clock"]["ranks"][0]
    data = plotting.read(rank, filename="wall.json", ctype="wall", units="sec")  # a plot_data
    plotting.plot_generic(data, output_dir="plots")                            # plots/wall.png

``read`` gives a :class:`plot_data` of :class:`timemory_data` entries (entries never run left
out, entries with the same prefix summed); ``plot_generic``/``plot_all`` draw such objects with
the same charts as ``plot``. ``embedded_plot(argv)`` runs the command line in this process.

Tables: ``timem(files=[...])`` (the command line's ``-T/--table``) sorts the components of
flat JSON into the categories time, utilization, memory, page_faults, context_switches, io, hw
and other, and writes one table image per category present,
``<output_dir>/timem_<category>.<img_type>`` (``timem_time.png``, ``timem_memory.png``...),
whose rows are the top-level entries with their count, value, units and per-lap mean, min and
max. It reads timemory's flat JSON, not the JSON of the ``timem`` tool.

Images are drawn on standalone Agg figures (headless; pyplot is used only to display), so
nothing here needs a display. Importing this package does not import matplotlib; plotting
without it raises :class:`MatplotlibMissing` (the 'plot' extra brings it: ``pip install
'.[plot]'`` in timemory's source folder).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Callable, NamedTuple, Optional, Union

from timemory._text import DEBUG, echo
from timemory.plotting import _merge
from timemory.plotting._bars import PlotParams, draw, select, title_line
from timemory.plotting._entries import plot_data, read, timemory_data
from timemory.plotting._entries import plot_data as _entries_plot_data
from timemory.plotting._read import (
    ComponentData,
    InputError,
    Node,
    expand_inputs,
    read_data,
    read_file,
)
from timemory.plotting.figure import INSTALL_HINT, MatplotlibMissing, PlotError

__all__ = [
    "ComponentData",
    "EmbeddedPlot",
    "INSTALL_HINT",
    "InputError",
    "MatplotlibMissing",
    "Node",
    "PlotError",
    "PlotParams",
    "add_plotted_files",
    "echo_dart_tag",
    "embedded_plot",
    "make_output_directory",
    "plot",
    "plot_all",
    "plot_at_finalize",
    "plot_component",
    "plot_data",
    "plot_generic",
    "plot_maximums",
    "plot_parameters",
    "plotted_files",
    "read",
    "read_data",
    "read_file",
    "select",
    "timem",
    "timemory_data",
    "title_line",
]

#: ``plot_parameters(min_percent=0.05, img_dpi=100, img_size={"w": 1000, "h": 600},
#: img_type="png", log_xaxis=False, font_size=11, max_nodes=40, label_width=60)``
plot_parameters = PlotParams

#: Every image written by this process, in order.
plotted_files: list[str] = []

DataLike = Union[dict, ComponentData, Sequence[Any]]


def echo_dart_tag(name: str, path: str, img_type: str = "png") -> str:
    """The CDash tag that attaches an image to a test's results."""
    return (
        f'<DartMeasurementFile name="{name}" type="image/{img_type}">{path}</DartMeasurementFile>'
    )


def add_plotted_files(name: str, filepath: str, echo_dart: bool | None = False) -> str:
    """Record ``filepath``, an image this process wrote, in :data:`plotted_files`; with
    ``echo_dart``, print its CDash tag under ``name``. Returns ``filepath``."""
    plotted_files.append(filepath)
    if echo_dart:
        img_type = os.path.splitext(filepath)[1].lstrip(".") or "png"
        echo(echo_dart_tag(name, filepath, img_type))
    return filepath


def make_output_directory(directory: str) -> str:
    """Create the folder the images go to (and its parents) unless it exists; returns it.
    :class:`PlotError` when it is a file or cannot be created."""
    if os.path.exists(directory) and not os.path.isdir(directory):
        raise PlotError(f"{directory}: is a file, not a folder for the images")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as err:
        raise PlotError(
            f"{directory}: cannot create the folder for the images ({err.strerror or err})"
        ) from None
    return directory


def _components(data: DataLike) -> list[ComponentData]:
    if isinstance(data, ComponentData):
        return [data]
    if isinstance(data, dict):
        return read_data(data)
    # what is left is a sequence of inputs (mypy keeps the ComponentData tuple in the union)
    inputs: Sequence[Any] = data
    out: list[ComponentData] = []
    for item in inputs:
        out += _components(item)
    return out


def _stems(paths: Sequence[str]) -> list[str]:
    """The image names of input files: ``wall.json`` -> ``wall``; where two inputs have the
    same name (``a/wall.json``, ``b/wall.json``), their folder's name is put in front
    (``a-wall``, ``b-wall``), then a number if that is not enough."""

    def stem(path: str) -> str:
        name = os.path.basename(path)
        return name[: -len(".json")] if name.endswith(".json") else os.path.splitext(name)[0]

    plain = [stem(p) for p in paths]
    stems = list(plain)
    for i, path in enumerate(paths):
        if plain.count(plain[i]) > 1:
            folder = os.path.basename(os.path.dirname(os.path.abspath(path)))
            stems[i] = f"{folder}-{stem(path)}"
    return _numbered(stems)


def _numbered(names: Sequence[str]) -> list[str]:
    """``names`` where each name given more than once gets its number: ``a-1``, ``a-2``."""
    out = list(names)
    seen: dict[str, int] = {}
    for i, name in enumerate(names):
        seen[name] = seen.get(name, 0) + 1
        if names.count(name) > 1:
            out[i] = f"{name}-{seen[name]}"
    return out


def image_path(
    component: ComponentData,
    rank: int,
    output_dir: str,
    img_type: str,
    stem: str | None = None,
    several_components: bool = False,
    several_ranks: bool = False,
) -> str:
    """``<output_dir>/<stem>[_<component>][_<rank>].<img_type>``: the JSON file's name with
    the image extension (``wall.json`` -> ``wall.png``), else the component's label."""
    name = stem or component.label
    if stem and several_components:
        name += f"_{component.label}"
    if several_ranks:
        name += f"_{rank}"
    return os.path.join(output_dir, f"{name}.{img_type}")


def plot_component(
    component: ComponentData,
    title: str | None = None,
    plot_params: PlotParams | None = None,
    display: bool = False,
) -> list[tuple[int, Any]]:
    """``[(rank, figure), ...]``: the bar chart of each rank of one component."""
    from timemory.plotting import figure as fig_

    params = plot_params or PlotParams()
    with fig_.plot_style(params.font_size):
        return [
            (rank, draw(component, rank, nodes, title or component.label, params, display))
            for rank, nodes in component.ranks
        ]


Input = tuple[Optional[str], Optional[str], list[ComponentData], bool]


def plot(
    data: DataLike = (),
    files: Iterable[str] = (),
    plot_params: PlotParams | None = None,
    display: bool = False,
    output_dir: str = ".",
    echo_dart: bool | None = None,
    titles: Sequence[str] | None = None,
    quiet: bool = False,
    on_input_error: Callable[[InputError], None] | None = None,
    combine: bool = False,
) -> list[str]:
    """Draw every component of ``data`` (``timemory.get()`` dicts, or what :func:`read_file`
    returns) and of ``files`` (flat JSON files, or output folders: every flat JSON in them);
    returns the image files written, ``<output_dir>/<json name>.<img_type>``.

    ``titles``: one for all inputs or one per input (each dict of ``data``, then each entry of
    ``files``); by default the component's label. ``display`` shows the figures instead of
    saving them. ``echo_dart`` prints a CDash ``<DartMeasurementFile>`` tag per image.
    ``combine`` draws each component of all the inputs in one chart,
    ``<output_dir>/combined_<label>.<img_type>``, every entry tagged with its input's title
    (when there is one per input) or file name.

    Raises :class:`MatplotlibMissing` without matplotlib, :class:`PlotError` (a ValueError)
    for ``display`` where nothing can be shown or bad parameters (an unknown image type, a
    wrong number of titles) and :class:`InputError` for an input that is missing or not flat
    timemory JSON (or, with ``combine``, components that differ); with ``on_input_error`` such
    an input is passed to it instead and the others are still plotted.
    """
    params, data, files, titles = _check(plot_params, display, data, files, titles, output_dir)
    inputs = _inputs(data, files, titles, on_input_error)
    shown: list[Any] = []
    draw_args = (params, output_dir, display, shown, echo_dart, quiet)
    written: list[str] = []
    if not combine:
        for title, stem, components, by_label in inputs:
            written += _draw(components, title, stem, by_label, *draw_args)
        return _show(written, shown)
    # each component of every input, tagged with the input's title or name, by component
    groups: dict[str, list[tuple[str, ComponentData]]] = {}
    for index, (title, stem, components, _) in enumerate(inputs):
        name = title if len(titles) > 1 and title else (stem or f"data-{index + 1}")
        for component in components:
            groups.setdefault(component.key, []).append((name, component))
    title = titles[0] if len(titles) == 1 else None
    for parts in groups.values():
        written += _draw([_merge.combined(parts)], title, "combined", True, *draw_args)
    return _show(written, shown)


def plot_maximums(
    output_name: str,
    title: str,
    data: DataLike = (),
    files: Iterable[str] = (),
    plot_params: PlotParams | None = None,
    display: bool = False,
    output_dir: str = ".",
    echo_dart: bool | None = None,
    quiet: bool = False,
    on_input_error: Callable[[InputError], None] | None = None,
) -> list[str]:
    """One chart per component of several inputs (runs, ranks written apart...) where each
    call-graph entry shows its largest value over the inputs:
    ``<output_dir>/<output_name>.<img_type>`` (``<output_name>_<label>`` when the inputs
    hold several components). Arguments and errors as :func:`plot`."""
    params, data, files, _ = _check(plot_params, display, data, files, [title], output_dir)
    components = [c for _, _, cs, _ in _inputs(data, files, [], on_input_error) for c in cs]
    groups = _merge.by_component(components)
    suffix = f".{params.img_type}"
    stem = output_name[: -len(suffix)] if output_name.endswith(suffix) else output_name
    shown: list[Any] = []
    draw_args = (params, output_dir, display, shown, echo_dart, quiet)
    written: list[str] = []
    for group in groups.values():
        written += _draw([_merge.maximums(group)], title, stem, len(groups) > 1, *draw_args)
    return _show(written, shown)


def plot_generic(
    plot_data: plot_data,
    filename: str | None = None,
    title: str | None = None,
    plot_params: PlotParams | None = None,
    display: bool = False,
    output_dir: str = ".",
    echo_dart: bool | None = False,
    quiet: bool = False,
) -> list[str]:
    """Draw one :class:`plot_data` (see :func:`read`) as the bar chart :func:`plot` draws;
    returns the image written, ``[<output_dir>/<name>.<img_type>]`` (nothing when
    ``display``). The name comes from ``filename`` (``wall.json`` -> ``wall``), else from
    ``plot_data`` (:meth:`plot_data.image_name`); ``title`` defaults to ``plot_data.title``,
    then the component's type, and ``plot_params`` to ``plot_data.plot_params``. Errors as
    :func:`plot`."""
    if not isinstance(plot_data, _entries_plot_data):
        raise PlotError(f"plot_generic() draws a plot_data (see read()), not {plot_data!r}")
    params = plot_params or plot_data.plot_params
    params, *_ = _check(params, display, [], [], None, output_dir)
    shown: list[Any] = []
    written = _generic(
        plot_data, filename, title, params, output_dir, display, shown, echo_dart, quiet
    )
    return _show(written, shown)


def plot_all(
    plot_data: plot_data | Sequence[plot_data] | dict[Any, plot_data],
    disp: bool = False,
    output_dir: str = ".",
    echo_dart: bool | None = False,
    quiet: bool = False,
) -> list[str]:
    """Draw several :class:`plot_data` (a list, or the values of a dict) with
    :func:`plot_generic`, each with its own title and parameters; ``disp`` shows them all at
    once. Two with the same image name are numbered (``wall-1``, ``wall-2``) rather than
    written over each other. Returns the images written."""
    if isinstance(plot_data, dict):
        items = list(plot_data.values())
    elif isinstance(plot_data, _entries_plot_data):
        items = [plot_data]
    else:
        items = list(plot_data)
    for item in items:
        if not isinstance(item, _entries_plot_data):
            raise PlotError(f"plot_all() draws plot_data objects (see read()), not {item!r}")
        _check(item.plot_params, disp, [], [], None, output_dir)
    names = _numbered([item.image_name() for item in items])
    shown: list[Any] = []
    written: list[str] = []
    for item, name in zip(items, names):
        written += _generic(
            item, name, None, item.plot_params, output_dir, disp, shown, echo_dart, quiet
        )
    return _show(written, shown)


def _generic(
    data: plot_data,
    filename: str | None,
    title: str | None,
    params: PlotParams,
    output_dir: str,
    display: bool,
    shown: list[Any],
    echo_dart: bool | None,
    quiet: bool = False,
) -> list[str]:
    stem = data.image_name()
    if filename:
        stem = os.path.basename(filename)
        for extension in (".json", f".{params.img_type}"):
            if stem.endswith(extension) and len(stem) > len(extension):
                stem = stem[: -len(extension)]
    component = data.component()
    title = title or data.title or None
    draw_args = (params, output_dir, display, shown, echo_dart, quiet)
    return _draw([component], title, stem, False, *draw_args)


class EmbeddedPlot(NamedTuple):
    """What :func:`embedded_plot` did: the command line's exit status and the images it
    wrote."""

    status: int
    files: list[str]


def embedded_plot(argv: Sequence[str], prog: str | None = None) -> EmbeddedPlot:
    """Run the ``python -m timemory.plotting`` command line ``argv`` (without the program's
    name) in this process: the same options, messages and exit status (0, or 2 for a usage
    or input error, reported on stderr), without exiting. ``prog`` names the program in the
    messages. ``main(argv)`` of ``timemory.plotting.__main__`` is this call's status."""
    from timemory.plotting.__main__ import run

    return run(list(argv), prog)


def timem(
    data: DataLike = (),
    files: Iterable[str] = (),
    plot_params: PlotParams | None = None,
    display: bool = False,
    output_dir: str = ".",
    echo_dart: bool | None = None,
    titles: Sequence[str] | None = None,
    quiet: bool = False,
    on_input_error: Callable[[InputError], None] | None = None,
    max_depth: int | None = 0,
    output_name: str = "timem",
) -> list[str]:
    """Summary tables of the flat JSON ``files`` (and ``data``), one image per category of
    component present: ``<output_dir>/<output_name>_<category>.<img_type>``, the categories
    being time, utilization, memory, page_faults, context_switches, io, hw and other. The
    rows are the entries down to call-graph depth ``max_depth`` (0: the top level; ``None``:
    all), at most ``plot_params.max_nodes`` per component: metric, label, count, value,
    units, and the mean, min and max of a lap when the entries have statistics.

    The tables read timemory's flat JSON (as ``-T`` does), not the JSON of the ``timem``
    tool. ``titles``: one per input (when there are several) labels each input's rows;
    otherwise they are joined into the tables' heading (default ``timem``). Without titles,
    several inputs are labelled by their file or folder name. Other arguments and errors as
    :func:`plot`."""
    from timemory.plotting import _table
    from timemory.plotting import figure as fig_

    params, data, files, _ = _check(plot_params, display, data, files, None, output_dir)
    if max_depth is not None and max_depth < 0:
        max_depth = None
    titles = list(titles or [])
    count = len(data) + len(files)
    if len(titles) == count > 1:
        names = titles
    else:
        names = [f"data-{i + 1}" for i in range(len(data))]
        names += [os.path.basename(os.path.normpath(f)) or f for f in files]
    heading = " ".join(titles) if titles and names is not titles else "timem"
    tables: dict[str, list[_table.TableRow]] = {}
    left_out: dict[str, int] = {}
    for name, _, components, _ in _inputs(data, files, names, on_input_error):
        for component in components:
            kind = _table.category(component.key)
            tag = name if count > 1 and name else ""
            rows, lost = _table.table_rows(component, tag, max_depth, params)
            tables.setdefault(kind, []).extend(rows)
            left_out[kind] = left_out.get(kind, 0) + lost
    if max_depth == 0:
        scope = "top-level entries"
    elif max_depth is None:
        scope = "all entries"
    else:
        scope = f"entries down to call-graph depth {max_depth}"
    shown: list[Any] = []
    written: list[str] = []
    for kind, about in _table.CATEGORIES.items():
        if kind not in tables:
            continue
        subtitle = f"{about}; {scope}"
        if left_out[kind]:
            n = left_out[kind]
            subtitle += f"; {n} smaller {'entry' if n == 1 else 'entries'} left out"
            subtitle += " (max_nodes, min_percent)"
        with fig_.plot_style(params.font_size):
            title = f"{heading}: {kind.replace('_', ' ')}"
            figure = _table.draw_table(title, subtitle, tables[kind], params, display)
        if display:
            shown.append(figure)
            continue
        path = os.path.join(output_dir, f"{output_name}_{kind}.{params.img_type}")
        _save(figure, path, f"[{kind}]|0", params, echo_dart, quiet)
        written.append(path)
    return _show(written, shown)


def _check(
    plot_params: PlotParams | None,
    display: bool,
    data: DataLike,
    files: Iterable[str],
    titles: Sequence[str] | None,
    output_dir: str | None = None,
) -> tuple[PlotParams, list[Any], list[str], list[str]]:
    """The parameters and inputs of a plot, checked before any input is read; the output
    folder is created (unless the plots are displayed)."""
    from timemory.plotting import figure as fig_

    params = plot_params or PlotParams()
    if isinstance(data, (dict, ComponentData)):
        data = [data]
    data, files = list(data), list(files)
    titles = list(titles or [])
    if len(titles) not in (0, 1, len(data) + len(files)):
        raise PlotError(
            f"{len(titles)} titles for {len(data) + len(files)} inputs: give one title, "
            "or one per input"
        )
    fig_.require_matplotlib()
    if display:
        fig_.check_display()
    formats = fig_.supported_formats()
    if params.img_type not in formats:
        raise PlotError(
            f"image type {params.img_type!r} is not supported; choose from: "
            f"{', '.join(sorted(formats))}"
        )
    if output_dir is not None and not display:
        make_output_directory(output_dir)
    return params, data, files, titles


def _inputs(
    data: list[Any],
    files: list[str],
    titles: list[str],
    on_input_error: Callable[[InputError], None] | None,
) -> Iterator[Input]:
    """Per input, read one at a time: its title, its image name, its components, and whether
    the components' labels go into the image names."""
    for index, item in enumerate(data):
        # images named after the components; numbered when several dicts could clash
        stem = f"data-{index + 1}" if len(data) > 1 else None
        yield _title(titles, index), stem, _components(item), stem is not None
    expanded = [(i, p) for i, arg in enumerate(files) for p in _expand(arg, on_input_error)]
    stems = _stems([p for _, p in expanded])
    for (index, path), stem in zip(expanded, stems):
        try:
            components = read_file(path)
        except InputError as err:
            if on_input_error is None:
                raise
            on_input_error(err)
            continue
        yield _title(titles, len(data) + index), stem, components, len(components) > 1


def _show(written: list[str], shown: list[Any]) -> list[str]:
    if shown:
        from timemory.plotting import figure as fig_

        fig_.show(shown)
    return written


def _draw(
    components: Sequence[ComponentData],
    title: str | None,
    stem: str | None,
    by_label: bool,
    params: PlotParams,
    output_dir: str,
    display: bool = False,
    shown: list[Any] | None = None,
    echo_dart: bool | None = False,
    quiet: bool = False,
) -> list[str]:
    """Draw the components of one input; save them (returns the paths) or, with ``display``,
    add the figures to ``shown``. Images are named ``stem``, plus each component's label when
    ``by_label``, plus the rank when there are several (see :func:`image_path`)."""
    written = []
    for component in components:
        for rank, figure in plot_component(component, title, params, display):
            if display and shown is not None:
                shown.append(figure)
                continue
            path = image_path(
                component,
                rank,
                output_dir,
                params.img_type,
                stem,
                by_label,
                len(component.ranks) > 1,
            )
            _save(figure, path, f"[{component.label}]|{rank}", params, echo_dart, quiet)
            written.append(path)
    return written


def _save(
    figure: Any, path: str, tag: str, params: PlotParams, echo_dart: bool | None, quiet: bool
) -> None:
    """Write one image, print ``<tag>> Outputting '<path>'...`` (unless ``quiet``) and
    record it (see :func:`add_plotted_files`)."""
    from timemory.plotting import figure as fig_

    with fig_.plot_style(params.font_size):
        fig_.save(figure, path, params.img_type)
    if not quiet:
        echo(f"{tag}> Outputting '{path}'...", level=DEBUG)
    add_plotted_files(os.path.splitext(os.path.basename(path))[0], path, echo_dart)


def _title(titles: Sequence[str], index: int) -> str | None:
    if not titles:
        return None
    return titles[index] if len(titles) > 1 else titles[0]


def _expand(path: str, on_input_error: Callable[[InputError], None] | None) -> list[str]:
    try:
        return list(expand_inputs([path]))
    except InputError as err:
        if on_input_error is None:
            raise
        on_input_error(err)
        return []


_warned: list[str] = []


def plot_at_finalize(outputs: Sequence[tuple[str, str, str]], echo_dart: bool = False) -> list[str]:
    """For ``settings.plot_output``: ``outputs`` are ``(flat_json_text, image_path, title)``
    of the components just written; returns the images written (with ``echo_dart``, as
    ``settings.dart_output`` asks, a CDash tag is printed for each). A failing plot is
    reported on stderr, a missing matplotlib once per process; neither raises."""
    import json

    written: list[str] = []
    params = PlotParams(img_type="png")
    for text, path, title in outputs:
        stem = os.path.splitext(os.path.basename(path))[0]
        try:
            components = read_data(json.loads(text), path)
            folder = os.path.dirname(path)
            written += _draw(components, title, stem, False, params, folder, echo_dart=echo_dart)
        except MatplotlibMissing as err:
            if not _warned:
                _warned.append("matplotlib")
                _warn(f"[timemory]> plot_output: no plots were drawn: {err}")
            break
        except Exception as err:  # noqa: BLE001 - a plot must never cost the run its data
            _warn(f"[timemory]> plot_output: could not plot '{path}': {type(err).__name__}: {err}")
    return written


def _warn(text: str) -> None:
    echo(text, sys.stderr)
