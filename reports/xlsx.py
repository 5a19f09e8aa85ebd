"""report.xlsx: the scored workbook a consultant hands to a client.

Sheets: Summary (one row per domain, worst first), Findings (every result that is not a
pass or a skip, with the record to publish), Records (the DNS answers behind the findings), Checks
(the catalogue) and Run (when, where from, with what, and the input rows that could not
be used); with ``--compare``, Changes after Summary. Every cell written from DNS, HTTP or the
input is stored as text: a TXT record ``=HYPERLINK(...)`` shows as those characters and never
becomes a formula. The sheets stream through ``reports.spreadsheet`` (why not openpyxl: see there).
"""

from __future__ import annotations

from typing import BinaryIO

from dnsaudit.model import AuditRun, Status, Verdict
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.spreadsheet import BOLD, Workbook
from dnsaudit.reports.view import domain_rows, ordered_findings, records, status_label
from dnsaudit.reports.view import totals as view_totals

VERDICT_FILL = {
    Verdict.READY: "C6EFCE",
    Verdict.READY_WITH_WARNINGS: "FFEB9C",
    Verdict.BLOCKED: "FFC7CE",
    Verdict.COULD_NOT_ASSESS: "D9D9D9",
}
STATUS_FILL = {"fail": "FFC7CE", "warn": "FFEB9C", "could not test": "D9D9D9", "info": "DDEBF7", "pass": "C6EFCE"}

SUMMARY = ["Client", "Domain", "Score", "Grade", "Verdict", "Fail", "Warn", "Could not test", "Info", "Pass",
           "Skip", "First problem", "How to fix it"]
FINDINGS = ["Client", "Domain", "Check", "Area", "Severity", "Status", "Message", "Observed", "Expected",
            "Remediation (record to publish)"]
RECORDS = ["Client", "Domain", "Name", "Type", "Answer", "Via CNAME"]
CHANGES = ["Regression", "Domain", "Check", "Change", "Before", "After", "Observed before", "Observed after",
           "Cause"]
CHECKS = ["Check", "Title", "Area", "Severity", "What it checks, why it matters, how to fix", "References",
          "Version", "Provided by"]


class XlsxReport(ReportWriter):
    format = "xlsx"
    filename = "report.xlsx"

    def stream(self, run: AuditRun, title: str, handle: BinaryIO) -> None:
        book = Workbook(handle, title=title, creator=f"dnsaudit {run.info.tool_version}")
        self._summary(book, run)
        if run.drift is not None:
            self._changes(book, run.drift)
        self._findings_and_records(book, run)
        self._checks(book, run)
        self._run(book, run, title)
        book.close()

    # -- sheets ------------------------------------------------------------------------------

    def _summary(self, book: Workbook, run: AuditRun) -> None:
        ws = book.sheet("Summary", [18, 30, 8, 7, 20, 6, 6, 9, 6, 6, 6, 70, 60], header=SUMMARY)
        ws.colour_column(5, {v.value: colour for v, colour in VERDICT_FILL.items()})
        for row in domain_rows(run):
            c, top = row.counts, row.top
            ws.append([
                row.entry.client, row.entry.label, row.score.points if row.score.points >= 0 else None,
                row.score.grade, row.score.verdict.value, c[Status.FAIL], c[Status.WARN], c[Status.ERROR], c[Status.INFO],
                c[Status.PASS], c[Status.SKIP], f"{top.check_id}: {top.message}" if top else "",
                top.remediation if top else "",
            ])

    def _findings_and_records(self, book: Workbook, run: AuditRun) -> None:
        """Both sheets in one pass over the domains (each domain read once: see PackedResults)."""
        findings = book.sheet("Findings", [18, 28, 20, 12, 9, 13, 70, 40, 30, 60], header=FINDINGS, wrap=True)
        findings.colour_column(6, STATUS_FILL)
        answers = book.sheet("Records", [18, 28, 40, 8, 80, 40], header=RECORDS, spooled=True)
        for row in domain_rows(run):
            d = row.result
            for f in ordered_findings(d):
                if f.status in (Status.PASS, Status.SKIP):  # skips stay in findings.csv and results.json
                    continue
                findings.append([d.entry.client, d.entry.label, f.check_id, f.area, f.severity.value,
                                 status_label(f.status), f.message, f.observed, f.expected, f.remediation])
            for r in records(d):
                answers.append([d.entry.client, d.entry.label, r.name, r.type, r.answer, r.via])

    def _changes(self, book: Workbook, drift) -> None:
        """Since the compared run: domains added and removed, checks that moved, scores."""
        colour = "C00000" if drift.regressed else "FFC000" if drift.changed else "70AD47"
        ws = book.sheet("Changes", [11, 28, 20, 14, 12, 12, 50, 50, 22], header=CHANGES, wrap=True, tab_colour=colour)
        rows = [["", d, "", "domain added", "", "", "", "", ""] for d in drift.added]
        rows += [["", d, "", "domain removed", "", "", "", "", ""] for d in drift.removed]
        rows += [["yes" if c.regression else "", c.domain, c.check_id, c.kind, c.before, c.after,
                  c.before_observed, c.after_observed, f"check updated {c.check_updated}" if c.check_updated
                  else "DNS or endpoint"] for c in drift.changes]
        rows += [["", s.domain, "score", "score", _blank(s.before), _blank(s.after), s.verdict_before,
                  s.verdict_after, ""] for s in drift.scores]
        for values in rows:
            ws.append(values)

    def _checks(self, book: Workbook, run: AuditRun) -> None:
        ws = book.sheet("Checks", [20, 45, 12, 9, 90, 50, 8, 12], header=CHECKS, wrap=True)
        for c in run.info.checks:
            ws.append([c.id, c.title, c.area, c.severity.value, c.doc, "\n".join(c.references), c.version, c.source])

    def _run(self, book: Workbook, run: AuditRun, title: str) -> None:
        info = run.info
        totals = view_totals(run)
        facts = [
            ("Report", title), ("Tool", f"dnsaudit {info.tool_version}"), ("Started", info.started),
            ("Finished", info.finished), ("Input file", info.input_file),
            ("DNS servers asked", ", ".join(info.nameservers) or "none (offline)"),
            ("DNS queries sent", info.dns_queries),
            *((f"Zone {zone} answered from", file) for zone, file in info.zone_files),
            *((("Other names answered from", f"offline snapshot dated {info.offline_snapshot}; no probes"),)
              if info.offline_snapshot else ()),
            ("Domains", totals["domains"]),
            *((f"Domains {v}", n) for v, n in totals["verdicts"].items()),
            *((f"Setting {k}", str(v)) for k, v in info.settings),
            ("Check versions", ", ".join(f"{c.id} v{c.version}" for c in info.checks)),
            *((("Compared with", f"run {run.drift.before_run} ({run.drift.before_started}): {run.drift.verdict}"),)
              if run.drift is not None else ()),
        ]
        ws = book.sheet("Run", [24, 40, 80, 30])
        for fact in facts:
            ws.append(list(fact))
        ws.append([])
        ws.append(["Input rows that could not be used or were changed"], style=BOLD)
        ws.append(["Row", "Level", "Problem", "Value"], style=BOLD)
        for issue in info.input_issues:
            ws.append([issue.row or "file", issue.level, issue.message, issue.value])
        if not info.input_issues:
            ws.append(["", "", "none"])


def _blank(value):
    return "-" if value is None else value
