"""A third-party check written against the public API only (dnsaudit.check, dnsaudit.model).

It is what a plugin author ships in their own distribution, registered as
``[project.entry-points."dnsaudit.checks"] "caa.present" = "caa_check:CaaPresent"``.
``mypy --strict`` checks it in dnsaudit's own quality gate (tests/quality).
"""

from __future__ import annotations

from dnsaudit.check import Check, CheckContext, zone_record
from dnsaudit.model import Finding, Severity


class CaaPresent(Check):
    """The domain says which CAs may issue its certificates (advisory).

    A CAA record (RFC 8659 §4) names the certification authorities allowed to issue
    certificates for the domain; without one, any public CA may. Advisory: mail flows
    without it.

    Fix: publish ``0 issue "<your CA's domain>"`` for each CA you use.
    """

    id = "caa.present"
    area = "caa"
    severity = Severity.LOW
    references = ("RFC 8659 §4",)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        answer = await ctx.dns.query(ctx.domain, "CAA")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the CAA records")]
        if not answer.ok:
            return [self.warn("No CAA record: any public CA may issue certificates for the domain.",
                              observed="(none)", expected="at least one CAA issue record",
                              remediation=zone_record(ctx.domain, "CAA", '0 issue "letsencrypt.org"'),
                              evidence=(answer.evidence(),))]
        return [self.passed(f"{len(answer.texts)} CAA record(s) restrict who may issue certificates.",
                            observed=" | ".join(answer.texts), evidence=(answer.evidence(),))]
