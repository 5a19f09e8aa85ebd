"""How Outlook finds the mailbox server: the autodiscover DNS records (M365-RULES.md §2)."""

from __future__ import annotations

import asyncio

from dnsaudit.check import Check, CheckContext, zone_record
from dnsaudit.microsoft import ALL_AUTODISCOVER_HOSTS
from dnsaudit.model import Finding, Phase, Severity
from dnsaudit.net.dns import DnsAnswer, Outcome

# A label nobody publishes: if it resolves, a wildcard answers for every missing name.
WILDCARD_PROBE_LABEL = "dnsaudit-wildcard-probe-q7x2k"
MICROSOFT_SRV_TARGETS = ALL_AUTODISCOVER_HOSTS | {"autodiscover-s.outlook.com"}
REFERENCES = (
    "https://learn.microsoft.com/exchange/client-developer/exchange-web-services/autodiscover-for-exchange",
    "KB 3211279 (Outlook Autodiscover order)",
)


def _hosts(answer: DnsAnswer) -> tuple[str, ...]:
    return tuple(n.rstrip(".") for n in answer.chain[1:])


def _same_answer(a: DnsAnswer, b: DnsAnswer) -> bool:
    return a.exists and b.exists and (a.chain[1:2], a.texts) == (b.chain[1:2], b.texts)


class AutodiscoverCname(Check):
    """Autodiscover points where Outlook should find the mailboxes.

    Outlook looks up ``autodiscover.<domain>`` to find the mail server. After cutover
    (phase ``cloud``) it must be a CNAME to the cloud's autodiscover host:
    ``autodiscover.outlook.com`` (worldwide, GCC), ``autodiscover.office365.us`` (GCC
    High), ``autodiscover-dod.office365.us`` (DoD) or ``autodiscover.partner.outlook.cn``
    (21Vianet); a chain of CNAMEs that passes through it is fine, and the chain must end
    at an address. Before migration and during hybrid it must keep pointing at the
    on-premises Exchange (*judgement*: pointing at Microsoft then sends Outlook of
    unmigrated users to the cloud). A wildcard (``*.<domain>``) answering for a missing
    ``autodiscover`` name is reported: it usually lands on a web host.

    Fix: publish the record shown in the remediation.
    """

    id = "autodiscover.cname"
    area = "autodiscover"
    severity = Severity.HIGH
    references = REFERENCES

    async def run(self, ctx: CheckContext) -> list[Finding]:
        name = f"autodiscover.{ctx.domain}"
        probe_name = f"{WILDCARD_PROBE_LABEL}.{ctx.domain}"
        address, cname, probe = await asyncio.gather(
            ctx.dns.query(name, "A"), ctx.dns.query(name, "CNAME"), ctx.dns.query(probe_name, "A")
        )
        evidence = (cname.describe(), address.describe(), probe.describe())
        if cname.outcome.is_failure:
            return [self.could_not_test(cname, "the autodiscover record")]
        if address.outcome.is_failure and not cname.ok:
            return [self.could_not_test(address, "the autodiscover record")]
        expected_host = ctx.cloud.autodiscover_host
        recommended = zone_record(name, "CNAME", expected_host + ".")
        chain = _hosts(address) or ((cname.texts[0].rstrip("."),) if cname.ok else ())
        shown = " -> ".join(chain) if chain else ", ".join(address.texts) or "(none)"
        fields = dict(observed=shown, evidence=evidence)
        wildcard = _same_answer(address, probe)
        at_microsoft = expected_host in chain
        other_cloud = next((h for h in chain if h in ALL_AUTODISCOVER_HOSTS and h != expected_host), None)

        if ctx.entry.phase is not Phase.CLOUD:
            return [self._on_premises_expected(ctx, address, at_microsoft or bool(other_cloud), wildcard, fields)]
        fields["expected"] = f"CNAME {expected_host}"
        if at_microsoft:
            if address.outcome.is_failure:
                return [self.could_not_test(address, f"whether {expected_host} resolves", observed=shown)]
            if not address.ok:
                return [self.fail(f"autodiscover.{ctx.entry.label} points at {expected_host}, but the chain ends "
                                  "without an address.", remediation=recommended, **fields)]
            if wildcard:
                return [self.warn(f"autodiscover reaches {expected_host} only through the wildcard *.{ctx.domain}; "
                                  "publish it explicitly.", remediation=recommended, **fields)]
            return [self.passed(f"autodiscover.{ctx.entry.label} points at {expected_host}.", **fields)]
        if other_cloud:
            return [self.fail(f"autodiscover points at {other_cloud}, another Microsoft cloud than the input's "
                              f"{ctx.entry.cloud.value}.", remediation=recommended, **fields)]
        if wildcard:
            return [self.fail(f"No autodiscover record: the wildcard *.{ctx.domain} answers instead ({shown}).",
                              remediation=recommended, **fields)]
        if not address.exists and not cname.ok:
            return [self.fail(f"autodiscover.{ctx.entry.label} does not exist: Outlook cannot find Microsoft 365 "
                              "by DNS.", remediation=recommended, **fields)]
        return [self.fail(f"autodiscover still points at {shown}, not at Microsoft 365.",
                          remediation=recommended, **fields)]

    def _on_premises_expected(self, ctx, address: DnsAnswer, at_microsoft: bool, wildcard: bool, fields) -> Finding:
        phase = ctx.entry.phase.value
        fields["expected"] = "the on-premises Exchange autodiscover host"
        if at_microsoft:
            return self.fail(
                f"autodiscover already points at Microsoft 365 while the phase is {phase}: Outlook of users "
                "still on premises will look for their mailbox in the cloud.",
                remediation=f"Point {zone_record('autodiscover.' + ctx.domain, 'CNAME', '<on-premises host>.')} "
                "until cutover.",
                **fields,
            )
        if wildcard:
            return self.warn(f"No autodiscover record: the wildcard *.{ctx.domain} answers instead.", **fields)
        if address.ok:
            return self.passed(f"autodiscover points at the on-premises host ({fields['observed']}), as expected "
                               f"during {phase}.", **fields)
        if address.outcome is Outcome.NXDOMAIN and len(address.chain) < 2:
            message = f"autodiscover.{ctx.entry.label} does not exist: Outlook outside the domain network cannot " \
                      "find the on-premises Exchange."
        else:
            message = f"autodiscover.{ctx.entry.label} leads nowhere ({fields['observed']}: no address)."
        finding = self.fail if ctx.entry.phase is Phase.HYBRID else self.warn
        return finding(message, remediation=zone_record(f"autodiscover.{ctx.domain}", "CNAME", "<on-premises host>."),
                       **fields)


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
                                evidence=(answer.describe(),))]
        records = sorted(answer.records, key=lambda r: (r.priority, -r.weight, r.target.to_text()))
        return list(await asyncio.gather(*(self._one(ctx, name, r, answer) for r in records)))

    async def _one(self, ctx: CheckContext, name: str, record, answer: DnsAnswer) -> Finding:
        text = record.to_text()
        target = record.target.to_text().rstrip(".").lower()
        delete = f"Delete or correct: {zone_record(name, 'SRV', text)}"
        fields = dict(observed=text, evidence=(answer.describe(),))
        if not target:
            return self.fail("The SRV target is '.', which says autodiscover is not offered.", remediation=delete,
                             **fields)
        if record.port != 443:
            return self.fail(f"The SRV record uses port {record.port}; Outlook only uses SRV records on port 443.",
                             expected="port 443", remediation=delete, **fields)
        a, aaaa = await ctx.dns.addresses(target)
        fields["evidence"] = (answer.describe(), a.describe(), aaaa.describe())
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
