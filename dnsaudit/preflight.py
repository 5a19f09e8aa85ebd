"""Before the first query: everything an audit reads and checks, and the failure that stops it.

``preflight(config, listener)`` resolves the servers (the system's when none are given),
reads the planned zones, loads the checks and report writers, reads the input list, and
checks the policy and the output paths, in the order a user fixes them: the first problem
raises ``AuditFailed`` and nothing has been asked of the network yet. What it read is a
``Plan``; ``job_for`` and ``run_info`` turn config and plan into what the workers receive
and what the run records. ``dnsaudit.pipeline.run_audit`` calls them.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnsaudit.config import AuditConfig

if TYPE_CHECKING:
    from dnsaudit.check import Check
    from dnsaudit.model import CheckInfo, RunInfo
    from dnsaudit.net.dns import DnsClient
    from dnsaudit.pipeline import Listener
    from dnsaudit.workers import AuditJob

MAX_TOLD_ISSUES = 100  # input issues told to the listener one by one; the rest as a count


class Failure(enum.Enum):
    """Why an audit could not run (the CLI turns each into its exit code)."""

    USAGE = "usage"  # an option, a file or the input cannot be used
    HISTORY = "history"  # the history is held by another run or unreadable
    NO_DNS = "no-dns"  # no DNS server answered: nothing was audited


class AuditFailed(Exception):
    """The audit could not run; the message is one line for the user."""

    def __init__(self, message: str, failure: Failure) -> None:
        super().__init__(message)
        self.failure = failure


@dataclass(frozen=True)
class Plan:
    """What the preflight read and resolved: everything the audit needs besides the config."""

    resolver: Any  # workers.ResolverSetup: the servers as resolved, the zone files read
    checks: tuple[type[Check], ...]  # check classes, in run order
    writers: tuple[Any, ...]  # report writer instances (reports.base.ReportWriter, above the core: not imported)
    inputs: Any  # inputs.InputResult: entries, issues, errors
    catalogue: tuple[CheckInfo, ...] = ()  # each check, with the distribution it came from

    def source(self) -> str:
        """Where the answers come from, for the line that starts the audit."""
        if self.resolver.offline:
            source = "offline: zone files and the snapshot"
        else:
            source = ", ".join(map(str, self.resolver.nameservers))
        zones = self.resolver.zones
        return source + (f"{ZONES_SAID}{', '.join(sorted(zones.sources))}" if zones else "")


ZONES_SAID = "; planned zones: "  # in Plan.source(): where a terminal shortens the list of zones


def preflight(config: AuditConfig, heard: Listener) -> Plan:
    """Read and check everything the audit needs, in the order a user fixes them; the first
    problem stops the audit before any query is sent."""
    from functools import partial

    from dnsaudit.input_rows import InputError
    from dnsaudit.inputs import read_input
    from dnsaudit.net.dns import system_nameservers
    from dnsaudit.net.loop import loop_factory
    from dnsaudit.pacing import outstanding_queries
    from dnsaudit.policy.expectations import input_defaults
    from dnsaudit.policy.waivers import unmatched_waivers
    from dnsaudit.registry import PluginError, for_run, load_checks, load_writers, select
    from dnsaudit.workers import ResolverSetup

    try:
        loop_factory()  # DNSAUDIT_EVENT_LOOP: a wrong value stops the run here, not in a worker
    except (ValueError, ImportError) as exc:
        raise AuditFailed(f"DNSAUDIT_EVENT_LOOP: {exc}", Failure.USAGE) from exc
    dns = config.dns
    try:
        nameservers = tuple(dns.nameservers) or (() if dns.offline else tuple(system_nameservers()))
    except ValueError as exc:
        raise AuditFailed(str(exc), Failure.USAGE) from exc
    if dns.compare_live and (not dns.zone_files or dns.offline):
        raise AuditFailed("--compare-live compares --zone files with live DNS: give --zone, and not --offline",
                          Failure.USAGE)
    zones = snapshot = None
    if dns.zone_files or dns.offline:
        from dnsaudit.snapshot import load_snapshot
        from dnsaudit.zones import ZoneError, ZoneSet

        try:
            zones = ZoneSet.load(list(dns.zone_files)) if dns.zone_files else None
        except ZoneError as exc:
            raise AuditFailed(str(exc), Failure.USAGE) from exc
        snapshot = load_snapshot() if dns.offline else None
    if config.probes.ca_file:
        _check_ca_file(config.probes.ca_file)
    if not nameservers and not dns.offline:
        raise AuditFailed("no DNS resolver is configured on this system; give one with --nameserver IP",
                          Failure.USAGE)
    try:
        loaded = load_checks(strict=config.checks.strict_plugins)
        conditions = {name for name, met in (("compare-live", dns.compare_live),
                                             ("expectations", bool(config.policy.expectations))) if met}
        checks = for_run(loaded.checks, select(loaded.checks, list(config.checks.include), list(config.checks.skip)),
                         conditions=conditions)
        writers = load_writers(list(config.reports.formats), strict=config.checks.strict_plugins)
    except PluginError as exc:
        raise AuditFailed(str(exc), Failure.USAGE) from exc
    for warning in loaded.warnings + writers.warnings:
        heard.warning(warning)
    if not checks:
        raise AuditFailed("--checks/--skip leave no check to run", Failure.USAGE)
    from dnsaudit.output import check_writable

    try:  # before a single query: a run never ends in a traceback over a file it cannot write
        check_writable(config.reports.out_dir, "--out", folder=True)
        out = config.reports.out_dir
        if out is not None and out.is_dir() and any(out.iterdir()):  # no run is overwritten (prepare_out_dir)
            raise ValueError(f"output folder {out} already exists and is not empty; give a new --out")
        check_writable(config.reports.stats_file, "--stats", parents=False)
        if config.history.enabled:  # its form only: a read-only or full disk costs the history, not the run
            check_writable(config.history.path, "--history", probe=False)
    except ValueError as exc:
        raise AuditFailed(str(exc), Failure.USAGE) from exc
    try:
        defaults = partial(input_defaults, config.policy.expectations) if config.policy.expectations else None
        inputs = read_input(config.input_file, config.sheet, max_bytes=config.max_input_bytes, defaults=defaults)
    except InputError as exc:
        raise AuditFailed(str(exc), Failure.USAGE) from exc
    for issue in inputs.issues[:MAX_TOLD_ISSUES]:
        heard.input_issue(issue)
    if len(inputs.issues) > MAX_TOLD_ISSUES:
        heard.input_issues_left(len(inputs.issues) - MAX_TOLD_ISSUES)
    if not inputs.entries:
        raise AuditFailed(f"no domain in {config.input_file} can be audited ({len(inputs.errors)} rows with errors)",
                          Failure.USAGE)
    for waiver in unmatched_waivers(config.policy.waivers, inputs.entries, [c.id for c in checks]):
        heard.warning(f"{waiver.describe()} matches no domain and check of this run")
    if config.history.compare and not config.history.enabled:
        raise AuditFailed("--compare needs the history; drop --no-history", Failure.USAGE)
    resolver = ResolverSetup(nameservers, timeout=dns.timeout, retries=dns.retries, zones=zones, snapshot=snapshot,
                             offline=dns.offline, max_in_flight=outstanding_queries(config.concurrency))
    return Plan(resolver, tuple(checks), tuple(cls() for cls in writers.writers), inputs,
                 tuple(loaded.info(c) for c in checks))


def job_for(config: AuditConfig, plan: Plan) -> AuditJob:
    """The picklable job each process audits its share of the domains with."""
    from dnsaudit.check import Settings
    from dnsaudit.mail.microsoft import accepted_domains
    from dnsaudit.workers import AuditJob

    probes, offline = config.probes, config.dns.offline
    settings = Settings(
        check_timeout=config.checks.timeout, allow_private=probes.allow_private, https_port=probes.https_port,
        http_port=probes.http_port, smtp_port=probes.smtp_port,
        accepted_domains=accepted_domains(plan.inputs.entries),
        input_dir=str(Path(config.input_file).parent), no_probes_reason="--offline" if offline else "--no-probes",
        expectations=config.policy.expectations, waivers=config.policy.waivers, waiver_date=dt.date.today())
    return AuditJob(plan.checks, settings, config.concurrency, plan.resolver,
                    probes=probes if probes.enabled and not offline else None, live=config.dns.compare_live)


def run_info(config: AuditConfig, plan: Plan, started: dt.datetime, dns: DnsClient,
             finished: dt.datetime | None) -> RunInfo:
    from dnsaudit import __version__
    from dnsaudit.model import RunInfo
    from dnsaudit.snapshot import snapshot_date

    offline = config.dns.offline
    return RunInfo(
        tool_version=__version__,
        started=started.isoformat(timespec="seconds"),
        finished=finished.isoformat(timespec="seconds") if finished else "",
        input_file=str(config.input_file),
        nameservers=tuple(map(str, dns.nameservers)),
        checks=plan.catalogue,
        input_issues=tuple(plan.inputs.issues),
        dns_queries=dns.stats.queries_sent,
        settings=(("timeout", config.dns.timeout), ("retries", config.dns.retries), ("fail_on", config.fail_on),
                  ("check_timeout", config.checks.timeout), ("concurrency", config.concurrency),
                  ("probes", config.probes.enabled and not offline), ("allow_private", config.probes.allow_private),
                  ("offline", offline), ("compare_live", config.dns.compare_live)),
        zone_files=tuple(sorted(plan.resolver.zones.sources.items())) if plan.resolver.zones else (),
        offline_snapshot=snapshot_date() if offline else "",
    )


def _check_ca_file(path: str) -> None:
    """``--ca-file`` must name a file that loads as PEM CA certificates: checked here, before
    the first query, so that a bad file stops the run with one line (the probes' clients load
    it again as each process starts)."""
    import ssl

    if not Path(path).is_file():
        raise AuditFailed(f"--ca-file {path}: no such file", Failure.USAGE)
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=path)  # not the system store
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise AuditFailed(f"--ca-file {path}: not a readable PEM file of CA certificates ({exc})",
                          Failure.USAGE) from None
