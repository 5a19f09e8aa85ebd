"""What every human-facing report shows, derived from the results model alone.

Ordering (worst first), counts, the first problem, the DNS records behind the findings and
the text safety rules for spreadsheets live here once, so the workbook, the HTML page and
the CSV agree on every number.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from dnsaudit.domains import WILDCARD_PROBE_LABEL
from dnsaudit.model import AuditRun, DomainEntry, DomainResult, Finding, Score, Status, Verdict, count_totals
from dnsaudit.scoring import top_problem
from dnsaudit.text import report_text

VERDICT_ORDER = {Verdict.BLOCKED: 0, Verdict.COULD_NOT_ASSESS: 1, Verdict.READY_WITH_WARNINGS: 2, Verdict.READY: 3}
STATUS_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.INFO: 3, Status.SKIP: 4, Status.PASS: 5}
STATUS_LABEL = {Status.ERROR: "could not test"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CELL_LIMIT = 32000  # Excel holds 32,767 characters per cell


def ordered_findings(domain: DomainResult) -> list[Finding]:
    return sorted(domain.findings, key=lambda f: (STATUS_ORDER[f.status], -f.severity.rank, f.check_id))


def status_counts(domain: DomainResult) -> Counter:
    return Counter(f.status for f in domain.findings)


def check_status(domain: DomainResult) -> dict[str, Status]:
    """Each check's worst status on the domain (the way scoring folds a check's findings)."""
    worst: dict[str, Status] = {}
    for f in domain.findings:
        if f.check_id not in worst or f.status.rank > worst[f.check_id].rank:
            worst[f.check_id] = f.status
    return worst


def status_label(status: Status) -> str:
    return STATUS_LABEL.get(status, status.value)


def finding_label(finding: Finding) -> str:
    """The status as a person reads it: a waived problem says so (its status is kept)."""
    label = status_label(finding.status)
    return f"{label} (waived)" if finding.waived else label


def score_text(score: Score) -> str:
    """The score as the reports print it: "-" for a domain that could not be scored."""
    return str(score.points) if score.points >= 0 else "-"


@dataclass(frozen=True)
class DomainRow:
    """One line of a summary table, and the way to the domain's whole result.

    ``result`` is read from the run each time it is used: when the run's domains are packed
    (``PackedResults``) a row holds of its findings only its first problem, the waived ones
    and its problems in short (``problems``: check, severity, status and message, no evidence;
    ~2.7 KB a domain in bench/run.py's world), so walking the rows keeps one domain in memory
    at a time.
    """

    entry: DomainEntry
    score: Score
    counts: Counter
    top: Finding | None
    source: Sequence[DomainResult] = field(repr=False, compare=False)
    index: int = 0
    waivers: tuple[Finding, ...] = ()  # findings a waiver of the policy file matched (running or expired)
    statuses: dict[str, Status] = field(default_factory=dict)  # each check's worst status (check_status)
    problems: tuple[Finding, ...] = ()  # the fails and warns no waiver covers, in short (``problems``)

    @property
    def result(self) -> DomainResult:
        return self.source[self.index]

    @property
    def score_text(self) -> str:
        return score_text(self.score)

    @property
    def untested(self) -> bool:
        """Whether every check that ran could not test (``digest.untestable`` is not "")."""
        c = self.counts
        return bool(c[Status.ERROR]) and not (c[Status.FAIL] or c[Status.WARN] or c[Status.INFO] or c[Status.PASS])


def domain_rows(run: AuditRun) -> list[DomainRow]:
    """The run's domains worst first, with counts and first problem: computed once per run
    (one pass over the domains), as every report (and the workbook for three sheets) walks
    them, and kept in the run's own ``derived`` values (forked writers inherit them).
    ``reports.scope`` gives a run for people the rows of the run it cuts, with the few
    findings a row holds cleaned, instead of a second pass."""
    rows = run.derived.get(ROWS_KEY)
    if rows is None:
        rows = rows_from_parts(run, ((index, row_parts(d)) for index, d in enumerate(run.domains)))
    return rows


def rows_in_input_order(run: AuditRun) -> list[DomainRow]:
    """The run's rows (``domain_rows``) in the order of its domains, the input's."""
    return sorted(domain_rows(run), key=lambda row: row.index)


def row_parts(domain: DomainResult) -> tuple:
    """What a row holds of ``domain`` (picklable: a pass over the domains may run in another process)."""
    return (domain.entry, domain.score, status_counts(domain), top_problem(domain.findings),
            tuple(f for f in domain.findings if f.waiver is not None), check_status(domain), problems(domain))


def problems(domain: DomainResult) -> tuple[Finding, ...]:
    """The domain's fails and warns that no running waiver covers, each without its evidence,
    values and fix: what the exit code and ``--quiet``'s lines read (``dnsaudit.cli.exits``),
    so that after the reports the command does not decode every domain again (a run with
    worker processes keeps them packed: ~0.3 ms a domain, 3 s at 10,000, in one process)."""
    return tuple(Finding(f.check_id, f.area, f.severity, f.status, f.message)
                 for f in domain.findings if f.status in _PROBLEMS and not f.waived)


_PROBLEMS = (Status.FAIL, Status.WARN)


def rows_from_parts(run: AuditRun, parts) -> list[DomainRow]:
    """The rows of ``run`` from (index, ``row_parts``) of each of its domains; kept by the run."""
    rows = [DomainRow(entry, score, counts, top, run.domains, index, waivers, statuses, problems)
            for index, (entry, score, counts, top, waivers, statuses, problems) in parts]
    rows.sort(key=lambda r: (VERDICT_ORDER[r.score.verdict], r.score.points, r.entry.domain))
    run.derived[ROWS_KEY] = rows
    return rows


ROWS_KEY = "reports.view.domain_rows"  # the key of the rows in AuditRun.derived


@dataclass(frozen=True)
class RecordLine:
    name: str
    type: str
    answer: str
    via: str = ""


def records(domain: DomainResult) -> list[RecordLine]:
    """The DNS answers the domain's findings rest on, once each, in a stable order.

    The name a check made up to detect a wildcard (``dnsaudit-wildcard-probe-….contoso.com``)
    is not something the domain's owner published: with no answer it is left out (there is no
    wildcard), with one it is shown as the wildcard ``*.contoso.com.`` that gave it."""
    seen: dict[tuple[str, str], RecordLine] = {}
    for finding in domain.findings:
        for evidence in finding.evidence:
            if evidence.is_answer and (evidence.name, evidence.type) not in seen:
                name, via = evidence.name, " -> ".join(evidence.cname_chain)
                if name.startswith(_PROBE):
                    if not evidence.ok:
                        continue
                    name, via = "*." + name[len(_PROBE):], "; ".join(filter(None, (via, _WILDCARD_SAYS)))
                seen[(evidence.name, evidence.type)] = RecordLine(name, evidence.type, evidence.answer_text(), via)
    return sorted(seen.values(), key=lambda r: (r.name.count("."), r.name, r.type))


_PROBE = WILDCARD_PROBE_LABEL + "."
_WILDCARD_SAYS = "a wildcard: the answer for any name not published"


def totals(run: AuditRun) -> dict:
    """``run.totals()``, from the rows (no second pass over the domains)."""
    return count_totals((row.score.verdict, row.counts) for row in domain_rows(run))


def waiver_lines(run: AuditRun) -> list[tuple[DomainRow, Finding]]:
    """Every result a waiver matched, running ones first, then by domain as the summary orders them."""
    lines = [(row, f) for row in domain_rows(run) for f in row.waivers]
    return sorted(lines, key=lambda line: line[1].waiver.expired)  # stable: summary order within


def clients(run: AuditRun) -> list[str]:
    return sorted({row.entry.client for row in domain_rows(run) if row.entry.client})


def sole_client(run: AuditRun) -> str | None:
    """The client every domain of the run belongs to ("" for none), or None when they differ.

    A report with one client (``clients/<name>/``, or a run of one client's list) shows no
    Client column or filter: one name on every row tells nothing; its title or first line
    names the client once instead."""
    names = {row.entry.client for row in domain_rows(run)}
    return names.pop() if len(names) == 1 else None


def spreadsheet_text(value: object) -> object:
    """A value safe for a spreadsheet cell: valid XML 1.0, no control characters, bidi controls
    visible, capped below Excel's cell size (``dnsaudit.text.report_text``).

    Formula neutralisation is the writer's job (openpyxl marks the cell as a string; CSV
    prefixes a quote), because each format has its own way.
    """
    if not isinstance(value, str):
        return value
    return report_text(value, CELL_LIMIT)


def looks_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def slug(text: str) -> str:
    """A file-name-safe form of a client name."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")
    return cleaned[:60] or "client"
