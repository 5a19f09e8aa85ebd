"""``dnsaudit audit``: the arguments become one ``AuditConfig``, ``pipeline.run_audit`` does
the audit, and this module prints what happened and returns the exit code."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from dnsaudit.cli.exits import (
    EXIT_HISTORY,
    EXIT_INTERRUPTED,
    EXIT_UNTESTED,
    EXIT_USAGE,
    err,
    exit_code,
    problem_lines,
)
from dnsaudit.cli.parser import globs
from dnsaudit.config import (
    DEFAULT_TITLE,
    AuditConfig,
    CheckSelection,
    DnsConfig,
    HistoryConfig,
    PolicyConfig,
    ProbeConfig,
    ReportConfig,
)
from dnsaudit.pipeline import AuditFailed, AuditInterrupted, Failure, Listener, run_audit
from dnsaudit.text import plural, printable

if TYPE_CHECKING:
    from dnsaudit.model import AuditRun, InputIssue
    from dnsaudit.policy import Policy
    from dnsaudit.progress import Progress

EXIT_OF = {Failure.USAGE: EXIT_USAGE, Failure.HISTORY: EXIT_HISTORY, Failure.NO_DNS: EXIT_UNTESTED}


def config_from_args(args: argparse.Namespace, policy: Policy | None = None) -> AuditConfig:
    """The audit the arguments ask for (``policy``: the policy file's dnsaudit.policy.Policy, whose
    options are in ``args`` already). Raises ValueError for a nameserver that is not an address."""
    from dnsaudit.net.dns import parse_nameserver

    configured = args.nameserver or os.environ.get("DNSAUDIT_NAMESERVER", "").replace(",", " ").split()
    return AuditConfig(
        input_file=args.input,
        sheet=args.sheet,
        max_input_bytes=args.max_input_mb * 1_000_000,
        dns=DnsConfig(nameservers=tuple(parse_nameserver(n) for n in configured), timeout=args.timeout,
                      retries=args.retries, zone_files=tuple(args.zone), offline=args.offline,
                      compare_live=args.compare_live),
        probes=ProbeConfig(enabled=not args.no_probes, allow_private=args.allow_private, ca_file=args.ca_file,
                           https_port=args.https_port, http_port=args.http_port, smtp_port=args.smtp_port,
                           timeout=args.probe_timeout),
        checks=CheckSelection(include=tuple(globs(args.checks)), skip=tuple(globs(args.skip)),
                              timeout=args.check_timeout, strict_plugins=args.strict_plugins),
        reports=ReportConfig(out_dir=args.out, formats=tuple(globs(args.format)), split_by=args.split_by,
                             title=args.title or DEFAULT_TITLE, stats_file=args.stats),
        history=HistoryConfig(enabled=not args.no_history, path=args.history, compare=args.compare, keep=args.keep,
                              wait_lock=args.wait_lock),
        policy=PolicyConfig(waivers=policy.waivers if policy else (),
                            expectations=policy.expectations if policy else (), notify=tuple(args.notify)),
        concurrency=args.concurrency,
        workers=None if args.workers == "auto" else args.workers,
        fail_on=args.fail_on,
    )


class Printer(Listener):
    """The pipeline's news on stderr: warnings, input issues, the start line, a progress bar."""

    def __init__(self, input_file: str, quiet: bool) -> None:
        from dnsaudit.gctune import Freezer

        self.input_file, self.quiet = input_file, quiet
        self.progress: Progress | None = None
        self.freeze = Freezer()  # the CLI owns its process, so it may tune the collector

    def warning(self, message: str) -> None:
        self.end_progress_line()
        err(f"warning: {message}")

    def notice(self, message: str) -> None:
        self.end_progress_line()
        err(message)

    def end_progress_line(self) -> None:
        """A message during the audit starts on a line of its own, not after the bar."""
        if self.progress is not None:
            self.progress.break_line()

    def input_issue(self, issue: InputIssue) -> None:
        if self.quiet and issue.level == "warning":
            return  # a value that was normalised is no problem; results.json keeps the warning
        self.end_progress_line()
        print(printable(f"{self.input_file}: {issue}", 2000), file=sys.stderr)

    def input_issues_left(self, count: int) -> None:
        print(printable(f"{self.input_file}: … and {count:,} more rows like this (all of them are in results.json)",
                        2000), file=sys.stderr)

    def starting(self, domains: int, checks: int, source: str) -> None:
        from dnsaudit.progress import Progress
        from dnsaudit.reports.terminal import terminal_width

        width = terminal_width(sys.stderr)
        if not self.quiet:
            print(start_line(f"Auditing {plural(domains, 'domain')} with {plural(checks, 'check')}", source, width),
                  file=sys.stderr)
        self.progress = Progress(domains, enabled=not self.quiet and sys.stderr.isatty(), width=width)

    def domain_done(self, done: int, total: int) -> None:
        self.freeze()
        if self.progress is not None:  # starting() made it
            self.progress.step()

    def audit_done(self) -> None:
        if self.progress is not None:
            self.progress.done()


def start_line(what: str, source: str, width: int | None) -> str:
    """"Auditing … (DNS: …; planned zones: …)" fitted to a ``width``-column terminal: when it
    is too long, the planned zones go on a line of their own, those beyond what fits counted
    ("and 4 more"), and a line is cut only as a last resort; in full where nothing wraps it
    (a pipe, a file, cron's mail)."""
    from dnsaudit.preflight import ZONES_SAID
    from dnsaudit.reports.terminal import cut, display_width

    line = f"{what} (DNS: {source})"
    if width is None or display_width(line) <= width:
        return line
    head, _, listed = source.partition(ZONES_SAID)
    lines = [f"{what} (DNS: {head})"]
    if listed:
        zones = listed.split(", ")
        shown = len(zones)
        while shown > 1 and display_width(_zones_line(zones, shown)) > width:
            shown -= 1
        lines.append(_zones_line(zones, shown))
    return "\n".join(cut(line, width - 1) for line in lines)  # the last column free: no terminal wraps there


def _zones_line(zones: list[str], shown: int) -> str:
    more = f" and {len(zones) - shown} more" if shown < len(zones) else ""
    return f"  planned zones: {', '.join(zones[:shown])}{more}"


def cmd_audit(args: argparse.Namespace, policy: Policy | None = None) -> int:
    try:
        config = config_from_args(args, policy)
    except ValueError as exc:
        err(str(exc))
        return EXIT_USAGE
    if policy is not None and not args.quiet:
        print(f"Policy file {policy.path}: {len(policy.waivers)} waivers, {len(policy.expectations)} [[expect]] tables",
              file=sys.stderr)
    from dnsaudit.gctune import tune_for_audit

    tune_for_audit()
    printer = Printer(args.input, args.quiet)
    try:
        outcome = run_audit(config, printer)
    except AuditFailed as exc:
        printer.end_progress_line()
        err(str(exc))
        return EXIT_OF[exc.failure]
    except AuditInterrupted as exc:
        printer.end_progress_line()
        kept = ""
        if exc.run_id is not None:
            kept = (f"; the domains finished so far are kept in the history as incomplete run {exc.run_id} "
                    f"('dnsaudit report --run {exc.run_id}' writes their reports)")
        err(f"interrupted: the reports are missing or incomplete{kept}")
        return EXIT_INTERRUPTED
    drift = outcome.drift
    if not args.quiet:
        from dnsaudit.reports.terminal import summary

        print(summary(outcome.run))
        from dnsaudit.reports.terminal import display_width, terminal_width

        names = ", ".join(p.name for p in outcome.written if p.parent == outcome.out_dir)
        names += " (and per client under clients/)" if args.split_by else ""
        where = f"Reports in {outcome.out_dir}:"
        width = terminal_width()
        fits = width is None or display_width(f"{where} {names}") < width
        if fits:
            print(f"\n{where} {names}")
        else:  # the folder on a line of its own (never cut: people copy it), the files wrapped under it
            import textwrap

            print(f"\n{where}\n" + textwrap.fill(names, width - 1, initial_indent="  ", subsequent_indent="  ",
                                                  break_long_words=False, break_on_hyphens=False))
        stored = f"; stored as run {outcome.run_id}" if outcome.run_id is not None else ""
        print(f"{outcome.dns_questions} DNS questions, {outcome.dns_queries_sent} queries sent{stored}")
    if drift is not None and (drift.changed or not args.quiet):
        print("\n".join(drift.lines()))
    if args.debug:
        print_traces(outcome.run)
    if args.quiet and drift is None:  # for cron: the results at the --fail-on level, nothing when none
        for line in problem_lines(outcome.run, config.fail_on):
            print(line)
    if outcome.history_error:  # a side effect failed: the reports are there, the exit code says what is missing
        err(outcome.history_error)
        return EXIT_HISTORY
    if drift is not None:
        return EXIT_USAGE if outcome.input_errors else drift.exit_code
    return exit_code(outcome.run, config.fail_on, outcome.input_errors)


def print_traces(run: AuditRun) -> None:
    """--debug: each traceback of a check that raised, once, with the domains it happened on."""
    seen: dict[tuple[str, str], list[str]] = {}
    for d in run.domains:  # one pass: a large run's domains are read one at a time
        for f in d.findings:
            if f.trace:
                seen.setdefault((f.check_id, f.trace), []).append(d.entry.domain)
    for (check_id, trace), domains in seen.items():
        more = f" and {len(domains) - 3} more" if len(domains) > 3 else ""
        err(f"debug: check {check_id} raised on {', '.join(domains[:3])}{more}:\n{trace}")
