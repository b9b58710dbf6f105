"""``python -m timemory``: the ``timemory`` command (see ``timemory._command``), e.g.
``python -m timemory profile -- script.py`` or ``python -m timemory --help``."""

from __future__ import annotations

import sys

from timemory._command import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m timemory"))
