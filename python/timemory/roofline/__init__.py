"""The roofline model (API reference §11.2): the empirical roofline toolkit (:mod:`.ert`),
the ``cpu_roofline_*`` data and the plot (``python -m timemory.roofline``)."""

from __future__ import annotations
