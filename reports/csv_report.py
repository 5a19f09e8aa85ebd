"""findings.csv: one row per result, for people who pipe results into other tools.

UTF-8 with a BOM so Excel shows non-ASCII names correctly. A value that a spreadsheet
would execute (starting with ``= + - @``, tab or carriage return) is prefixed with a
single quote, the OWASP rule for CSV injection; the original is in results.json. Every
text value is cleaned and capped first (``dnsaudit.text.report_text``): no NUL or ESC, bidi
overrides shown as ``<U+202E>``, at most ``FIELD_LIMIT`` characters with the cut marked.
"""

from __future__ import annotations

import csv
import io

from dnsaudit.model import AuditRun, DomainResult
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.prerender import reader
from dnsaudit.reports.view import FORMULA_START, domain_rows, ordered_findings, score_text
from dnsaudit.text import report_text

COLUMNS = ["client", "domain", "domain_ascii", "score", "verdict", "check", "area", "severity", "status", "reason",
           "message", "observed", "expected", "remediation", "notes"]  # notes last: earlier columns keep their place


def neutralise(value: object) -> object:
    if isinstance(value, str):
        value = report_text(value)
        if value.startswith(FORMULA_START):
            return "'" + value
    return value


class CsvReport(ReportWriter):
    format = "csv"
    filename = "findings.csv"
    cost = 1  # its rows are rendered ahead (prerender): putting the file together is cheap
    prerender = True

    def __init__(self) -> None:
        self._cleaned: dict[str, object] = {}  # texts cleaned by neutralise (bounded: see _clean)
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, lineterminator="\r\n")

    def stream(self, run: AuditRun, title: str, handle) -> None:
        handle.write(self._lines([COLUMNS], "utf-8-sig"))
        piece = reader(run, self)
        for row in domain_rows(run):
            data = None if piece is None else piece(row.index)
            handle.write(self.render_domain(run, row.result) if data is None else data)

    def render_domain(self, run: AuditRun, domain: DomainResult) -> bytes:
        """The domain's rows, one per finding, worst first."""
        e = domain.entry
        head = [neutralise(v) for v in (e.client, e.label, e.domain, score_text(domain.score),
                                        domain.score.verdict.value)]
        notes = neutralise(e.notes)
        clean = self._clean
        return self._lines([[*head, clean(f.check_id), clean(f.area), clean(f.severity.value), clean(f.status.value),
                             clean(f.reason.value) if f.reason else "", clean(f.message),
                             clean(f.observed), clean(f.expected), clean(f.remediation), notes]
                            for f in ordered_findings(domain)])

    def _clean(self, value: object) -> object:
        """``neutralise(value)``, remembered for the last few thousand texts: check ids, statuses,
        messages, expectations and fixes repeat from domain to domain."""
        if type(value) is not str:  # exactly str: a subclass (an enum) is cleaned each time
            return neutralise(value)
        cleaned = self._cleaned.get(value)
        if cleaned is None:
            if len(self._cleaned) >= 8192:
                self._cleaned.clear()
            cleaned = self._cleaned[value] = neutralise(value)
        return cleaned

    def _lines(self, rows: list, encoding: str = "utf-8") -> bytes:
        text = self._text
        text.seek(0)
        text.truncate()
        self._writer.writerows(rows)
        return text.getvalue().encode(encoding)
