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
        self._words: dict[str, object] = {}  # the few check ids, areas, severities, statuses, reasons: cleaned once
        self._texts: dict[str, object] = {}  # texts of findings, cleaned (bounded: see _text_of)
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
        word, text = self._word, self._text_of
        return self._lines([[*head, word(f.check_id), word(f.area), word(f.severity.value), word(f.status.value),
                             word(f.reason.value) if f.reason else "", text(f.message),
                             text(f.observed), text(f.expected), text(f.remediation), notes]
                            for f in ordered_findings(domain)])

    def _word(self, value: str) -> object:
        cleaned = self._words.get(value)
        if cleaned is None:
            cleaned = self._words[value] = neutralise(value)
        return cleaned

    def _text_of(self, value: object) -> object:
        """A finding's text cleaned; messages, expectations and fixes repeat from domain to
        domain, so the last few thousand are remembered."""
        cleaned = self._texts.get(value) if value.__class__ is str else None
        if cleaned is None:
            cleaned = neutralise(value)
            if value.__class__ is str:
                if len(self._texts) >= 8192:
                    self._texts.clear()
                self._texts[value] = cleaned
        return cleaned

    def _lines(self, rows: list, encoding: str = "utf-8") -> bytes:
        text = self._text
        text.seek(0)
        text.truncate()
        self._writer.writerows(rows)
        return text.getvalue().encode(encoding)
