"""autodiscover.cname: the ``autodiscover`` record points where Outlook should find the mailboxes.

Sources: Microsoft KB 3211279 ("Outlook 2016 implementation of Autodiscover": the order of
the root-domain, autodiscover-host, HTTP-redirect and SRV steps), and "Add DNS records to
connect your domain" for the ``autodiscover`` CNAME of each cloud; RFC 2782 for SRV.
"""

from __future__ import annotations

import asyncio

from dnsaudit.check import Check, CheckContext, ExpectedFields, zone_record
from dnsaudit.domains import WILDCARD_PROBE_LABEL  # if it resolves, a wildcard answers for every missing name
from dnsaudit.mail.autodiscover import REFERENCES, outlook_srv_record
from dnsaudit.mail.microsoft import ALL_AUTODISCOVER_HOSTS
from dnsaudit.model import Finding, Phase, Severity
from dnsaudit.net.dns import DnsAnswer, Outcome


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
    unmigrated users to the cloud). Without an ``autodiscover`` record there, an
    ``_autodiscover._tcp`` SRV record whose target resolves still lets Outlook find the
    on-premises Exchange at its last step: a warning (slower, and the root domain is tried
    first), never a failure, since autodiscover.endpoints judges whether that host answers.
    A wildcard (``*.<domain>``) answering for a missing ``autodiscover`` name is reported:
    it usually lands on a web host.

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
            ctx.dns.query(name, "A"), ctx.dns.alias(name), ctx.dns.query(probe_name, "A")
        )
        evidence = (cname.evidence(), address.evidence(), probe.evidence())
        if cname.outcome.is_failure:
            return [self.could_not_test(cname, "the autodiscover record")]
        if address.outcome.is_failure and not cname.ok:
            return [self.could_not_test(address, "the autodiscover record")]
        expected_host = ctx.cloud.autodiscover_host
        recommended = zone_record(name, "CNAME", expected_host + ".")
        chain = address.cname_chain or ((cname.texts[0].rstrip("."),) if cname.ok else ())
        shown = " -> ".join(chain) if chain else ", ".join(address.texts) or "(none)"
        fields: ExpectedFields = dict(observed=shown, evidence=evidence)
        wildcard = _same_answer(address, probe)
        at_microsoft = expected_host in chain
        other_cloud = next((h for h in chain if h in ALL_AUTODISCOVER_HOSTS and h != expected_host), None)

        if ctx.entry.phase is not Phase.CLOUD:
            return [await self._on_premises_expected(ctx, address, at_microsoft or bool(other_cloud), wildcard,
                                                     fields)]
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

    async def _on_premises_expected(self, ctx: CheckContext, address: DnsAnswer, at_microsoft: bool, wildcard: bool,
                                    fields: ExpectedFields) -> Finding:
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
            message = (f"autodiscover.{ctx.entry.label} does not exist: Outlook outside the domain network cannot "
                       "find the on-premises Exchange.")
        else:
            message = f"autodiscover.{ctx.entry.label} leads nowhere ({fields['observed']}: no address)."
        remediation = zone_record(f"autodiscover.{ctx.domain}", "CNAME", "<on-premises host>.")
        # Outlook's last DNS step is the SRV record: when it leads to a host, Outlook still finds the
        # on-premises Exchange (autodiscover.endpoints probes whether that host answers).
        srv = await ctx.dns.query(f"_autodiscover._tcp.{ctx.domain}", "SRV")
        fields["evidence"] = (*fields["evidence"], srv.evidence())
        if srv.outcome.is_failure:
            return self.could_not_test(srv, "whether Outlook can find the on-premises Exchange by the SRV record "
                                       f"instead ({message[:-1]})", observed=fields["observed"])
        target, failed = await self._srv_fallback(ctx, srv)
        if failed is not None:
            return self.could_not_test(failed, f"whether the SRV target {failed.name.rstrip('.')} resolves",
                                       observed=fields["observed"])
        if target:
            return self.warn(f"{message[:-1]}; Outlook falls back to the _autodiscover._tcp SRV record ({target}), its "
                             "last step: slower, and the root domain is tried first.", remediation=remediation,
                             **fields)
        finding = self.fail if ctx.entry.phase is Phase.HYBRID else self.warn
        return finding(message, remediation=remediation, **fields)


    async def _srv_fallback(self, ctx: CheckContext, srv: DnsAnswer) -> tuple[str, DnsAnswer | None]:
        """The SRV target Outlook would use (as autodiscover.endpoints takes it) when it resolves;
        else "", with the answer that failed when that is unknown."""
        first = outlook_srv_record(srv)
        if first is None:
            return "", None
        a, aaaa = await ctx.dns.addresses(first.target)
        if a.ok or aaaa.ok:
            return first.target, None
        return "", next((x for x in (a, aaaa) if x.outcome.is_failure), None)
