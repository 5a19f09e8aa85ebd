"""dnsaudit.testing, the plugin author's helpers: run_check, the fakes, the case-table runner."""

from __future__ import annotations

import asyncio

import pytest

from dnsaudit.check import Check, CheckContext
from dnsaudit.checks.mta_sts import MtaStsPolicy
from dnsaudit.checks.mx import MxPresent
from dnsaudit.checks.tls import TlsMx
from dnsaudit.model import DomainEntry, ErrorReason, Finding, Severity, Status
from dnsaudit.net.dns import Outcome
from dnsaudit.testing import FakeResolver, FakeTls, FakeWeb, check_case, fake_cert, run_check

MICROSOFT_MX = "@ MX 0 contoso-test.mail.protection.outlook.com."


class Typo(Check):
    """A check with a misspelt finding field."""

    id = "test.typo"
    area = "test"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        return [self.fail("broken", remedation="publish it")]  # type: ignore[call-arg]


class Raises(Check):
    """A check that raises."""

    id = "test.raises"
    area = "test"

    async def run(self, ctx: CheckContext) -> list[Finding]:
        raise RuntimeError("boom")


def test_a_misspelt_finding_field_is_a_type_error_at_the_call():
    with pytest.raises(TypeError, match="remedation"):
        run_check(Typo, entry="contoso.test")


def test_run_check_lets_a_check_bug_through_and_isolate_shows_what_the_run_records():
    with pytest.raises(RuntimeError, match="boom"):
        run_check(Raises, entry="contoso.test")
    (finding,) = run_check(Raises, entry="contoso.test", isolate=True)
    assert (finding.status, finding.reason) == (Status.ERROR, ErrorReason.CHECK_BUG)


def test_run_check_serves_the_zone_and_microsofts_records():
    (finding,) = run_check(MxPresent, entry="contoso.test", zone=MICROSOFT_MX)
    assert finding.status is Status.PASS
    assert finding.observed == "0 contoso-test.mail.protection.outlook.com."
    assert finding.severity is Severity.HIGH


def test_fake_resolver_keeps_failures_apart_from_missing_records():
    resolver = FakeResolver({"contoso.test": MICROSOFT_MX + "\nwww A 192.0.2.1"},
                            faults={"slow.contoso.test": "timeout", "contoso.test TXT": "servfail"})

    async def ask():
        return await asyncio.gather(
            resolver.query("contoso.test", "MX"), resolver.query("contoso.test", "TXT"),
            resolver.query("a.slow.contoso.test", "A"), resolver.query("nothere.contoso.test", "A"),
            resolver.query("www.contoso.test", "MX"), resolver.query("elsewhere.example", "A"))

    mx, txt, slow, missing, nodata, unknown = asyncio.run(ask())
    assert [r.exchange for r in mx.mx()] == ["contoso-test.mail.protection.outlook.com"]
    assert (txt.outcome, slow.outcome) == (Outcome.SERVFAIL, Outcome.TIMEOUT)
    assert (missing.outcome, nodata.outcome, unknown.outcome) == (Outcome.NXDOMAIN, Outcome.NODATA, Outcome.REFUSED)
    assert resolver.asked("contoso.test", "mx") and not resolver.asked("contoso.test", "A")


def test_a_fault_on_the_domain_is_could_not_test_never_missing():
    (finding,) = run_check(MxPresent, entry="contoso.test", zone=MICROSOFT_MX, faults={"contoso.test": "timeout"})
    assert (finding.status, finding.reason) == (Status.ERROR, ErrorReason.TIMEOUT)


POLICY = "version: STSv1\nmode: enforce\nmx: *.mail.protection.outlook.com\nmax_age: 604800\n"
STS_ZONE = MICROSOFT_MX + '\n_mta-sts TXT "v=STSv1; id=20240101"'
POLICY_URL = "https://mta-sts.contoso.test/.well-known/mta-sts.txt"


def test_fake_web_serves_the_policy_and_a_missing_url_could_not_be_tested():
    web = FakeWeb()
    web.add(POLICY_URL, body=POLICY, headers={"Content-Type": "text/plain"})
    (good,) = run_check(MtaStsPolicy, entry="contoso.test", zone=STS_ZONE, web=web)
    assert good.status is Status.PASS, good.message
    assert web.requests == [POLICY_URL]
    (wrong_type,) = run_check(MtaStsPolicy, entry="contoso.test", zone=STS_ZONE, web=FakeWeb({POLICY_URL: POLICY}))
    assert wrong_type.status is Status.FAIL and "text/plain" in wrong_type.message
    (unreachable,) = run_check(MtaStsPolicy, entry="contoso.test", zone=STS_ZONE, web=FakeWeb())
    assert (unreachable.status, unreachable.reason) == (Status.ERROR, ErrorReason.NETWORK)


GATEWAY_ZONE = "@ MX 10 mx1.contoso.test.\nmx1 A 192.0.2.25"


def test_fake_tls_presents_certificates_by_server_name():
    good = run_check(TlsMx, entry="contoso.test", zone=GATEWAY_ZONE,
                     tls=FakeTls({"mx1.contoso.test": fake_cert(["mx1.contoso.test"])}))
    assert [f.status for f in good] == [Status.PASS, Status.PASS, Status.PASS], [f.message for f in good]
    tls = FakeTls()
    tls.add("mx1.contoso.test", fake_cert(["other.example"], days_left=5), trusted=False, trust_error="self-signed")
    names, trust, dates = run_check(TlsMx, entry="contoso.test", zone=GATEWAY_ZONE, tls=tls)
    assert (names.status, trust.status, dates.status) == (Status.FAIL, Status.FAIL, Status.WARN)
    assert tls.probes == [("192.0.2.25", 25, "mx1.contoso.test", True)]


def test_check_case_fails_on_each_kind_of_mismatch():
    (finding,) = run_check(MxPresent, entry="contoso.test", zone=MICROSOFT_MX)
    from dnsaudit.model import DomainResult
    from dnsaudit.scoring import score

    result = DomainResult(DomainEntry("contoso.test", 2), (finding,), score([finding]), 0)
    check_case({"domain": "contoso.test", "expect": {"mx.present": "pass"}}, result)
    for wrong in ({"expect": {"mx.present": "fail"}}, {"expect": {"mx.null": "pass"}},
                  {"expect": {}, "observed": {"mx.present": "(none)"}},
                  {"expect": {}, "message_contains": {"mx.present": "no MX"}},
                  {"expect": {}, "remediation_contains": {"mx.present": "IN MX"}},
                  {"expect": {}, "verdict": "blocked"}):
        with pytest.raises(AssertionError):
            check_case({"domain": "contoso.test", **wrong}, result)


def test_the_readme_example_check_and_its_tests_run():
    """README's "Writing a check": the example check and its tests, executed as written."""
    import re
    from pathlib import Path

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Writing a check", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2
    namespace: dict = {}
    exec(compile(blocks[0] + blocks[1], "README.md", "exec"), namespace)  # our own README
    tests = [f for name, f in namespace.items() if name.startswith("test_")]
    assert len(tests) == 3
    for test in tests:
        test()
