"""The results' JSON form read back into values: ``dnsaudit report``, the history, drift.

``dnsaudit.results_json`` writes the form (and ``results.schema.json`` describes it); this
module is its reader, apart because reading builds the values of ``dnsaudit.findings``, whose
``to_dict`` methods call the writer: one module doing both would import and be imported by
``findings``.

``evidence_from_line`` reads a stored evidence line back into an ``Evidence``; it is the one
parser of that text, and only a line it can render again byte for byte becomes a DNS
answer (anything else, an HTTP step, a certificate, a line of a plugin, stays a note).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from dnsaudit.evidence import Evidence
from dnsaudit.findings import (
    AuditRun,
    CheckInfo,
    DomainEntry,
    DomainResult,
    Finding,
    InputIssue,
    RunInfo,
    Score,
    WaiverNote,
)
from dnsaudit.net.outcome import Outcome
from dnsaudit.results_json import SCHEMA_VERSION
from dnsaudit.vocabulary import Cloud, ErrorReason, Phase, Severity, Status, Verdict

# "name TYPE (CNAME -> a. -> b.): rest", as Evidence.line() writes a DNS answer.
_ANSWER_LINE = re.compile(r"(?P<name>\S+) (?P<type>[A-Z0-9]+)(?: \(CNAME(?P<chain>(?: -> \S+)+)\))?: (?P<rest>.*)",
                          re.DOTALL)
# What the reader of a reply notes about a record it skipped (net.wire), at the end of the line.
_NOTES = re.compile(r" \((?P<notes>a [A-Z0-9]+ record with rdlength \d+ could not be read.*)\)\Z", re.DOTALL)
_NOTE_START = re.compile(r"; (?=a [A-Z0-9]+ record with rdlength \d+ could not be read)")
_OUTCOMES = {o.value.upper(): o for o in Outcome if o is not Outcome.ANSWER}


@functools.lru_cache(maxsize=8192)  # a run's lines repeat (Microsoft's SPF include in every domain)
def evidence_from_line(line: str) -> Evidence:
    """The ``Evidence`` a stored line was rendered from: a DNS answer when the line reads as
    one and renders back to itself, else a note holding the line."""
    match = _ANSWER_LINE.fullmatch(line)
    if match is None:
        return Evidence.note(line)
    rest: str = match["rest"]
    notes: tuple[str, ...] = ()
    found = _NOTES.search(rest)
    if found:
        notes = tuple(_NOTE_START.split(found["notes"]))
        rest = rest[:found.start()]
    chain = tuple(match["chain"].split(" -> ")[1:]) if match["chain"] else ()
    outcome = _OUTCOMES.get(rest)
    if outcome is not None:
        evidence = Evidence(match["name"], match["type"], (), chain, outcome, notes)
    else:
        evidence = Evidence(match["name"], match["type"], _answers(rest), chain, Outcome.ANSWER, notes)
    return evidence if evidence.line() == line else Evidence.note(line)


def _answers(text: str) -> tuple[str, ...]:
    """Record texts joined by `` | ``; a separator inside a quoted TXT string is not one."""
    if '"' not in text:
        return tuple(text.split(" | "))
    answers, start, quoted, i = [], 0, False, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and quoted:
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and text.startswith(" | ", i):
            answers.append(text[start:i])
            start = i = i + 3
            continue
        i += 1
    answers.append(text[start:])
    return tuple(answers)


def waiver_from_dict(data: dict[str, Any]) -> WaiverNote:
    return WaiverNote(data["reason"], data.get("owner", ""), data["expires"], bool(data.get("expired")),
                      data.get("source", ""))


def finding_from_dict(data: dict[str, Any]) -> Finding:
    return Finding(
        check_id=data["id"],
        area=data["area"],
        severity=Severity(data["severity"]),
        status=Status(data["status"]),
        reason=ErrorReason(data["reason"]) if data.get("reason") else None,
        message=data["message"],
        observed=data.get("observed", ""),
        expected=data.get("expected", ""),
        remediation=data.get("remediation", ""),
        evidence=tuple(evidence_from_line(line) for line in data.get("evidence", ())),
        waiver=waiver_from_dict(data["waiver"]) if data.get("waiver") else None,
        trace=data.get("trace", ""),
    )


def entry_from_dict(data: dict[str, Any]) -> DomainEntry:
    return DomainEntry(
        domain=data["domain"],
        row=data["row"],
        display_name=data.get("display_name", ""),
        relay_ips=tuple(data.get("relay_ips", ())),
        relay_cert_host=data.get("relay_cert_host", ""),
        cloud=Cloud(data.get("cloud", "worldwide")),
        phase=Phase(data.get("phase", "cloud")),
        tenant=data.get("tenant", ""),
        client=data.get("client", ""),
        notes=data.get("notes", ""),
        gateway=data.get("gateway", ""),
        extra=tuple(sorted(data.get("extra", {}).items())),
        merged_rows=tuple(data.get("merged_rows", ())),
    )


def score_from_dict(data: dict[str, Any]) -> Score:
    points = data.get("score")
    return Score(
        points=-1 if points is None else int(points),
        grade=data["grade"],
        verdict=Verdict(data["verdict"]),
        blocking=tuple(data.get("blocking", ())),
        untested=tuple(data.get("could_not_test", ())),
    )


def domain_from_dict(data: dict[str, Any]) -> DomainResult:
    return DomainResult(
        entry=entry_from_dict(data["input"]),
        findings=tuple(finding_from_dict(f) for f in data["results"]),
        score=score_from_dict(data),
        duration_ms=data.get("duration_ms", 0),
    )


def check_from_dict(data: dict[str, Any]) -> CheckInfo:
    return CheckInfo(
        id=data["id"],
        area=data["area"],
        title=data["title"],
        severity=Severity(data["severity"]),
        doc=data.get("doc", ""),
        references=tuple(data.get("references", ())),
        version=data.get("version", ""),
        source=data.get("source", ""),
    )


def info_from_dict(data: dict[str, Any]) -> RunInfo:
    return RunInfo(
        tool_version=data["tool_version"],
        started=data["started"],
        finished=data["finished"],
        input_file=data["input_file"],
        nameservers=tuple(data.get("nameservers", ())),
        checks=tuple(check_from_dict(c) for c in data.get("checks", ())),
        input_issues=tuple(InputIssue(**i) for i in data.get("input_issues", ())),
        dns_queries=data.get("dns_queries", 0),
        settings=tuple(data.get("settings", {}).items()),
        zone_files=tuple(data.get("sources", {}).get("zone_files", {}).items()),
        offline_snapshot=data.get("sources", {}).get("offline_snapshot") or "",
    )


def run_from_dict(data: dict[str, Any]) -> AuditRun:
    """Read a results.json back (``dnsaudit report``); raises ValueError on another schema."""
    if data.get("schema") != "dnsaudit-results":
        raise ValueError("not a dnsaudit results file")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"results schema version {data.get('schema_version')} is not supported "
                         f"(this dnsaudit reads version {SCHEMA_VERSION})")
    return AuditRun(info_from_dict(data["run"]), tuple(domain_from_dict(d) for d in data["domains"]))
