"""Case tables: checks tested from data, as dnsaudit tests its own (tests/checks/cases.toml).

A case is a table (TOML, YAML, or a dict in the test): the domain, its zone text, the
input row's columns, and the status each check must give::

    [[case]]
    name = "no MX at all"
    domain = "nomx.test"
    zone = "@ A 203.0.113.80"
    expect = { "mx.present" = "fail" }          # a list when a check gives several findings
    observed = { "mx.present" = "(none)" }
    message_contains = { "mx.present" = "203.0.113.80" }

Optional keys: ``fault`` (``timeout``/``servfail``/``refused`` for the whole domain),
``faults`` (``{ "name" = kind }`` or ``{ "name TYPE" = kind }``: a subtree or one record),
``cloud``, ``phase``, ``gateway``, ``tenant``, ``relay_ips``, ``reason`` (the error reason
per check), ``remediation_contains`` and ``verdict`` (the domain's verdict).

All cases are audited together in one run, as a user's list would be, so a faulty case
sits beside the healthy ones and must not change their verdicts::

    results = audit_cases(cases, [MyCheck])              # a FakeResolver serves the zones
    for case in cases:
        check_case(case, results[case["domain"]])        # AssertionError naming what differs
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dnsaudit.check import Check, Resolver, Settings
from dnsaudit.model import Cloud, DomainEntry, DomainResult, Finding, Phase
from dnsaudit.net import loop as event_loop
from dnsaudit.runner import audit_entries
from dnsaudit.testing.fakes import FakeResolver
from dnsaudit.testing.server import ZoneServer
from dnsaudit.zones import origin_for

Case = Mapping[str, Any]


def load_cases(path: str | Path) -> list[dict[str, Any]]:
    """The ``[[case]]`` tables of a TOML file."""
    cases: list[dict[str, Any]] = tomllib.loads(Path(path).read_text(encoding="utf-8"))["case"]
    return cases


def case_entry(case: Case, row: int = 2) -> DomainEntry:
    """The input row a case stands for."""
    return DomainEntry(
        domain=case["domain"], row=row, cloud=Cloud(case.get("cloud", "worldwide")),
        phase=Phase(case.get("phase", "cloud")), gateway=case.get("gateway", ""),
        relay_ips=tuple(case.get("relay_ips", ())), tenant=case.get("tenant", ""))


def case_server(cases: Sequence[Case], zones: str | Path | None = None) -> ZoneServer:
    """A ``ZoneServer`` (not started) serving every case's zone with its fault, plus the zone
    files of the folder ``zones``: for a test through the real resolver and the network."""
    server = ZoneServer.from_directory(zones) if zones else ZoneServer()
    for case in cases:
        if "zone" in case:
            server.add_zone_text(case["domain"] + ".", case["zone"])
        if "fault" in case:
            server.set_fault(case["domain"], case["fault"])
        for target, kind in case.get("faults", {}).items():
            name, _, rdtype = target.partition(" ")
            server.set_fault(name, kind, rdtype or None)
    return server


def case_resolver(cases: Sequence[Case], zones: str | Path | Mapping[str, str] | None = None) -> FakeResolver:
    """A ``FakeResolver`` serving every case's zone with its faults, plus ``zones`` (a folder of
    zone files, or origins mapped to zone texts): the same table without a server."""
    if isinstance(zones, (str, Path)):
        files = sorted(Path(zones).glob("*.zone"))
        zones = {origin_for(f, text): text for f in files for text in [f.read_text(encoding="utf-8")]}
    served = {**(zones or {}), **{c["domain"]: c["zone"] for c in cases if "zone" in c}}
    faults = {c["domain"]: c["fault"] for c in cases if "fault" in c}
    for case in cases:
        faults.update(case.get("faults", {}))
    return FakeResolver(served, faults=faults)


def audit_cases(cases: Sequence[Case], checks: Sequence[type[Check]], *, dns: Resolver | None = None,
                settings: Settings | None = None, concurrency: int = 8) -> dict[str, DomainResult]:
    """Audit every case in one run; the results by domain (``dns``: ``case_resolver(cases)``)."""
    entries = [case_entry(case, i + 2) for i, case in enumerate(cases)]
    resolver = dns if dns is not None else case_resolver(cases)
    done = event_loop.run(audit_entries(entries, checks, resolver, settings or Settings(check_timeout=10),
                                 concurrency=concurrency))
    return {r.entry.domain: r for r in done}


def check_case(case: Case, result: DomainResult) -> None:
    """Raise AssertionError unless ``result`` is what the case expects."""
    by_check: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_check.setdefault(finding.check_id, []).append(finding)

    def findings(check_id: str) -> list[Finding]:
        if check_id not in by_check:
            raise AssertionError(f"{case.get('name', case['domain'])}: {check_id} gave no finding (not run?)")
        return by_check[check_id]

    for check_id, expected in case["expect"].items():
        got = [f.status.value for f in findings(check_id)]
        want = expected if isinstance(expected, list) else [expected]
        assert got == want, f"{check_id}: {got} != {want}: {[f.message for f in findings(check_id)]}"
    for check_id, reason in case.get("reason", {}).items():
        assert {f.reason.value if f.reason else None for f in findings(check_id)} == {reason}, check_id
    for check_id, text in case.get("message_contains", {}).items():
        assert any(text in f.message for f in findings(check_id)), [f.message for f in findings(check_id)]
    for check_id, text in case.get("remediation_contains", {}).items():
        assert any(text in f.remediation for f in findings(check_id)), [f.remediation for f in findings(check_id)]
    for check_id, text in case.get("observed", {}).items():
        assert [f.observed for f in findings(check_id)] == [text], [f.observed for f in findings(check_id)]
    if "verdict" in case:
        assert result.score.verdict.value == case["verdict"], [(f.check_id, f.status.value) for f in result.findings]
