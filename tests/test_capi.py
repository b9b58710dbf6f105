"""The C API for native extensions (timemory/capi.h, timemory/capi.hpp, the capsule
timemory._core._C_API): headers and CMake package found from Python, a C extension using the
API from C (bound or not, from threads Python never created while the GIL is held), and the
example pybind11 extension of examples/native_extension built with CMake: its regions
nested beneath the Python call that entered it, its threads' marked [parallel], in the text,
JSON, hatchet and speedscope outputs.

Extensions are built once per set of sources under the temporary folder (a cache the suite
reuses), with the C/C++ compiler the package is built with (``$CC``/``$CXX`` or cc/c++).
Counts are asserted, never durations.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from pathlib import Path

import pytest
import timemory
from timemory import _core
from tool_helpers import clean_env

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "native_extension"
TESTS = Path(__file__).resolve().parent
TIMEOUT = 600  # generous: builds and runs share the machine


def _cache_dir(kind: str, *inputs: bytes) -> Path:
    """A folder of the build cache named by a digest of everything the build depends on."""
    digest = hashlib.sha256()
    for item in (sys.executable.encode(), sys.version.encode(), *inputs):
        digest.update(len(item).to_bytes(8, "little") + item)
    for header in sorted(Path(timemory.get_include()).rglob("*.h*")):
        digest.update(header.read_bytes())
    base = Path(tempfile.gettempdir()) / f"timemory-capi-tests-{os.getuid()}"
    return base / f"{kind}-{digest.hexdigest()[:20]}"


def _publish(build, final: Path) -> Path:
    """Builds into a fresh folder and renames it to ``final`` (a concurrent build of the same
    inputs leaves the first one in place)."""
    if final.exists():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=final.parent, prefix=".building-"))
    try:
        build(work)
        try:
            os.rename(work, final)
        except OSError:
            if not final.exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _run(command: list[str], **kwargs) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, **kwargs)
    assert result.returncode == 0, f"{shlex.join(command)}\n{result.stdout}\n{result.stderr}"


# ---------------------------------------------------------------- headers and CMake package


def test_get_include_holds_the_headers():
    include = Path(timemory.get_include())
    assert (include / "timemory" / "capi.h").is_file()
    assert (include / "timemory" / "capi.hpp").is_file()
    assert "#define TIMEMORY_CAPI_VERSION" in (include / "timemory" / "capi.h").read_text()


def test_cmake_dir_and_include_dir_from_the_command_line():
    run = [sys.executable, "-m", "timemory"]
    kw = dict(capture_output=True, text=True, timeout=TIMEOUT, env=clean_env())
    out = subprocess.run([*run, "--cmake-dir"], **kw)
    assert out.returncode == 0 and out.stderr == ""
    cmake_dir = Path(out.stdout.strip())
    assert (cmake_dir / "timemoryConfig.cmake").is_file()
    assert (cmake_dir / "timemoryConfigVersion.cmake").is_file()
    version = (cmake_dir / "timemoryConfigVersion.cmake").read_text()
    assert f'PACKAGE_VERSION "{timemory.version}"' in version
    out = subprocess.run([*run, "--include-dir"], **kw)
    assert out.returncode == 0 and out.stdout.strip() == timemory.get_include()
    out = subprocess.run([*run, "--cmake-dir", "extra"], **kw)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.splitlines() == ["python -m timemory: error: --cmake-dir takes no arguments"]


def test_the_capsule_is_the_versioned_table():
    capsule = _core._C_API
    assert type(capsule).__name__ == "PyCapsule"
    assert '"timemory._core._C_API"' in repr(capsule)


# ---------------------------------------------------------------- the API from C

C_EXTENSION = r"""
#include <timemory/capi.h> /* first: it includes Python.h */
#include <pthread.h>

static PyObject* bind(PyObject* self, PyObject* load) {
    int rc = PyObject_IsTrue(load) ? timemory_capi_load() : timemory_capi_import();
    (void)self;
    if (rc < 0) return NULL;
    return PyLong_FromLong(rc);
}

static PyObject* available(PyObject* self, PyObject* unused) {
    (void)self; (void)unused;
    return PyBool_FromLong(timemory_capi_available());
}

static PyObject* push(PyObject* self, PyObject* name) {
    (void)self;
    timemory_push_region(PyUnicode_AsUTF8(name));
    Py_RETURN_NONE;
}

static PyObject* pop(PyObject* self, PyObject* name) {
    (void)self;
    timemory_pop_region(PyUnicode_AsUTF8(name));
    Py_RETURN_NONE;
}

static PyObject* record(PyObject* self, PyObject* args) {
    const char* name;
    double value;
    (void)self;
    if (!PyArg_ParseTuple(args, "sd", &name, &value)) return NULL;
    timemory_record(name, value);
    Py_RETURN_NONE;
}

static PyObject* by_id(PyObject* self, PyObject* args) {
    const char* name;
    int n, i;
    uint64_t id;
    (void)self;
    if (!PyArg_ParseTuple(args, "si", &name, &n)) return NULL;
    id = timemory_region_id(name);
    for (i = 0; i < n; ++i) {
        timemory_push_region_id(id);
        timemory_pop_region_id(id);
    }
    return PyLong_FromUnsignedLongLong(id);
}

struct job { timemory_context* ctx; int pushes; };

static void* thread_main(void* arg) {
    struct job* job = (struct job*)arg;
    int i;
    timemory_context_enter(job->ctx);
    for (i = 0; i < job->pushes; ++i) {
        timemory_push_region("c_thread");
        timemory_record("c_value", (double)(i + 1));
        timemory_pop_region("c_thread");
    }
    timemory_context_leave();
    return NULL;
}

/* threads(n, pushes): n pthreads push and pop while this thread keeps the GIL */
static PyObject* threads(PyObject* self, PyObject* args) {
    int n, pushes, i;
    pthread_t ids[16];
    struct job job;
    (void)self;
    if (!PyArg_ParseTuple(args, "ii", &n, &pushes)) return NULL;
    if (n > 16) n = 16;
    job.ctx = timemory_context_capture();
    job.pushes = pushes;
    for (i = 0; i < n; ++i) pthread_create(&ids[i], NULL, thread_main, &job);
    for (i = 0; i < n; ++i) pthread_join(ids[i], NULL);
    timemory_context_release(job.ctx);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_O, NULL},
    {"available", available, METH_NOARGS, NULL},
    {"push", push, METH_O, NULL},
    {"pop", pop, METH_O, NULL},
    {"record", record, METH_VARARGS, NULL},
    {"by_id", by_id, METH_VARARGS, NULL},
    {"threads", threads, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "capi_c_ext", NULL, -1, methods,
                                   NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_capi_c_ext(void) { return PyModule_Create(&module); }
"""


@pytest.fixture(scope="module")
def c_extension() -> Path:
    """The folder of capi_c_ext, the API used from C (C99, warnings as errors)."""
    cc = shlex.split(os.environ.get("CC", "cc"))
    if not shutil.which(cc[0]):
        pytest.skip(f"no C compiler ({cc[0]})")
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"

    def build(folder: Path) -> None:
        source = folder / "capi_c_ext.c"
        source.write_text(C_EXTENSION)
        _run(
            [
                *cc,
                "-std=c99",
                "-O2",
                "-Wall",
                "-Wextra",
                "-Werror",
                "-shared",
                "-fPIC",
                "-pthread",
                "-I" + sysconfig.get_paths()["include"],
                "-I" + timemory.get_include(),
                str(source),
                "-o",
                str(folder / ("capi_c_ext" + suffix)),
            ]
        )

    return _publish(build, _cache_dir("c", C_EXTENSION.encode(), " ".join(cc).encode()))


def _python(program: str, path: Path, cwd: Path, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(program)],
        cwd=cwd,
        env=clean_env({"PYTHONPATH": os.pathsep.join([str(path), str(TESTS)]), **(env or {})}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


def test_a_no_op_until_timemory_is_imported_then_bound(c_extension, tmp_path):
    out = _python(
        """
        import sys
        import capi_c_ext as ext
        assert ext.bind(False) == 0 and not ext.available()
        ext.push("early"); ext.record("x", 1.0); ext.pop("early")   # nothing to record into
        assert ext.by_id("early_id", 3) == 0
        assert "timemory" not in sys.modules, "binding must not import timemory"
        import timemory
        from tool_helpers import tree_counts
        assert ext.bind(False) == 1 and ext.available()
        assert ext.bind(False) == 1  # bound: at once
        ext.push("outer"); ext.push("inner"); ext.pop("inner"); ext.push("inner")
        ext.pop("inner"); ext.pop("outer")
        ext.pop("never pushed")                  # nothing runs under that name: nothing
        ext.by_id("by id", 5)
        print(sorted(tree_counts().items()))
        """,
        c_extension,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str([(("by id",), 5), (("outer",), 1), (("outer", "inner"), 2)])


def test_load_imports_timemory(c_extension, tmp_path):
    out = _python(
        """
        import sys
        import capi_c_ext as ext
        assert ext.bind(True) == 1 and "timemory" in sys.modules
        # binding imports timemory.region (the components Python chose), nothing heavy: it
        # happens inside the programs the extension runs in, under their profiles
        assert "timemory.region" in sys.modules and "typing" not in sys.modules
        """,
        c_extension,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr


def test_threads_python_never_created_push_while_the_gil_is_held(c_extension, tmp_path):
    # the calling thread keeps the GIL while its pthreads push and pop: a push that needed
    # it would never return (the subprocess' timeout)
    out = _python(
        """
        import json
        import timemory
        from timemory import _core
        from timemory.bundle import marker
        import capi_c_ext as ext
        from tool_helpers import tree_counts
        assert ext.bind(False) == 1
        timemory.settings.collapse_threads = False
        with marker(["wall_clock"], key="call"):
            ext.threads(4, 25)
        flat = _core.flat_snapshot(_core.find_component("wall_clock"))
        rows = [(flat.tid(i), flat.label(i), flat.is_remote(i)) for i in range(len(flat))]
        timemory.settings.collapse_threads = True
        tracker = _core.find_component("data_tracker_floating")
        batch = _core.tree_snapshot(tracker)
        values = {}
        stack = [(i, ()) for i in batch.roots()]
        while stack:
            i, prefix = stack.pop()
            path = prefix if batch.hash(i) == 0 else (*prefix, batch.label(i))
            e = batch.inclusive(i)
            if path:
                values["/".join(path)] = [e.laps, e.stats_count]
            stack += [(c, path) for c in batch.children(i)]
        print(json.dumps({"tree": {"/".join(k): v for k, v in tree_counts().items()},
                          "rows": rows, "tracker": values}))
        """,
        c_extension,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["tree"] == {"call": 1, "call/c_thread": 100}
    threads = {tid for tid, label, remote in result["rows"] if label == "c_thread"}
    assert len(threads) == 4  # each thread its own storage
    assert all(remote for _, label, remote in result["rows"] if label == "c_thread")
    assert result["tracker"]["call/c_thread/c_value"][1] == 100


def test_record_keeps_the_statistics_of_the_values(c_extension, tmp_path):
    out = _python(
        """
        import json
        import timemory
        from timemory import _core
        import capi_c_ext as ext
        assert ext.bind(False) == 1
        ext.push("load")
        for v in (1.0, 3.0, 8.0):
            ext.record("bytes", v)
        ext.pop("load")
        ext.record("top", 2.5)
        timemory.settings.enabled = False
        ext.record("off", 1.0)
        ext.push("off")                           # a push while off still pairs with its pop
        timemory.settings.enabled = True
        ext.push("on"); ext.pop("on"); ext.pop("off")
        flat = _core.flat_snapshot(_core.find_component("data_tracker_floating"))
        rows = {}
        for i in range(len(flat)):
            e = flat[i].entry
            rows[flat.label(i)] = [flat.depth(i), e.stats_count, e.stats_sum[0], e.stats_min[0],
                                   e.stats_max[0]]
        wall = _core.flat_snapshot(_core.find_component("wall_clock"))
        print(json.dumps({"tracker": rows,
                          "wall": sorted(wall.label(i) for i in range(len(wall)))}))
        """,
        c_extension,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    tracker = result["tracker"]
    assert tracker["bytes"][1:] == [3, 12.0, 1.0, 8.0]
    assert tracker["bytes"][0] == tracker["load"][0] + 1  # beneath the region
    assert tracker["top"][1:] == [1, 2.5, 2.5, 2.5]
    assert "off" not in tracker
    assert result["wall"] == ["load", "on"]


def test_regions_measure_what_python_chose_without_python_components(c_extension, tmp_path):
    out = _python(
        """
        import json
        import timemory
        from timemory import _core, region
        from timemory.component import Base
        import capi_c_ext as ext
        from tool_helpers import tree_counts

        calls = []

        class Depth(Base):
            label = "depth"
            def start(self):
                calls.append("start")
            def get(self):
                return 1

        assert ext.bind(False) == 1
        region.push_components(["cpu_clock", Depth])
        ext.push("chosen"); ext.pop("chosen")     # cpu_clock: Depth needs the GIL, left out
        region.pop_components()
        ext.push("default"); ext.pop("default")
        print(json.dumps({"cpu": list(tree_counts("cpu_clock")),
                          "wall": list(tree_counts("wall_clock")), "calls": calls}))
        """,
        c_extension,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result == {"cpu": [["chosen"]], "wall": [["default"]], "calls": []}


def test_regions_count_perf_event_components(c_extension, tmp_path):
    from timemory import hardware_counters

    if not hardware_counters.Info("page-faults").available():
        pytest.skip("software perf events cannot be opened here")
    out = _python(
        """
        import json
        from timemory import region
        import capi_c_ext as ext
        from tool_helpers import tree_counts

        assert ext.bind(False) == 1
        region.push_components(["perf::page-faults"])
        for _ in range(3):
            ext.push("counted"); ext.pop("counted")
        region.pop_components()
        print(json.dumps(list(tree_counts("perf::page-faults").items())))
        """,
        c_extension,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [[["counted"], 3]]


def test_the_environment_chooses_the_components(c_extension, tmp_path):
    out = _python(
        """
        import capi_c_ext as ext
        import timemory
        from tool_helpers import tree_counts
        assert ext.bind(False) == 1
        ext.push("env"); ext.pop("env")
        print(dict(tree_counts("cpu_clock")), dict(tree_counts("wall_clock")))
        """,
        c_extension,
        tmp_path,
        env={"TIMEMORY_COMPONENTS": "cpu_clock"},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "{('env',): 1} {}"


# ---------------------------------------------------------------- the example extension


@pytest.fixture(scope="module")
def example() -> Path:
    """The folder of examples/native_extension built with CMake (find_package(timemory))."""
    if not EXAMPLE.is_dir():
        pytest.skip("run from a source checkout (examples/native_extension)")
    pybind11 = pytest.importorskip("pybind11")
    cmake = shutil.which("cmake")
    if not cmake:
        pytest.skip("no cmake")
    inputs = [p.read_bytes() for p in sorted(EXAMPLE.rglob("*")) if p.is_file()]
    cmake_dir = subprocess.run(
        [sys.executable, "-m", "timemory", "--cmake-dir"],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
        env=clean_env(),
    ).stdout.strip()

    def build(folder: Path) -> None:
        _run(
            [
                cmake,
                "-S",
                str(EXAMPLE),
                "-B",
                str(folder / "build"),
                f"-DCMAKE_PREFIX_PATH={cmake_dir};{pybind11.get_cmake_dir()}",
                f"-DPython_EXECUTABLE={sys.executable}",
            ]
        )
        _run([cmake, "--build", str(folder / "build")])
        for built in (folder / "build").glob("timemory_native_example*"):
            shutil.copy(built, folder)

    return _publish(build, _cache_dir("example", *inputs, cmake_dir.encode()))


EXAMPLE_PROGRAM = """
import json, os
import timemory
from timemory import _core
from timemory.bundle import marker
import timemory_native_example as ext
from tool_helpers import tree_counts

assert ext.timemory_bound()  # bound at import: timemory was imported first
with marker(["wall_clock"], key="solve"):
    ext.simulate(threads=3, steps=4, work=100, release_gil={release})
    ext.integrate(1000)
wall = _core.find_component("wall_clock")
tree = {{"/".join(k): v for k, v in tree_counts().items()}}
flat = _core.flat_snapshot(wall)
remote = sorted({{flat.label(i) for i in range(len(flat)) if flat.is_remote(i)}})
timemory.settings.collapse_threads = False
flat = _core.flat_snapshot(wall)
worker_threads = len({{flat.tid(i) for i in range(len(flat)) if flat.label(i) == "worker"}})
timemory.settings.collapse_threads = True
tracker = {{"/".join(k): v for k, v in tree_counts("data_tracker_floating").items()}}
text = _core.live_text_table(wall)
_core.write_live_flat_json("flat.json", wall, {{}})
timemory.export("speedscope", "profile.speedscope.json", components=["wall_clock"])
json.dump({{"tree": tree, "remote": remote, "worker_threads": worker_threads,
           "tracker": tracker, "text": text}}, open("result.json", "w"))
"""


@pytest.fixture(scope="module")
def example_run(example, tmp_path_factory) -> dict:
    cwd = tmp_path_factory.mktemp("example")
    out = _python(EXAMPLE_PROGRAM.format(release="True"), example, cwd)
    assert out.returncode == 0, out.stderr
    result = json.loads((cwd / "result.json").read_text())
    result["cwd"] = cwd
    return result


def test_example_regions_nest_beneath_the_python_call(example_run):
    assert example_run["tree"] == {
        "solve": 1,
        "solve/simulate": 1,
        "solve/simulate/worker": 3,
        "solve/simulate/worker/step": 12,
        "solve/integrate": 1,
    }
    # the threads' work ran in parallel with simulate: remote beneath it
    assert example_run["remote"] == ["worker"]
    assert example_run["worker_threads"] == 3
    assert example_run["tracker"] == {
        "solve": 0,
        "solve/simulate": 0,
        "solve/simulate/worker": 0,
        "solve/simulate/worker/steps_done": 3,
        "solve/integrate": 0,
        "solve/integrate/integrate_n": 1,
    }


def test_example_text_json_and_export(example_run):
    labels = [
        line[2:].split(" | ")[0].strip()
        for line in example_run["text"].splitlines()
        if ">>>" in line
    ]
    assert labels == [
        ">>> solve",
        ">>> |_simulate",
        ">>>   |_[parallel] worker",
        ">>>     |_step",
        ">>> |_integrate",
    ]
    cwd = example_run["cwd"]
    graph = json.loads((cwd / "flat.json").read_text())["ranks"][0]["graph"]
    assert [(e["prefix"].strip(), e.get("remote", False)) for e in graph] == [
        (">>> solve", False),
        (">>> |_simulate", False),
        (">>>   |_worker", True),
        (">>>     |_step", False),
        (">>> |_integrate", False),
    ]
    speedscope = json.loads((cwd / "profile.speedscope.json").read_text())
    frames = {f["name"] for f in speedscope["shared"]["frames"]}
    assert {"solve", "simulate", "worker", "step", "integrate"} <= frames


def test_example_in_hatchet(example, tmp_path):
    pytest.importorskip("hatchet")
    out = _python(
        """
        import timemory, hatchet
        from timemory.bundle import marker
        import timemory_native_example as ext
        with marker(["wall_clock"], key="solve"):
            ext.simulate(threads=2, steps=3, work=10)
        gf = hatchet.GraphFrame.from_timemory(timemory.get(hierarchy=True))
        (solve,) = gf.graph.roots
        def walk(node, path):
            path = path + (node.frame["name"],)
            yield "/".join(path)
            for c in node.children:
                yield from walk(c, path)
        print(sorted(walk(solve, ())))
        """,
        example,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    # the data tracker's node too: hatchet joins the components' graphs
    assert out.stdout.strip() == str(
        [
            "solve",
            "solve/simulate",
            "solve/simulate/worker",
            "solve/simulate/worker/step",
            "solve/simulate/worker/steps_done",
        ]
    )


def test_example_threads_run_while_the_caller_holds_the_gil(example, tmp_path):
    out = _python(EXAMPLE_PROGRAM.format(release="False"), example, tmp_path)
    assert out.returncode == 0, out.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    assert result["tree"]["solve/simulate/worker/step"] == 12


def test_example_files_at_exit(example, tmp_path):
    out = _python(
        """
        from timemory.bundle import marker
        import timemory_native_example as ext
        with marker(["wall_clock"], key="solve"):
            ext.simulate(threads=2, steps=3, work=10)
        """,
        example,
        tmp_path,
        env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out")},
    )
    assert out.returncode == 0, out.stderr
    (text,) = (tmp_path / "out").rglob("wall.txt")
    content = text.read_text()
    assert "|_[parallel] worker" in content and "|_step" in content
    (tree,) = (tmp_path / "out").rglob("wall.tree.json")
    assert '"worker"' in tree.read_text()


def test_flat_profile_puts_regions_and_trackers_at_the_top_level(c_extension, tmp_path):
    out = _python(
        """
        import timemory
        import capi_c_ext as ext
        from tool_helpers import tree_counts
        assert ext.bind(False) == 1
        timemory.settings.flat_profile = True
        ext.push("a"); ext.push("b"); ext.record("x", 2.0); ext.pop("b"); ext.pop("a")
        print(sorted(tree_counts()), sorted(tree_counts("data_tracker_floating")))
        """,
        c_extension,
        tmp_path,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[('a',), ('b',)] [('x',)]"
