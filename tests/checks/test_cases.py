"""Tier 2: every check against the zone-file cases in cases.toml, through the real resolver.

All cases are audited together in one run, as a user's CSV would be, so the faulty
domains (timeouts, SERVFAIL, REFUSED) sit beside the healthy ones and must not change
their verdicts.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from dnsaudit.check import Settings
from dnsaudit.model import Cloud, DomainEntry, Phase
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.registry import load_checks
from dnsaudit.runner import audit_entries


# Checks that need HTTPS endpoints are exercised in tests/integration instead.
COVERED_ELSEWHERE = {"mta_sts.policy", "autodiscover.endpoints", "tls.autodiscover", "tls.mx", "tls.relay",
                     "zone.changes"}


@pytest.fixture(scope="module")
def results(dns_server, all_cases):
    entries = [
        DomainEntry(
            domain=case["domain"],
            row=i + 2,
            cloud=Cloud(case.get("cloud", "worldwide")),
            phase=Phase(case.get("phase", "cloud")),
            gateway=case.get("gateway", ""),
            relay_ips=tuple(case.get("relay_ips", ())),
            tenant=case.get("tenant", ""),
        )
        for i, case in enumerate(all_cases)
    ]
    client = DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=1.5, retries=0)
    checks = load_checks().checks
    done = asyncio.run(audit_entries(entries, checks, client, Settings(check_timeout=10), concurrency=8))
    return {r.entry.domain: r for r in done}


def test_case(case, results):
    result = results[case["domain"]]
    by_check: dict[str, list] = {}
    for finding in result.findings:
        by_check.setdefault(finding.check_id, []).append(finding)
    for check_id, expected in case["expect"].items():
        findings = by_check[check_id]
        got = [f.status.value for f in findings]
        if isinstance(expected, list):
            assert got == expected, f"{check_id}: {[f.message for f in findings]}"
        else:
            assert got == [expected], f"{check_id}: {[f.message for f in findings]}"
    for check_id, reason in case.get("reason", {}).items():
        assert {f.reason.value for f in by_check[check_id]} == {reason}
    for check_id, text in case.get("message_contains", {}).items():
        assert any(text in f.message for f in by_check[check_id]), [f.message for f in by_check[check_id]]
    for check_id, text in case.get("remediation_contains", {}).items():
        assert any(text in f.remediation for f in by_check[check_id]), [f.remediation for f in by_check[check_id]]
    for check_id, text in case.get("observed", {}).items():
        assert [f.observed for f in by_check[check_id]] == [text]
    if "verdict" in case:
        assert result.score.verdict.value == case["verdict"], [(f.check_id, f.status.value) for f in result.findings]


def test_every_check_has_a_case_for_each_status_it_can_fail_with(all_cases):
    """A check no case exercises cannot be trusted: each must pass and fail somewhere."""
    seen: dict[str, set[str]] = {}
    for case in all_cases:
        for check_id, expected in case["expect"].items():
            statuses = expected if isinstance(expected, list) else [expected]
            seen.setdefault(check_id, set()).update(statuses)
    for cls in load_checks().checks:
        if cls.id in COVERED_ELSEWHERE:
            continue
        assert "pass" in seen.get(cls.id, set()), f"no case where {cls.id} passes"
        assert seen[cls.id] & {"fail", "warn"}, f"no case where {cls.id} finds a problem"
        assert "error" in seen[cls.id], f"no case where {cls.id} cannot test"


def test_results_do_not_depend_on_which_domain_resolves_a_shared_include_first(dns_server):
    """Two domains sharing includes, audited in both orders on fresh caches: identical findings."""
    relay = ("209.61.151.20", "35.190.247.9", "203.0.113.77", "2001:db8:4d61::25")
    entries = [DomainEntry("providers.test", 2, relay_ips=relay), DomainEntry("spf-nine.test", 3, relay_ips=relay),
               DomainEntry("relay-redirect.test", 4, relay_ips=relay)]

    def audit(order):
        client = DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=1, retries=0)
        done = asyncio.run(audit_entries(order, load_checks().checks, client, Settings(), concurrency=1))
        return {r.entry.domain: r.findings for r in done}

    forward, backward = audit(entries), audit(list(reversed(entries)))
    assert forward == backward
    assert [f.status.value for f in forward["spf-nine.test"] if f.check_id == "relay.spf"] == [
        "pass", "pass", "fail", "pass"]


GOLDEN = Path(__file__).with_name("golden_results.json")


def _normalised(results, port: int) -> str:
    """Every case's result as JSON, without what changes between runs (timings, the port)
    or with each new case (the input rows' numbers)."""
    def scrub(value):
        if isinstance(value, dict):
            return {k: scrub(v) for k, v in value.items() if k not in ("duration_ms", "row")}
        if isinstance(value, list):
            return [scrub(v) for v in value]
        if isinstance(value, str):
            return value.replace(f"127.0.0.1:{port}", "127.0.0.1:PORT")
        return value
    ordered = [scrub(results[domain].to_dict()) for domain in sorted(results)]
    return json.dumps(ordered, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def test_results_of_every_case_are_unchanged(results, dns_server):
    """The whole audit of cases.toml, byte for byte, against the recorded golden file.

    A refactoring must not change one finding. A deliberate change of behaviour regenerates
    the file with ``DNSAUDIT_REGENERATE_GOLDEN=1 pytest tests/checks/test_cases.py`` and the
    diff of golden_results.json is reviewed in the same commit.
    """
    text = _normalised(results, dns_server.port)
    if os.environ.get("DNSAUDIT_REGENERATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
