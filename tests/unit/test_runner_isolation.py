"""The runner's isolation: a check that hangs, raises or returns garbage costs its own finding
only, and the domain's other checks run side by side under one deadline (runner.run_checks)."""

from __future__ import annotations

import asyncio
import time

from dnsaudit.check import Check, Settings
from dnsaudit.model import DomainEntry, ErrorReason, Status
from dnsaudit.runner import audit_domain
from dnsaudit.testing.fakes import FakeResolver

CLEANED: list[str] = []


class Hangs(Check):
    """Never answers."""

    id = "test.hangs"
    area = "test"

    async def run(self, ctx):
        try:
            await asyncio.sleep(3600)
        finally:
            CLEANED.append(ctx.domain)  # cancelled at the deadline: its cleanup still runs
        return [self.passed("never")]


class Slow(Check):
    """Answers after a while, within the deadline."""

    id = "test.slow"
    area = "test"

    async def run(self, ctx):
        await asyncio.sleep(0.1)
        return [self.passed("slow but in time")]


class AlsoSlow(Slow):
    """Another one."""

    id = "test.also-slow"


class Raises(Check):
    """Fails with an exception."""

    id = "test.raises"
    area = "test"

    async def run(self, ctx):
        raise RuntimeError("boom")


class Garbage(Check):
    """Returns no findings."""

    id = "test.garbage"
    area = "test"

    async def run(self, ctx):
        return []


def test_a_hanging_check_times_out_alone_while_the_others_finish_side_by_side():
    checks = [Hangs(), Slow(), Raises(), Garbage(), AlsoSlow()]
    started = time.monotonic()
    result = asyncio.run(audit_domain(DomainEntry("contoso.test", 2), checks, FakeResolver(zones={}),
                                      Settings(check_timeout=0.5)))
    took = time.monotonic() - started
    by_check = [(f.check_id, f.status, f.reason) for f in result.findings]
    assert by_check == [
        ("test.hangs", Status.ERROR, ErrorReason.TIMEOUT),
        ("test.slow", Status.PASS, None),
        ("test.raises", Status.ERROR, ErrorReason.CHECK_BUG),
        ("test.garbage", Status.ERROR, ErrorReason.CHECK_BUG),
        ("test.also-slow", Status.PASS, None),
    ]
    assert result.findings[0].message == "Could not test: the check took longer than 0.5s."
    assert "RuntimeError: boom" in result.findings[2].message
    assert CLEANED == ["contoso.test"]
    assert 0.5 <= took < 2.5  # one deadline for all, not one after another
