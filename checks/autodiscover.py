"""How Outlook finds the mailbox server: the autodiscover DNS records.

Sources: Microsoft KB 3211279 ("Outlook 2016 implementation of Autodiscover": the order of
the root-domain, autodiscover-host, HTTP-redirect and SRV steps, and which certificate
errors Outlook shows), "Autodiscover for Exchange", and "Add DNS records to connect your
domain" for the ``autodiscover`` CNAME of each cloud; RFC 2782 for SRV.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from dnsaudit.check import Check, CheckContext, zone_record
from dnsaudit.mail.microsoft import ALL_AUTODISCOVER_HOSTS
from dnsaudit.model import ErrorReason, Finding, Phase, Severity
from dnsaudit.net.dns import DnsAnswer, Outcome, SrvRecord
from dnsaudit.net.web import WebResponse

# A label nobody publishes: if it resolves, a wildcard answers for every missing name.
WILDCARD_PROBE_LABEL = "dnsaudit-wildcard-probe-q7x2k"
MICROSOFT_SRV_TARGETS = ALL_AUTODISCOVER_HOSTS | {"autodiscover-s.outlook.com"}
REFERENCES = (
    "https://learn.microsoft.com/exchange/client-developer/exchange-web-services/autodiscover-for-exchange",
    "https://support.microsoft.com/help/3211279",  # KB 3211279: Outlook's Autodiscover order
    "https://learn.microsoft.com/microsoft-365/admin/get-help-with-domains/create-dns-records-at-any-dns-hosting-provider",
)


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
            ctx.dns.query(name, "A"), ctx.dns.query(name, "CNAME"), ctx.dns.query(probe_name, "A")
        )
        evidence = (cname.describe(), address.describe(), probe.describe())
        if cname.outcome.is_failure:
            return [self.could_not_test(cname, "the autodiscover record")]
        if address.outcome.is_failure and not cname.ok:
            return [self.could_not_test(address, "the autodiscover record")]
        expected_host = ctx.cloud.autodiscover_host
        recommended = zone_record(name, "CNAME", expected_host + ".")
        chain = address.cname_chain or ((cname.texts[0].rstrip("."),) if cname.ok else ())
        shown = " -> ".join(chain) if chain else ", ".join(address.texts) or "(none)"
        fields = dict(observed=shown, evidence=evidence)
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

    async def _on_premises_expected(self, ctx, address: DnsAnswer, at_microsoft: bool, wildcard: bool,
                                    fields) -> Finding:
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
        fields["evidence"] = (*fields["evidence"], srv.describe())
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


    async def _srv_fallback(self, ctx, srv: DnsAnswer) -> tuple[str, DnsAnswer | None]:
        """The SRV target Outlook would use (the first record on port 443, as autodiscover.endpoints
        takes it) when it resolves; else "", with the answer that failed when that is unknown."""
        records = sorted(srv.srv(), key=lambda r: (r.priority, -r.weight)) if srv.ok else []
        first = next((r for r in records if r.port == 443 and r.target), None)
        if first is None:
            return "", None
        a, aaaa = await ctx.dns.addresses(first.target)
        if a.ok or aaaa.ok:
            return first.target, None
        return "", next((x for x in (a, aaaa) if x.outcome.is_failure), None)


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
        records = sorted(answer.srv(), key=lambda r: (r.priority, -r.weight, r.target))
        return list(await asyncio.gather(*(self._one(ctx, name, r, answer) for r in records)))

    async def _one(self, ctx: CheckContext, name: str, record: SrvRecord, answer: DnsAnswer) -> Finding:
        text, target = record.text, record.target
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


AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
AUTODISCOVER_NAMESPACE = b"http://schemas.microsoft.com/exchange/autodiscover/"
AUTH_SCHEMES = ("negotiate", "ntlm", "basic", "bearer")
MICROSOFT_REDIRECT_HOSTS = ALL_AUTODISCOVER_HOSTS | {"autodiscover-s.outlook.com", "autodiscover-s.office365.us",
                                                     "autodiscover-s-dod.office365.us",
                                                     "autodiscover-s.partner.outlook.cn"}


class StepKind(str, enum.Enum):
    """What answered one step of Outlook's walk."""

    ENDPOINT = "endpoint"  # an autodiscover endpoint (401 with a known scheme, or autodiscover XML)
    REDIRECT = "redirect"  # an https redirect Outlook follows
    WEBSITE = "website"  # something that is not autodiscover
    NOTHING = "nothing"  # no HTTP answer, or no SRV record
    MICROSOFT = "microsoft"  # Microsoft 365's own host, not probed


@dataclass(frozen=True)
class Step:
    """One step of Outlook's walk and what answered it.

    The verdicts read the flags (``status``, ``location``, ``plain_http_redirect``,
    ``certificate_warning``), never the wording of ``detail``, which is for people.
    """

    number: int
    url: str
    kind: StepKind
    detail: str
    blocked: tuple[str, ...] = ()
    reason: ErrorReason | None = None  # "nothing" because of a timeout or refusal: could not test
    status: int = 0  # the HTTP status that answered (0: none)
    location: str = ""  # a redirect's Location header
    plain_http_redirect: bool = False  # a redirect to an http:// URL, which Outlook does not follow
    certificate_warning: bool = False  # reached only past a certificate warning users must accept

    @property
    def usable(self) -> bool:
        return self.kind in (StepKind.ENDPOINT, StepKind.REDIRECT, StepKind.MICROSOFT)

    def line(self) -> str:
        return f"step {self.number} {self.url}: {self.kind.value} ({self.detail})"


def classify(number: int, response: WebResponse) -> Step:
    """What answered one probe, the way Outlook would take it."""
    url = response.url
    if response.error:
        return Step(number, url, StepKind.NOTHING, response.error, response.blocked, response.reason)
    status = response.status
    content_type = response.header("content-type").split(";")[0].strip() or "no content type"
    if status == 401:
        schemes = [s.strip().split(" ")[0] for s in response.header("www-authenticate").split(",") if s.strip()]
        if any(s.lower() in AUTH_SCHEMES for s in schemes):
            return Step(number, url, StepKind.ENDPOINT, f"401, WWW-Authenticate: {', '.join(schemes)}", status=status)
    if status in (301, 302, 303, 307, 308):
        location = response.header("location")
        if location.lower().startswith("https://"):
            return Step(number, url, StepKind.REDIRECT, f"{status} to {location}", status=status, location=location)
        return Step(number, url, StepKind.WEBSITE, f"{status} to {location or 'nowhere'} (Outlook follows only https)",
                    status=status, location=location, plain_http_redirect=True)
    if status == 200 and AUTODISCOVER_NAMESPACE in response.body and "xml" in content_type:
        return Step(number, url, StepKind.ENDPOINT, f"200 autodiscover XML ({content_type})", status=status)
    return Step(number, url, StepKind.WEBSITE, f"HTTP {status}, {content_type}", status=status)


class AutodiscoverEndpoints(Check):
    """Outlook's autodiscover walk ends at a real autodiscover endpoint.

    Outlook tries, in order: (1) ``https://<domain>/autodiscover/autodiscover.xml``
    with certificate errors silenced, (2) ``https://autodiscover.<domain>/...`` with
    certificate errors shown to the user, (3) ``http://autodiscover.<domain>/...`` where
    only a redirect to an https URL is followed (XML over plain http is ignored), (4) the
    ``_autodiscover._tcp`` SRV target on port 443. dnsaudit walks these steps without
    credentials and reports what answered each (an autodiscover endpoint: 401 with
    Negotiate/NTLM/Basic/Bearer, an https redirect or autodiscover XML; a website; nothing)
    and which step Outlook would take first. Findings: the root domain's web host
    answering step 1 (shared hosting and catch-all sites: Outlook may take settings or a
    credential prompt from it), an autodiscover host that answers like a website, and no
    step working at all. For a domain whose autodiscover CNAME goes to Microsoft 365 the
    HTTP redirect to Microsoft is the expected path and is not probed; Microsoft's
    certificate at ``https://autodiscover.<domain>`` is not a finding.

    Fix: stop the root web host answering ``/autodiscover/`` (or set Outlook's
    ``ExcludeHttpsRootDomain``), and point autodiscover at the real endpoint.
    """

    id = "autodiscover.endpoints"
    area = "autodiscover"
    severity = Severity.HIGH
    references = REFERENCES

    async def run(self, ctx: CheckContext) -> list[Finding]:
        if ctx.web is None:
            return [self.skip(ctx.no_probes())]
        name = f"autodiscover.{ctx.domain}"
        address, srv = await asyncio.gather(ctx.dns.query(name, "A"),
                                            ctx.dns.query(f"_autodiscover._tcp.{ctx.domain}", "SRV"))
        microsoft = bool({n.rstrip(".") for n in address.chain} & ALL_AUTODISCOVER_HOSTS)
        steps = [classify(1, await ctx.web.get(ctx.domain, AUTODISCOVER_PATH, "https", verify=False))]
        if microsoft:
            steps.append(Step(2, f"https://{name}{AUTODISCOVER_PATH}", StepKind.MICROSOFT,
                              "Microsoft 365's host; its certificate names Microsoft, as expected; not probed"))
            steps.append(Step(3, f"http://{name}{AUTODISCOVER_PATH}", StepKind.MICROSOFT,
                              "redirects to https://autodiscover-s.outlook.com (Microsoft 365); not probed"))
        else:
            steps.append(await self._https(ctx, 2, name))
            steps.append(await self._http_redirect(ctx, name))
        steps.append(await self._srv(ctx, srv))
        return self._verdicts(ctx, steps, microsoft)

    async def _http_redirect(self, ctx: CheckContext, name: str) -> Step:
        step = classify(3, await ctx.web.get(name, AUTODISCOVER_PATH, "http"))
        if step.kind is StepKind.ENDPOINT and step.status == 200:
            return Step(3, step.url, StepKind.WEBSITE, "autodiscover XML over plain http, which Outlook ignores",
                        status=step.status)
        if step.kind is not StepKind.REDIRECT:
            return step
        target = urlsplit(step.location)
        host = (target.hostname or "").lower()
        if host in MICROSOFT_REDIRECT_HOSTS:
            return Step(3, step.url, StepKind.MICROSOFT, f"{step.detail} (Microsoft 365)", status=step.status,
                        location=step.location)
        followed = classify(3, await ctx.web.get(host, target.path or "/", "https"))
        kind = StepKind.REDIRECT if followed.kind is StepKind.ENDPOINT else followed.kind
        return Step(3, step.url, kind, f"{step.detail}; there: {followed.kind.value} ({followed.detail})",
                    followed.blocked, status=step.status, location=step.location,
                    plain_http_redirect=followed.plain_http_redirect)

    async def _srv(self, ctx: CheckContext, srv: DnsAnswer) -> Step:
        records = sorted(srv.srv(), key=lambda r: (r.priority, -r.weight)) if srv.ok else []
        first = next((r for r in records if r.port == 443 and r.target), None)
        if first is None:
            return Step(4, f"_autodiscover._tcp.{ctx.domain} SRV", StepKind.NOTHING, "no SRV record on port 443")
        target = first.target
        if target in MICROSOFT_REDIRECT_HOSTS:
            return Step(4, f"https://{target}{AUTODISCOVER_PATH}", StepKind.MICROSOFT, "Microsoft 365; not probed")
        return await self._https(ctx, 4, target)

    async def _https(self, ctx: CheckContext, number: int, host: str) -> Step:
        """A step where Outlook shows certificate problems to the user instead of stopping."""
        response = await ctx.web.get(host, AUTODISCOVER_PATH, "https")
        if response.failure is None or not response.failure.certificate:
            return classify(number, response)
        step = classify(number, await ctx.web.get(host, AUTODISCOVER_PATH, "https", verify=False))
        return Step(number, step.url, step.kind, f"{step.detail}, behind a certificate warning users must accept "
                    "(see tls.autodiscover)", step.blocked, step.reason, step.status, step.location,
                    step.plain_http_redirect, certificate_warning=True)

    def _verdicts(self, ctx: CheckContext, steps: list[Step], microsoft: bool) -> list[Finding]:
        observed = "\n".join(s.line() for s in steps)
        fields = dict(observed=observed, evidence=tuple(s.line() for s in steps))
        findings = []
        for step in steps:
            if step.blocked:
                findings.append(self.warn(f"Step {step.number} leads to non-public addresses in public DNS "
                                          f"({', '.join(step.blocked)}); not probed.", **fields))
        redirect = steps[2]
        if redirect.kind is StepKind.WEBSITE and redirect.plain_http_redirect:
            findings.append(self.fail(f"http://autodiscover.{ctx.entry.label} redirects to a plain http URL, which "
                                      "Outlook does not follow.", expected="a redirect to an https URL", **fields))
        root = steps[0]
        if root.usable or (root.kind is StepKind.WEBSITE and root.status == 200):
            findings.append(self.warn(
                f"The web host of {ctx.entry.label} answers Outlook's first step ({root.kind.value}: {root.detail}): "
                "Outlook may take settings or a password prompt from it.",
                expected="no answer, or 404, at the root domain",
                remediation="Stop the root domain's web host answering /autodiscover/ (or set Outlook's "
                "ExcludeHttpsRootDomain policy).", **fields))
        if not microsoft and steps[1].kind is StepKind.WEBSITE:
            findings.append(self.fail(f"autodiscover.{ctx.entry.label} answers like a website ({steps[1].detail}), "
                                      "not like an autodiscover endpoint.", expected="401 with Negotiate/NTLM, or "
                                      "autodiscover XML", **fields))
        first = next((s for s in steps if s.usable), None)
        host_step = steps[1]  # the autodiscover host itself must answer; its silence may pass
        if first is None:
            if host_step.blocked:
                pass  # not probed: the warning above says why, and nothing more can be said
            elif host_step.reason is not None:
                findings.append(self.error("Could not test whether Outlook finds an autodiscover endpoint: "
                                           f"{host_step.detail}.", host_step.reason, **fields))
            else:
                findings.append(self.fail("No autodiscover step works: Outlook cannot find the mailbox settings.",
                                          **fields))
        elif not findings and not first.certificate_warning:
            findings.append(self.passed(f"Outlook would use step {first.number}: {first.detail}.", **fields))
        else:
            findings.append(self.info(f"Outlook would use step {first.number}: {first.detail}.", **fields))
        return findings
