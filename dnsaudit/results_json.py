"""The results' JSON form, in one place: what results.json, the history and the workers hold.

Every value of ``dnsaudit.findings`` is written and read here (their ``to_dict``/``from_dict``
methods call these functions), and ``results.schema.json`` describes exactly this shape.

A finding's evidence is stored as the lines people read (``Evidence.line()``), as schema
version 1 always did: results files written by earlier versions, the history's stored rows
and their compression dictionary (``history.zdict``) stay valid, and a reader of version 1
sees no change. ``evidence_from_line`` reads a line back into an ``Evidence``; it is the one
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
from dnsaudit.vocabulary import Cloud, ErrorReason, Phase, Severity, Status, Verdict

SCHEMA_VERSION = 1


# -- evidence ---------------------------------------------------------------------------

# "name TYPE (CNAME -> a. -> b.): rest", as Evidence.line() writes a DNS answer.
_ANSWER_LINE = re.compile(r"(?P<name>\S+) (?P<type>[A-Z0-9]+)(?: \(CNAME(?P<chain>(?: -> \S+)+)\))?: (?P<rest>.*)",
                          re.DOTALL)
# What the reader of a reply notes about a record it skipped (net.wire), at the end of the line.
_NOTES = re.compile(r" \((?P<notes>a [A-Z0-9]+ record with rdlength \d+ could not be read.*)\)\Z", re.DOTALL)
_NOTE_START = re.compile(r"; (?=a [A-Z0-9]+ record with rdlength \d+ could not be read)")
_OUTCOMES = {o.value.upper(): o for o in Outcome if o is not Outcome.ANSWER}


def evidence_to_json(evidence: Evidence) -> str:
    return evidence.line()


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


# -- the values ---------------------------------------------------------------------------


def waiver_to_dict(waiver: WaiverNote) -> dict[str, Any]:
    return {"reason": waiver.reason, "owner": waiver.owner, "expires": waiver.expires, "expired": waiver.expired,
            "source": waiver.source}


def waiver_from_dict(data: dict[str, Any]) -> WaiverNote:
    return WaiverNote(data["reason"], data.get("owner", ""), data["expires"], bool(data.get("expired")),
                      data.get("source", ""))


def finding_to_dict(finding: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": finding.check_id,
        "area": finding.area,
        "severity": finding.severity.value,
        "status": finding.status.value,
        "reason": finding.reason.value if finding.reason else None,
        "message": finding.message,
        "observed": finding.observed,
        "expected": finding.expected,
        "remediation": finding.remediation,
        "evidence": [e.line() for e in finding.evidence],
    }
    if finding.waiver is not None:  # only then: results without a policy file stay as they were
        data["waiver"] = waiver_to_dict(finding.waiver)
    if finding.trace:  # only then: a run without a crashing check stays as it was
        data["trace"] = finding.trace
    return data


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


def entry_to_dict(entry: DomainEntry) -> dict[str, Any]:
    return {
        "domain": entry.domain,
        "display_name": entry.label,
        "row": entry.row,
        "merged_rows": list(entry.merged_rows),
        "relay_ips": list(entry.relay_ips),
        "relay_cert_host": entry.relay_cert_host,
        "cloud": entry.cloud.value,
        "phase": entry.phase.value,
        "tenant": entry.tenant,
        "client": entry.client,
        "notes": entry.notes,
        "gateway": entry.gateway,
        "extra": dict(entry.extra),
    }


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


def issue_to_dict(issue: InputIssue) -> dict[str, Any]:
    return {"row": issue.row, "level": issue.level.value, "message": issue.message, "value": issue.value,
            "client": issue.client}


def score_to_dict(score: Score) -> dict[str, Any]:
    return {
        "score": score.points if score.points >= 0 else None,
        "grade": score.grade,
        "verdict": score.verdict.value,
        "blocking": list(score.blocking),
        "could_not_test": list(score.untested),
    }


def score_from_dict(data: dict[str, Any]) -> Score:
    points = data.get("score")
    return Score(
        points=-1 if points is None else int(points),
        grade=data["grade"],
        verdict=Verdict(data["verdict"]),
        blocking=tuple(data.get("blocking", ())),
        untested=tuple(data.get("could_not_test", ())),
    )


def domain_to_dict(result: DomainResult) -> dict[str, Any]:
    return {
        "input": entry_to_dict(result.entry),
        **score_to_dict(result.score),
        "duration_ms": result.duration_ms,
        "results": [finding_to_dict(f) for f in result.findings],
    }


def domain_from_dict(data: dict[str, Any]) -> DomainResult:
    return DomainResult(
        entry=entry_from_dict(data["input"]),
        findings=tuple(finding_from_dict(f) for f in data["results"]),
        score=score_from_dict(data),
        duration_ms=data.get("duration_ms", 0),
    )


def check_to_dict(info: CheckInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "area": info.area,
        "title": info.title,
        "severity": info.severity.value,
        "doc": info.doc,
        "references": list(info.references),
        "version": info.version,
        "source": info.source,
    }


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


def info_to_dict(info: RunInfo) -> dict[str, Any]:
    return {
        "tool_version": info.tool_version,
        "started": info.started,
        "finished": info.finished,
        "input_file": info.input_file,
        "nameservers": list(info.nameservers),
        "dns_queries": info.dns_queries,
        "settings": dict(info.settings),
        "sources": {"zone_files": dict(info.zone_files), "offline_snapshot": info.offline_snapshot or None},
        "checks": [check_to_dict(c) for c in info.checks],
        "input_issues": [issue_to_dict(i) for i in info.input_issues],
    }


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


def run_header(run: AuditRun, totals: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything but the domains; ``totals`` when the caller has counted them already."""
    return {
        "schema": "dnsaudit-results",
        "schema_version": SCHEMA_VERSION,
        "run": info_to_dict(run.info),
        "totals": totals if totals is not None else run.totals(),
    }


def run_to_dict(run: AuditRun) -> dict[str, Any]:
    return {**run_header(run), "domains": [domain_to_dict(d) for d in run.domains]}


def run_from_dict(data: dict[str, Any]) -> AuditRun:
    """Read a results.json back (``dnsaudit report``); raises ValueError on another schema."""
    if data.get("schema") != "dnsaudit-results":
        raise ValueError("not a dnsaudit results file")
    if data.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(f"results schema version {data.get('schema_version')} is not supported "
                         f"(this dnsaudit reads version {SCHEMA_VERSION})")
    return AuditRun(info_from_dict(data["run"]), tuple(domain_from_dict(d) for d in data["domains"]))
