"""The record of a run's output: the metadata ``metadata.json`` holds and the list of files
written, kept by the ``manager`` class (``timemory.manager``)."""

from __future__ import annotations

import os
import time

from .. import _core
from .. import settings as _settings
from .._files import atomic_write

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any

__all__ = ["manager", "record_file"]


class manager:
    """The run's metadata and the list of files written."""

    text_files: list[str] = []
    json_files: list[str] = []
    _info: dict[str, Any] = {}
    _user_keys: list[str] = []
    _outputs: dict[str, list[str]] = {}
    _write_metadata = 0

    @staticmethod
    def add_metadata(label: str, value: Any) -> None:
        """Add ``label: value`` to ``metadata.json`` (str, int, float or a list of those)."""
        scalar = (str, int, float)
        ok = isinstance(value, scalar) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, scalar) for v in value)
        )
        if not isinstance(label, str) or not ok:
            raise RuntimeError(
                f"add_metadata({label!r}, ...): value must be a str, int, float "
                "or a list of those, "
                f"not {type(value).__name__}"
            )
        manager._info[label] = list(value) if isinstance(value, (list, tuple)) else value
        if label not in manager._user_keys:
            manager._user_keys.append(label)

    @staticmethod
    def get_metadata() -> dict[str, Any]:
        """The content of ``metadata.json`` under ``timemory.metadata``."""
        version = _core.build_info["version"]
        launch = _settings._LAUNCH_TIME
        info: dict[str, Any] = {}
        for key in ("SHELL", "HOME", "PWD", "USER"):
            if key in os.environ:
                info[key] = os.environ[key]
        info["LAUNCH_DATE"] = time.strftime("%m/%d/%y", launch)
        info["LAUNCH_TIME"] = time.strftime("%H:%M", launch)
        info["TIMEMORY_API"] = "python"
        info["TIMEMORY_VERSION"] = version
        info["TIMEMORY_GIT_DESCRIBE"] = version
        info["TIMEMORY_GIT_REVISION"] = ""
        from .. import _machine  # read at the first metadata only

        info.update(_machine.cpu_info())
        info.update(manager._info)
        return {
            "info": info,
            "settings": _settings.dump(),
            "output": {k: list(v) for k, v in manager._outputs.items()},
            "environment": {
                k: v for k, v in sorted(os.environ.items()) if k.startswith("TIMEMORY_")
            },
        }

    @staticmethod
    def set_write_metadata(value: int) -> None:
        """-1 never write metadata.json, 0 only with other output, 1 always."""
        manager._write_metadata = int(value)

    @classmethod
    def write_ctest_notes(cls, directory: str = ".", append: bool = False) -> str:
        """Write ``<directory>/CTestNotes.cmake`` listing :attr:`text_files` (after what it held
        with ``append``); returns its path."""
        path = os.path.join(directory, "CTestNotes.cmake")
        lines = "".join(f'list(APPEND CTEST_NOTES_FILES "{f}")\n' for f in cls.text_files)
        before = ""
        if append:
            try:
                with open(path, encoding="utf-8") as f:
                    before = f.read()
            except FileNotFoundError:
                pass
        atomic_write(path, before, lines)
        return path


def record_file(path: str, kind: str) -> None:
    """List ``path`` among the files written, under ``kind`` ("text", "json", "tree"...)."""
    manager._outputs.setdefault(kind, []).append(path)
    (manager.text_files if kind == "text" else manager.json_files).append(path)


def metadata_wanted(wrote: bool) -> bool:
    """Whether ``metadata.json`` (and ``functions.json``) are written, by
    :meth:`manager.set_write_metadata`'s mode, when component files were (not) ``wrote``."""
    mode = manager._write_metadata
    return mode > 0 or (mode == 0 and (wrote or bool(manager._user_keys)))
