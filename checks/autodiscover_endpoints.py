"""autodiscover.endpoints: Outlook's autodiscover walk over HTTPS and HTTP ends at a real endpoint.

Sources: Microsoft KB 3211279 ("Outlook 2016 implementation of Autodiscover": the order of
the root-domain, autodiscover-host, HTTP-redirect and SRV steps, and which certificate
errors Outlook shows), "Autodiscover for Exchange" (the endpoint's answers).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from dnsaudit.check import Check, CheckContext, Fields, Web
from dnsaudit.mail.autodiscover import AUTODISCOVER_PATH, MICROSOFT_REDIRECT_HOSTS, REFERENCES, outlook_srv_record
from dnsaudit.mail.microsoft import ALL_AUTODISCOVER_HOSTS
from dnsaudit.model import ErrorReason, Evidence, Finding, Severity
from dnsaudit.net.dns import DnsAnswer
from dnsaudit.net.web import WebResponse

AUTODISCOVER_NAMESPACE = b"http://schemas.microsoft.com/exchange/autodiscover/"
AUTH_SCHEMES = ("negotiate", "ntlm", "basic", "bearer")


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
        web = ctx.web
        steps = [classify(1, await web.get(ctx.domain, AUTODISCOVER_PATH, "https", verify=False))]
        if microsoft:
            steps.append(Step(2, f"https://{name}{AUTODISCOVER_PATH}", StepKind.MICROSOFT,
                              "Microsoft 365's host; its certificate names Microsoft, as expected; not probed"))
            steps.append(Step(3, f"http://{name}{AUTODISCOVER_PATH}", StepKind.MICROSOFT,
                              "redirects to https://autodiscover-s.outlook.com (Microsoft 365); not probed"))
        else:
            steps.append(await self._https(web, 2, name))
            steps.append(await self._http_redirect(web, name))
        steps.append(await self._srv(ctx, web, srv))
        return self._verdicts(ctx, steps, microsoft)

    async def _http_redirect(self, web: Web, name: str) -> Step:
        step = classify(3, await web.get(name, AUTODISCOVER_PATH, "http"))
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
        followed = classify(3, await web.get(host, target.path or "/", "https"))
        kind = StepKind.REDIRECT if followed.kind is StepKind.ENDPOINT else followed.kind
        return Step(3, step.url, kind, f"{step.detail}; there: {followed.kind.value} ({followed.detail})",
                    followed.blocked, status=step.status, location=step.location,
                    plain_http_redirect=followed.plain_http_redirect)

    async def _srv(self, ctx: CheckContext, web: Web, srv: DnsAnswer) -> Step:
        first = outlook_srv_record(srv)
        if first is None:
            return Step(4, f"_autodiscover._tcp.{ctx.domain} SRV", StepKind.NOTHING, "no SRV record on port 443")
        target = first.target
        if target in MICROSOFT_REDIRECT_HOSTS:
            return Step(4, f"https://{target}{AUTODISCOVER_PATH}", StepKind.MICROSOFT, "Microsoft 365; not probed")
        return await self._https(web, 4, target)

    async def _https(self, web: Web, number: int, host: str) -> Step:
        """A step where Outlook shows certificate problems to the user instead of stopping."""
        response = await web.get(host, AUTODISCOVER_PATH, "https")
        if response.failure is None or not response.failure.certificate:
            return classify(number, response)
        step = classify(number, await web.get(host, AUTODISCOVER_PATH, "https", verify=False))
        return Step(number, step.url, step.kind, f"{step.detail}, behind a certificate warning users must accept "
                    "(see tls.autodiscover)", step.blocked, step.reason, step.status, step.location,
                    step.plain_http_redirect, certificate_warning=True)

    def _verdicts(self, ctx: CheckContext, steps: list[Step], microsoft: bool) -> list[Finding]:
        observed = "\n".join(s.line() for s in steps)
        fields: Fields = dict(observed=observed, evidence=tuple(Evidence.note(s.line()) for s in steps))
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
