"""TLS certificates of the hosts a migration depends on (RFC 9525 names, RFC 5280 trust and dates).

One module of ~310 lines, as each check area is: its three checks judge a certificate with the
same three functions (names, trust, dates), and the entry points (pyproject.toml) name them here.

Sources: RFC 9525 (service identity: subjectAltName only, one whole-label wildcard),
RFC 5280, RFC 3207 (STARTTLS), RFC 8461 (MTA-STS senders require a valid certificate);
KB 3211279 for the autodiscover host Outlook connects to; Microsoft's "Set up connectors to
route mail" for the relay certificate a TLS connector matches.

Each endpoint gets up to three findings, judged separately so a report can say exactly
what is wrong: *names* (RFC 9525: subjectAltName only, one whole-label wildcard), *trust*
(chains to the system store, ``SSL_CERT_FILE`` or ``--ca-file``) and *dates* (a warning
under 30 days, a failure once expired). The certificate is read even when it is not
trusted, so the report shows what it names, who issued it and until when.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from dnsaudit.certs import EXPIRY_WARNING_DAYS, CertFacts, cn_only_match, days_left, names_host, parse_pem
from dnsaudit.check import Check, CheckContext, ExpectedFields, Fields
from dnsaudit.files import FileRefused, read_capped
from dnsaudit.mail.microsoft import ALL_AUTODISCOVER_HOSTS, microsoft_mx_token, organisation
from dnsaudit.mail.mx import mail_hosts, mx_hosts
from dnsaudit.model import Evidence, Finding, Severity
from dnsaudit.net.addresses import allowed_addresses
from dnsaudit.net.tls import TlsOutcome
from dnsaudit.net.web import resolve_addresses

RFC_9525 = "RFC 9525"
MAX_PEM_BYTES = 1_000_000  # a certificate chain is a few KB
SRV_MICROSOFT = ALL_AUTODISCOVER_HOSTS | {"autodiscover-s.outlook.com"}


class TlsCheck(Check):
    """Base of the TLS checks: resolve, guard private addresses, probe, judge."""

    area = "tls"
    references: ClassVar[tuple[str, ...]] = (RFC_9525, "RFC 5280")

    async def endpoint(self, ctx: CheckContext, host: str, port: int, *, starttls: bool = False,
                       what: str = "") -> list[Finding]:
        """Findings for the certificate at ``host``:``port``, reference identity ``host``."""
        what = what or host
        outcome = await self.reach(ctx, host, port, starttls=starttls, what=what)
        return outcome if isinstance(outcome, list) else judge(self, outcome, host, what)

    async def reach(self, ctx: CheckContext, host: str, port: int, *, starttls: bool, what: str,
                    required: bool = False) -> TlsOutcome | list[Finding]:
        """Resolve ``host`` with the run's resolver, keep non-public answers unprobed, probe the first allowed
        address; or the findings that say why there is nothing to judge (``required``: no address is a fail)."""
        if ctx.tls is None:  # the callers skip before this; a subclass might not
            return [self.skip(ctx.no_probes())]
        resolved = await resolve_addresses(ctx.dns, host)
        addresses = resolved.addresses
        if resolved.reason is not None:
            return [self.error(f"Could not test {what}: {resolved.why}.", resolved.reason)]
        if not addresses:
            if required:
                return [self.fail(f"{what}: {resolved.why}.", observed=resolved.why)]
            return [self.skip(f"{what}: {resolved.why}; nothing to examine.")]
        allowed = allowed_addresses(addresses, ctx.settings.allow_private)
        if not allowed:
            return [self.warn(f"{what} resolves to non-public addresses in public DNS ({', '.join(addresses)}); "
                              "not probed (use --allow-private for an internal audit).", observed=", ".join(addresses))]
        return await ctx.tls.probe(allowed[0], port, host, starttls=starttls)


def judge(check: Check, outcome: TlsOutcome, reference: str, what: str) -> list[Finding]:
    """Names, trust and dates of one endpoint's certificate, as separate findings."""
    evidence = (Evidence.note(f"TLS {outcome.endpoint}: "
                              + (outcome.cert.summary() if outcome.cert else outcome.error)),)
    if outcome.starttls is False:
        return [check.fail(f"{what} does not offer STARTTLS: mail to it travels unencrypted.",
                           observed="no STARTTLS in the EHLO reply", expected="STARTTLS offered", evidence=evidence)]
    if outcome.cert is None:
        if outcome.reason is not None:
            return [check.error(f"Could not test {what}: {outcome.error}.", outcome.reason, evidence=evidence)]
        return [check.fail(f"{what}: {outcome.error}.", observed=outcome.error, evidence=evidence)]
    cert = outcome.cert
    shown = cert.summary()
    return [_names(check, cert, reference, what, shown, evidence), _trust(check, outcome, cert, what, shown, evidence),
            _dates(check, cert, what, shown, evidence)]


def _names(check: Check, cert: CertFacts, reference: str, what: str, shown: str,
           evidence: Sequence[Evidence]) -> Finding:
    fields: ExpectedFields = dict(observed=shown, expected=f"a subjectAltName matching {reference}", evidence=evidence)
    if names_host(cert, reference):
        return check.passed(f"The certificate of {what} names {reference}.", **fields)
    if cn_only_match(cert, reference):
        return check.fail(f"The certificate of {what} names {reference} only in its subject CN, which current "
                          "clients ignore (RFC 9525): it needs a subjectAltName.", **fields)
    return check.fail(f"The certificate of {what} does not name {reference} (it names "
                      f"{', '.join(cert.dns_names) or 'no subjectAltName'}).", **fields)


def _trust(check: Check, outcome: TlsOutcome, cert: CertFacts, what: str, shown: str,
           evidence: Sequence[Evidence]) -> Finding:
    """Trust of the certificate ``outcome`` presented (``cert``, read even when untrusted)."""
    fields: Fields = dict(observed=shown, evidence=evidence)
    if outcome.trusted:
        return check.passed(f"The certificate of {what} chains to a trusted root ({cert.issuer}).", **fields)
    kind = "self-signed" if cert.self_signed else f"issued by {cert.issuer}"
    return check.fail(f"The certificate of {what} is not trusted ({kind}: {outcome.trust_error}).",
                      expected="a certificate from a publicly trusted CA", **fields)


def _dates(check: Check, cert: CertFacts, what: str, shown: str, evidence: Sequence[Evidence]) -> Finding:
    left = days_left(cert)
    fields: Fields = dict(observed=f"valid until {cert.not_after:%Y-%m-%d %H:%M} UTC", evidence=evidence)
    if left < 0:
        return check.fail(f"The certificate of {what} expired on {cert.not_after:%Y-%m-%d}.", **fields)
    if left < EXPIRY_WARNING_DAYS:
        return check.warn(f"The certificate of {what} expires in {left} days ({cert.not_after:%Y-%m-%d}).", **fields)
    return check.passed(f"The certificate of {what} is valid for {left} more days.", **fields)


class TlsAutodiscover(TlsCheck):
    """The autodiscover host's certificate is right, where it is not Microsoft's.

    When ``autodiscover.<domain>`` (or the ``_autodiscover._tcp`` SRV target) points at
    an on-premises or hybrid Exchange, Outlook connects to it over HTTPS and shows every
    certificate problem to the user: the certificate must name ``autodiscover.<domain>``
    itself (the name Outlook asked for, never a CNAME target), chain to a trusted CA and
    be in date. When autodiscover goes to Microsoft 365, the certificate is Microsoft's and
    is not examined (it does not name the customer domain, and that is expected).

    Fix: reissue the certificate with the name in its subjectAltName, from a public CA.
    """

    id = "tls.autodiscover"
    severity = Severity.HIGH

    async def run(self, ctx: CheckContext) -> list[Finding]:
        if ctx.tls is None:
            return [self.skip(ctx.no_probes())]
        name = f"autodiscover.{ctx.domain}"
        address, srv = await asyncio.gather(ctx.dns.query(name, "A"), ctx.dns.query(f"_autodiscover._tcp.{ctx.domain}",
                                                                                     "SRV"))
        findings: list[Finding] = []
        chain = {n.rstrip(".") for n in address.chain}
        if chain & ALL_AUTODISCOVER_HOSTS:
            findings.append(self.skip(f"{name} points at Microsoft 365; its certificate is Microsoft's."))
        elif address.outcome.is_failure:
            findings.append(self.could_not_test(address, f"the address of {name}"))
        elif address.ok or (await ctx.dns.query(name, "AAAA")).ok:
            findings += await self.endpoint(ctx, name, ctx.settings.https_port)
        for record in sorted(srv.srv(), key=lambda r: (r.priority, -r.weight)) if srv.ok else []:
            target = record.target
            if record.port != 443 or not target or target in SRV_MICROSOFT:
                continue  # not used by Outlook, or Microsoft's (see autodiscover.srv)
            findings += await self.endpoint(ctx, target, ctx.settings.https_port, what=f"SRV target {target}")
            break  # Outlook uses the first usable record
        return findings or [self.skip("No on-premises autodiscover host to examine.")]


class TlsMx(TlsCheck):
    """MX hosts that are not Microsoft's offer STARTTLS with a certificate naming them.

    Before migration, during hybrid and behind a filtering gateway, inbound mail reaches
    servers other than Exchange Online. Each should offer STARTTLS on port 25, with a
    certificate that names the MX host (RFC 9525 rules), chains to a trusted CA and is in
    date: Microsoft 365 connectors that require TLS, and MTA-STS senders, refuse otherwise.
    Microsoft's own MX hosts are not examined.

    Fix: enable STARTTLS and install a certificate for the MX host name.
    """

    id = "tls.mx"
    severity = Severity.MEDIUM
    references = (RFC_9525, "RFC 3207", "RFC 8461")

    async def run(self, ctx: CheckContext) -> list[Finding]:
        if ctx.tls is None:
            return [self.skip(ctx.no_probes())]
        answer = await ctx.dns.query(ctx.domain, "MX")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the MX records")]
        hosts = [m.host for m in mail_hosts(mx_hosts(answer)) if answer.ok
                 and not microsoft_mx_token(m.host, ctx.entry.cloud) and "." in m.host]
        if not hosts:
            return [self.skip("Every MX host is Microsoft's (or there is none): nothing to examine.")]
        results = await asyncio.gather(*(self.endpoint(ctx, h, ctx.settings.smtp_port, starttls=True,
                                                       what=f"MX host {h}") for h in hosts))
        return [f for group in results for f in group]


class TlsRelay(TlsCheck):
    """The relay's certificate names an accepted domain of its own organisation (certificate connectors).

    A Microsoft 365 inbound connector can identify a relay (an on-premises server, a
    scanner gateway, an application) by its TLS certificate instead of its IP: Exchange
    Online matches the connector's ``TlsSenderCertificateName`` against the certificate's
    subject common name (CN) **or** its subjectAltName entries, and that name must be one of
    the organisation's accepted domains (the domain itself, a name under it, or a wildcard
    under it); the certificate must also be publicly trusted and in date. A match in the
    subjectAltName passes; a match only in the CN is a warning (it works today, but SAN is
    where current software looks, RFC 9525). This exception to RFC 9525 holds for
    connectors only: the HTTPS and MX checks accept subjectAltName names alone.

    Accepted domains belong to one organisation: dnsaudit compares with the domains of the
    same ``tenant`` in the input (without one, the same ``client``; without either, the
    run's other domains without tenant and client), never with another client's domains.
    It reads the certificate the ``relay_cert_host`` column names (``host[:port]``,
    STARTTLS on ports 25 and 587) or a PEM file given there.

    Fix: reissue the relay's certificate with a subjectAltName under an accepted domain,
    and use that name in the connector's TlsSenderCertificateName.
    """

    id = "tls.relay"
    severity = Severity.HIGH
    references = ("https://learn.microsoft.com/exchange/mail-flow-best-practices/use-connectors-to-configure-mail-flow/"
                  "set-up-connectors-to-route-mail", RFC_9525)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        target = ctx.entry.relay_cert_host
        if not target:
            return [self.skip("No relay certificate listed for this domain (relay_cert_host column).")]
        if _is_file(target):
            return await self._from_file(ctx, target)
        if ctx.tls is None:
            return [self.skip(ctx.no_probes())]
        host, port = _host_port(target)
        starttls = port in (25, 587)
        outcome: TlsOutcome | list[Finding]
        if _is_address(host):
            outcome = await ctx.tls.probe(host, port, host, starttls=starttls)  # the user gave the address
        else:
            outcome = await self.reach(ctx, host, port, starttls=starttls, what=f"relay host {host}", required=True)
        if isinstance(outcome, list):
            return outcome
        evidence = (Evidence.note(f"TLS {outcome.endpoint}: "
                                  + (outcome.cert.summary() if outcome.cert else outcome.error)),)
        if outcome.cert is None:
            return judge(self, outcome, host, f"relay host {host}")
        return [self._accepted_domain(ctx, outcome.cert, evidence),
                _trust(self, outcome, outcome.cert, f"relay host {host}", outcome.cert.summary(), evidence),
                _dates(self, outcome.cert, f"relay host {host}", outcome.cert.summary(), evidence)]

    async def _from_file(self, ctx: CheckContext, target: str) -> list[Finding]:
        path = Path(target)
        if not path.is_absolute():
            path = Path(ctx.settings.input_dir) / path
        try:  # in a thread: a slow disk must not stall the event loop (and --check-timeout with it)
            cert = parse_pem(await asyncio.to_thread(read_capped, path, MAX_PEM_BYTES))
        except FileRefused as exc:
            return [self.fail(f"The relay certificate file {target} cannot be read ({exc}).", observed=target)]
        except ValueError as exc:
            return [self.fail(f"The relay certificate file {target} is not a PEM certificate ({exc}).",
                              observed=target)]
        evidence = (Evidence.note(f"PEM {target}: {cert.summary()}"),)
        return [self._accepted_domain(ctx, cert, evidence),
                _dates(self, cert, f"relay certificate {target}", cert.summary(), evidence)]

    def _accepted_domain(self, ctx: CheckContext, cert: CertFacts, evidence: Sequence[Evidence]) -> Finding:
        domains = _organisation_domains(ctx)
        in_san = sorted({n for n in cert.dns_names for d in domains if _under(n, d)})
        cn = cert.subject_cn.lower()
        in_cn = bool(cn) and any(_under(cn, d) for d in domains)
        fields: ExpectedFields = dict(observed=cert.summary(), expected="a subjectAltName (or CN) under one of: "
                      + ", ".join(sorted(domains)), evidence=evidence)
        if in_san:
            return self.passed(f"The relay certificate names {', '.join(in_san)}, under an accepted domain of this "
                               "organisation.", **fields)
        if in_cn:
            return self.warn(f"The relay certificate names {cn} only in its subject CN: a certificate-based "
                             "connector matches it, but the name belongs in a subjectAltName, where current "
                             "software looks (RFC 9525).", **fields)
        others = sorted({n for n in (*cert.dns_names, cn) if n} - set(in_san))
        return self.fail("The relay certificate names no accepted domain of this organisation in its CN or "
                         f"subjectAltName ({', '.join(others) or 'none'}): a certificate-based connector will not "
                         "match it.", **fields)


def _organisation_domains(ctx: CheckContext) -> frozenset[str]:
    """The audited domains of the entry's own tenant (or client); the domain itself always counts."""
    key = organisation(ctx.entry.tenant, ctx.entry.client)
    return ctx.settings.accepted_domains.get(key, frozenset()) | {ctx.domain}


def _under(name: str, domain: str) -> bool:
    """``name`` is the domain, a name under it, or a wildcard under it (``*.contoso.com``)."""
    name = name.lower().rstrip(".").removeprefix("*.")
    return name == domain or name.endswith("." + domain)


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return False


def _is_file(target: str) -> bool:
    return "/" in target or "\\" in target or target.lower().endswith((".pem", ".crt", ".cer"))


def _host_port(target: str) -> tuple[str, int]:
    if target.startswith("["):
        host, _, rest = target[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 25
    if target.count(":") == 1:
        host, port = target.split(":")
        return host, int(port)
    return target, 25
