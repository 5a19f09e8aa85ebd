"""The results' values: what checks produce, what scoring reads and what reports render.

Everything here is frozen and built from plain values (str, int, tuples, ``Evidence``), so
a result can be serialised to JSON (``dnsaudit.results_json``, where every ``to_dict``
leads; ``dnsaudit.results_read`` reads it back), compared between runs for drift and handed
to any report writer without it reaching back into the network layer. Plugin authors import these from
``dnsaudit.model``.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from dnsaudit import results_json
from dnsaudit.evidence import Evidence
from dnsaudit.vocabulary import Cloud, ErrorReason, IssueLevel, Phase, Severity, Status, Verdict


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
        """The JSON form (``dnsaudit.results_json.waiver_to_dict``)."""
        return results_json.waiver_to_dict(self)


@dataclass(frozen=True, slots=True)  # tens of thousands per run: no __dict__ each
class Finding:
    """One fact a check established about one domain, with its verdict.

    ``observed`` and ``expected`` are short human-readable values; ``remediation`` is the
    exact record to publish in zone-file syntax (empty when nothing needs doing);
    ``evidence`` lists the DNS questions and answers (``Evidence``) the verdict rests on, normalised
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
    evidence: tuple[Evidence, ...] = ()
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
        """The JSON form (``dnsaudit.results_json.finding_to_dict``)."""
        return results_json.finding_to_dict(self)


def _unpickle_finding(check_id: str, area: str, severity: Severity, status: Status, message: str, observed: str,
                      expected: str, remediation: str, evidence: tuple[Evidence, ...], reason: ErrorReason | None,
                      waiver: WaiverNote | None, trace: str) -> Finding:
    """A finding as pickled by ``Finding.__reduce__``, without ``__init__``: it was checked
    when it was made, and every report writer reads each domain's findings back (the frozen
    dataclass's ``__init__`` took 4.9 µs a finding, this 0.9 µs: 30 findings a domain)."""
    finding = _new(Finding)
    s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11 = _SETTERS
    s0(finding, sys.intern(check_id) if check_id.__class__ is str else check_id)  # a plugin's StrEnum id, say
    s1(finding, sys.intern(area) if area.__class__ is str else area)
    s2(finding, severity)
    s3(finding, status)
    s4(finding, message)
    s5(finding, observed)
    s6(finding, expected)
    s7(finding, remediation)
    s8(finding, evidence)
    s9(finding, reason)
    s10(finding, waiver)
    s11(finding, trace)
    return finding


def made_finding(check_id: str, area: str, severity: Severity, status: Status, message: str, observed: str,
                 expected: str, remediation: str, evidence: tuple[Evidence, ...],
                 reason: ErrorReason | None) -> Finding:
    """``Finding(...)`` as a check makes one (``Check.finding``: no waiver, no trace yet), with
    the same checks (``__post_init__``), set as ``_unpickle_finding`` sets them: the frozen
    dataclass's ``__init__`` sets each field through ``object.__setattr__``, and a worker makes
    ~27 findings a domain."""
    finding = _unpickle_finding(check_id, area, severity, status, message, observed, expected, remediation,
                                evidence, reason, None, "")
    finding.__post_init__()
    return finding


_new = object.__new__
_SETTERS = tuple(getattr(Finding, f.name).__set__ for f in fields(Finding))  # its slots, in __reduce__'s order


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
        """The JSON form (``dnsaudit.results_json.entry_to_dict``)."""
        return results_json.entry_to_dict(self)


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
        """The JSON form (``dnsaudit.results_json.issue_to_dict``)."""
        return results_json.issue_to_dict(self)

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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``dnsaudit.results_json.score_to_dict``)."""
        return results_json.score_to_dict(self)


@dataclass(frozen=True)
class DomainResult:
    entry: DomainEntry
    findings: tuple[Finding, ...]
    score: Score
    duration_ms: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``dnsaudit.results_json.domain_to_dict``)."""
        return results_json.domain_to_dict(self)


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``dnsaudit.results_json.check_to_dict``)."""
        return results_json.check_to_dict(self)


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``dnsaudit.results_json.info_to_dict``)."""
        return results_json.info_to_dict(self)


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

    def subset(self, domains: Iterable[DomainResult]) -> AuditRun:
        return AuditRun(self.info, tuple(domains), self.drift)

    def to_dict_without_domains(self, totals: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything but the domains; ``totals`` when the caller has counted them already."""
        return results_json.run_header(self, totals)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``dnsaudit.results_json.run_to_dict``)."""
        return results_json.run_to_dict(self)
