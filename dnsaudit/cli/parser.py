"""The argument parser of ``dnsaudit``: every subcommand and its options (the texts around
them and the usage error are in ``usage.py``).

Parsing only: the values are checked for their form here (a port is a number from 1 to
65535), the commands decide what they mean.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from dnsaudit import __version__
from dnsaudit.cli.usage import AUDIT_EPILOG, DESCRIPTION, Parser
from dnsaudit.config import FAIL_ON


def build_parser() -> Parser:
    parser = Parser(
        prog="dnsaudit", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"dnsaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    audit = sub.add_parser(
        "audit",
        help="audit the domains listed in a CSV or .xlsx file",
        description="Audit every domain in INPUT: print a summary, worst first, and write report.xlsx,\n"
        "report.html, findings.csv, matrix.csv, fixes/ and results.json into a new folder; store the\n"
        "run in the history.",
        epilog=AUDIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("input", metavar="INPUT", nargs="?",
                       help="CSV or .xlsx file with a domain column (or 'input' in the policy file)")
    audit.add_argument("--config", metavar="FILE", type=Path,
                       help="policy file: options by their long names, [[waiver]] and [[expect]] tables "
                       "(default: dnsaudit.toml in the current folder, when there is one); the command line wins")
    audit.add_argument("--no-config", action="store_true", help="ignore dnsaudit.toml in the current folder")
    audit.add_argument("--sheet", help="worksheet of an .xlsx input (default: the first)")
    audit.add_argument("--max-input-mb", type=_positive_int, default=100, metavar="MB",
                       help="refuse an input file larger than this (default 100; a workbook may unpack to 8 times "
                       "as much). Reading takes about 20 bytes of memory per input byte")
    audit.add_argument("--out", metavar="DIR", type=Path,
                       help="folder for the reports (default: dnsaudit-runs/<date-time>); must be new or empty")
    net = audit.add_argument_group("DNS")
    net.add_argument("--nameserver", metavar="IP[:PORT]", action="append", default=[],
                     help="resolver to ask (repeatable; default: $DNSAUDIT_NAMESERVER, else the system's resolvers)")
    net.add_argument("--timeout", type=_positive_float, default=3.0, metavar="SECONDS",
                     help="wait per DNS query and server (default: 3)")
    net.add_argument("--retries", type=_non_negative_int, default=1, metavar="N",
                     help="extra rounds over the servers after a timeout (default: 1)")
    net.add_argument("--concurrency", type=_positive_int, default=64, metavar="N",
                     help="domains at work at the same time, over all workers (default: 64); one that only waits "
                     "for slow answers lends its place meanwhile (up to 4x as many in progress); lower it for a "
                     "fragile resolver")
    net.add_argument("--workers", type=_workers, default="auto", metavar="N|auto",
                     help="processes auditing in parallel, one CPU core each (default: auto = 1 below 500 "
                     "domains, else one per core, at most 4); with more than one, a question many domains "
                     "share is asked once per worker")
    plan = audit.add_argument_group("planned zones")
    plan.add_argument("--zone", metavar="FILE_OR_DIR", action="append", default=[], type=Path,
                      help="answer names under these zone files (RFC 1035 format; repeatable; a folder of them) "
                      "instead of DNS: audit a plan before publishing it")
    plan.add_argument("--offline", action="store_true",
                      help="ask no DNS server and probe nothing: names outside the zone files come from the "
                      "snapshot of Microsoft's records shipped with dnsaudit")
    plan.add_argument("--compare-live", action="store_true",
                      help="with --zone: also show, per domain, what the plan changes against live DNS")
    web = audit.add_argument_group("HTTPS and TLS probes")
    web.add_argument("--no-probes", action="store_true",
                     help="make no HTTP(S), TLS or SMTP connections (checks that need them report skip)")
    web.add_argument("--allow-private", action="store_true",
                     help="connect to loopback/private/link-local addresses that DNS returns (labs, internal "
                     "audits); by default such answers are reported, not probed")
    web.add_argument("--ca-file", metavar="PEM",
                     help="extra trusted CA certificates (the system store and SSL_CERT_FILE still apply)")
    web.add_argument("--https-port", type=_port, default=443, metavar="PORT", help="HTTPS port to probe (default 443)")
    web.add_argument("--http-port", type=_port, default=80, metavar="PORT", help="HTTP port to probe (default 80)")
    web.add_argument("--smtp-port", type=_port, default=25, metavar="PORT",
                     help="SMTP port for STARTTLS probes of MX hosts (default 25)")
    web.add_argument("--probe-timeout", type=_positive_float, default=10.0, metavar="SECONDS",
                     help="connect/read timeout of each probe (default: 10)")
    sel = audit.add_argument_group("checks")
    sel.add_argument("--checks", metavar="GLOBS", action="append", default=[], type=_some("check"),
                     help="only checks whose id matches (comma-separated globs, e.g. 'mx.*,autodiscover.*')")
    sel.add_argument("--skip", metavar="GLOBS", action="append", default=[],
                     help="leave out checks whose id matches")
    sel.add_argument("--check-timeout", type=_positive_float, default=60.0, metavar="SECONDS",
                     help="longest one check may take on one domain (default: 60)")
    sel.add_argument("--strict-plugins", action="store_true",
                     help="stop when a third-party check or report plugin cannot be loaded (default: warn)")
    res = audit.add_argument_group("result")
    res.add_argument("--fail-on", choices=FAIL_ON, default="fail",
                     help="exit 1 when any result is at least this bad: warn, fail (default), "
                     "blocking (a failed critical/high check), never")
    res.add_argument("--quiet", action="store_true",
                     help="print only problems, and with --compare only what changed (for cron); no progress bar")
    res.add_argument("--stats", metavar="FILE", type=Path,
                     help="write run statistics as JSON: time per phase, DNS questions and queries, peak memory")
    res.add_argument("--debug", action="store_true",
                     help="after the summary, print the Python traceback of every check that raised (once per "
                     "check and traceback, with the domains it hit); results.json keeps them as 'trace' anyway")
    _report_options(res)
    hist = audit.add_argument_group("history and drift")
    _history_option(hist)
    hist.add_argument("--no-history", action="store_true", help="do not store this run in the history")
    hist.add_argument("--compare", metavar="RUN", help="compare with an earlier complete run: last, baseline or a run "
                      "id; prints what changed, writes drift.json and sets the exit code (0/4/5)")
    hist.add_argument("--wait-lock", type=_non_negative_float, default=0.0, metavar="SECONDS",
                      help="wait this long for another run that holds the history (default: 0). Without --compare "
                      "a run that still finds it held is audited and reported but not stored; with --compare it "
                      "stops (exit 6)")
    hist.add_argument("--keep", type=_positive_int, metavar="N",
                      help="after the run, keep only the newest N runs in the history (the baseline is kept); "
                      "their space is reused ('dnsaudit runs --prune N' also shrinks an older file)")
    res.add_argument("--notify", metavar="URL", action="append", default=[],
                     help="after a run that regressed (with --compare) or reached --fail-on, send a short alert "
                     "here (repeatable): json://host/path or https:// webhooks; Teams, Slack, e-mail and more "
                     "with the extra dnsaudit[notify] (Apprise URLs); a failed alert is only a warning")

    report = sub.add_parser(
        "report", help="write the reports again from an earlier run's results.json or history (no network)",
        description="Render reports from a results.json written by 'dnsaudit audit', or from a run stored in the "
        "history (an interrupted run too: its finished domains), without any DNS or HTTP.",
        epilog="examples:\n  dnsaudit report dnsaudit-runs/2026-11-27_101500/results.json --split-by client "
        "--out for-clients\n  dnsaudit report --run 12 --out what-finished     # see 'dnsaudit runs'",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("results", metavar="RESULTS_JSON", nargs="?", help="results.json of an earlier run")
    report.add_argument("--run", metavar="ID", type=_positive_int,
                        help="instead of RESULTS_JSON: run ID of the history ('dnsaudit runs' lists them)")
    _history_option(report)
    report.add_argument("--out", metavar="DIR", type=Path,
                        help="folder for the reports (default: dnsaudit-runs/<date-time>); must be new or empty")
    _report_options(report)
    report.add_argument("--strict-plugins", action="store_true",
                        help="stop (exit 2, nothing written) when a third-party report plugin cannot be loaded "
                        "(default: warn and write the other formats)")

    runs = sub.add_parser("runs", help="list the runs in the history, or prune it",
                          description="List the stored runs: id, start, status, domains, baseline. With --prune, "
                          "delete older runs and give their space back to the file system.",
                          epilog="example:\n  dnsaudit runs --prune 30      # keep the newest 30 runs (and the "
                          "baseline), then VACUUM",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    runs.add_argument("--prune", type=_positive_int, metavar="N",
                      help="keep only the newest N runs (the baseline is always kept) and shrink the file (VACUUM)")
    _history_option(runs)
    diff = sub.add_parser("diff", help="what changed between two stored runs",
                          description="Compare two complete runs of the history (default: the last two). "
                          "Exit code 0 no change, 4 changed but not worse, 5 regressed.")
    diff.add_argument("runs", nargs="*", metavar="RUN", help="[RUN_A] [RUN_B]: ids, 'last' or 'baseline'")
    diff.add_argument("--json", action="store_true", help="print drift as JSON")
    _history_option(diff)
    baseline = sub.add_parser("baseline", help="pin a run as the baseline for --compare baseline",
                              description="'dnsaudit baseline set RUN_ID' pins a complete run; "
                              "'dnsaudit baseline show' prints the current one.")
    baseline.add_argument("action", choices=("set", "show"))
    baseline.add_argument("run_id", nargs="?", type=int, metavar="RUN_ID")
    _history_option(baseline)

    checks = sub.add_parser("checks", help="list the checks with their documentation",
                            description="List every available check: id, severity, title and documentation.")
    checks.add_argument("patterns", nargs="*", metavar="GLOB", help="only checks whose id matches")
    checks.add_argument("--brief", action="store_true", help="one line per check")
    parser.commands = dict(sub.choices)
    return parser


def _history_option(group: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    group.add_argument("--history", metavar="FILE", type=Path,
                       help="history database (default: ~/.local/share/dnsaudit/history.sqlite)")


def _report_options(group: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    group.add_argument("--format", metavar="FORMATS", action="append", default=[], type=_some("format"),
                       help="report formats, comma-separated: json, xlsx, html, csv, matrix, fixes, or one a report "
                       "plugin adds (default: all)")
    group.add_argument("--split-by", choices=("client",),
                       help="also write each client's reports (workbook, page, CSVs, fixes/) under clients/<client>/, "
                       "with clients/index.csv listing them")
    group.add_argument("--title", default=None, help="report title (default: 'Microsoft 365 mail readiness')")


def _some(what: str) -> Callable[[str], str]:
    """A comma-separated list that names at least one item: ``--checks ''`` is a mistake, not "all"."""

    def parse(text: str) -> str:
        if not globs([text]):
            raise argparse.ArgumentTypeError(f"{text!r} names no {what}; leave the option out for all of them")
        return text

    return parse


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _whole(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _workers(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError("must be a number of processes (1 or more) or 'auto'") from None


def _port(text: str) -> int:
    value = _whole(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def globs(values: list[str]) -> list[str]:
    """Repeatable comma-separated option values (--checks, --skip, --format) as one list, each once."""
    return list(dict.fromkeys(g.strip() for v in values for g in v.split(",") if g.strip()))
