"""The empirical roofline toolkit (ERT): this machine's peak FLOP rate and the bandwidth of
each memory level, measured by native kernels (``source/timemory/ert/``)::

    from timemory.roofline import ert
    data = ert.run()                        # cached per machine and settings
    data["ceilings"]["peak"]["dp"]          # GFLOP/s, every thread
    data["ceilings"]["bandwidth"]["dram"]   # GB/s

Two sweeps per data type (``dp``, ``sp``), every thread at once, one buffer per thread:

* bandwidth: working sets per thread doubling from ``ert_min_working_size(_cpu)``; each element
  is loaded, gets one FMA (2 FLOPs) and is stored. By default the sweep is bounded whatever the
  cache sizes (a few seconds): the doubling stops at a quarter of the last cache's per-thread
  share (the largest working set that level's bandwidth is read from) or 64 MiB, and one more
  working set, twice that share, measures DRAM (first data type only: the bandwidth ceilings
  come from it; the other data type stays within the inner levels). Working sets are bounded
  (``_DRAM_LIMIT`` bytes per thread, ``_MEMORY_SHARE`` of the memory): a cache too large for
  the DRAM one leaves DRAM out, with a note saying how to ask for it. ``ert_full_sweep``
  doubles to 4 x the last cache instead (the sweep of timemory before, 37 s on a VM with a
  300 MiB L3), as does an explicit ``ert_max_data_size``. Each thread's buffers are kept
  from one measurement to the next, so a working set's page faults are paid once, not once
  per trial;
* compute: a working set that fits in L1, with 2, 4, ..., 512 FLOPs per element (one FMA
  chain per vector lane, enough independent vectors to hide the FMA latency).

Memory levels come from the cache sizes (:func:`caches`: sysfs, or ``ert_cache_sizes``): a
level's bandwidth is the best measured over the working sets that fit in it with a margin (at
most a quarter of its per-thread share, or half where no working set is that small; at least
twice the level below); DRAM's over the working sets at least twice the last cache.
Without cache sizes the levels are the plateaus of the bandwidth curve (drops of more than 25%).

The clock rate (:func:`clock_rate`) is measured with chains of dependent register additions
(one cycle each) checked against dependent multiplications, and never reported outside
``PLAUSIBLE_HZ``; the machine block says which source gave it.

Settings (``TIMEMORY_ERT_*``):

* ``ert_num_threads``: 0 means ``TIMEMORY_ROOFLINE_NUM_THREADS`` (``timemory-roofline -n``
  sets it), else ``ert_num_threads_cpu`` (the hardware threads);
* ``ert_min_working_size`` / ``_cpu``: bytes per thread;
* ``ert_max_data_size`` / ``_cpu``: bytes over all threads, every power of two up to it
  measured; 0 means the bounded sweep above;
* ``ert_full_sweep``: working sets up to 4 x the last cache level (at least 64 MiB), however
  long that takes;
* ``ert_cache_sizes``: the cache sizes to plan for instead of sysfs's, innermost first
  (``"48K,2M,300M"``, each optionally ``:N``, the CPUs sharing it);
* ``ert_alignment``: 0 means 64;
* ``ert_skip_ops``: FLOPs-per-element counts the compute sweep skips, e.g. ``"2,4"``;
* ``ert_num_trials``: runs of each measurement, the fastest kept (one round of the whole
  sweep per trial, so a busy moment slows one run of many kernels); 0 means 3;
* ``TIMEMORY_ERT_ISA``: a kernel set (``auto``, ``avx512``, ``avx2``, ``generic``, ``scalar``).

Results are cached as JSON in ``$TIMEMORY_ERT_CACHE_DIR`` or ``$XDG_CACHE_HOME/timemory/ert``
(``~/.cache/timemory/ert``), one file per CPU model, thread count, settings and timemory
version. A progress bar goes to stderr while it measures.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = [
    "COINCIDE",
    "FORMAT_VERSION",
    "LEVELS",
    "PLAUSIBLE_HZ",
    "cache_dir",
    "cache_levels",
    "cache_path",
    "caches",
    "ceilings",
    "clock_rate",
    "coinciding",
    "config",
    "cpu_model",
    "physical_cores",
    "pick_clock_rate",
    "plan",
    "planned_work",
    "run",
    "summary",
    "theoretical_peak",
]

#: Version of the cached JSON's layout; part of the cache key.
FORMAT_VERSION = 2
#: Memory level names, fastest first.
LEVELS = ("l1", "l2", "l3", "dram")

_DTYPE_BYTES = {"dp": 8, "sp": 4}
_COMPUTE_OPS = (2, 4, 8, 16, 32, 64, 128, 256, 512)  # FLOPs per element (2 per FMA)
_TARGET_BYTES = 64 << 20  # bytes moved per thread per bandwidth measurement
_TARGET_OPS = 2e8  # FLOPs per thread per compute measurement
_DEFAULT_TRIALS = 3
# shortest timed run: shorter ones (a few thousand passes over a working set in L1 take a
# fraction of a millisecond) are mostly thread start-up, barrier and clock noise
_MIN_SECONDS = 0.004
# The bounded sweep's DRAM working set: twice the last cache's per-thread share (ceilings()
# takes DRAM's figure from working sets at least that large), at most _DRAM_LIMIT bytes per
# thread (its runs touch it about 5 times each: first touch, warm-up, timed pass) and
# _MEMORY_SHARE of the memory over all threads.
_DRAM_FACTOR = 2
_DRAM_LIMIT = 1 << 30
_MEMORY_SHARE = 0.25
_DRAM_ROUND = 64 << 10
# The bounded sweep's largest working set read for a cache level (a quarter of its share at
# most): far enough from the level below (twice its share; x86 L2s hold a few MiB per core)
# without streaming hundreds of MiB through a very large L3 three times per data type.
_CACHE_SET_LIMIT = 64 << 20
_FALLBACK_LAST_CACHE = 32 << 20  # last cache level assumed without cache sizes
_MIN_DRAM_DATA = 64 << 20  # over all threads, as the sweep always had


# ------------------------------------------------------------------------------ the machine


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (the machine type without it), as the run's
    metadata records it."""
    from .. import _machine

    return str(_machine.cpu_info()["CPU_MODEL"])


def _parse_size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(text.rstrip("KMG")) * scale


def _cpu_count(cpu_list: str) -> int:
    count = 0
    for part in cpu_list.strip().split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        count += int(last or first) - int(first) + 1
    return count


def cache_levels(root: str = "/sys/devices/system/cpu/cpu0/cache") -> list[dict[str, int]]:
    """Data and unified caches of cpu0 from sysfs, innermost first: ``[{"level": 1, "size":
    32768, "shared": 1}, ...]`` (``shared``: CPUs sharing one instance). Empty without sysfs."""
    levels: dict[int, dict[str, int]] = {}
    try:
        names = sorted(n for n in os.listdir(root) if n.startswith("index"))
    except OSError:
        return []
    for name in names:
        folder = os.path.join(root, name)

        def read(item: str, folder: str = folder) -> str:
            with open(os.path.join(folder, item), encoding="utf-8") as handle:
                return handle.read().strip()

        try:
            if read("type") == "Instruction":
                continue
            level, size = int(read("level")), _parse_size(read("size"))
            try:
                shared = max(_cpu_count(read("shared_cpu_list")), 1)
            except (OSError, ValueError):
                shared = 1
        except (OSError, ValueError):
            continue
        levels[level] = {"level": level, "size": size, "shared": shared}
    return [levels[k] for k in sorted(levels)]


def _parse_cache_sizes(text: str) -> list[dict[str, int]]:
    """``ert_cache_sizes``: sizes innermost first, each optionally ``:CPUs sharing it``
    (default: 1 for the inner levels, every CPU for the last of two or more)."""
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    out = []
    for i, part in enumerate(parts):
        size_text, _, shared_text = part.partition(":")
        try:
            size = _parse_size(size_text)
            last = i == len(parts) - 1 and len(parts) > 1
            shared = (
                int(shared_text) if shared_text.strip() else (os.cpu_count() or 1) if last else 1
            )
        except ValueError:
            size, shared = 0, 0
        if size < 1 or shared < 1:
            raise ValueError(
                f"ert_cache_sizes {text!r}: expected cache sizes innermost first, each "
                "optionally :CPUs sharing it, e.g. 48K,2M,300M or 48K,2M,300M:64"
            )
        out.append({"level": i + 1, "size": size, "shared": shared})
    return out


def caches() -> list[dict[str, int]]:
    """The cache levels ERT plans for and reads its levels with: ``ert_cache_sizes`` when set
    (``TIMEMORY_ERT_CACHE_SIZES``, e.g. ``"48K,2M,300M:64"``), else :func:`cache_levels`.
    ``ValueError`` naming the format for a setting that is not one."""
    from .. import settings

    text = str(settings.ert_cache_sizes or "").strip()
    return _parse_cache_sizes(text) if text else cache_levels()


_configured_caches = caches  # for functions whose `caches` parameter hides the function


def physical_cores() -> int:
    """Cores (not hardware threads), as the run's metadata records them (``HW_PHYSICAL_CPU``):
    distinct (package, core) pairs in sysfs, else in /proc/cpuinfo, else os.cpu_count()."""
    from .. import _machine

    return int(_machine.cpu_info()["HW_PHYSICAL_CPU"])


def _nominal_hz() -> float:
    """The 'cpu MHz' of /proc/cpuinfo (a VM shows the nominal rate there), or 0."""
    from .. import _machine

    return float(_machine.cpu_info()["CPU_FREQUENCY"]) * 1e6


def _sysfs_max_hz(root: str = "/sys/devices/system/cpu/cpu0/cpufreq") -> float:
    """cpufreq's ``cpuinfo_max_freq`` (kHz in sysfs) in Hz, or 0 where there is none (most
    VMs)."""
    try:
        with open(os.path.join(root, "cpuinfo_max_freq"), encoding="utf-8") as handle:
            return float(handle.read().strip()) * 1e3
    except (OSError, ValueError):
        return 0.0


#: Clock rates (Hz) a core can run at; a figure outside is a failed measurement, never
#: reported (the fastest shipping cores boost to about 6.2 GHz).
PLAUSIBLE_HZ = (1e8, 7e9)
# add reg, reg takes 1 cycle, imul reg, reg 3 on current x86-64 cores and up to 6 on older or
# smaller ones: an honest add chain runs 1-6.5x as fast as the multiply chain.
_CHAIN_RATIO = 6.5
_IMUL_CYCLES = 3


def pick_clock_rate(
    add_per_s: float, imul_per_s: float, sysfs_hz: float = 0.0, cpuinfo_hz: float = 0.0
) -> dict[str, Any]:
    """The clock rate from its measurements: ``add_per_s`` and ``imul_per_s`` (dependent
    chains, operations per second; 0 for none), cpufreq's maximum and /proc/cpuinfo's rate
    (Hz; 0 for none). The add chain (1 cycle per add) is used when it is plausible and
    agrees with the multiply chain; otherwise the multiply chain (3 cycles per multiply,
    the current cores' latency), else sysfs, else /proc/cpuinfo. A rate outside
    :data:`PLAUSIBLE_HZ` is never chosen. Returns ``{"hz" (0: none), "source" ("add chain",
    "multiply chain", "sysfs cpufreq", "/proc/cpuinfo", "none"), "note" ("" or why the
    first choice was not used), "measurements": {the four inputs in Hz}}``."""
    low, high = PLAUSIBLE_HZ

    def plausible(hz: float) -> bool:
        return low <= hz <= high  # NaN fails too

    def ghz(hz: float) -> str:
        return f"{hz / 1e9:.3g} GHz"

    add, mul = float(add_per_s), float(imul_per_s) * _IMUL_CYCLES
    nominal = next((hz for hz in (sysfs_hz, cpuinfo_hz) if plausible(hz)), 0.0)
    measurements = {
        "add_chain_hz": add,
        "multiply_chain_hz": mul,
        "sysfs_max_hz": float(sysfs_hz),
        "cpuinfo_hz": float(cpuinfo_hz),
    }
    ratio = add / imul_per_s if imul_per_s > 0 else 0.0
    agree = imul_per_s <= 0 or ratio <= _CHAIN_RATIO
    note = ""
    if plausible(add) and agree:
        return {"hz": add, "source": "add chain", "note": "", "measurements": measurements}
    if plausible(add) and plausible(mul) and nominal:
        # both plausible yet apart: an in-order core with a slow multiplier, or adds folded
        # at rename; the one nearer the nominal rate is the clock
        if abs(math.log(add / nominal)) < abs(math.log(mul / nominal)):
            note = (
                f"the add chain ({ghz(add)}) ran {ratio:.3g}x the multiply chain: "
                f"kept, being nearer the nominal {ghz(nominal)}"
            )
            return {"hz": add, "source": "add chain", "note": note, "measurements": measurements}
    if add > 0:
        note = f"the add chain gave {ghz(add)}, " + (
            f"{ratio:.3g}x the multiply chain's rate (at most {_CHAIN_RATIO} if each add "
            "took a cycle)"
            if not agree
            else f"outside {ghz(low)}-{ghz(high)}"
        )
    else:
        note = "no add chain measurement on this architecture"
    if plausible(mul):
        return {
            "hz": mul,
            "source": "multiply chain",
            "note": note + f"; {_IMUL_CYCLES} cycles per multiply used instead",
            "measurements": measurements,
        }
    for hz, source in ((sysfs_hz, "sysfs cpufreq"), (cpuinfo_hz, "/proc/cpuinfo")):
        if plausible(hz):
            return {
                "hz": float(hz),
                "source": source,
                "note": note + f"; {source}'s rate used instead",
                "measurements": measurements,
            }
    return {
        "hz": 0.0,
        "source": "none",
        "note": note + "; no plausible clock rate",
        "measurements": measurements,
    }


def clock_rate(seconds: float = 0.1) -> dict[str, Any]:
    """This core's clock rate, measured on the calling thread over about ``seconds``: a chain
    of dependent ``add reg, reg`` (1 cycle each; ``add reg, imm``, which the kernels had
    used, is folded at rename by Intel cores since Golden Cove, up to 5 per cycle, which read
    11-15 GHz) checked against a chain of dependent multiplications, with sysfs cpufreq and
    /proc/cpuinfo as fall-backs: see :func:`pick_clock_rate` for the result."""
    from .. import _ert

    add = float(_ert.ert_chain("add", seconds / 2))
    mul = float(_ert.ert_chain("imul", seconds / 2))
    return pick_clock_rate(add, mul, _sysfs_max_hz(), _nominal_hz())


#: Vector width in bits of each ERT kernel set.
_ISA_BITS = {"avx512": 512, "avx2": 256, "generic": 128, "scalar": 64}


def theoretical_peak(dtype: str = "dp", isa: str = "auto", nthreads: int | None = None) -> dict:
    """The peak FLOP rate the hardware allows, as an upper bound, with its assumptions:
    lanes (vector bits / element bits) x 2 FLOPs per FMA x 2 FMA pipes per core (Intel since
    Haswell, AMD since Zen 2; an overestimate for CPUs with one, e.g. some AVX-512 Xeons, and
    for Zen 4, which splits 512-bit FMAs) x cores used (min(threads, physical cores)) x clock
    rate (the larger of :func:`clock_rate` and /proc/cpuinfo's 'cpu MHz', each only when
    plausible). The ``generic`` kernels have no FMA: mul + add, the same FLOPs per pipe pair.
    Returns ``{"gflops", "lanes", "fma_units", "cores", "hz", "measured_hz", "nominal_hz",
    "hz_source", "isa"}``."""
    from .. import _ert

    isa = _ert.ert_resolve_isa(isa)
    lanes = max(_ISA_BITS.get(isa, 64) // (8 * _DTYPE_BYTES[dtype]), 1)
    threads = nthreads or config()["nthreads"]
    cores = max(min(int(threads), physical_cores()), 1)
    clock, nominal = clock_rate(0.1), _nominal_hz()
    measured = clock["hz"]
    if not PLAUSIBLE_HZ[0] <= nominal <= PLAUSIBLE_HZ[1]:
        nominal = 0.0
    hz = max(measured, nominal)
    fma_units = 2
    gflops = lanes * 2 * fma_units * cores * hz / 1e9
    return {
        "gflops": gflops,
        "lanes": lanes,
        "fma_units": fma_units,
        "cores": cores,
        "hz": hz,
        "measured_hz": measured,
        "nominal_hz": nominal,
        "hz_source": clock["source"] if measured >= nominal else "/proc/cpuinfo",
        "isa": isa,
    }


# ------------------------------------------------------------------------------ settings


def _setting(name: str) -> int:
    from .. import settings

    return int(getattr(settings, name))


def config(**overrides: Any) -> dict[str, Any]:
    """The effective ERT parameters from the settings (``TIMEMORY_ERT_*``), with
    ``overrides`` (same keys) applied: ``nthreads``, ``min_working_size`` (bytes per thread),
    ``max_data_size`` (bytes, all threads: the largest working sets the sweep plans),
    ``alignment``, ``skip_ops`` (list of ints), ``trials``, ``isa``, ``dtypes``, ``caches``
    (:func:`caches`), ``full_sweep`` and ``sweep``: ``"bounded"`` (the default), ``"full"``
    (``ert_full_sweep``) or ``"explicit"`` (a ``max_data_size`` was given)."""
    from .. import _text, settings

    explicit_max = _setting("ert_max_data_size") or _setting("ert_max_data_size_cpu")
    cfg: dict[str, Any] = {
        "nthreads": _setting("ert_num_threads")
        or int(os.environ.get("TIMEMORY_ROOFLINE_NUM_THREADS") or 0)  # timemory-roofline -n
        or _setting("ert_num_threads_cpu")
        or 1,
        "min_working_size": _setting("ert_min_working_size")
        or _setting("ert_min_working_size_cpu")
        or 64,
        "max_data_size": explicit_max,
        "alignment": _setting("ert_alignment"),
        "skip_ops": sorted(
            {int(x) for x in str(settings.ert_skip_ops).replace(",", " ").split() if x.strip()}
        ),
        "trials": _setting("ert_num_trials") or _DEFAULT_TRIALS,
        "isa": os.environ.get("TIMEMORY_ERT_ISA", "auto") or "auto",
        "dtypes": ["dp", "sp"],
        "caches": None,
        "full_sweep": _text.parse_bool(settings.ert_full_sweep),
    }
    unknown = set(overrides) - set(cfg) - {"sweep"}
    if unknown or "sweep" in overrides:
        raise ValueError(
            f"unknown ERT parameter(s) {sorted(unknown | ({'sweep'} & set(overrides)))}. "
            "Valid choices are: " + ", ".join(sorted(cfg))
        )
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    if cfg["caches"] is None:
        cfg["caches"] = caches()
    cfg["caches"] = [
        {"level": int(c["level"]), "size": int(c["size"]), "shared": int(c.get("shared", 1))}
        for c in cfg["caches"]
    ]
    for dtype in cfg["dtypes"]:
        if dtype not in _DTYPE_BYTES:
            raise ValueError(f"unknown ERT data type {dtype!r}. Valid choices are: dp, sp")
    for key in ("nthreads", "trials", "min_working_size"):
        if int(cfg[key]) < 1:
            raise ValueError(f"ERT {key} must be at least 1 (got {cfg[key]!r})")
    if cfg["max_data_size"]:
        if int(cfg["max_data_size"]) < 1:
            raise ValueError(f"ERT max_data_size must be at least 1 (got {cfg['max_data_size']!r})")
        cfg["sweep"] = "explicit"
    else:
        cfg["sweep"] = "full" if cfg["full_sweep"] else "bounded"
        cfg["max_data_size"] = _sizes(cfg)[-1] * int(cfg["nthreads"])
    return cfg


# ------------------------------------------------------------------------------ the cache


def cache_dir() -> str:
    """Folder of the cached results."""
    explicit = os.environ.get("TIMEMORY_ERT_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "timemory", "ert")


def _key(cfg: dict[str, Any], isa: str) -> dict[str, Any]:
    from .. import _core

    return {
        "format": FORMAT_VERSION,
        "timemory": _core.build_info["version"],
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        **{k: v for k, v in cfg.items() if k != "isa"},
        "isa": isa,
    }


def cache_path(cfg: dict[str, Any] | None = None) -> str:
    """Path of the cached result for ``cfg`` (default: :func:`config`)."""
    import hashlib

    from .. import _ert

    cfg = cfg or config()
    key = _key(cfg, _ert.ert_resolve_isa(cfg["isa"]))
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return os.path.join(cache_dir(), f"ert-{digest}.json")


# ------------------------------------------------------------------------------ measuring


class _Progress:
    """A bar on stderr: redrawn in place on a terminal, a start and an end line otherwise."""

    def __init__(self, total: int, enabled: bool, what: str) -> None:
        self.total, self.done, self.enabled = max(total, 1), 0, enabled
        self.tty = enabled and sys.stderr.isatty()
        self.start = time.monotonic()
        if enabled and not self.tty:
            print(f"timemory ERT: measuring {what} ...", file=sys.stderr, flush=True)

    def step(self, what: str) -> None:
        self.done += 1
        if self.tty:
            width = 30
            filled = width * self.done // self.total
            bar = "#" * filled + "." * (width - filled)
            percent = 100 * self.done // self.total
            sys.stderr.write(f"\rtimemory ERT [{bar}] {percent:3d}% {what:<28.28}")
            sys.stderr.flush()

    def close(self, note: str) -> None:
        if not self.enabled:
            return
        seconds = time.monotonic() - self.start
        if self.tty:
            sys.stderr.write("\r" + " " * 78 + "\r")
        print(f"timemory ERT: done in {seconds:.1f} s; {note}", file=sys.stderr, flush=True)


def _human(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if nbytes < 1024 or unit == "GiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.4g} {unit}"
        nbytes /= 1024
    return f"{nbytes} B"


def _memory_bytes() -> int:
    """Physical memory in bytes, 0 if unknown."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (OSError, ValueError, AttributeError):
        return 0


def _last_share(cfg: dict[str, Any]) -> int:
    """Bytes of the last cache level per measuring thread."""
    nthreads = int(cfg["nthreads"])
    if not cfg["caches"]:
        return _FALLBACK_LAST_CACHE // nthreads
    last = cfg["caches"][-1]
    return int(last["size"]) // max(min(nthreads, int(last["shared"])), 1)


def _limit(cfg: dict[str, Any]) -> int:
    """The bounded sweep's largest working set per thread: ``_DRAM_LIMIT``, and
    ``_MEMORY_SHARE`` of the memory over all threads."""
    memory = _memory_bytes()
    if not memory:
        return _DRAM_LIMIT
    return min(_DRAM_LIMIT, int(memory * _MEMORY_SHARE) // int(cfg["nthreads"]))


def _dram_size(cfg: dict[str, Any]) -> tuple[int, str]:
    """``(bytes per thread, note)``: the bounded sweep's DRAM working set, twice the last
    cache's per-thread share (64 MiB over all threads at least), rounded up to 64 KiB; 0 and
    the reason when that is more than :func:`_limit`."""
    nthreads = int(cfg["nthreads"])
    share = _last_share(cfg)
    want = max(_DRAM_FACTOR * share, -(-_MIN_DRAM_DATA // nthreads), int(cfg["min_working_size"]))
    want = -(-want // _DRAM_ROUND) * _DRAM_ROUND
    limit = _limit(cfg)
    if want <= limit:
        return want, ""
    return 0, (
        f"DRAM not measured: it needs working sets of {_human(want)} per thread (twice the last "
        f"cache's share), more than the bounded sweep's {_human(limit)}; "
        "TIMEMORY_ERT_FULL_SWEEP=1 or TIMEMORY_ERT_MAX_DATA_SIZE=<bytes> measures it, taking longer"
    )


def _powers(low: int, high: int) -> list[int]:
    """Powers of two from the first >= ``low`` to ``high``."""
    size, out = 1, []
    while size < low:
        size *= 2
    while size <= high:
        out.append(size)
        size *= 2
    return out


def _sizes(cfg: dict[str, Any], dtype: str | None = None) -> list[int]:
    """Working sets per thread of ``dtype``'s bandwidth sweep (default: the first data type,
    whose sweep gives the bandwidth ceilings). Explicit and full sweeps: powers of two from
    the minimum to the maximum data size / nthreads (full: 4 x the last cache, at least
    64 MiB). Bounded: powers of two up to a quarter of the last cache's per-thread share
    (ceilings() reads a level's bandwidth from working sets of at most a quarter of its
    share), 64 MiB and a quarter of :func:`_limit`, then the DRAM working set
    (:func:`_dram_size`), for the
    first data type; the others, whose bandwidths are not the ceilings, stop at the share of
    the level before the last."""
    low, nthreads = int(cfg["min_working_size"]), int(cfg["nthreads"])
    sweep = cfg.get("sweep", "bounded")
    if sweep in ("explicit", "full"):
        total = int(cfg["max_data_size"]) if sweep == "explicit" else 0
        if not total:
            last = cfg["caches"][-1]["size"] if cfg["caches"] else _FALLBACK_LAST_CACHE
            total = max(4 * last, _MIN_DRAM_DATA)
        top = max(total // nthreads, low)
        return _powers(low, top) or [top]
    first = dtype in (None, cfg["dtypes"][0])
    top = min(_last_share(cfg) // 4, _CACHE_SET_LIMIT, _limit(cfg) // 4)
    if not first and len(cfg["caches"]) > 1:  # the inner levels only: SP is not the ceilings
        inner = cfg["caches"][-2]
        top = min(top, int(inner["size"]) // max(min(nthreads, int(inner["shared"])), 1))
    out = _powers(low, top)
    dram, _ = _dram_size(cfg)
    if dram and first:
        out = [s for s in out if s < dram] + [dram]
    return out or [low]


def plan(cfg: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The kernels of one round of the sweep for ``cfg`` (default: :func:`config`), in
    order: ``{"label", "dtype", "ops" (FLOPs per element), "working_set" (bytes per thread),
    "passes" (first guess; runs shorter than a few ms get more), "warmup" (an untimed pass
    first; not for the bounded sweep's DRAM working set, which no cache keeps and whose
    first-touch pass has run the core busy already)}``."""
    cfg = cfg or config()
    dram = _dram_size(cfg)[0] if cfg["sweep"] == "bounded" else 0
    ops_list = [n for n in _COMPUTE_OPS if n not in cfg["skip_ops"]]
    l1 = cfg["caches"][0]["size"] if cfg["caches"] else 32 << 10
    compute_ws = max(min(l1 // 2, 16 << 10), 1024)
    out = []
    for dtype in cfg["dtypes"]:
        for size in _sizes(cfg, dtype):
            out.append(
                {
                    "label": f"{dtype}_bandwidth",
                    "dtype": dtype,
                    "ops": 2,
                    "working_set": size,
                    "passes": max(1, _TARGET_BYTES // (2 * size)),
                    "warmup": size != dram,
                }
            )
        elements = compute_ws // _DTYPE_BYTES[dtype]
        for ops in ops_list:
            out.append(
                {
                    "label": f"{dtype}_fma_{ops}",
                    "dtype": dtype,
                    "ops": ops,
                    "working_set": compute_ws,
                    "passes": max(1, int(_TARGET_OPS // (ops * elements))),
                    "warmup": True,
                }
            )
    return out


def planned_work(cfg: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the sweep for ``cfg`` will do, counted, not timed: ``{"sweep", "kernels",
    "runs" (kernels x trials), "largest_working_set" (bytes per thread), "data_size" (the
    largest over all threads), "bytes_per_thread" (memory one thread touches over all runs:
    first touch, warm-up pass if any and timed passes, each pass a load and a store),
    "bytes_by_level" (the same by the level that holds the working set: the first cache whose
    per-thread share it fits in, else "dram"), "dram"
    (bytes per thread of the DRAM working set; 0: none), "note"}``. The threads run at once,
    so the time follows the bytes per thread; a run shorter than a few milliseconds gets
    more passes (at most about 6 ms more each)."""
    cfg = cfg or config()
    kernels = plan(cfg)
    trials = max(int(cfg["trials"]), 1)
    nthreads = int(cfg["nthreads"])
    shares = [
        (f"l{c['level']}", int(c["size"]) // max(min(nthreads, int(c["shared"])), 1))
        for c in cfg["caches"]
    ]
    by_level = {name: 0 for name, _ in shares}
    by_level["dram"] = 0
    for k in kernels:
        level = next((name for name, share in shares if k["working_set"] <= share), "dram")
        passes = 1 + 2 * k["warmup"] + 2 * k["passes"]  # first touch, warm-up, timed
        by_level[level] += k["working_set"] * passes * trials
    largest = max(k["working_set"] for k in kernels)
    dram, note = _dram_size(cfg) if cfg["sweep"] == "bounded" else (0, "")
    return {
        "sweep": cfg["sweep"],
        "kernels": len(kernels),
        "runs": len(kernels) * trials,
        "largest_working_set": largest,
        "data_size": largest * int(cfg["nthreads"]),
        "bytes_per_thread": sum(by_level.values()),
        "bytes_by_level": by_level,
        "dram": dram,
        "note": note,
    }


def _entry(
    m: dict[str, Any], label: str, dtype: str, ops_per_elem: int, cfg: dict[str, Any]
) -> dict[str, Any]:
    """One ``ert`` entry from a native measurement."""
    return {
        "label": label,
        "working-set": m["working_set"],
        "trials": m["trials"],
        "total-bytes": m["total_bytes"],
        "total-ops": m["total_ops"],
        "ops-per-set": ops_per_elem,
        "counter": {"repr_data": m["seconds"], "units": 1.0, "display_units": "sec"},
        "device": "cpu",
        "dtype": dtype,
        "isa": m["isa"],
        "exec-params": {
            "working_set_min": int(cfg["min_working_size"]),
            "memory_max": int(cfg["max_data_size"]),
            "nthreads": int(cfg["nthreads"]),
            "nrank": 0,
            "nproc": 1,
            "nstreams": 1,
            "grid_size": 0,
            "block_size": 0,
            "shmem_size": 0,
        },
    }


def _warmup(warmup: bool) -> dict[str, bool]:
    """``ert_fma``'s keyword for a kernel without a warm-up pass (none otherwise)."""
    return {} if warmup else {"warmup": False}


def _calibrated(
    dtype: str, size: int, reps: int, passes: int, *args: Any, **kwargs: Any
) -> tuple[dict[str, Any], int]:
    """``(measurement, passes)``: ``_ert.ert_fma(dtype, size, reps, passes, *args,
    **kwargs)``, run again with more passes while it is shorter than ``_MIN_SECONDS`` (at
    most three times)."""
    from .. import _ert

    m = _ert.ert_fma(dtype, size, reps, passes, *args, **kwargs)
    for _ in range(3):
        if m["seconds"] >= _MIN_SECONDS:
            break
        scale = 1.5 * _MIN_SECONDS / max(m["seconds"], 1e-7)
        passes = max(passes + 1, int(passes * scale))
        m = _ert.ert_fma(dtype, size, reps, passes, *args, **kwargs)
    return m, passes


def _measure(cfg: dict[str, Any], progress: bool) -> list[dict[str, Any]]:
    """Every kernel of the sweep, ``cfg["trials"]`` times, keeping each one's fastest run.
    The trials go round the whole sweep (every kernel once, then every kernel again), so a
    kernel's runs are spread over the measurement: a few seconds of a busy host (another
    VM on the core, both vCPUs on one core's hardware threads) slow one run of many
    kernels instead of every run of a few, which would bend the bandwidth curve."""
    from .. import _ert

    # (label, dtype, FLOPs per element, working set, first guess of passes, warm-up)
    kernels = [
        (k["label"], k["dtype"], k["ops"], k["working_set"], k["passes"], k["warmup"])
        for k in plan(cfg)
    ]
    trials = max(int(cfg["trials"]), 1)
    bar = _Progress(trials * len(kernels), progress, f"{len(kernels)} kernels x {trials} trials")

    def what(item: tuple, trial: int) -> str:
        label, dtype, ops, size = item[:4]
        kind = f"bandwidth {_human(size)}" if label.endswith("_bandwidth") else f"{ops} FLOP/elem"
        return f"{dtype} {kind}" + (f" ({trial + 1}/{trials})" if trials > 1 else "")

    # each thread's buffers are kept between the measurements: a working set's page faults
    # (on a VM, several times a pass over it) are paid once, not once per trial
    _ert.ert_keep_buffers(True)
    try:
        best = _rounds(cfg, kernels, trials, bar, what)
    finally:
        _ert.ert_keep_buffers(False)
    entries = [_entry(m, item[0], item[1], item[2], cfg) for item, _, m in best]
    bar.close(f"peak and bandwidth of {len(entries)} measurements")
    return entries


def _rounds(
    cfg: dict[str, Any], kernels: list[tuple], trials: int, bar: _Progress, what: Any
) -> list[list[Any]]:
    """The rounds of :func:`_measure`: ``[[plan item, passes, fastest measurement], ...]``."""
    from .. import _ert

    nthreads, align, isa = int(cfg["nthreads"]), int(cfg["alignment"]), cfg["isa"]
    # [plan item, passes, fastest measurement]: a list, the measurement is replaced in place
    best: list[list[Any]] = []
    seen: set[tuple[str, int]] = set()
    for item in kernels:
        label, dtype, ops, size, passes, warmup = item
        m, passes = _calibrated(
            dtype, size, ops // 2, passes, nthreads, align, isa, **_warmup(warmup)
        )
        bar.step(what(item, 0))
        key = (label, m["working_set"])
        if key in seen:  # sizes below a vector block round up to one
            continue
        seen.add(key)
        best.append([item, passes, m])
    bar.total = len(kernels) + (trials - 1) * len(best)
    for trial in range(1, trials):
        for run in best:
            (label, dtype, ops, size, _, warmup), passes, _m = run
            m = _ert.ert_fma(dtype, size, ops // 2, passes, nthreads, align, isa, **_warmup(warmup))
            if m["seconds"] < run[2]["seconds"]:  # same passes: the fastest run
                run[2] = m
            bar.step(what(run[0], trial))
    return best


# ------------------------------------------------------------------------------ analysis


def _rate(entry: dict[str, Any], what: str) -> float:
    seconds = float(entry["counter"]["repr_data"])
    return float(entry[what]) / seconds / 1e9 if seconds > 0 else 0.0


def _levels_from_caches(
    points: list[tuple[int, float]], caches: list[dict[str, int]], nthreads: int
) -> dict[str, float]:
    out: dict[str, float] = {}
    lower = 0

    def within(top: float, bottom: float) -> list[float]:
        # working sets are rounded down to whole vector blocks: 5% of slack at the bottom
        return [bw for ws, bw in points if ws <= top and 1.05 * ws >= bottom]

    for cache in caches[:3]:
        share = cache["size"] // max(min(nthreads, cache["shared"]), 1)
        # a quarter of the thread's share: a VM's two vCPUs may be one core's two hardware
        # threads, which share the core's caches though sysfs says they do not (L2 at half a
        # share then measured at L3's speed in some runs); half where no size is that small
        inside = within(share / 4, 2 * lower) or within(share / 2, 2 * lower)
        if inside:
            out[f"l{cache['level']}"] = max(inside)
        lower = share
    beyond = within(float("inf"), 2 * lower) if caches else []
    if beyond:
        out["dram"] = max(beyond)
    return out


def _levels_from_plateaus(points: list[tuple[int, float]]) -> dict[str, float]:
    """Plateaus of the curve: a new level starts where the bandwidth falls below 75% of the
    current plateau's best; the last plateau is DRAM."""
    plateaus: list[float] = []
    for _, bw in points:
        if plateaus and bw >= 0.75 * plateaus[-1]:
            plateaus[-1] = max(plateaus[-1], bw)
        else:
            plateaus.append(bw)
    if not plateaus:
        return {}
    names = [f"l{i + 1}" for i in range(min(len(plateaus) - 1, 3))]
    out = {name: plateaus[i] for i, name in enumerate(names)}
    out["dram"] = plateaus[-1] if len(plateaus) > 1 else plateaus[0]
    return out


def ceilings(
    entries: list[dict[str, Any]], caches: list[dict[str, int]] | None = None
) -> dict[str, Any]:
    """The roofline's ceilings from ERT entries: ``{"peak": {"dp": GFLOP/s, "sp": ...},
    "bandwidth": {"l1": GB/s, ..., "dram": GB/s}, "bandwidth_measured": {...},
    "bandwidth_source": "caches" | "plateaus"}``. Bandwidths come from the DP sweep (SP's
    when there is no DP). ``bandwidth_measured`` is each level's best measurement;
    ``bandwidth`` raises a level measured below the next outer one to that one's figure (a
    busy machine's noise), so the ceilings are in order, innermost fastest."""
    caches = _configured_caches() if caches is None else caches
    peak: dict[str, float] = {}
    for e in entries:
        peak[e["dtype"]] = max(peak.get(e["dtype"], 0.0), _rate(e, "total-ops"))
    sweep = [e for e in entries if e["label"] == "dp_bandwidth"] or [
        e for e in entries if e["label"].endswith("_bandwidth")
    ]
    points = sorted((int(e["working-set"]), _rate(e, "total-bytes")) for e in sweep)
    nthreads = int(sweep[0]["exec-params"]["nthreads"]) if sweep else 1
    bandwidth = _levels_from_caches(points, caches, nthreads) if caches else {}
    source = "caches"
    if not bandwidth:
        bandwidth, source = _levels_from_plateaus(points), "plateaus"
    measured = {k: bandwidth[k] for k in LEVELS if k in bandwidth}
    # Data in a level is served at least as fast as data one level further out, and noise
    # (another job on the core) only ever slows a measurement: an inner level measured below
    # an outer one gets the outer one's figure, so the ceilings never cross.
    ordered = dict(measured)
    names = list(ordered)
    for inner, outer in zip(reversed(names[:-1]), reversed(names[1:])):
        ordered[inner] = max(ordered[inner], ordered[outer])
    return {
        "peak": peak,
        "bandwidth": ordered,
        "bandwidth_measured": measured,
        "bandwidth_source": source,
    }


#: Ceilings within this fraction of each other are one line of the plot and of the text,
#: labelled with every name ("L1 = L2"): apart by less, two lines would be drawn over each
#: other, and the measurements (noise only slows them) cannot tell them apart.
COINCIDE = 0.05


def coinciding(
    figures: dict[str, float], tolerance: float = COINCIDE
) -> list[tuple[list[str], float]]:
    """``figures`` (name -> value; zeros left out) grouped where they coincide, largest
    first: ``[(["l1", "l2"], 210.0), (["dram"], 20.0)]``. A figure joins the group above it
    when it is within ``tolerance`` of that group's largest value (so a group spans at most
    ``tolerance``); the group's value is its largest; names keep the order of ``figures``."""
    order = {name: i for i, name in enumerate(figures)}
    ranked = sorted(
        ((name, float(v)) for name, v in figures.items() if v and v > 0),
        key=lambda kv: (-kv[1], order[kv[0]]),
    )
    groups: list[tuple[list[str], float]] = []
    for name, value in ranked:
        if groups and value >= groups[-1][1] * (1 - tolerance):
            groups[-1][0].append(name)
        else:
            groups.append(([name], value))
    return [(sorted(names, key=order.__getitem__), value) for names, value in groups]


# ------------------------------------------------------------------------------ entry point


def _cached(path: str, cfg: dict[str, Any], isa: str) -> dict[str, Any] | None:
    """The cached result at ``path`` if it matches ``cfg``, else None."""
    from .. import _documents
    from . import _check_block

    try:
        data = _documents.read_json(path)
        if not isinstance(data, dict) or data.get("key") != json.loads(json.dumps(_key(cfg, isa))):
            return None
        for key in ("ceilings", "ert", "machine"):
            _documents.member(
                data, key, path, _documents.as_object if key != "ert" else _documents.as_list
            )
        _check_block(data, path)
    except (OSError, ValueError):
        return None  # missing, unreadable, cut short or altered: measure again
    data["cached"], data["path"] = True, path
    return data


class _CacheLock:
    """An exclusive ``flock`` on ``<path>.lock`` while one process measures: others (ranks,
    programs started together) wait, then read its result instead of measuring at the same
    time, which would load the same cores and cache figures that are too low. Without a
    usable lock file (no such folder, a file system without locks) it does nothing."""

    def __init__(self, path: str) -> None:
        self.handle: Any = None
        try:
            import fcntl

            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            # never through a symlink planted at the lock's name (O_NOFOLLOW)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC
            self.handle = os.fdopen(os.open(path + ".lock", flags, 0o600), "a")
            fcntl.flock(self.handle.fileno(), fcntl.LOCK_EX)
        except (ImportError, OSError):
            self.release()

    def release(self) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the file releases the lock
            self.handle = None


def run(
    force: bool = False, progress: bool = True, cache: bool = True, **overrides: Any
) -> dict[str, Any]:
    """This machine's ERT result: from the cache when one matches the CPU, thread count,
    settings and version (unless ``force``), otherwise measured (a few seconds by default,
    whatever the caches: :func:`planned_work`; a progress bar on stderr unless
    ``progress=False``) and cached (unless ``cache=False``). One process at a time measures
    for a cache file; the others wait for its result. ``overrides`` are :func:`config` keys.
    Returns ``{"key", "machine" (cpu, isa, caches, frequency_hz, frequency_source,
    frequency_note, frequency_measurements), "ceilings", "ert", "sweep" (the planned work),
    "seconds", "cached", "path"}``."""
    from .. import _ert

    cfg = config(**overrides)
    isa = _ert.ert_resolve_isa(cfg["isa"])
    path = cache_path(cfg)
    if not cache:
        return _measured(cfg, isa, progress)
    data = None if force else _cached(path, cfg, isa)
    if data is not None:
        return data
    lock = _CacheLock(path)
    try:
        # another process may have measured while this one waited for the lock
        data = None if force else _cached(path, cfg, isa)
        if data is None:
            data = _measured(cfg, isa, progress)
            _store(data, path)
    finally:
        lock.release()
    return data


def _measured(cfg: dict[str, Any], isa: str, progress: bool) -> dict[str, Any]:
    """A new measurement with ``cfg`` (not cached)."""
    start = time.monotonic()
    work = planned_work(cfg)
    if progress and work["note"]:
        print(f"timemory ERT: {work['note']}", file=sys.stderr, flush=True)
    entries = _measure(cfg, progress)
    clock = clock_rate(0.05)
    return {
        "key": _key(cfg, isa),
        "machine": {
            "cpu": cpu_model(),
            "isa": isa,
            "caches": cfg["caches"],
            "frequency_hz": clock["hz"],
            "frequency_source": clock["source"],
            "frequency_note": clock["note"],
            "frequency_measurements": clock["measurements"],
        },
        "ceilings": ceilings(entries, cfg["caches"]),
        "ert": entries,
        "sweep": work,
        "seconds": time.monotonic() - start,
        "cached": False,
        "path": "",
    }


def _store(data: dict[str, Any], path: str) -> None:
    """Cache ``data`` at ``path`` (``data["path"]`` names it once written); a cache that
    cannot be written is reported, and the result kept."""
    from .._files import atomic_write

    try:
        stored = {k: v for k, v in data.items() if k not in ("cached", "path")}
        atomic_write(path, json.dumps(stored, indent=1))  # makes the cache folder too
        data["path"] = path
    except OSError as err:
        print(
            f"timemory ERT: could not cache the result in {path} ({err}); set "
            "TIMEMORY_ERT_CACHE_DIR to a writable folder to keep it",
            file=sys.stderr,
            flush=True,
        )


# ------------------------------------------------------------------------------ command line


def main(argv: list[str] | None = None) -> int:
    """``python -m timemory.roofline.ert [--force] [-n THREADS] [--json]``: print this
    machine's ceilings, measuring them unless the cache has them (``--force`` measures again,
    e.g. after a run on a busy machine cached low figures)."""

    from .. import _cli

    parser = _cli.ArgumentParser(
        prog=_cli.program_name("python -m timemory.roofline.ert"),
        description="This machine's peak GFLOP/s and memory bandwidths, measured by the "
        "empirical roofline toolkit (cached; see the README's Roofline section).",
    )
    parser.add_argument("--force", action="store_true", help="Measure again; update the cache.")
    parser.add_argument(
        "-n",
        "--num-threads",
        type=_cli.number(int, above=0),
        default=None,
        help="Threads (default: ert_num_threads, else the hardware threads).",
    )
    parser.add_argument("--json", action="store_true", help="Print the whole result as JSON.")
    try:
        opts = parser.parse_args(argv)
        data = run(force=opts.force, nthreads=opts.num_threads)
    except _cli.CliExit as exc:
        return _cli.error_status(parser.prog, exc)
    except ValueError as err:  # bad TIMEMORY_ERT_* settings
        return _cli.error_status(parser.prog, _cli.CliError(str(err)))
    if opts.json:
        print(json.dumps(data, indent=1))
        return 0
    print("\n".join(summary(data)))
    return 0


def summary(data: dict[str, Any]) -> list[str]:
    """The lines ``python -m timemory.roofline.ert`` prints for a :func:`run` result: the
    machine, the peaks and the bandwidths, ceilings that coincide (:func:`coinciding`) on one
    line with every name ("L1 = L2 bandwidth: ..."), the clock rate and its source, and why
    a level is missing."""
    ceil = data["ceilings"]
    machine = data["machine"]
    where = (
        f"cached in {data['path']}" if data["cached"] else f"measured in {data['seconds']:.1f} s"
    )
    lines = [
        f"{machine['cpu']} ({machine['isa']} kernels, {data['key']['nthreads']} threads; {where})"
    ]
    for names, gflops in coinciding(ceil["peak"]):
        label = " = ".join(n.upper() for n in names)
        lines.append(f"  peak {label}: {gflops:.1f} GFLOP/s")
    measured = ceil.get("bandwidth_measured", {})
    for names, gbs in coinciding(ceil["bandwidth"]):
        notes = []
        for name in names:
            shown, own = ceil["bandwidth"][name], measured.get(name, ceil["bandwidth"][name])
            if own < shown:  # raised to the next outer level's figure
                notes.append(f"{name.upper()} measured {own:.1f}, below an outer level")
            elif shown < gbs:  # within COINCIDE of the group's figure
                notes.append(f"{name.upper()} {shown:.1f}")
        label = " = ".join(n.upper() for n in names)
        note = f" ({'; '.join(notes)})" if notes else ""
        lines.append(f"  {label} bandwidth: {gbs:.1f} GB/s{note}")
    hz = float(machine.get("frequency_hz") or 0)
    if hz:
        source = machine.get("frequency_source", "")
        lines.append(f"  clock: {hz / 1e9:.2f} GHz" + (f" ({source})" if source else ""))
    if machine.get("frequency_note"):
        lines.append(f"  clock note: {machine['frequency_note']}")
    sweep_note = (data.get("sweep") or {}).get("note")
    if sweep_note:
        lines.append(f"  {sweep_note}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
