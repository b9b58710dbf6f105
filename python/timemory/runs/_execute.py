"""Measuring a run: :func:`measure` executes a target ``repeats`` times, each repeat under the
function profiler into its own output folder (``<workdir>/repeat-NNN``: exactly what
``timemory profile -d DIR`` writes, JSON per component, hatchet-loadable), and returns the
repeats' call graphs as one :class:`~timemory.runs.Table`.

A target is a Python callable (called with the parameters as keyword arguments; its return
value is the run's result), a script (a path ending in ``.py``, or an existing file), or a
module (``"-m name"``, or :class:`Module` ``("name")``). :func:`describe` says which.

Scripts and modules run in a subprocess per repeat, ``python -m timemory.profiler``, with the
parameters in the environment (``TIMEMORY_RUN_PARAMETERS``, JSON: :func:`parameters` reads
them) and in ``{name}`` placeholders of their arguments. Their stdout and stderr are their own
(stderr is passed through line by line, its last line kept for the error of a failing repeat).

A callable runs in a forked child per repeat where ``os.fork`` exists and is safe: the child
starts from an empty call graph (timemory clears a forked child's copy of the storage), stops
any profiler it inherited, measures exactly the run's components around the one call, writes
the repeat's folder and ends with ``os._exit``, handing back the result, its time and its error
through a pipe. So each repeat's graph is that repeat alone, whatever the process recorded
before (markers open or closed, a ``timemory profile`` around the whole program), and nothing
the process recorded is changed, cleared or written. Where fork is not usable (no ``os.fork``;
an MPI job in progress, whose child could not take part in it; a GPU runtime loaded, whose
context a child cannot use) the repeats run in this process, which is only allowed while it
holds no timemory data and no profiler runs: the repeat's data would otherwise mix with the
user's, and clearing it would destroy theirs. Then the storage is cleared after each repeat.
"""

from __future__ import annotations

import os
import sys

from timemory.runs._errors import RunsError

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any

    from timemory.runs._graph import Graph, Table

__all__ = ["ENV", "Measured", "Module", "describe", "measure", "parameters"]

#: the environment variable that holds the parameters of the run under way (JSON)
ENV = "TIMEMORY_RUN_PARAMETERS"

#: the settings that would add components, a time folder or a prefix to a repeat's output:
#: a repeat measures exactly the run's components into exactly its folder
_ENV_CLEARED = (
    "TIMEMORY_PROFILER_COMPONENTS",
    "TIMEMORY_GLOBAL_COMPONENTS",
    "TIMEMORY_OUTPUT_PATH",
    "TIMEMORY_OUTPUT_PREFIX",
    "TIMEMORY_TIME_OUTPUT",
)

#: the settings a repeat's folder needs: files, and the call graph (tree JSON) among them
_ENV_SET = {"TIMEMORY_FILE_OUTPUT": "true", "TIMEMORY_TREE_OUTPUT": "true"}

#: the shared libraries of GPU runtimes: a forked child cannot use a context its parent made
_GPU_LIBRARIES = ("libcuda.so", "libamdhip64.so", "libhsa-runtime64.so", "libze_loader.so")

TARGET_KINDS = "a Python callable, a script (a .py file) or a module ('-m name' or Module('name'))"


# ------------------------------------------------------------------ the run's parameters
def parameters() -> dict[str, Any]:
    """The parameters of the run under way: a dict, ``{}`` outside a run.

    Inside a script or module that ``timemory run`` (or a :class:`~timemory.runs.Store`) runs,
    and inside a callable it measures, these are the run's parameters, from the environment
    variable ``TIMEMORY_RUN_PARAMETERS`` (JSON). A malformed value raises RunsError."""
    text = os.environ.get(ENV)
    if not text:
        return {}
    import json

    try:
        value = json.loads(text)
    except ValueError as err:
        raise RunsError(f"{ENV} is not valid JSON ({err}): {text[:60]!r}") from None
    if not isinstance(value, dict):
        raise RunsError(f"{ENV} must hold a JSON object of parameters, got {text[:60]!r}")
    return value


# ------------------------------------------------------------------ targets
class Module:
    """A module to run as ``python -m name`` does (a package runs its ``__main__``)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = _module_name(name)

    def __repr__(self) -> str:
        return f"Module({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Module) and other.name == self.name

    def __hash__(self) -> int:
        return hash(("Module", self.name))


def _module_name(name: object) -> str:
    text = str(name).strip() if isinstance(name, str) else ""
    if not text or not all(part.isidentifier() for part in text.split(".")):
        raise RunsError(
            f"not a module name: {name!r} (dotted Python identifiers, e.g. 'package.module')"
        )
    return text


def _callable_name(target: Any) -> str:
    """``module:qualname`` of a function, method, partial or callable object."""
    func = target
    while hasattr(func, "func") and not hasattr(func, "__qualname__"):  # functools.partial
        func = func.func
    if not hasattr(func, "__qualname__"):
        func = type(func)
    module = getattr(func, "__module__", None) or "?"
    return f"{module}:{func.__qualname__}"


def _classify(target: Any) -> tuple[str, str]:
    """``(kind, name)`` of a target; RunsError for anything else or a missing script."""
    if isinstance(target, Module):
        return "module", target.name
    if isinstance(target, (str, os.PathLike)):
        text = os.fspath(target)
        text = os.fsdecode(text) if isinstance(text, bytes) else text
        stripped = text.strip()
        if stripped.startswith("-m"):
            return "module", _module_name(stripped[2:].strip())
        if text.endswith((".py", ".pyw")) or os.path.isfile(text):
            path = os.path.abspath(text)
            if not os.path.exists(path):
                raise RunsError(f"cannot run {text!r}: no such file")
            if not os.path.isfile(path):
                raise RunsError(f"cannot run {text!r}: not a file")
            return "script", path
        raise RunsError(f"cannot run {text!r}: no such script; a target is {TARGET_KINDS}")
    if callable(target):
        return "callable", _callable_name(target)
    raise RunsError(f"cannot run {target!r} ({type(target).__name__}): a target is {TARGET_KINDS}")


def _arguments(args: Any) -> list[str]:
    if isinstance(args, (str, bytes)):
        raise RunsError(f"args must be a list of strings, got the string {args!r}")
    out = []
    for arg in args or ():
        if isinstance(arg, os.PathLike):
            arg = os.fspath(arg)
        if isinstance(arg, bytes):
            arg = os.fsdecode(arg)
        if isinstance(arg, (int, float)) and not isinstance(arg, bool):
            arg = str(arg)
        if not isinstance(arg, str):
            raise RunsError(f"an argument must be a string, got {arg!r} ({type(arg).__name__})")
        out.append(arg)
    return out


def describe(target: Any, args: Sequence[Any] = ()) -> dict[str, Any]:
    """``{"kind", "name", "args"}`` of a target: ``"callable"`` and ``"module:qualname"``,
    ``"script"`` and its absolute path, or ``"module"`` and its name. RunsError for what is
    none of them, a script that does not exist, or arguments given to a callable (it gets the
    parameters as keyword arguments)."""
    kind, name = _classify(target)
    arguments = _arguments(args)
    if kind == "callable" and arguments:
        raise RunsError(
            f"arguments {arguments!r} were given for the callable {name}: a callable gets the "
            "parameters as keyword arguments; arguments are for scripts and modules"
        )
    return {"kind": kind, "name": name, "args": arguments}


# ------------------------------------------------------------------ placeholders
class _Placeholders(dict):
    def __missing__(self, key: str) -> Any:
        valid = ", ".join(sorted(self)) or "none: the run has no parameters"
        raise RunsError(f"unknown placeholder {{{key}}} in the arguments (the parameters: {valid})")


def format_arguments(args: Sequence[str], params: Mapping[str, Any]) -> list[str]:
    """``args`` with their ``{name}`` placeholders replaced by the parameters' values
    (``{{`` and ``}}`` for literal braces; format specs allowed: ``{n:05d}``)."""
    values = _Placeholders(params)
    out = []
    for arg in args:
        try:
            out.append(arg.format_map(values))
        except RunsError:
            raise
        except (ValueError, IndexError, KeyError, AttributeError, TypeError) as err:
            raise RunsError(
                f"cannot fill the placeholders of argument {arg!r}: {err} "
                "(write {name} for a parameter, {{ and }} for literal braces)"
            ) from None
    return out


# ------------------------------------------------------------------ the outcome
class Measured:
    """What :func:`measure` measured: ``table`` (the repeats' call graphs), ``repeat_dirs``
    (their output folders, in order), ``result`` (a callable's return value, JSON-able;
    None for scripts and modules), ``runtime`` (seconds per repeat) and ``error`` (None, or
    one line: why the run stopped; the repeats measured before are kept)."""

    __slots__ = ("table", "repeat_dirs", "result", "runtime", "error")

    def __init__(
        self,
        table: Table,
        repeat_dirs: list[str],
        result: Any,
        runtime: list[float],
        error: str | None,
    ) -> None:
        self.table = table
        self.repeat_dirs = repeat_dirs
        self.result = result
        self.runtime = runtime
        self.error = error

    def __repr__(self) -> str:
        state = f"error={self.error!r}" if self.error else "ok"
        return f"<Measured {len(self.repeat_dirs)} repeats, {state}>"


def _one_line(exc: BaseException) -> str:
    return " ".join(repr(exc).split())


def _json_result(value: Any) -> Any:
    """The result as JSON stores it, or its ``repr()`` with a warning (see
    :func:`._params.jsonable`)."""
    from ._params import jsonable

    return jsonable(value, "the result")


# ------------------------------------------------------------------ measuring
def _components(components: Any) -> list[str]:
    """The component keys of the run (RunsError naming the valid names)."""
    from timemory import _core
    from timemory._components import MEASURABLE, resolve

    if isinstance(components, str):
        components = [components]
    names = list(components or ())
    if not names:
        raise RunsError("no components to measure: give e.g. ['wall_clock']")
    try:
        indices = resolve(names)
    except (ValueError, TypeError) as err:
        raise RunsError(str(err)) from None
    unusable = [i for i in indices if i not in MEASURABLE]
    if unusable:
        bad = ", ".join(str(_core.component_info(i)["key"]) for i in unusable)
        raise RunsError(f"cannot measure {bad}: not available here or holds no values")
    return [str(_core.component_info(i)["key"]) for i in indices]


def _repeats(repeats: Any) -> int:
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise RunsError(f"repeats must be an integer >= 1, got {repeats!r}")
    return repeats


def measure(
    target: Any,
    parameters: Mapping[str, Any] | None,
    *,
    repeats: int,
    components: Sequence[Any],
    workdir: str | os.PathLike[str],
    args: Sequence[Any] = (),
) -> Measured:
    """Run ``target`` ``repeats`` times with ``parameters``, each repeat profiled with
    ``components`` into ``<workdir>/repeat-NNN`` (see the module's description).

    A repeat that fails (an exception in the callable, a non-zero exit status of a script)
    stops the run: ``error`` says why, the remaining repeats are skipped, and what was
    measured, that repeat's folder included when it holds a call graph, is kept. Bad input (a
    target that is none of the kinds, a missing script or module, an unknown component or
    placeholder, parameters that are not canonical) raises RunsError before anything runs."""
    from timemory.runs import _params
    from timemory.runs._graph import Table

    params = _params.canonical(parameters or {})
    info = describe(target, args)
    count = _repeats(repeats)
    keys = _components(components)
    workdir = os.fspath(workdir)
    if info["kind"] == "callable":
        runner = _callable_runner(target, params, keys)
    else:
        runner = _command_runner(info, params, keys)
    try:
        os.makedirs(workdir, exist_ok=True)
    except OSError as err:
        raise RunsError(f"cannot create the folder {workdir!r}: {err.strerror or err}") from None

    dirs: list[str] = []
    graphs: list[Graph] = []
    runtime: list[float] = []
    result: Any = None
    error: str | None = None
    for repeat in range(count):
        folder = os.path.join(workdir, f"repeat-{repeat:03d}")
        try:
            os.mkdir(folder, 0o700)
        except OSError as err:
            raise RunsError(f"cannot create the folder {folder!r}: {err.strerror or err}") from None
        seconds, value, error = runner(folder)
        graph = _graph(folder, required=error is None)
        if isinstance(graph, str):  # a repeat that ran but left no call graph
            error = f"repeat {repeat}: {graph}"
        elif graph is not None:
            dirs.append(folder)
            graphs.append(graph)
            runtime.append(seconds)
            if error is None:
                result = value
        if error is not None:
            break
    return Measured(Table.from_graphs(graphs), dirs, result, runtime, error)


def _graph(folder: str, required: bool) -> Graph | str | None:
    """The call graph of a repeat's folder; when it holds none, why (a repeat that
    succeeded) or None (a failed repeat)."""
    from timemory.runs._graph import read_folder

    try:
        return read_folder(folder)
    except RunsError as err:
        return str(err) if required else None


# ------------------------------------------------------------------ scripts and modules
def _command_runner(
    info: dict[str, Any], params: dict[str, Any], keys: list[str]
) -> Callable[[str], tuple[float, Any, str | None]]:
    from timemory import _cli
    from timemory.runs import _params

    args = format_arguments(info["args"], params)
    command = ["-m", info["name"], *args] if info["kind"] == "module" else [info["name"], *args]
    try:
        _cli.resolve_target(command)  # a missing module: one line now, not in every repeat
    except _cli.CliError as err:
        raise RunsError(err.message) from None
    env = {k: v for k, v in os.environ.items() if k not in _ENV_CLEARED}
    env.update(_ENV_SET)
    env[ENV] = _params.canonical_json(params)

    def run(folder: str) -> tuple[float, Any, str | None]:
        argv = [
            sys.executable,
            "-m",
            "timemory.profiler",
            "-q",
            "--checkpoint-interval",
            "0",
            "-c",
            *keys,
            "-d",
            folder,
            "--",
            *command,
        ]
        return _run_process(argv, env)

    return run


def _pass_on(raw: bytes) -> None:
    """A line of the program's stderr on ours, its bytes as they are where stderr has a
    buffer (nothing the program wrote is re-encoded)."""
    stream = sys.stderr
    try:
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()
            buffer.write(raw)
            buffer.flush()
        else:
            stream.write(raw.decode(errors="replace"))
            stream.flush()
    except (AttributeError, OSError, ValueError):
        pass  # stderr closed or gone: the run goes on


def _run_process(argv: list[str], env: dict[str, str]) -> tuple[float, Any, str | None]:
    """Run ``argv``; its stdout is its own, its stderr is passed on line by line. Returns
    ``(seconds, None, error)``, the error naming the exit status and the last stderr line."""
    import subprocess
    import time

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    last = ""
    start = time.perf_counter()
    with subprocess.Popen(
        argv, env=env, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as proc:  # closes the pipe; on an exception (Ctrl-C) it waits for the program
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode(errors="replace").strip()
            if line:
                last = line
            _pass_on(raw)
        status = proc.wait()
    seconds = time.perf_counter() - start
    if status == 0:
        return seconds, None, None
    how = f"exit status {status}" if status > 0 else f"killed by signal {-status}"
    return seconds, None, f"{how}: {last}" if last else how


# ------------------------------------------------------------------ callables
def _callable_runner(
    target: Callable[..., Any], params: dict[str, Any], keys: list[str]
) -> Callable[[str], tuple[float, Any, str | None]]:
    from timemory.runs import _params

    text = _params.canonical_json(params)
    why = _fork_unusable()
    if why is None:
        return lambda folder: _forked(target, params, text, keys, folder)

    def in_process(folder: str) -> tuple[float, Any, str | None]:
        _check_in_process(why)
        return _in_process(target, params, text, keys, folder)

    _check_in_process(why)
    return in_process


def _fork_unusable() -> str | None:
    """Why a repeat cannot run in a forked child here, or None."""
    if not hasattr(os, "fork"):
        return "this platform has no fork"
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None:
        try:
            if mpi.Is_initialized() and not mpi.Is_finalized():
                return "MPI is initialized in this process"
        except Exception:  # noqa: BLE001 - a broken or mocked mpi4py: do not fork then
            return "mpi4py is loaded"
    loaded = _gpu_runtime()
    if loaded:
        return f"a GPU runtime is loaded ({loaded})"
    return None


def _gpu_runtime() -> str:
    """The first GPU runtime library mapped into this process (Linux), or ""."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                for name in _GPU_LIBRARIES:
                    if name in line:
                        return name
    except OSError:
        pass
    return ""


def _check_in_process(why: str) -> None:
    """Measuring in this process is allowed only while it holds no timemory data and no
    profiler runs; RunsError otherwise."""
    from timemory import _core, _workers
    from timemory._components import MEASURABLE

    held = [str(_core.component_info(i)["key"]) for i in sorted(MEASURABLE) if _core.has_data(i)]
    if _workers.has_data():
        held.append("the data its pool workers left")
    if _core.profiler_active():
        held.insert(0, "a running profiler")
    if held:
        raise RunsError(
            f"cannot measure a callable here: {why}, so it would run in this process, which "
            f"holds timemory data ({', '.join(held)}) that its measurement would mix with; "
            "measure a script or module instead, or timemory.clear() first"
        )


def _settings_for_repeat() -> dict[str, Any]:
    """Set what a repeat's profiler and output need; returns the previous values."""
    from timemory import settings

    wanted = {
        "profiler_components": "",
        "global_components": "",
        "time_output": False,
        "output_prefix": "",
        "cout_output": False,
        "file_output": True,
        "tree_output": True,
    }
    saved = {name: getattr(settings, name) for name in wanted}
    for name, value in wanted.items():
        setattr(settings, name, value)
    return saved


def _measure_call(
    target: Callable[..., Any], params: dict[str, Any], keys: list[str], folder: str
) -> tuple[float, Any, str | None]:
    """One repeat in this process's (empty) storage: the profiled call, then its folder."""
    import time

    from timemory.profiler import Profiler

    profiler = Profiler(keys)
    value: Any = None
    error: str | None = None
    start = time.perf_counter()
    try:
        value = profiler.runcall(target, **params)
    except BaseException as exc:  # noqa: BLE001 - the run's error; SystemExit and Ctrl-C too
        error = _one_line(exc)
        if isinstance(exc, KeyboardInterrupt):
            raise
    finally:
        seconds = time.perf_counter() - start
        _write_repeat(folder)
    if error is None:
        value = _json_result(value)
    return seconds, value, error


def _write_repeat(folder: str) -> None:
    """The repeat's output folder: this process's call graphs and those its pool workers left
    (as ``timemory profile`` writes them), from this process alone: no MPI collective, the
    job's other ranks take no part in a repeat. Nothing is printed."""
    from timemory import _output, _processes, _workers
    from timemory._components import MEASURABLE
    from timemory.storage import Processes, local_payload

    procs = None
    if _workers.has_data():
        views = ["flat", "tree"] if _output.tree_needed() else ["flat"]
        items = _processes.local_items(local_payload(sorted(MEASURABLE), views))
        procs = Processes([(0, pid, data) for pid, data in items], 1)
    deferred = _output.defer_folders(True)  # no "N files in" line: the caller reports
    try:
        _output.write_run(_output.OutputPlan.from_settings(folder), procs)
    finally:
        _output.defer_folders(deferred)
        _processes.discard_local()  # the workers' data are the repeat's: written


def _files_listed() -> tuple[list[str], int, dict[str, list[str]], list[str], list[str]]:
    """The lists of the files this process wrote (its output-folder lines at the end,
    ``timemory.manager``'s lists, which metadata.json names): a repeat run in this process
    restores them afterwards, so that the program's own output does not list its files."""
    # the class itself: once something imports the module timemory.manager, the package's
    # attribute is that module, which forwards the public members only
    from timemory._output import _plan, manager

    return (
        list(_plan._WRITTEN),
        _plan._ANNOUNCED[0],
        {kind: list(paths) for kind, paths in manager._outputs.items()},
        list(manager.text_files),
        list(manager.json_files),
    )


def _relist(listed: tuple[list[str], int, dict[str, list[str]], list[str], list[str]]) -> None:
    # the class itself: once something imports the module timemory.manager, the package's
    # attribute is that module, which forwards the public members only
    from timemory._output import _plan, manager

    written, announced, outputs, text_files, json_files = listed
    _plan._WRITTEN[:] = written
    _plan._ANNOUNCED[0] = announced
    manager._outputs.clear()
    manager._outputs.update(outputs)
    manager.text_files[:] = text_files
    manager.json_files[:] = json_files


def _in_process(
    target: Callable[..., Any], params: dict[str, Any], text: str, keys: list[str], folder: str
) -> tuple[float, Any, str | None]:
    from timemory import _core, settings
    from timemory._components import MEASURABLE

    saved = _settings_for_repeat()
    saved_env = os.environ.get(ENV)
    os.environ[ENV] = text
    listed = _files_listed()
    try:
        return _measure_call(target, params, keys, folder)
    finally:
        _relist(listed)
        if saved_env is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved_env
        for name, value in saved.items():
            setattr(settings, name, value)
        for index in MEASURABLE:  # the process held nothing before (checked)
            _core.clear(index)


def _forked(
    target: Callable[..., Any], params: dict[str, Any], text: str, keys: list[str], folder: str
) -> tuple[float, Any, str | None]:
    import json
    import warnings

    for stream in (sys.stdout, sys.stderr):  # what is buffered would be printed twice
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    read_end, write_end = os.pipe()
    with warnings.catch_warnings():
        # Python 3.12+ warns of fork in a threaded process: the child only calls the target,
        # timemory's own locks are re-made in a forked child
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_end)
        _child(target, params, text, keys, folder, write_end)
    os.close(write_end)
    chunks = []
    try:
        with os.fdopen(read_end, "rb") as pipe:
            chunks.append(pipe.read())
    finally:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:  # SIGCHLD ignored: the child was reaped already
            status = 0
    data = b"".join(chunks)
    if data:
        try:
            message = json.loads(data)
            return float(message["seconds"]), message["result"], message["error"]
        except (ValueError, KeyError, TypeError):
            pass
    if os.WIFSIGNALED(status):
        return 0.0, None, f"the repeat's process was killed by signal {os.WTERMSIG(status)}"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return 0.0, None, f"the repeat's process ended with status {code} before reporting"


def _child(
    target: Callable[..., Any],
    params: dict[str, Any],
    text: str,
    keys: list[str],
    folder: str,
    write_end: int,
) -> None:
    """A forked repeat: measure, write the folder, report on ``write_end``, ``os._exit``."""
    status = 1
    try:
        import json

        from timemory import _core, _lifecycle, _signals, _workers
        from timemory._components import MEASURABLE

        _signals.set_writer(None)  # an ending signal must not write the parent's output
        _lifecycle.stop_hooks()  # a profiler the parent ran: its hook was inherited
        # the child's copy of the call graphs (timemory's own fork handler clears them too);
        # not _lifecycle.clear(), which would also discard the files that the parent's pool
        # workers left for it on disk
        for index in MEASURABLE:
            _core.clear(index)
        _core.timeline_clear()
        # timemory made the child a worker that hands its data to the parent: it writes its
        # own folder instead, with the data of the pool workers the callable may start
        _workers.become_owner()
        _settings_for_repeat()
        os.environ[ENV] = text
        seconds, value, error = _measure_call(target, params, keys, folder)
        message = json.dumps({"seconds": seconds, "result": value, "error": error})
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(message.encode())
        status = 0
    except BaseException as exc:  # noqa: BLE001 - reported to the parent as the repeat's error
        try:
            message = json.dumps({"seconds": 0.0, "result": None, "error": _one_line(exc)})
            os.write(write_end, message.encode())
        except BaseException:  # noqa: BLE001
            pass
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001
                pass
        os._exit(status)
