"""Facts about this machine for the run's metadata and the roofline: CPU model, vendor,
features and frequency, hardware threads, physical cores and cache sizes.

Read from /proc/cpuinfo and sysfs with ``os`` alone, not the platform module: they are read at
exit (``metadata.json``), where importing platform (or subprocess, tempfile...) turns an
unhandled KeyboardInterrupt's exit status 130 into 1.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = ["cache_size", "cpu_info", "physical_cores"]

_CACHED: dict[str, Any] = {}


def physical_cores(root: str = "/sys/devices/system/cpu") -> int:
    """Cores, not hardware threads: distinct (package, core) pairs of the online CPUs'
    sysfs topology (every architecture; /proc/cpuinfo names them on x86 only), 0 without."""
    cores = set()
    try:
        names = os.listdir(root)
    except OSError:
        return 0
    for name in names:
        if not (name.startswith("cpu") and name[3:].isdigit()):
            continue
        topology = os.path.join(root, name, "topology")
        try:
            with open(os.path.join(topology, "physical_package_id")) as package:
                with open(os.path.join(topology, "core_id")) as core:
                    cores.add((package.read().strip(), core.read().strip()))
        except OSError:
            continue
    return len(cores)


def cpu_info() -> dict[str, Any]:
    """``CPU_MODEL``, ``CPU_VENDOR``, ``CPU_FEATURES``, ``CPU_FREQUENCY`` (MHz),
    ``HW_CONCURRENCY``, ``HW_PHYSICAL_CPU`` and ``HW_L1/L2/L3_CACHE_SIZE`` (bytes), as
    ``metadata.json`` records them. Read once per process; a new dict on every call."""
    if not _CACHED:
        _CACHED.update(_read_cpu_info())
    return dict(_CACHED)


def _read_cpu_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "CPU_MODEL": os.uname().machine or "unknown",
        "CPU_VENDOR": "unknown",
        "CPU_FEATURES": [],
        "CPU_FREQUENCY": 0.0,
        "HW_CONCURRENCY": os.cpu_count() or 1,
    }
    cpuinfo_cores = set()
    package = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in ("model name", "Processor", "cpu model"):  # x86, old ARM, MIPS
                    info["CPU_MODEL"] = value
                elif key == "vendor_id":
                    info["CPU_VENDOR"] = value
                elif key == "flags" and not info["CPU_FEATURES"]:
                    info["CPU_FEATURES"] = value.split()
                elif key == "cpu MHz" and not info["CPU_FREQUENCY"]:
                    info["CPU_FREQUENCY"] = float(value)
                elif key == "physical id":
                    package = value
                elif key == "core id":  # a core is a (package, core id) pair
                    cpuinfo_cores.add((package, value))
    except (OSError, ValueError):
        pass
    info["HW_PHYSICAL_CPU"] = physical_cores() or len(cpuinfo_cores) or info["HW_CONCURRENCY"]
    for level, name in ((1, "HW_L1_CACHE_SIZE"), (2, "HW_L2_CACHE_SIZE"), (3, "HW_L3_CACHE_SIZE")):
        info[name] = cache_size(level)
    return info


def cache_size(level: int, base: str = "/sys/devices/system/cpu/cpu0/cache") -> int:
    """Bytes of cpu0's data (or unified) cache of ``level`` from sysfs, 0 when unknown."""
    try:
        for entry in sorted(os.listdir(base)):
            path = os.path.join(base, entry)
            with open(os.path.join(path, "level")) as f:
                if int(f.read()) != level:
                    continue
            with open(os.path.join(path, "type")) as f:
                if f.read().strip() == "Instruction":
                    continue
            with open(os.path.join(path, "size")) as f:
                text = f.read().strip()
            mult = {"K": 1024, "M": 1024**2}.get(text[-1:], 1)
            return int(text.rstrip("KM")) * mult
    except (OSError, ValueError):
        pass
    return 0
