"""Files of the base layer: the one atomic writer every file timemory writes goes through.

A file is written to a temporary name in its target folder, created exclusively (``O_EXCL``,
so a planted file or symlink is never written through), synced, and renamed over the target
(``rename`` replaces a symlink at the target, it does not follow it). The work is done by the
native core (``_core.atomic_write``), which also creates missing folders.
"""

from __future__ import annotations

import io
import os
import time

from . import _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable
    from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_with", "make_private_dir"]


def atomic_write(path: str | os.PathLike[str], *parts: str | bytes) -> None:
    """Write ``parts`` (str as UTF-8, bytes as they are), one after the other, to ``path``
    atomically: readers see the old file or the whole new one, never a part. Raises
    ``OSError`` naming the path and the reason."""
    try:
        _core.atomic_write(os.fspath(path), *parts)
    except ValueError as err:  # the native writer reports failures with the path
        raise OSError(str(err)) from None


def atomic_write_with(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> None:
    """:func:`atomic_write` of what ``write(stream)`` writes to a binary stream (a library that
    writes to a file object, such as matplotlib's ``savefig`` or pickle)."""
    buffer = io.BytesIO()
    write(buffer)
    atomic_write(path, buffer.getbuffer().tobytes())


def make_private_dir(prefix: str) -> str:
    """A new folder only this user can read, under ``$TMPDIR`` (or /tmp), as
    ``tempfile.mkdtemp`` makes, which is not imported: this runs at exit, where importing
    tempfile turns an unhandled KeyboardInterrupt's exit status 130 into 1 (and costs 1 MiB)."""
    base = os.environ.get("TMPDIR") or "/tmp"
    for attempt in range(100):
        path = os.path.join(base, f"{prefix}{os.getpid()}-{time.time_ns() % 10**9}-{attempt}")
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary directory name under {base}")
