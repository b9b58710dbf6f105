"""Slowdown and peak-RSS overhead of whole-program profilers on standalone workloads.

    python benchmarks/profiler_overhead.py [--repeats R] [--warmup W] [--scale S]
        [--workloads NAME ...] [--tools NAME ...] [--python EXE] [--before EXE]
        [--json FILE] [--check]
    python benchmarks/profiler_overhead.py --list
    python benchmarks/profiler_overhead.py --workloads jinja2 sympy \
        --tools none cprofile timemory-default --repeats 3 --check   # the real workloads

Runs each script in ``benchmarks/workloads/`` (call-heavy recursion, line-heavy loops, a
json/re/sorting/classes mix, numpy-heavy code, a 4-thread workload, and two real third-party
workloads: jinja2 rendering and sympy algebra; each about 1-2 s unprofiled at scale 1 on a
2-core VM) as a fresh subprocess of ``--python`` under every tool in ``TOOLS``: no profiler,
``python -m cProfile``, ``python -m pyinstrument``, ``python -m yappi`` and ``python -m
timemory.profiler`` with ``wall_clock`` alone and with ``wall_clock cpu_clock peak_rss``
(and, on the real workloads, with its default components). Each run is timed from outside
(``perf_counter`` around fork-to-reap, so interpreter start-up and the profiler's own import
and report writing are included, as a user would see them) and its peak RSS is the
program's own ``ru_maxrss`` from ``os.wait4``. A small launcher forks the program rather than
the harness spawning it: Linux keeps a process's peak RSS across ``execve``, so a program
spawned from the harness would report at least the harness's own RSS (``RUSAGE_CHILDREN``
would be the maximum over every child so far).

``--before EXE`` adds, for every timemory tool, a twin row run by another interpreter (one
with the build before a change), in the same interleaved rounds: the before/after table of a
change from one run, so both halves see the same machine noise.

Repeats are interleaved: every repeat runs every workload under every tool, in an order
rotated per repeat, so machine noise spreads over the tools alike. Reported per workload and
tool are the median wall time, the slowdown (median / the unprofiled median of the same
workload in the same invocation), the median peak RSS and the RSS overhead (median peak RSS
minus the unprofiled median). Profiler output goes to a temporary directory per run (also
the run's cwd and TMPDIR) and is deleted; the tools' stdout is discarded.

Target (the profiler-overhead issue), checked by ``--check`` (exit 1 if missed, 2 if it
cannot be evaluated): on every workload ``timemory.profiler -c wall_clock`` has a smaller
slowdown than cProfile, and its RSS overhead is at most 2x cProfile's, where both overheads
are first raised to a floor of ``RSS_FLOOR_MIB`` (2 MiB) so that overheads of a few hundred
KiB, which are within run-to-run noise, cannot make a large ratio.

Caveats (the per-tool ones are printed under the table): pyinstrument is a statistical
profiler: its report comes from stack samples (1 ms interval), but its hook still runs on
every call and C call to decide when to sample, so it is not free on call-heavy code.
cProfile (up to Python 3.11) and pyinstrument profile only the main thread, so on the threaded
workload they do less work than yappi or timemory, which follow every thread; on 3.12+
cProfile uses sys.monitoring, which reports every thread. The workloads run with one BLAS/OpenMP
thread (``OPENBLAS_NUM_THREADS=1`` etc., unless set in the environment): with BLAS threads on 2
cores the unprofiled numpy workload alone varied from 1.2 s to 1.7 s between runs, more than
any profiler's overhead on it. Missing tools (not runnable by
``--python``) and the numpy workload without numpy are skipped with a note. Measure a
regular (non-editable) install of timemory: an editable install made with
``editable.rebuild=true`` runs a CMake build check on every ``import timemory`` (about 0.5 s
on the 2-core VM), which the timemory rows would count as overhead; ``--python`` selects
another environment.

Real workloads (``jinja2``, ``sympy``): code nobody here wrote, from PyPI, pinned
(``WORKLOAD_REQUIREMENTS``). They run in a virtual environment the benchmark makes on first
use, ``benchmarks/.venv-workloads/<cache tag>/`` (git-ignored; ``--venv-root`` elsewhere):
``--python -m venv``, then ``pip install`` of the pins; it is made again when the pins
change. timemory and the peer profilers are not installed there: a ``.pth`` file adds
``--python``'s own site-packages after the environment's (rewritten on every run), so the
workloads measure the build under test and no second build is needed. Without a package
index the two workloads are skipped with a note. Every run also records its CPU time (user +
system, from ``os.wait4``: the whole process, the profiler's output writing included), shown
in a second table as the median over repeats of the run's CPU time over the unprofiled run's
in the same repeat; CPU time moves less than wall time on a shared machine. Their target
(part of ``--check`` when they run): ``python -m timemory.profiler`` with its default
components (``timemory-default``: no ``-c``, the output folder in the run's directory) slows
both at most as much as cProfile in CPU time.

Line profilers (``kernprof -l``, ``python -m timemory.line_profiler``, ``python -m
timemory.trace -b``) run on ``LINE_WORKLOADS`` only: the loops and mixed workloads, and three
where a line profiler pays per decorated call (``fib``: the recursive function decorated;
``tree_walk``: a decorated recursive tree walk; ``hot_call``: a small decorated function called
from an undecorated loop, which enables and disables the profiler on every call), measuring
the functions the workloads decorate with ``@profile``; their target (printed separately, and
part of ``--check`` when they run): timemory.line_profiler slows down less than kernprof -l on
the loops and mixed workloads, and at most as much on the other three.
``benchmarks/line_profiler_instructions.py`` counts the instructions per decorated call of
the last three with callgrind, which the machine's load does not move.

To add a tool, append a ``Tool`` to ``TOOLS``; ``workloads=`` limits it
to the workloads it makes sense on. The workloads decorate their hot functions with a bare
``@profile``, the identity unless a tool put one in builtins; tools without
``decorators=True`` run with ``PROFILER_OVERHEAD_DECORATORS=0``, which keeps it the identity
(``python -m timemory.profiler`` defines ``profile`` too, and whole-program rows must
measure the undecorated program).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKLOAD_DIR = HERE / "workloads"
RSS_FLOOR_MIB = 2.0
RSS_TARGET_RATIO = 2.0
BASELINE = "none"
REFERENCE = "cprofile"  # the peer the target is stated against
TARGET_TOOL = "timemory-wall"
# the line-heavy and the mixed workload, and those where a line profiler pays per decorated
# call: the recursive function decorated, a decorated recursive tree walk, and a small
# decorated function called from an undecorated hot loop
LINE_WORKLOADS = ("loops", "mixed", "fib", "tree_walk", "hot_call")
LINE_STRICT = ("loops", "mixed")  # timemory-lines strictly faster there; at most as slow elsewhere
LINE_TARGET = ("timemory-lines", "kernprof")  # (tool, peer) of the line-profiler target
# Real third-party workloads: run by the interpreter of a virtual environment this script sets
# up (``workload_venv``) with these pinned packages from PyPI; their target compares CPU time
# (user + system of the whole process, output writing included) of timemory.profiler with its
# default components against cProfile's.
REAL_WORKLOADS = ("jinja2", "sympy")
REAL_TARGET = ("timemory-default", "cprofile")  # (tool, peer) of the real-workload target
WORKLOAD_REQUIREMENTS = ("jinja2==3.1.6", "markupsafe==3.0.2", "sympy==1.14.0", "mpmath==1.3.0")
VENV_ROOT = HERE / ".venv-workloads"  # one environment per interpreter version; git-ignored


@dataclass(frozen=True)
class Tool:
    """One way of running a workload: ``[python, *args, script, *script_args]``.

    ``args`` may contain ``{out}``, replaced by the run's private temporary directory (write
    profiler output there). ``module`` must be runnable as ``python -m module --help`` in the
    target interpreter or the tool is skipped. ``workloads`` restricts the tool to those
    workload names (None: all). ``decorators`` makes the workloads' bare ``@profile`` use
    the ``profile`` the tool puts in builtins (line profilers such as ``kernprof -l`` need
    that); otherwise the harness sets ``PROFILER_OVERHEAD_DECORATORS=0`` and they are inert,
    because ``python -m timemory.profiler`` also defines ``profile`` and a whole-program
    profiler must measure the undecorated program.
    """

    name: str
    label: str
    args: tuple[str, ...]
    module: str | None = None
    note: str = ""
    workloads: tuple[str, ...] | None = None
    decorators: bool = False
    before: bool = False  # a twin run by ``--before``'s interpreter (the build before a change)


# Environment variables that pin numpy's BLAS / OpenMP thread pools to one thread.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


@dataclass(frozen=True)
class Workload:
    """A standalone script in ``benchmarks/workloads/`` that accepts ``--scale S``."""

    name: str
    script: str
    description: str
    requires: tuple[str, ...] = ()
    venv: bool = False  # runs in the workloads' virtual environment (see ``workload_venv``)


TOOLS: tuple[Tool, ...] = (
    Tool(BASELINE, "unprofiled", ()),
    Tool(
        "cprofile",
        "cProfile",
        ("-m", "cProfile", "-o", "{out}/cprofile.pstats"),
        module="cProfile",
        note="deterministic; main thread only up to 3.11, every thread on 3.12+",
    ),
    Tool(
        "pyinstrument",
        "pyinstrument",
        ("-m", "pyinstrument", "-r", "text", "-o", "{out}/pyinstrument.txt"),
        module="pyinstrument",
        note="statistical (sampling, 1 ms default interval); main thread only",
    ),
    Tool(
        "yappi",
        "yappi (wall)",
        ("-m", "yappi", "-c", "wall", "-f", "pstat", "-o", "{out}/yappi.pstat"),
        module="yappi",
        note="deterministic; wall clock; all threads",
    ),
    Tool(
        TARGET_TOOL,
        "timemory.profiler wall_clock",
        ("-m", "timemory.profiler", "-c", "wall_clock", "-d", "{out}", "--"),
        module="timemory.profiler",
        note="deterministic; the row the target applies to",
    ),
    Tool(
        "timemory-default",
        "timemory.profiler (default components)",
        ("-m", "timemory.profiler", "--"),
        module="timemory.profiler",
        note="deterministic; no -c (wall_clock unless TIMEMORY_PROFILER_COMPONENTS or "
        "TIMEMORY_GLOBAL_COMPONENTS say otherwise), output folder in the run's directory; "
        "the row the real-workload target applies to",
        workloads=REAL_WORKLOADS,
    ),
    Tool(
        "timemory-3",
        "timemory.profiler wall_clock cpu_clock peak_rss",
        (
            "-m",
            "timemory.profiler",
            "-c",
            "wall_clock",
            "cpu_clock",
            "peak_rss",
            "-d",
            "{out}",
            "--",
        ),
        module="timemory.profiler",
        note="deterministic; three components per call",
    ),
    # Line-level profilers, on the workloads where lines matter, measuring the same
    # @profile-decorated functions (their target: timemory-lines slows down less than kernprof)
    Tool(
        "kernprof",
        "kernprof -l",
        ("-m", "kernprof", "-l", "-o", "{out}/k.lprof"),
        module="kernprof",
        note="line_profiler's own; decorated functions only",
        workloads=LINE_WORKLOADS,
        decorators=True,
    ),
    Tool(
        "timemory-lines",
        "timemory.line_profiler wall_clock",
        (
            "-m",
            "timemory.line_profiler",
            "-c",
            "wall_clock",
            "-o",
            "{out}/t.lprof",
            "-d",
            "{out}",
            "--",
        ),
        module="timemory.line_profiler",
        note="decorated functions only; also writes timemory's output folder",
        workloads=LINE_WORKLOADS,
        decorators=True,
    ),
    Tool(
        "timemory-trace-b",
        "timemory.trace -b wall_clock",
        ("-m", "timemory.trace", "-b", "-c", "wall_clock", "-d", "{out}", "--"),
        module="timemory.trace",
        note="decorated functions only (-b); one flat call-graph entry per line",
        workloads=LINE_WORKLOADS,
        decorators=True,
    ),
)

WORKLOADS: tuple[Workload, ...] = (
    Workload("recursive", "recursive.py", "call-heavy: fib, tak, binary-tree build/sum"),
    Workload("fib", "fib.py", "decorated recursion: fib(27) with @profile on fib itself"),
    Workload(
        "tree_walk", "tree_walk.py", "decorated recursive walk of a 3-ary tree (88,573 nodes)"
    ),
    Workload("hot_call", "hot_call.py", "a small decorated function called 8M times from a loop"),
    Workload("loops", "loops.py", "line-heavy: sieve, matmul, edit distance, string build"),
    Workload("mixed", "mixed.py", "json round trip, regex log parsing, sorting, classes"),
    Workload("numpy", "numpy_heavy.py", "numpy kernels plus many tiny numpy calls", ("numpy",)),
    Workload("threaded", "threaded.py", "4 threads of Python-level work, GIL-bound"),
    Workload(
        "jinja2",
        "jinja2_render.py",
        "jinja2 3.1.6: a page with loops, macros, filters and includes rendered 600 times",
        ("jinja2",),
        venv=True,
    ),
    Workload(
        "sympy",
        "sympy_algebra.py",
        "sympy 1.14.0: import, expand/factor, simplify, integrate/series, a linear system",
        ("sympy",),
        venv=True,
    ),
)


@dataclass
class Cell:
    """The samples of one (workload, tool) pair; ``error`` is set once a run fails."""

    wall: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class RunResult:
    wall: float
    rss_mib: float
    cpu: float  # user + system seconds of the program (and of any child it waited for)
    returncode: int
    stderr_tail: str


# The measured program is started by this small launcher, not by the harness directly: Linux
# carries a process's peak RSS across execve (signal->maxrss takes the old image's high-water
# mark), and subprocess starts children with vfork/posix_spawn, so a child exec'd straight
# from the harness would report at least the harness's own RSS (about 17 MiB), hiding any
# smaller program's real peak and every profiler overhead below that line. The launcher
# fork()s a fresh process (its maxrss starts at the launcher's few MiB), execs the program in
# it, and reports that grandchild's wall time and own ru_maxrss from os.wait4.
_LAUNCHER = """
import os, sys, time
out, argv = sys.argv[1], sys.argv[2:]
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - t0
with open(out, "w") as f:
    f.write(f"{wall!r} {usage.ru_maxrss!r} {usage.ru_utime + usage.ru_stime!r}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def run_once(argv: list[str], cwd: str, env: dict[str, str], timeout: float) -> RunResult:
    """Run ``argv`` and return its wall time and its own peak RSS.

    The launcher (see ``_LAUNCHER``) times the program from fork to reap and reads its
    ``ru_maxrss`` and CPU time (user + system) with ``os.wait4``. A timer kills a hung run
    after ``timeout`` seconds.
    """
    with tempfile.TemporaryFile(dir=cwd) as err, tempfile.TemporaryDirectory(dir=cwd) as rd:
        report = os.path.join(rd, "usage")
        proc = subprocess.Popen(
            [sys.executable, "-S", "-c", _LAUNCHER, report, *argv],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,  # the timeout kills the launcher and the program
        )
        killer = threading.Timer(timeout, _kill_group, (proc.pid,))
        killer.start()
        try:
            proc.wait()
        except BaseException:
            _kill_group(proc.pid)
            proc.wait()
            raise
        finally:
            killer.cancel()
        err.seek(0)
        tail = err.read()[-2000:].decode(errors="replace")
        try:
            with open(report) as f:
                wall_text, rss_text, cpu_text = f.read().split()
        except (OSError, ValueError):
            nan = float("nan")
            return RunResult(nan, nan, nan, proc.returncode or 1, tail)
    rss = float(rss_text)
    # Linux reports ru_maxrss in KiB, macOS in bytes
    rss_kib = rss / 1024 if sys.platform == "darwin" else rss
    return RunResult(float(wall_text), rss_kib / 1024, float(cpu_text), proc.returncode, tail)


def probe(python: str, args: list[str]) -> bool:
    """True if ``python *args`` exits 0 (output discarded): availability of a tool/module."""
    try:
        res = subprocess.run(
            [python, *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return res.returncode == 0


def versions(python: str) -> dict[str, str]:
    """Versions of the interpreter and the packages under test, as seen by ``python``."""
    code = (
        "import json, platform\n"
        "from importlib import metadata\n"
        "v = {'python': platform.python_version(), 'implementation': "
        "platform.python_implementation()}\n"
        "for p in ('timemory', 'pyinstrument', 'yappi', 'numpy', 'line_profiler', 'jinja2',\n"
        "          'sympy'):\n"
        "    try:\n"
        "        v[p] = metadata.version(p)\n"
        "    except metadata.PackageNotFoundError:\n"
        "        pass\n"
        "print(json.dumps(v))\n"
    )
    try:
        out = subprocess.run(
            [python, "-c", code], capture_output=True, text=True, timeout=120, check=True
        ).stdout
        return dict(json.loads(out))
    except (OSError, subprocess.SubprocessError, ValueError):
        return {}


def _query(python: str, code: str, timeout: float = 120) -> str:
    return subprocess.run(
        [python, "-c", code], capture_output=True, text=True, timeout=timeout, check=True
    ).stdout.strip()


def workload_venv(python: str, root: Path = VENV_ROOT) -> str:
    """The interpreter of the real workloads' virtual environment for ``python``'s version,
    created (``python -m venv``, then ``pip install`` of ``WORKLOAD_REQUIREMENTS`` from the
    package index) on first use and again when the requirements change.

    The packages under test (timemory, and the peers cProfile is not) come from ``python``'s
    own environment: a ``.pth`` file in the workloads' environment adds ``python``'s
    site-packages after its own (``site.addsitedir``, so their ``.pth`` files, e.g. an
    editable install's, work too), rewritten on every call, so the workloads always measure
    the build that ``--python`` has, without a second build of timemory; the pinned
    jinja2/sympy shadow any other version there. Raises ``RuntimeError`` with the reason
    when the environment cannot be made (no index reachable, for example).
    """
    info = json.loads(
        _query(
            python,
            "import json, site, sys\n"
            "dirs = site.getsitepackages()\n"
            "if site.ENABLE_USER_SITE:\n"
            "    dirs.append(site.getusersitepackages())\n"
            "print(json.dumps({'tag': sys.implementation.cache_tag, 'dirs': dirs}))",
        )
    )
    venv = root / info["tag"]
    venv_python = str(venv / "bin" / "python")
    stamp = venv / "benchmark-requirements.txt"
    wanted = "\n".join(WORKLOAD_REQUIREMENTS) + "\n"
    try:
        current = stamp.read_text()
    except OSError:
        current = None
    # an environment whose interpreter no longer starts (its base Python was replaced by
    # another patch release, say) is made again
    if current != wanted or not probe(venv_python, ["-c", "pass"]):
        print(f"setting up {venv} ({' '.join(WORKLOAD_REQUIREMENTS)})", file=sys.stderr)
        steps = (
            [python, "-m", "venv", "--clear", str(venv)],
            [venv_python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
            + list(WORKLOAD_REQUIREMENTS),
        )
        for step in steps:
            res = subprocess.run(step, capture_output=True, text=True, timeout=900, check=False)
            if res.returncode != 0:
                tail = (res.stderr or res.stdout).strip().splitlines()[-1:] or ["?"]
                raise RuntimeError(f"`{shlex.join(step)}` failed: {tail[0][:300]}")
        stamp.write_text(wanted)
    purelib = _query(venv_python, "import sysconfig; print(sysconfig.get_path('purelib'))")
    lines = "".join(f"import site; site.addsitedir({d!r})\n" for d in info["dirs"])
    Path(purelib, "_profiler_overhead_host.pth").write_text(lines)
    pins = dict(r.split("==") for r in WORKLOAD_REQUIREMENTS)
    seen = json.loads(
        _query(
            venv_python,
            "import json\nfrom importlib import metadata\n"
            f"print(json.dumps({{p: metadata.version(p) for p in {sorted(pins)!r}}}))",
        )
    )
    wrong = {p: v for p, v in seen.items() if v != pins[p]}
    if wrong:
        raise RuntimeError(f"{venv}: found {wrong} instead of the pinned versions")
    return venv_python


def select(names: list[str] | None, known: list[str], what: str) -> list[str]:
    """Names from ``--tools``/``--workloads`` (space or comma separated), in table order."""
    if not names:
        return known
    wanted = {n for arg in names for n in arg.split(",") if n}
    unknown = wanted - set(known)
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(sorted(unknown))}; known: {known}")
    return [k for k in known if k in wanted]


def run_pair(
    python: str, tool: Tool, workload: Workload, root: str, scale: float, timeout: float
) -> RunResult:
    """One run of ``workload`` under ``tool`` in a fresh directory under ``root`` (its cwd,
    TMPDIR and ``{out}``), deleted afterwards so profiler output never accumulates.
    ``python`` is the interpreter for this workload (the workloads' environment's for the
    real workloads)."""
    out = tempfile.mkdtemp(dir=root)
    argv = [
        python,
        *(a.replace("{out}", out) for a in tool.args),
        str(WORKLOAD_DIR / workload.script),
        "--scale",
        repr(scale),
    ]
    env = dict(
        os.environ,
        TMPDIR=out,
        PROFILER_OVERHEAD_DECORATORS="1" if tool.decorators else "0",
    )
    for var in BLAS_THREAD_VARIABLES:  # unless the caller chose: see the module docstring
        env.setdefault(var, "1")
    try:
        return run_once(argv, out, env, timeout)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def benchmark(
    pythons: dict[str, str],
    before_pythons: dict[str, str],
    workloads: list[Workload],
    tools: list[Tool],
    repeats: int,
    warmup: int,
    scale: float,
    timeout: float,
) -> dict[str, dict[str, Cell]]:
    """Interleaved runs: per repeat, per workload, every tool in an order rotated by repeat.

    Warm-up rounds (not recorded) fill the page cache with each tool's and numpy's modules.
    A pair whose run fails is not run again (its error is kept and reported). ``pythons``
    maps each workload's name to the interpreter that runs it; ``before_pythons`` the same for
    the ``--before`` twins of the timemory tools.
    """
    cells = {w.name: {t.name: Cell() for t in tools if applies(t, w)} for w in workloads}
    root = tempfile.mkdtemp(prefix="tm-profiler-overhead-")
    try:
        for r in range(warmup + repeats):
            recording = r >= warmup
            tag = f"repeat {r - warmup + 1}/{repeats}" if recording else f"warm-up {r + 1}"
            t_round = time.perf_counter()
            for workload in workloads:
                row = [t for t in tools if t.name in cells[workload.name]]
                k = r % len(row)
                for tool in row[k:] + row[:k]:
                    cell = cells[workload.name][tool.name]
                    if cell.error is not None:
                        continue
                    python = (before_pythons if tool.before else pythons)[workload.name]
                    res = run_pair(python, tool, workload, root, scale, timeout)
                    if res.returncode != 0:
                        cell.error = f"exit {res.returncode}: {res.stderr_tail.strip()}"
                        print(
                            f"  {workload.name} / {tool.name} FAILED: {cell.error}", file=sys.stderr
                        )
                    elif recording:
                        cell.wall.append(res.wall)
                        cell.rss_mib.append(res.rss_mib)
                        cell.cpu.append(res.cpu)
            print(f"{tag} done in {time.perf_counter() - t_round:.0f} s", file=sys.stderr)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return cells


def applies(tool: Tool, workload: Workload) -> bool:
    return tool.workloads is None or workload.name in tool.workloads


def summarize(cells: dict[str, dict[str, Cell]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Medians, slowdowns and RSS overheads per workload and tool (see the module doc).

    ``cpu_slowdown`` is the median over repeats of (the tool's CPU time / the unprofiled CPU
    time in the same repeat): a pair's samples are in repeat order and every pair without an
    error has one per repeat, so the i-th samples of two tools come from the same round."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for wname, row in cells.items():
        base = row[BASELINE]
        out[wname] = {}
        if base.error or not base.wall:
            out[wname][BASELINE] = {"error": base.error or "no samples"}
            continue
        base_wall = statistics.median(base.wall)
        base_rss = statistics.median(base.rss_mib)
        for tname, cell in row.items():
            if cell.error or not cell.wall:
                out[wname][tname] = {"error": cell.error or "no samples"}
                continue
            wall = statistics.median(cell.wall)
            rss = statistics.median(cell.rss_mib)
            out[wname][tname] = {
                "wall_s": wall,
                "slowdown": wall / base_wall,
                "slowdown_min": min(cell.wall) / base_wall,
                "slowdown_max": max(cell.wall) / base_wall,
                "peak_rss_mib": rss,
                "rss_overhead_mib": rss - base_rss,
                "cpu_s": statistics.median(cell.cpu),
                "cpu_slowdown": statistics.median(
                    c / b for c, b in zip(cell.cpu, base.cpu) if b > 0
                ),
                "wall_samples_s": cell.wall,
                "peak_rss_samples_mib": cell.rss_mib,
                "cpu_samples_s": cell.cpu,
            }
        ref = out[wname].get(REFERENCE, {})
        if "rss_overhead_mib" in ref:
            floor_ref = max(ref["rss_overhead_mib"], RSS_FLOOR_MIB)
            for tname, fig in out[wname].items():
                if tname.startswith("timemory") and "rss_overhead_mib" in fig:
                    fig["rss_overhead_vs_cprofile"] = (
                        max(fig["rss_overhead_mib"], RSS_FLOOR_MIB) / floor_ref
                    )
    return out


def check(summary: dict[str, dict[str, dict[str, Any]]]) -> tuple[list[str], bool | None]:
    """Verdict lines and the target's result: False if any workload misses it, else None if
    any workload could not be evaluated (a tool missing or failed), else True. The real
    workloads have their own target (``check_real``)."""
    lines: list[str] = []
    missed = unevaluated = False
    for wname, row in summary.items():
        if wname in REAL_WORKLOADS:
            continue
        tm, ref = row.get(TARGET_TOOL, {}), row.get(REFERENCE, {})
        if "slowdown" not in tm or "slowdown" not in ref:
            why = tm.get("error") or ref.get("error") or "tool not run"
            lines.append(f"{wname}: cannot evaluate ({why.splitlines()[0][:120]})")
            unevaluated = True
            continue
        fast = tm["slowdown"] < ref["slowdown"]
        small = tm["rss_overhead_vs_cprofile"] <= RSS_TARGET_RATIO
        lines.append(
            f"{wname}: slowdown {tm['slowdown']:.2f}x vs cProfile {ref['slowdown']:.2f}x "
            f"{'MET' if fast else 'MISSED'}; RSS overhead {tm['rss_overhead_mib']:+.1f} MiB vs "
            f"cProfile {ref['rss_overhead_mib']:+.1f} MiB = "
            f"{tm['rss_overhead_vs_cprofile']:.2f}x (floor {RSS_FLOOR_MIB:g} MiB, "
            f"target <= {RSS_TARGET_RATIO:g}x) {'MET' if small else 'MISSED'}"
        )
        missed |= not (fast and small)
    verdict: bool | None = False if missed else (None if unevaluated else True)
    return lines, verdict


def check_lines(
    summary: dict[str, dict[str, dict[str, Any]]],
) -> tuple[list[str], bool | None]:
    """The line profilers' target: on the line-heavy and mixed workloads,
    ``timemory.line_profiler`` slows down less than ``kernprof -l``, and at most as much on
    the decorated-call workloads (fib, tree_walk, hot_call) (median slowdowns of the same
    run). None when neither ran (not asked for), as ``check`` otherwise."""
    tool, peer = LINE_TARGET
    lines: list[str] = []
    missed = unevaluated = False
    for wname in LINE_WORKLOADS:
        row = summary.get(wname, {})
        tm, ref = row.get(tool, {}), row.get(peer, {})
        if not tm and not ref:
            continue
        if "slowdown" not in tm or "slowdown" not in ref:
            why = tm.get("error") or ref.get("error") or "tool not run"
            lines.append(f"{wname}: cannot evaluate ({why.splitlines()[0][:120]})")
            unevaluated = True
            continue
        strict = wname in LINE_STRICT
        fast = tm["slowdown"] < ref["slowdown"] if strict else tm["slowdown"] <= ref["slowdown"]
        lines.append(
            f"{wname}: timemory.line_profiler {tm['slowdown']:.2f}x vs kernprof -l "
            f"{ref['slowdown']:.2f}x (target {'<' if strict else '<='}) "
            f"{'MET' if fast else 'MISSED'}"
        )
        missed |= not fast
    if not lines:
        return [], None
    return lines, False if missed else (None if unevaluated else True)


def check_real(
    summary: dict[str, dict[str, dict[str, Any]]],
) -> tuple[list[str], bool | None]:
    """The real workloads' target: on jinja2 and sympy, ``timemory.profiler`` with its default
    components slows the whole process's CPU time (output writing included) at most as much
    as cProfile does (medians of per-repeat ratios to the unprofiled run). None when neither
    ran (not asked for), as ``check`` otherwise."""
    tool, peer = REAL_TARGET
    lines: list[str] = []
    missed = unevaluated = False
    for wname in REAL_WORKLOADS:
        row = summary.get(wname, {})
        tm, ref = row.get(tool, {}), row.get(peer, {})
        if not tm and not ref:
            continue
        if "cpu_slowdown" not in tm or "cpu_slowdown" not in ref:
            why = tm.get("error") or ref.get("error") or "tool not run"
            lines.append(f"{wname}: cannot evaluate ({why.splitlines()[0][:120]})")
            unevaluated = True
            continue
        ok = tm["cpu_slowdown"] <= ref["cpu_slowdown"]
        lines.append(
            f"{wname}: CPU-time slowdown {tm['cpu_slowdown']:.2f}x vs cProfile "
            f"{ref['cpu_slowdown']:.2f}x {'MET' if ok else 'MISSED'}"
        )
        missed |= not ok
    if not lines:
        return [], None
    return lines, False if missed else (None if unevaluated else True)


def markdown(
    summary: dict[str, dict[str, dict[str, Any]]], tools: list[Tool], workloads: list[Workload]
) -> str:
    """Three README-ready tables, tools x workloads: wall-time slowdown, CPU-time slowdown
    and peak-RSS overhead."""
    names = [w.name for w in workloads if w.name in summary]
    head = "| tool | " + " | ".join(names) + " |\n|---|" + "---:|" * len(names) + "\n"

    def cell(tool: Tool, wname: str, kind: str) -> str:
        fig = summary[wname].get(tool.name)
        if fig is None:
            return "n/a"
        if "error" in fig:
            return "failed"
        if kind == "time":
            return f"{fig['wall_s']:.2f} s" if tool.name == BASELINE else f"{fig['slowdown']:.2f}x"
        if kind == "cpu":
            if tool.name == BASELINE:
                return f"{fig['cpu_s']:.2f} s"
            return f"{fig['cpu_slowdown']:.2f}x"
        if tool.name == BASELINE:
            return f"{fig['peak_rss_mib']:.1f} MiB"
        text = f"{fig['rss_overhead_mib']:+.1f}"
        if "rss_overhead_vs_cprofile" in fig:
            text += f" ({fig['rss_overhead_vs_cprofile']:.2f}x)"
        return text

    parts = []
    for kind, title in (
        ("time", "Slowdown vs unprofiled (median wall time ratio; first row: unprofiled seconds)"),
        (
            "cpu",
            "CPU-time slowdown vs unprofiled (user + system of the whole process; median of "
            "per-repeat ratios; first row: unprofiled CPU seconds)",
        ),
        (
            "rss",
            "Peak RSS overhead in MiB vs unprofiled (first row: unprofiled peak RSS; "
            f"timemory rows: ratio to cProfile's overhead, both floored at {RSS_FLOOR_MIB:g} MiB)",
        ),
    ):
        body = "".join(
            f"| {t.label} | " + " | ".join(cell(t, w, kind) for w in names) + " |\n" for t in tools
        )
        parts.append(f"{title}:\n\n{head}{body}")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=5, help="recorded runs per pair")
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded rounds first")
    parser.add_argument("--scale", type=float, default=1.0, help="workload size multiplier")
    parser.add_argument("--workloads", nargs="+", metavar="NAME", help="default: all")
    parser.add_argument("--tools", nargs="+", metavar="NAME", help="default: all available")
    parser.add_argument("--python", default=sys.executable, help="interpreter to benchmark")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    parser.add_argument("--list", action="store_true", help="list tools and workloads")
    parser.add_argument(
        "--before",
        "--before-python",
        metavar="EXE",
        help="an interpreter with the build before a change: every timemory row is also run "
        "by it, as a '(before)' twin in the same interleaved rounds",
    )
    parser.add_argument(
        "--venv-root",
        type=Path,
        default=VENV_ROOT,
        metavar="DIR",
        help="where the real workloads' environments are made (one per Python version; "
        "default benchmarks/.venv-workloads)",
    )
    args = parser.parse_args(argv)

    if args.list:
        for t in TOOLS:
            print(f"tool     {t.name:<14} {shlex.join(t.args) or '(plain python)'}")
        for w in WORKLOADS:
            where = " (in the workloads' environment)" if w.venv else ""
            print(f"workload {w.name:<14} {w.script}: {w.description}{where}")
        return 0
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    # the runs start in their own temporary directories by execv, which neither searches PATH
    # nor knows the caller's directory: `--python .venv/bin/python` or `--python python3` need
    # the absolute path (not resolved further: a virtual environment's python is a symlink)
    found = shutil.which(args.python)
    if found is None:
        parser.error(f"--python {args.python}: not an executable file, nor found on PATH")
    args.python = os.path.abspath(found)
    if args.before is not None:
        found = shutil.which(args.before)
        if found is None:
            parser.error(f"--before {args.before}: not an executable file, nor found on PATH")
        args.before = os.path.abspath(found)

    tool_names = select(args.tools, [t.name for t in TOOLS], "tools")
    if BASELINE not in tool_names:
        tool_names.insert(0, BASELINE)  # every ratio is against it
    workload_names = select(args.workloads, [w.name for w in WORKLOADS], "workloads")

    notes: list[str] = []
    tools: list[Tool] = []
    for t in TOOLS:
        if t.name not in tool_names:
            continue
        if t.module and not probe(args.python, ["-m", t.module, "--help"]):
            notes.append(f"{t.label}: `python -m {t.module}` not available; skipped")
            continue
        tools.append(t)
        if args.before and t.module and t.module.startswith("timemory"):
            if probe(args.before, ["-m", t.module, "--help"]):
                label = f"{t.label} (before)"
                tools.append(replace(t, name=f"{t.name}@before", label=label, before=True))
            else:
                notes.append(f"{t.label}: `python -m {t.module}` not available in --before")
    workloads: list[Workload] = []
    pythons: dict[str, str] = {}
    venv_python: str | None = None
    venv_error: str | None = None
    if any(w.venv and w.name in workload_names for w in WORKLOADS):
        try:
            venv_python = workload_venv(args.python, args.venv_root)
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
            venv_error = str(exc)
    before_pythons: dict[str, str] = {}
    before_venv: str | None = None
    if args.before and any(w.venv and w.name in workload_names for w in WORKLOADS):
        # its own environment: the .pth file of one points at one interpreter's packages
        try:
            before_venv = workload_venv(args.before, args.venv_root / "before")
        except (RuntimeError, OSError, ValueError, subprocess.SubprocessError) as exc:
            venv_error = f"--before: {exc}"
            venv_python = None
    for w in WORKLOADS:
        if w.name not in workload_names:
            continue
        python = args.python
        if args.before:
            before_pythons[w.name] = before_venv if w.venv and before_venv else args.before
        if w.venv:
            if venv_python is None:
                notes.append(
                    f"workload {w.name}: no workloads' environment ({venv_error}); skipped"
                )
                print(f"skipping workload {w.name}: {venv_error}", file=sys.stderr)
                continue
            python = venv_python
        pythons[w.name] = python
        missing = [m for m in w.requires if not probe(python, ["-c", f"import {m}"])]
        if missing:
            notes.append(f"workload {w.name}: {', '.join(missing)} not importable; skipped")
            print(
                f"skipping workload {w.name}: {', '.join(missing)} not importable", file=sys.stderr
            )
            continue
        workloads.append(w)
    if not workloads:
        print("no workload to run", file=sys.stderr)
        return 2

    info = versions(args.python)
    if venv_python is not None:
        info.update((k, v) for k, v in versions(venv_python).items() if k in ("jinja2", "sympy"))
    print(
        f"{len(workloads)} workloads x {len(tools)} tools x {args.repeats} repeats "
        f"(+{args.warmup} warm-up), scale {args.scale:g}, {args.python}",
        file=sys.stderr,
    )
    cells = benchmark(
        pythons,
        before_pythons,
        workloads,
        tools,
        args.repeats,
        args.warmup,
        args.scale,
        args.timeout,
    )
    summary = summarize(cells)
    lines, verdict = check(summary)

    cli = sys.argv[1:] if argv is None else argv
    command = shlex.join(["python", "benchmarks/profiler_overhead.py", *cli])
    pkgs = ", ".join(f"{k} {v}" for k, v in info.items() if k != "implementation")
    print(
        f"`{command}`: {pkgs}; {os.cpu_count()} CPUs; medians of {args.repeats} interleaved "
        f"runs, scale {args.scale:g}\n"
    )
    print(markdown(summary, tools, workloads))
    for t in tools:
        if t.note:
            notes.append(f"{t.label}: {t.note}")
    for wname, row in summary.items():
        for tname, fig in row.items():
            if "error" in fig:
                notes.append(f"{wname} / {tname} failed: {fig['error'].strip()[-300:]}")
    if notes:
        print("Notes:\n" + "".join(f"- {n}\n" for n in notes))
    status = {True: "MET", False: "MISSED", None: "NOT EVALUATED"}
    line_lines, line_verdict = check_lines(summary)
    real_lines, real_verdict = check_real(summary)
    targets = (
        (
            "Target: timemory.profiler -c wall_clock slows every workload less than cProfile, "
            f"and its RSS overhead is <= {RSS_TARGET_RATIO:g}x cProfile's",
            "target",
            lines,
            verdict,
        ),
        (
            "Line-profiler target: timemory.line_profiler slows the line-heavy and mixed "
            "workloads less than kernprof -l, and fib, tree_walk and hot_call at most as much",
            "line-profiler target",
            line_lines,
            line_verdict,
        ),
        (
            "Real-workload target: timemory.profiler with its default components slows the "
            "CPU time of jinja2 and sympy at most as much as cProfile",
            "real-workload target",
            real_lines,
            real_verdict,
        ),
    )
    for title, name, target_lines, target_verdict in targets:
        if not target_lines:  # none of its workloads ran
            continue
        print(title)
        for line in target_lines:
            print(f"  {line}")
        print(f"{name} {status[target_verdict]}")
    # --check: missed if any target that ran is missed, else not evaluated if any could not be
    ran = [v for _, _, target_lines, v in targets if target_lines]
    overall = False if False in ran else (None if None in ran or not ran else True)

    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "command": command,
                    "versions": info,
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                    "repeats": args.repeats,
                    "warmup": args.warmup,
                    "scale": args.scale,
                    "rss_floor_mib": RSS_FLOOR_MIB,
                    "tools": {
                        t.name: {"label": t.label, "args": t.args, "note": t.note} for t in tools
                    },
                    "results": summary,
                    "target": {"met": verdict if lines else None, "lines": lines},
                    "line_target": {"met": line_verdict, "lines": line_lines},
                    "real_target": {"met": real_verdict, "lines": real_lines},
                    "workload_python": pythons,
                    "notes": notes,
                    "met": overall,
                },
                f,
                indent=2,
            )
    if not args.check:
        return 0
    return {True: 0, False: 1, None: 2}[overall]


if __name__ == "__main__":
    sys.exit(main())
