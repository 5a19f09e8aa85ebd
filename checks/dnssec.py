"""DNSSEC of the customer zone and inbound SMTP DANE (RFC 4033-4035, RFC 7672; Microsoft's
"How SMTP DNSSEC and DANE work"): advisory checks.

Since October 2024 Exchange Online offers inbound SMTP DANE with DNSSEC on the
``<domain-dashes>.<letter>-v1.mx.microsoft`` MX hosts (the form new domains get from July
2026). Microsoft signs its own zone and publishes the TLSA; what the customer's side must
do, and what these checks see from outside, is described in each check's docstring.
"""

from __future__ import annotations

import asyncio

from dnsaudit.check import Check, CheckContext, Fields, zone_record
from dnsaudit.mail.dnssec import BOGUS, SECURE, UNTESTABLE, SignedResolver, ZoneStatus, zone_status
from dnsaudit.mail.mx import MxHost, mail_hosts, mx_hosts
from dnsaudit.model import ErrorReason, Finding, Severity
from dnsaudit.net.addresses import allowed_addresses
from dnsaudit.net.dns import DnsAnswer, TlsaRecord
from dnsaudit.net.web import resolve_addresses

MS_DANE = ("https://learn.microsoft.com/purview/how-smtp-dnssec-and-dane-works",
           "https://learn.microsoft.com/exchange/mail-flow-best-practices/how-to-configure-inbound-smtp-dane-with-dnssec")
DANE_SUFFIX = ".mx.microsoft"
ENABLE = "Enable-DnssecForVerifiedDomain, then Enable-SmtpDaneInbound (Exchange Online PowerShell)"


def is_dane_mx(host: str) -> bool:
    """Microsoft's DNSSEC-signed MX form; any ``*.mx.microsoft`` host (take the exact one from
    ``Get-DnssecStatusForVerifiedDomain``, the letter is not derived)."""
    return host.endswith(DANE_SUFFIX)


async def shared_zone_status(ctx: CheckContext) -> ZoneStatus | None:
    """The zone's DNSSEC status, computed once per domain; None when this run cannot ask."""
    if not isinstance(ctx.dns, SignedResolver):
        return None
    resolver = ctx.dns
    return await ctx.shared(("dnssec.zone", ctx.domain), lambda: zone_status(resolver, ctx.domain))


class DnssecZone(Check):
    """The domain's zone is DNSSEC-signed and validates (advisory; inbound DANE needs it).

    DNSSEC lets receivers verify that answers about the domain are the zone owner's. For
    Exchange Online's inbound SMTP DANE it is a precondition: senders only use the TLSA
    Microsoft publishes for the ``*.mx.microsoft`` MX host when the MX answer itself is
    validated, i.e. when the domain's zone is signed and the parent holds a DS record for
    it. dnsaudit asks with the DNSSEC OK bit (checking disabled, so a validating resolver
    hands over broken data instead of SERVFAIL) and verifies, with dnspython's DNSSEC code:
    a DS at the parent that matches a DNSKEY of the zone; the DNSKEY RRset signed by that
    key; the SOA and MX RRsets signed by the zone's keys, each signature in date. The chain
    above the parent is not followed (validating resolvers do that against the root).

    Verdicts: signed and valid passes; not signed (or keys without a DS at the parent) is
    information with the classic ``mail.protection.outlook.com`` MX and a warning with the
    ``mx.microsoft`` MX (DANE cannot take effect); a broken chain (DS matching no key, bad
    or expired signature, DS without keys) fails: validating receivers will not deliver any
    mail. A timeout, SERVFAIL, or a resolver that strips DNSSEC records is "could not test".
    Planned zone files (``--zone``) carry no signatures, so the check is skipped for them.

    Good: a signed zone at your DNS host, and its DS published at the registrar.

    Fix: sign the zone and publish its DS record (then ``Enable-DnssecForVerifiedDomain``
    and ``Enable-SmtpDaneInbound``); for a broken chain, correct the DS at the registrar or
    re-sign the zone, and remove a DS whose keys are gone.
    """

    id = "dnssec.zone"
    area = "dnssec"
    severity = Severity.MEDIUM
    references = ("RFC 4033", "RFC 4035 §5", *MS_DANE)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        if ctx.dns.zones is not None and ctx.dns.zones.covers(ctx.domain):
            return [self.skip("The zone comes from a planned zone file, which carries no signatures; DNSSEC is "
                              "checked against published DNS only.")]
        status, mx = await asyncio.gather(shared_zone_status(ctx), ctx.dns.query(ctx.domain, "MX"))
        if status is None:
            return [self.skip("This run's resolver cannot ask for DNSSEC records.")]
        fields: Fields = dict(observed=status.summary, evidence=status.evidence)
        summary = status.summary[0].upper() + status.summary[1:]
        if status.state == UNTESTABLE:
            reason = status.failed.outcome.error_reason if status.failed else ErrorReason.DNS_ERROR
            return [self.error(f"Could not test DNSSEC: {status.summary}.", reason, **fields)]
        if status.state == BOGUS:
            return [self.fail(f"DNSSEC is broken: {status.summary}. Validating receivers will not deliver mail "
                              "to the domain at all.", expected="a DS at the parent matching a DNSKEY, and valid "
                              "signatures", remediation="Correct the DS record at the registrar, or re-sign the "
                              "zone; if DNSSEC is not wanted, remove the DS at the registrar first.", **fields)]
        if status.state == SECURE:
            return [self.passed(f"{summary}.", **fields)]
        dane_hosts = [m.exchange for m in mx.mx() if is_dane_mx(m.exchange)] if mx.ok else []
        remediation = f"Sign the zone at the DNS host and publish its DS record at the registrar; then {ENABLE}."
        if dane_hosts:
            return [self.warn(f"{summary}: inbound SMTP DANE for {dane_hosts[0]} cannot take effect.",
                              expected="a signed zone with a DS at the parent", remediation=remediation, **fields)]
        return [self.info(f"{summary} (optional with this MX; the DNSSEC-capable *.mx.microsoft MX needs it for "
                          "inbound DANE).", **fields)]


class MxDane(Check):
    """Inbound SMTP DANE: TLSA records for the MX hosts, and the MX set Microsoft's DANE needs (advisory).

    DANE for SMTP (RFC 7672) lets a sending server authenticate the receiving MX by a TLSA
    record at ``_25._tcp.<mx host>`` instead of a public CA. For an Exchange Online MX of
    the ``*.mx.microsoft`` form, Microsoft publishes that TLSA itself once
    ``Enable-SmtpDaneInbound`` is run (the customer publishes none); it must be usage 2
    (DANE-TA) or 3 (DANE-EE), the usages RFC 7672 §3.1 allows for SMTP. Microsoft's
    conditions for DANE to be effective: the ``mx.microsoft`` host is the most preferred MX
    and there is no secondary MX, and the domain's own zone is DNSSEC-signed (see
    ``dnssec.zone``). The classic ``mail.protection.outlook.com`` MX offers no DANE
    (information). For an MX host that is not Microsoft's (hybrid, a gateway) a published
    TLSA is reported and, for usage 3 with a SHA-256 digest, compared with the certificate
    the host presents on port 25.

    Fix: run ``Enable-SmtpDaneInbound``; make the ``mx.microsoft`` host the only MX; for
    your own MX host, publish a TLSA that matches its certificate (or none).
    """

    id = "mx.dane"
    area = "mx"
    severity = Severity.MEDIUM
    references = ("RFC 7672 §3.1", "RFC 6698 §2.1", *MS_DANE)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        answer = await ctx.dns.query(ctx.domain, "MX")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the MX records")]
        # Only real host names: an IP literal or a single label (mx.targets fails those) has no TLSA name.
        hosts = [m for m in mail_hosts(mx_hosts(answer)) if _host_name(m.host)] if answer.ok else []
        if not hosts:
            return [self.skip("No MX host to examine (see mx.present).", evidence=(answer.evidence(),))]
        microsoft = [m for m in hosts if is_dane_mx(m.host)]
        others = [m for m in hosts if not is_dane_mx(m.host) and not _classic_microsoft(m.host)]
        findings = list(await asyncio.gather(*(self._microsoft(ctx, m) for m in microsoft)))
        if microsoft:
            findings.append(self._mx_set(ctx, hosts, microsoft, answer))
        for host in others:
            found = await self._other(ctx, host)
            if found is not None:
                findings.append(found)
        if not findings:
            what = "The MX is the classic mail.protection form, which offers" if not others else \
                "No MX host publishes a TLSA record: the MX set offers"
            return [self.info(f"{what} no DANE; the DNSSEC-capable *.mx.microsoft MX does (new domains get it from "
                              "July 2026).",
                              observed="; ".join(m.record for m in hosts), evidence=(answer.evidence(),))]
        return findings

    async def _microsoft(self, ctx: CheckContext, mx: MxHost) -> Finding:
        name = f"_25._tcp.{mx.host}"
        tlsa = await ctx.dns.query(name, "TLSA")
        if tlsa.outcome.is_failure:
            return self.could_not_test(tlsa, f"the TLSA record of {mx.host}")
        fields: Fields = dict(observed=" | ".join(tlsa.texts) or "(none)", evidence=(tlsa.evidence(),))
        if not tlsa.ok:
            return self.info(f"No TLSA record at {name}: inbound DANE is not enabled for {mx.host}.",
                             expected="a TLSA record published by Microsoft", remediation=ENABLE, **fields)
        usages = sorted({r.usage for r in tlsa.tlsa()})
        if not set(usages) & {2, 3}:
            return self.fail(f"The TLSA records at {name} have usage {', '.join(map(str, usages))}, which SMTP "
                             "senders do not use (RFC 7672 §3.1.3: only 2 and 3).", expected="usage 2 or 3",
                             **fields)
        return self.passed(f"Microsoft publishes a TLSA record for {mx.host} (usage "
                           f"{', '.join(map(str, usages))}); DANE takes effect only with a signed zone "
                           "(see dnssec.zone).", **fields)

    def _mx_set(self, ctx: CheckContext, hosts: list[MxHost], microsoft: list[MxHost],
                answer: DnsAnswer) -> Finding:
        fields: Fields = dict(observed="; ".join(m.record for m in hosts), evidence=(answer.evidence(),))
        if hosts[0] not in microsoft or len(hosts) > 1:
            problem = ("it is not the most preferred MX" if hosts[0] not in microsoft
                       else f"there are {len(hosts) - 1} other MX hosts")
            keep = microsoft[0]
            fixes = [f"Delete: {zone_record(ctx.domain, 'MX', m.record)}" for m in hosts if m != keep]
            if keep.preference != 0 or hosts[0] not in microsoft:
                fixes.append(f"Publish: {zone_record(ctx.domain, 'MX', f'0 {keep.host}.')}")
            return self.warn(f"Inbound DANE through {keep.host} is not effective: {problem}. Microsoft's "
                             "conditions are that the mx.microsoft host is the most preferred and the only MX.",
                             expected=f"0 {keep.host}. as the only MX", remediation="\n".join(fixes), **fields)
        return self.passed(f"{microsoft[0].host} is the only MX, as DANE requires.", **fields)

    async def _other(self, ctx: CheckContext, mx: MxHost) -> Finding | None:
        name = f"_25._tcp.{mx.host}"
        tlsa = await ctx.dns.query(name, "TLSA")
        if tlsa.outcome.is_failure:
            return self.could_not_test(tlsa, f"the TLSA record of {mx.host}")
        if not tlsa.ok:
            return None  # no DANE for this host: nothing to say
        records = tlsa.tlsa()
        fields: Fields = dict(observed=" | ".join(tlsa.texts), evidence=(tlsa.evidence(),))
        comparable = [r for r in records if r.usage == 3 and r.matching_type == 1]
        if not comparable:
            return self.info(f"{mx.host} publishes TLSA records at {name} (not compared: only usage 3 with a SHA-256 "
                             "digest is compared with the certificate).", **fields)
        if ctx.tls is None:
            return self.info(f"{mx.host} publishes TLSA records at {name}; the certificate was not compared. "
                             f"{ctx.no_probes()}", **fields)
        resolved = await resolve_addresses(ctx.dns, mx.host)
        allowed = allowed_addresses(resolved.addresses, ctx.settings.allow_private)
        if resolved.reason is not None:
            return self.error(f"Could not compare the TLSA of {mx.host}: {resolved.why}.", resolved.reason, **fields)
        if not allowed:
            return self.info(f"{mx.host} publishes TLSA records at {name}; its certificate was not fetched "
                             f"({resolved.why or 'non-public addresses'}).", **fields)
        outcome = await ctx.tls.probe(allowed[0], ctx.settings.smtp_port, mx.host, starttls=True)
        if outcome.cert is None:
            if outcome.reason is not None:
                return self.error(f"Could not compare the TLSA of {mx.host}: {outcome.error}.", outcome.reason,
                                  **fields)
            return self.fail(f"{mx.host} publishes TLSA records but presents no certificate on port 25 "
                             f"({outcome.error}): DANE senders will not deliver.", **fields)
        if any(_matches(r, outcome.cert.sha256, outcome.cert.spki_sha256) for r in comparable):
            return self.passed(f"The certificate of {mx.host} matches its TLSA record.", **fields)
        return self.fail(f"The certificate of {mx.host} matches none of its TLSA records: DANE senders will not "
                         "deliver to it.", expected="a TLSA record matching the certificate",
                         remediation=f"Publish: _25._tcp.{mx.host}. IN TLSA 3 1 1 {outcome.cert.spki_sha256}",
                         **fields)


def _host_name(host: str) -> bool:
    return "." in host and not all(part.isdigit() for part in host.split(".")) and ":" not in host


def _classic_microsoft(host: str) -> bool:
    return ".mail.protection." in f".{host}"


def _matches(record: TlsaRecord, cert_sha256: str, spki_sha256: str) -> bool:
    digest = cert_sha256 if record.selector == 0 else spki_sha256 if record.selector == 1 else ""
    return bool(digest) and record.data.lower() == digest.lower()
