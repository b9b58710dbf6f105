"""The original timemory's remaining public modules: ``timemory.options``, ``mpi_support``,
``tools``, ``api`` (``papi``, ``cupti``, ``cuda``, ``gperftools``) and ``libs``.

Each exists with the names the original offers; what this machine can do works (options
change settings, MPI facts agree with ``timemory.mpi``, the gperftools helpers run a command
with the profiler preloaded); what needs a vendor library reports it as unavailable, with a
reason, without crashing.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import os
import shutil
import subprocess
import sys
import types
import warnings

import pytest
import timemory
from timemory import api, libs, mpi_support, options, settings, tools
from timemory.api import UnavailableError, cuda, cupti, gperftools, papi
from timemory.api.gperftools import utils as gperf_utils

# The names the original package offers in each module (and this build keeps).
SURFACE = {
    "timemory.options": [
        "echo_dart",
        "ctest_notes",
        "matplotlib_backend",
        "safe_mkdir",
        "ensure_directory_exists",
        "parse_args",
        "parse_known_args",
        "add_arguments",
        "add_args_and_parse",
        "add_args_and_parse_known",
    ],
    "timemory.mpi_support": [
        "is_supported",
        "mpi_exe_info",
        "mpi_c_info",
        "mpi_cxx_info",
        "enable_mpip",
    ],
    "timemory.tools": ["function_wrappers", "available"],
    "timemory.api": ["papi", "cupti", "cuda", "gperftools"],
    "timemory.api.papi": [
        "init",
        "init_threading",
        "init_multiplexing",
        "init_library",
        "working",
        "set_debug",
        "register_thread",
        "get_event_code",
        "get_event_code_name",
        "query_event",
        "attach",
        "detach",
        "shutdown",
        "print_hw_info",
        "enable_multiplexing",
        "create_event_set",
        "destroy_event_set",
        "start",
        "stop",
        "read",
        "write",
        "accum",
        "reset",
        "add_event",
        "remove_event",
        "add_events",
        "remove_events",
        "assign_event_set_component",
    ],
    "timemory.api.cupti": ["available_events", "available_metrics"],
    "timemory.api.cuda": ["Stream", "stream", "default_stream"],
    "timemory.api.gperftools": ["utils", "cpu_profiler", "heap_profiler"],
    "timemory.libs": [
        "report",
        "toggle",
        "enable",
        "disable",
        "is_enabled",
        "enabled",
        "has_mpi_support",
        "set_rusage_children",
        "set_rusage_self",
        "timemory_init",
        "timemory_finalize",
        "initialize",
        "finalize",
        "timemory_argparse",
        "add_arguments",
        "get",
        "get_text",
        "clear",
        "size",
        "get_hash",
        "get_hash_identifier",
        "add_hash_id",
        "mpi_init",
        "mpi_finalize",
        "upcxx_init",
        "upcxx_finalize",
        "dmp_init",
        "dmp_finalize",
        "start_mpip",
        "stop_mpip",
        "start_ompt",
        "stop_ompt",
        "start_ncclp",
        "stop_ncclp",
        "start_mallocp",
        "stop_mallocp",
        "start_function_wrappers",
        "stop_function_wrappers",
        "api",
        "component",
        "hardware_counters",
        "manager",
        "units",
        "scope",
        "settings",
        "storage",
        "region",
        "options",
        "timer_decorator",
        "component_decorator",
        "component_bundle",
        "component_tuple",
        "timer",
        "rss_usage",
        "init_mpip",
        "init_ompt",
    ],
}
# The library-level names of the original that the package also offers at its top level.
TOP_LEVEL = [
    "options",
    "mpi_support",
    "tools",
    "api",
    "libs",
    "start_mpip",
    "stop_mpip",
    "start_ompt",
    "stop_ompt",
    "start_ncclp",
    "stop_ncclp",
    "start_mallocp",
    "stop_mallocp",
    "start_function_wrappers",
    "stop_function_wrappers",
    "upcxx_init",
    "upcxx_finalize",
]
PAPI_LIBRARY_CALLS = [
    name
    for name in SURFACE["timemory.api.papi"]
    if name not in ("working", "query_event", "print_hw_info", "init_multiplexing")
]
MODULES = [*SURFACE, "timemory.api.gperftools.utils", "timemory.api.gperftools.__main__"]


# ------------------------------------------------------------------ the surface
@pytest.mark.parametrize(
    ("module", "name"), [(m, n) for m, names in SURFACE.items() for n in names]
)
def test_each_listed_name_exists(module, name):
    mod = importlib.import_module(module)
    assert hasattr(mod, name), f"{module}.{name}"
    assert name in mod.__all__ or isinstance(getattr(mod, name), types.ModuleType)


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_names(name):
    assert name in timemory.__all__ and name in dir(timemory)
    value = getattr(timemory, name)
    if isinstance(value, types.ModuleType):
        assert value is importlib.import_module(f"timemory.{name}")
    else:
        assert value is getattr(libs, name)


def _public(module: types.ModuleType) -> list[tuple[str, object]]:
    return [(name, getattr(module, name)) for name in module.__all__]


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_has_a_docstring(module):
    mod = importlib.import_module(module)
    assert (mod.__doc__ or "").strip(), module
    # what the module defines (re-exported names are documented where they are defined)
    for name, value in _public(mod) if hasattr(mod, "__all__") else []:
        if isinstance(value, types.ModuleType) or getattr(value, "__module__", "") == module:
            assert (inspect.getdoc(value) or "").strip(), f"{module}.{name}"


def test_importing_timemory_loads_none_of_them_and_they_stay_light(run_python):
    proc = run_python(
        """
import sys
import timemory
new = ("timemory.api", "timemory.tools", "timemory.options", "timemory.libs",
       "timemory.mpi_support", "mpi4py")
print(sorted(m for m in new if m in sys.modules))
before = set(sys.modules)
import timemory.api, timemory.tools, timemory.options, timemory.libs, timemory.mpi_support
print(sorted(m for m in set(sys.modules) - before
             if m in ("mpi4py", "mpi4py.MPI", "subprocess", "shutil", "typing", "inspect")))
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-2:] == ["[]", "[]"]


# ------------------------------------------------------------------ options
def test_safe_mkdir_and_ensure_directory_exists(tmp_path):
    target = tmp_path / "a" / "b"
    options.safe_mkdir(target)
    options.safe_mkdir(str(target))  # exists: nothing to do
    assert target.is_dir()
    options.ensure_directory_exists(tmp_path / "c" / "d" / "file.json")
    assert (tmp_path / "c" / "d").is_dir() and not (tmp_path / "c" / "d" / "file.json").exists()
    cwd = os.getcwd()
    options.ensure_directory_exists("file-in-the-current-folder.json")  # no folder part
    assert os.getcwd() == cwd and not os.path.exists("file-in-the-current-folder.json")


@pytest.fixture
def restored(monkeypatch):
    """Settings and module state the option tests change, restored afterwards."""
    monkeypatch.setattr(settings, "dart_output", settings.dart_output)
    monkeypatch.setattr(settings, "flat_profile", settings.flat_profile)
    monkeypatch.setattr(options, "echo_dart", options.echo_dart)
    monkeypatch.setattr(options, "matplotlib_backend", options.matplotlib_backend)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    return monkeypatch


def test_add_arguments_adds_settings_and_its_own_options_once():
    parser = options.add_arguments(argparse.ArgumentParser(), subparser=False)
    assert options.add_arguments(parser, subparser=False) is parser  # twice: no conflict
    flags = parser._option_string_actions
    for flag in ("--timemory-echo-dart", "--timemory-mpl-backend", "--timemory-flat-profile"):
        assert flag in flags
    assert isinstance(options.add_arguments(), argparse.ArgumentParser)
    parser = argparse.ArgumentParser()
    assert options.add_arguments(options.add_arguments(parser)) is parser  # sub-command twice
    assert "--timemory-echo-dart" in parser._option_string_actions


def test_parse_args_applies_options_to_settings(restored):
    assert options.matplotlib_backend == "default"
    restored.setattr(settings, "dart_output", False)
    restored.setattr(settings, "flat_profile", False)
    sys.argv[:] = ["prog", "--timemory-echo-dart", "--timemory-flat-profile", "on"]
    args = options.parse_args(options.add_arguments(argparse.ArgumentParser(), False))
    assert args.timemory_echo_dart is True
    assert settings.dart_output is True and options.echo_dart is True
    assert settings.flat_profile is True
    assert options.matplotlib_backend == "default" and "MPLBACKEND" not in os.environ


def test_matplotlib_backend_option(restored):
    pytest.importorskip("matplotlib")
    sys.argv[:] = ["prog", "--timemory-mpl-backend", "agg"]
    options.add_args_and_parse(argparse.ArgumentParser(), subparser=False)
    assert options.matplotlib_backend == "agg" and os.environ["MPLBACKEND"] == "agg"


def test_bad_backend_is_one_line_naming_valid_choices(restored, capsys):
    pytest.importorskip("matplotlib")
    sys.argv[:] = ["prog", "--timemory-mpl-backend", "no-such-backend"]
    with pytest.raises(SystemExit) as info:
        options.add_args_and_parse(argparse.ArgumentParser(prog="prog"), subparser=False)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if "error:" in line]
    assert out == "" and len(errors) == 1
    assert "no-such-backend" in errors[0] and "agg" in errors[0]
    assert options.matplotlib_backend == "default" and "MPLBACKEND" not in os.environ


def test_parse_known_args_leaves_the_rest_in_sys_argv(restored):
    restored.setattr(settings, "dart_output", False)
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1)
    sys.argv[:] = ["prog", "-n", "3", "--timemory-echo-dart", "-v", "TestCase.test_x"]
    args = options.add_args_and_parse_known(parser, subparser=False)
    assert args.n == 3 and settings.dart_output is True
    assert sys.argv == ["prog", "-v", "TestCase.test_x"]


def test_subparser_mode_sets_settings_from_timemory_config(restored):
    restored.setattr(settings, "flat_profile", False)
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=1)
    sys.argv[:] = ["prog", "-n", "4", "timemory-config", "--flat-profile", "true"]
    args = options.add_args_and_parse(parser)
    assert args.n == 4 and settings.flat_profile is True


def test_module_attributes_come_from_settings_at_import(run_python):
    proc = run_python(
        "import timemory.options as o\nprint(o.echo_dart, o.ctest_notes, o.matplotlib_backend)",
        env={"TIMEMORY_DART_OUTPUT": "on", "TIMEMORY_CTEST_NOTES": "off"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "False", "default"]


# ------------------------------------------------------------------ mpi_support
def test_mpi_support_shares_timemory_mpi():
    from timemory import mpi

    for name in ("is_supported", "is_initialized", "is_finalized", "rank", "size", "comm"):
        assert getattr(mpi_support, name) is getattr(mpi, name)
    assert mpi_support.is_supported() is timemory.has_mpi_support()


MPI_FACTS = """
import sys
import timemory
from timemory import mpi, mpi_support
{setup}
facts = mpi_support.info()
assert facts["initialized"] is mpi.is_initialized()
assert (facts["rank"], facts["size"]) == (mpi.rank(), mpi.size())
print(repr(facts))
print("mpi4py.MPI" in sys.modules)
{check}
"""


def test_mpi_facts_without_mpi_loaded_do_not_start_mpi(run_python):
    proc = run_python(MPI_FACTS.format(setup="", check=""))
    assert proc.returncode == 0, proc.stderr
    facts, loaded = proc.stdout.splitlines()[-2:]
    facts = eval(facts)  # noqa: S307 - our own repr of a dict of plain values
    assert loaded == "False"  # asking did not initialise MPI
    assert facts["initialized"] is False and facts["finalized"] is False
    assert (facts["rank"], facts["size"], facts["library_version"]) == (0, 1, "")
    assert facts["supported"] is (importlib.util.find_spec("mpi4py") is not None)


def _mpi_cannot_start(tmp_path) -> str:
    """Why a program here cannot initialise MPI ("" when it can)."""
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed"
    proc = subprocess.run(
        [sys.executable, "-c", "from mpi4py import MPI"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return "" if proc.returncode == 0 else f"MPI cannot start: {proc.stderr.strip()[-300:]}"


MPI_LOADED_CHECK = """
from mpi4py import MPI
assert facts["initialized"] is True
assert facts["rank"] == MPI.COMM_WORLD.Get_rank() and facts["size"] == MPI.COMM_WORLD.Get_size()
assert facts["library_version"] == MPI.Get_library_version().strip() != ""
import mpi4py
assert facts["mpi4py_version"] == mpi4py.__version__
print("ok", facts["rank"], facts["size"])
"""


def test_mpi_facts_once_the_program_loads_mpi(run_python, tmp_path):
    reason = _mpi_cannot_start(tmp_path)
    if reason:
        pytest.skip(reason)
    proc = run_python(MPI_FACTS.format(setup="from mpi4py import MPI", check=MPI_LOADED_CHECK))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "ok 0 1"


def test_mpi_facts_on_two_ranks(tmp_path):
    reason = _mpi_cannot_start(tmp_path)
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which(
        "mpiexec"
    )
    if reason or mpiexec is None:
        pytest.skip(reason or "no mpiexec")
    script = tmp_path / "facts.py"
    # each rank's verdict in a file of its own: mpiexec forwards the ranks' stdout in chunks
    # that may split a line ("okTrue" was seen)
    check = MPI_LOADED_CHECK + (
        'with open("ok_%d" % facts["rank"], "w") as f:\n'
        '    f.write("ok %d %d" % (facts["rank"], facts["size"]))\n'
    )
    script.write_text(MPI_FACTS.format(setup="from mpi4py import MPI", check=check))
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    env["TIMEMORY_OUTPUT_PATH"] = str(tmp_path / "out")
    proc = subprocess.run(
        [mpiexec, "-n", "2", sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    verdicts = sorted((tmp_path / f"ok_{rank}").read_text() for rank in (0, 1))
    assert verdicts == ["ok 0 2", "ok 1 2"], proc.stdout


def _program_on_path(names):
    folders = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    return next((p for p in (shutil.which(n, path=folders) for n in names) if p is not None), None)


@pytest.mark.parametrize(
    ("function", "title", "names"),
    [
        (mpi_support.mpi_exe_info, "mpiexec", ("mpiexec", "mpirun")),
        (mpi_support.mpi_c_info, "mpicc", ("mpicc",)),
        (mpi_support.mpi_cxx_info, "mpicxx", ("mpicxx", "mpic++", "mpiCC")),
    ],
)
def test_mpi_tool_info_is_returned_and_printed_to_stderr(function, title, names, capsys):
    text = function()
    out, err = capsys.readouterr()
    assert out == "" and err.strip() == text.strip()
    first = text.splitlines()[0]
    assert first.startswith(f"{title}: ")
    if _program_on_path(names) is None:
        assert "not found" in first and names[0] in first
    else:
        assert os.path.isfile(first.partition(": ")[2])


def test_enable_mpip_is_unavailable_and_changes_nothing(monkeypatch):
    monkeypatch.delenv("TIMEMORY_MPIP_PERMIT_LIST", raising=False)
    with pytest.raises(UnavailableError) as info:
        mpi_support.enable_mpip(permit=["MPI_Allreduce"])
    assert info.value.reason == tools.reason and "mpip" in str(info.value)
    assert "TIMEMORY_MPIP_PERMIT_LIST" not in os.environ
    with pytest.raises(TypeError, match="list of MPI function names"):
        mpi_support.enable_mpip(permit="MPI_Send")


# ------------------------------------------------------------------ tools
def test_tools_report_unavailability():
    assert tools.available is False and "GOTCHA" in tools.reason
    assert tools.start_function_wrappers() == [0, 0, 0, 0]
    assert tools.start_function_wrappers(mpi=False, memory=False) == [0, 0, 0, 0]
    assert tools.start_function_wrappers("mpi", mpi="off") == [0, 0, 0, 0]  # kwargs win
    with pytest.raises(RuntimeError, match="mpi='maybe': invalid boolean .* on/true/yes"):
        tools.start_function_wrappers(mpi="maybe")
    assert tools.stop_function_wrappers([0, 0, 0, 0]) == [0, 0, 0, 0]
    with pytest.raises(UnavailableError) as info:
        tools.start_function_wrappers("mpi", memory=True)
    assert isinstance(info.value, RuntimeError)
    assert "mpip" in str(info.value) and "mallocp" in str(info.value)
    assert "ompt" not in str(info.value) and info.value.reason == tools.reason


def test_unknown_tool_name_names_the_valid_choices():
    for call in (
        lambda: tools.start_function_wrappers("mpi", "papi"),
        lambda: tools.start_function_wrappers(gpu=True),
        lambda: tools.function_wrappers("nope"),
    ):
        with pytest.raises(RuntimeError) as info:
            call()
        message = str(info.value)
        assert "\n" not in message and "valid choices" in message
        assert all(name in message for name in tools.NAMES)


def test_stop_rejects_ids_that_were_never_started():
    for ids in ([1, 0, 0, 0], [0, 0], "abcd", None):
        with pytest.raises(ValueError, match="no function wrapper runs here"):
            tools.stop_function_wrappers(ids)


@pytest.mark.parametrize("tool", ["mpip", "ompt", "ncclp", "mallocp"])
def test_each_tool_start_and_stop_raise(tool):
    for function, args in ((f"start_{tool}", ()), (f"stop_{tool}", (1,))):
        with pytest.raises(UnavailableError) as info:
            getattr(tools, function)(*args)
        assert tools.TOOLS[tool] in str(info.value)
        assert getattr(timemory, function) is getattr(tools, function)
    assert tools.init_mpip is tools.start_mpip and tools.init_ompt is tools.start_ompt


def test_function_wrappers_run_the_code_unwrapped_with_a_warning():
    fw = tools.function_wrappers("malloc", ompt=False)
    assert fw.tools == ["mallocp"]

    @fw
    def work(x, y=2):
        """Doubles."""
        assert fw.is_running() is False
        return x * y

    with pytest.warns(RuntimeWarning, match="malloc function wrappers .* not available"):
        assert work(21) == 42
    assert work.__name__ == "work" and work.__doc__ == "Doubles."
    with pytest.warns(RuntimeWarning, match="GOTCHA"):
        with tools.function_wrappers(mpi=True) as ctx:
            assert ctx.is_running() is False
    with pytest.warns(RuntimeWarning), pytest.raises(KeyError):
        with tools.function_wrappers("nccl"):
            raise KeyError("propagates")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing asked for: nothing to warn about
        with tools.function_wrappers(mpi=False):
            pass
    with pytest.warns(RuntimeWarning):
        fw.start()
    assert fw.is_running() is False
    fw.stop()


# ------------------------------------------------------------------ api
def test_unavailable_error():
    err = UnavailableError("PAPI library call papi.start", "no PAPI")
    assert isinstance(err, RuntimeError)
    assert str(err) == "PAPI library call papi.start is not available: no PAPI"
    assert (err.feature, err.reason) == ("PAPI library call papi.start", "no PAPI")
    assert api.UnavailableError is UnavailableError


@pytest.mark.parametrize("name", PAPI_LIBRARY_CALLS)
def test_papi_library_calls_raise_with_the_reason(name):
    with pytest.raises(UnavailableError) as info:
        getattr(papi, name)()
    assert info.value.feature == f"PAPI library call papi.{name}"
    assert info.value.reason == papi.reason and "perf_event_open" in papi.reason
    assert getattr(papi, name).__name__ == name


def test_papi_queries_answer_from_this_machine():
    from timemory import hardware_counters

    assert papi.available is False and papi.working() is False
    for event in ("PAPI_TOT_INS", "instructions", "page-faults", "cpu-clock"):
        assert papi.query_event(event) is hardware_counters.Info(event).available()
    with pytest.raises(ValueError, match="Valid choices are: PAPI_TOT_CYC"):
        papi.query_event("PAPI_NO_SUCH")
    with pytest.raises(TypeError, match="need the PAPI library"):
        papi.query_event(0x80000032)


def test_papi_print_hw_info_goes_to_stderr(capsys):
    from timemory import hardware_counters

    papi.print_hw_info()
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == len(hardware_counters.events())
    assert lines[0].split()[0] == hardware_counters.events()[0].symbol()


def test_papi_init_multiplexing_sets_the_setting(monkeypatch):
    monkeypatch.setattr(settings, "papi_multiplexing", False)
    papi.init_multiplexing()
    assert settings.papi_multiplexing is True


def test_cupti_and_cuda_are_unavailable():
    assert cupti.available is False and "CUPTI" in cupti.reason
    assert cupti.available_events() == [] and cupti.available_metrics(0) == []
    assert cuda.available is False and "CUDA" in cuda.reason
    for make in (cuda.Stream, lambda: cuda.Stream(True), cuda.stream, cuda.default_stream):
        with pytest.raises(UnavailableError) as info:
            make()
        assert info.value.reason == cuda.reason


# ------------------------------------------------------------------ gperftools
def _loaded_libm() -> str:
    """A shared library that is harmless to preload (the C maths library Python already
    uses), to stand in for gperftools' libraries."""
    if not sys.platform.startswith("linux"):
        pytest.skip("preloading is tested on Linux")
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if os.path.basename(path).startswith("libm.so"):
                return path
    pytest.skip("no libm loaded to stand in for gperftools")


@pytest.fixture
def no_gperftools(tmp_path, monkeypatch):
    """An environment with no gperftools library anywhere the helpers look."""
    empty = tmp_path / "empty-lib"
    empty.mkdir()
    monkeypatch.setattr(gperf_utils, "_SYSTEM_FOLDERS", ())
    monkeypatch.setenv("LD_LIBRARY_PATH", str(empty))
    monkeypatch.delenv("LIBRARY_PATH", raising=False)
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    return empty


@pytest.fixture
def fake_gperftools(no_gperftools):
    """``libprofiler.so`` and ``libtcmalloc.so.4`` (a versioned name only) in
    LD_LIBRARY_PATH, both copies of a harmless library."""
    libm = _loaded_libm()
    shutil.copy(libm, no_gperftools / "libprofiler.so")
    shutil.copy(libm, no_gperftools / "libtcmalloc.so.4")
    return no_gperftools


def test_gperftools_unavailable_without_its_libraries(no_gperftools, tmp_path):
    assert gperftools.available is False
    assert "libprofiler.so" in gperftools.reason and "LD_LIBRARY_PATH" in gperftools.reason
    for execute in (gperftools.cpu_profiler.execute, gperftools.heap_profiler.execute):
        with pytest.raises(UnavailableError, match="gperftools is not installed"):
            execute(["true"], prefix=str(tmp_path / "out"))
    assert not list(tmp_path.glob("out*"))  # nothing written before the check


def test_find_library_path(fake_gperftools, tmp_path):
    assert gperf_utils.find_library_path("profiler") == str(fake_gperftools / "libprofiler.so")
    assert gperf_utils.find_library_path("libtcmalloc") == str(fake_gperftools / "libtcmalloc.so.4")
    assert gperf_utils.find_library_path("libprofiler.so") is not None
    assert gperf_utils.find_library_path("no_such_library") is None
    assert gperf_utils.find_library_path(str(tmp_path / "missing.so")) is None
    assert gperftools.available is True and gperftools.reason == ""
    with pytest.raises(ValueError, match="valid choices: cpu_profiler, heap_profiler"):
        gperf_utils.profiler_library("gpu_profiler")


def test_add_preload_appends_once():
    env = {"LD_PRELOAD": "/a.so"}
    gperf_utils.add_preload("/b.so", env)
    gperf_utils.add_preload(["/b.so", "/c.so"], env)
    name = "DYLD_INSERT_LIBRARIES" if sys.platform == "darwin" else "LD_PRELOAD"
    if name == "LD_PRELOAD":
        assert env["LD_PRELOAD"] == "/a.so:/b.so:/c.so"


SHOW_ENV = (
    "import os; print(*(os.environ.get(k, '-') for k in "
    "('CPUPROFILE', 'HEAPPROFILE', 'CPUPROFILE_FREQUENCY', 'LD_PRELOAD')))"
)


def test_cpu_profiler_runs_the_command_with_the_library_preloaded(fake_gperftools, tmp_path, capfd):
    prefix = str(tmp_path / "cpu.prof")
    cmd = [sys.executable, "-c", SHOW_ENV]
    first = gperftools.cpu_profiler.execute(cmd, prefix=prefix, freq=500)
    second = gperftools.cpu_profiler.execute(cmd, prefix=prefix, freq=500)
    folder = f"{prefix}.{os.path.basename(sys.executable)}"
    assert (first, second) == (os.path.join(folder, "gperf.0"), os.path.join(folder, "gperf.1"))
    with open(first + ".log") as log:
        profile, heap, freq, preload = log.read().split()
    assert (profile, heap, freq) == (first, "-", "500")
    assert preload.split(":")[-1] == str(fake_gperftools / "libprofiler.so")
    out, err = capfd.readouterr()
    assert out == "" and "gperftools cpu_profiler: running" in err
    if gperf_utils.find_pprof() is None:
        assert "not post-processed" in err
    assert "LD_PRELOAD" not in os.environ  # the program's environment, not ours


def test_heap_profiler_uses_tcmalloc(fake_gperftools, tmp_path):
    path = gperftools.heap_profiler.execute(
        [sys.executable, "-c", SHOW_ENV], prefix=str(tmp_path / "heap.prof")
    )
    with open(path + ".log") as log:
        cpu, heap, _freq, preload = log.read().split()
    assert (cpu, heap) == ("-", path)
    assert preload.endswith("libtcmalloc.so.4")


def test_post_process_needs_pprof(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UnavailableError, match="pprof"):
        gperf_utils.post_process("prog", str(tmp_path / "gperf.0"))
    with pytest.raises(ValueError, match="valid choices: text, cum, dot, callgrind"):
        gperf_utils.post_process("prog", "gperf.0", generate=["pdf"])


def test_gperftools_command_line(no_gperftools, capsys):
    from timemory.api.gperftools.__main__ import PROG, main

    assert main(["--", "true"]) == 1
    assert main(["-t", "gpu", "--", "true"]) == 2
    assert main(["-f", "0", "--", "true"]) == 2
    assert main([]) == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and len(lines) == 4
    assert all(line.startswith(f"{PROG}: error: ") for line in lines)
    assert "gperftools is not installed" in lines[0]
    assert "'cpu_profiler', 'heap_profiler'" in lines[1]
    assert "no command" in lines[3]


# ------------------------------------------------------------------ libs
def test_libs_re_exports_the_package(run_python):
    for name in libs.__all__:
        assert hasattr(libs, name), name
    assert libs.get is timemory.get and libs.settings is timemory.settings
    assert libs.start_function_wrappers is tools.start_function_wrappers
    assert libs.libpytimemory is libs
    proc = run_python(
        """
import timemory
from timemory.libs.libpytimemory import get, options
from timemory.libs import *
assert get is timemory.get and options is timemory.options
assert start_mpip is timemory.tools.start_mpip
print("ok")
"""
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["ok"]


@pytest.mark.parametrize("name", ["upcxx_init", "upcxx_finalize"])
def test_upcxx_is_unavailable(name):
    with pytest.raises(UnavailableError, match="UPC\\+\\+ is not available: .*mpi4py"):
        getattr(timemory, name)()
