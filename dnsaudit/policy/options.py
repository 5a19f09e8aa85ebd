"""The ``audit`` options of a policy file, under the command line's.

The specs come from the parser itself, so every option the command line has is a key of
the file with the same name, converter and choices, and a new option needs no second
list here. Precedence: the command line, then the file, then the built-in defaults; a
repeatable option given on the command line replaces the file's list rather than adding
to it (``--nameserver 9.9.9.9`` for one run means that resolver only).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path

from dnsaudit.policy.file import OptionSpec, Policy

# Options that make no sense inside the file that they would select or switch off.
NOT_IN_FILE = frozenset({"help", "config", "no-config"})


def option_specs(parser: argparse.ArgumentParser, extra_paths: Iterable[str] = ()) -> dict[str, OptionSpec]:
    """A spec per long option of ``parser`` (and per positional, by its dest), by file key.

    ``extra_paths`` names options whose value is a file although their type is a plain
    string (the input, ``--ca-file``): they are taken relative to the policy file too.
    """
    extra_paths = set(extra_paths)
    specs = {}
    for action in parser._actions:  # argparse offers no public way to list them
        longs = [o for o in action.option_strings if o.startswith("--")]
        if action.option_strings and not longs:
            continue
        name = longs[0][2:] if longs else action.dest.replace("_", "-")
        if name in NOT_IN_FILE or isinstance(action, (argparse._HelpAction, argparse._VersionAction)):
            continue
        if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
            kind = "flag"
        elif isinstance(action, argparse._AppendAction):
            kind = "list"
        else:
            kind = "value"
        convert = action.type if callable(action.type) and action.type is not str else None
        path = convert is Path or name in extra_paths
        specs[name] = OptionSpec(
            name=name, dest=action.dest, kind=kind, convert=convert,
            choices=tuple(action.choices or ()), numeric=convert not in (None, Path), path=path)
    return specs


def given_on_command_line(parser: argparse.ArgumentParser, sub: argparse.ArgumentParser,
                          argv: Sequence[str]) -> set[str]:
    """The dests of ``sub``'s options that ``argv`` sets (defaults do not count)."""
    saved = [(action, action.default) for action in sub._actions]
    try:
        for action, _ in saved:
            action.default = argparse.SUPPRESS
        namespace, _ = parser.parse_known_args(list(argv))
    finally:
        for action, default in saved:
            action.default = default
    return set(vars(namespace))


def merge(args: argparse.Namespace, policy: Policy, given: set[str]) -> argparse.Namespace:
    """``args`` with every option of the file that the command line did not give."""
    for dest, value in policy.options.items():
        if dest not in given:
            setattr(args, dest, value)
    return args
