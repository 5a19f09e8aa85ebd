"""Inbound mail: the domain's MX records.

One module of ~350 lines, as each check area is: its six checks share one base class and one
MX lookup, and the entry points (pyproject.toml) name them here; the MX host lists are in
``dnsaudit.mail.mx`` already.

Sources: RFC 5321 §5.1 (MX selection, the A-record fallback), RFC 7505 (null MX), RFC 2181
§10.3 (an MX must not name a CNAME); Microsoft's "Add DNS records to connect your domain"
for the MX host each domain gets, and "How SMTP DNSSEC and DANE work" for the DNSSEC-capable
``<domain>.<shard>.mx.microsoft`` form.
"""

from __future__ import annotations

import abc
import asyncio
import ipaddress
from typing import ClassVar

from dnsaudit.check import Check, CheckContext, ExpectedFields, Fields, zone_record
from dnsaudit.mail.microsoft import (
    dashed,
    expected_mx,
    gateway_name,
    is_verification_mx,
    microsoft_mx_cloud,
    microsoft_mx_token,
)
from dnsaudit.mail.mx import MxHost, mail_hosts, mx_hosts
from dnsaudit.model import Finding, Phase, Severity
from dnsaudit.net.dns import DnsAnswer, Outcome

REFERENCES_M365 = (
    "https://learn.microsoft.com/microsoft-365/admin/get-help-with-domains/create-dns-records-at-any-dns-hosting-provider",
)
# the mx.microsoft form of the MX
M365_DANE = "https://learn.microsoft.com/exchange/mail-flow-best-practices/how-to-configure-inbound-smtp-dane-with-dnssec"


def observed(hosts: list[MxHost]) -> str:
    return "; ".join(m.record for m in hosts) or "(none)"


def recommended_mx(ctx: CheckContext) -> str:
    return zone_record(ctx.domain, "MX", f"0 {expected_mx(ctx.domain, ctx.entry.cloud)}.")


class MxCheck(Check):
    """Base of the MX checks: fetch the MX records once, then judge them."""

    area = "mx"
    references: ClassVar[tuple[str, ...]] = REFERENCES_M365

    async def run(self, ctx: CheckContext) -> list[Finding]:
        answer = await ctx.dns.query(ctx.domain, "MX")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the MX records")]
        return await self.judge(ctx, answer, mx_hosts(answer) if answer.ok else [])

    @abc.abstractmethod
    async def judge(self, ctx: CheckContext, answer: DnsAnswer, hosts: list[MxHost]) -> list[Finding]:
        """Verdicts on the domain's MX records (``hosts``: all of them, sorted; empty when none)."""


class MxPresent(MxCheck):
    """The domain publishes MX records.

    MX records tell other mail servers where to deliver mail for the domain. Without
    them, senders fall back to the domain's A record (RFC 5321 §5.1): mail goes to
    whatever web server answers for the bare domain, or bounces. A domain that should
    receive mail through Microsoft 365 needs the MX record Microsoft assigns it.

    Fix: publish the MX record shown in the remediation (the exact host is in the
    Microsoft 365 admin center under Settings > Domains).
    """

    id = "mx.present"
    severity = Severity.HIGH
    references = ("RFC 5321 §5.1", *REFERENCES_M365)

    async def judge(self, ctx: CheckContext, answer: DnsAnswer, hosts: list[MxHost]) -> list[Finding]:
        if answer.ok:
            return [self.passed("The domain publishes MX records.", observed=observed(hosts),
                                evidence=(answer.evidence(),))]
        fallback = await ctx.dns.query(ctx.domain, "A")
        falls_to = f"; mail would fall back to A {', '.join(fallback.texts)}" if fallback.ok else ""
        remediation = recommended_mx(ctx) if ctx.entry.phase is not Phase.PRE_MIGRATION else (
            "Publish an MX record for the domain's current mail server."
        )
        return [
            self.fail(
                f"The domain has no MX records{falls_to}.",
                observed="(none)",
                expected="at least one MX record",
                remediation=remediation,
                evidence=(answer.evidence(), fallback.evidence()),
            )
        ]


class MxNull(MxCheck):
    """No null MX that refuses the domain's mail.

    A null MX (``0 .``, RFC 7505) declares that a domain accepts no mail at all; senders
    bounce immediately. It must be the only MX when used, and it contradicts receiving
    mail in Microsoft 365: it is usually a parked-domain template left in place.

    Fix: delete the ``0 .`` record and publish Microsoft's MX.
    """

    id = "mx.null"
    severity = Severity.HIGH
    references = ("RFC 7505",)

    async def judge(self, ctx: CheckContext, answer: DnsAnswer, hosts: list[MxHost]) -> list[Finding]:
        evidence = (answer.evidence(),)
        if not any(not m.host for m in hosts):
            return [self.passed("No null MX record.", observed=observed(hosts), evidence=evidence)]
        delete = f"Delete: {zone_record(ctx.domain, 'MX', '0 .')}"
        if len(hosts) > 1:
            return [
                self.fail(
                    "A null MX (0 .) stands beside other MX records; RFC 7505 allows it only alone, "
                    "and senders may treat the domain as refusing mail.",
                    observed=observed(hosts),
                    expected="no null MX",
                    remediation=delete,
                    evidence=evidence,
                )
            ]
        return [
            self.fail(
                "The domain publishes a null MX (0 .): it declares that it accepts no mail.",
                observed=observed(hosts),
                expected=expected_mx(ctx.domain, ctx.entry.cloud),
                remediation=f"{delete}\nAdd: {recommended_mx(ctx)}",
                evidence=evidence,
            )
        ]


class MxMicrosoft365(MxCheck):
    """Mail for the domain is delivered to Microsoft 365.

    After cutover (phase ``cloud``) the MX must point at the domain's Exchange Online
    Protection endpoint: ``<domain-with-dashes>.mail.protection.outlook.com`` or the
    DNSSEC-capable ``<domain-with-dashes>.<shard>.mx.microsoft`` (worldwide and GCC), or
    the sovereign cloud's suffix (``mail.protection.office365.us`` for GCC High and DoD,
    ``mail.protection.partner.outlook.cn`` for 21Vianet), with the most preferred
    priority. A left-hand token other than the domain with dashes is a warning, not a
    failure: only the tenant's admin center is authoritative for it. A known filtering
    gateway (Mimecast, Proofpoint, ...) in front of Microsoft is a warning after cutover
    unless it is declared in the input's ``gateway`` column. Before migration and during
    hybrid, MX may stay on premises or on a gateway (*judgement*: MX already at Microsoft
    before migration is a warning).

    Fix: publish the MX record shown in the remediation and remove the others.
    """

    id = "mx.microsoft365"
    severity = Severity.CRITICAL
    references = (*REFERENCES_M365, M365_DANE)

    async def judge(self, ctx: CheckContext, answer: DnsAnswer, hosts: list[MxHost]) -> list[Finding]:
        hosts = mail_hosts(hosts)
        cloud, phase = ctx.entry.cloud, ctx.entry.phase
        expected = expected_mx(ctx.domain, cloud)
        fields: ExpectedFields = dict(observed=observed(hosts), expected=expected, evidence=(answer.evidence(),))
        microsoft = [m for m in hosts if microsoft_mx_token(m.host, cloud)]
        if phase is Phase.PRE_MIGRATION:
            if microsoft:
                return [self.warn("MX already points at Microsoft 365 although the phase is pre-migration.", **fields)]
            return [self.passed("MX stays on the current mail system, as expected before migration.", **fields)]
        if not microsoft:
            return [self._not_microsoft(ctx, hosts, fields)]
        best = min(m.preference for m in hosts)
        first = [m for m in microsoft if m.preference == best]
        if not first:
            return [
                self.fail(
                    f"Microsoft's MX is not the most preferred: mail goes first to "
                    f"{', '.join(m.host for m in hosts if m.preference == best)}.",
                    remediation=recommended_mx(ctx),
                    **fields,
                )
            ]
        token = microsoft_mx_token(first[0].host, cloud)
        if token != dashed(ctx.domain):
            return [
                self.warn(
                    f"MX points at Microsoft 365 ({first[0].host}) but its first label differs from "
                    f"Microsoft's default '{dashed(ctx.domain)}'; confirm it in the admin center.",
                    **fields,
                )
            ]
        return [self.passed(f"MX points at Microsoft 365 ({first[0].host}).", **fields)]

    def _not_microsoft(self, ctx: CheckContext, hosts: list[MxHost], fields: ExpectedFields) -> Finding:
        cloud, phase = ctx.entry.cloud, ctx.entry.phase
        if not hosts:
            return self.fail("No MX host receives mail for the domain.", remediation=recommended_mx(ctx), **fields)
        other_cloud = {c for m in hosts if (c := microsoft_mx_cloud(m.host)) is not None}
        if other_cloud:
            names = ", ".join(sorted(c.value for c in other_cloud))
            return self.fail(
                f"MX points at the Microsoft 365 {names} cloud, but the input says {cloud.value}.",
                remediation=recommended_mx(ctx) + f"\n(or correct the 'cloud' column to {names})",
                **fields,
            )
        gateways = [gateway_name(m.host, ctx.entry.gateway) for m in hosts]
        if all(gateways):
            names = ", ".join(sorted({g for g in gateways if g}))
            if phase is Phase.HYBRID or ctx.entry.gateway:
                return self.passed(f"Mail arrives through the gateway {names}, as declared.", **fields)
            return self.warn(
                f"Mail arrives through the filtering gateway {names}, not directly at Microsoft 365. "
                "That is fine if the gateway delivers to Exchange Online (use Enhanced Filtering); "
                "declare it in the 'gateway' column to accept it.",
                **fields,
            )
        if phase is Phase.HYBRID:
            return self.passed("MX points at the on-premises or gateway servers, as allowed during hybrid.", **fields)
        return self.fail(
            "MX does not point at Microsoft 365: mail still goes to "
            f"{', '.join(m.host for m in hosts)}.",
            remediation=recommended_mx(ctx),
            **fields,
        )


class MxTargets(MxCheck):
    """Every MX host is a valid, resolvable host name.

    An MX target must be a host name with its own A or AAAA record (RFC 5321 §5.1): not
    an IP address written as a name, not a single label, not an alias (CNAME, forbidden
    by RFC 2181 §10.3 and refused by some senders), and it must resolve. Senders skip a
    broken MX host silently, so a bad one delays or loses mail without anyone noticing.

    Fix: point the MX at the server's canonical host name, or delete the record.
    """

    id = "mx.targets"
    severity = Severity.MEDIUM
    references = ("RFC 5321 §5.1", "RFC 2181 §10.3", "RFC 7505")

    async def judge(self, ctx: CheckContext, answer: DnsAnswer, hosts: list[MxHost]) -> list[Finding]:
        hosts = mail_hosts(hosts)
        if not hosts:
            return [self.skip("No MX host to examine.", evidence=(answer.evidence(),))]
        return list(await asyncio.gather(*(self._one(ctx, m) for m in hosts)))

    async def _one(self, ctx: CheckContext, mx: MxHost) -> Finding:
        fields: Fields = dict(observed=mx.record)
        delete = f"Delete or correct: {zone_record(ctx.domain, 'MX', mx.record)}"
        if _looks_like_ip(mx.host):
            return self.fail(f"MX host {mx.host} is an IP address, not a host name.", remediation=delete, **fields)
        if "." not in mx.host:
            return self.fail(f"MX host {mx.host} is a single label, not a fully qualified name.", remediation=delete,
                             **fields)
        cname, (a, aaaa) = await asyncio.gather(ctx.dns.query(mx.host, "CNAME"), ctx.dns.addresses(mx.host))
        fields["evidence"] = (cname.evidence(), a.evidence(), aaaa.evidence())
        if cname.ok:
            return self.fail(
                f"MX host {mx.host} is an alias (CNAME to {cname.texts[0]}); RFC 2181 forbids that.",
                remediation=delete,
                **fields,
            )
        if a.ok or aaaa.ok:
            addresses = ", ".join(a.texts + aaaa.texts)
            return self.passed(f"MX host {mx.host} resolves ({addresses}).", **fields)
        failed = next((x for x in (a, aaaa) if x.outcome.is_failure), None)
        if failed is not None:
            return self.could_not_test(failed, f"whether MX host {mx.host} resolves", observed=mx.record)
        outcome = "does not exist" if a.outcome is Outcome.NXDOMAIN else "has no A or AAAA record"
        return self.fail(f"MX host {mx.host} {outcome}: mail cannot be delivered to it.", remediation=delete, **fields)


class MxExtra(MxCheck):
    """No MX host beside Microsoft's after cutover.

    Once a domain is in Microsoft 365 (phase ``cloud``), every other MX host (a legacy
    on-premises server, an old gateway) is a way around Exchange Online Protection and a
    place where mail silently piles up. During hybrid, extra hosts are expected and
    reported for information only.

    Fix: delete the MX records the remediation lists.
    """

    id = "mx.extra"
    severity = Severity.MEDIUM

    async def judge(self, ctx: CheckContext, answer: DnsAnswer, hosts: list[MxHost]) -> list[Finding]:
        hosts = mail_hosts(hosts)
        cloud = ctx.entry.cloud
        microsoft = [m for m in hosts if microsoft_mx_token(m.host, cloud)]
        others = [m for m in hosts if not microsoft_mx_token(m.host, cloud)]
        fields: Fields = dict(observed=observed(hosts), evidence=(answer.evidence(),))
        if not microsoft:
            return [self.skip("No Microsoft 365 MX host to compare with (see mx.microsoft365).", **fields)]
        if not others:
            return [self.passed("Microsoft 365 is the only MX.", **fields)]
        names = ", ".join(m.host for m in others)
        if ctx.entry.phase is not Phase.CLOUD:
            return [self.info(f"MX hosts beside Microsoft's ({names}), expected during {ctx.entry.phase.value}.",
                              **fields)]
        return [
            self.fail(
                f"MX hosts beside Microsoft's still receive mail: {names}.",
                expected=observed(microsoft),
                remediation="\n".join(f"Delete: {zone_record(ctx.domain, 'MX', m.record)}" for m in others),
                **fields,
            )
        ]


class MxVerification(MxCheck):
    """No leftover Microsoft verification MX.

    When a DNS host cannot publish TXT records, Microsoft lets you verify a domain with an
    MX record ``ms########.msv1.invalid`` at priority 32767. It never receives mail and
    should be deleted once the domain shows as verified.

    Fix: delete the ``msv1.invalid`` record.
    """

    id = "mx.verification"
    severity = Severity.LOW

    async def judge(self, ctx: CheckContext, answer: DnsAnswer, hosts: list[MxHost]) -> list[Finding]:
        leftovers = [m for m in hosts if is_verification_mx(m.host)]
        evidence = (answer.evidence(),)
        if not leftovers:
            return [self.passed("No leftover verification MX record.", evidence=evidence)]
        return [
            self.warn(
                "A Microsoft verification MX record (msv1.invalid) is still published.",
                observed=observed(leftovers),
                expected="(none)",
                remediation="\n".join(f"Delete: {zone_record(ctx.domain, 'MX', m.record)}" for m in leftovers),
                evidence=evidence,
            )
        ]


def _looks_like_ip(host: str) -> bool:
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate)
        return True
    except ValueError:
        return all(label.isdigit() for label in candidate.split("."))
