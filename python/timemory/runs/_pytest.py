"""The pytest plugin (entry point ``pytest11: timemory``): ``pytest --timemory`` profiles the
call phase of each test function into a run of a :class:`timemory.runs.Store`, and
``--timemory-compare=REF`` compares each test with the runs of the same test made by the code
``REF`` (or kept in the store at path ``REF``); ``--timemory-fail-on`` turns the verdicts into
the session's exit status. See docs/guide/pytest.md.

Every pytest session of an environment where timemory is installed imports this module, so
that it costs nothing unless ``--timemory`` is given: at import it defines the options and
hooks only (pytest is loaded already; ``timemory`` itself is the parent package), and the
hooks that run per test are those of :class:`_Session`, registered by ``pytest_configure``
only when ``--timemory`` is on. Everything else (the store, the profiler, NumPy, the
statistics) is imported there.
"""

from __future__ import annotations

import os

import pytest

from ._compare import DEFAULT_ALPHA, DEFAULT_MIN_EFFECT

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Generator, Sequence
    from typing import Any, Callable

    from timemory.runs import Comparison, Run, Store, Table
    from timemory.runs._graph import Graph

#: the folder of the default store, in pytest's cache (``config.cache.mkdir``; the help of
#: ``--timemory-store`` in the timemory_pytest package names it)
CACHE_NAME = "timemory-runs"
FAIL_ON = ("slower", "faster", "change")
#: the number of tests the summary lists by time
TOP = 10


def configure(config: pytest.Config) -> None:
    """Start a ``--timemory`` session (called by the plugin's ``pytest_configure``)."""
    options = Options.from_config(config)
    config.pluginmanager.register(_Session(config, options), "timemory-session")


# ---------------------------------------------------------------------------- the options
class Options:
    """The checked options of a ``--timemory`` session. The constructor raises
    ``pytest.UsageError`` (one line naming the option and its valid values)."""

    def __init__(
        self,
        components: str,
        store: str | None = None,
        code: str | None = None,
        repeat: str | None = None,
        compare: str | None = None,
        fail_on: str | None = None,
        min_effect: str | None = None,
        alpha: str | None = None,
    ) -> None:
        self.components = _components(components)
        self.store = store
        self.code = code
        self.repeat = _integer("--timemory-repeat", repeat, 1) if repeat is not None else 1
        if compare is not None and not compare.strip():
            raise pytest.UsageError(
                "--timemory-compare: empty reference (a code identity or a store path)"
            )
        self.compare = compare
        if fail_on is not None and fail_on not in FAIL_ON:
            raise pytest.UsageError(
                f"--timemory-fail-on: {fail_on!r} is not one of {', '.join(FAIL_ON)}"
            )
        if fail_on is not None and compare is None:
            raise pytest.UsageError("--timemory-fail-on needs --timemory-compare")
        self.fail_on = fail_on
        self.min_effect = (
            _fraction("--timemory-min-effect", min_effect, high=None)
            if min_effect is not None
            else DEFAULT_MIN_EFFECT
        )
        self.alpha = (
            _fraction("--timemory-alpha", alpha, high=1.0) if alpha is not None else DEFAULT_ALPHA
        )
        if alpha is not None and self.alpha == 0.0:
            raise pytest.UsageError("--timemory-alpha: must be above 0 and below 1")

    @classmethod
    def from_config(cls, config: pytest.Config) -> Options:
        get = config.getoption
        return cls(
            get("timemory"),
            store=get("timemory_store"),
            code=get("timemory_code"),
            repeat=get("timemory_repeat"),
            compare=get("timemory_compare"),
            fail_on=get("timemory_fail_on"),
            min_effect=get("timemory_min_effect"),
            alpha=get("timemory_alpha"),
        )


def _components(text: str) -> list[str]:
    """The keys of the components named in ``text``; a usage error naming the valid ones."""
    from timemory import _core
    from timemory._components import MEASURABLE
    from timemory._text import split_names

    names = split_names(text)
    if not names:
        raise pytest.UsageError("--timemory: no component named (e.g. --timemory=wall_clock)")
    keys: list[str] = []
    for name in names:
        index = _core.find_component(name.lower())
        if index < 0 or index not in MEASURABLE:
            valid = ", ".join(sorted(_core.component_info(i)["id"] for i in MEASURABLE))
            hint = (
                " (the paths to test go before --timemory, or write --timemory=COMPONENTS)"
                if os.path.exists(name)
                else ""
            )
            raise pytest.UsageError(f"--timemory: unknown component {name!r}{hint}; valid: {valid}")
        key = str(_core.component_info(index)["id"])
        if key not in keys:
            keys.append(key)
    return keys


def _integer(flag: str, text: str, low: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = low - 1
    if value < low:
        raise pytest.UsageError(f"{flag}: {text!r} is not an integer of at least {low}")
    return value


def _fraction(flag: str, text: str, high: float | None) -> float:
    """A number >= 0 (below ``high`` if given); ``5%`` is 0.05."""
    stripped = text.strip()
    try:
        value = float(stripped[:-1]) / 100 if stripped.endswith("%") else float(stripped)
    except ValueError:
        value = float("nan")
    if not (value >= 0.0 and (high is None or value < high)) or value == float("inf"):
        bound = f"at least 0 and below {high:g}" if high is not None else "at least 0"
        raise pytest.UsageError(f"{flag}: {text!r} is not a number {bound} (0.05 or 5%)")
    return value


# ---------------------------------------------------------------------------- the parameters
def run_parameters(item: pytest.Item) -> dict[str, Any]:
    """A test's run parameters: ``test`` (its node id) and its parametrization, each value
    as it is when it is a valid run parameter value, else its ``repr``. A parametrized
    argument that cannot be a parameter name (``test`` itself, names with ``__``) is left
    out: the node id names it already."""
    from timemory.runs import RunsError
    from timemory.runs._params import canonical

    parameters: dict[str, Any] = {"test": item.nodeid}
    callspec = getattr(item, "callspec", None)
    for name, value in sorted(getattr(callspec, "params", {}).items()):
        if name == "test":
            continue
        try:
            canonical({name: value})
        except RunsError:
            try:
                canonical({name: repr(value)})
            except RunsError:
                continue  # the name itself is not a parameter name
            value = repr(value)
        parameters[name] = value
    return canonical(parameters)


def default_code(rootdir: str) -> str | None:
    """``git:<rootdir>`` when ``rootdir`` is in a git work tree, else None."""
    path = os.path.abspath(rootdir)
    while True:
        if os.path.exists(os.path.join(path, ".git")):
            return f"git:{os.path.abspath(rootdir)}"
        parent = os.path.dirname(path)
        if parent == path:
            return None
        path = parent


def matches_code(code: str | None, ref: str) -> bool:
    """Whether a run of code identity ``code`` is one of the reference ``ref``: the same
    identity, or ``git:<commit>`` abbreviated (at least 4 hex digits) in ``ref``."""
    if code is None:
        return False
    if code == ref:
        return True
    commit = ref[4:] if ref.startswith("git:") else ""
    if len(commit) >= 4 and all(c in "0123456789abcdef" for c in commit.lower()):
        return code.lower().startswith(ref.lower())
    return False


def flagged(comparison: Comparison, fail_on: str) -> list[Any]:
    """The rows of ``comparison`` that ``--timemory-fail-on=fail_on`` fails the session for."""
    wanted = {"slower": ("slower",), "faster": ("faster",), "change": ("slower", "faster")}
    return [row for row in comparison.rows if row.verdict in wanted[fail_on]]


# ---------------------------------------------------------------------------- measuring
def difference(after: Graph, before: Graph) -> Graph:
    """What was recorded between two graphs of the same live storage: per call path,
    ``after`` minus ``before`` (inclusive, self and count are sums over the calls). Paths
    with no new call are left out, unless a path with new calls is below them."""
    import copy

    import numpy as np

    old = {path: i for i, path in enumerate(before.paths)}
    keys = list(after.components)
    new_values: dict[str, dict[str, Any]] = {}
    for key in keys:
        new_values[key] = {}
        for metric, column in after.values[key].items():
            column = np.array(column, dtype=np.float64)
            prior = before.values.get(key, {}).get(metric)
            if prior is not None:
                for i, path in enumerate(after.paths):
                    j = old.get(path)
                    if j is not None:
                        column[i] -= prior[j]
            new_values[key][metric] = column
    called = np.zeros(len(after.paths), dtype=bool)
    for key in keys:
        called |= new_values[key]["count"] > 0
    keep_paths = {path for path, c in zip(after.paths, called) if c}
    for path in list(keep_paths):
        keep_paths.update(path[:n] for n in range(1, len(path)))
    rows = [i for i, path in enumerate(after.paths) if path in keep_paths]
    graph = copy.copy(after)
    graph.paths = [after.paths[i] for i in rows]
    graph.values = {
        key: {metric: column[rows] for metric, column in metrics.items()}
        for key, metrics in new_values.items()
    }
    return graph


def write_quietly(folder: str) -> None:
    """Write this process's data into ``folder`` as the output at exit would, the data only:
    per component its flat and tree JSON (hatchet reads the tree), with ``metadata.json`` and
    ``functions.json``; no text table, flame graph, export or plot (they cost most of the
    time of a write, and the store has the data to make them). Leave no trace of the write in
    the process: nothing printed, the files not listed among the run's
    (``timemory.manager``, the "N files in" line at exit). OSError when a file could not be
    written."""
    from timemory import _output, settings
    from timemory._output import _plan, _record

    forced: dict[str, Any] = {
        "cout_output": False,
        "time_output": False,
        "output_prefix": "",
        "file_output": True,
        "json_output": True,
        "tree_output": True,
    }
    for name in (
        "text_output",
        "flamegraph_output",
        "pstats_output",
        "speedscope_output",
        "callgrind_output",
        "perfetto_output",
        "dart_output",
        "plot_output",
    ):
        forced[name] = False
    saved = {name: getattr(settings, name) for name in forced}
    manager = _record.manager
    written, lost = len(_plan._WRITTEN), len(_plan._LOST)
    lists = [manager.text_files, manager.json_files, *manager._outputs.values()]
    lengths = [len(files) for files in lists]
    kinds = set(manager._outputs)
    deferred = _output.defer_folders(True)
    try:
        for name, value in forced.items():
            setattr(settings, name, value)
        _output.write_run(_output.OutputPlan.from_settings(folder))
    finally:
        _output.defer_folders(deferred)
        for name, value in saved.items():
            setattr(settings, name, value)
        failed = _plan._LOST[lost:]
        del _plan._WRITTEN[written:], _plan._LOST[lost:]
        _plan._ANNOUNCED[0] = min(_plan._ANNOUNCED[0], written)
        for files, length in zip(lists, lengths):
            del files[length:]
        for kind in set(manager._outputs) - kinds:
            del manager._outputs[kind]
    if failed:
        raise OSError(f"could not write {failed[0]}")


class _Measured:
    """The repeats of one test: the graph, runtime and output folder of each."""

    def __init__(self) -> None:
        self.graphs: list[Graph] = []
        self.runtime: list[float] = []
        #: the output folder of each repeat; None for a repeat measured while the storage
        #: held the suite's data (its folder would hold those too)
        self.dirs: list[str | None] = []
        #: why a repeat could not be measured (the run is then not stored)
        self.error: str | None = None

    def fail(self, err: Exception) -> None:
        from timemory.runs import RunsError

        text = str(err) if isinstance(err, RunsError) else f"{type(err).__name__}: {err}"
        self.error = self.error or text

    def discard(self) -> None:
        """Remove the folders written (the run is not stored, or not with its folders)."""
        import shutil

        for folder in self.dirs:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
        self.dirs = []


class _Result:
    """What the session did with one test: its run, the repeats measured now, and the
    comparison (None: no reference run, or no --timemory-compare)."""

    def __init__(
        self,
        nodeid: str,
        run: Run,
        table: Table,
        comparison: Comparison | None,
        references: int,
        flagged_rows: Sequence[Any],
    ) -> None:
        self.nodeid = nodeid
        self.run = run
        self.table = table
        self.comparison = comparison
        self.references = references
        self.flagged = list(flagged_rows)


class _Session:
    """The hooks of a ``--timemory`` session (registered by ``pytest_configure``)."""

    def __init__(self, config: pytest.Config, options: Options) -> None:
        from timemory import _core
        from timemory.runs import RunsError, Store
        from timemory.runs._store import code_identity

        if _core.profiler_active():
            raise pytest.UsageError(
                "--timemory: timemory's profiler is already running in this process "
                "(pytest under `timemory profile`?): one profiler at a time"
            )
        self.config = config
        self.options = options
        self.indices = [_core.find_component(key) for key in options.components]
        rootdir = str(config.rootpath)
        path = options.store
        if path is None:
            cache = getattr(config, "cache", None)
            if cache is None:
                raise pytest.UsageError(
                    "--timemory: pytest's cache is disabled (-p no:cacheprovider): "
                    "give the store with --timemory-store DIR"
                )
            path = str(cache.mkdir(CACHE_NAME))
        #: what the summary says first (a default that could not be applied)
        self.notes: list[str] = []
        try:
            self.store: Store = Store(path)
        except RunsError as err:
            flag = "--timemory-store" if options.store else "--timemory"
            raise pytest.UsageError(f"{flag}: {err}") from None
        try:
            self.code = code_identity(options.code) if options.code else None
        except RunsError as err:
            raise pytest.UsageError(f"--timemory-code: {err}") from None
        self.reference: Store | None = None
        ref = options.compare
        if ref is not None and (_is_store(ref) or _looks_like_path(ref)):
            try:
                self.reference = Store(ref, create=False)
            except RunsError as err:
                raise pytest.UsageError(f"--timemory-compare: {err}") from None
        if options.code is None:
            spec = default_code(rootdir)
            try:
                self.code = code_identity(spec) if spec else None
            except RunsError as err:  # git missing, say: the runs then have no code identity
                self.notes.append(f"no code identity: {err}")
        #: this session's folder in the store's work folder (made with the first repeat's)
        self.workdir: str | None = None
        self.written = 0
        self.results: list[_Result] = []
        #: one line per test that could not be measured, stored or compared
        self.problems: list[str] = []
        self.skipped: list[str] = []

    # ------------------------------------------------------------------ per test
    @pytest.hookimpl(hookwrapper=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> Generator[None, Any, None]:
        function = pyfuncitem.obj
        code = getattr(function, "__code__", None)
        # coroutines and async generators (0x80, 0x200) are run by their plugin's loop,
        # which a wrapper would hide from it
        # not a Python function (a C-level wrapper): no call of it to measure
        if code is None or code.co_flags & 0x280:
            self.skipped.append(pyfuncitem.nodeid)
            yield
            return
        measured = _Measured()
        pyfuncitem.obj = self._repeating(function, measured)
        try:
            outcome = yield
        finally:
            pyfuncitem.obj = function
        try:
            if measured.error is not None:
                self.problems.append(f"not measured: {pyfuncitem.nodeid}: {measured.error}")
            elif outcome.excinfo is None and len(measured.graphs) == self.options.repeat:
                self._record(pyfuncitem, measured)
        finally:
            measured.discard()  # what the store did not take

    def _repeating(self, function: Callable[..., Any], measured: _Measured) -> Callable[..., Any]:
        def repeated(*args: Any, **kwargs: Any) -> Any:
            result = None
            for _ in range(self.options.repeat):
                result = self._measure(function, args, kwargs, measured)
            return result

        return repeated

    def _measure(
        self,
        function: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        measured: _Measured,
    ) -> Any:
        """One call of the test function under the profiler. Its graph is a clean graph of
        this call: when the storage of the components is empty before it, all it holds after
        it is this call's, and it is emptied again; when it holds data the suite recorded, it
        is left as it is and the graph is the difference."""
        import time

        from timemory import _core, settings
        from timemory.profiler import Profiler
        from timemory.runs._graph import from_live

        keys = self.options.components
        shared = any(_core.has_data(index) for index in self.indices)
        try:
            before = from_live(keys) if shared else None
        except Exception as err:  # the test runs as it would without --timemory
            measured.fail(err)
            return function(*args, **kwargs)
        profiler = Profiler(keys)
        # exactly these components: the profiler adds those of the settings when it starts
        extra = {"profiler_components": "", "global_components": ""}
        saved = {name: getattr(settings, name) for name in extra}
        for name, value in extra.items():
            setattr(settings, name, value)
        start = time.perf_counter()
        try:
            profiler.start()
        finally:
            for name, value in saved.items():
                setattr(settings, name, value)
        try:
            result = function(*args, **kwargs)
        except BaseException:
            if not shared:
                for index in self.indices:
                    _core.clear(index)
            raise
        finally:
            profiler.stop()
            elapsed = time.perf_counter() - start
        # a measurement that fails (nothing recorded: a Profiler.condition() said no; the
        # folder cannot be written) is reported in the summary, and never fails the test
        folder = None
        try:
            graph = from_live(keys)
            if before is not None:
                graph = difference(graph, before)
            else:
                folder = self._write_repeat()
        except Exception as err:
            measured.fail(err)
            return result
        finally:
            if before is None:
                for index in self.indices:
                    _core.clear(index)
        measured.graphs.append(graph)
        measured.runtime.append(elapsed)
        measured.dirs.append(folder)
        return result

    def _write_repeat(self) -> str:
        """The repeat's output folder, as ``timemory profile -d`` writes it (JSON per
        component, hatchet-loadable), in the store's work folder; nothing is printed."""
        from timemory._files import make_private_dir

        if self.workdir is None:
            work = os.path.join(self.store.path, "work")
            os.makedirs(work, exist_ok=True)
            self.workdir = make_private_dir("pytest-", [work])
        self.written += 1
        folder = os.path.join(self.workdir, f"repeat-{self.written:06d}")
        write_quietly(folder)
        return folder

    def _record(self, item: pytest.Function, measured: _Measured) -> None:
        """Save the test's repeats as a run (appended to the run of the same test, code and
        environment when there is one) and compare them with the reference. What goes wrong
        is one line of the summary; the test's outcome stays as it is."""
        from timemory.runs import RunsError, Table

        nodeid = item.nodeid
        reference: tuple[Table, int] | None = None
        trouble: str | None = None
        try:
            parameters = run_parameters(item)
            table = Table.from_graphs(measured.graphs)
            try:
                # read before this session's repeats are added to the store
                reference = self._reference(parameters)
            except (RunsError, OSError) as err:
                trouble = f"not compared: {nodeid}: {err}"
            # a run's folders are one per repeat, or none
            dirs = [d for d in measured.dirs if d is not None]
            if len(dirs) != len(measured.dirs):
                dirs = []
            run = self._save(parameters, table, measured.runtime, dirs)
            measured.dirs = [d for d in measured.dirs if d not in dirs]
        except (RunsError, OSError) as err:
            self.problems.append(f"not stored: {nodeid}: {err}")
            return
        comparison = None
        if reference is not None:
            from timemory.runs import compare

            try:
                comparison = compare(
                    reference[0],
                    table,
                    components=self.options.components,
                    min_effect=self.options.min_effect,
                    alpha=self.options.alpha,
                )
            except RunsError as err:
                trouble = f"not compared: {nodeid}: {err}"
        if trouble is not None:
            self.problems.append(trouble)
        rows = (
            flagged(comparison, self.options.fail_on)
            if comparison is not None and self.options.fail_on
            else []
        )
        count = reference[1] if reference is not None else 0
        self.results.append(_Result(nodeid, run, table, comparison, count, rows))

    def _save(
        self, parameters: dict[str, Any], table: Table, runtime: list[float], dirs: list[str]
    ) -> Run:
        # a done run with the same id (parameters, code and environment) gets these repeats
        # appended: Store.save does that
        target = {"kind": "external", "name": parameters["test"], "args": []}
        return self.store.save(
            parameters,
            table,
            code=self.code,
            target=target,
            components=self.options.components,
            runtime=runtime,
            repeat_dirs=dirs,
        )

    def _reference(self, parameters: dict[str, Any]) -> tuple[Table, int] | None:
        """The pooled repeats of the reference runs of this test, and how many runs."""
        ref = self.options.compare
        if ref is None:
            return None
        from timemory.runs import Table

        if self.reference is not None:
            store, wanted = self.reference, None
        else:
            store, wanted = self.store, ref
        keys = set(self.options.components)
        runs = [
            run
            for run in store.get_runs_with(test=parameters["test"])
            if run.parameters == parameters
            and run.done
            and keys <= set(run.components)
            and (wanted is None or matches_code(run.code, wanted))
        ]
        if not runs:
            return None
        return Table.concat([run.table() for run in runs]), len(runs)

    # ------------------------------------------------------------------ session end
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.workdir is not None:
            import shutil

            shutil.rmtree(self.workdir, ignore_errors=True)
        if self.options.fail_on and any(result.flagged for result in self.results):
            if session.exitstatus == 0:
                session.exitstatus = 1

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in summary_lines(self):
            if line.startswith("="):
                terminalreporter.section(line.strip("= "), sep="-")
            else:
                terminalreporter.line(line)


def _is_store(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "timemory-store.json"))


def _looks_like_path(ref: str) -> bool:
    """A reference that names a folder rather than a code identity: then it must be a store
    (a mistyped path must not pass a gate for want of reference runs)."""
    return not ref.startswith("git:") and (
        os.sep in ref or ref in (".", "..") or os.path.isdir(ref)
    )


# ---------------------------------------------------------------------------- the summary
def _total(table: Table, key: str) -> float:
    """The median over the repeats of a test's inclusive ``key`` at the top of what it
    called: the shallowest nodes with calls (in a graph that is a difference, the nodes
    above them, regions the suite had open, have none)."""
    import numpy as np

    calls = np.nansum(table.values[key]["count"], axis=1)
    called = [i for i, path in enumerate(table.paths) if calls[i] > 0]
    if not called:
        return 0.0
    top = min(len(table.paths[i]) for i in called)
    rows = [i for i in called if len(table.paths[i]) == top]
    per_repeat = np.nansum(table.values[key]["inclusive"][rows, :], axis=0)
    return float(np.median(per_repeat))


def _format(value: float, unit: str) -> str:
    scales = {"ns": [(1e9, "s"), (1e6, "ms"), (1e3, "us"), (1.0, "ns")]}
    scales["bytes"] = [(2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB"), (1.0, "B")]
    for size, name in scales.get(unit, [(1.0, unit)]):
        if abs(value) >= size or size == 1.0:
            return f"{value / size:.3g} {name}".rstrip()
    return f"{value:.3g}"


def _decided(row: Any) -> bool:
    """Whether the test reached this row's verdict: a change, or no change after a test (a
    node with the same value in every repeat of both sides is "no change" untested, which
    one repeat a side can give by chance)."""
    import math

    if row.verdict in ("slower", "faster"):
        return True
    return row.verdict == "no change" and row.q is not None and math.isfinite(row.q)


def summary_lines(session: _Session) -> list[str]:
    """The terminal section: the tests by time, then the comparison's verdicts."""
    options = session.options
    results = session.results
    key = options.components[0]
    lines = [
        f"= timemory: {len(results)} tests profiled ({options.repeat} repeats each) "
        f"into {session.store.path} ="
    ]
    if results:
        unit = results[0].table.units.get(key, "")
        timed = sorted(results, key=lambda r: _total(r.table, key), reverse=True)
        lines.append(f"slowest tests ({key}, median over the repeats):")
        for result in timed[:TOP]:
            lines.append(f"  {_format(_total(result.table, key), unit):>10}  {result.nodeid}")
    lines += session.notes
    lines += session.problems
    if session.skipped:
        lines.append(f"not profiled (async, or not Python functions): {len(session.skipped)} tests")
    if options.compare is None:
        return lines
    compared = [r for r in results if r.comparison is not None]
    verdicts = {"slower": 0, "faster": 0}
    for result in compared:
        assert result.comparison is not None
        for verdict in verdicts:
            if any(row.verdict == verdict for row in result.comparison.rows):
                verdicts[verdict] += 1
    lines.append(
        f"comparison with {options.compare}: {len(compared)} tests compared "
        f"({verdicts['slower']} with slower nodes, {verdicts['faster']} with faster nodes), "
        f"{len(results) - len(compared)} without a reference run"
    )
    undecided = [
        r
        for r in compared
        if r.comparison is not None and not any(_decided(row) for row in r.comparison.rows)
    ]
    if undecided:
        # a gate that can never fail should say so
        lines.append(
            f"{len(undecided)} tests with not enough data for any verdict: give both sessions "
            "more repeats (--timemory-repeat 6 or more with the default alpha)"
        )
    for result in compared:
        assert result.comparison is not None
        changed = [r for r in result.comparison.rows if r.verdict in ("slower", "faster")]
        for row in changed[:3]:
            # the comparison's row of the whole run (a shared factor of every node) has no path
            node = "/".join(row.path) if row.path else "(whole run)"
            lines.append(
                f"  {row.verdict:>6} {row.ratio:6.2f}x [{row.low:.2f}, {row.high:.2f}] "
                f"q={row.q:.2g}  {result.nodeid}  {node} ({row.component})"
            )
    if options.fail_on:
        bad = [r for r in results if r.flagged]
        if bad:
            lines.append(
                f"--timemory-fail-on={options.fail_on}: {len(bad)} tests flagged: "
                "the session fails (exit status 1)"
            )
        else:
            lines.append(f"--timemory-fail-on={options.fail_on}: no test flagged")
    return lines
