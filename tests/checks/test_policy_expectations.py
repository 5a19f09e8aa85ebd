"""policy.expectations against a real DNS server on 127.0.0.1, with [[expect]] tables as a policy file gives them."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from dnsaudit.check import Settings
from dnsaudit.model import Cloud, DomainEntry, Phase
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.policy.expectations import Expectation, input_defaults
from dnsaudit.registry import load_checks
from dnsaudit.runner import audit_entries
from dnsaudit.testing import ZoneServer

ZONES = Path(__file__).parents[1] / "zones"
ACME = Expectation("dnsaudit.toml, expect 1", client="Acme", gateway="mimecast.com",
                   spf_include=("_spf.salesforce.com",), spf_forbid=("sendgrid.net",), dmarc_minimum="quarantine")
PINNED = Expectation("dnsaudit.toml, expect 2", domain="pinned.test", gateway="pphosted.com")
GOV = Expectation("dnsaudit.toml, expect 3", client="Gov", cloud="gcc-high", phase="hybrid")

DOMAINS = {
    "meets.test": """
@ SOA ns.meets.test. h.meets.test. 1 3600 600 86400 300
@ MX 10 eu-smtp-inbound-1.mimecast.com.
@ TXT "v=spf1 include:spf.protection.outlook.com include:_spf.salesforce.com -all"
_dmarc TXT "v=DMARC1; p=reject; rua=mailto:d@meets.test"
""",
    "breaks.test": """
@ SOA ns.breaks.test. h.breaks.test. 1 3600 600 86400 300
@ MX 0 breaks-test.mail.protection.outlook.com.
@ TXT "v=spf1 include:spf.protection.outlook.com include:sendgrid.net -all"
_dmarc TXT "v=DMARC1; p=none; rua=mailto:d@breaks.test"
""",
    "pinned.test": """
@ SOA ns.pinned.test. h.pinned.test. 1 3600 600 86400 300
@ MX 10 mx1.pphosted.com.
@ TXT "v=spf1 include:_spf.salesforce.com -all"
_dmarc TXT "v=DMARC1; p=quarantine"
""",
    "broken-dns.test": """
@ SOA ns.broken-dns.test. h.broken-dns.test. 1 3600 600 86400 300
""",
}


@pytest.fixture(scope="module")
def server():
    server = ZoneServer.from_directory(ZONES)
    for domain, text in DOMAINS.items():
        server.add_zone_text(domain + ".", text)
    server.set_fault("broken-dns.test", "timeout")
    with server:
        yield server


def audit(server, entries, expectations):
    (cls,) = [c for c in load_checks().checks if c.id == "policy.expectations"]
    client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=0.5, retries=0)
    settings = Settings(check_timeout=10, expectations=tuple(expectations))
    done = asyncio.run(audit_entries(entries, [cls], client, settings, concurrency=4))
    return {r.entry.domain: [(f.status.value, f.message) for f in r.findings] for r in done}


def entry(domain: str, client: str = "Acme", **fields) -> DomainEntry:
    defaults = input_defaults([ACME, PINNED, GOV], domain, "", client)
    for column in ("cloud", "phase", "gateway"):
        if column not in fields and column in defaults:
            fields[column] = {"cloud": Cloud, "phase": Phase}.get(column, str)(defaults[column])
    return DomainEntry(domain, 2, client=client, **fields)


def test_a_domain_that_meets_its_clients_expectations(server):
    found = audit(server, [entry("meets.test")], [ACME])["meets.test"]
    assert [s for s, _ in found] == ["pass", "pass", "pass", "pass"]
    assert 'Mail arrives through mimecast.com, as [[expect]] client = "Acme"' in found[0][1]
    assert "(dnsaudit.toml, expect 1)" in found[0][1]


def test_a_domain_that_breaks_them_gets_findings_that_quote_the_expectation(server):
    found = {m.split(",")[0]: s for s, m in audit(server, [entry("breaks.test")], [ACME])["breaks.test"]}
    assert list(found.values()) == ["fail"] * 4, found
    messages = " ".join(found)
    assert "Mail goes first to breaks-test.mail.protection.outlook.com" in messages
    assert "SPF does not include _spf.salesforce.com" in messages
    assert "SPF includes sendgrid.net" in messages
    assert "DMARC policy none is weaker than quarantine" in messages


def test_the_input_row_wins_over_the_client_table(server):
    # pinned.test is Acme's, but a table naming the domain sets another gateway: that one is checked.
    found = audit(server, [entry("pinned.test")], [ACME, PINNED])["pinned.test"]
    assert [s for s, _ in found] == ["info", "pass", "pass", "pass", "pass"]
    assert found[0][1].startswith('Gateway mimecast.com of [[expect]] client = "Acme", gateway = "mimecast.com" '
                                  '(dnsaudit.toml, expect 1) is not checked')
    assert found[-1][1] == ('Mail arrives through pphosted.com, as [[expect]] domain = "pinned.test", '
                            'gateway = "pphosted.com" (dnsaudit.toml, expect 2) expects.')
    # a row that declares its own cloud: kept, and the difference is information only
    found = audit(server, [entry("meets.test", client="Gov", cloud=Cloud.WORLDWIDE)], [GOV])["meets.test"]
    assert found == [("info", 'The input says cloud worldwide; [[expect]] client = "Gov", cloud = "gcc-high" '
                              '(dnsaudit.toml, expect 3) expects gcc-high. The row wins.')]
    assert entry("meets.test", client="Gov").cloud is Cloud.GCC_HIGH  # an empty column takes the table's


def test_could_not_test_is_an_error_never_a_failure(server):
    found = audit(server, [entry("broken-dns.test")], [ACME])["broken-dns.test"]
    assert {s for s, _ in found} == {"error"} and len(found) == 3


def test_a_domain_no_table_names_is_skipped(server):
    assert audit(server, [entry("meets.test", client="Other")], [ACME])["meets.test"][0][0] == "skip"


def test_the_runner_applies_waivers_before_scoring_and_never_to_could_not_test(server):
    import datetime as dt

    from dnsaudit.policy.waivers import Waiver

    (cls,) = [c for c in load_checks().checks if c.id == "policy.expectations"]
    client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=0.5, retries=0)
    waiver = Waiver("policy.*", "client accepts it until cutover", dt.date(2026, 12, 31), domain="*.test")
    settings = Settings(check_timeout=10, expectations=(ACME,), waivers=(waiver,), waiver_date=dt.date(2026, 12, 2))
    done = asyncio.run(audit_entries([entry("breaks.test"), entry("broken-dns.test")], [cls], client, settings))
    breaks, broken = done
    assert all(f.waived and f.status.value == "fail" for f in breaks.findings)
    assert (breaks.score.points, breaks.score.verdict.value) == (100, "ready")
    assert all(f.waiver is None and f.status.value == "error" for f in broken.findings)
    later = Settings(check_timeout=10, expectations=(ACME,), waivers=(waiver,), waiver_date=dt.date(2027, 1, 1))
    (expired,) = asyncio.run(audit_entries([entry("breaks.test")], [cls], client, later))
    assert expired.score.verdict.value == "ready with warnings"  # medium severity: warns, does not block
    assert all(f.message.endswith("(waiver expired on 2026-12-31)") for f in expired.findings)
