"""report.xlsx: the scored workbook a consultant hands to a client.

Sheets: Summary (one row per domain, worst first), Findings (every result that is not a
pass or a skip, with the record to publish), Records (the DNS answers behind the findings), Checks
(the catalogue) and Run (when, where from, with what, and the input rows that could not
be used). Every cell written from DNS, HTTP or the input is stored as text: a TXT record
``=HYPERLINK(...)`` shows as those characters and never becomes a formula.
"""

from __future__ import annotations

import copy
import io

from dnsaudit.model import AuditRun, Status, Verdict
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.view import (
    domain_rows,
    looks_like_formula,
    ordered_findings,
    records,
    spreadsheet_text,
    status_label,
)

VERDICT_FILL = {
    Verdict.READY: "C6EFCE",
    Verdict.READY_WITH_WARNINGS: "FFEB9C",
    Verdict.BLOCKED: "FFC7CE",
    Verdict.COULD_NOT_ASSESS: "D9D9D9",
}
STATUS_FILL = {"fail": "FFC7CE", "warn": "FFEB9C", "could not test": "D9D9D9", "info": "DDEBF7", "pass": "C6EFCE"}
HEADER_FILL = "1F4E78"

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

    def render(self, run: AuditRun, title: str = "dnsaudit report") -> bytes:
        from openpyxl import Workbook

        book = Workbook()
        book.properties.title = title
        book.properties.creator = f"dnsaudit {run.info.tool_version}"
        summary = book.active
        summary.title = "Summary"
        self._summary(summary, run)
        self._findings(book.create_sheet("Findings"), run)
        self._records(book.create_sheet("Records"), run)
        if run.drift is not None:
            self._changes(book.create_sheet("Changes", 1), run.drift)
        self._checks(book.create_sheet("Checks"), run)
        self._run(book.create_sheet("Run"), run, title)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    # -- sheets ------------------------------------------------------------------------------

    def _summary(self, ws, run: AuditRun) -> None:
        rows = []
        for row in domain_rows(run):
            d, c, top = row.result, row.counts, row.top
            rows.append([
                d.entry.client, d.entry.label, d.score.points if d.score.points >= 0 else None, d.score.grade,
                d.score.verdict.value, c[Status.FAIL], c[Status.WARN], c[Status.ERROR], c[Status.INFO],
                c[Status.PASS], c[Status.SKIP], f"{top.check_id}: {top.message}" if top else "",
                top.remediation if top else "",
            ])
        _verdict_colours(ws, column="E", rows=len(rows))
        _table(ws, SUMMARY, rows, widths=[18, 30, 8, 7, 20, 6, 6, 9, 6, 6, 6, 70, 60])

    def _findings(self, ws, run: AuditRun) -> None:
        rows = []
        for row in domain_rows(run):
            d = row.result
            for f in ordered_findings(d):
                if f.status in (Status.PASS, Status.SKIP):  # skips stay in findings.csv and results.json
                    continue
                rows.append([d.entry.client, d.entry.label, f.check_id, f.area, f.severity.value,
                             status_label(f.status), f.message, f.observed, f.expected, f.remediation])
        _status_colours(ws, column="F", rows=len(rows))
        _table(ws, FINDINGS, rows, widths=[18, 28, 20, 12, 9, 13, 70, 40, 30, 60], wrap=True)

    def _records(self, ws, run: AuditRun) -> None:
        rows = [[row.result.entry.client, row.result.entry.label, r.name, r.type, r.answer, r.via]
                for row in domain_rows(run) for r in records(row.result)]
        _table(ws, RECORDS, rows, widths=[18, 28, 40, 8, 80, 40])

    def _changes(self, ws, drift) -> None:
        """Since the compared run: domains added and removed, checks that moved, scores."""
        rows = [["", d, "", "domain added", "", "", "", "", ""] for d in drift.added]
        rows += [["", d, "", "domain removed", "", "", "", "", ""] for d in drift.removed]
        rows += [["yes" if c.regression else "", c.domain, c.check_id, c.kind, c.before, c.after,
                  c.before_observed, c.after_observed, f"check updated {c.check_updated}" if c.check_updated
                  else "DNS or endpoint"] for c in drift.changes]
        rows += [["", s.domain, "score", "score", _blank(s.before), _blank(s.after), s.verdict_before,
                  s.verdict_after, ""] for s in drift.scores]
        _table(ws, CHANGES, rows, widths=[11, 28, 20, 14, 12, 12, 50, 50, 22], wrap=True)
        ws.sheet_properties.tabColor = "C00000" if drift.regressed else "FFC000" if drift.changed else "70AD47"

    def _checks(self, ws, run: AuditRun) -> None:
        rows = [[c.id, c.title, c.area, c.severity.value, c.doc, "\n".join(c.references), c.version, c.source]
                for c in run.info.checks]
        _table(ws, CHECKS, rows, widths=[20, 45, 12, 9, 90, 50, 8, 12], wrap=True)

    def _run(self, ws, run: AuditRun, title: str) -> None:
        from openpyxl.styles import Font

        info = run.info
        totals = run.totals()
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
        for letter, width in zip("ABCD", (24, 40, 80, 30)):
            ws.column_dimensions[letter].width = width
        for fact in facts:
            _append(ws, list(fact))
        ws.append([])
        ws.append([_styled(ws, "Input rows that could not be used or were changed", font=Font(bold=True))])
        ws.append([_styled(ws, h, font=Font(bold=True)) for h in ("Row", "Level", "Problem", "Value")])
        for issue in info.input_issues:
            _append(ws, [issue.row or "file", issue.level, issue.message, issue.value])
        if not info.input_issues:
            _append(ws, ["", "", "none"])


# -- helpers ---------------------------------------------------------------------------------


def _blank(value):
    return "-" if value is None else value


def _append(ws, values: list, template=None) -> None:
    """Append a row; text that a spreadsheet would take for a formula is forced to be text.

    ``template`` is a styled cell whose style every cell of the row takes (sharing one
    registered style is what keeps large workbooks fast).
    """
    ws.append([_text_cell(ws, v, template) if looks_like_formula(v)
               else (_like(ws, spreadsheet_text(v), template) if template is not None else spreadsheet_text(v))
               for v in values])


def _styled(ws, value, **style):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    for name, setting in style.items():
        if setting is not None:
            setattr(cell, name, setting)
    return cell


def _like(ws, value, template):
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    cell._style = copy.copy(template._style)
    return cell


def _text_cell(ws, value: str, template=None):
    cell = _like(ws, spreadsheet_text(value), template) if template is not None else _styled(ws, spreadsheet_text(value))
    cell.data_type = "s"  # stored as a string, never as a formula
    cell.quotePrefix = True  # and Excel keeps it text when someone edits it
    return cell


def _table(ws, headers: list[str], rows: list[list], widths: list[int], wrap: bool = False) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"  # printed: the header on every page, landscape, as wide as the page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, len(rows) + 1)}"
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    header_style = dict(font=Font(bold=True, color="FFFFFF"), fill=PatternFill("solid", fgColor=HEADER_FILL),
                        alignment=Alignment(vertical="center", wrap_text=True))
    ws.append([_styled(ws, h, **header_style) for h in headers])
    template = _styled(ws, None, alignment=Alignment(wrap_text=True, vertical="top")) if wrap else None
    for values in rows:
        _append(ws, values, template)


def _verdict_colours(ws, column: str, rows: int) -> None:
    _colour_rule(ws, column, rows, {v.value: colour for v, colour in VERDICT_FILL.items()})


def _status_colours(ws, column: str, rows: int) -> None:
    _colour_rule(ws, column, rows, STATUS_FILL)


def _colour_rule(ws, column: str, rows: int, colours: dict[str, str]) -> None:
    """Conditional formatting, so colours follow the value when people sort or edit."""
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import PatternFill

    if rows == 0:
        return
    area = f"{column}2:{column}{rows + 1}"
    for value, colour in colours.items():
        ws.conditional_formatting.add(
            area, CellIsRule(operator="equal", formula=[f'"{value}"'], fill=PatternFill("solid", bgColor=colour)))
