"""report.xlsx: the scored workbook a consultant hands to a client.

Sheets: Overview (the executive summary: verdicts with a bar chart, the most common
problems and what blocks cutover, in words), Summary (one row per domain, worst first,
with client and notes), Findings (every result that is not a pass or a skip, with the
record to publish; a domain nothing could be tested on is one row), Matrix (domain ×
check, the status in each cell), Records (the DNS answers behind the findings), Checks
(the catalogue) and Run (when, where from, with what, and the input rows that could not be
used); with ``--compare``, Changes after Summary; when the policy file waived results, Waivers
(what, why, who, until when). Every cell written from DNS, HTTP or the
input is stored as text: a TXT record ``=HYPERLINK(...)`` shows as those characters and never
becomes a formula. The sheets stream through ``reports.spreadsheet`` (why not openpyxl: see
there); each sheet's widths stay within its ``PRINT_WIDTH`` so that it prints one page wide
at a legible size, long text wrapping instead.
"""

from __future__ import annotations

from typing import BinaryIO

from dnsaudit.markup import doc_text
from dnsaudit.model import AuditRun, DomainResult, Status, Verdict
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.digest import CELL, executive, fix_advice, untestable
from dnsaudit.reports.prerender import reader
from dnsaudit.reports.spreadsheet import BOLD, HEADER, TITLE, Cells, Workbook
from dnsaudit.reports.spreadsheet_chart import BarChart
from dnsaudit.reports.view import (
    check_status,
    domain_rows,
    finding_label,
    ordered_findings,
    records,
    sole_client,
    status_label,
    waiver_lines,
)
from dnsaudit.text import plural, readable_time

VERDICT_FILL = {
    Verdict.READY: "C6EFCE",
    Verdict.READY_WITH_WARNINGS: "FFEB9C",
    Verdict.BLOCKED: "FFC7CE",
    Verdict.COULD_NOT_ASSESS: "D9D9D9",
}
VERDICT_BAR = {Verdict.READY: "1E7B34", Verdict.READY_WITH_WARNINGS: "C9A227", Verdict.BLOCKED: "B42318",
               Verdict.COULD_NOT_ASSESS: "8C959F"}
STATUS_FILL = {"fail": "FFC7CE", "warn": "FFEB9C", "could not test": "D9D9D9", "info": "DDEBF7", "pass": "C6EFCE"}

SUMMARY = ["Client", "Domain", "Notes", "Score", "Grade", "Verdict", "Fail", "Warn", "Could not test", "Info", "Pass",
           "Skip", "First problem", "How to fix it"]
FINDINGS = ["Client", "Domain", "Notes", "Check", "Severity", "Status", "Message", "Observed", "Expected",
            "Remediation (record to publish)"]
RECORDS = ["Client", "Domain", "Name", "Type", "Answer", "Via CNAME"]
CHANGES = ["Regression", "Domain", "Check", "Change", "Before", "After", "Observed before", "Observed after",
           "Cause"]
WAIVERS = ["Client", "Domain", "Check", "Status", "Message", "Waived because", "Owner", "Until", "State",
           "Written in"]
CHECKS = ["Check", "Title", "Area", "Severity", "What it checks, why it matters, how to fix", "References",
          "Version", "Provided by"]
MATRIX_HEAD = ["Client", "Domain", "Verdict"]
VERDICT_ORDER = [Verdict.READY, Verdict.READY_WITH_WARNINGS, Verdict.BLOCKED, Verdict.COULD_NOT_ASSESS]


FINDINGS_WIDTHS = [12, 19, 12, 16, 8, 9, 36, 22, 16, 30]
FINDINGS_MONO = (8, 10)
RECORDS_WIDTHS = [14, 24, 34, 7, 70, 25]
RECORDS_MONO = (5,)


def matrix_widths(checks: list[str]) -> list[float]:
    return [12, 20, 11, *([6] * len(checks))]


class XlsxReport(ReportWriter):
    format = "xlsx"
    filename = "report.xlsx"
    cost = 6  # the rows of Findings, Matrix and Records are rendered ahead (prerender); zipping them is not (html.py)
    prerender = True

    def __init__(self) -> None:
        self._ahead: tuple | None = None  # the check ids and the Cells of the three sheets, for render_domain

    def stream(self, run: AuditRun, title: str, handle: BinaryIO) -> None:
        book = Workbook(handle, title=title, creator=f"dnsaudit {run.info.tool_version}")
        self._overview(book, run, title)
        self._summary(book, run)
        if run.drift is not None:
            self._changes(book, run.drift)
        self._findings_matrix_records(book, run)
        self._waivers(book, run)
        self._checks(book, run)
        self._run(book, run, title)
        book.close()

    # -- sheets ------------------------------------------------------------------------------

    def _overview(self, book: Workbook, run: AuditRun, title: str) -> None:
        """The executive summary: what a client's manager reads first."""
        summary = executive(run)
        fixes = {c.id: fix_advice(c.doc) for c in run.info.checks}
        ws = book.sheet("Overview", [58, 10, 22, 90], wrap=True)
        ws.append([title], style=TITLE, span=4, height=22)
        client = sole_client(run)
        ws.append([f"{plural(summary.domains, 'domain')}{f' of {client}' if client else ''} audited "
                   f"{readable_time(run.info.started)} with dnsaudit {run.info.tool_version}"],
                  span=4)
        ws.append([])
        for sentence in summary.sentences():
            ws.append([sentence], span=4)
        ws.append([])
        ws.append(["Verdict", "Domains"], style=HEADER)
        first = ws.rows + 1
        for verdict in VERDICT_ORDER:
            ws.append([verdict.value, summary.verdicts[verdict.value]])
        ws.chart = BarChart("Domains per verdict", ws.name, first, tuple(v.value for v in VERDICT_ORDER),
                            tuple(summary.verdicts[v.value] for v in VERDICT_ORDER),
                            tuple(VERDICT_BAR[v] for v in VERDICT_ORDER), anchor=(2, first - 2, 3, first + 10),
                            to_offset=3_600_000)  # ~60 % into column D: the print area stays A-D
        for _ in range(8):  # room for the chart beside and under the table
            ws.append([])
        ws.append(["Most common problems (not yet true for …)", "Domains", "Check", "How to fix it"], style=HEADER)
        for p in summary.top:
            ws.append([p.title, p.domains, p.check_id, fixes.get(p.check_id, "")], style=None)
        if not summary.top:
            ws.append(["none: no check warned or failed"])
        ws.append([])
        ws.append(["What blocks cutover (a critical or high check failed)", "Domains", "Check", "How to fix it"],
                  style=HEADER)
        for p in summary.blockers:
            ws.append([p.title, p.domains, p.check_id, fixes.get(p.check_id, "")])
        if not summary.blockers:
            ws.append(["nothing: no domain is blocked"])

    def _summary(self, book: Workbook, run: AuditRun) -> None:
        ws = _Table(book, "Summary", [13, 25, 14, 6, 6, 13, 5, 5, 7, 5, 5, 5, 35, 36], SUMMARY, run, wrap=True,
                    mono=(14,))
        ws.colour_column(6, {v.value: colour for v, colour in VERDICT_FILL.items()})
        for row in domain_rows(run):
            c, top = row.counts, row.top
            ws.append([
                row.entry.client, row.entry.label, row.entry.notes, row.score.points if row.score.points >= 0 else None,
                row.score.grade, row.score.verdict.value, c[Status.FAIL], c[Status.WARN], c[Status.ERROR],
                c[Status.INFO], c[Status.PASS], c[Status.SKIP], f"{top.check_id}: {top.message}" if top else "",
                top.remediation if top else "",
            ])

    def _findings_matrix_records(self, book: Workbook, run: AuditRun) -> None:
        """Three sheets in one pass over the domains (each domain read once: see PackedResults),
        from the rows rendered ahead where there are (``render_domain``)."""
        findings = _Table(book, "Findings", FINDINGS_WIDTHS, FINDINGS, run, wrap=True, mono=FINDINGS_MONO)
        findings.colour_column(6, STATUS_FILL)
        checks = [c.id for c in run.info.checks]
        matrix = _Table(book, "Matrix", matrix_widths(checks), MATRIX_HEAD + checks, run, wrap=True,
                        spooled=True, upright_header=True, title_columns=len(MATRIX_HEAD))
        matrix.colour_column(3, {v.value: colour for v, colour in VERDICT_FILL.items()})
        for column in range(4, 4 + len(checks)):
            matrix.colour_column(column, STATUS_FILL)
        answers = _Table(book, "Records", RECORDS_WIDTHS, RECORDS, run, wrap=True, spooled=True, mono=RECORDS_MONO)
        piece = reader(run, self)
        skip = findings.skip
        for row in domain_rows(run):
            data = None if piece is None else piece(row.index)
            if data is not None:
                found, matrixed, answered = data.decode("utf-8", "surrogatepass").split(SHEETS)
                findings.sheet.append_encoded(found, skip)
                matrix.sheet.append_encoded(matrixed, skip)
                answers.sheet.append_encoded(answered, skip)
                continue
            found, matrixed, answered = _domain_rows(row.result, checks)
            for values in found:
                findings.append(values)
            matrix.append(matrixed)
            for values in answered:
                answers.append(values)

    def render_domain(self, run: AuditRun, domain: DomainResult) -> bytes:
        """The domain's rows of Findings, Matrix and Records (``Cells.encode``, with the
        Client column: a sheet without it leaves it out), ``SHEETS`` between them."""
        checks = [c.id for c in run.info.checks]
        if self._ahead is None or self._ahead[0] != checks:
            self._ahead = (checks, Cells(FINDINGS_WIDTHS, wrap=True, mono=FINDINGS_MONO),
                           Cells(matrix_widths(checks), wrap=True), Cells(RECORDS_WIDTHS, wrap=True, mono=RECORDS_MONO))
        _, found_cells, matrix_cells, records_cells = self._ahead
        found, matrixed, answered = _domain_rows(domain, checks)
        return SHEETS.join((found_cells.encode(found), matrix_cells.encode([matrixed]),
                            records_cells.encode(answered))).encode("utf-8", "surrogatepass")

    def _waivers(self, book: Workbook, run: AuditRun) -> None:
        """The results the policy file's waivers matched: accepted ones, and those whose waiver ended."""
        lines = waiver_lines(run)
        if not lines:
            return
        ws = _Table(book, "Waivers", [12, 20, 16, 7, 40, 34, 18, 10, 8, 15], WAIVERS, run, wrap=True)
        ws.colour_column(9, {"expired": "FFC7CE", "waived": "E2EFDA"})
        for row, f in lines:
            w = f.waiver
            ws.append([row.entry.client, row.entry.label, f.check_id, f.status.value, f.message, w.reason, w.owner,
                       w.expires, "expired" if w.expired else "waived", w.source])

    def _changes(self, book: Workbook, drift) -> None:
        """Since the compared run: domains added and removed, checks that moved, scores."""
        colour = "C00000" if drift.regressed else "FFC000" if drift.changed else "70AD47"
        ws = book.sheet("Changes", [10, 24, 18, 12, 10, 10, 40, 40, 16], header=CHANGES, wrap=True,
                        tab_colour=colour)
        rows = [["", d, "", "domain added", "", "", "", "", ""] for d in drift.added]
        rows += [["", d, "", "domain removed", "", "", "", "", ""] for d in drift.removed]
        rows += [["Yes" if c.regression else "", c.domain, c.check_id, c.kind, c.before, c.after,
                  c.before_observed, c.after_observed, f"check updated {c.check_updated}" if c.check_updated
                  else "DNS or endpoint"] for c in drift.changes]
        rows += [["", s.domain, "score", "score", _blank(s.before), _blank(s.after), s.verdict_before,
                  s.verdict_after, ""] for s in drift.scores]
        for values in rows:
            ws.append(values)

    def _checks(self, book: Workbook, run: AuditRun) -> None:
        ws = book.sheet("Checks", [18, 30, 9, 8, 68, 30, 7, 10], header=CHECKS, wrap=True)
        for c in run.info.checks:
            ws.append([c.id, c.title, c.area, c.severity.value, doc_text(c.doc), "\n".join(c.references), c.version,
                       c.source])

    def _run(self, book: Workbook, run: AuditRun, title: str) -> None:
        info = run.info
        totals = executive(run)
        facts = [
            ("Report", title), ("Tool", f"dnsaudit {info.tool_version}"), ("Started", readable_time(info.started)),
            ("Finished", readable_time(info.finished)), ("Input file", info.input_file),
            ("DNS servers asked", ", ".join(info.nameservers) or "none (offline)"),
            ("DNS queries sent", info.dns_queries),
            *((f"Zone {zone} answered from", file) for zone, file in info.zone_files),
            *((("Other names answered from", f"offline snapshot dated {info.offline_snapshot}; no probes"),)
              if info.offline_snapshot else ()),
            ("Domains", totals.domains),
            *((f"Domains {v}", n) for v, n in totals.verdicts.items()),
            *((f"Setting {k.replace('_', ' ')}", _for_people(v)) for k, v in info.settings),
            ("Check versions", ", ".join(f"{c.id} v{c.version}" for c in info.checks)),
            *((("Compared with", f"run {run.drift.before_run} ({readable_time(run.drift.before_started)}): "
                                  f"{run.drift.verdict}"),)
              if run.drift is not None else ()),
        ]
        ws = book.sheet("Run", [34, 100, 10, 36], wrap=True)
        for label, value in facts:
            ws.append([label, value])
        ws.append([])
        ws.append(["Input rows that could not be used or were changed"], style=BOLD)
        ws.append(["Row", "Problem", "Level", "Value"], style=HEADER)
        for issue in info.input_issues:
            ws.append([issue.row or "file", issue.message, issue.level, issue.value])
        if not info.input_issues:
            ws.append(["", "none"])


SHEETS = "\x03"  # between the sheets' rows in a piece (no cell holds it: spreadsheet_text drops it)


def _domain_rows(d: DomainResult, checks: list[str]) -> tuple[list[list], list, list[list]]:
    """The domain's rows of Findings (every result that is not a pass or a skip), Matrix (one)
    and Records, with the Client column."""
    e = d.entry
    line = untestable(d)
    if line:  # one row instead of a dozen identical "could not test" rows
        found = [[e.client, e.label, e.notes, "(all checks)", "", status_label(Status.ERROR), line]]
    else:  # skips stay in findings.csv and results.json
        found = [[e.client, e.label, e.notes, f.check_id, f.severity.value, finding_label(f), f.message, f.observed,
                  f.expected, f.remediation] for f in ordered_findings(d) if f.status not in (Status.PASS, Status.SKIP)]
    statuses = check_status(d)
    waived = {f.check_id for f in d.findings if f.waiver is not None and f.waived} - {
        f.check_id for f in d.findings if f.status.rank >= Status.ERROR.rank and not f.waived}
    matrixed = [e.client, e.label, d.score.verdict.value,
                *("waived" if c in waived else CELL[statuses[c]] if c in statuses else "" for c in checks)]
    answered = [[e.client, e.label, r.name, r.type, r.answer, r.via] for r in records(d)]
    return found, matrixed, answered


class _Table:
    """A sheet whose first column is Client, left out when every domain of the run has the same
    client (a client's own workbook: one name on every row says nothing, the title names it).
    Columns are numbered as with the Client column either way."""

    def __init__(self, book: Workbook, name: str, widths: list[float], header: list[str], run: AuditRun, *,
                 mono: tuple[int, ...] = (), title_columns: int = 0, **options) -> None:
        assert header[0] == "Client"
        self.skip = 0 if sole_client(run) is None else 1
        self.sheet = book.sheet(name, widths[self.skip:], header=header[self.skip:],
                                mono=tuple(m - self.skip for m in mono),
                                title_columns=max(0, title_columns - self.skip), **options)
        self.name = self.sheet.name
        if not self.skip:
            self.append = self.sheet.append

    def append(self, values: list, **options) -> None:
        self.sheet.append(values[self.skip:], **options)

    def colour_column(self, column: int, colours: dict[str, str]) -> None:
        self.sheet.colour_column(column - self.skip, colours)


def _for_people(value: object) -> object:
    """A setting as people read it: Yes/No, 3 rather than 3.0, "-" for none."""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "-" if value is None else value


def _blank(value):
    return "-" if value is None else value
