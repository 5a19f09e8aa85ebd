"""The ``dnsaudit`` command line: parse the arguments, run one subcommand, return its exit code.

Each subcommand lives in its own module and is imported only when it runs (the CLI starts
fast); the exit codes and their policy are in ``dnsaudit.cli.exits``.

  parser.py   every option and its --help text (usage.py: description, epilog, usage errors)
  audit.py    dnsaudit audit
  report.py   dnsaudit report
  checks.py   dnsaudit checks
  history.py  dnsaudit runs, diff, baseline
  exits.py    exit codes, err(), the exit-code policy
  policy_file.py  --config / dnsaudit.toml: the policy file's options under the command line's
"""

from __future__ import annotations

from dnsaudit.cli.exits import EXIT_USAGE
from dnsaudit.cli.parser import build_parser

__all__ = ["build_parser", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; Ctrl-C at any moment ends in one line and exit code 130, never a traceback."""
    from dnsaudit.cli.exits import EXIT_INTERRUPTED, err, interrupted
    from dnsaudit.sigint import unwrapping

    try:
        with unwrapping():  # Python 3.11 wraps one raised while a class is made (dnsaudit.sigint)
            code = _main(argv)
    except KeyboardInterrupt:  # before or after the audit's own handling (reading input, rendering)
        err("interrupted")
        code = EXIT_INTERRUPTED
    if code == EXIT_INTERRUPTED:
        interrupted()
    return code


def _main(argv: list[str] | None) -> int:
    from dnsaudit.sigint import raise_if_lost

    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    raise_if_lost()  # a Ctrl-C that Python swallowed while the command loaded (dnsaudit.sigint)
    if unknown:  # said by the subcommand's parser, whose usage and help apply
        parser.commands.get(args.command, parser).error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "checks":
        from dnsaudit.cli.checks import cmd_checks

        return cmd_checks(args)
    if args.command == "report":
        from dnsaudit.cli.report import cmd_report

        return cmd_report(args)
    if args.command in ("runs", "diff", "baseline"):
        from dnsaudit.cli.history import run_command

        return run_command(args)
    import sys

    from dnsaudit.cli.exits import err
    from dnsaudit.cli.policy_file import apply_policy_file
    from dnsaudit.policy import PolicyError

    try:
        args, policy = apply_policy_file(parser, sys.argv[1:] if argv is None else argv, args)
    except PolicyError as exc:
        err(str(exc))
        return EXIT_USAGE
    if args.input is None:  # exits 2 with the usage line, as any other missing argument
        parser.commands["audit"].error("the following arguments are required: INPUT "
                                       "(or input = \"FILE\" in the policy file)")
    from dnsaudit.cli.audit import cmd_audit

    return cmd_audit(args, policy)
