"""ERT on machines unlike this one, without such a machine: the sweep's planned work on very
large caches (counted, not timed), the clock rate from injected measurements, and ceilings
that coincide (one line, every name)."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path

import pytest
from timemory import _ert, settings
from timemory.roofline import ert
from tool_helpers import clean_env, run_tool

MiB, GiB = 1 << 20, 1 << 30


@pytest.fixture(autouse=True)
def _ert_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("TIMEMORY_ERT_CACHE_DIR", str(tmp_path / "ert-cache"))
    # the memory bound is a share of the physical memory: a fixed 16 GiB machine
    monkeypatch.setattr(ert, "_memory_bytes", lambda: 16 * GiB)
    names = ("ert_num_trials", "ert_cache_sizes", "ert_full_sweep", "ert_num_threads")
    saved = {n: getattr(settings, n) for n in names}
    yield
    for name, value in saved.items():
        setattr(settings, name, value)


def big_l3(size: int = 300 * MiB, shared: int = 64) -> list[dict[str, int]]:
    return [
        {"level": 1, "size": 48 << 10, "shared": 1},
        {"level": 2, "size": 2 * MiB, "shared": 1},
        {"level": 3, "size": size, "shared": shared},
    ]


def share(cfg) -> int:
    last = cfg["caches"][-1]
    return last["size"] // min(cfg["nthreads"], last["shared"])


# ------------------------------------------------------------------------------ the sweep


def slow_bytes(work) -> int:
    """Bytes per thread touched in working sets beyond L2: served by L3 or DRAM."""
    return work["bytes_by_level"]["l3"] + work["bytes_by_level"]["dram"]


# the bound on the largest working set, per thread, and on the memory over all threads
LIMIT, MEMORY = 1 * GiB, 16 * GiB // 4
# what the bounded sweep touches beyond L2, per thread, whatever the cache, 3 trials: the DRAM
# working set (at most LIMIT; a first-touch pass and a timed pass: 9 GiB) and DP working sets
# in the last cache up to 64 MiB (about 2.2 GiB)
SLOW_BOUND = 12 * GiB
RUNS_BOUND = 3 * (23 + 16 + 2 * 9)  # DP sizes, SP sizes, compute kernels; 3 trials


@pytest.mark.parametrize("nthreads", [1, 2, 8, 64])
def test_the_default_sweep_on_a_300_mib_last_cache_is_bounded(nthreads):
    """A VM with a 300 MiB L3 took 37 s: working sets grew to 4 x the last cache. The default
    sweep stops at a quarter of the last cache's per-thread share, then measures DRAM once at
    twice that share (DP only): what each thread touches beyond L2 is a fifth of the full
    sweep's or less."""
    cfg = ert.config(caches=big_l3(), nthreads=nthreads, trials=3)
    work = ert.planned_work(cfg)
    per_thread = share(cfg)
    assert cfg["sweep"] == "bounded" and work["note"] == ""
    sizes = {
        d: [k["working_set"] for k in ert.plan(cfg) if k["label"] == f"{d}_bandwidth"]
        for d in ("dp", "sp")
    }
    dram = work["dram"]
    assert 2 * per_thread <= dram < 2 * per_thread + (64 << 10)
    assert sizes["dp"][-1] == dram and max(sizes["dp"][:-1]) <= per_thread // 4
    assert max(sizes["sp"]) <= 2 * MiB  # the inner levels only: SP is not the ceilings
    assert work["largest_working_set"] == dram and work["data_size"] == dram * nthreads
    # the DRAM working set: 3 trials of a first-touch pass and the timed passes (each a load
    # and a store; 64 MiB per thread moved at least), no warm-up pass
    passes = max(1, (64 * MiB) // (2 * dram))
    assert work["bytes_by_level"]["dram"] == 3 * dram * (1 + 2 * passes)
    assert [k["warmup"] for k in ert.plan(cfg) if k["working_set"] == dram] == [False]
    assert slow_bytes(work) <= SLOW_BOUND and work["runs"] <= RUNS_BOUND, work
    full = ert.planned_work(
        ert.config(caches=big_l3(), nthreads=nthreads, trials=3, full_sweep=True)
    )
    assert full["largest_working_set"] >= 4 * 300 * MiB // nthreads // 2
    assert slow_bytes(full) > 5 * slow_bytes(work), (full, work)


def test_the_bound_holds_for_any_cache_size():
    """From 32 MiB to 64 GiB of last cache, one thread or many: the largest working set is at
    most 1 GiB per thread and a quarter of the memory over all threads, the work beyond L2
    bounded; past that DRAM is left out, and the note says how to ask for it."""
    for size in (32 * MiB, 300 * MiB, 512 * MiB, 1 * GiB, 4 * GiB, 64 * GiB):
        for nthreads, shared in ((1, 1), (2, 2), (8, 64), (64, 64), (256, 256)):
            cfg = ert.config(caches=big_l3(size, shared), nthreads=nthreads, trials=3)
            work = ert.planned_work(cfg)
            where = (size, nthreads, work)
            assert work["largest_working_set"] <= LIMIT, where
            assert work["data_size"] <= MEMORY, where
            assert slow_bytes(work) <= SLOW_BOUND and work["runs"] <= RUNS_BOUND, where
            if 2 * share(cfg) > min(LIMIT, MEMORY // nthreads):
                assert work["dram"] == 0 and "TIMEMORY_ERT_FULL_SWEEP=1" in work["note"], where
            else:
                assert work["dram"] >= 2 * share(cfg) and not work["note"], where


def test_a_full_sweep_or_an_explicit_size_asks_for_more():
    cfg = ert.config(caches=big_l3(), nthreads=2, full_sweep=True)
    # powers of two up to 4 x L3 / threads (600 MiB each); max_data_size: the largest in all
    assert cfg["sweep"] == "full" and ert._sizes(cfg)[-1] == 512 * MiB
    assert cfg["max_data_size"] == 2 * 512 * MiB
    explicit = ert.config(caches=big_l3(), nthreads=2, max_data_size=GiB)
    assert explicit["sweep"] == "explicit" and ert._sizes(explicit)[-1] == GiB // 2
    settings.ert_full_sweep = True
    assert ert.config(caches=big_l3())["sweep"] == "full"


def test_the_sweep_runs_what_it_planned(monkeypatch):
    """The measurement calls the kernels of the plan and nothing else: injected results long
    enough that nothing is re-run for calibration."""
    calls = []

    def fake_fma(dtype, size, reps, passes, nthreads, alignment, isa, warmup=True):
        calls.append((dtype, size, warmup, passes))
        total = 2.0 * size * passes * nthreads
        return {
            "isa": "fake",
            "working_set": size,
            "nthreads": nthreads,
            "trials": passes,
            "seconds": 0.01 + total / 50e9,
            "total_bytes": total,
            "total_ops": total / 8,
        }

    monkeypatch.setattr(_ert, "ert_fma", fake_fma)
    cfg = ert.config(caches=big_l3(), nthreads=2, trials=3)
    work = ert.planned_work(cfg)
    entries = ert._measure(cfg, progress=False)
    assert len(calls) == work["runs"] and len(entries) == work["kernels"]
    assert max(size for _, size, _, _ in calls) == work["largest_working_set"]
    touched = sum(size * (1 + 2 * warmup + 2 * passes) for _, size, warmup, passes in calls)
    assert touched == work["bytes_per_thread"]
    bandwidth = ert.ceilings(entries, cfg["caches"])["bandwidth"]
    assert set(bandwidth) == {"l1", "l2", "l3", "dram"}


def test_cache_sizes_come_from_the_setting_when_given(monkeypatch):
    settings.ert_cache_sizes = "32K, 1M, 300M:2"
    assert ert.caches() == [
        {"level": 1, "size": 32 << 10, "shared": 1},
        {"level": 2, "size": MiB, "shared": 1},
        {"level": 3, "size": 300 * MiB, "shared": 2},
    ]
    cfg = ert.config(nthreads=2)
    assert cfg["caches"][-1]["size"] == 300 * MiB
    assert ert.planned_work(cfg)["dram"] == 2 * 150 * MiB
    other = ert.config(nthreads=2, caches=big_l3())
    assert ert.cache_path(cfg) != ert.cache_path(other)  # the sizes are part of the key
    for bad in ("lots", "32K,0", "32K,1M:x", "-1M"):
        settings.ert_cache_sizes = bad
        with pytest.raises(ValueError, match="expected cache sizes innermost first"):
            ert.config()


def test_a_bad_cache_size_setting_is_one_line_with_status_2(tmp_path):
    env = clean_env({"TIMEMORY_ERT_CACHE_SIZES": "huge", "TIMEMORY_ERT_CACHE_DIR": str(tmp_path)})
    proc = run_tool("timemory.roofline.ert", env=env, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "ert_cache_sizes 'huge'" in lines[0], proc.stderr


def test_a_300_mib_cache_sweep_through_the_command_line(tmp_path):
    """TIMEMORY_ERT_CACHE_SIZES reaches a fresh process's plan (planned, not run)."""
    code = (
        "import json; from timemory.roofline import ert; "
        "cfg = ert.config(); print(json.dumps([cfg['caches'], ert.planned_work(cfg)]))"
    )
    env = clean_env({"TIMEMORY_ERT_CACHE_SIZES": "48K,2M,300M:2", "TIMEMORY_ERT_NUM_THREADS": "2"})
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    caches, work = json.loads(proc.stdout.strip().splitlines()[-1])
    assert caches[-1] == {"level": 3, "size": 300 * MiB, "shared": 2}
    assert work["sweep"] == "bounded" and work["dram"] == 300 * MiB


# ------------------------------------------------------------------------------ the clock


def test_an_honest_add_chain_is_the_clock():
    clock = ert.pick_clock_rate(3.69e9, 1.23e9, 0.0, 2.596e9)
    assert clock["hz"] == 3.69e9 and clock["source"] == "add chain" and clock["note"] == ""
    assert clock["measurements"]["multiply_chain_hz"] == pytest.approx(3.69e9)


def test_adds_folded_at_rename_fall_back_to_the_multiply_chain():
    """Intel cores since Golden Cove fold add-immediate chains at rename, up to 5 per cycle:
    on a 300 MiB-L3 VM the add chain read 11-15 GHz. The multiply chain (3 cycles each)
    gives the clock instead, and the note says why."""
    clock = ert.pick_clock_rate(13.2e9, 1.27e9, 0.0, 2.1e9)
    assert clock["source"] == "multiply chain"
    assert clock["hz"] == pytest.approx(3.81e9) and "add chain" in clock["note"]
    # plausible but 10x the multiply chain's rate: the one nearer the nominal rate wins
    clock = ert.pick_clock_rate(6.0e9, 0.6e9, 0.0, 2.0e9)
    assert clock["source"] == "multiply chain" and clock["hz"] == pytest.approx(1.8e9)
    # an in-order core with a slow multiplier (13 cycles): the add chain, nearer nominal
    clock = ert.pick_clock_rate(1.6e9, 1.6e9 / 13, 0.0, 1.6e9)
    assert clock["source"] == "add chain" and clock["hz"] == 1.6e9 and clock["note"]


def test_without_a_plausible_measurement_sysfs_then_cpuinfo_then_none():
    assert ert.pick_clock_rate(0, 0, 3.5e9, 2.4e9)["source"] == "sysfs cpufreq"
    clock = ert.pick_clock_rate(0, 0, 0, 2.4e9)
    assert clock["source"] == "/proc/cpuinfo" and clock["hz"] == 2.4e9
    clock = ert.pick_clock_rate(40e9, 40e9, 0, 0)
    assert clock["hz"] == 0 and clock["source"] == "none" and "no plausible" in clock["note"]


def test_the_clock_rate_is_never_impossible():
    rng = random.Random(21)
    low, high = ert.PLAUSIBLE_HZ
    for _ in range(2000):
        values = [rng.choice([0.0, math.nan, math.inf, 10 ** rng.uniform(6, 11)]) for _ in range(4)]
        clock = ert.pick_clock_rate(*values)
        assert clock["hz"] == 0 or low <= clock["hz"] <= high, (values, clock)
        assert clock["source"] in (
            "add chain",
            "multiply chain",
            "sysfs cpufreq",
            "/proc/cpuinfo",
            "none",
        )


def test_measured_clock_and_theoretical_peak_use_the_checked_rate(monkeypatch):
    rates = {"add": 14.0e9, "imul": 1.25e9}
    monkeypatch.setattr(_ert, "ert_chain", lambda kind, seconds=0.05: rates[kind])
    monkeypatch.setattr(ert, "_sysfs_max_hz", lambda: 0.0)
    monkeypatch.setattr(ert, "_nominal_hz", lambda: 2.0e9)
    clock = ert.clock_rate()
    assert clock["source"] == "multiply chain" and clock["hz"] == pytest.approx(3.75e9)
    peak = ert.theoretical_peak("dp", "scalar", nthreads=1)
    assert peak["hz"] == pytest.approx(3.75e9) and peak["hz_source"] == "multiply chain"
    settings.ert_num_threads = 1
    data = ert.run(cache=False, progress=False, max_data_size=1 << 16, dtypes=["dp"])
    machine = data["machine"]
    assert machine["frequency_hz"] == pytest.approx(3.75e9)
    assert machine["frequency_source"] == "multiply chain" and machine["frequency_note"]
    assert any(line.startswith("  clock: 3.75 GHz (multiply chain)") for line in ert.summary(data))


def test_native_chains():
    assert _ert.ert_chain("add", 0.01) >= 0 and _ert.ert_chain("imul", 0.01) >= 0
    with pytest.raises(ValueError, match="Valid choices are: add, imul"):
        _ert.ert_chain("div", 0.01)


# ------------------------------------------------------------------------------ ceilings


def test_coinciding_ceilings_are_grouped():
    assert ert.coinciding({"l1": 210.0, "l2": 205.0, "l3": 110.0, "dram": 20.0}) == [
        (["l1", "l2"], 210.0),
        (["l3"], 110.0),
        (["dram"], 20.0),
    ]
    # a group spans at most COINCIDE from its largest: no chain of small steps
    groups = ert.coinciding({"l1": 100.0, "l2": 96.0, "l3": 92.0, "dram": 0.0})
    assert groups == [(["l1", "l2"], 100.0), (["l3"], 92.0)]
    assert ert.coinciding({"dp": 50.0, "sp": 50.0}) == [(["dp", "sp"], 50.0)]


def test_the_text_names_every_level_of_a_shared_line():
    entries = []
    caches = big_l3(32 * MiB, 1)
    data = {
        "key": {"nthreads": 1},
        "machine": {
            "cpu": "Test CPU",
            "isa": "avx2",
            "frequency_hz": 3.2e9,
            "frequency_source": "add chain",
        },
        "ceilings": {
            "peak": {"dp": 50.0, "sp": 100.0},
            "bandwidth": {"l1": 210.0, "l2": 110.0, "l3": 110.0, "dram": 20.0},
            "bandwidth_measured": {"l1": 210.0, "l2": 90.0, "l3": 110.0, "dram": 20.0},
        },
        "ert": entries,
        "cached": False,
        "seconds": 1.0,
        "path": "",
        "caches": caches,
    }
    lines = ert.summary(data)
    assert "  L2 = L3 bandwidth: 110.0 GB/s (L2 measured 90.0, below an outer level)" in lines
    assert "  L1 bandwidth: 210.0 GB/s" in lines and "  DRAM bandwidth: 20.0 GB/s" in lines
    assert "  peak DP: 50.0 GFLOP/s" in lines and "  peak SP: 100.0 GFLOP/s" in lines
    assert not any(line.startswith("  L2 bandwidth") for line in lines)


def _roofline_file(path, peak, bandwidth):
    """A flat roofline file with one region and made-up ceilings."""
    entry = {"prefix": ">>> a", "entry": {"laps": 1, "repr_data": [1e9, 1e8, 0.5]}}
    component = {
        "type": ["flops", "bytes", "runtime"],
        "roofline": {"entries": 0, "ert": [], "ceilings": {"peak": peak, "bandwidth": bandwidth}},
        "ranks": [{"rank": 0, "graph": [entry]}],
    }
    path.write_text(json.dumps({"timemory": {"cpu_roofline_flops": component}}))
    return path


def test_the_plot_draws_coinciding_ceilings_as_one_labelled_line(tmp_path):
    pytest.importorskip("matplotlib")
    from timemory.roofline import plot_roofline

    data = _roofline_file(
        tmp_path / "r.json",
        {"dp": 50.0, "sp": 51.0},  # the scalar kernels: SP no faster than DP
        {"l1": 200.0, "l2": 200.0, "l3": 110.0, "dram": 20.0},
    )
    path = plot_roofline(
        str(data),
        str(data),
        ["dram", "l1", "l2", "l3"],
        rtype="cpu_roofline",
        image_type="svg",
        output_dir=str(tmp_path),
        fname="rl",
        width=800,
        height=600,
    )
    svg = Path(path).read_text()
    assert svg.count(">L1 = L2: 200 GB/s<") == 1 and ">L1: " not in svg and ">L2: " not in svg
    assert "L3: 110 GB/s" in svg and "DRAM: 20 GB/s" in svg
    assert svg.count(">DP = SP peak: 51 GFLOP/s<") == 1 and ">DP peak" not in svg
    # apart by more than COINCIDE: a line and a label each
    apart = _roofline_file(
        tmp_path / "apart.json",
        {"dp": 50.0, "sp": 100.0},
        {"l1": 200.0, "l2": 150.0, "l3": 110.0, "dram": 20.0},
    )
    svg_apart = Path(
        plot_roofline(
            str(apart),
            str(apart),
            ["l1", "l2", "l3", "dram"],
            rtype="cpu_roofline",
            image_type="svg",
            output_dir=str(tmp_path),
            fname="apart",
            width=800,
            height=600,
        )
    ).read_text()
    for label in ("L1: 200", "L2: 150", "L3: 110", "DRAM: 20", "DP peak: 50", "SP peak: 100"):
        assert svg_apart.count(label) == 1, label
