"""Frame helpers for building labels: ``FILE()``, ``FUNC()``, ``LINE()``, ``FRAME()``."""

from __future__ import annotations

import os
import sys
from types import FrameType


def FRAME(back: int = 2) -> FrameType:
    return sys._getframe(back)


def FUNC(back: int = 2) -> str:
    return sys._getframe(back).f_code.co_name


def LINE(back: int = 1) -> int:
    return sys._getframe(back).f_lineno


def FILE(
    back: int = 2, only_basename: bool = True, use_dirname: bool = False, noquotes: bool = True
) -> str:
    # one level deeper than FUNC/LINE, as in the original: FILE(3) == FUNC(2)'s frame
    path = sys._getframe(back - 1).f_code.co_filename
    if only_basename:
        path = os.path.basename(path)
    elif use_dirname:
        path = os.path.dirname(path)
    return path if noquotes else f'"{path}"'


frame, func, line, file = FRAME, FUNC, LINE, FILE
