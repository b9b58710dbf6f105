"""The argparse side of :mod:`timemory.settings`: the actions that apply a setting while the
command line is parsed, and the options added by :func:`timemory.settings.add_arguments`.

A module of its own so that argparse is imported only by the programs that build a parser.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Iterable

from . import (
    _SPEC_LIST,
    _SPECS,
    Settings,
    _get,
    _lookup,
    _option_flags,
    _read_file,
    _resolve,
    _set,
    _suggest,
    _warn,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: importing typing costs about 0.8 MiB of RSS
    from typing import Any


class _SettingAction(argparse.Action):
    """Applies the value to the setting while parsing, so it is in effect right away."""

    def __init__(
        self,
        option_strings: list[str],
        dest: str,
        *,
        setting: str,
        instance: Settings,
        **kwargs: Any,
    ) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.setting, self.instance = setting, instance

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        try:
            _set(self.instance, self.setting, values, "command line")
        except (TypeError, ValueError) as exc:
            parser.error(f"argument {option_string}: {exc}")
        if self.setting == "config_file":  # an explicit -C reads the files now; errors are fatal
            for entry in filter(None, (e.strip() for e in re.split(r"[;,]", values))):
                try:
                    _read_file(self.instance, os.path.expanduser(entry), implicit=False)
                except (OSError, ValueError) as exc:
                    parser.error(f"argument {option_string}: {exc}")
        setattr(namespace, self.dest, _get(self.instance, self.setting))


class _ArgsAction(argparse.Action):
    """``--args NAME=VALUE ...``: each string is split on space, tab, ';' and ':'."""

    def __init__(
        self, option_strings: list[str], dest: str, *, instance: Settings, **kwargs: Any
    ) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.instance = instance

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        applied = []
        for item in values:
            for pair in filter(None, re.split(r"[ \t;:]+", item)):
                key, sep, value = pair.partition("=")
                name = _lookup(key) if sep else None
                if not sep:
                    _warn(f"{option_string}: expected NAME=VALUE, got {pair!r}; ignored")
                elif name is None:
                    _warn(f"{option_string}: unknown timemory setting {key!r}{_suggest(key)}")
                else:
                    try:
                        _set(self.instance, name, value, "command line")
                    except (TypeError, ValueError) as exc:
                        parser.error(f"argument {option_string}: {exc}")
                    applied.append(f"{name}={value}")
        setattr(namespace, self.dest, applied)


def _find_subparsers(parser: argparse.ArgumentParser) -> Any:
    # argparse allows one add_subparsers() per parser: reuse the user's if they have one
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def add_arguments_to(
    parser: argparse.ArgumentParser | None,
    instance: Settings | None,
    subparser: Any,
    selection: Iterable[str],
) -> argparse.ArgumentParser:
    """:func:`timemory.settings.add_arguments`."""
    if parser is None:
        parser = argparse.ArgumentParser()
    inst = _resolve(instance)
    if subparser is True:
        subparsers = _find_subparsers(parser) or parser.add_subparsers(help="sub-command help")
        target = subparsers.add_parser(
            "timemory-config",
            description="Configure settings for timemory",
            conflict_handler="resolve",
            formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        )
        short = True
    elif subparser is None or subparser is False:
        target, short = parser, False
    else:
        target, short = subparser, True

    specs = [s for s in _SPEC_LIST if s.flags]
    if selection:
        if isinstance(selection, str):
            selection = [selection]
        chosen = []
        for key in selection:
            name = _lookup(key)
            if name is None:
                valid = ", ".join(s.name for s in specs)
                raise ValueError(
                    f"add_arguments: unknown setting {key!r} in selection (valid choices: {valid})"
                )
            chosen.append(name)
        specs = [_SPECS[n] for n in dict.fromkeys(chosen)]

    def rename(flag: str) -> str:
        if short and flag.startswith("--timemory-"):
            return "--" + flag[len("--timemory-") :]
        return flag

    for spec in specs:
        flags = [rename(f) for f in spec.flags or _option_flags(spec.name)]
        if target.conflict_handler != "resolve":  # never clobber or crash on the user's own options
            flags = [f for f in flags if f not in target._option_string_actions]
        if not flags:
            continue
        help_text = f"{spec.description} [env: {spec.env or 'none'}, type: {spec.kind.ctype}]"
        # dest is prefixed: sub-command values are copied into the parent namespace and a plain
        # "verbose" would overwrite the user's own --verbose
        target.add_argument(
            *flags,
            dest=f"timemory_{spec.name}",
            metavar="VALUE",
            required=False,
            default=spec.kind.text(_get(inst, spec.name)),
            help=argparse.SUPPRESS if spec.hidden else help_text.replace("%", "%%"),
            action=_SettingAction,
            setting=spec.name,
            instance=inst,
        )
    args_flag = "--args" if short else "--timemory-args"
    if target.conflict_handler == "resolve" or args_flag not in target._option_string_actions:
        target.add_argument(
            args_flag,
            dest="timemory_args",
            nargs="*",
            metavar="OPTION=VALUE",
            default=[],
            action=_ArgsAction,
            instance=inst,
            help="Set any timemory setting: NAME=VALUE pairs (NAME is the setting "
            "or its TIMEMORY_ variable), split on space, tab, ';' and ':'",
        )
    return parser
