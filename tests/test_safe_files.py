"""Files that cannot be turned against the user: temp files created exclusively (a symlink
planted at the temp name or at the final name is never written through), folders another user
controls refused, names that cannot leave the output folder, config files that cannot hang or
exhaust memory, and ``.lprof`` files that cannot run code when loaded."""

from __future__ import annotations

import os
import pickle
import stat
import subprocess
import sys
import warnings

import pytest
from timemory import _files, _output, settings
from timemory._output import _plan
from tool_helpers import clean_env

IS_ROOT = os.geteuid() == 0


@pytest.fixture
def fresh_plan_state(monkeypatch):
    """The run's fallback folders and lost files, emptied for the test and put back after."""
    monkeypatch.setattr(_plan, "_FALLBACK", {})
    monkeypatch.setattr(_plan, "_LOST", [])
    yield _plan._FALLBACK
    for folder in _plan._FALLBACK.values():
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------ symlinks
def test_symlink_at_the_final_name_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(victim, out / "wall.json")
    _files.atomic_write(out / "wall.json", "new content")
    assert victim.read_text() == "precious"
    assert not os.path.islink(out / "wall.json")
    assert (out / "wall.json").read_text() == "new content"


def test_symlink_at_the_temp_name_is_not_written_through(tmp_path):
    """The first writes of a fresh process: symlinks planted at every temp name it could use
    (``.<name>.tmp.<pid>.<n>``) make the write fail, never write through; finalize then puts
    the data in a fallback folder."""
    victim = tmp_path / "victim"
    victim.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    script = f"""
import os, sys
from timemory import _files, region
out, victim = {str(out)!r}, {str(victim)!r}
names = ["plain.json", "wall.json", "wall.tree.json", "wall.flamegraph.json", "wall.txt",
         "metadata.json", "functions.json"]
for name in names:
    for n in range(64):
        os.symlink(victim, os.path.join(out, f".{{name}}.tmp.{{os.getpid()}}.{{n}}"))
try:
    _files.atomic_write(os.path.join(out, "plain.json"), "attack")
    print("WROTE")
except OSError as err:
    print("refused:", err)
region.push("kept")
region.pop("kept")
"""
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": str(out), "TIMEMORY_COUT_OUTPUT": "OFF"}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "refused:" in proc.stdout and "WROTE" not in proc.stdout, proc.stdout
    assert victim.read_text() == "precious"
    assert not (out / "plain.json").exists()
    lines = [line for line in proc.stderr.splitlines() if "writing the output to" in line]
    assert len(lines) == 1, proc.stderr
    fallback = lines[0].rsplit("writing the output to '", 1)[1].split("'")[0]
    try:
        assert (tmp_path / fallback / "wall.json").exists() or os.path.exists(
            os.path.join(fallback, "wall.json")
        )
        assert stat.S_IMODE(os.stat(fallback).st_mode) == 0o700
    finally:
        import shutil

        shutil.rmtree(fallback, ignore_errors=True)


# ------------------------------------------------------------------ folders
@pytest.mark.skipif(not IS_ROOT, reason="making a folder another user owns needs root (chown)")
def test_folder_owned_by_another_user_is_refused(tmp_path, fresh_plan_state):
    import pwd

    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("no user 'nobody' to own the folder")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    os.chown(foreign, nobody, -1)
    with pytest.raises(_files.UnsafeFolderError, match="belongs to user 'nobody'") as err:
        _files.atomic_write(foreign / "x.json", "{}")
    assert "\n" not in str(err.value)
    assert os.listdir(foreign) == []
    # an output plan into it writes to a private fallback folder instead
    plan = _output.OutputPlan(str(foreign), 0, False)
    path = plan.write("wall", ".json", "{}", "json", "wall", announce=False)
    assert path is not None and not path.startswith(str(foreign))
    assert os.listdir(foreign) == []
    with open(path) as f:
        assert f.read() == "{}"


@pytest.mark.skipif(not IS_ROOT, reason="making another user's symlink needs root (lchown)")
def test_output_folder_that_is_another_users_symlink_is_refused(tmp_path):
    import pwd

    try:
        nobody = pwd.getpwnam("nobody").pw_uid
    except KeyError:
        pytest.skip("no user 'nobody' to own the symlink")
    mine = tmp_path / "mine"
    mine.mkdir()
    os.symlink(mine, tmp_path / "planted")
    os.lchown(tmp_path / "planted", nobody, -1)
    with pytest.raises(_files.UnsafeFolderError, match="a symlink that belongs to user 'nobody'"):
        _files.atomic_write(tmp_path / "planted" / "x.json", "{}")
    assert os.listdir(mine) == []
    os.symlink(mine, tmp_path / "own")  # this user's own symlink is followed
    _files.atomic_write(tmp_path / "own" / "x.json", "{}")
    assert os.listdir(mine) == ["x.json"]


def test_world_writable_folder_without_sticky_bit_is_refused(tmp_path, capfd, fresh_plan_state):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    with pytest.raises(_files.UnsafeFolderError, match="no sticky bit"):
        _files.atomic_write(shared / "x.json", "{}")
    assert os.listdir(shared) == []
    # the time folder created inside it would be exposed too: the plan checks the folder
    plan = _output.OutputPlan(str(shared), 0, False)
    path = plan.write("wall", ".json", "{}", "json", "wall", announce=False)
    assert path is not None and not path.startswith(str(shared))
    err = capfd.readouterr().err.splitlines()
    assert len(err) == 1 and "refusing to write into" in err[0] and path.rsplit("/", 1)[0] in err[0]
    # with the sticky bit (as /tmp has) it is accepted
    os.chmod(shared, 0o1777)
    _files.atomic_write(shared / "x.json", "{}")
    assert (shared / "x.json").read_text() == "{}"


def test_folders_of_this_user_and_of_root_are_accepted(tmp_path):
    _files.check_folder(str(tmp_path))
    _files.check_folder("/")  # root's
    _files.check_folder(str(tmp_path / "missing"))  # made by this process when written


# ------------------------------------------------------------------ names
@pytest.mark.parametrize("prefix", ["../../etc/passwd", "a/b", "..", "x..y"])
def test_output_prefix_cannot_leave_the_folder(prefix):
    before = settings.output_prefix
    with pytest.raises(ValueError, match="output_prefix") as err:
        settings.output_prefix = prefix
    assert "\n" not in str(err.value) and "no '/' and no '..'" in str(err.value)
    assert settings.output_prefix == before


@pytest.mark.parametrize("fmt", ["%D", "../%Y", "%Y/%m", ".."])
def test_time_format_must_give_one_folder_name(fmt):
    before = settings.time_format
    with pytest.raises(ValueError, match="time_format"):
        settings.time_format = fmt
    assert settings.time_format == before


def test_prefix_from_the_environment_is_refused_and_files_stay_inside(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-c", "from timemory import region; region.push('x'); region.pop('x')"],
        cwd=tmp_path,
        env=clean_env(
            {
                "TIMEMORY_OUTPUT_PATH": str(out),
                "TIMEMORY_OUTPUT_PREFIX": "../../../../escaped",
                "TIMEMORY_COUT_OUTPUT": "OFF",
            }
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    warning = [line for line in proc.stderr.splitlines() if "TIMEMORY_OUTPUT_PREFIX" in line]
    assert len(warning) == 1 and "keeping ''" in warning[0], proc.stderr
    assert (out / "wall.json").exists()
    assert not list(tmp_path.glob("**/*escaped*"))


def test_slurm_job_id_cannot_leave_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "../../../evil/x")
    monkeypatch.setattr(settings, "output_path", str(tmp_path / "run-%j"))
    monkeypatch.setattr(settings, "output_prefix", "p%j")
    path = settings.compose_output_filename("wall", ".json", make_dir=False)
    folder, name = os.path.split(path)
    assert os.path.dirname(folder) == str(tmp_path) and ".." not in path
    assert os.path.basename(folder).startswith("run-") and "evil" in folder
    assert name.startswith("p") and name.endswith("-wall.json") and "evil" in name


def test_a_path_is_used_as_given(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "output_path", str(tmp_path / "a--b"))
    monkeypatch.setattr(settings, "output_prefix", "run--x")
    path = settings.compose_output_filename("wall--1", ".json", make_dir=False)
    assert path == f"{tmp_path}/a--b/run--x-wall--1.json"


def test_script_derived_folder_name_keeps_the_reference_form():
    from timemory import _lifecycle

    # only the folder named after the script is normalised, as the reference names it
    assert _lifecycle._output_dir_name("/x/my__test.py", "timemory-", "-output") == (
        "timemory-my-test-output"
    )


# ------------------------------------------------------------------ config files
def _import_with_config(path: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import timemory; print('imported')"],
        cwd=cwd,
        env=clean_env({"TIMEMORY_CONFIG_FILE": path}),
        capture_output=True,
        text=True,
        timeout=60,  # a hang (the FIFO) or reading /dev/zero until memory runs out fails here
    )


def test_fifo_config_file_does_not_hang_import(tmp_path):
    fifo = tmp_path / "fifo.cfg"
    os.mkfifo(fifo)
    proc = _import_with_config(str(fifo), tmp_path)
    assert proc.returncode == 0 and proc.stdout == "imported\n", proc.stderr
    # one warning (Python 3.13 also shows the source line of ``-c`` code under it)
    lines = [line for line in proc.stderr.splitlines() if "Warning" in line]
    assert len(lines) == 1 and "not a regular file" in lines[0] and str(fifo) in lines[0]


def test_dev_zero_config_file_is_refused(tmp_path):
    proc = _import_with_config("/dev/zero", tmp_path)
    assert proc.returncode == 0 and proc.stdout == "imported\n", proc.stderr
    assert "/dev/zero: not a regular file" in proc.stderr


def test_config_file_too_large_is_refused(tmp_path):
    big = tmp_path / "big.cfg"
    big.write_text("# padding\n" * 200_000)  # 2 MB
    with pytest.raises(ValueError, match="larger than a timemory config file may be"):
        settings.read(str(big))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(ValueError, match="not a regular file"):
            settings.read(str(tmp_path / "fifo"))  # returns at once: opened without blocking
    assert not caught


def test_regular_config_file_is_still_read(tmp_path):
    cfg = tmp_path / "ok.cfg"
    cfg.write_text("timing_units msec\n")
    inst = settings()
    settings.read(inst, str(cfg))
    assert inst.timing_units == "msec"


# ------------------------------------------------------------------ .lprof
class _RunsCode:
    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_hostile_lprof_is_refused_without_running_it(tmp_path):
    lp = pytest.importorskip("timemory.line_profiler")
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.lprof"
    evil.write_bytes(pickle.dumps(_RunsCode(str(marker))))
    with pytest.raises(ValueError) as err:
        lp.load_stats(str(evil))
    text = str(err.value)
    assert text.startswith(f"{evil}: ") and "system" in text and "\n" not in text
    assert not marker.exists()


def test_malformed_lprof_is_one_value_error(tmp_path):
    lp = pytest.importorskip("timemory.line_profiler")
    for content in (b"", b"not a pickle", pickle.dumps({"timings": 1}), pickle.dumps([1, 2])):
        bad = tmp_path / "bad.lprof"
        bad.write_bytes(content)
        with pytest.raises(ValueError, match=f"^{bad}: not an .lprof file"):
            lp.load_stats(str(bad))


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_line_profiler_files_of_every_protocol_are_read(tmp_path, protocol):
    lp = pytest.importorskip("timemory.line_profiler")
    import line_profiler

    stats = line_profiler.LineStats({("a.py", 1, "f"): [(2, 3, 100)]}, 1e-6)
    path = tmp_path / "ok.lprof"
    path.write_bytes(pickle.dumps(stats, protocol))
    loaded = lp.load_stats(str(path))
    assert loaded.timings == {("a.py", 1, "f"): [(2, 3, 100)]} and loaded.unit == 1e-6
