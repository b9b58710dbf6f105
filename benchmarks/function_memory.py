"""Native heap per profiled function: N distinct functions, each called once under the profiler.

    python benchmarks/function_memory.py [--count N] [--same-name] [--python OTHER_PYTHON]

The functions are generated (one per two lines of one file) before the measurement, and the
profiler has already run once, so the figure is what the profiler adds per function: its cached
label record (per code object), the node and its values, the lookup entry and the label
database entry (with the function's where, "module, line N"). ``--same-name`` gives every
function the name ``f`` (the case that used to merge them all into one node). The figure is
glibc's ``mallinfo2`` in-use bytes (plus mmapped blocks) after minus before, divided by N: RSS
moves in pages and by the Python objects made meanwhile. ``--python`` runs the same in another
interpreter (e.g. a venv with the build before a change) for a before/after in one session.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

CHILD = r"""
import ctypes, sys
n, same = int(sys.argv[1]), sys.argv[2] == "1"
ns = {}
src = "\n".join(f"def f_{i}():\n    return {i}" for i in range(n))
exec(compile(src, "/generated/functions.py", "exec"), ns)
funcs = [ns[f"f_{i}"] for i in range(n)]
if same:
    for fn in funcs:
        fn.__code__ = fn.__code__.replace(co_name="f")
import timemory
from timemory.profiler import profile
from timemory.storage import WallClockStorage

timemory.settings.auto_output = False


class MallInfo2(ctypes.Structure):
    _fields_ = [(k, ctypes.c_size_t) for k in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


libc = ctypes.CDLL("libc.so.6")
libc.mallinfo2.restype = MallInfo2


def heap():
    m = libc.mallinfo2()
    return m.uordblks + m.hblkhd


with profile(["wall_clock"]):
    funcs[0]()
before = heap()
with profile(["wall_clock"]):
    for fn in funcs:
        fn()
after = heap()
nodes = len({e.hash() for e in WallClockStorage.get()})
print(f"{(after - before) / n:.1f} {nodes}")
"""


def run(python: str, count: int, same: bool) -> tuple[float, int]:
    out = subprocess.run(
        [python, "-c", CHILD, str(count), "1" if same else "0"],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=50_000)
    ap.add_argument("--same-name", action="store_true")
    ap.add_argument("--python", help="another interpreter to measure the same way")
    args = ap.parse_args(argv)
    for python in [sys.executable] + ([args.python] if args.python else []):
        per, nodes = run(python, args.count, args.same_name)
        print(f"{python}: {per:.1f} bytes per function, {nodes} nodes for {args.count} functions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
