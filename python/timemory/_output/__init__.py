"""The output layer: the plan of a write (where its files go, resolved once), the registry of
formats (what files there are, which setting enables each, who makes their content), the write
of a run through them, and the record of what was written (``timemory.manager``).

The lifecycle hands a plan and the data to :func:`write_run`; renderers and tools add formats
with :func:`register_format`. Nothing here imports the transports or the renderers.
"""

from __future__ import annotations

from ._exports import ExportSource, export
from ._json import dumps as json_dumps
from ._plan import (
    LOST_STATUS,
    OutputPlan,
    announce_folders,
    defer_folders,
    lost_files,
    write_named,
)
from ._record import manager, record_file
from ._registry import Format, formats, register_format, write_as, write_view
from ._run import (
    ComponentOutput,
    RunOutput,
    json_ranks,
    summary_table,
    text_options,
    tree_needed,
    write_run,
)

__all__ = [
    "ComponentOutput",
    "ExportSource",
    "Format",
    "LOST_STATUS",
    "OutputPlan",
    "RunOutput",
    "announce_folders",
    "defer_folders",
    "export",
    "formats",
    "json_dumps",
    "json_ranks",
    "lost_files",
    "manager",
    "record_file",
    "register_format",
    "summary_table",
    "text_options",
    "tree_needed",
    "write_as",
    "write_named",
    "write_run",
    "write_view",
]
