"""python -m timemory.roofline: images from real outputs, by command and from files."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from timemory.roofline import ert
from tool_helpers import clean_env, run_tool, write

pytest.importorskip("matplotlib")

APP = """
    from timemory.bundle import marker
    from timemory import roofline

    @marker(["cpu_roofline_dp_flops"])
    def stream(n=200_000):
        a = [1.0] * n
        b = [x * 2.0 for x in a]
        roofline.add_work(flops=n, bytes=16 * n)

    @marker(["cpu_roofline_dp_flops"])
    def compute(n=20_000):
        x = 1.0
        for _ in range(n):
            x = x * 1.000001 + 0.5
        roofline.add_work(flops=2 * n, bytes=8)

    stream()
    compute()
"""

PNG = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_command_runs_ai_and_op_passes_and_writes_the_image(tmp_path, ert_env):
    write(tmp_path / "app.py", APP)
    proc = run_tool(
        "timemory.roofline",
        "-t",
        "cpu_roofline_dp",
        "-b",
        "l1",
        "dram",
        "-P",
        "800",
        "600",
        "100",
        "--",
        sys.executable,
        "app.py",
        cwd=tmp_path,
        env=ert_env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "timemory-app-output"
    assert (out / "cpu_roofline_dp_ai.json").exists() and (out / "cpu_roofline_dp_op.json").exists()
    image = (tmp_path / "roofline.png").read_bytes()
    assert image.startswith(PNG) and _png_size(image) == (800, 600)
    assert proc.stderr.splitlines()[-1] == "timemory: 1 file in ./"  # roofline.png, last


def test_files_give_png_and_svg_with_labelled_ceilings(tmp_path, ert_env):
    write(tmp_path / "app.py", APP)
    for mode in ("ai", "op"):
        env = {**ert_env, "TIMEMORY_ROOFLINE_MODE": mode, "TIMEMORY_OUTPUT_PATH": "out"}
        proc = run_tool("timemory.roofline.__main__", "--help", cwd=tmp_path)  # help works
        assert proc.returncode == 0 and "-ai" in proc.stdout
        run = subprocess.run(
            [sys.executable, "app.py"],
            cwd=tmp_path,
            env=clean_env(env),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stderr
    files = ["-ai", "out/cpu_roofline_dp_ai.json", "-op", "out/cpu_roofline_dp_op.json"]
    proc = run_tool(
        "timemory.roofline",
        *files,
        "-t",
        "cpu_roofline_dp",
        "--format",
        "svg",
        "-b",
        "l1",
        "l2",
        "l3",
        "dram",
        "-D",
        "plots",
        "-o",
        "rl",
        "-T",
        "My app",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    svg = (tmp_path / "plots" / "rl.svg").read_text()
    ceilings = json.loads((tmp_path / "out" / "cpu_roofline_dp_op.json").read_text())
    ceilings = ceilings["timemory"]["cpu_roofline_dp_flops"]["roofline"]["ceilings"]
    assert "My app" in svg and "DP peak:" in svg and "GFLOP/s" in svg
    # levels that coincide (L2 raised to L3's figure, or within 5%) share one labelled line
    for levels, _ in ert.coinciding(ceilings["bandwidth"]):
        assert " = ".join(level.upper() for level in levels) + ": " in svg
    assert "Arithmetic intensity [FLOP/byte]" in svg and "Performance [GFLOP/s]" in svg
    assert "stream" in svg and "compute" in svg


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "give both -ai FILE and -op FILE"),
        (("-ai", "a.json"), "give both"),
        (("-t", "gpu_roofline", "-ai", "a", "-op", "b"), "need a GPU"),
        (("-ai", "missing.json", "-op", "missing.json"), "cannot read missing.json"),
        (("-b", "l4", "-ai", "a", "-op", "b"), "invalid choice"),
        (("-t", "cpu_roofline_dp", "--format", "bmpx", "-ai", "r.json", "-op", "r.json"), "bmpx"),
        (("-d", "-ai", "r.json", "-op", "r.json"), "cannot display plots"),
        (("-n", "0", "--", "true"), "-n"),
        (("-n", "-2", "--", "true"), "-n"),
    ],
)
def test_usage_errors_are_one_line_with_status_2(tmp_path, args, words):
    _write_ert_file(tmp_path / "r.json")
    proc = run_tool("timemory.roofline", *args, cwd=tmp_path, env={"MPLBACKEND": "agg"})
    assert proc.returncode == 2, proc.stderr
    assert words in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def _write_ert_file(path):
    """A flat roofline file with one region and a small, made-up ERT block."""
    entry = {"prefix": ">>> a", "entry": {"laps": 1, "repr_data": [1e9, 1e8, 0.5]}}
    ceilings = {"peak": {"dp": 50.0, "sp": 100.0}, "bandwidth": {"l1": 200.0, "dram": 20.0}}
    component = {
        "type": ["flops", "bytes", "runtime"],
        "roofline": {"entries": 0, "ert": [], "ceilings": ceilings},
        "ranks": [{"rank": 0, "graph": [entry]}],
    }
    path.write_text(json.dumps({"timemory": {"cpu_roofline_dp_flops": component}}))


def test_input_without_ert_data_is_reported(tmp_path):
    entry = {"prefix": ">>> a", "entry": {"laps": 1, "repr_data": [1.0, 1.0, 1.0]}}
    component = {
        "type": ["flops", "bytes", "runtime"],
        "roofline": {"entries": 0, "ert": []},
        "ranks": [{"rank": 0, "graph": [entry]}],
    }
    (tmp_path / "r.json").write_text(json.dumps({"timemory": {"cpu_roofline_flops": component}}))
    proc = run_tool("timemory.roofline", "-ai", "r.json", "-op", "r.json", cwd=tmp_path)
    assert proc.returncode == 2 and "no ERT data" in proc.stderr


def test_a_failing_pass_stops_with_its_status(tmp_path, ert_env):
    write(tmp_path / "bad.py", "import sys; sys.exit(3)\n")
    proc = run_tool("timemory.roofline", "--", sys.executable, "bad.py", cwd=tmp_path, env=ert_env)
    assert proc.returncode == 3
    assert "the ai pass exited with status 3" in proc.stderr
    assert not (tmp_path / "roofline.png").exists()


def test_num_threads_reaches_the_ert_of_the_command(tmp_path, ert_env):
    write(tmp_path / "app.py", APP)
    args = ("-n", "1", "-b", "l1", "-t", "cpu_roofline_dp", "--", sys.executable, "app.py")
    proc = run_tool("timemory.roofline", *args, cwd=tmp_path, env=ert_env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "timemory-app-output" / "cpu_roofline_dp_op.json").read_text())
    ert = data["timemory"]["cpu_roofline_dp_flops"]["roofline"]["ert"]
    assert {e["exec-params"]["nthreads"] for e in ert} == {1}


def test_without_rtype_the_recorded_components_are_plotted(tmp_path, ert_env):
    """No -t: each cpu_roofline* component the command recorded gets its image; with -ai/-op
    the files' own component is plotted (its peak only)."""
    write(
        tmp_path / "app.py",
        APP.replace(
            'marker(["cpu_roofline_dp_flops"])\n    def compute',
            'marker(["cpu_roofline_flops"])\n    def compute',
        ),
    )
    proc = run_tool(
        "timemory.roofline",
        "-b",
        "l1",
        "-P",
        "800",
        "600",
        "100",
        "--",
        sys.executable,
        "app.py",
        cwd=tmp_path,
        env=ert_env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for rtype in ("cpu_roofline", "cpu_roofline_dp"):
        assert (tmp_path / f"{rtype}_roofline.png").read_bytes().startswith(PNG), rtype
    out = "timemory-app-output"
    files = ["-ai", f"{out}/cpu_roofline_dp_ai.json", "-op", f"{out}/cpu_roofline_dp_op.json"]
    proc = run_tool("timemory.roofline", *files, "-b", "l1", "--format", "svg", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    svg = (tmp_path / "roofline.svg").read_text()
    assert "DP peak:" in svg and "SP peak:" not in svg


def test_command_that_records_no_roofline_data_is_a_clear_error(tmp_path, ert_env):
    write(tmp_path / "app.py", "print('no regions')\n")
    proc = run_tool(
        "timemory.roofline", "--", sys.executable, "app.py", cwd=tmp_path, env=ert_env, timeout=300
    )
    assert proc.returncode == 2
    assert "no cpu_roofline* ai/op files" in proc.stderr and "cpu_roofline_dp_flops" in proc.stderr


def test_hotspots_read_the_files_units_and_labels():
    """repr_data is in the file's units (timing_units=msec: unit_value 1e6 ns); thread and
    rank tags of the prefix go into brackets."""
    from timemory.roofline import hotspots

    def component(runtime, unit_value):
        graph = [
            {"prefix": ">>> a", "entry": {"laps": 1, "repr_data": [2e9, 1e9, runtime]}},
            {"prefix": "|1>>> |_b", "entry": {"laps": 2, "repr_data": [1e9, 1e9, runtime]}},
            {"prefix": "|0|2>>> c", "entry": {"laps": 1, "repr_data": [1e9, 1e9, runtime]}},
        ]
        return {
            "type": ["flops", "bytes", "runtime"],
            "unit_value": [1, 1, unit_value],
            "unit_repr": ["", "", "msec" if unit_value == 1e6 else "sec"],
            "ranks": [{"rank": 0, "graph": graph}],
        }

    for data in (component(0.5, 1e9), component(500.0, 1e6)):
        points = hotspots(data, data)
        assert [p["label"] for p in points] == ["a", "b [t1]", "c [r0 t2]"]
        assert [round(p["gflops"], 9) for p in points] == [4.0, 2.0, 2.0]
        assert [p["intensity"] for p in points] == [2.0, 1.0, 1.0]


def test_echo_dart_prints_the_tag_and_lists_the_image(tmp_path):
    _write_ert_file(tmp_path / "r.json")
    proc = run_tool(
        "timemory.roofline", "-e", "-ai", "r.json", "-op", "r.json", "-D", "img", cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    image = tmp_path / "img" / "roofline.png"
    assert image.read_bytes().startswith(PNG)
    tag = '<DartMeasurementFile name="roofline" type="image/png">'
    assert f"{tag}img/roofline.png</DartMeasurementFile>" in proc.stderr.splitlines()
    assert proc.stdout == ""
