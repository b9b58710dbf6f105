"""Output files written at exit or by report().

End-to-end cases run a real program in a subprocess (``run_python`` from conftest.py): the
files must be written however the program ends, with its exit status preserved.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest
import timemory
from fakeclock import PRELUDE
from timemory import settings
from timemory.bundle import marker
from timemory.storage import WallClockStorage

# on the fake clock: work() takes 3 x 10 ms in inner and 10 ms of its own
RECORDING = (
    PRELUDE
    + """
import json, sys
import timemory
from timemory.bundle import marker

@marker(["wall_clock", "peak_rss"])
def work():
    for _ in range(3):
        with marker(["wall_clock", "peak_rss"], key="inner"):
            nap(0.01)
    nap(0.01)

work()
work()
timemory.manager.add_metadata("FOO", "bar")
timemory.manager.add_metadata("LIST", [1, 2.5, "x"])
with open("in-process.json", "w") as f:
    json.dump({"tree": timemory.get(hierarchy=True), "flat": timemory.get(),
               "text": timemory.get_text()}, f)
"""
)

EXPECTED_FILES = {
    "wall.txt",
    "wall.json",
    "wall.tree.json",
    "wall.flamegraph.json",
    "peak_rss.txt",
    "peak_rss.json",
    "peak_rss.tree.json",
    "metadata.json",
    "functions.json",
}
META_KEYS = [
    "properties",
    "type",
    "description",
    "unit_value",
    "unit_repr",
    "thread_scope_only",
    "thread_count",
    "mpi_size",
    "upcxx_size",
    "process_count",
    "num_ranks",
    "concurrency",
]


def load(path):
    with open(path) as f:
        return json.load(f)


def run_recording(run_python, tmp_path, ending="", env=None, name="script.py"):
    out = tmp_path / "out"
    full_env = {"TIMEMORY_OUTPUT_PATH": str(out)}
    full_env.update(env or {})
    proc = run_python(RECORDING + ending, env=full_env, name=name)
    return proc, out


@pytest.fixture(scope="module")
def normal_run(tmp_path_factory, python_runner):
    """One program that records and exits normally, shared by the tests that only read its
    output: (process, working directory, output folder)."""
    cwd = tmp_path_factory.mktemp("normal-run")
    out = cwd / "out"
    proc = python_runner(RECORDING, cwd, env={"TIMEMORY_OUTPUT_PATH": str(out)})
    assert proc.returncode == 0, proc.stderr
    return proc, cwd, out


# ------------------------------------------------------------------ how the program ends


ENDINGS = [
    pytest.param("raise RuntimeError('uncaught')", id="uncaught-exception"),
    pytest.param("sys.exit(3)", id="sys-exit-3"),
    pytest.param("raise KeyboardInterrupt", id="keyboard-interrupt"),
]


def baseline_status(ending, tmp_path):
    """The exit status plain Python gives for this ending here: for an uncaught
    KeyboardInterrupt it is -SIGINT, or 1 where SIGINT is ignored (e.g. a
    background job of a non-interactive shell)."""
    proc = subprocess.run(
        [sys.executable, "-c", f"import sys\n{ending}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return proc.returncode


@pytest.mark.parametrize("ending", ENDINGS)
def test_files_written_and_exit_status_preserved(run_python, tmp_path, ending):
    status = baseline_status(ending, tmp_path)
    assert status != 0
    proc, out = run_recording(run_python, tmp_path, ending)
    assert proc.returncode == status, proc.stderr
    if "RuntimeError" in ending:
        assert "RuntimeError: uncaught" in proc.stderr
    check_files(out)


def test_files_written_at_normal_exit(normal_run):
    proc, _, out = normal_run
    assert proc.returncode == 0
    check_files(out)


def check_files(out):
    assert set(os.listdir(out)) == EXPECTED_FILES
    for name in EXPECTED_FILES - {"wall.txt", "peak_rss.txt"}:
        assert isinstance(load(out / name), dict), name
    graph = load(out / "wall.json")["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert [(g["prefix"], g["entry"]["laps"]) for g in graph] == [
        (">>> work", 2),
        (">>> |_inner", 6),
    ]


def test_no_temp_files_left_and_nothing_in_the_working_directory(normal_run):
    _, tmp_path, out = normal_run
    names = os.listdir(out)
    assert not [n for n in names if n.startswith(".") or "tmp" in n.lower()]
    # the working directory holds the script, what it wrote itself and the output folder
    assert set(os.listdir(tmp_path)) == {"script.py", "in-process.json", "out"}


def test_files_match_what_the_program_saw(normal_run):
    _, tmp_path, out = normal_run
    seen = load(tmp_path / "in-process.json")
    tree = load(out / "wall.tree.json")
    flat = load(out / "wall.json")
    assert tree["timemory"]["wall_clock"] == seen["tree"]["timemory"]["wall_clock"]
    assert flat["timemory"]["wall_clock"] == seen["flat"]["timemory"]["wall_clock"]
    peak = load(out / "peak_rss.json")["timemory"]["peak_rss"]
    assert peak == seen["flat"]["timemory"]["peak_rss"]
    text = (out / "wall.txt").read_text()
    assert text in seen["text"]


def test_json_file_schema(normal_run):
    _, tmp_path, out = normal_run
    flat = load(out / "wall.json")
    assert list(flat) == ["timemory"] and list(flat["timemory"]) == ["wall_clock"]
    wc = flat["timemory"]["wall_clock"]
    assert list(wc) == META_KEYS + ["ranks"]
    assert wc["type"] == "wall" and wc["unit_value"] == 10**9 and wc["unit_repr"] == "sec"
    assert wc["properties"]["enum"] == "WALL_CLOCK" and wc["properties"]["id"] == "wall_clock"
    tree = load(out / "wall.tree.json")["timemory"]["wall_clock"]
    assert list(tree) == META_KEYS + ["graph"]
    root = tree["graph"][0][0]
    assert root["node"]["hash"] == 0 and len(root["children"]) == 1
    work = root["children"][0]["node"]
    assert list(work) == [
        "hash",
        "prefix",
        "tid",
        "pid",
        "depth",
        "is_dummy",
        "inclusive",
        "exclusive",
    ]
    assert work["prefix"] == "work" and work["depth"] == 1
    assert work["inclusive"]["entry"]["laps"] == 2
    peak = load(out / "peak_rss.json")["timemory"]["peak_rss"]
    assert peak["type"] == "peak_rss" and peak["unit_repr"] == "MB" and peak["unit_value"] == 10**6


def test_flamegraph_file(normal_run):
    _, tmp_path, out = normal_run
    fg = load(out / "wall.flamegraph.json")
    assert list(fg) == ["traceEvents"]
    events = fg["traceEvents"]
    assert events
    pids = set()
    for ev in events:
        assert list(ev) == ["dur", "name", "ph", "pid", "tid", "ts"]
        assert ev["ph"] == "X"
        assert ev["name"] in {"work", "inner"}
        assert ev["dur"] >= 0 and ev["ts"] >= 0
        pids.add(ev["pid"])
    assert len(pids) == 1 and pids != {os.getpid()}
    graph = load(out / "wall.json")["timemory"]["wall_clock"]["ranks"][0]["graph"]
    total_us = {
        g["prefix"].split("_")[-1].replace(">>> ", ""): g["entry"]["repr_data"] * 1e6 for g in graph
    }
    for name in ("work", "inner"):
        durations = sum(ev["dur"] for ev in events if ev["name"] == name)
        assert durations == pytest.approx(total_us[name], rel=1e-6)
    # inner ran for 3 x 2 x 10 ms, work for 2 x 40 ms
    assert (total_us["inner"], total_us["work"]) == (60_000, 80_000)


def test_metadata_and_functions_files(normal_run):
    _, tmp_path, out = normal_run
    meta = load(out / "metadata.json")
    assert list(meta) == ["timemory"] and list(meta["timemory"]) == ["metadata"]
    md = meta["timemory"]["metadata"]
    assert {"info", "settings", "output", "environment"} <= set(md)
    info = md["info"]
    assert info["FOO"] == "bar" and info["LIST"] == [1, 2.5, "x"]
    for key in ("LAUNCH_DATE", "LAUNCH_TIME", "TIMEMORY_VERSION", "CPU_MODEL", "HW_CONCURRENCY"):
        assert key in info, key
    assert info["TIMEMORY_VERSION"] == timemory.version
    assert md["settings"]["output_path"] == str(out)
    written = [os.path.basename(p) for paths in md["output"].values() for p in paths]
    assert {"wall.json", "wall.tree.json", "wall.txt", "peak_rss.json"} <= set(written)
    functions = load(out / "functions.json")["timemory"]["functions"]
    assert set(functions) >= {"work", "inner"}
    # hashes are stable across processes
    assert functions["work"] == [timemory.get_hash("work")]
    assert functions["inner"] == [timemory.get_hash("inner")]


def test_physical_cores_count_each_core_once(tmp_path):
    """HW_PHYSICAL_CPU counts (package, core) pairs: hardware threads of one core once, the
    same core id in two packages twice; CPUs without a topology folder are skipped."""
    from timemory import _machine
    from timemory.roofline import ert

    topology = {"cpu0": (0, 0), "cpu1": (0, 0), "cpu2": (0, 1), "cpu3": (1, 0), "cpu7": None}
    for name, ids in topology.items():
        folder = tmp_path / name / "topology"
        folder.mkdir(parents=True)
        if ids is not None:
            (folder / "physical_package_id").write_text(f"{ids[0]}\n")
            (folder / "core_id").write_text(f"{ids[1]}\n")
    (tmp_path / "cpufreq").mkdir()
    assert _machine.physical_cores(str(tmp_path)) == 3
    assert _machine.physical_cores(str(tmp_path / "missing")) == 0
    # ERT's theoretical peak uses the count the metadata records
    assert ert.physical_cores() == _machine.cpu_info()["HW_PHYSICAL_CPU"] >= 1


def split_row(line):
    """Cells of a table row (a label may contain "|_")."""
    return [c.strip() for c in re.split(r"\s\|\s", line.strip("|").strip())]


def test_text_table_layout(normal_run):
    _, tmp_path, out = normal_run
    lines = (out / "wall.txt").read_text().rstrip("\n").split("\n")
    assert len({len(line) for line in lines}) == 1, "every line of the table has the same width"
    assert all(line.startswith("|") and line.endswith("|") for line in lines)
    assert "REAL-CLOCK TIMER" in lines[1]
    header = split_row(lines[3])
    assert header == [
        "LABEL",
        "COUNT",
        "DEPTH",
        "METRIC",
        "UNITS",
        "SUM",
        "MEAN",
        "MIN",
        "MAX",
        "STDDEV",
        "% SELF",
    ]
    rows = [split_row(line) for line in lines if ">>>" in line]
    assert [r[0] for r in rows] == [">>> work", ">>> |_inner"]
    assert [int(r[1]) for r in rows] == [2, 6]
    assert [int(r[2]) for r in rows] == [0, 1]
    # each row in the unit that suits its sum (settings.timing_units not set): ms here
    assert {r[3] for r in rows} == {"wall"} and {r[4] for r in rows} == {"msec"}
    work, inner = ([float(x) for x in r[5:]] for r in rows)
    # work: 2 x (3 x 10 ms inside inner + 10 ms of its own): a quarter of it is self time
    # (SUM, MEAN, MIN, MAX, STDDEV, % SELF as printed, 3 decimals)
    assert work == [80.0, 40.0, 40.0, 40.0, 0.0, 25.0]
    assert inner == [60.0, 10.0, 10.0, 10.0, 0.0, 100.0]


def test_tables_printed_by_default(normal_run):
    proc, _, out = normal_run  # run without any TIMEMORY_* variable: cout_output is on
    assert "REAL-CLOCK TIMER" in proc.stderr and ">>> |_inner" in proc.stderr  # on stderr
    assert "timemory" not in proc.stdout
    # no line per file (verbose >= 1 prints them), one line for the folder, last
    assert "Outputting" not in proc.stderr
    assert proc.stderr.splitlines()[-1] == "timemory: 9 files in out/"


def test_cout_output_off(run_python, tmp_path):
    proc, _ = run_recording(run_python, tmp_path, env={"TIMEMORY_COUT_OUTPUT": "OFF"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "REAL-CLOCK TIMER" not in proc.stderr
    assert proc.stderr == "timemory: 9 files in out/\n"


def test_file_output_off_writes_nothing(run_python, tmp_path):
    proc, out = run_recording(run_python, tmp_path, env={"TIMEMORY_FILE_OUTPUT": "OFF"})
    assert proc.returncode == 0, proc.stderr
    assert not out.exists()


def test_skip_finalize(run_python, tmp_path):
    proc, out = run_recording(run_python, tmp_path, env={"TIMEMORY_SKIP_FINALIZE": "1"})
    assert proc.returncode == 0, proc.stderr
    assert not out.exists()


def test_explicit_finalize_runs_once(run_python, tmp_path):
    ending = """
timemory.finalize()
assert timemory.is_finalized()
with marker(["wall_clock"], key="after-finalize"):
    pass
timemory.finalize()
"""
    proc, out = run_recording(run_python, tmp_path, ending)
    assert proc.returncode == 0, proc.stderr
    graph = load(out / "wall.json")["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert [g["prefix"] for g in graph] == [">>> work", ">>> |_inner"]
    assert proc.stderr.count("timemory: ") == 1  # the second finalize wrote nothing


def test_running_markers_are_stopped_at_exit(run_python, tmp_path):
    source = """
import timemory
from timemory.bundle import marker
m = marker(["wall_clock"], key="never-exited")
m.__enter__()
nap(0.02)
"""
    out = tmp_path / "out"
    proc = run_python(PRELUDE + source, env={"TIMEMORY_OUTPUT_PATH": str(out)})
    assert proc.returncode == 0, proc.stderr
    graph = load(out / "wall.json")["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert graph[0]["prefix"] == ">>> never-exited"
    assert graph[0]["entry"]["laps"] == 1
    assert graph[0]["entry"]["repr_data"] == 0.02


# ------------------------------------------------------------------ output names


def test_output_prefix_and_pid_placeholder(run_python, tmp_path):
    ending = "\nimport os\nprint('PID', os.getpid())\n"
    proc, _ = run_recording(
        run_python,
        tmp_path,
        ending,
        env={"TIMEMORY_OUTPUT_PATH": str(tmp_path / "run-%pid%"), "TIMEMORY_OUTPUT_PREFIX": "exp"},
    )
    assert proc.returncode == 0, proc.stderr
    pid = int(re.search(r"^PID (\d+)$", proc.stdout, re.M).group(1))
    folder = tmp_path / f"run-{pid}"
    names = set(os.listdir(folder))
    assert {"exp-wall.json", "exp-wall.tree.json", "exp-wall.txt", "exp-peak_rss.json"} <= names
    assert all(n.startswith("exp-") for n in names)


def test_default_output_folder_named_after_the_script(run_python, tmp_path):
    proc = run_python(RECORDING, name="my_test_script.py")
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "timemory-my-test-script-output"
    assert out.is_dir()
    assert EXPECTED_FILES <= set(os.listdir(out))


def test_initialize_names_the_output_folder(monkeypatch):
    monkeypatch.delenv("TIMEMORY_OUTPUT_PATH", raising=False)
    monkeypatch.setattr(settings, "output_path", settings.output_path)
    monkeypatch.setattr(settings, "command_line", settings.command_line)
    timemory.initialize(["/x/test_hatchet.py"])
    assert settings.output_path == "timemory-test-hatchet-output"
    timemory.initialize(["some/dir/my__tool.exe", "--flag"])
    assert settings.output_path == "timemory-my-tool-output"
    timemory.initialize(["/x/script.py"], "pre-", "-post")
    assert settings.output_path == "pre-script-post"
    before = settings.output_path
    timemory.init()  # no argv: nothing happens
    timemory.initialize([])
    assert settings.output_path == before


def test_environment_output_path_wins_over_initialize(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "output_path", settings.output_path)
    monkeypatch.setattr(settings, "command_line", settings.command_line)
    monkeypatch.setenv("TIMEMORY_OUTPUT_PATH", str(tmp_path / "from-env"))
    timemory.initialize(["/x/test_hatchet.py"])
    assert settings.output_path == str(tmp_path / "from-env")


# ------------------------------------------------------------------ in-process report


def test_report_writes_to_a_given_folder_and_restores_output_path(tmp_path, capsys):
    with marker(["wall_clock"], key="reported"):
        pass
    before = settings.output_path
    timemory.report(str(tmp_path / "rep"))
    assert settings.output_path == before
    names = set(os.listdir(tmp_path / "rep"))
    assert {"wall.json", "wall.tree.json", "wall.txt", "wall.flamegraph.json"} <= names
    graph = load(tmp_path / "rep" / "wall.json")["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert [g["prefix"] for g in graph] == [">>> reported"]
    assert capsys.readouterr().err.endswith(f" files in {tmp_path / 'rep'}{os.sep}\n")
    # report() does not finalise: recording goes on
    with marker(["wall_clock"], key="reported"):
        pass
    assert WallClockStorage.get()[0].data().laps() == 2


def test_flamegraph_layout(tmp_path, fake_clock):
    with marker(["wall_clock"], key="main"):
        fake_clock.advance(0.005)
        with marker(["wall_clock"], key="a"):
            fake_clock.advance(0.005)
        with marker(["wall_clock"], key="b"):
            fake_clock.advance(0.005)
    with marker(["wall_clock"], key="second"):
        fake_clock.advance(0.005)
    timemory.report(str(tmp_path))
    events = {ev["name"]: ev for ev in load(tmp_path / "wall.flamegraph.json")["traceEvents"]}
    assert sorted(events) == ["a", "b", "main", "second"]
    inclusive = {e.label(): e.data().get() * 1e6 for e in WallClockStorage.get()}
    for name, ev in events.items():
        assert ev["dur"] == pytest.approx(inclusive[name], rel=1e-6)
    # children from their parent's start, siblings and top-level entries one after the other (us)
    spans = {name: (ev["ts"], ev["ts"] + ev["dur"]) for name, ev in events.items()}
    assert spans == {
        "main": (0, 15_000),
        "a": (0, 5_000),
        "b": (5_000, 10_000),
        "second": (15_000, 20_000),
    }


def test_get_text_matches_the_text_file(tmp_path):
    with marker(["wall_clock", "peak_rss"], key="t"):
        pass
    timemory.report(str(tmp_path))
    text = timemory.get_text()
    assert (tmp_path / "wall.txt").read_text() in text
    assert (tmp_path / "peak_rss.txt").read_text() in text
    only_peak = timemory.get_text(["peak_rss"])
    assert only_peak.strip() == (tmp_path / "peak_rss.txt").read_text().strip()


def test_get_text_empty_without_data():
    assert timemory.get_text() == ""


# ------------------------------------------------------------------ import behaviour


def test_import_installs_no_profile_or_trace_hook(run_python):
    proc = run_python(
        """
import sys, threading
import timemory
from timemory.bundle import marker
with marker(["wall_clock"], key="k"):
    pass
# threading.getprofile/gettrace are Python >= 3.10; before, the hooks are module globals
tprofile = getattr(threading, "getprofile", lambda: threading._profile_hook)()
ttrace = getattr(threading, "gettrace", lambda: threading._trace_hook)()
print(sys.getprofile(), sys.gettrace(), tprofile, ttrace)
""",
        env={"TIMEMORY_FILE_OUTPUT": "OFF", "TIMEMORY_COUT_OUTPUT": "OFF"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["None"] * 4


def test_import_is_silent(run_python):
    proc = run_python("import timemory\n", env={"PYTHONWARNINGS": "error"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and proc.stderr == ""


def test_in_process_import_left_no_hook():
    assert sys.getprofile() is None or "timemory" not in repr(sys.getprofile())
    assert sys.gettrace() is None or "timemory" not in repr(sys.gettrace())


def test_unwritable_output_path_falls_back_and_keeps_the_data(run_python, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the output directory should go")
    proc = run_python(
        """
import timemory
from timemory.bundle import marker
with marker(["wall_clock"], key="kept"):
    pass
""",
        env={"TIMEMORY_OUTPUT_PATH": str(blocker / "out"), "TIMEMORY_COUT_OUTPUT": "OFF"},
    )
    assert proc.returncode == 0, proc.stderr
    match = re.search(
        r"cannot write to the output folder '(.+?)' .*writing the output to '(.+?)'", proc.stderr
    )
    assert match, proc.stderr
    assert match.group(1) == str(blocker / "out")
    fallback = match.group(2)
    try:
        graph = load(os.path.join(fallback, "wall.json"))["timemory"]["wall_clock"]["ranks"][0]
        assert [g["prefix"] for g in graph["graph"]] == [">>> kept"]
        assert os.path.exists(os.path.join(fallback, "metadata.json"))
    finally:
        import shutil

        shutil.rmtree(fallback, ignore_errors=True)


@pytest.mark.parametrize(
    "value",
    [
        {"timemory": {"metadata": {"info": {"A": "b", "N": 3, "F": 2.5, "L": [1, 2.0, "x"]}}}},
        {"timemory": {"functions": {"main": [1, 2], "<lambda>": [3]}}},
        {},
        [],
        {"empty": {}, "none": [], "nested": [[], {}, [{}]]},
        {"s": 'quote " backslash \\ tab \t nl \n cr \r bs \b ff \f nul \x00 del \x7f'},
        {"unicode": "ü ☃ \U0001f600 \udcff", "ü ☃": "key"},
        {"t": True, "f": False, "n": None, "i": -12345678901234567890, "big": 1e300},
        {"floats": [0.1, 1.0, -0.0, 1e16, 1e-7, float("nan"), float("inf"), float("-inf")]},
        {1: "int key", 2.5: "float key", False: "bool key", None: "none key"},
        ("a", ("b", 1)),
    ],
)
def test_metadata_json_text_is_json_dumps(value):
    # metadata.json and functions.json are written without importing json at exit
    from timemory._output import json_dumps as _json_dumps

    assert _json_dumps(value) == json.dumps(_finite(value), indent=2)


def _finite(value):
    """``value`` with NaN and the infinities as None: what every timemory JSON writer writes
    for them (NaN/Infinity are not JSON)."""
    if isinstance(value, float) and (value != value or value in (math.inf, -math.inf)):
        return None
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def test_metadata_json_text_is_strict_json():
    from timemory._output import json_dumps as _json_dumps

    text = _json_dumps({"x": [math.nan, math.inf, -math.inf, 1.5]})
    assert json.loads(text, parse_constant=pytest.fail) == {"x": [None, None, None, 1.5]}


def test_metadata_json_text_rejects_what_json_rejects():
    from timemory._output import json_dumps as _json_dumps

    for value in ({"x": object()}, {(1, 2): "tuple key"}, {"s": {1, 2}}):
        with pytest.raises(TypeError):
            json.dumps(value, indent=2)
        with pytest.raises(TypeError):
            _json_dumps(value)


def test_functions_json_native_text_is_json_dumps(tmp_path):
    # functions.json is written natively; it is the text json.dumps(indent=2) makes of the
    # labels and their hashes, escapes (ensure_ascii) included
    from timemory import _core, region

    for label in ('ü ☃ \U0001f600 "q" \\ \x7f \x01 tab\t', "plain", "k\\xff.py"):
        region.push(label)
        region.pop(label)
    functions: dict[str, list[int]] = {}
    for hash_id, label in _core.hash_ids():
        functions.setdefault(label, []).append(hash_id)
    path = tmp_path / "functions.json"
    _core.write_functions_json(str(path), "\n")
    document: dict[str, object] = {"functions": functions}
    sources = [list(s) for s in _core.hash_sources()]  # functions profiled earlier in the process
    if sources:
        document["sources"] = sources
    expected = json.dumps({"timemory": document}, indent=2) + "\n"
    assert path.read_text(encoding="ascii") == expected
