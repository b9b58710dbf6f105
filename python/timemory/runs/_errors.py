"""The one error type of :mod:`timemory.runs`."""

from __future__ import annotations

__all__ = ["RunsError"]


class RunsError(ValueError):
    """A problem the user can fix (a folder that is not a store, a corrupt run, an unknown
    parameter or filter...), described in one line that names the path or the valid choices.
    Command lines report it as that line, without a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
