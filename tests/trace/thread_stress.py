"""Counts the lines the tracer records for a function that many threads call at once, and
prints whether they are exact: the reproduction of lost line counts with threads.

    python tests/trace/thread_stress.py MODE [THREADS] [CALLS]
    python -m timemory.trace -- tests/trace/thread_stress.py cli [THREADS] [CALLS]
    python -m timemory.trace -b -- tests/trace/thread_stress.py decorated-cli [THREADS] [CALLS]

Modes (run directly unless they end in ``-cli``):
  with          ``with trace():`` around starting and joining the threads
  running       threads started (and waiting) before tracing starts
  decorated     ``@trace`` on the function, each thread calling it CALLS times at once
  cli           the whole script under ``python -m timemory.trace``
  decorated-cli ``@trace`` (the command line's builtin) under ``python -m timemory.trace -b``

The last line printed (stdout) is ``ok <got> <expected>`` or ``short <got> <expected>``:
the executions recorded for the lines of ``work`` and how many ran. Exit status 0 when
exact, 1 when not.
"""

from __future__ import annotations

import builtins
import sys
import threading

from timemory.storage import storage_class
from timemory.trace import Tracer

MODE = sys.argv[1] if len(sys.argv) > 1 else "with"
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 else 16
CALLS = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
LINES_PER_CALL = 3  # the lines of work() below, each run once per call

# the command line's tracer (``trace`` is a builtin under it), else one of our own
_trace = getattr(builtins, "trace", None) or Tracer(["wall_clock"])


def work(i: int) -> int:
    x = i + 1
    y = x * 2
    return x + y


traced_work = _trace(work) if MODE.startswith("decorated") else work


def thread_body(start: threading.Barrier | None) -> None:
    if start is not None:
        start.wait()
    for i in range(CALLS):
        traced_work(i)


def run_threads(barrier: bool) -> None:
    start = threading.Barrier(THREADS) if barrier else None
    threads = [threading.Thread(target=thread_body, args=(start,)) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def recorded() -> int:
    """Executions recorded for the lines of work(), every thread added up."""
    marker = f"[{work.__code__.co_name}]"
    return sum(r.data().laps() for r in storage_class("wall_clock").get() if marker in r.label())


def main() -> int:
    if MODE == "with":
        with Tracer(["wall_clock"]):
            run_threads(barrier=True)
    elif MODE == "running":
        go = threading.Event()
        threads = [
            threading.Thread(target=lambda: (go.wait(), thread_body(None))) for _ in range(THREADS)
        ]
        for t in threads:
            t.start()
        with Tracer(["wall_clock"]):
            go.set()
            for t in threads:
                t.join()
    elif MODE in ("decorated", "cli", "decorated-cli"):
        run_threads(barrier=True)
    else:
        print(f"unknown mode {MODE!r}: with, running, decorated, cli, decorated-cli")
        return 2
    got, expected = recorded(), THREADS * CALLS * LINES_PER_CALL
    print(f"{'ok' if got == expected else 'short'} {got} {expected}", flush=True)
    return 0 if got == expected else 1


if __name__ == "__main__":
    sys.exit(main())
