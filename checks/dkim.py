"""DKIM signing by Microsoft 365: the selector CNAMEs (advisory).

Sources: Microsoft's "Set up DKIM to sign mail from your Microsoft 365 domain" (the
``selector1``/``selector2`` CNAMEs and both target formats), RFC 6376 §3.6.2 (the
``<selector>._domainkey`` name).
"""

from __future__ import annotations

import asyncio
import functools
import re

from dnsaudit.check import Check, CheckContext, zone_record
from dnsaudit.mail.microsoft import TENANT_SUFFIXES, dashed
from dnsaudit.model import Finding, Phase, Severity

M365_DKIM = "https://learn.microsoft.com/defender-office-365/email-authentication-dkim-configure"


def points_at_microsoft(target: str, selector: str, domain: str, tenant: str) -> bool:
    """Both Microsoft formats: ``<sel>-<dashes>._domainkey.<tenant>.onmicrosoft.com`` and
    ``<sel>-<dashes>._domainkey.<tenantprefix>.<letter>-v<N>.dkim.mail.microsoft``."""
    head = f"{selector}-{dashed(domain)}._domainkey."
    if not target.startswith(head):
        return False
    rest = target[len(head):]
    return any(p.fullmatch(rest) for p in _tenant_patterns(tenant))


@functools.lru_cache(maxsize=4096)
def _tenant_patterns(tenant: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What may follow ``._domainkey.`` for this tenant (any tenant when empty), compiled once."""
    if tenant:
        classic = re.escape(tenant)
        prefix = re.escape(tenant.split(".")[0])
    else:
        classic = r"[a-z0-9-]+\.(?:" + "|".join(re.escape(s) for s in TENANT_SUFFIXES) + ")"
        prefix = r"[a-z0-9-]+"
    return re.compile(classic), re.compile(rf"{prefix}\.[a-z]-v\d+\.dkim\.mail\.microsoft")


class DkimMicrosoft365(Check):
    """Microsoft 365 can sign the domain's mail with DKIM (advisory).

    Exchange Online signs with two rotating keys published behind CNAMEs at
    ``selector1._domainkey`` and ``selector2._domainkey``, pointing at
    ``selectorN-<domain-with-dashes>._domainkey.<tenant>.onmicrosoft.com`` or, for domains
    added since 2025, ``selectorN-<domain-with-dashes>._domainkey.<tenantprefix>.<x>-v1.dkim.mail.microsoft``.
    Without them Microsoft signs with the onmicrosoft.com domain, which does not align
    for DMARC. The tenant in the input's ``tenant`` column, when given, must match.
    Before migration this is information only.

    Fix: publish both CNAMEs (the exact targets are in the Defender portal under DKIM),
    then enable signing.
    """

    id = "dkim.microsoft365"
    area = "dkim"
    severity = Severity.LOW
    references = ("RFC 6376", M365_DKIM)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        selectors = ("selector1", "selector2")
        answers = await asyncio.gather(*(ctx.dns.query(f"{s}._domainkey.{ctx.domain}", "CNAME") for s in selectors))
        findings = []
        tenant = ctx.entry.tenant or "<tenant>.onmicrosoft.com"
        for selector, answer in zip(selectors, answers):
            name = f"{selector}._domainkey.{ctx.domain}"
            if answer.outcome.is_failure:
                findings.append(self.could_not_test(answer, f"the {selector} DKIM record"))
                continue
            evidence, expected = (answer.evidence(),), f"CNAME {selector}-{dashed(ctx.domain)}._domainkey.{tenant}"
            remediation = zone_record(name, "CNAME", f"{selector}-{dashed(ctx.domain)}._domainkey.{tenant}.")
            if not answer.ok:
                finding = self.info if ctx.entry.phase is Phase.PRE_MIGRATION else self.warn
                findings.append(finding(f"{name} is not published: Microsoft 365 cannot sign with the domain's own "
                                        "DKIM key.", observed="(none)", remediation=remediation, expected=expected,
                                        evidence=evidence))
                continue
            target = answer.texts[0].rstrip(".").lower()
            if points_at_microsoft(target, selector, ctx.domain, ctx.entry.tenant):
                findings.append(self.passed(f"{selector} points at Microsoft 365 ({target}).", observed=target,
                                            expected=expected, evidence=evidence))
            else:
                findings.append(self.warn(f"{selector} points at {target}, not at this tenant's Microsoft 365 key.",
                                          observed=target, remediation=remediation, expected=expected,
                                          evidence=evidence))
        return findings
