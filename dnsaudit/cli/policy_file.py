"""``dnsaudit audit --config FILE``: the policy file's options under the command line's.

Which file: ``--config FILE``, else ``dnsaudit.toml`` in the current folder when there is
one (``--no-config`` ignores it). Its options fill what the command line did not give;
its waivers and expectations go to the audit with it (see dnsaudit.policy).

The file's option specs come from the parser itself, so every option the command line has
is a key of the file with the same name, converter and choices, and a new option needs no
second list. Precedence: the command line, then the file, then the built-in defaults; a
repeatable option given on the command line replaces the file's list rather than adding
to it (``--nameserver 9.9.9.9`` for one run means that resolver only). All of it reads
argparse, so it lives here in the cli layer; ``dnsaudit.policy`` only gets the specs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from pathlib import Path

from dnsaudit.policy import Policy, load_policy
from dnsaudit.policy.file import OptionSpec

DEFAULT_FILE = "dnsaudit.toml"
STRING_PATHS = ("input", "ca-file")  # file options whose argparse type is a plain string


def policy_path(args: argparse.Namespace) -> Path | None:
    """The policy file this run reads, or None. Raises PolicyError for --config with --no-config."""
    from dnsaudit.policy import PolicyError

    if args.config is not None and args.no_config:
        raise PolicyError("give --config FILE or --no-config, not both")
    if args.config is not None:
        return Path(args.config)
    default = Path(DEFAULT_FILE)
    return default if not args.no_config and default.is_file() else None


def apply_policy_file(parser: argparse.ArgumentParser, argv: Sequence[str],
                      args: argparse.Namespace) -> tuple[argparse.Namespace, Policy | None]:
    """``args`` with the policy file's options merged in, and the policy (None without a file).

    Raises PolicyError (one line naming the file and the key) for a file that cannot be used.
    """
    path = policy_path(args)
    if path is None:
        return args, None
    audit = _subparser(parser, "audit")
    policy = load_policy(path, option_specs(audit, extra_paths=STRING_PATHS))
    return merge(args, policy, given_on_command_line(parser, audit, argv)), policy


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    commands = getattr(parser, "commands", None)  # dnsaudit.cli.parser.Parser keeps them by name
    if commands is not None:
        found: argparse.ArgumentParser = commands[name]
        return found
    for action in parser._actions:  # a plain argparse parser keeps them in a private action
        if isinstance(action, argparse._SubParsersAction):
            chosen: argparse.ArgumentParser = action.choices[name]
            return chosen
    raise LookupError(name)


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
    """A new namespace: ``args`` with every option of the file that the command line did not
    give (``args`` itself is left as it was)."""
    from_file = {dest: value for dest, value in policy.options.items() if dest not in given}
    return argparse.Namespace(**{**vars(args), **from_file})
