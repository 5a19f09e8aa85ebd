"""Runs the selected checks on every domain with bounded concurrency.

Isolation is the point: a check that raises, hangs or returns garbage yields an ``error``
finding for that check on that domain only, and one domain's broken DNS never delays
another's verdict beyond the shared concurrency limit.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence

from dnsaudit.check import Check, CheckContext, Settings
from dnsaudit.model import DomainEntry, DomainResult, ErrorReason, Finding, Status
from dnsaudit.net.protocols import Resolver, Tls, Web
from dnsaudit.pacing import Pacer, reset_slot
from dnsaudit.policy.waivers import apply_waivers
from dnsaudit.scoring import score

# Failures of the gate's question that say the domain's DNS cannot be asked at all (as
# opposed to NXDOMAIN, an answer): the other checks would only wait for the same failure.
UNREACHABLE = frozenset({ErrorReason.TIMEOUT, ErrorReason.SERVFAIL, ErrorReason.REFUSED, ErrorReason.DNS_ERROR})
TRACE_LIMIT = 4000  # characters of a crashing check's traceback kept in its result


async def run_check(check: Check, ctx: CheckContext) -> list[Finding]:
    """Run one check, turning any failure of the check itself into an error finding."""
    try:
        async with asyncio.timeout(ctx.settings.check_timeout):  # no extra task per check, unlike wait_for
            return await _guarded(check, ctx)
    except TimeoutError:
        return _took_too_long(check, ctx)


def _took_too_long(check: Check, ctx: CheckContext) -> list[Finding]:
    return [check.error(f"Could not test: the check took longer than {ctx.settings.check_timeout:g}s.",
                        ErrorReason.TIMEOUT)]


async def run_checks(checks: Sequence[Check], ctx: CheckContext) -> list[list[Finding]]:
    """Run ``checks`` side by side, as ``run_check`` each, under one deadline for them all.

    They start together, so one timer of ``check_timeout`` serves the group: a timeout
    context per check (a timer armed and cancelled each) was ~3% of an audit's CPU. A check
    still running at the deadline is cancelled and gets the same "took longer" finding.
    """
    if not checks:
        return []
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(_guarded(check, ctx)) for check in checks]
    try:
        _done, late = await asyncio.wait(tasks, timeout=ctx.settings.check_timeout)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    if late:
        for task in late:
            task.cancel()
        await asyncio.wait(late)  # let them end (their finally blocks run), as a timeout context waits
    return [_took_too_long(check, ctx) if task in late or task.cancelled() else task.result()
            for check, task in zip(checks, tasks, strict=True)]


async def _guarded(check: Check, ctx: CheckContext) -> list[Finding]:
    """Run one check without a deadline, turning any failure of the check itself into an error finding."""

    def bug(message: str, reason: ErrorReason = ErrorReason.CHECK_BUG) -> list[Finding]:
        return [check.error(message, reason)]

    try:
        findings = await check.run(ctx)
    except Exception as exc:  # noqa: BLE001 - a plugin may fail in any way; the run must go on
        (finding,) = bug(f"Could not test: the check failed with {type(exc).__name__}: {exc}")
        return [dataclasses.replace(finding, trace=_trace(exc))]
    if not isinstance(findings, (list, tuple)) or not findings:
        return bug("Could not test: the check returned no findings (a bug in the check).")
    if any(not isinstance(f, Finding) or f.check_id != check.id for f in findings):
        return bug("Could not test: the check returned findings of another check (a bug in the check).")
    return list(findings)


def _trace(exc: BaseException) -> str:
    """The traceback of a check that raised, for its author: the end of it when it is long
    (the raising frames and the exception), so that one bug on every domain of a large run
    costs kilobytes per domain, not the whole stack."""
    text = "".join(traceback.format_exception(exc)).rstrip("\n")
    if len(text) > TRACE_LIMIT:
        text = f"[{len(text) - TRACE_LIMIT} characters of the traceback left out]\n" + text[-TRACE_LIMIT:]
    return text


async def audit_domain(
    entry: DomainEntry, checks: Sequence[Check], dns: Resolver, settings: Settings, web: Web | None = None,
    tls: Tls | None = None,
    live: Resolver | None = None,
) -> DomainResult:
    started = time.monotonic()
    ctx = CheckContext(entry, dns, settings, web, tls, live)
    findings: list[Finding] = []
    rest = [c for c in checks if not c.gates_domain]
    for gate in (c for c in checks if c.gates_domain):  # domain.exists: its failure moots the rest
        gate_findings = await run_check(gate, ctx)
        findings.extend(gate_findings)
        unanswered = next((f for f in gate_findings if f.status is Status.ERROR and f.reason in UNREACHABLE), None)
        mooted = [c for c in rest if c.requires_existing_domain]
        if any(f.status is Status.FAIL for f in gate_findings):
            findings.extend(c.skip(gate.gate_skip_message) for c in mooted)
        elif unanswered is not None:
            # A dead domain costs one bounded wait, not one per check: every other question
            # would go to the same silent or failing servers (the throughput issue's lame
            # delegations waited ~24 s each this way).
            reason = unanswered.reason or ErrorReason.DNS_ERROR  # one of UNREACHABLE: never None
            what = "; ".join(f"the query for {e.name} {e.type} {e.outcome.phrase}" if e.outcome is not None
                             else e.line() for e in unanswered.evidence) or reason.value
            message = (f"Could not test: the domain's DNS gave no usable answer to {gate.id} ({what}), "
                       "so nothing more was asked about it.")
            findings.extend(c.error(message, reason, evidence=unanswered.evidence) for c in mooted)
        else:
            continue
        rest = [c for c in rest if not c.requires_existing_domain]
    for result in await run_checks(rest, ctx):
        findings.extend(result)
    order = {c.id: i for i, c in enumerate(checks)}
    findings.sort(key=lambda f: order[f.check_id])
    if settings.waivers:  # between the checks and scoring: a waived result counts as accepted
        findings = list(apply_waivers(entry, findings, settings.waivers, settings.waiver_date or dt.date.today()))
    return DomainResult(entry, tuple(findings), score(findings), int((time.monotonic() - started) * 1000))


async def audit_entries(
    entries: Sequence[DomainEntry],
    check_classes: Sequence[type[Check]],
    dns: Resolver,
    settings: Settings,
    *,
    concurrency: int = 64,
    on_result: Callable[[DomainResult], None] | None = None,
    web: Web | None = None,
    tls: Tls | None = None,
    live: Resolver | None = None,
    keep: bool = True,
    tail: Callable[[asyncio.Event], Awaitable[None]] | None = None,
) -> list[DomainResult]:
    """Audit every entry; results come back in input order, ``on_result`` sees them as they finish.

    With ``keep=False`` nothing is returned and a result is let go once ``on_result`` has
    seen it (a worker process, whose results live on in the main process).

    ``tail(audited)`` is work that waits for the end of the list: it starts once every domain
    has started, beside those still in progress (whose waits leave the CPU free: a slow or
    dead domain waits seconds), and ``audited`` is set once they have all finished; the audit
    returns when it has too. A worker process surveys its domains for the reports there."""
    checks = [cls() for cls in check_classes]
    results: list[DomainResult | None] = [None] * len(entries) if keep else []
    pending = iter(enumerate(entries))  # shared: each lane takes the next domain when it is free
    pacer = Pacer(concurrency)
    lanes = min(pacer.in_progress, len(entries))
    audited = asyncio.Event()
    tail_started = False

    async def lane() -> None:
        nonlocal lanes, tail_started
        try:
            await audit_lane()
        finally:
            lanes -= 1
            if not lanes:
                audited.set()
        if tail is not None and not tail_started:  # the first lane with no domain left to start
            tail_started = True
            await tail(audited)

    async def audit_lane() -> None:
        """One of the pacer's lanes: a fixed number of tasks however long the list is. A lane
        holds a domain in progress; the pacer decides when it may work (``dnsaudit.pacing``)."""
        for index, entry in pending:
            slot = await pacer.admit()
            token = slot.running()
            try:
                result = await audit_domain(entry, checks, dns, settings, web, tls, live)
            finally:
                slot.finish()
                reset_slot(token)
            if on_result is not None:
                on_result(result)
            if keep:
                results[index] = result

    await asyncio.gather(*(lane() for _ in range(lanes)))
    if tail is not None and not tail_started:  # no entries: no lane ran
        audited.set()
        await tail(audited)
    return [r for r in results if r is not None]  # every slot is filled once the lanes are done
