"""Runs the example extension under a marker: its regions appear beneath ``solve``.

PYTHONPATH=build/native_example python examples/native_extension/run.py
"""

import timemory
import timemory_native_example as ext
from timemory.bundle import marker

with marker(["wall_clock"], key="solve"):
    ext.simulate(threads=4, steps=20, work=20000)
    ext.integrate(1_000_000)

print(timemory.get_text(), end="")
