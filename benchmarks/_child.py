"""What the write-path benchmarks (exports.py, exports_native.py, write_path.py) share: a
measurement in a fresh interpreter, in a temporary folder that is removed afterwards (its last
line on stdout is a JSON object of RSS readings and times), the costs derived from those
readings, and the table the benchmarks print."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile


def run_child(
    python: str,
    code: str,
    args: list[str],
    label: str,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> dict:
    """Run ``python -c code args...`` in a new temporary folder (``{out}`` in an argument is
    that folder) and return the JSON of its last stdout line; RuntimeError naming ``label``
    with the end of its stderr when it fails."""
    out = tempfile.mkdtemp(prefix="timemory-bench-")
    try:
        proc = subprocess.run(
            [python, "-c", code, *(a.replace("{out}", out) for a in args)],
            capture_output=True,
            text=True,
            env=env,
            cwd=out,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{label} failed:\n{proc.stderr[-2000:]}")
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)


def write_costs(r: dict) -> dict[str, float]:
    """From a child's readings (``base``: RSS before recording, ``recorded``: after it,
    ``peak``: VmHWM during the write, ``reset``: whether VmHWM could be reset, ``bytes``
    written, ``write_s``, ``write_cpu_s``): the recording's footprint, the write's time, its
    peak above the base and that peak over the footprint."""
    footprint = max(r["recorded"] - r["base"], 1)
    return {
        "footprint": footprint,
        "footprint_mib": footprint / 2**20,
        "write_s": r["write_s"],
        "write_cpu_s": r["write_cpu_s"],
        "peak_over_base_mib": (r["peak"] - r["base"]) / 2**20,
        "peak_ratio": (r["peak"] - r["base"]) / footprint,
        "output_mb": r["bytes"] / 1e6,
        "exact_peak": r["reset"],
    }


def print_table(head: list[str], rows: list[list[str]]) -> None:
    """Right-aligned columns, one header line."""
    if not rows:
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
    print("  ".join(h.rjust(w) for h, w in zip(head, widths)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
