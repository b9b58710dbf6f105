"""``python -m timemory.settings``: every effective setting, its value and where it came from.

The ``--timemory-*`` options are accepted too, so the effect of a command line can be previewed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

from timemory import settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m timemory.settings",
        description="Show every timemory setting with its value and source "
        "(default, environment, config file, command line, api).",
    )
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    parser.add_argument(
        "--filter", metavar="REGEX", help="only settings whose name or env var matches"
    )
    parser.add_argument(
        "--changed", action="store_true", help="only settings that differ from the default"
    )
    # config files first so that command-line options given below win over them
    settings.read_config_files()
    settings.add_arguments(parser, subparser=False)
    args = parser.parse_args(argv)

    try:
        pattern = re.compile(args.filter or "")
    except re.error as exc:
        parser.error(f"argument --filter: invalid regular expression {args.filter!r}: {exc}")
    records = [
        r
        for r in settings.describe()
        if (pattern.search(r.name) or pattern.search(r.env))
        and not (args.changed and r.value == r.default)
    ]

    if args.json:
        print(json.dumps([r._asdict() for r in records], indent=2))
        return 0
    rows = [("NAME", "VALUE", "SOURCE", "ENV VAR")]
    rows += [(r.name, repr(r.value), r.source, r.env or "-") for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)), row[3])
    return 0


if __name__ == "__main__":
    sys.exit(main())
