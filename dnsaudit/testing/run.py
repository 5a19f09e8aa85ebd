"""``run_check``: one check on one domain, against fakes, in one line of a test.

    findings = run_check(MyCheck, zone="@ MX 0 contoso-test.mail.protection.outlook.com.",
                         entry="contoso.test")
    assert [f.status for f in findings] == [Status.PASS]

The check's findings come back as the run would record them, except that a check that
raises lets the exception through (the run would turn it into a "could not test" result,
which hides a plugin author's bug behind a verdict): pass ``isolate=True`` to see exactly
what the run records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from dnsaudit.check import Check, CheckContext, Resolver, Settings, Tls, Web
from dnsaudit.model import DomainEntry, Finding
from dnsaudit.net import loop as event_loop
from dnsaudit.runner import run_check as run_isolated
from dnsaudit.testing.fakes import FakeResolver

# Fakes open no connection, so the addresses of test zones (192.0.2.x and the like) are
# allowed unless the test's own Settings say otherwise.
TEST_SETTINGS = Settings(check_timeout=10.0, allow_private=True)


def run_check(
    check: type[Check],
    *,
    entry: DomainEntry | str,
    zone: str | Mapping[str, str] = "",
    faults: Mapping[str, str] | None = None,
    dns: Resolver | None = None,
    web: Web | None = None,
    tls: Tls | None = None,
    live: Resolver | None = None,
    settings: Settings = TEST_SETTINGS,
    isolate: bool = False,
) -> list[Finding]:
    """Run ``check`` on ``entry`` (a ``DomainEntry``, or just the domain name).

    ``zone`` is the domain's zone text, or a mapping of origins to zone texts when the
    check follows names into other zones; they are served by a ``FakeResolver`` (with
    ``faults`` injected), unless ``dns`` gives a resolver of your own. ``web`` and ``tls``
    default to None: the run makes no probes, as with ``--no-probes``.
    """
    row = entry if isinstance(entry, DomainEntry) else DomainEntry(entry.strip().rstrip(".").lower(), 2)
    if dns is None:
        zones = {row.domain: zone} if isinstance(zone, str) else dict(zone)
        dns = FakeResolver({k: v for k, v in zones.items() if v}, faults=faults)
    elif zone or faults:
        raise TypeError("give zone/faults or your own dns resolver, not both")
    ctx = CheckContext(row, dns, settings, web, tls, live)
    return event_loop.run(_run(check(), ctx, isolate))


async def _run(check: Check, ctx: CheckContext, isolate: bool) -> list[Finding]:
    if isolate:
        return await run_isolated(check, ctx)
    async with asyncio.timeout(ctx.settings.check_timeout):
        findings = await check.run(ctx)
    if not isinstance(findings, list) or not findings:
        raise AssertionError(f"{check.id}: run() must return a non-empty list of findings, got {findings!r}")
    wrong = [f for f in findings if not isinstance(f, Finding) or f.check_id != check.id]
    if wrong:
        raise AssertionError(f"{check.id}: run() returned findings that are not its own: {wrong!r}")
    return findings
