"""The results model, as plugin authors and report writers import it.

Three modules hold it, one job each, and everything is re-exported here:

* ``dnsaudit.vocabulary``: the enums (Status, Severity, ErrorReason, Cloud, Phase,
  Verdict, IssueLevel), and ``dnsaudit.net.outcome.Outcome`` for a DNS answer's outcome;
* ``dnsaudit.evidence`` and ``dnsaudit.findings``: the values (Evidence, Finding,
  DomainEntry, DomainResult, Score, RunInfo, AuditRun, ...);
* ``dnsaudit.results_json``: their JSON form (results.json, the history, the workers),
  which ``results.schema.json`` describes, and ``dnsaudit.results_read``, its reader.
"""

from __future__ import annotations

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
                               count_totals,
)
from dnsaudit.net.outcome import Outcome
from dnsaudit.results_json import SCHEMA_VERSION
from dnsaudit.vocabulary import Cloud, ErrorReason, IssueLevel, Phase, Severity, Status, Verdict

__all__ = ["SCHEMA_VERSION", "AuditRun", "CheckInfo", "Cloud", "DomainEntry", "DomainResult", "ErrorReason",
           "Evidence", "Finding", "InputIssue", "IssueLevel", "Outcome", "Phase", "RunInfo", "Score", "Severity",
           "Status", "Verdict", "WaiverNote", "count_totals"]
