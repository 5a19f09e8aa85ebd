"""The results' JSON form as it is written: results.json, the history and the workers hold it.

Every value of ``dnsaudit.findings`` is written here (their ``to_dict`` methods call these
functions), ``dnsaudit.results_read`` reads it back, and ``results.schema.json`` describes
exactly this shape. Writing needs only the values' attributes, so this module sits below
``dnsaudit.findings`` (whose methods call it) and imports it for the type checker only;
reading builds the values, so it sits above them: that keeps the two out of an import cycle.

A finding's evidence is stored as the lines people read (``Evidence.line()``), as schema
version 1 always did: results files written by earlier versions, the history's stored rows
and their compression dictionary (``history.zdict``) stay valid, and a reader of version 1
sees no change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dnsaudit.evidence import Evidence

if TYPE_CHECKING:
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

SCHEMA_VERSION = 1


def evidence_to_json(evidence: Evidence) -> str:
    return evidence.line()


def waiver_to_dict(waiver: WaiverNote) -> dict[str, Any]:
    return {"reason": waiver.reason, "owner": waiver.owner, "expires": waiver.expires, "expired": waiver.expired,
            "source": waiver.source}


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


def domain_to_dict(result: DomainResult) -> dict[str, Any]:
    return {
        "input": entry_to_dict(result.entry),
        **score_to_dict(result.score),
        "duration_ms": result.duration_ms,
        "results": [finding_to_dict(f) for f in result.findings],
    }


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
