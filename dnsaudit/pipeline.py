"""One audit from start to end: ``run_audit(config) -> AuditOutcome``.

The steps, in order: preflight (resolvers, planned zones, plugins, report formats, the
input list, the history and the output folder: anything unusable stops here, before a
query is sent), the run in the history, the audit itself (in this process or in worker
processes), drift against an earlier run, ``keep``, the reports, the statistics file.

The command line is one caller (``dnsaudit.cli.audit``: it builds the config, prints and
maps the outcome to an exit code); a library user is another. The pipeline prints
nothing: what it has to say while it runs goes to a ``Listener``, whose default hears
nothing, and the warnings are in the outcome too.

What is read and checked before the first query (and the failure that stops an audit) is
in ``dnsaudit.preflight``; the history as a side effect in ``dnsaudit.run_history``; this
module is the run itself, in the order it happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnsaudit.config import AuditConfig
from dnsaudit.preflight import AuditFailed, Failure, Plan, job_for, preflight, run_info
from dnsaudit.run_history import RunHistory

if TYPE_CHECKING:
    from dnsaudit.drift import Drift
    from dnsaudit.model import AuditRun, DomainResult

__all__ = ["AuditFailed", "AuditInterrupted", "AuditOutcome", "Failure", "Listener", "run_audit"]


class AuditInterrupted(KeyboardInterrupt):
    """Ctrl-C during the audit. ``run_id``: the incomplete run in the history that keeps the
    domains finished so far (None without a history, or before the run was stored)."""

    def __init__(self, run_id: int | None) -> None:
        super().__init__()
        self.run_id = run_id





class Listener:
    """What the pipeline says while it runs. Subclass it to listen; every method does nothing here."""

    def warning(self, message: str) -> None:
        """Something went wrong but the audit goes on (a plugin, a silent server, a worker)."""

    def notice(self, message: str) -> None:
        """Worth telling, not wrong (no earlier run to compare with)."""

    def input_issue(self, issue: Any) -> None:
        """A row or value of the input that could not be used as it is (``inputs.InputIssue``)."""

    def input_issues_left(self, count: int) -> None:
        """``count`` more input issues past the first ``MAX_TOLD_ISSUES``, not told one by one
        (a million bad rows must not be a million lines); every one is in the run's results."""

    def starting(self, domains: int, checks: int, source: str) -> None:
        """The audit begins: ``source`` says where the answers come from."""

    def domain_done(self, done: int, total: int) -> None:
        """One more domain is finished."""

    def audit_done(self) -> None:
        """Every domain is finished; reports come next."""


@dataclass(frozen=True, repr=False)
class AuditOutcome:
    """A finished audit: the run as reported, and where it went.

    Its repr is short on purpose: asyncio formats the result of the run's task when the
    run ends (``asyncio.run`` restoring the SIGINT handler), and the full dataclass repr of
    every result took 0.7 s of CPU on 1,000 domains."""

    run: AuditRun
    out_dir: Path
    written: tuple[Path, ...]  # every report file, per-client ones included
    run_id: int | None  # the run's id in the history (None without history)
    drift: Drift | None  # against the compared run (None without compare, or nothing to compare with)
    input_errors: int  # input rows or values that had errors (their issues are in run.info.input_issues)
    dns_questions: int
    dns_queries_sent: int
    stats: dict[str, Any]  # what the statistics file holds: time per phase, DNS, memory
    warnings: tuple[str, ...]  # every warning and notice the listener heard
    history_error: str = ""  # the history could not be used: this run is not (fully) stored, reports are written

    def __repr__(self) -> str:
        return f"AuditOutcome({len(self.run.domains)} domains, run_id={self.run_id}, out_dir={str(self.out_dir)!r})"


def run_audit(config: AuditConfig, listener: Listener | None = None) -> AuditOutcome:
    """Audit every domain of ``config.input_file`` and write the reports.

    Raises ``AuditFailed`` when the audit cannot run (nothing is audited then) and
    ``AuditInterrupted`` on Ctrl-C (the finished domains stay in the history).
    """
    from dnsaudit.sigint import unwrapping, watching

    heard = _Heard(listener or Listener())
    try:
        with watching(), unwrapping():  # a Ctrl-C that Python swallowed or wrapped is not lost (dnsaudit.sigint)
            return _run_audit(config, heard)
    except AuditInterrupted:
        raise
    except KeyboardInterrupt:  # while reading the input or opening the history: nothing stored yet
        raise AuditInterrupted(None) from None


def _run_audit(config: AuditConfig, heard: _Heard) -> AuditOutcome:
    plan = preflight(config, heard)
    from dnsaudit.history import History, HistoryError, HistoryLocked, UnknownRun, default_path

    with contextlib.ExitStack() as stack:
        history, comparison = RunHistory(), None
        if config.history.enabled:
            try:
                history.history = stack.enter_context(History(config.history.path or default_path(),
                                                              wait=config.history.wait_lock))
                baseline = history.history.resolve(config.history.compare) if config.history.compare else None
            except HistoryLocked as exc:
                if config.history.compare:  # nothing to compare with but what the other run is writing
                    raise AuditFailed(f"{exc}; --wait-lock SECONDS waits for it", Failure.HISTORY) from exc
                heard.warning(f"{exc}: this run is audited and reported but not stored in the history")
                baseline = None  # history.history stays None: nothing is stored, the exit code is the results'
            except UnknownRun as exc:
                raise AuditFailed(str(exc), Failure.USAGE) from exc
            except HistoryError as exc:  # unusable (read-only, damaged): the audit goes on without it
                history.failed(exc)
                baseline = None
            if config.history.compare and baseline is None and history.usable:
                heard.notice(f"no complete run to compare with ('{config.history.compare}'); "
                             "this run becomes the first")
            comparison = baseline.id if config.history.compare and baseline else None
        from dnsaudit.output import prepare_out_dir

        now = dt.datetime.now(dt.UTC)
        try:
            out_dir = prepare_out_dir(config.reports.out_dir, now.astimezone())
        except OSError as exc:
            message = f"--out {exc.filename}: {exc.strerror}" if exc.strerror else str(exc)
            raise AuditFailed(message, Failure.USAGE) from exc
        heard.starting(len(plan.inputs.entries), len(plan.checks), plan.source())
        try:
            from dnsaudit.net import loop as event_loop
            from dnsaudit.sigint import unwrapping

            with unwrapping():
                return event_loop.run(_audit(config, plan, heard, out_dir, now, history, comparison, stack))
        except KeyboardInterrupt:
            history.call("interrupted")
            raise AuditInterrupted(history.history.current_run if history.history is not None else None) from None


async def _audit(config: AuditConfig, plan: Plan, heard: _Heard, out_dir: Path, started: dt.datetime,
                 history: RunHistory, comparison: int | None, cleanup: contextlib.ExitStack) -> AuditOutcome:
    from dnsaudit.drift import compare
    from dnsaudit.model import AuditRun
    from dnsaudit.output import write_reports
    from dnsaudit.progress import PhaseClock
    from dnsaudit.reports.base import write_atomic
    from dnsaudit.sigint import raise_if_lost
    from dnsaudit.spool import PackedResults
    from dnsaudit.workers import auto_workers, history_row, run_in_workers

    raise_if_lost()  # swallowed before asyncio's handler was set, whose first call raises none (dnsaudit.sigint)
    clock = PhaseClock()
    dns = plan.resolver.client()
    silent = [] if config.dns.offline else await dns.preflight()
    clock.lap("preflight")
    if plan.resolver.nameservers and len(silent) == len(plan.resolver.nameservers):
        details = "; ".join(f"{ns}: {why}" for ns, why in silent)
        if not any(out_dir.iterdir()):
            out_dir.rmdir()  # made for this run, which wrote nothing
        raise AuditFailed(f"no DNS server answered ({details}). Check your network or give a working --nameserver; "
                          "nothing was audited.", Failure.NO_DNS)
    lying = [] if config.dns.offline else await dns.liars()
    if lying:
        await dns.aclose()
        details = "; ".join(f"DNS server {ns} says {name} does not exist (NXDOMAIN)" for ns, name in lying)
        if not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise AuditFailed(f"{details}: it does not resolve Internet names (an internal-only or filtering "
                          "resolver?), so every domain would look missing. Give one that does with --nameserver; "
                          "nothing was audited.", Failure.NO_DNS)
    for ns, why in silent:
        heard.warning(f"DNS server {ns} did not answer ({why}); using the others")
    entries = plan.inputs.entries
    run_id = history.call("begin", run_info(config, plan, started, dns, finished=None))
    done = 0

    def finished(domain: str, row: bytes) -> None:
        nonlocal done
        if history.usable:
            started_at = time.monotonic()
            history.call("add_row", run_id, domain, row)
            clock.add("history", time.monotonic() - started_at)
        done += 1
        heard.domain_done(done, len(entries))

    def finished_here(result: DomainResult) -> None:  # one process: the history's row is made here
        finished(result.entry.domain, history_row(result) if history.usable else b"")

    job = job_for(config, plan)
    await dns.aclose()  # the preflight's sockets; the audit opens its own
    workers = auto_workers(len(entries)) if config.workers is None else min(config.workers, len(entries))
    results: Sequence[DomainResult]
    ahead = None
    if workers > 1:
        # The workers survey their domains for the reports (reports.ahead) in the audit's tail:
        # while the last slow domains wait, the CPU would be idle otherwise.
        from dnsaudit.reports.ahead import Ahead

        ahead = Ahead(plan.writers, plan.catalogue, entries, tokens=config.reports.split_by == "client")
        cleanup.callback(ahead.discard)
        # Blocks this loop, which has nothing else to do meanwhile: history and progress are
        # updated here, in this thread, as each worker's results arrive.
        async with _synchronous():
            results, report = run_in_workers(job, entries, workers, finished, history=history.usable, ahead=ahead)
        dns.stats.merge(report.stats)
        clock.worker_peaks, clock.worker_cpu = report.peak_rss_mb, report.cpu_seconds
        for failure in report.failures:
            heard.warning(f"a worker process failed; its unfinished domains are 'could not test':\n{failure}")
    else:
        results, here = await job.run(entries, finished_here)
        dns.stats.merge(here)
    async with _synchronous():  # from here on nothing awaits: drift, reports, statistics, notification
        heard.audit_done()
        clock.lap("audit")
        info = run_info(config, plan, started, dns, finished=dt.datetime.now(dt.UTC))
        run = AuditRun(info, results if isinstance(results, PackedResults) else tuple(results))
        drift = None
        history.call("finish", run_id, info)
        before = history.load(comparison) if comparison is not None else None
        if before is not None and comparison is not None:
            drift = compare(before, run, comparison, run_id if history.usable else None)
            run = dataclasses.replace(run, drift=drift)
            write_atomic(out_dir / "drift.json", (json.dumps(drift.to_dict(), indent=2) + "\n").encode())
        if config.history.keep:
            history.call("keep", config.history.keep)
        clock.lap("finish")
        if ahead is not None:
            ahead.install(run)
        written = write_reports(run, out_dir, list(plan.writers), split_by=config.reports.split_by,
                                title=config.reports.title, processes=workers)
        clock.lap("reports")
        clock.report_private = list(written.child_private_mb)
        stats = clock.stats(run, dns)
        if config.reports.stats_file:
            try:  # checked in the preflight; a disk that fills meanwhile costs the statistics only
                write_atomic(config.reports.stats_file, (json.dumps(stats, indent=2) + "\n").encode())
            except OSError as exc:
                heard.warning(f"--stats {config.reports.stats_file} was not written: {exc.strerror or exc}")
        if config.policy.notify:  # after the reports: a notification that fails never costs them
            _notify(config, run, out_dir, drift, heard)
        return AuditOutcome(run, out_dir, tuple(written), run_id if history.usable else None, drift,
                            len(plan.inputs.errors), dns.stats.questions, dns.stats.queries_sent, stats,
                            tuple(heard.heard), history.error or history.compare_error)


@contextlib.asynccontextmanager
async def _synchronous() -> AsyncIterator[None]:
    """A stretch of the audit that blocks the event loop (the workers' wait, the reports):
    Ctrl-C raises KeyboardInterrupt inside it. asyncio's own handler only cancels the main
    task, which takes effect at its next ``await``, after the stretch: 3,000 domains later.

    One that asyncio's handler heard just before (the task is cancelled, not yet told) is
    delivered here first, by the one ``await``, instead of being lost until the end."""
    from dnsaudit.sigint import plain_sigint, raise_if_lost

    with plain_sigint():
        await asyncio.sleep(0)
        raise_if_lost()
        yield


def _notify(config: AuditConfig, run: AuditRun, out_dir: Path, drift: Drift | None, heard: _Heard) -> None:
    """Alert the policy's targets when the run regressed (with compare) or reached fail_on."""
    from dnsaudit.notify import build_message, send

    message = build_message(run, fail_on=config.fail_on, reports=str(out_dir.resolve()), drift=drift)
    if message is not None:
        for warning in send(config.policy.notify, message):
            heard.warning(warning)


class _Heard(Listener):
    """The caller's listener, and a record of the warnings and notices for the outcome."""

    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.heard: list[str] = []

    def warning(self, message: str) -> None:
        self.heard.append(f"warning: {message}")
        self.listener.warning(message)

    def notice(self, message: str) -> None:
        self.heard.append(message)
        self.listener.notice(message)

    # The rest goes to the listener as it is.
    def input_issue(self, issue: Any) -> None:
        self.listener.input_issue(issue)

    def input_issues_left(self, count: int) -> None:
        self.listener.input_issues_left(count)

    def starting(self, domains: int, checks: int, source: str) -> None:
        self.listener.starting(domains, checks, source)

    def domain_done(self, done: int, total: int) -> None:
        self.listener.domain_done(done, total)

    def audit_done(self) -> None:
        self.listener.audit_done()
