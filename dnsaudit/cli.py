"""The ``dnsaudit`` command line. Parses arguments, wires the parts, maps outcomes to exit codes.

Exit codes (also in the README):
  0  the run worked and no result reached the --fail-on level
  1  at least one result reached the --fail-on level
  2  usage or input error: bad options, an unusable file, or rows that could not be audited
     (the good rows were still audited and reported)
  3  could not test: no DNS server answered, or some checks could not test and nothing
     else reached the --fail-on level
With --compare (and for 'dnsaudit diff'), when an earlier complete run exists:
  0  no change since that run
  4  changed, but nothing got worse
  5  regressed: a check got worse because of a DNS or endpoint change
  2  usage or input error, as above
  6  the history cannot be used (another run holds it, or it is unreadable)
130  interrupted (Ctrl-C): the finished domains stay in the history as an incomplete run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import gc
import json
import os
import sys
import time
import textwrap
from pathlib import Path

from dnsaudit import __version__
from dnsaudit.text import printable

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNTESTED, EXIT_HISTORY = 0, 1, 2, 3, 6
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGINT, as shells report it
FAIL_ON = ("warn", "fail", "blocking", "never")

DESCRIPTION = """\
Audit domains for Microsoft 365 (Exchange Online) mail readiness: MX, autodiscover and
more, per domain, with a score and a verdict.
"""

AUDIT_EPILOG = """\
input columns:
  domain (required; also Domain, DomainName, Domain Name, or a header-less single column),
  relay_ips, relay_cert_host, cloud (worldwide | gcc-high | dod | china),
  phase (pre-migration | hybrid | cloud; default cloud), tenant, client, notes, gateway.
  See domains.example.csv.

examples:
  dnsaudit audit domains.csv
  dnsaudit audit domains.xlsx --sheet Domains --out reports/acme
  dnsaudit audit domains.csv --nameserver 1.1.1.1 --nameserver 9.9.9.9 --checks 'mx.*'
  dnsaudit audit domains.csv --fail-on blocking --quiet     # for cron: exit 1 on blockers
  dnsaudit audit msp-10000.csv --workers 4 --concurrency 200 # big list, fast resolver, 4 cores

exit codes: 0 ok, 1 results at the --fail-on level, 2 usage or input error,
            3 could not test (no DNS answer, or checks that could not test);
            with --compare: 0 no change, 4 changed but not worse, 5 regressed, 6 history unusable;
            130 interrupted (finished domains stay in the history)

for cron (drift detection; prints only what changed, exit 5 when something got worse):
  dnsaudit audit /srv/audit/domains.csv --compare last --quiet --keep 90
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dnsaudit", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"dnsaudit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    audit = sub.add_parser(
        "audit",
        help="audit the domains listed in a CSV or .xlsx file",
        description="Audit every domain in INPUT: print a summary, worst first, and write report.xlsx,\n"
        "report.html, findings.csv and results.json into a new folder; store the run in the history.",
        epilog=AUDIT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    audit.add_argument("input", metavar="INPUT", help="CSV or .xlsx file with a domain column")
    audit.add_argument("--sheet", help="worksheet of an .xlsx input (default: the first)")
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
                     help="domains audited at the same time, over all workers (default: 64); lower it for a "
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
    sel.add_argument("--checks", metavar="GLOBS", action="append", default=[],
                     help="only checks whose id matches (comma-separated globs, e.g. 'mx.*,autodiscover.*')")
    sel.add_argument("--skip", metavar="GLOBS", action="append", default=[],
                     help="leave out checks whose id matches")
    sel.add_argument("--check-timeout", type=_positive_float, default=60.0, metavar="SECONDS",
                     help="longest one check may take on one domain (default: 60)")
    sel.add_argument("--strict-plugins", action="store_true",
                     help="stop when a third-party check plugin cannot be loaded (default: warn)")
    res = audit.add_argument_group("result")
    res.add_argument("--fail-on", choices=FAIL_ON, default="fail",
                     help="exit 1 when any result is at least this bad: warn, fail (default), "
                     "blocking (a failed critical/high check), never")
    res.add_argument("--quiet", action="store_true",
                     help="print only problems, and with --compare only what changed (for cron); no progress bar")
    res.add_argument("--stats", metavar="FILE", type=Path,
                     help="write run statistics as JSON: time per phase, DNS questions and queries, peak memory")
    _report_options(res)
    hist = audit.add_argument_group("history and drift")
    _history_option(hist)
    hist.add_argument("--no-history", action="store_true", help="do not store this run in the history")
    hist.add_argument("--compare", metavar="RUN", help="compare with an earlier complete run: last, baseline or a run "
                      "id; prints what changed, writes drift.json and sets the exit code (0/4/5)")
    hist.add_argument("--keep", type=_positive_int, metavar="N",
                      help="after the run, keep only the newest N runs in the history (the baseline is kept)")

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

    runs = sub.add_parser("runs", help="list the runs in the history",
                          description="List the stored runs: id, start, status, domains, baseline.")
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
    return parser


def _history_option(group) -> None:
    group.add_argument("--history", metavar="FILE", type=Path,
                       help="history database (default: ~/.local/share/dnsaudit/history.sqlite)")


def _report_options(group) -> None:
    group.add_argument("--format", metavar="FORMATS", action="append", default=[],
                       help="report formats, comma-separated: json, xlsx, html, csv (default: all)")
    group.add_argument("--split-by", choices=("client",),
                       help="also write one workbook and HTML page per client under clients/")
    group.add_argument("--title", default=None, help="report title (default: 'Microsoft 365 mail readiness')")


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _workers(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        return _positive_int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a number of processes (1 or more) or 'auto'") from None


def _port(text: str) -> int:
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be a port number from 1 to 65535")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _globs(values: list[str]) -> list[str]:
    return [g.strip() for v in values for g in v.split(",") if g.strip()]


def err(message: str) -> None:
    """An error or warning line on stderr; input and DNS values in it cannot drive the terminal."""
    lines = message.split("\n")  # a worker's traceback keeps its lines
    print("\n".join(printable(line, 2000) for line in [f"dnsaudit: {lines[0]}", *lines[1:]]), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "checks":
        return cmd_checks(args)
    if args.command == "report":
        return cmd_report(args)
    if args.command in ("runs", "diff", "baseline"):
        from dnsaudit.cli_history import run_command

        return run_command(args)
    return cmd_audit(args)


def _writers(args):
    from dnsaudit.output import load_writers

    return load_writers(_globs(args.format))


def cmd_report(args) -> int:
    from dnsaudit.model import AuditRun
    from dnsaudit.registry import PluginError

    try:
        writers = _writers(args)
    except PluginError as exc:
        err(str(exc))
        return EXIT_USAGE
    if (args.results is None) == (args.run is None):
        err("give either RESULTS_JSON or --run ID")
        return EXIT_USAGE
    if args.run is not None:
        from dnsaudit.history import History, HistoryError, default_path

        try:
            with History(args.history or default_path(), lock=False) as history:
                run = history.load(args.run)
        except HistoryError as exc:
            err(str(exc))
            return EXIT_USAGE
        return _render(args, run, writers)
    try:
        with open(args.results, encoding="utf-8") as handle:
            run = AuditRun.from_dict(json.load(handle))
        drift_file = Path(args.results).with_name("drift.json")
        if drift_file.is_file():
            from dnsaudit.drift import Drift

            run = dataclasses.replace(run, drift=Drift.from_dict(json.loads(drift_file.read_text(encoding="utf-8"))))
    except OSError as exc:
        err(f"cannot read {args.results}: {exc.strerror or exc}")
        return EXIT_USAGE
    except (ValueError, KeyError, TypeError) as exc:
        err(f"{args.results} is not a usable dnsaudit results file: {exc}")
        return EXIT_USAGE
    return _render(args, run, writers)


def _render(args, run, writers) -> int:
    from dnsaudit.output import DEFAULT_TITLE, write_reports

    try:
        out_dir = prepare_out_dir(args.out, dt.datetime.now())
    except OSError as exc:
        err(str(exc))
        return EXIT_USAGE
    from dnsaudit.workers import auto_workers

    for path in write_reports(run, out_dir, writers, split_by=args.split_by, title=args.title or DEFAULT_TITLE,
                              processes=auto_workers(len(run.domains))):
        print(path)
    return EXIT_OK


def cmd_checks(args) -> int:
    from dnsaudit.registry import PluginError, check_info, load_checks, select

    try:
        loaded = load_checks()
        chosen = select(loaded.checks, args.patterns, [])
    except PluginError as exc:
        err(str(exc))
        return EXIT_USAGE
    for warning in loaded.warnings:
        err(f"warning: {warning}")
    for cls in chosen:
        info = check_info(cls)
        print(f"{info.id:<24} {info.severity.value:<8} {info.title}")
        if not args.brief:
            print(textwrap.indent(info.doc, "    "))
            if info.references:
                print(textwrap.indent("References: " + "; ".join(info.references), "    "))
            print()
    return EXIT_OK


def default_out_dir(now: dt.datetime) -> Path:
    base = Path("dnsaudit-runs") / now.strftime("%Y-%m-%d_%H%M%S")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}_{n}")
    return candidate


def prepare_out_dir(chosen: Path | None, now: dt.datetime) -> Path:
    """The output folder, created; never one that already holds files (no run is overwritten)."""
    out = chosen if chosen is not None else default_out_dir(now)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OSError(f"output folder {out} already exists and is not empty; give a new --out")
    out.mkdir(parents=True, exist_ok=True)
    return out


def cmd_audit(args) -> int:
    from dnsaudit.inputs import InputError, read_input
    from dnsaudit.net.dns import parse_nameserver, system_nameservers
    from dnsaudit.registry import PluginError, load_checks, select

    try:
        configured = args.nameserver or os.environ.get("DNSAUDIT_NAMESERVER", "").replace(",", " ").split()
        nameservers = [parse_nameserver(n) for n in configured] or ([] if args.offline else system_nameservers())
    except ValueError as exc:
        err(str(exc))
        return EXIT_USAGE
    if args.compare_live and (not args.zone or args.offline):
        err("--compare-live compares --zone files with live DNS: give --zone, and not --offline")
        return EXIT_USAGE
    zones = snapshot = None
    if args.zone or args.offline:
        from dnsaudit.snapshot import load_snapshot
        from dnsaudit.zones import ZoneError, ZoneSet

        try:
            zones = ZoneSet.load(args.zone) if args.zone else None
        except ZoneError as exc:
            err(str(exc))
            return EXIT_USAGE
        snapshot = load_snapshot() if args.offline else None
    args.planned_zones, args.snapshot = zones, snapshot
    if args.ca_file and not Path(args.ca_file).is_file():
        err(f"--ca-file {args.ca_file}: no such file")
        return EXIT_USAGE
    if not nameservers and not args.offline:
        err("no DNS resolver is configured on this system; give one with --nameserver IP")
        return EXIT_USAGE
    try:
        loaded = load_checks(strict=args.strict_plugins)
        checks = select(loaded.checks, _globs(args.checks), _globs(args.skip))
        checks = [c for c in checks if c.id != "zone.changes"]  # only with --compare-live
        if args.compare_live:
            checks += [c for c in loaded.checks if c.id == "zone.changes"]
        writers = _writers(args)
    except PluginError as exc:
        err(str(exc))
        return EXIT_USAGE
    for warning in loaded.warnings:
        err(f"warning: {warning}")
    if not checks:
        err("--checks/--skip leave no check to run")
        return EXIT_USAGE
    try:
        inputs = read_input(args.input, args.sheet)
    except InputError as exc:
        err(str(exc))
        return EXIT_USAGE
    for issue in inputs.issues:
        print(printable(f"{args.input}: {issue}", 2000), file=sys.stderr)
    if not inputs.entries:
        err(f"no domain in {args.input} can be audited ({len(inputs.errors)} rows with errors)")
        return EXIT_USAGE
    if args.compare and args.no_history:
        err("--compare needs the history; drop --no-history")
        return EXIT_USAGE
    from dnsaudit.history import History, HistoryError, UnknownRun, default_path

    with contextlib.ExitStack() as stack:
        history = None
        if not args.no_history:
            try:
                history = stack.enter_context(History(args.history or default_path()))
                baseline = history.resolve(args.compare) if args.compare else None
            except HistoryError as exc:
                err(str(exc))
                return EXIT_USAGE if isinstance(exc, UnknownRun) else EXIT_HISTORY
            if args.compare and baseline is None:
                err(f"no complete run to compare with ('{args.compare}'); this run becomes the first")
        now = dt.datetime.now(dt.timezone.utc)
        try:
            out_dir = prepare_out_dir(args.out, now.astimezone())
        except OSError as exc:
            err(str(exc))
            return EXIT_USAGE
        if not args.quiet:
            source = "offline: zone files and the snapshot" if args.offline else ", ".join(map(str, nameservers))
            planned = f"; planned zones: {', '.join(sorted(zones.sources))}" if zones else ""
            print(f"Auditing {len(inputs.entries)} domains with {len(checks)} checks (DNS: {source}{planned})",
                  file=sys.stderr)
        comparison = baseline.id if history is not None and args.compare and baseline else None
        try:
            return asyncio.run(_audit(args, inputs, checks, writers, nameservers, out_dir, now, history, comparison))
        except KeyboardInterrupt:
            kept = ""
            if history is not None:
                history.interrupted()
                if history.current_run is not None:
                    kept = (f"; the domains finished so far are kept in the history as incomplete run "
                            f"{history.current_run} ('dnsaudit report --run {history.current_run}' writes their "
                            "reports)")
            err(f"interrupted: the reports are missing or incomplete{kept}")
            return EXIT_INTERRUPTED


async def _audit(args, inputs, checks, writers, nameservers, out_dir: Path, started: dt.datetime, history,
                 comparison: int | None) -> int:
    from dnsaudit.check import Settings
    from dnsaudit.drift import compare
    from dnsaudit import output
    from dnsaudit.model import AuditRun
    from dnsaudit.net.dns import DnsClient
    from dnsaudit.output import DEFAULT_TITLE, write_reports
    from dnsaudit.reports.base import write_atomic
    from dnsaudit.reports.terminal import summary
    from dnsaudit.runner import GC_THRESHOLDS
    from dnsaudit.spool import PackedResults
    from dnsaudit.workers import AuditJob, auto_workers, run_in_workers

    from dnsaudit.progress import PhaseClock, Progress

    clock = PhaseClock()
    dns = DnsClient(nameservers, timeout=args.timeout, retries=args.retries, zones=args.planned_zones,
                    snapshot=args.snapshot, offline=args.offline)
    silent = [] if args.offline else await dns.preflight()
    clock.lap("preflight")
    if nameservers and len(silent) == len(nameservers):
        details = "; ".join(f"{ns}: {why}" for ns, why in silent)
        err(f"no DNS server answered ({details}). Check your network or give a working --nameserver; "
            "nothing was audited.")
        if not any(out_dir.iterdir()):
            out_dir.rmdir()  # made for this run, which wrote nothing
        return EXIT_UNTESTED
    for ns, why in silent:
        err(f"warning: DNS server {ns} did not answer ({why}); using the others")
    info = _run_info(args, inputs, checks, nameservers, started, dns, finished=None)
    run_id = history.begin(info) if history is not None else None
    progress = Progress(len(inputs.entries), enabled=not args.quiet and sys.stderr.isatty())

    def finished(domain: str, result_json: str) -> None:
        if history is not None:
            started_at = time.monotonic()
            history.add_domain(run_id, domain, result_json)
            clock.add("history", time.monotonic() - started_at)
        progress.step()

    def finished_here(result) -> None:  # one process: the result is serialised for the history here
        finished(result.entry.domain, json.dumps(result.to_dict()) if history is not None else "")

    settings = Settings(
        check_timeout=args.check_timeout, allow_private=args.allow_private, https_port=args.https_port,
        http_port=args.http_port, smtp_port=args.smtp_port,
        audited_domains=frozenset(e.domain for e in inputs.entries), input_dir=str(Path(args.input).parent),
        no_probes_reason="--offline" if args.offline else "--no-probes")
    probes = not (args.no_probes or args.offline)
    job = AuditJob(
        tuple(checks), settings, args.concurrency,
        dns=dict(nameservers=nameservers, timeout=args.timeout, retries=args.retries, zones=args.planned_zones,
                 snapshot=args.snapshot, offline=args.offline),
        web=dict(https_port=args.https_port, http_port=args.http_port, timeout=args.probe_timeout,
                 allow_private=args.allow_private, ca_file=args.ca_file) if probes else None,
        tls=dict(timeout=args.probe_timeout, ca_file=args.ca_file) if probes else None,
        live=dict(nameservers=nameservers, timeout=args.timeout, retries=args.retries) if args.compare_live else None)
    await dns.aclose()  # the preflight's sockets; the audit opens its own
    workers = auto_workers(len(inputs.entries)) if args.workers == "auto" else min(args.workers, len(inputs.entries))
    if workers > 1:
        # Blocks this loop, which has nothing else to do meanwhile: history and progress are
        # updated here, in this thread, as each worker's results arrive.
        gc.set_threshold(*GC_THRESHOLDS)
        results, report = run_in_workers(job, inputs.entries, workers, finished)
        dns.stats.merge(report.stats)
        clock.worker_peaks, clock.worker_cpu = report.peak_rss_mb, report.cpu_seconds
        for failure in report.failures:
            err(f"warning: a worker process failed; its unfinished domains are 'could not test':\n{failure}")
    else:
        results, stats = await job.run(inputs.entries, finished_here)
        dns.stats.merge(stats)
    progress.done()
    clock.lap("audit")
    info = _run_info(args, inputs, checks, nameservers, started, dns, finished=dt.datetime.now(dt.timezone.utc))
    run = AuditRun(info, results if isinstance(results, PackedResults) else tuple(results))
    drift = None
    if history is not None:
        history.finish(run_id, info)
        if comparison is not None:
            drift = compare(history.load(comparison), run, comparison, run_id)
            run = dataclasses.replace(run, drift=drift)
            write_atomic(out_dir / "drift.json", (json.dumps(drift.to_dict(), indent=2) + "\n").encode())
        if args.keep:
            history.keep(args.keep)
    clock.lap("finish")
    written = write_reports(run, out_dir, writers, split_by=args.split_by, title=args.title or DEFAULT_TITLE,
                            processes=workers)
    clock.lap("reports")
    clock.report_private = list(output.CHILD_PRIVATE_MB)
    if args.stats:
        write_atomic(args.stats, (json.dumps(clock.stats(run, dns), indent=2) + "\n").encode())
    if not args.quiet:
        print(summary(run))
        print(f"\nReports in {out_dir}: {', '.join(p.name for p in written if p.parent == out_dir)}"
              f"{' (and per client under clients/)' if args.split_by else ''}")
        stored = f"; stored as run {run_id}" if run_id is not None else ""
        print(f"{dns.stats.questions} DNS questions, {dns.stats.queries_sent} queries sent{stored}")
    if drift is not None and (drift.changed or not args.quiet):
        print("\n".join(drift.lines()))
    if drift is not None:
        return EXIT_USAGE if inputs.errors else drift.exit_code
    return exit_code(run, args.fail_on, len(inputs.errors))


def _run_info(args, inputs, checks, nameservers, started, dns, finished):
    from dnsaudit.model import RunInfo
    from dnsaudit.registry import check_info
    from dnsaudit.snapshot import snapshot_date

    return RunInfo(
        tool_version=__version__,
        started=started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds") if finished else "",
        input_file=str(args.input),
        nameservers=tuple(map(str, dns.nameservers)),
        checks=tuple(check_info(c) for c in checks),
        input_issues=tuple(inputs.issues),
        dns_queries=dns.stats.queries_sent,
        settings=(("timeout", args.timeout), ("retries", args.retries), ("fail_on", args.fail_on),
                  ("check_timeout", args.check_timeout), ("concurrency", args.concurrency),
                  ("probes", not (args.no_probes or args.offline)), ("allow_private", args.allow_private),
                  ("offline", args.offline), ("compare_live", args.compare_live)),
        zone_files=tuple(sorted(args.planned_zones.sources.items())) if args.planned_zones else (),
        offline_snapshot=snapshot_date() if args.offline else "",
    )


def exit_code(run, fail_on: str, input_errors: int) -> int:
    """Map a finished run to the documented exit code (see the module docstring)."""
    from dnsaudit.model import Status
    from dnsaudit.scoring import BLOCKING

    if input_errors:
        err(f"{input_errors} input rows or values had errors (listed above); exit code 2")
        return EXIT_USAGE
    hit = {
        "warn": lambda f: f.status in (Status.WARN, Status.FAIL),
        "fail": lambda f: f.status is Status.FAIL,
        "blocking": lambda f: f.status is Status.FAIL and f.severity in BLOCKING,
        "never": lambda f: False,
    }[fail_on]
    could_not_test, untested = False, 0
    for d in run.domains:  # one pass: a large run's domains are read one at a time
        if any(hit(f) for f in d.findings):
            return EXIT_FINDINGS
        could_not_test = could_not_test or any(f.status is Status.ERROR for f in d.findings)
        untested += bool(d.score.untested)
    if could_not_test:
        err(f"{untested} domains had checks that could not test (see results); exit code 3")
        return EXIT_UNTESTED
    return EXIT_OK
