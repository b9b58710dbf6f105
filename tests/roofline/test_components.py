"""cpu_roofline_* components: declared work per region, the JSON 'roofline' block, modes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from fakeclock import PRELUDE
from timemory import roofline
from timemory.component import CpuRooflineDpFlops, CpuRooflineFlops, CpuRooflineSpFlops
from tool_helpers import clean_env, write


def test_regions_get_the_work_declared_while_they_run():
    dp, sp, every = CpuRooflineDpFlops("dp"), CpuRooflineSpFlops("sp"), CpuRooflineFlops("all")
    roofline.add_work(flops=1e9, bytes=1e9)  # before: not counted
    for c in (dp, sp, every):
        c.start()
    roofline.add_work(flops=100, bytes=800)
    roofline.add_work(flops=10, bytes=40, dtype="sp")
    roofline.add_work(flops=1, bytes=0, dtype="")
    for c in (dp, sp, every):
        c.stop()
    roofline.add_work(flops=1e9, bytes=1e9)  # after: not counted
    flops, nbytes, runtime = dp.get()
    assert (flops, nbytes) == (100, 840) and runtime > 0
    assert sp.get()[:2] == (10, 840)
    assert every.get()[:2] == (111, 840)


def test_work_of_another_thread_is_not_counted():
    c = CpuRooflineDpFlops("x")
    c.start()
    t = threading.Thread(target=roofline.add_work, kwargs={"flops": 5, "bytes": 5})
    t.start()
    t.join()
    c.stop()
    assert c.get()[:2] == (0, 0)


def test_bad_work_names_the_valid_choices():
    with pytest.raises(ValueError, match="Valid choices are: dp, sp"):
        roofline.add_work(flops=1, dtype="hp")
    with pytest.raises(ValueError, match="non-negative"):
        roofline.add_work(flops=-1)


def test_hardware_counters_report_why_they_are_unavailable():
    status = roofline.counter_status()
    assert set(status) == {"PAPI_DP_OPS", "PAPI_SP_OPS", "PAPI_LST_INS"}
    for available, reason in status.values():
        assert available != bool(reason), status  # a reason exactly when unavailable
    try:
        pmus = os.listdir("/sys/bus/event_source/devices")
    except OSError:
        pmus = []
    if not any(n in ("cpu", "cpu_core", "cpu_atom") or n.startswith("arm") for n in pmus):
        # no CPU PMU (these VMs): every counter is unavailable and the reason says why
        assert not any(available for available, _ in status.values()), status
        assert "no CPU PMU" in status["PAPI_LST_INS"][1], status  # the FLOP presets may
        # instead have no mapping for this CPU (AMD), which their reason says


PROGRAM = """
    from timemory.bundle import marker
    from timemory import roofline

    with marker(["cpu_roofline_flops", "cpu_roofline_dp_flops"], key="outer"):
        roofline.add_work(flops=300, bytes=100)
        with marker(["cpu_roofline_flops", "cpu_roofline_dp_flops"], key="inner"):
            roofline.add_work(flops=40, bytes=8, dtype="sp")
"""


@pytest.mark.parametrize("mode", ["op", "ai"])
def test_json_carries_the_ert_block_and_the_mode_names_the_file(tmp_path, ert_env, mode):
    script = write(tmp_path / "app.py", PROGRAM)
    env = clean_env(
        {**ert_env, "TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"), "TIMEMORY_ROOFLINE_MODE": mode}
    )
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "out" / f"cpu_roofline_{mode}.json").read_text())
    comp = data["timemory"]["cpu_roofline_flops"]
    assert comp["type"] == ["flops", "bytes", "runtime"]
    block = comp["roofline"]
    assert block["entries"] == len(block["ert"]) > 0
    assert set(block["ceilings"]["peak"]) == {"dp", "sp"}
    assert block["ceilings"]["bandwidth"]  # 16 MiB of ERT data: caches only, no DRAM
    graph = comp["ranks"][0]["graph"]
    assert [g["entry"]["repr_data"][:2] for g in graph] == [[340, 108], [40, 8]]
    dp = json.loads((tmp_path / "out" / f"cpu_roofline_dp_{mode}.json").read_text())
    assert [
        g["entry"]["repr_data"][:2]
        for g in dp["timemory"]["cpu_roofline_dp_flops"]["ranks"][0]["graph"]
    ] == [[300, 108], [0, 8]]
    # both components share one ERT run (the cache), which printed its progress once
    assert proc.stderr.count("timemory ERT: measuring") == 1


def test_undeclared_work_is_the_counted_work_or_zero_without_counters():
    c = CpuRooflineDpFlops("counted")
    c.start()
    total = sum(float(i) * 1.5 for i in range(100_000))  # scalar DP work in the interpreter
    c.stop()
    assert total > 0
    status = roofline.counter_status()
    flops, nbytes, _ = c.get()
    if status["PAPI_DP_OPS"][0]:  # a PMU with FLOP events: the multiplications are counted
        assert flops > 0
    else:  # these VMs: nothing counted, nothing declared
        assert flops == 0
    if status["PAPI_LST_INS"][0]:  # the interpreter loads and stores: 8 bytes each
        assert nbytes > 0 and nbytes % 8 == 0
    else:
        assert nbytes == 0


def test_a_failing_ert_loses_no_data(tmp_path, ert_env):
    """ERT cannot run (here: an unknown kernel set): the files are written all the same,
    without ceilings, and the error is reported."""
    script = write(tmp_path / "app.py", PROGRAM.replace('"cpu_roofline_flops", ', '"wall_clock", '))
    env = clean_env(
        {**ert_env, "TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"), "TIMEMORY_ERT_ISA": "sparc"}
    )
    proc = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180
    )
    assert proc.returncode == 0, proc.stderr
    assert "ERT failed (ValueError: ERT instruction set 'sparc'" in proc.stderr
    assert proc.stderr.count("ERT failed") == 1
    dp = json.loads((tmp_path / "out" / "cpu_roofline_dp_op.json").read_text())
    comp = dp["timemory"]["cpu_roofline_dp_flops"]
    assert comp["roofline"] == {"entries": 0, "ert": []}
    assert [g["entry"]["repr_data"][:2] for g in comp["ranks"][0]["graph"]] == [[300, 108], [0, 8]]
    wall = json.loads((tmp_path / "out" / "wall.json").read_text())
    assert len(wall["timemory"]["wall_clock"]["ranks"][0]["graph"]) == 2


def test_ctrl_c_during_ert_at_exit_keeps_every_file(tmp_path):
    """ERT runs at exit when the roofline files are written, for seconds to a minute: Ctrl-C
    then stops ERT only, and every component's files are written (without ceilings)."""
    import signal

    script = write(tmp_path / "app.py", PROGRAM.replace('"cpu_roofline_flops", ', '"wall_clock", '))
    env = clean_env(
        {
            "TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"),
            "TIMEMORY_ERT_CACHE_DIR": str(tmp_path / "ert-cache"),
            "TIMEMORY_ERT_NUM_TRIALS": "50",  # minutes of ERT: only Ctrl-C ends it in time
        }
    )
    proc = subprocess.Popen(
        [sys.executable, str(script)], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        assert "timemory ERT: measuring" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert "ERT was interrupted (KeyboardInterrupt" in err, err
    dp = json.loads((tmp_path / "out" / "cpu_roofline_dp_op.json").read_text())
    comp = dp["timemory"]["cpu_roofline_dp_flops"]
    assert comp["roofline"] == {"entries": 0, "ert": []}
    assert [g["entry"]["repr_data"][:2] for g in comp["ranks"][0]["graph"]] == [[300, 108], [0, 8]]
    assert (tmp_path / "out" / "wall.json").exists() and (
        tmp_path / "out" / "metadata.json"
    ).exists()


def test_json_units_follow_the_timing_units(tmp_path, ert_env):
    """timing_units=msec: the runtime column is in msec and the JSON says so, and the roofline
    reads the same GFLOP/s as with seconds."""
    from timemory.roofline import hotspots

    # on the fake clock: the outer region runs for 50 ms
    code = PRELUDE + textwrap.dedent(PROGRAM).replace(
        "add_work(flops=300, bytes=100)", "add_work(flops=300, bytes=100)\n    nap(0.05)"
    )
    script = write(tmp_path / "app.py", code)
    rates = []
    for units in ("sec", "msec"):
        out = tmp_path / units
        env = clean_env(
            {**ert_env, "TIMEMORY_OUTPUT_PATH": str(out), "TIMEMORY_TIMING_UNITS": units}
        )
        proc = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=180
        )
        assert proc.returncode == 0, proc.stderr
        comp = json.loads((out / "cpu_roofline_dp_op.json").read_text())
        comp = comp["timemory"]["cpu_roofline_dp_flops"]
        assert comp["unit_repr"] == ["", "", units]
        assert comp["unit_value"] == [1, 1, 1e9 if units == "sec" else 1e6]
        runtime = comp["ranks"][0]["graph"][0]["entry"]["repr_data"][2]
        assert runtime == pytest.approx(0.05 if units == "sec" else 50, rel=1e-12)
        rates.append(hotspots(comp, comp)[0]["gflops"])
    assert rates == pytest.approx([300 / 0.05 / 1e9] * 2, rel=1e-12)
