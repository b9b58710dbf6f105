"""Count hardware and kernel events of code regions through perf_event_open.

    python examples/hardware_counters.py
    TIMEMORY_PAPI_EVENTS="PAPI_TOT_INS,PAPI_L1_DCM,page-faults" python examples/hardware_counters.py

Prints which counters this machine can count (and why not), counts the chosen events per
region, and writes papi_vector.txt/.json to ./timemory-hardware-counters-output/.
"""

import mmap
import time

import timemory
from timemory import hardware_counters
from timemory.bundle import marker

if not timemory.settings.papi_events:  # the environment did not choose: what a VM can count too
    wanted = ["PAPI_TOT_INS", "PAPI_TOT_CYC", "page-faults", "context-switches", "task-clock"]
    timemory.settings.papi_quiet = True  # the loop below says what is missing
    timemory.settings.papi_events = [n for n in wanted if hardware_counters.Info(n).available()]

for info in hardware_counters.configured():
    print(f"{info.symbol():>16}: {info.long_description()}")
for name in ("PAPI_TOT_INS", "PAPI_DP_OPS", "context-switches"):
    info = hardware_counters.Info(name)
    if not info.available():
        print(f"{name:>16}: not available here: {info.reason()}")

COMPONENTS = ["wall_clock", "papi_vector"]


@marker(COMPONENTS)
def touch_pages(n):
    """One page fault per page of fresh memory."""
    block = mmap.mmap(-1, n * mmap.PAGESIZE)
    for i in range(n):
        block[i * mmap.PAGESIZE] = 1
    block.close()


@marker(COMPONENTS)
def nap(k):
    """k voluntary context switches."""
    for _ in range(k):
        time.sleep(0.001)


@marker(COMPONENTS)
def arithmetic(n):
    return sum(float(i) * 0.5 for i in range(n))


with marker(COMPONENTS, key="main"):
    touch_pages(5000)
    nap(20)
    arithmetic(200_000)

for scaling in hardware_counters.scaling():
    print(f"{scaling['event']}: counted {100 * (scaling['fraction'] or 0):.0f}% of the time")
