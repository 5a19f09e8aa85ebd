"""The results model: what checks produce, what scoring reads and what reports render.

Everything here is frozen and built from plain values (str, int, tuples), so a result
can be serialised to JSON, compared between runs for drift and handed to any report
writer without it reaching back into the network layer.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dnsaudit.evidence import Evidence
from dnsaudit.net.outcome import Outcome
from dnsaudit.vocabulary import Cloud, ErrorReason, IssueLevel, Phase, Severity, Status, Verdict

__all__ = ["SCHEMA_VERSION", "AuditRun", "CheckInfo", "Cloud", "DomainEntry", "DomainResult", "ErrorReason",
           "Evidence", "Finding", "InputIssue", "IssueLevel", "Outcome", "Phase", "RunInfo", "Score", "Severity",
           "Status", "Verdict", "WaiverNote", "count_totals"]


@dataclass(frozen=True, slots=True)
class WaiverNote:
    """A waiver of the policy file that matched a finding: who accepted the problem, why, until when.

    While it runs (``expired`` False) the finding keeps its status and message but counts
    against neither the score, the verdict nor the exit code. Once its date has passed it
    stops applying: the finding counts again and says so.
    """

    reason: str
    owner: str
    expires: str  # ISO date, the last day the waiver applies
    expired: bool = False
    source: str = ""  # where it was written: "dnsaudit.toml, waiver 2"

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "owner": self.owner, "expires": self.expires, "expired": self.expired,
                "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WaiverNote:
        return cls(data["reason"], data.get("owner", ""), data["expires"], bool(data.get("expired")),
                   data.get("source", ""))


@dataclass(frozen=True, slots=True)  # tens of thousands per run: no __dict__ each
class Finding:
    """One fact a check established about one domain, with its verdict.

    ``observed`` and ``expected`` are short human-readable values; ``remediation`` is the
    exact record to publish in zone-file syntax (empty when nothing needs doing);
    ``evidence`` lists the DNS questions and answers the verdict rests on, normalised
    (sorted, no TTLs) so that two runs can be compared for drift.
    """

    check_id: str
    area: str
    severity: Severity
    status: Status
    message: str
    observed: str = ""
    expected: str = ""
    remediation: str = ""
    evidence: tuple[str, ...] = ()
    reason: ErrorReason | None = None
    waiver: WaiverNote | None = None  # set by dnsaudit.policy, never by a check
    # The traceback of a check that raised (reason check-bug), as sslyze keeps error_trace
    # beside the reason: for the plugin's author and --debug, in results.json, never in the
    # reports for people. Set by the runner, never by a check.
    trace: str = ""

    def __post_init__(self) -> None:
        if (self.status is Status.ERROR) != (self.reason is not None):
            raise ValueError("an error finding needs a reason, and only an error finding has one")
        if self.waiver is not None and self.status not in (Status.WARN, Status.FAIL):
            raise ValueError("only a warn or fail finding can be waived")
        if self.trace and self.status is not Status.ERROR:
            raise ValueError("only an error finding has a trace")

    @property
    def waived(self) -> bool:
        """A problem someone accepted in the policy file, with a waiver still running."""
        return self.waiver is not None and not self.waiver.expired

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Findings cross from worker processes by pickle; the main process keeps ten thousands
        # of them, so the few distinct check ids and areas come back as one string each.
        return (_unpickle_finding, (self.check_id, self.area, self.severity, self.status, self.message,
                                    self.observed, self.expected, self.remediation, self.evidence, self.reason,
                                    self.waiver, self.trace))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.check_id,
            "area": self.area,
            "severity": self.severity.value,
            "status": self.status.value,
            "reason": self.reason.value if self.reason else None,
            "message": self.message,
            "observed": self.observed,
            "expected": self.expected,
            "remediation": self.remediation,
            "evidence": list(self.evidence),
        }
        if self.waiver is not None:  # only then: results without a policy file stay as they were
            data["waiver"] = self.waiver.to_dict()
        if self.trace:  # only then: a run without a crashing check stays as it was
            data["trace"] = self.trace
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            check_id=data["id"],
            area=data["area"],
            severity=Severity(data["severity"]),
            status=Status(data["status"]),
            reason=ErrorReason(data["reason"]) if data.get("reason") else None,
            message=data["message"],
            observed=data.get("observed", ""),
            expected=data.get("expected", ""),
            remediation=data.get("remediation", ""),
            evidence=tuple(data.get("evidence", ())),
            waiver=WaiverNote.from_dict(data["waiver"]) if data.get("waiver") else None,
            trace=data.get("trace", ""),
        )


def _unpickle_finding(check_id: str, area: str, *rest: Any) -> Finding:
    return Finding(sys.intern(check_id), sys.intern(area), *rest)


@dataclass(frozen=True)
class DomainEntry:
    """One domain to audit, with the expectations its input row declared."""

    domain: str  # A-label form, lower case, no trailing dot
    row: int  # where it came from (first row, when duplicates were merged)
    display_name: str = ""  # Unicode form for people
    relay_ips: tuple[str, ...] = ()
    relay_cert_host: str = ""
    cloud: Cloud = Cloud.WORLDWIDE
    phase: Phase = Phase.CLOUD
    tenant: str = ""
    client: str = ""
    notes: str = ""
    gateway: str = ""
    extra: tuple[tuple[str, str], ...] = ()  # columns we do not interpret, kept verbatim
    merged_rows: tuple[int, ...] = ()

    @property
    def label(self) -> str:
        return self.display_name or self.domain

    def to_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "display_name": self.label,
            "row": self.row,
            "merged_rows": list(self.merged_rows),
            "relay_ips": list(self.relay_ips),
            "relay_cert_host": self.relay_cert_host,
            "cloud": self.cloud.value,
            "phase": self.phase.value,
            "tenant": self.tenant,
            "client": self.client,
            "notes": self.notes,
            "gateway": self.gateway,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainEntry:
        return cls(
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


@dataclass(frozen=True)
class InputIssue:
    """A problem with one input row (or the file): reported with its row number, never dropped.

    ``level`` may be given as its value ("error", "warning"); it is stored as an IssueLevel.
    """

    row: int  # 0 for the file as a whole
    level: IssueLevel
    message: str
    value: str = ""
    client: str = ""  # the row's client column: a per-client report shows that client's rows only

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", IssueLevel(self.level))

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "level": self.level.value, "message": self.message, "value": self.value,
                "client": self.client}

    def __str__(self) -> str:
        where = f"row {self.row}" if self.row else "input"
        return f"{where}: {self.level.value}: {self.message}"


@dataclass(frozen=True)
class Score:
    """What scoring made of a domain's findings (see dnsaudit.scoring for the rules)."""

    points: int  # 0-100, or -1 when nothing could be scored
    grade: str
    verdict: Verdict
    blocking: tuple[str, ...] = ()  # check ids whose failure blocks the migration
    untested: tuple[str, ...] = ()  # check ids that could not test

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        points = data.get("score")
        return cls(
            points=-1 if points is None else int(points),
            grade=data["grade"],
            verdict=Verdict(data["verdict"]),
            blocking=tuple(data.get("blocking", ())),
            untested=tuple(data.get("could_not_test", ())),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "score": self.points if self.points >= 0 else None,
            "grade": self.grade,
            "verdict": self.verdict.value,
            "blocking": list(self.blocking),
            "could_not_test": list(self.untested),
        }


@dataclass(frozen=True)
class DomainResult:
    entry: DomainEntry
    findings: tuple[Finding, ...]
    score: Score
    duration_ms: int = 0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DomainResult:
        return cls(
            entry=DomainEntry.from_dict(data["input"]),
            findings=tuple(Finding.from_dict(f) for f in data["results"]),
            score=Score.from_dict(data),
            duration_ms=data.get("duration_ms", 0),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "input": self.entry.to_dict(),
            **self.score.to_dict(),
            "duration_ms": self.duration_ms,
            "results": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class CheckInfo:
    """Catalogue entry of a check, as reports show it."""

    id: str
    area: str
    title: str
    severity: Severity
    doc: str
    references: tuple[str, ...]
    version: str
    source: str  # distribution that provides it

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckInfo:
        return cls(
            id=data["id"],
            area=data["area"],
            title=data["title"],
            severity=Severity(data["severity"]),
            doc=data.get("doc", ""),
            references=tuple(data.get("references", ())),
            version=data.get("version", ""),
            source=data.get("source", ""),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area,
            "title": self.title,
            "severity": self.severity.value,
            "doc": self.doc,
            "references": list(self.references),
            "version": self.version,
            "source": self.source,
        }


@dataclass(frozen=True)
class RunInfo:
    """Metadata of one run: enough to tell later where and how a result was obtained."""

    tool_version: str
    started: str  # ISO 8601, UTC
    finished: str
    input_file: str
    nameservers: tuple[str, ...]
    checks: tuple[CheckInfo, ...]
    input_issues: tuple[InputIssue, ...] = ()
    dns_queries: int = 0
    settings: tuple[tuple[str, Any], ...] = field(default=())
    zone_files: tuple[tuple[str, str], ...] = ()  # (zone, file) answering in place of DNS
    offline_snapshot: str = ""  # date of the snapshot that answered other names, when --offline

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunInfo:
        return cls(
            tool_version=data["tool_version"],
            started=data["started"],
            finished=data["finished"],
            input_file=data["input_file"],
            nameservers=tuple(data.get("nameservers", ())),
            checks=tuple(CheckInfo.from_dict(c) for c in data.get("checks", ())),
            input_issues=tuple(InputIssue(**i) for i in data.get("input_issues", ())),
            dns_queries=data.get("dns_queries", 0),
            settings=tuple(data.get("settings", {}).items()),
            zone_files=tuple(data.get("sources", {}).get("zone_files", {}).items()),
            offline_snapshot=data.get("sources", {}).get("offline_snapshot") or "",
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tool_version": self.tool_version,
            "started": self.started,
            "finished": self.finished,
            "input_file": self.input_file,
            "nameservers": list(self.nameservers),
            "dns_queries": self.dns_queries,
            "settings": dict(self.settings),
            "sources": {"zone_files": dict(self.zone_files), "offline_snapshot": self.offline_snapshot or None},
            "checks": [c.to_dict() for c in self.checks],
            "input_issues": [i.to_dict() for i in self.input_issues],
        }


SCHEMA_VERSION = 1


def count_totals(domains: Iterable[tuple[Verdict, Mapping[Status, int]]]) -> dict[str, Any]:
    """Domains per verdict and results per status, from each domain's verdict and status counts."""
    verdicts = {v.value: 0 for v in Verdict}
    statuses = {s.value: 0 for s in Status}
    count = 0
    for verdict, status_counts in domains:
        count += 1
        verdicts[verdict.value] += 1
        for status, n in status_counts.items():
            statuses[status.value] += n
    return {"domains": count, "verdicts": verdicts, "results": statuses}


@dataclass(frozen=True)
class AuditRun:
    """A whole run: what every report writer renders from.

    ``drift`` (a dnsaudit.drift.Drift) is set when the run was compared with an earlier
    one; it is written to drift.json, not to results.json.

    ``derived`` holds what readers compute once from this run and share (the report rows,
    the executive summary): it lives and dies with this object, a run made from it
    (``subset``, ``dataclasses.replace``) starts empty, and it is never serialised.
    """

    info: RunInfo
    domains: Sequence[DomainResult]  # a tuple, or a dnsaudit.spool.PackedResults for large runs
    drift: Any = None
    derived: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def unpacked(self) -> AuditRun:
        """This run with its domains as objects (itself when they are already)."""
        if isinstance(self.domains, tuple):
            return self
        return AuditRun(self.info, tuple(self.domains), self.drift)

    def totals(self) -> dict[str, Any]:
        return count_totals((d.score.verdict, Counter(f.status for f in d.findings)) for d in self.domains)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuditRun:
        """Read a results.json back (``dnsaudit report``); raises ValueError on another schema."""
        if data.get("schema") != "dnsaudit-results":
            raise ValueError("not a dnsaudit results file")
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"results schema version {data.get('schema_version')} is not supported "
                             f"(this dnsaudit reads version {SCHEMA_VERSION})")
        return cls(RunInfo.from_dict(data["run"]), tuple(DomainResult.from_dict(d) for d in data["domains"]))

    def subset(self, domains: Iterable[DomainResult]) -> AuditRun:
        return AuditRun(self.info, tuple(domains), self.drift)

    def to_dict_without_domains(self, totals: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything but the domains; ``totals`` when the caller has counted them already."""
        return {
            "schema": "dnsaudit-results",
            "schema_version": SCHEMA_VERSION,
            "run": self.info.to_dict(),
            "totals": totals if totals is not None else self.totals(),
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.to_dict_without_domains(), "domains": [d.to_dict() for d in self.domains]}
