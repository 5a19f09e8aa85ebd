"""Exit codes of the ``dnsaudit`` command, the one-line error printer, and the exit policy.

Exit codes (also in the README):
  0  the run worked and no result reached the --fail-on level
  1  at least one result reached the --fail-on level
  2  usage or input error: bad options, an unusable file, or rows that could not be audited
     (the good rows were still audited and reported)
  3  could not test: no DNS server answered, a resolver denies names that exist (NXDOMAIN
     for the root or outlook.com), or some checks could not test and nothing else reached
     the --fail-on level
With --compare (and for 'dnsaudit diff'), when an earlier complete run exists:
  0  no change since that run
  4  changed, but nothing got worse
  5  regressed: a check got worse because of a DNS or endpoint change
  2  usage or input error, as above
  6  the history cannot be used (unreadable, or another run holds it after --wait-lock);
     without --compare a held history only means this run is not stored (a warning)
130  interrupted (Ctrl-C): the finished domains stay in the history as an incomplete run
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dnsaudit.model import AuditRun

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNTESTED, EXIT_HISTORY = 0, 1, 2, 3, 6
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGINT, as shells report it


def interrupted() -> None:
    """Tell CPython that the Ctrl-C this command turns into exit code 130 was handled.

    CPython marks a KeyboardInterrupt that leaves code run by ``exec()`` or ``eval()`` of a
    string as unhandled, even when a caller catches it later, and ``python -m`` then ends
    the process by SIGINT (status -2) instead of the exit code. Dataclasses are made by
    ``exec()`` of their methods' source, so a Ctrl-C while a module imports (the CLI imports
    lazily, at any moment of a run) lands there often. Running a string resets the mark
    (CPython's Python/pythonrun.c, run_eval_code_obj: "a caller's uncaught exception" must
    not "trigger an unexplained signal exit"); seen on CPython 3.11 to 3.13."""
    exec("")  # an empty, constant string


def err(message: str) -> None:
    """An error or warning line on stderr; input and DNS values in it cannot drive the terminal."""
    from dnsaudit.text import printable

    lines = message.split("\n")  # a worker's traceback keeps its lines
    print("\n".join(printable(line, 2000) for line in [f"dnsaudit: {lines[0]}", *lines[1:]]), file=sys.stderr)


def problem_lines(run: AuditRun, fail_on: str) -> Iterator[str]:
    """One line per result at the --fail-on level, in input order: domain, check, status: message."""
    from dnsaudit.reports.view import rows_in_input_order
    from dnsaudit.scoring import reaches
    from dnsaudit.text import printable

    for row in rows_in_input_order(run):  # the report rows hold each domain's problems: none is decoded again
        for f in row.problems:
            if reaches(f, fail_on):  # the rule of exit code 1, waivers included
                yield printable(f"{row.entry.label}  {f.check_id}  {f.status.value}: {f.message}", 1000)


def exit_code(run: AuditRun, fail_on: str, input_errors: int) -> int:
    """Map a finished run to the documented exit code (see the module docstring)."""
    from dnsaudit.model import Status
    from dnsaudit.reports.view import rows_in_input_order
    from dnsaudit.scoring import reaches

    if input_errors:
        err(f"{input_errors} input rows or values had errors (listed above); exit code 2")
        return EXIT_USAGE
    rows = rows_in_input_order(run)  # the report rows hold each domain's problems: none is decoded again
    if any(reaches(f, fail_on) for row in rows for f in row.problems):  # a waived result never reaches it
        return EXIT_FINDINGS
    if any(row.counts[Status.ERROR] for row in rows):
        from dnsaudit.text import plural

        untested = sum(bool(row.score.untested) for row in rows)
        err(f"{plural(untested, 'domain')} had checks that could not test (see results); exit code 3")
        return EXIT_UNTESTED
    return EXIT_OK

