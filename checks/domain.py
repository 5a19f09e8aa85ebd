"""Checks of the domain as a whole."""

from __future__ import annotations

import re

from dnsaudit.check import Check, CheckContext, txt_record
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
        evidence = (soa.evidence(),)
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


# Microsoft's domain verification TXT: "MS=ms" and eight digits.
MS_VERIFICATION = re.compile(r"^MS=ms\d{8}$")


class DomainVerification(Check):
    """The Microsoft 365 verification TXT record, if any, is well formed.

    Adding a domain to Microsoft 365 asks for a TXT record ``MS=ms########`` (``ms`` and
    eight digits, from the admin center) at the domain's apex; Microsoft reads it once to
    verify the domain, after which it may be removed. dnsaudit reports whether one is
    published (information); none is no finding, as a verified domain no longer needs it. A
    record that starts with ``MS=`` but is not of that form (a typo, a missing digit, the
    value pasted with quotes or spaces) is a warning: verification with it fails.

    Good record (until verified): ``@ IN TXT "MS=ms12345678"``.

    Fix: publish the value exactly as the admin center shows it, or delete the broken one.
    """

    id = "domain.verification"
    area = "domain"
    severity = Severity.LOW
    references = ("https://learn.microsoft.com/microsoft-365/admin/setup/add-domain",)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        answer = await ctx.dns.query(ctx.domain, "TXT")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the verification TXT record")]
        evidence = (answer.evidence(),)
        texts = [t.text for t in answer.txt()] if answer.ok else []
        found = [t for t in texts if t.strip().strip('"').lower().startswith("ms=")]
        good = [t for t in found if MS_VERIFICATION.match(t)]
        bad = [t for t in found if t not in good]
        if bad:
            return [self.warn(f"Malformed Microsoft 365 verification record: {', '.join(repr(t) for t in bad)} "
                              "(expected MS=ms and eight digits): verification with it fails.",
                              observed=" | ".join(found), expected="MS=ms########",
                              remediation="\n".join(f"Delete or correct: {txt_record(ctx.domain, t)}" for t in bad),
                              evidence=evidence)]
        if good:
            return [self.info(f"Microsoft 365 verification record present ({', '.join(good)}); it may be removed once "
                              "the domain is verified.", observed=" | ".join(good), evidence=evidence)]
        return [self.passed("No Microsoft 365 verification TXT record (none is needed once the domain is verified).",
                            observed="(none)", evidence=evidence)]
