"""Instrument a small workload with timemory and look at what it records.

    python examples/quickstart.py

Prints the per-component tables at exit and writes them, with JSON
(flat, tree for hatchet, Chrome-trace flame graph) and metadata, to
./timemory-quickstart-output/.
"""

import os
import tempfile
import threading

import timemory
from timemory.bundle import marker
from timemory.component import PeakRss, WallClock
from timemory.storage import WallClockStorage

COMPONENTS = ["wall_clock", "cpu_clock", "peak_rss", "written_char"]


@marker(COMPONENTS)
def fibonacci(n):
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


@marker(COMPONENTS)
def allocate(megabytes):
    block = bytearray(megabytes * 1024 * 1024)
    for i in range(0, len(block), 4096):  # touch every page so it is resident
        block[i] = 1
    return len(block)


@marker(COMPONENTS)
def write_file(megabytes):
    with tempfile.NamedTemporaryFile(delete=True) as f:
        for _ in range(megabytes):
            f.write(os.urandom(1024 * 1024))
        f.flush()


def worker(n):
    with marker(["wall_clock", "cpu_clock"], key="worker"):
        fibonacci(n)


def main():
    with marker(COMPONENTS, key="main"):
        fibonacci(12)
        allocate(64)
        write_file(8)
        threads = [threading.Thread(target=worker, args=(10,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    # a component used on its own, outside storage
    wc, rss = WallClock("sum"), PeakRss("sum")
    wc.start(), rss.start()
    total = sum(i * i for i in range(200_000))
    wc.stop(), rss.stop()
    print(f"sum of squares = {total}: {wc}, {rss}")

    # the recorded call graph, programmatically
    top = WallClockStorage.get()[0]
    print(
        f"'{top.prefix()}' ran {top.data().laps()}x, {top.data().get():.3f} s; "
        f"{len(WallClockStorage.get())} wall-clock entries recorded"
    )


if __name__ == "__main__":
    timemory.settings.output_path = "timemory-quickstart-output"
    main()
    # the tables print and the files are written when the program exits
