"""Fault injection: signals that end a job, sent to a program part-way through a loop.

Each child runs a loop (under markers, or under one of the three command-line tools), counts
its iterations in a memory-mapped file that outlives it and prints ``ready`` once it is
``READY`` iterations in; only then does the test send the signal (no sleeping and hoping).
The child must end as the signal ends a process (``returncode == -signum``) with at least 99%
of the iterations done by then recorded in its output. SIGTERM is tried in every mode, the
other default ending signals in one mode each.
"""

from __future__ import annotations

import json
import mmap
import os
import resource
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tool_helpers import clean_env

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

READY = 3000
TIMEOUT = 120  # seconds for one child: generous, the machine may be busy

LOOP = """
import mmap, os, sys
{imports}
_fd = os.open(sys.argv[1], os.O_RDWR)
_counter = mmap.mmap(_fd, 8)

{decorator}
def step():
    pass

{setup}
i = 0
while True:
    {body}
    i += 1
    _counter[:8] = i.to_bytes(8, "little")
    if i == {ready}:
        print("ready", flush=True)
"""

MARKERS = {
    "imports": "import timemory\nfrom timemory.bundle import marker",
    "decorator": "",
    "body": 'with marker(["wall_clock"], key="step"):\n        step()',
}
TOOL_LOOP = {"imports": "", "decorator": "", "body": "step()"}
TOOLS = {
    "profiler": ("timemory.profiler", TOOL_LOOP),
    "trace": ("timemory.trace", TOOL_LOOP),
    "line_profiler": ("timemory.line_profiler", {**TOOL_LOOP, "decorator": "@profile"}),
}


def _no_core_files() -> None:
    # SIGQUIT and SIGXCPU dump core by default: not into the test's folder
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Child:
    """A loop program started in ``folder``, its counter and its output."""

    def __init__(
        self,
        folder: Path,
        mode: str,
        setup: str = "",
        env: dict | None = None,
        parts: dict | None = None,
    ):
        self.folder = folder
        self.mode = mode
        counter = folder / "counter"
        counter.write_bytes(b"\0" * 8)
        self.counter = counter
        if parts is None:
            parts = MARKERS if mode == "markers" else TOOLS[mode][1]
        (folder / "prog.py").write_text(
            LOOP.format(ready=READY, setup=textwrap.dedent(setup), **parts)
        )
        command = [sys.executable]
        if mode != "markers":
            command += ["-m", TOOLS[mode][0], "-d", "out", "--"]
        command += ["prog.py", str(counter)]
        extra = {"TIMEMORY_OUTPUT_PATH": "out", "TIMEMORY_COUT_OUTPUT": "OFF"}
        extra.update(env or {})
        self.proc = subprocess.Popen(
            command,
            cwd=folder,
            env=clean_env(extra),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_no_core_files,
        )

    def wait_until(self, word: str = "ready") -> None:
        """Read the child's stdout until a line with ``word`` (the tools print a line first)."""
        assert self.proc.stdout is not None
        while True:
            line = self.proc.stdout.readline()
            if not line:
                _, err = self.proc.communicate(timeout=TIMEOUT)
                raise AssertionError(f"the child ended before '{word}': {err}")
            if word in line:
                return

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def finish(self) -> tuple[int, str]:
        _, err = self.proc.communicate(timeout=TIMEOUT)
        return self.proc.returncode, err

    def done(self) -> int:
        with open(self.counter, "r+b") as f, mmap.mmap(f.fileno(), 8) as m:
            return int.from_bytes(m[:8], "little")

    def recorded(self) -> int:
        """The laps of ``step`` in the output (the line profiler: the hits of its line)."""
        if self.mode == "line_profiler":
            from timemory.line_profiler import load_stats

            stats = load_stats(self.folder / "prog.py.lprof")
            return max(n for key, lines in stats.timings.items() for _, n, _ in lines)
        data = json.loads((self.folder / "out" / "wall.json").read_text())
        graph = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
        return max(e["entry"]["laps"] for e in graph if "step" in e["prefix"])


def _ended_by(child: Child, signum: int) -> str:
    status, err = child.finish()
    assert status == -signum, (status, err)
    assert "Traceback (most recent call last)" not in err, err
    return err


def _share_recorded(child: Child) -> None:
    done, recorded = child.done(), child.recorded()
    assert done >= READY
    assert 0.99 * done <= recorded <= done + 1, (recorded, done)


CASES = [
    ("markers", "SIGTERM"),
    ("profiler", "SIGTERM"),
    ("trace", "SIGTERM"),
    ("line_profiler", "SIGTERM"),
    ("markers", "SIGHUP"),
    ("profiler", "SIGQUIT"),
    ("trace", "SIGXCPU"),
    ("markers", "SIGUSR2"),
]


@pytest.mark.parametrize(("mode", "name"), CASES, ids=[f"{m}-{n}" for m, n in CASES])
def test_an_ending_signal_writes_the_data_then_ends_the_process_as_it_would(tmp_path, mode, name):
    signum = int(getattr(signal, name))
    child = Child(tmp_path, mode)
    child.wait_until()
    child.signal(signum)
    err = _ended_by(child, signum)
    assert f"{name} received" in err
    _share_recorded(child)
    if mode != "line_profiler":
        metadata = json.loads((tmp_path / "out" / "metadata.json").read_text())
        assert metadata  # the output is complete: metadata.json is written last


def test_a_handler_the_program_set_before_import_keeps_working(tmp_path):
    # the program's handler (set before timemory is imported) stops the loop; the program then
    # ends as its handler says and its data are written at exit as always
    parts = {
        **MARKERS,
        "imports": textwrap.dedent(
            """
            import signal
            def stop(signum, frame):
                print("the program's handler ran", flush=True)
                raise SystemExit(3)
            signal.signal(signal.SIGTERM, stop)
            import timemory
            from timemory.bundle import marker
            """
        ),
    }
    child = Child(tmp_path, "markers", parts=parts)
    child.wait_until()
    child.signal(signal.SIGTERM)
    child.wait_until("the program's handler ran")
    status, err = child.finish()
    assert status == 3, err
    assert "SIGTERM received" not in err
    _share_recorded(child)


def test_a_handler_the_program_sets_after_import_replaces_ours_and_can_chain_to_it(tmp_path):
    setup = """
    import signal
    def mine(signum, frame):
        open("mine-ran", "w").close()
        previous(signum, frame)  # timemory's: writes, then ends the process
    previous = signal.signal(signal.SIGTERM, mine)
    """
    child = Child(tmp_path, "markers", setup=setup)
    child.wait_until()
    child.signal(signal.SIGTERM)
    _ended_by(child, signal.SIGTERM)
    assert (tmp_path / "mine-ran").exists()
    _share_recorded(child)


def test_the_exit_action_runs_before_the_write(tmp_path):
    setup = """
    import timemory.signals
    def action(signum):
        with open("action", "w") as f:
            f.write(f"{signum} {os.path.exists('out/metadata.json')}")
    timemory.signals.set_exit_action(action)
    """
    child = Child(tmp_path, "markers", setup=setup)
    child.wait_until()
    child.signal(signal.SIGTERM)
    _ended_by(child, signal.SIGTERM)
    assert (tmp_path / "action").read_text() == f"{int(signal.SIGTERM)} False"
    _share_recorded(child)


# A format that runs while the output is written (before the files of the component) and
# sends this process more SIGTERMs: ``n`` of them
DURING_WRITE = """
import signal
from timemory import _output
def poke(component):
    for _ in range({n}):
        os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(1000):  # bytecodes: the handler runs here for each one
        pass
_output.register_format(_output.Format("poke", "", "", poke, "prepare"))
"""


def test_a_second_signal_during_the_write_does_not_interrupt_it(tmp_path):
    child = Child(tmp_path, "markers", setup=DURING_WRITE.format(n=1))
    child.wait_until()
    child.signal(signal.SIGTERM)
    _ended_by(child, signal.SIGTERM)
    _share_recorded(child)
    assert (tmp_path / "out" / "metadata.json").exists()


def test_a_third_signal_ends_the_process_at_once(tmp_path):
    child = Child(tmp_path, "markers", setup=DURING_WRITE.format(n=2))
    child.wait_until()
    child.signal(signal.SIGTERM)
    _ended_by(child, signal.SIGTERM)
    # ended before the files were written: the third signal does not wait
    assert not (tmp_path / "out" / "wall.json").exists()


def _terminate_stuck_main(tmp_path: Path, body: str) -> int:
    """Runs ``body`` (it prints "ready", then blocks its main thread in C code), sends it
    SIGTERM, checks that the signal ended it, and returns the laps of its one wall.json node."""
    (tmp_path / "prog.py").write_text("import timemory\n" + textwrap.dedent(body))
    proc = subprocess.Popen(
        [sys.executable, "prog.py"],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": "out", "TIMEMORY_COUT_OUTPUT": "OFF"}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and "ready" in proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("the process went on waiting with the signal") from None
    assert proc.returncode == -signal.SIGTERM, err
    data = json.loads((tmp_path / "out" / "wall.json").read_text())
    [entry] = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
    return int(entry["entry"]["laps"])


def test_a_signal_held_for_a_write_still_ends_a_stuck_main_thread(tmp_path):
    # SIGTERM arrives while a write is under way (held: pending); the write ends without
    # anyone ending the process, and the main thread is blocked in C code where its handler
    # never runs (a pool worker waiting for work): the watcher still ends it, data written
    body = """
    import signal, threading, time
    from timemory import _lifecycle
    from timemory.bundle import marker
    for k in range(200):
        with marker(["wall_clock"], key="step"):
            pass
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    _lifecycle._state["finalizing"] = True  # a write under way, as the signal comes

    def write_over():
        time.sleep(0.3)
        _lifecycle._state["finalizing"] = False  # over, and nothing ends the process

    threading.Thread(target=write_over, daemon=True).start()
    print("ready", flush=True)
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()
    """
    assert _terminate_stuck_main(tmp_path, body) == 200


def test_a_main_thread_stuck_in_c_still_gets_its_data_written(tmp_path):
    # the main thread blocks SIGTERM and waits on a lock nobody releases: its handler can
    # never run; the watcher thread writes the data and ends the process
    body_then_block = """
    import signal, threading
    from timemory.bundle import marker
    for k in range(2000):
        with marker(["wall_clock"], key="step"):
            pass
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    print("ready", flush=True)
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()
    """
    assert _terminate_stuck_main(tmp_path, body_then_block) == 2000


def test_the_dump_signal_writes_a_checkpoint_and_the_program_goes_on(tmp_path):
    # the program waits for the checkpoint's files, keeps what they held, then goes on
    program = """
    import os, sys, time
    import timemory
    from timemory.bundle import marker
    for k in range(1000):
        with marker(["wall_clock"], key="before"):
            pass
    print("ready", flush=True)
    while not os.path.exists("out/metadata.json"):  # the checkpoint
        time.sleep(0.01)
    checkpoint = open("out/wall.json").read()
    with open("checkpoint.json", "w") as f:
        f.write(checkpoint)
    for k in range(500):
        with marker(["wall_clock"], key="after"):
            pass
    print("went on", flush=True)
    """
    (tmp_path / "prog.py").write_text(textwrap.dedent(program))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import signal, subprocess, sys
                p = subprocess.Popen([sys.executable, "prog.py"], stdout=subprocess.PIPE,
                                     text=True)
                assert "ready" in p.stdout.readline()
                p.send_signal(signal.SIGUSR1)
                out, _ = p.communicate(timeout=100)
                print(out, "status", p.returncode)
                """
            ),
        ],
        cwd=tmp_path,
        env=clean_env(
            {
                "TIMEMORY_OUTPUT_PATH": "out",
                "TIMEMORY_COUT_OUTPUT": "OFF",
                "TIMEMORY_DUMP_SIGNAL": "SIGUSR1",
            }
        ),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert "went on" in proc.stdout and "status 0" in proc.stdout, proc.stdout + proc.stderr
    checkpoint = json.loads((tmp_path / "checkpoint.json").read_text())
    labels = {
        e["prefix"].strip("> |_"): e["entry"]["laps"]
        for e in checkpoint["timemory"]["wall_clock"]["ranks"][0]["graph"]
    }
    assert labels == {"before": 1000}
    assert checkpoint["checkpoint"]["final"] is False  # the file says it is a checkpoint
    final = json.loads((tmp_path / "out" / "wall.json").read_text())
    assert "checkpoint" not in final
    metadata = json.loads((tmp_path / "out" / "metadata.json").read_text())
    assert metadata["timemory"]["metadata"]["checkpoint"]["final"] is True
    labels = {
        e["prefix"].strip("> |_"): e["entry"]["laps"]
        for e in final["timemory"]["wall_clock"]["ranks"][0]["graph"]
    }
    assert labels == {"before": 1000, "after": 500}


def test_a_second_ctrl_c_while_the_files_are_written_at_exit_loses_nothing(tmp_path):
    # plain `import timemory`: Ctrl-C ends the program (KeyboardInterrupt), and another one
    # comes while the exit writes the files
    program = """
    import os, signal
    import timemory
    from timemory import _output
    from timemory.bundle import marker
    def poke(component):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass
    _output.register_format(_output.Format("poke", "", "", poke, "prepare"))
    for k in range(1000):
        with marker(["wall_clock"], key="step"):
            pass
    os.kill(os.getpid(), signal.SIGINT)
    while True:
        pass
    """
    (tmp_path / "prog.py").write_text(textwrap.dedent(program))
    proc = subprocess.run(
        [sys.executable, "prog.py"],
        cwd=tmp_path,
        env=clean_env({"TIMEMORY_OUTPUT_PATH": "out", "TIMEMORY_COUT_OUTPUT": "OFF"}),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert proc.returncode in (130, -signal.SIGINT), proc.stderr  # the first Ctrl-C's status
    assert "Ctrl-C held off" in proc.stderr
    data = json.loads((tmp_path / "out" / "wall.json").read_text())
    [entry] = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert entry["entry"]["laps"] == 1000
    assert (tmp_path / "out" / "metadata.json").exists()


def test_allow_signal_handler_off_installs_nothing(run_python):
    proc = run_python(
        """
        import signal
        import timemory, timemory.signals
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        print(timemory.signals.handled_signals())
        print(timemory.signals.enable_signal_detection())
        """,
        env={"TIMEMORY_ALLOW_SIGNAL_HANDLER": "OFF"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "True"
    assert lines[1] == "{'ending': [], 'dump': [], 'faults': []}"
    assert lines[2] == "False"


def test_the_settings_choose_the_signals(run_python):
    proc = run_python(
        """
        import signal
        import timemory
        from timemory import settings, signals
        print(signals.handled_signals()["ending"])
        settings.enable_all_signals = True
        signals.enable_signal_detection()
        print(len(signals.handled_signals()["ending"]) > 5)
        settings.disable_all_signals = True
        print(signals.enable_signal_detection())
        settings.disable_all_signals = False
        settings.enable_all_signals = False
        settings.signals = "term, hup"
        settings.enable_signal_handler = True
        signals.enable_signal_detection()
        print(signals.handled_signals())
        try:
            settings.signals = "SIGTERM,SIGKILL"
        except ValueError as err:
            print(err)
        try:
            signals.enable_signal_detection([signals.Signal.Kill])
        except ValueError as err:
            print(err)
        signals.disable_signal_detection()
        print(signals.handled_signals(), signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        """,
        env={"TIMEMORY_SIGNALS": "SIGTERM"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "['SIGTERM']"
    assert lines[1] == "True"
    assert lines[2] == "False"
    assert lines[3].startswith("{'ending': ['SIGHUP', 'SIGTERM'], 'dump': [], 'faults': ['SIGSEGV'")
    assert lines[4].startswith("timemory.settings.signals: invalid signal 'SIGKILL' (accepted")
    assert "SIGTERM, SIGHUP" in lines[4]
    assert lines[5].startswith("enable_signal_detection: SIGKILL cannot be detected")
    assert lines[6] == "{'ending': [], 'dump': [], 'faults': []} True"


def test_a_bad_signal_name_in_the_environment_is_one_warning_naming_the_valid_ones(run_python):
    proc = run_python(
        "import timemory; print(timemory.settings.signals)",
        env={"TIMEMORY_SIGNALS": "SIGTERM,SIGNOPE"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "SIGTERM,SIGHUP,SIGQUIT,SIGXCPU,SIGUSR2"
    [line] = [x for x in proc.stderr.splitlines() if "TIMEMORY_SIGNALS" in x]
    assert "invalid signal 'SIGNOPE'" in line and "SIGUSR1" in line


def test_the_signal_enum_has_the_platform_numbers():
    from timemory import libs, signals

    assert int(signals.Signal.Terminate) == signal.SIGTERM
    assert signals.Terminate is signals.Signal.Terminate
    assert int(signals.Stop) == signal.SIGTSTP  # as in the original
    assert int(signals.User2) == signal.SIGUSR2
    assert libs.enable_signal_detection is signals.enable_signal_detection
    import timemory

    assert timemory.set_exit_action is signals.set_exit_action
    with pytest.raises(TypeError, match="set_exit_action"):
        signals.set_exit_action(3)  # type: ignore[arg-type]


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
@pytest.mark.skipif(sys.version_info < (3, 12), reason="paused where os.fork warns: 3.12+")
def test_forking_pauses_the_watcher_thread(run_python):
    # Python 3.12 warns when a multi-threaded process forks: the watcher thread is stopped
    # around os.fork (the hook below, registered before timemory's, runs after it)
    proc = run_python(
        """
        import os

        def threads():
            return len(os.listdir("/proc/self/task"))

        os.register_at_fork(before=lambda: print("at fork", threads(), flush=True))
        import timemory
        print("after import", threads(), flush=True)
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        print("after fork", threads(), flush=True)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["after import 2", "at fork 1", "after fork 2"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_pool_workers_data_are_kept_when_their_parent_is_ended(tmp_path):
    # the parent's SIGTERM ends its pool workers first (as a normal exit does): their data,
    # left in the spool, are in the parent's output
    program = """
    import os, time
    import multiprocessing as mp
    import timemory
    from timemory.bundle import marker

    def task(k):
        for _ in range(500):
            with marker(["wall_clock"], key="in-worker"):
                pass
        open(f"done-{k}", "w").close()
        time.sleep(600)

    if __name__ == "__main__":
        pool = mp.get_context("fork").Pool(2)
        pool.map_async(task, [0, 1])
        while not (os.path.exists("done-0") and os.path.exists("done-1")):
            time.sleep(0.01)
        with marker(["wall_clock"], key="in-parent"):
            pass
        print("ready", flush=True)
        time.sleep(600)
    """
    (tmp_path / "prog.py").write_text(textwrap.dedent(program))
    proc = subprocess.Popen(
        [sys.executable, "prog.py"],
        cwd=tmp_path,
        env=clean_env(
            {
                "TIMEMORY_OUTPUT_PATH": "out",
                "TIMEMORY_COUT_OUTPUT": "OFF",
                "TIMEMORY_COLLAPSE_PROCESSES": "ON",
            }
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and "ready" in proc.stdout.readline()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == -signal.SIGTERM, err
    data = json.loads((tmp_path / "out" / "wall.json").read_text())
    laps = {}
    for rank in data["timemory"]["wall_clock"]["ranks"]:
        for e in rank["graph"]:
            label = e["prefix"].split("|")[-1].strip("> _")
            laps[label] = laps.get(label, 0) + e["entry"]["laps"]
    assert laps == {"in-worker": 1000, "in-parent": 1}, laps


def test_a_forked_child_signalled_before_its_hooks_ran_does_not_end_its_parent(
    run_python, tmp_path
):
    """A pool worker that gets its SIGTERM while it is still starting (under load, before
    its after-fork hooks have run) used to report it through the wakeup pipe it inherited:
    the parent's watcher took the signal for its own and ended the parent (status -15, its
    output lost), and the child wrote its parent's data as its own. The child now ends as
    SIGTERM ends it, and the parent goes on."""
    proc = run_python(
        """
        import os, signal, time

        def signalled_while_starting():
            # runs first in the child (registered before timemory's hooks)
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # bytecodes: the Python handler runs here
                pass

        os.register_at_fork(after_in_child=signalled_while_starting)
        import timemory
        from timemory.bundle import marker

        with marker(["wall_clock"], key="parent"):
            pid = os.fork()
            if pid == 0:
                os._exit(0)  # not reached: the signal ends the child in its hooks
            _, status = os.waitpid(pid, 0)
            # blocked in C for longer than the watcher waits for the main thread
            time.sleep(1.5)
        print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
        """,
        env={"TIMEMORY_OUTPUT_PATH": "out"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "True", proc.stdout
    assert "SIGTERM received" not in proc.stderr, proc.stderr
    data = json.loads((tmp_path / "out" / "wall.json").read_text())
    [entry] = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert entry["prefix"].endswith("parent") and entry["entry"]["laps"] == 1


RAISE_AT_FORK_C = """
#include <pthread.h>
#include <signal.h>
static void child_raise(void) { raise(SIGTERM); }
int arm(void) { return pthread_atfork(0, 0, child_raise); }
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_signal_that_reaches_a_forked_child_inside_fork_is_not_lost(run_python, tmp_path):
    """A pool's SIGTERM sent to a worker that the scheduler has not run yet since its fork
    reaches it inside fork(), as soon as timemory's fork handler gives it its signals back:
    the interpreter used to forget it at the child's start and its wakeup byte went to
    /dev/null, so the worker went on to wait for work forever, and its pool for it. Here a
    fork handler registered after timemory's raises SIGTERM in the child at that point."""
    import shutil

    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("needs a C compiler")
    (tmp_path / "raise_at_fork.c").write_text(RAISE_AT_FORK_C)
    library = tmp_path / "libraise_at_fork.so"
    subprocess.run(
        [compiler, "-shared", "-fPIC", "-o", str(library), str(tmp_path / "raise_at_fork.c")],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    proc = run_python(
        """
        import ctypes, os, signal, sys
        import timemory
        from timemory.bundle import marker

        # registered after timemory's fork handler: it runs after it in the child
        assert ctypes.CDLL(sys.argv[1]).arm() == 0
        with marker(["wall_clock"], key="parent"):
            pid = os.fork()
            if pid == 0:
                for _ in range(1000):  # bytecodes: a handler that was told runs here
                    pass
                os._exit(0)  # reached only when the signal was lost
            _, status = os.waitpid(pid, 0)
        print(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM)
        """,
        args=(str(library),),
        env={"TIMEMORY_OUTPUT_PATH": "out"},
        timeout=TIMEOUT,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "True", proc.stdout
    assert "SIGTERM received" not in proc.stderr, proc.stderr
    data = json.loads((tmp_path / "out" / "wall.json").read_text())
    [entry] = data["timemory"]["wall_clock"]["ranks"][0]["graph"]
    assert entry["prefix"].endswith("parent") and entry["entry"]["laps"] == 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_forked_children_and_started_programs_get_their_signal_mask_back(run_python):
    """Signals are blocked across fork() until the child has a wakeup pipe of its own: a child
    of os.fork() gets them back in its after-fork hooks, a program started by subprocess with
    or without preexec_fn (whose fork runs no Python hooks) before it runs."""
    proc = run_python(
        """
        import os, subprocess
        import timemory

        def blocked():
            with open("/proc/self/status") as f:
                return next(l.split()[1] for l in f if l.startswith("SigBlk:"))

        read = ["grep", "^SigBlk:", "/proc/self/status"]
        print("parent", blocked())
        print("started", subprocess.run(read, capture_output=True, text=True).stdout.split()[1])
        out = subprocess.run(read, capture_output=True, text=True, preexec_fn=lambda: None)
        print("preexec", out.stdout.split()[1])
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.write(w, blocked().encode())
            os._exit(0)
        os.waitpid(pid, 0)
        print("forked", os.read(r, 64).decode())
        """
    )
    assert proc.returncode == 0, proc.stderr
    masks = dict(line.split() for line in proc.stdout.splitlines())
    assert set(masks) == {"parent", "started", "preexec", "forked"}, proc.stdout
    assert len(set(masks.values())) == 1, masks  # the parent's (whatever it inherited)
