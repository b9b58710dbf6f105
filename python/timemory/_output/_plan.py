"""The output plan: where the files of one write go, resolved once and passed to every writer.

The folder (``output_path``, or the folder ``report(filename)`` names), the prefix, the rank and
pid placeholders and the time folder are resolved when the plan is made; the settings are not
written to carry any of it.

No data are lost silently. A file that cannot be written to the folder asked for (a folder that
cannot be created or written, a full disk, a name no file can have, a folder refused as unsafe
by :func:`timemory._files.check_folder`) is written to a new private folder under ``$TMPDIR``
instead, and so is every later file of the run that asks for that folder; one line on stderr
says where. When even that fails, one line says the output is lost, and the process's exit
status becomes :data:`LOST_STATUS` if the program itself succeeded (it would have exited 0); a
program that failed keeps its own status.
"""

from __future__ import annotations

import os
import sys

from .. import _core, _processes
from .. import settings as _settings
from .._files import (
    UnsafeFolderError,
    atomic_write,
    atomic_write_by,
    check_folder,
    make_private_dir,
    path_text,
)
from .._text import DEBUG, ERROR, echo
from ._record import record_file

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import Any

__all__ = [
    "LOST_STATUS",
    "OutputPlan",
    "add_written",
    "announce_folders",
    "defer_folders",
    "folder_lines",
    "folders_deferred",
    "lost_files",
    "write_named",
    "written_count",
]

#: The exit status of a program that succeeded but whose output could not be written anywhere
#: (``EX_IOERR`` of sysexits.h: an error while doing I/O on a file).
LOST_STATUS = 74

# output folder asked for -> the private folder written instead, for the rest of the run
_FALLBACK: dict[str, str] = {}
# the files of this run that could be written nowhere
_LOST: list[str] = []
# the files of this run written by the final writes (not the checkpoints), in order; the
# first _ANNOUNCED[0] of them are already counted in a "timemory: N files in ..." line
_WRITTEN: list[str] = []
_ANNOUNCED = [0]
# the command-line tools print the folder lines themselves, after their summary
_DEFERRED = [False]


def lost_files() -> list[str]:
    """The files of this run that could not be written anywhere (neither where they were
    asked for nor to a fallback folder)."""
    return list(_LOST)


def folder_lines(paths: list[str] | None = None) -> list[str]:
    """One line per folder of ``paths`` (``timemory: 7 files in timemory-app-output/``), in
    the order the folders were first written to, each file counted once. Without ``paths``:
    the files the final writes of this run wrote since the last call."""
    if paths is None:
        paths = _WRITTEN[_ANNOUNCED[0] :]
        _ANNOUNCED[0] = len(_WRITTEN)
    folders: dict[str, set[str]] = {}
    for path in paths:
        full = os.path.abspath(path)
        folders.setdefault(os.path.dirname(full), set()).add(full)
    return [
        f"timemory: {len(files)} file{'s' if len(files) != 1 else ''} in {_shown(folder)}"
        for folder, files in folders.items()
    ]


def add_written(paths: list[str]) -> None:
    """Count files written outside :meth:`OutputPlan.write` (the plots drawn at finalize) in
    the folder lines."""
    _WRITTEN.extend(paths)


def announce_folders() -> None:
    """Print :func:`folder_lines` (the per-file "Outputting" lines are printed only at
    ``verbose`` >= 1)."""
    for line in folder_lines():
        echo(line)


def defer_folders(deferred: bool) -> bool:
    """Whether :func:`write_run` leaves the folder lines to a later
    :func:`announce_folders` (a tool prints them after its summary); returns the previous
    value."""
    previous = _DEFERRED[0]
    _DEFERRED[0] = bool(deferred)
    return previous


def folders_deferred() -> bool:
    return _DEFERRED[0]


def written_count() -> int:
    """How many files the final writes of this run wrote so far."""
    return len(_WRITTEN)


def _shown(folder: str) -> str:
    """``folder`` as the user best reads it: relative to the current directory when it is
    inside it, else absolute; with a trailing separator (it is a folder)."""
    try:
        relative = os.path.relpath(folder)
    except ValueError:  # another drive
        relative = folder
    if relative == os.curdir:
        return "." + os.sep
    shown = folder if relative.startswith(os.pardir) else relative
    return path_text(shown.rstrip(os.sep) + os.sep)


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


class OutputPlan:
    """Where one write's files go: ``<folder>/<prefix><basename>[_<rank>]<suffix>``.

    ``wanted``: the folder as asked for (placeholders unresolved); ``base``: that folder
    resolved, without the time folder; ``folder``, ``prefix``: resolved; ``rank``: this
    process's rank; ``rank_suffix``: file names end in ``_<rank>`` (an aborting MPI rank's
    own files); ``names_rank``: the folder or prefix names the rank, so that every rank
    writes its own files; ``fallen``: the files go to the fallback folder."""

    __slots__ = (
        "wanted",
        "base",
        "folder",
        "prefix",
        "rank",
        "rank_suffix",
        "names_rank",
        "fallen",
        "marker",
        "written",
        "errors",
        "cancelled",
    )

    def __init__(self, wanted: str, rank: int, rank_suffix: bool) -> None:
        self.wanted, self.rank, self.rank_suffix = wanted, rank, rank_suffix
        #: the ``checkpoint`` block of metadata.json (None: a run without checkpoints);
        #: ``final`` False makes this write a checkpoint (see :attr:`is_checkpoint`)
        self.marker: dict[str, Any] | None = None
        #: a checkpoint's files by kind (a checkpoint leaves ``timemory.manager`` alone) and
        #: its errors (reported by the checkpoint thread, once, instead of on every write)
        self.written: dict[str, list[str]] = {}
        self.errors: list[str] = []
        #: a checkpoint stops writing as soon as this returns True (the final write began)
        self.cancelled: Callable[[], bool] | None = None
        self.fallen = wanted in _FALLBACK
        self._locate(_FALLBACK.get(wanted, wanted))
        self.names_rank = _settings._names_rank(f"{wanted}\0{_settings.output_prefix}")

    def _locate(self, where: str) -> None:
        self.base = _settings._substitute(where, self.rank)
        self.folder, self.prefix = _settings._output_location(self.rank, where)

    @classmethod
    def from_settings(cls, folder: str = "", rank_suffix: bool = False) -> OutputPlan:
        """The plan of a write now: into ``folder`` (placeholders allowed), else
        ``settings.output_path``."""
        return cls(folder or _settings.output_path, _processes.rank(), rank_suffix)

    @property
    def is_checkpoint(self) -> bool:
        """Whether this write is a background checkpoint: quiet, listed in :attr:`written`."""
        return self.marker is not None and not self.marker.get("final", True)

    def path(self, basename: str, suffix: str) -> str:
        """The path of the file ``<basename><suffix>`` of this write."""
        return _settings._compose(
            self.folder, self.prefix, basename, suffix, self.rank_suffix, self.rank, ""
        )

    def write(
        self,
        basename: str,
        suffix: str,
        content: str | bytes | tuple[str | bytes, ...] | Callable[[bytes], None],
        kind: str,
        label: str,
        announce: bool | Callable[[str], str] = True,
    ) -> str | None:
        """Write one file atomically and list it under ``kind``; ``announce`` prints
        ``[<label>]|<rank>> Outputting '<path>'...`` (a function: the line it returns for the
        path). Returns the path, None when it could be written nowhere: that is reported on
        stderr, and the other files still get written."""
        if self.cancelled is not None and self.cancelled():
            return None
        if callable(content):  # a native writer that streams the file (raises OSError)
            write = lambda p: atomic_write_by(p, content)  # noqa: E731
        else:
            parts = content if isinstance(content, tuple) else (content,)
            write = lambda p: atomic_write(p, *parts)  # noqa: E731
        path = self.path(basename, suffix)
        try:
            if not self.fallen and self.base:
                check_folder(self.base)  # the file's own folder is checked by the writer
            write(path)
        except OSError as err:
            why = self._fall_back(err)
            if why is not None:
                self._failed(path, err, why)
                return None
            path = self.path(basename, suffix)
            try:
                write(path)
            except OSError as again:
                self._failed(path, again)
                return None
        return self._wrote(path, kind, label, announce)

    def _wrote(
        self, path: str, kind: str, label: str, announce: bool | Callable[[str], str]
    ) -> str:
        """A file written: listed (a checkpoint's in :attr:`written`) and announced."""
        if self.is_checkpoint:
            self.written.setdefault(kind, []).append(path)
            return path
        if announce is True:
            echo(f"[{label}]|{self.rank}> Outputting '{path_text(path)}'...", level=DEBUG)
        elif announce:
            echo(announce(path), level=DEBUG)
        record_file(path, kind)
        _WRITTEN.append(path)
        return path

    def write_all(self, items: list[tuple[Any, ...]]) -> None:
        """:meth:`write` of each item (its arguments), the files listed and announced in the
        order given. The native writers among them (a streamed content marked ``concurrent``:
        it releases the GIL and reads the recorded graph, which it shares with the others) run
        at the same time on up to :func:`write_threads` threads, the calling one included:
        the big files of a component (flat JSON, tree JSON, text table, flame graph) take about
        as long each. A file that failed is written again by :meth:`write` (the fallback folder,
        the report), so failures are handled as one at a time; a checkpoint writes one at a
        time (it must not take the program's cores, nor hold several copies of a graph)."""
        jobs: list[tuple[int, str, Any]] = []
        if not self.is_checkpoint and write_threads() > 1:
            try:
                if not self.fallen and self.base:
                    check_folder(self.base)
            except OSError:
                pass  # one at a time below: the first write falls back and reports it
            else:
                for i, item in enumerate(items):
                    content = item[2]
                    if callable(content) and getattr(content, "concurrent", False):
                        jobs.append((i, self.path(item[0], item[1]), content))
                # the longest first (the tree JSON: twice the flat one), so that the last
                # job to start is a short one
                jobs.sort(key=lambda job: -getattr(job[2], "concurrent", 1))
        if len(jobs) < 2 or (self.cancelled is not None and self.cancelled()):
            jobs = []
        results = _run_jobs([(path, content) for _, path, content in jobs]) if jobs else []
        done = {i: (path, err) for (i, path, _), err in zip(jobs, results)}
        for i, item in enumerate(items):
            path, err = done.get(i, ("", None))
            if i not in done or err is not None or path != self.path(item[0], item[1]):
                if err is not None and not isinstance(err, OSError):
                    raise err
                if i in done and err is None:
                    # written before an earlier file made the run fall back: its place is
                    # the fallback folder, as one at a time
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
                self.write(*item)  # as one at a time: written again, or where it falls back
                continue
            self._wrote(path, item[3], item[4], item[5] if len(item) > 5 else True)

    def _failed(self, path: str, err: OSError, why: str = "") -> None:
        """A file written nowhere: a checkpoint keeps the error for its thread to report once
        (the final write decides what is lost and the exit status); else it is lost."""
        if self.is_checkpoint:
            extra = f"; {why}" if why else ""
            self.errors.append(f"cannot write '{path_text(path)}': {_one_line(err)}{extra}")
        else:
            _lose(path, err, why)

    def _fall_back(self, err: OSError) -> str | None:
        """After a failed write: write to the run's private fallback folder from now on (made
        and reported on the first failure): None; else why not ("" when the files already
        went there)."""
        if self.fallen:
            return ""
        fallback, why = _fallback_for(self.wanted, self.base, err)
        if fallback is None:
            return why
        self.fallen = True
        self._locate(fallback)
        return None


#: The most files written at once by :meth:`OutputPlan.write_all` (None: one per core this
#: process may run on); 1 writes one at a time.
WRITE_THREADS: int | None = None


def write_threads() -> int:
    """How many files :meth:`OutputPlan.write_all` writes at once."""
    if WRITE_THREADS is not None:
        return max(int(WRITE_THREADS), 1)
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _run_jobs(jobs: list[tuple[str, Callable[[bytes], None]]]) -> list[BaseException | None]:
    """``atomic_write_by(path, content)`` of each job, on up to write_threads() threads (this
    one and helpers taking the next job when done); per job the exception it raised, or None.
    The helpers are ``_thread`` ones: the threading module is not imported on the way out."""
    import _thread

    errors: list[BaseException | None] = [None] * len(jobs)
    pending = list(range(len(jobs) - 1, -1, -1))  # popped from the end: in the order given

    def work() -> None:
        while True:
            try:
                k = pending.pop()  # atomic under the GIL
            except IndexError:
                return
            try:
                atomic_write_by(jobs[k][0], jobs[k][1])
            except BaseException as err:  # handed to the caller, which raises or reports it
                errors[k] = err
            # each writer thread's malloc arena keeps the room its file took; given back,
            # the next files (and components) do not add theirs to the peak RSS
            _core.release_free_memory()

    helpers = []
    for _ in range(min(write_threads(), len(jobs)) - 1):
        finished = _thread.allocate_lock()
        finished.acquire()

        def helper(finished: Any = finished) -> None:
            try:
                work()
            finally:
                finished.release()

        try:
            _thread.start_new_thread(helper, ())
        except RuntimeError:  # no new thread (the interpreter is shutting down): fewer helpers
            break
        helpers.append(finished)
    work()
    for finished in helpers:
        finished.acquire()  # the helper's last job is done
    return errors


def _fallback_for(wanted: str, base: str, err: OSError) -> tuple[str | None, str]:
    """The private folder written instead of ``wanted`` (``base``: it resolved) for the rest
    of the run, made and reported on the first failure; else (None, why not)."""
    fallback = _FALLBACK.get(wanted)
    if fallback is not None:
        return fallback, ""
    name = os.path.basename(os.path.normpath(base or ".")).strip(".") or "output"
    try:
        fallback = make_private_dir(name + "-" if "timemory" in name else f"timemory-{name}-")
    except OSError as none:
        return None, f"no fallback folder either ({_one_line(none)})"
    _FALLBACK[wanted] = fallback
    if isinstance(err, UnsafeFolderError):  # names the folder and why already
        what = _one_line(err)
    else:
        what = f"cannot write to the output folder '{path_text(base or '.')}' ({_one_line(err)})"
    echo(f"[timemory]> {what}; writing the output to '{path_text(fallback)}' instead", sys.stderr)
    return fallback, ""


def _lose(path: str, err: OSError, why: str = "") -> None:
    """Record a file written nowhere; the first one of the run is reported, and the exit
    status of a program that succeeds becomes LOST_STATUS."""
    first = not _LOST
    _LOST.append(path)
    if not first:
        return
    armed = _core.set_exit_status_on_success(LOST_STATUS)
    status = f"; exit status {LOST_STATUS} unless the program fails" if armed else ""
    echo(
        f"[timemory]> {_one_line(err)}{'; ' + why if why else ''}: the output of this run "
        f"could not be written anywhere and is lost{status}",
        level=ERROR,
    )


def write_named(path: str, content: str | bytes | tuple[str | bytes, ...]) -> str | None:
    """Write a file the user named (a ``.lprof``) atomically; where that fails, write it
    under the same name to the run's fallback folder for its folder (reported), else report
    it lost. Returns the path written, None when it was written nowhere."""
    parts = content if isinstance(content, tuple) else (content,)
    try:
        atomic_write(path, *parts)
        return path
    except OSError as err:
        folder = os.path.dirname(path) or "."
        fallback, why = _fallback_for(folder, folder, err)
        if fallback is None:
            _lose(path, err, why)
            return None
    path = os.path.join(fallback, os.path.basename(path))
    try:
        atomic_write(path, *parts)
        return path
    except OSError as again:
        _lose(path, again)
        return None
