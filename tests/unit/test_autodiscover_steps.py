"""autodiscover.endpoints decides from each step's flags, never from the wording of its detail."""

from __future__ import annotations

from dnsaudit.check import CheckContext
from dnsaudit.checks.autodiscover_endpoints import AutodiscoverEndpoints, Step, StepKind
from dnsaudit.model import DomainEntry, Status

CTX = CheckContext(DomainEntry("example.test", 2), dns=None)  # type: ignore[arg-type]
URL = "https://autodiscover.example.test/autodiscover/autodiscover.xml"


def verdicts(*steps: Step) -> list[tuple[Status, str]]:
    return [(f.status, f.message) for f in AutodiscoverEndpoints()._verdicts(CTX, list(steps), microsoft=False)]


def test_the_wording_of_a_detail_decides_nothing():
    # Untrusted text (a Location header, a content type) can carry any words: these are fine steps.
    root = Step(1, "https://example.test/", StepKind.NOTHING, "HTTP 200 (Outlook follows only https)")
    host = Step(2, URL, StepKind.ENDPOINT, "401, WWW-Authenticate: Negotiate; certificate warning", status=401)
    plain = Step(3, URL, StepKind.WEBSITE, "HTTP 404, text/html (Outlook follows only https)", status=404)
    srv = Step(4, "_autodiscover._tcp.example.test SRV", StepKind.NOTHING, "no SRV record on port 443")
    assert verdicts(root, host, plain, srv) == [(Status.PASS, "Outlook would use step 2: 401, WWW-Authenticate: "
                                                 "Negotiate; certificate warning.")]


def test_the_flags_decide():
    root = Step(1, "https://example.test/", StepKind.WEBSITE, "a page", status=200)
    host = Step(2, URL, StepKind.ENDPOINT, "401", status=401, certificate_warning=True)
    plain = Step(3, URL, StepKind.WEBSITE, "301", status=301, plain_http_redirect=True)
    srv = Step(4, "_autodiscover._tcp.example.test SRV", StepKind.NOTHING, "none")
    got = verdicts(root, host, plain, srv)
    assert [s for s, _ in got] == [Status.FAIL, Status.WARN, Status.INFO]
    assert "plain http URL" in got[0][1] and "answers Outlook's first step (website: a page)" in got[1][1]
