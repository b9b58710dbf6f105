"""``python -m timemory``: the ``timemory`` command (see ``timemory._command``), e.g.
``python -m timemory profile -- script.py`` or ``python -m timemory --help``.

``python -m timemory --cmake-dir`` prints the folder of ``timemoryConfig.cmake``
(``-DCMAKE_PREFIX_PATH=$(python -m timemory --cmake-dir)``) and ``--include-dir`` the folder
of the C API's headers, for native extensions (docs/guide/native.md)."""

from __future__ import annotations

import os
import sys

from timemory._command import main


def _package_dir(name: str) -> str:
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), name)


#: option -> the package folder it prints (on stdout: it is read by $(...))
PATH_OPTIONS = {"--cmake-dir": "cmake", "--include-dir": "include"}


def run(argv: list[str]) -> int:
    if argv and argv[0] in PATH_OPTIONS:
        if len(argv) > 1:
            from timemory._text import echo

            echo(f"python -m timemory: error: {argv[0]} takes no arguments", sys.stderr)
            return 2
        sys.stdout.write(_package_dir(PATH_OPTIONS[argv[0]]) + "\n")
        return 0
    return main(argv, prog="python -m timemory")


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
