"""Files of the base layer: the one atomic writer every file timemory writes goes through, and
the checks of the folders it writes into.

A file is written to a temporary name in its target folder, created exclusively (``O_EXCL``:
a planted file or symlink at that name makes the open fail, it is never written through),
synced, and renamed over the target (``rename`` replaces a symlink at the target, it does not
follow it). The work is done by the native core (``_core.atomic_write``), which also creates
missing folders. Before that, the folder the file goes into is checked (:func:`check_folder`):
a folder another user owns, or one every user may write to without the sticky bit, is refused,
since whoever controls it controls what lands there.

Paths are passed to the native writer as bytes (``os.fsencode``), so that a path holding the
undecodable bytes of a non-UTF-8 name (``sys.argv`` gives them as surrogate escapes) names the
same file as it does for ``open``.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import time

from . import _core

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from collections.abc import Callable, Sequence
    from typing import IO, Any

__all__ = [
    "UnsafeFolderError",
    "atomic_write",
    "atomic_write_by",
    "atomic_write_with",
    "check_folder",
    "make_private_dir",
    "path_text",
]


class UnsafeFolderError(PermissionError):
    """An existing folder timemory refuses to write into (see :func:`check_folder`)."""

    def __str__(self) -> str:  # the message alone, without "[Errno 1]"
        return str(self.strerror)


def path_text(path: str | bytes) -> str:
    """``path`` for a message: undecodable bytes shown as ``\\xff`` escapes."""
    if isinstance(path, bytes):
        return path.decode("utf-8", "backslashreplace")
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"user {pwd.getpwuid(uid).pw_name!r} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def check_folder(folder: str | bytes) -> None:
    """Raise :class:`UnsafeFolderError` (one line naming the folder and why) when the existing
    ``folder`` is owned by another user than this process's (root's folders are trusted: root
    can write anywhere anyway), or is a symlink another user owns, or when every user may
    write to it and it lacks the sticky bit (as ``/tmp`` has): in each case someone else
    could choose, replace or link what is written there. A folder that does not exist (it
    will be created, by this process), or that cannot be examined, is left to the write to
    report."""
    try:
        link = os.lstat(folder or ".")
        info = os.stat(folder or ".") if stat.S_ISLNK(link.st_mode) else link
    except (OSError, ValueError):
        return
    if not stat.S_ISDIR(info.st_mode):
        return
    name = path_text(folder or ".")
    if link is not info and link.st_uid not in (os.geteuid(), 0):
        # another user's symlink chooses where the files go, whoever owns its target
        raise UnsafeFolderError(
            errno.EPERM,
            f"refusing to write into '{name}': it is a symlink that belongs to "
            f"{_owner(link.st_uid)}, not to this process's user (uid {os.geteuid()})",
        )
    if info.st_uid not in (os.geteuid(), 0):
        raise UnsafeFolderError(
            errno.EPERM,
            f"refusing to write into '{name}': it belongs to {_owner(info.st_uid)}, not to "
            f"this process's user (uid {os.geteuid()})",
        )
    if info.st_mode & stat.S_IWOTH and not info.st_mode & stat.S_ISVTX:
        raise UnsafeFolderError(
            errno.EPERM,
            f"refusing to write into '{name}': every user may write to it and it has no "
            "sticky bit (chmod o-w or +t)",
        )


def _native_path(path: str | bytes | os.PathLike[Any]) -> bytes:
    """``path`` as the bytes the operating system sees; OSError for a path no file can have."""
    try:
        raw = os.fsencode(path)
    except UnicodeEncodeError:
        raise OSError(errno.EINVAL, f"not a valid file name: {os.fspath(path)!a}") from None
    if not raw or b"\0" in raw:  # the native writer would cut the name at the NUL
        raise OSError(errno.EINVAL, f"not a valid file name: {path_text(raw)!r}")
    return raw


def _encoded(parts: Sequence[str | bytes]) -> list[str | bytes]:
    """The parts with every str as UTF-8 bytes, a lone surrogate (an undecodable byte of a
    file name) written as its ``\\udcff`` escape rather than failing the whole write."""
    return [p.encode("utf-8", "backslashreplace") if isinstance(p, str) else p for p in parts]


def atomic_write(path: str | bytes | os.PathLike[Any], *parts: str | bytes) -> None:
    """Write ``parts`` (str as UTF-8, bytes as they are), one after the other, to ``path``
    atomically: readers see the old file or the whole new one, never a part. Raises
    ``OSError`` naming the path and the reason (:class:`UnsafeFolderError` for a folder
    :func:`check_folder` refuses)."""

    def write(raw: bytes) -> None:
        try:
            _core.atomic_write(raw, *parts)
        except UnicodeEncodeError:
            _core.atomic_write(raw, *_encoded(parts))

    atomic_write_by(path, write)


def atomic_write_by(path: str | bytes | os.PathLike[Any], writer: Callable[[bytes], Any]) -> None:
    """:func:`atomic_write` through ``writer(raw_path)``, a native writer that streams the file
    itself (atomically: an exclusive temp file in the folder, then a rename): the same folder
    check and the same errors."""
    raw = _native_path(path)
    check_folder(os.path.dirname(raw))
    try:
        writer(raw)
    except ValueError as err:
        # the native writer reports failures with the path; a message with undecodable bytes
        # arrives as the UnicodeDecodeError (a ValueError too) of decoding it
        if isinstance(err, UnicodeDecodeError) and isinstance(err.object, bytes):
            raise OSError(path_text(err.object)) from None
        raise OSError(str(err)) from None


def atomic_write_with(
    path: str | bytes | os.PathLike[Any], write: Callable[[IO[bytes]], Any]
) -> None:
    """:func:`atomic_write` of what ``write(stream)`` writes to a binary stream (a library that
    writes to a file object, such as matplotlib's ``savefig`` or pickle)."""
    buffer = io.BytesIO()
    write(buffer)
    atomic_write(path, buffer.getbuffer().tobytes())


def _safe_name(text: str) -> str:
    """``text`` as one file-name component: separators, NULs and ``..`` replaced by ``_``."""
    for bad in ("/", "\\", "\0"):
        text = text.replace(bad, "_")
    while ".." in text:
        text = text.replace("..", "_")
    return text


def make_private_dir(prefix: str, bases: Sequence[str] = ()) -> str:
    """A new folder only this user can read, ``<base>/<prefix><pid>-<n>-<attempt>``, under the
    first of ``bases`` (default ``$TMPDIR``, /tmp, /var/tmp) where one can be made, as
    ``tempfile.mkdtemp`` makes, which is not imported: this runs at exit, where importing
    tempfile turns an unhandled KeyboardInterrupt's exit status 130 into 1 (and costs 1 MiB).
    ``prefix`` is made one name (no separator, no ``..``). Raises OSError (the last reason)
    when no base takes one."""
    prefix = _safe_name(prefix)
    if not bases:
        bases = [b for b in (os.environ.get("TMPDIR"), "/tmp", "/var/tmp") if b]
    last: OSError = FileExistsError(errno.EEXIST, "no free temporary directory name")
    for base in dict.fromkeys(bases):
        for attempt in range(100):
            path = os.path.join(base, f"{prefix}{os.getpid()}-{time.time_ns() % 10**9}-{attempt}")
            try:
                os.mkdir(path, 0o700)
                return path
            except FileExistsError as err:
                last = err
                continue
            except OSError as err:  # not writable, full, missing: the next base
                last = err
                break
    raise last
