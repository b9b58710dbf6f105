"""Never lose data silently: an output folder that cannot be written (read-only, full, a bad
path, refused) gives a private fallback folder named on stderr; when nothing can be written,
one line says so and a program that succeeded exits with ``_output.LOST_STATUS`` while one that
failed keeps its status. Non-UTF-8 script names and output paths are written, never a
TypeError."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from timemory import _core, _output
from timemory._output import _plan
from tool_helpers import clean_env

IS_ROOT = os.geteuid() == 0
LOST = _output.LOST_STATUS
FALLBACK_LINE = re.compile(r"^\[timemory\]> .*; writing the output to '(.+)' instead$")
LOST_LINE = "could not be written anywhere and is lost"

REGIONS = """
from timemory import region
for i in range({n}):
    region.push(f"region-{{i}}")
    region.pop(f"region-{{i}}")
"""

# Fault injection: the native writer fails as a full disk makes it fail, for the paths
# under FAIL_UNDER (every path when it is empty).
INJECT = """
import os
from timemory import _core
_real, _under = _core.atomic_write, os.fsencode({under!r})
def _full(path, *parts):
    if path.startswith(_under):
        raise ValueError(f"cannot write {{path!r}}: No space left on device")
    return _real(path, *parts)
_core.atomic_write = _full
"""


def _run(args, cwd, env=None, timeout=120) -> subprocess.CompletedProcess:
    return subprocess.run(
        args,
        cwd=cwd,
        env=clean_env({"TIMEMORY_COUT_OUTPUT": "OFF", **(env or {})}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _script(tmp_path: Path, source: str, name: str = "script.py") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return str(path)


def _fallback_of(stderr: str) -> str:
    lines = [m.group(1) for m in map(FALLBACK_LINE.match, stderr.splitlines()) if m]
    assert len(lines) == 1, stderr
    return lines[0]


def _regions_in(folder: str) -> int:
    with open(os.path.join(folder, "wall.json")) as f:
        return len(json.load(f)["timemory"]["wall_clock"]["ranks"][0]["graph"])


@pytest.fixture
def private_tmpdir(tmp_path):
    """TMPDIR for the subprocesses: their fallback folders land in the test's folder."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    return tmpdir


@pytest.fixture
def fresh_plan_state(monkeypatch):
    monkeypatch.setattr(_plan, "_FALLBACK", {})
    monkeypatch.setattr(_plan, "_LOST", [])
    yield _plan._FALLBACK
    for folder in _plan._FALLBACK.values():
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ in a mount namespace
def _in_mount_namespace(mount_options: str, folder: Path, command: list[str]) -> list[str]:
    """``command`` run with a tmpfs (``mount_options``) mounted at ``folder``, in a private
    mount namespace (root: ``unshare -m``; others: a user namespace, ``unshare -Urm``); skips
    when neither can be made here."""
    inner = f'mount -t tmpfs -o {mount_options} tmpfs "$0" && exec "$@"'
    for unshare in (["unshare", "-m"], ["unshare", "-Urm"]):
        if shutil.which("unshare") is None:
            break
        probe = subprocess.run(
            [*unshare, "sh", "-c", inner, str(folder), "true"],
            capture_output=True,
            timeout=60,
        )
        if probe.returncode == 0:
            return [*unshare, "sh", "-c", inner, str(folder), *command]
    pytest.skip("cannot mount a tmpfs in a private mount namespace here")


def test_read_only_folder_falls_back(tmp_path, private_tmpdir):
    out = tmp_path / "out"
    out.mkdir()
    script = _script(tmp_path, REGIONS.format(n=5))
    if IS_ROOT:  # chmod does not stop root: a read-only mount does
        command = _in_mount_namespace("ro,size=1m", out, [sys.executable, script])
    else:
        os.chmod(out, 0o555)
        command = [sys.executable, script]
    proc = _run(
        command, tmp_path, {"TIMEMORY_OUTPUT_PATH": str(out), "TMPDIR": str(private_tmpdir)}
    )
    assert proc.returncode == 0, proc.stderr
    fallback = _fallback_of(proc.stderr)
    assert fallback.startswith(str(private_tmpdir) + "/timemory-out-")
    assert str(out) in proc.stderr and LOST_LINE not in proc.stderr
    assert _regions_in(fallback) == 5
    assert os.path.exists(os.path.join(fallback, "metadata.json"))
    assert os.listdir(out) == []


def test_full_disk_falls_back(tmp_path, private_tmpdir):
    out = tmp_path / "out"
    out.mkdir()
    script = _script(tmp_path, REGIONS.format(n=2000))  # wall.json of a few hundred KB
    command = _in_mount_namespace("size=64k", out, [sys.executable, script])
    proc = _run(
        command, tmp_path, {"TIMEMORY_OUTPUT_PATH": str(out), "TMPDIR": str(private_tmpdir)}
    )
    assert proc.returncode == 0, proc.stderr
    fallback = _fallback_of(proc.stderr)
    assert "No space left on device" in proc.stderr
    assert _regions_in(fallback) == 2000


# ------------------------------------------------------------------ fault injection
def test_injected_full_disk_falls_back_in_process(tmp_path, monkeypatch, capfd, fresh_plan_state):
    out = tmp_path / "out"
    real = _core.atomic_write

    def full(path, *parts):
        if path.startswith(os.fsencode(out)):
            raise ValueError(f"cannot write '{os.fsdecode(path)}': No space left on device")
        return real(path, *parts)

    monkeypatch.setattr(_core, "atomic_write", full)
    plan = _output.OutputPlan(str(out), 0, False)
    first = plan.write("wall", ".json", "{}", "json", "wall", announce=False)
    second = _output.OutputPlan(str(out), 0, False).write("cpu", ".json", "[]", "json", "cpu")
    assert first is not None and second is not None
    assert os.path.dirname(first) == os.path.dirname(second) == fresh_plan_state[str(out)]
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 1 and "No space left on device" in err[0], err
    assert _output.lost_files() == []


def test_nothing_writable_is_one_line_and_the_lost_status(
    tmp_path, monkeypatch, capfd, fresh_plan_state
):
    armed = []
    monkeypatch.setattr(_core, "set_exit_status_on_success", lambda s: armed.append(s) or True)

    def full(path, *parts):
        raise ValueError(f"cannot write '{os.fsdecode(path)}': No space left on device")

    monkeypatch.setattr(_core, "atomic_write", full)
    plan = _output.OutputPlan(str(tmp_path / "out"), 0, False)
    assert plan.write("wall", ".json", "{}", "json", "wall") is None
    assert plan.write("wall", ".txt", "table", "text", "wall") is None
    assert len(_output.lost_files()) == 2 and armed == [LOST]
    err = capfd.readouterr().err.splitlines()
    assert sum(LOST_LINE in line for line in err) == 1, err
    assert f"exit status {LOST}" in err[-1]


@pytest.mark.parametrize(
    "ending, status",
    [
        ("", LOST),
        ("import sys; sys.exit(0)", LOST),
        ("import sys; sys.exit(3)", 3),
        ("raise RuntimeError('the program failed')", 1),
    ],
)
def test_exit_status_when_the_output_is_lost(tmp_path, private_tmpdir, ending, status):
    if not _core.set_exit_status_on_success(0):
        pytest.skip("no glibc on_exit: only the command-line tools change the status here")
    source = INJECT.format(under="/") + REGIONS.format(n=3) + ending + "\n"
    proc = _run(
        [sys.executable, _script(tmp_path, source)],
        tmp_path,
        {"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"), "TMPDIR": str(private_tmpdir)},
    )
    assert proc.returncode == status, proc.stderr
    assert sum(LOST_LINE in line for line in proc.stderr.splitlines()) == 1, proc.stderr


@pytest.mark.parametrize("ending, status", [("", LOST), ("import sys; sys.exit(5)", 5)])
def test_exit_status_of_a_tool_when_the_output_is_lost(tmp_path, private_tmpdir, ending, status):
    source = INJECT.format(under="/") + "def work():\n    return sum(range(100))\nwork()\n"
    script = _script(tmp_path, source + ending + "\n")
    proc = _run(
        [sys.executable, "-m", "timemory.profiler", "-c", "wall_clock", "--", script],
        tmp_path,
        {"TIMEMORY_OUTPUT_PATH": str(tmp_path / "out"), "TMPDIR": str(private_tmpdir)},
    )
    assert proc.returncode == status, proc.stderr
    assert sum(LOST_LINE in line for line in proc.stderr.splitlines()) == 1, proc.stderr


def test_exit_status_switch_keeps_failures():
    code = "from timemory import _core; _core.set_exit_status_on_success({arm}){rest}"
    cases = [
        ("74", "", 74),
        ("74", "; import sys; sys.exit(3)", 3),
        ("74", "; raise SystemExit(2)", 2),
    ]
    cases.append(("0", "", 0))
    if not _core.set_exit_status_on_success(0):
        pytest.skip("no glibc on_exit")
    for arm, rest, status in cases:
        proc = subprocess.run(
            [sys.executable, "-c", code.format(arm=arm, rest=rest)],
            env=clean_env(),
            capture_output=True,
            timeout=120,
        )
        assert proc.returncode == status, (arm, rest, proc.stderr)


def test_lprof_that_cannot_be_written_goes_to_the_fallback(tmp_path, private_tmpdir):
    pytest.importorskip("line_profiler")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    script = _script(tmp_path, "@profile\ndef f():\n    return 1\nf()\n")
    proc = _run(
        [
            sys.executable,
            "-m",
            "timemory.line_profiler",
            "-o",
            str(blocker / "x.lprof"),
            "--",
            script,
        ],
        tmp_path,
        {"TMPDIR": str(private_tmpdir), "TIMEMORY_OUTPUT_PATH": str(tmp_path / "out")},
    )
    assert proc.returncode == 0, proc.stderr
    fallback = _fallback_of(proc.stderr)
    assert os.path.exists(os.path.join(fallback, "x.lprof"))
    from timemory.line_profiler import load_stats

    assert load_stats(os.path.join(fallback, "x.lprof")).timings


# ------------------------------------------------------------------ non-UTF-8 names
def test_non_utf8_script_name_and_output_path(tmp_path):
    folder = os.fsencode(tmp_path)
    script = os.path.join(folder, b"k\xff.py")
    with open(script, "w") as f:
        f.write(REGIONS.format(n=2))
    env = {k.encode(): v.encode() for k, v in clean_env({"TIMEMORY_COUT_OUTPUT": "OFF"}).items()}
    named = subprocess.run(
        [sys.executable, script], cwd=folder, env=env, capture_output=True, timeout=120
    )
    assert named.returncode == 0, named.stderr
    assert (
        b"Traceback (most recent call last)" not in named.stderr
        and b"TypeError" not in named.stderr
    )
    assert _regions_in(os.fsdecode(os.path.join(folder, b"timemory-k\xff-output"))) == 2

    env[b"TIMEMORY_OUTPUT_PATH"] = os.path.join(folder, b"o\xfe--ut")
    given = subprocess.run(
        [sys.executable, script], cwd=folder, env=env, capture_output=True, timeout=120
    )
    assert given.returncode == 0, given.stderr
    out = os.path.join(folder, b"o\xfe--ut")  # used as given: bytes and "--" kept
    assert _regions_in(os.fsdecode(out)) == 2
    with open(os.path.join(out, b"metadata.json"), "rb") as f:
        listed = json.load(f)["timemory"]["metadata"]["output"]["json"]
    assert os.fsencode(listed[0]) == os.path.join(out, b"wall.json")
