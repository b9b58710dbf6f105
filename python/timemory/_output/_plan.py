"""The output plan: where the files of one write go, resolved once and passed to every writer.

The folder (``output_path``, or the folder ``report(filename)`` names), the prefix, the rank and
pid placeholders and the time folder are resolved when the plan is made; the settings are not
written to carry any of it. A folder that cannot be created does not lose the data: the plan
reports it and writes to a new private temporary folder instead, and so do later plans of the
same run that ask for that folder.
"""

from __future__ import annotations

import os
import sys

from .. import _processes
from .. import settings as _settings
from .._files import atomic_write, make_private_dir
from .._text import echo
from ._record import record_file

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import Any

__all__ = ["OutputPlan"]

# output folder asked for -> the temporary folder written instead, for the rest of the run
_FALLBACK: dict[str, str] = {}


class OutputPlan:
    """Where one write's files go: ``<folder>/<prefix><basename>[_<rank>]<suffix>``.

    ``wanted``: the folder as asked for (placeholders unresolved); ``folder``, ``prefix``:
    resolved; ``rank``: this process's rank; ``rank_suffix``: file names end in ``_<rank>``
    (an aborting MPI rank's own files); ``names_rank``: the folder or prefix names the rank,
    so that every rank writes its own files."""

    __slots__ = (
        "wanted",
        "folder",
        "prefix",
        "rank",
        "rank_suffix",
        "names_rank",
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
        self.folder, self.prefix = _settings._output_location(rank, _FALLBACK.get(wanted, wanted))
        self.names_rank = _settings._names_rank(f"{wanted}\0{_settings.output_prefix}")

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
        content: str | bytes | tuple[str | bytes, ...],
        kind: str,
        label: str,
        announce: bool | Callable[[str], str] = True,
    ) -> str | None:
        """Write one file atomically and list it under ``kind``; ``announce`` prints
        ``[<label>]|<rank>> Outputting '<path>'...`` (a function: the line it returns for the
        path). Returns the path, None when it could not be written: that is reported on
        stderr, and the other files still get written."""
        parts = content if isinstance(content, tuple) else (content,)
        if self.cancelled is not None and self.cancelled():
            return None
        path = self.path(basename, suffix)
        try:
            atomic_write(path, *parts)
        except OSError as err:
            if not self._fall_back(path, err):
                self._error(f"[{label}]|{self.rank}> Error writing '{path}': {err}")
                return None
            path = self.path(basename, suffix)
            try:
                atomic_write(path, *parts)
            except OSError as again:
                self._error(f"[{label}]|{self.rank}> Error writing '{path}': {again}")
                return None
        if self.is_checkpoint:
            self.written.setdefault(kind, []).append(path)
            return path
        if announce is True:
            echo(f"[{label}]|{self.rank}> Outputting '{path}'...")
        elif announce:
            echo(announce(path))
        record_file(path, kind)
        return path

    def _error(self, message: str) -> None:
        if self.is_checkpoint:
            self.errors.append(message)
        else:
            echo(message, sys.stderr)

    def _fall_back(self, path: str, err: OSError) -> bool:
        """After a failed write: when the folder could not be created, write to a new private
        temporary folder from now on (reported once); False when that is not the failure."""
        folder = os.path.dirname(path) or "."
        if os.path.isdir(folder) or self.wanted in _FALLBACK:
            return False
        fallback = _FALLBACK[self.wanted] = make_private_dir("timemory-output-")
        reason = str(err).rpartition(": ")[2] or str(err)
        echo(
            f"[timemory]> cannot create the output directory '{self.wanted}' ({reason}); "
            f"writing to '{fallback}' instead",
            sys.stderr,
        )
        self.folder, self.prefix = _settings._output_location(self.rank, fallback)
        return True
