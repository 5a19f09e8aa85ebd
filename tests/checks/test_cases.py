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

from dnsaudit import results_read
from dnsaudit.check import Settings
from dnsaudit.model import DomainEntry
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.registry import load_checks
from dnsaudit.runner import audit_entries
from dnsaudit.testing import audit_cases, check_case

# Checks that need HTTPS endpoints are exercised in tests/integration instead, policy.expectations
# (it needs a policy file's tables) in tests/checks/test_policy_expectations.py.
COVERED_ELSEWHERE = {"mta_sts.policy", "autodiscover.endpoints", "tls.autodiscover", "tls.mx", "tls.relay",
                     "zone.changes", "dnssec.zone", "policy.expectations"}  # dnssec.zone: signed zones in test_dnssec.py


@pytest.fixture(scope="module")
def client(dns_server):
    return DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=3, retries=1)


@pytest.fixture(scope="module")
def results(client, all_cases):
    """Every case in one run through the real resolver and the ZoneServer (the public case-table
    runner of dnsaudit.testing, as a plugin author would use it)."""
    return audit_cases(all_cases, load_checks().checks, dns=client, settings=Settings(check_timeout=10))


def _line_before_evidence(answer) -> str:
    """``DnsAnswer.describe()`` as it was written before answers made an ``Evidence``."""
    via = "".join(f" -> {n}" for n in answer.chain[1:])
    head = f"{answer.name} {answer.rdtype}{(' (CNAME' + via + ')') if via else ''}"
    line = f"{head}: {' | '.join(answer.texts)}" if answer.ok else f"{head}: {answer.outcome.value.upper()}"
    if answer.notes:
        line += f" ({'; '.join(answer.notes)})"
    return line


def test_every_answer_of_the_cases_renders_its_evidence_as_the_old_line(results, client):
    """``Evidence.line()`` is byte for byte the line ``describe()`` gave, for every answer the
    whole case table received (each outcome, CNAME chains)."""
    from dnsaudit.net.dns import DnsAnswer

    answers = [a for a in client._cache.values() if isinstance(a, DnsAnswer)]
    assert len(answers) > 500 and {a.outcome.value for a in answers} >= {
        "answer", "nodata", "nxdomain", "servfail", "refused", "timeout"}
    assert any(a.chain for a in answers if a.ok)
    wrong = [(a.evidence().line(), _line_before_evidence(a)) for a in answers
             if a.evidence().line() != _line_before_evidence(a) or a.describe() != _line_before_evidence(a)]
    assert not wrong, wrong[:5]


def test_case(case, results):
    check_case(case, results[case["domain"]])


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
        client = DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=3, retries=1)
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


def test_the_fake_resolver_gives_every_case_the_verdicts_of_the_real_server(all_cases):
    """dnsaudit.testing.FakeResolver (in-process, no socket) answers the whole table as the
    ZoneServer does through the real resolver: a plugin author's table means the same with it."""
    from dnsaudit.testing import case_resolver

    zones = Path(__file__).parents[1] / "zones"
    fake = audit_cases(all_cases, load_checks().checks, dns=case_resolver(all_cases, zones))
    wrong = []
    for case in all_cases:
        try:
            check_case(case, fake[case["domain"]])
        except AssertionError as exc:
            wrong.append(f"{case['name']}: {exc}")
    assert not wrong, "\n".join(wrong)


def test_every_case_serialises_to_the_published_schema_and_reads_back(results):
    """One serialisation (DomainResult.to_dict) for results.json and the history, and it is
    what dnsaudit/results.schema.json publishes: every status, reason and evidence line of
    the cases validated, and the findings read back equal."""
    import jsonschema

    import dnsaudit

    schema = json.loads((Path(dnsaudit.__file__).parent / "results.schema.json").read_text(encoding="utf-8"))
    domain = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/domain"}
    validator = jsonschema.Draft202012Validator(domain)
    for name, result in sorted(results.items()):
        data = json.loads(json.dumps(result.to_dict()))
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(data)]
        assert not errors, (name, errors[:3])
        back = results_read.domain_from_dict(data)  # the entry keeps its label as display_name: compared apart
        assert (back.findings, back.score, back.entry.label) == (result.findings, result.score, result.entry.label), name
