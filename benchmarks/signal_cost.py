"""What timemory's ending-signal handling costs a program: the start (``import timemory``,
which installs the handlers and starts the watcher thread), ``os.fork()`` (the watcher is
stopped and started again around it), and the write when a SIGTERM ends a program. Each figure
is a ratio against the same run with ``TIMEMORY_ALLOW_SIGNAL_HANDLER=OFF`` (no handler, no
watcher), medians of interleaved runs measured in one go.

    python benchmarks/signal_cost.py [--runs N] [--forks N]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

FORKS = """
import os, sys, time
import timemory
n = int(sys.argv[1])
start = time.perf_counter()
for _ in range(n):
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print(time.perf_counter() - start)
"""

LOOP = """
import timemory
from timemory.bundle import marker
for k in range(20000):
    with marker(["wall_clock"], key="step"):
        pass
print("ready", flush=True)
import time
time.sleep(600)
"""


def _env(on: bool, folder: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIMEMORY_")}
    env["TIMEMORY_ALLOW_SIGNAL_HANDLER"] = "ON" if on else "OFF"
    env["TIMEMORY_OUTPUT_PATH"] = os.path.join(folder, "out")
    env["TIMEMORY_COUT_OUTPUT"] = "OFF"
    return env


def _import(on: bool, folder: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", "import timemory"], env=_env(on, folder), check=True, cwd=folder
    )
    return time.perf_counter() - start


def _forks(on: bool, folder: str, n: int) -> float:
    proc = subprocess.run(
        [sys.executable, "-c", FORKS, str(n)],
        env=_env(on, folder),
        capture_output=True,
        text=True,
        check=True,
        cwd=folder,
    )
    return float(proc.stdout.strip()) / n


def _sigterm_write(folder: str) -> float:
    """Seconds from SIGTERM to the end of a program that recorded 20,000 laps (handler on)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", LOOP],
        env=_env(True, folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=folder,
    )
    assert proc.stdout is not None and "ready" in proc.stdout.readline()
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(120)
    assert proc.returncode == -signal.SIGTERM, proc.returncode
    return time.perf_counter() - start


def _pause_cost(n: int = 300) -> float:
    """Median microseconds of one pause and restart of the watcher thread (what a fork adds
    on Python 3.12 and later), measured in this process."""
    import timemory  # noqa: F401 - installs the handlers and starts the watcher
    from timemory import _signals

    times = []
    for _ in range(n):
        start = time.perf_counter()
        _signals._pause_watcher()
        _signals._resume_watcher()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each kind (15)")
    parser.add_argument("--forks", type=int, default=200, help="forks per run (200)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        imports: dict[bool, list[float]] = {True: [], False: []}
        forks: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.runs):
            for on in (False, True):
                imports[on].append(_import(on, folder))
                forks[on].append(_forks(on, folder, args.forks))
        writes = [_sigterm_write(folder) for _ in range(max(3, args.runs // 3))]
    off_i, on_i = statistics.median(imports[False]), statistics.median(imports[True])
    off_f, on_f = statistics.median(forks[False]), statistics.median(forks[True])
    print(
        f"python -c 'import timemory': {on_i * 1e3:.1f} ms with the handlers, "
        f"{off_i * 1e3:.1f} ms without (ratio {on_i / off_i:.3f})"
    )
    print(
        f"os.fork() + waitpid: {on_f * 1e6:.0f} us with the watcher, {off_f * 1e6:.0f} us "
        f"without (ratio {on_f / off_f:.2f}, +{(on_f - off_f) * 1e6:.0f} us per fork)"
    )
    print(f"SIGTERM to end, 20,000 laps written: {statistics.median(writes) * 1e3:.0f} ms (median)")
    pause = _pause_cost()
    print(f"the watcher's pause and restart around a fork (3.12+), in-process: {pause:.0f} us")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
