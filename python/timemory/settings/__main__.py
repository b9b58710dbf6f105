"""``python -m timemory.settings`` (= ``timemory settings``): every effective setting, its
value and where it came from; with ``--components``, the components and their names.

The ``--timemory-*`` options are accepted too, so the effect of a command line can be previewed.
"""

from __future__ import annotations

import json
import re
import sys

from timemory import _about, settings


def main(argv: list[str] | None = None) -> int:
    parser = _about.line_error_parser(
        prog=_about.program_name("python -m timemory.settings"),
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
    parser.add_argument(
        "--components",
        action="store_true",
        help="list the components instead: the names -c and the *_components settings "
        "accept (with --json: every component, its aliases and whether it is available here)",
    )
    parser.add_argument("--version", action="version", version=_about.version_line())
    # config files first so that command-line options given below win over them
    settings.read_config_files()
    settings.add_arguments(parser, subparser=False)
    args = parser.parse_args(argv)
    if args.components:
        return _list_components(args.json)

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


def _list_components(as_json: bool) -> int:
    """The components available here (name, other names, description), then the others."""
    from timemory import _core

    table = [i for i in _core.component_table() if i["class_name"]]
    if as_json:
        keys = ("key", "id", "class_name", "aliases", "available", "has_value", "description")
        print(json.dumps([{k: i[k] for k in keys} for i in table], indent=2))
        return 0
    rows = [("COMPONENT", "ALSO", "DESCRIPTION")]
    for info in table:
        if info["available"]:
            others = dict.fromkeys([info["id"], info["class_name"], *info["aliases"]])
            others.pop(info["key"], None)
            rows.append((info["key"], ", ".join(others), info["description"]))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())
    unavailable = [i["key"] for i in table if not i["available"]]
    if unavailable:
        print(f"\nnot available in this build: {', '.join(unavailable)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
