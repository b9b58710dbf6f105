"""``python -m timemory.hardware_counters``: the counters this machine can count, and why not."""

from __future__ import annotations

import sys

from timemory import _about

from . import configured, events


def main(argv: list[str] | None = None) -> int:
    parser = _about.line_error_parser(
        prog=_about.program_name("python -m timemory.hardware_counters"),
        description="List the hardware counters (PAPI presets and perf events) and whether "
        "this machine can count them (each is probed with perf_event_open).",
    )
    parser.add_argument("-a", "--available", action="store_true", help="only the available ones")
    parser.add_argument("--version", action="version", version=_about.version_line())
    args = parser.parse_args(argv)
    rows = [i for i in events() if i.available() or not args.available]
    width = max(len(i.symbol()) for i in rows) if rows else 0
    for info in rows:
        state = "yes" if info.available() else "no "
        note = info.long_description() if info.available() else info.reason()
        if info.available() and info.user_only():
            note += " [user mode only]"
        print(f"{info.symbol():<{width}}  {state}  {note}")
    chosen = ", ".join(i.symbol() for i in configured())
    print(f"\nsettings.papi_events counts: {chosen}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
