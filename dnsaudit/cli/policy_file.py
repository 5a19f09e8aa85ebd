"""``dnsaudit audit --config FILE``: the policy file's options under the command line's.

Which file: ``--config FILE``, else ``dnsaudit.toml`` in the current folder when there is
one (``--no-config`` ignores it). Its options fill what the command line did not give;
its waivers and expectations go to the audit with it (see dnsaudit.policy).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from dnsaudit.policy import Policy, load_policy
from dnsaudit.policy.options import given_on_command_line, merge, option_specs

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
