"""Checks of the domain as a whole."""

from __future__ import annotations

from dnsaudit.check import Check, CheckContext
from dnsaudit.model import Finding, Severity
from dnsaudit.net.dns import Outcome


class DomainExists(Check):
    """The domain exists in DNS.

    Every other record hangs off the domain name, so a domain that does not exist
    (NXDOMAIN) cannot receive mail at all; the usual causes are a typo in the input, a
    lapsed registration or a domain that was never delegated. dnsaudit asks for the
    domain's SOA record: an answer, or an empty answer (the name exists but is not a zone
    apex), passes. A server failure or a timeout is reported as "could not test", never as
    "does not exist"; the other checks of that domain still run.

    Fix: correct the spelling in the input, or renew/delegate the domain at the registrar.
    """

    id = "domain.exists"
    area = "domain"
    severity = Severity.CRITICAL
    references = ("RFC 1034 §4.3.1", "RFC 8020")
    requires_existing_domain = False
    gates_domain = True  # runs first: a domain that does not exist skips the checks that need it

    async def run(self, ctx: CheckContext) -> list[Finding]:
        soa = await ctx.dns.query(ctx.domain, "SOA")
        evidence = (soa.describe(),)
        if soa.outcome is Outcome.NXDOMAIN:
            return [
                self.fail(
                    f"{ctx.entry.label} does not exist in DNS (NXDOMAIN).",
                    observed="NXDOMAIN",
                    expected="the domain exists",
                    remediation="Check the spelling in the input, or register/delegate the domain.",
                    evidence=evidence,
                )
            ]
        if soa.outcome.is_failure:
            return [self.could_not_test(soa, "whether the domain exists")]
        observed = soa.texts[0] if soa.ok else "name exists (no SOA: not a zone apex)"
        return [self.passed(f"{ctx.entry.label} exists in DNS.", observed=observed, evidence=evidence)]
