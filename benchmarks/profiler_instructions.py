"""Workload for the function profiler's instruction count per call, against cProfile's.

    valgrind --tool=callgrind --callgrind-out-file=tm.out \\
        python benchmarks/profiler_instructions.py timemory 22
    valgrind --tool=callgrind --callgrind-out-file=cp.out \\
        python benchmarks/profiler_instructions.py cprofile 22
    callgrind_annotate --inclusive=yes tm.out | grep -E "call_trace_protected|0x"
    callgrind_annotate --inclusive=yes cp.out | grep -E "call_trace_protected|profiler_callback"

fibonacci(22) makes 57,313 calls. The inclusive count of the profile callback (timemory's
shows as an address in ``_core``'s stripped build; build with
``-Ccmake.build-type=RelWithDebInfo`` for names), divided by 57,313, is the callback's
instructions per call and return. Modes: ``timemory``, ``cprofile``, ``none``, and ``floor``
(a no-op C hook installed as timemory's is: ``floor N DIR`` imports ``_hook_floor`` from DIR,
built by ``benchmarks/hook_floor.py``, which runs all four modes on each interpreter).
"""

from __future__ import annotations

import sys


def fibonacci(n: int) -> int:
    return n if n < 2 else fibonacci(n - 1) + fibonacci(n - 2)


def main(argv: list[str]) -> int:
    mode = argv[0] if argv else "timemory"
    n = int(argv[1]) if len(argv) > 1 else 22
    if mode == "timemory":
        import timemory
        from timemory.profiler import profile

        timemory.settings.auto_output = False
        with profile(["wall_clock"]):
            fibonacci(n)
    elif mode == "cprofile":
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        fibonacci(n)
        prof.disable()
    elif mode == "floor":
        if len(argv) < 3:
            print("floor N DIR: DIR holds _hook_floor (hook_floor.py builds it)", file=sys.stderr)
            return 2
        sys.path.insert(0, argv[2])
        import _hook_floor

        _hook_floor.install()
        fibonacci(n)
        _hook_floor.uninstall()
    elif mode == "none":
        fibonacci(n)
    else:
        print(
            f"unknown mode '{mode}'. Valid choices are: timemory, cprofile, floor, none",
            file=sys.stderr,
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
