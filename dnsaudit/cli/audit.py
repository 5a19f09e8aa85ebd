"""``dnsaudit audit``: check the options, audit every domain of the input, print the summary.

The audit itself runs in ``_audit``: preflight, history, progress, workers, drift, ``--keep``,
reports, ``--stats``; the exit code comes from ``dnsaudit.cli.exits.exit_code``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import gc
import json
import os
import sys
import time
from pathlib import Path

from dnsaudit import __version__
from dnsaudit.cli.exits import EXIT_HISTORY, EXIT_INTERRUPTED, EXIT_UNTESTED, EXIT_USAGE, err, exit_code
from dnsaudit.cli.parser import globs
from dnsaudit.cli.report import writers_for
from dnsaudit.text import printable


def cmd_audit(args) -> int:
    from dnsaudit.inputs import InputError, read_input
    from dnsaudit.net.dns import parse_nameserver, system_nameservers
    from dnsaudit.output import prepare_out_dir
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
        checks = select(loaded.checks, globs(args.checks), globs(args.skip))
        checks = [c for c in checks if c.id != "zone.changes"]  # only with --compare-live
        if args.compare_live:
            checks += [c for c in loaded.checks if c.id == "zone.changes"]
        writers = writers_for(args)
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
