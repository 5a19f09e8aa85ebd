"""autodiscover.srv: the ``_autodiscover._tcp`` SRV record, if any, is one Outlook can use.

Sources: Microsoft KB 3211279 ("Outlook 2016 implementation of Autodiscover": the SRV record
is Outlook's last step, on port 443 only); RFC 2782 for SRV.
"""

from __future__ import annotations

import asyncio

from dnsaudit.check import Check, CheckContext, Fields, zone_record
from dnsaudit.mail.autodiscover import MICROSOFT_SRV_TARGETS, REFERENCES
from dnsaudit.model import Finding, Phase, Severity
from dnsaudit.net.dns import DnsAnswer, SrvRecord


class AutodiscoverSrv(Check):
    """The _autodiscover._tcp SRV record, if any, is usable.

    Outlook tries ``_autodiscover._tcp.<domain>`` last, after the HTTPS and HTTP probes:
    it takes the first record with port 443 and asks
    ``https://<target>/autodiscover/autodiscover.xml``. A record on another port is
    ignored, a target of ``.`` says the service does not exist, and a target that does not
    resolve fails. After cutover a record still naming an on-premises host is a leftover
    that can send Outlook to the old server when the other steps fail. Having no SRV
    record is fine.

    Fix: correct the record to port 443 and a resolvable host, or delete it.
    """

    id = "autodiscover.srv"
    area = "autodiscover"
    severity = Severity.MEDIUM
    references = ("RFC 2782", *REFERENCES)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        name = f"_autodiscover._tcp.{ctx.domain}"
        answer = await ctx.dns.query(name, "SRV")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the autodiscover SRV record")]
        if not answer.ok:
            return [self.passed("No autodiscover SRV record (it is optional).", observed="(none)",
                                evidence=(answer.evidence(),))]
        records = sorted(answer.srv(), key=lambda r: (r.priority, -r.weight, r.target))
        return list(await asyncio.gather(*(self._one(ctx, name, r, answer) for r in records)))

    async def _one(self, ctx: CheckContext, name: str, record: SrvRecord, answer: DnsAnswer) -> Finding:
        text, target = record.text, record.target
        delete = f"Delete or correct: {zone_record(name, 'SRV', text)}"
        fields: Fields = dict(observed=text, evidence=(answer.evidence(),))
        if not target:
            return self.fail("The SRV target is '.', which says autodiscover is not offered.", remediation=delete,
                             **fields)
        if record.port != 443:
            return self.fail(f"The SRV record uses port {record.port}; Outlook only uses SRV records on port 443.",
                             expected="port 443", remediation=delete, **fields)
        a, aaaa = await ctx.dns.addresses(target)
        fields["evidence"] = (answer.evidence(), a.evidence(), aaaa.evidence())
        if not (a.ok or aaaa.ok):
            failed = next((x for x in (a, aaaa) if x.outcome.is_failure), None)
            if failed is not None:
                return self.could_not_test(failed, f"whether the SRV target {target} resolves", observed=text)
            return self.fail(f"The SRV target {target} does not resolve.", remediation=delete, **fields)
        if ctx.entry.phase is Phase.CLOUD and target not in MICROSOFT_SRV_TARGETS:
            return self.warn(f"After cutover the SRV record still points at {target}; Outlook may use it when the "
                             "other autodiscover steps fail.", remediation=f"Delete: {zone_record(name, 'SRV', text)}",
                             **fields)
        return self.passed(f"The SRV record points at {target} on port 443.", **fields)

