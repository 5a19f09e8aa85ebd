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

from dnsaudit.model import AuditRun
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.view import domain_rows, looks_like_formula, ordered_findings
from dnsaudit.text import report_text

COLUMNS = ["client", "domain", "domain_ascii", "score", "verdict", "check", "area", "severity", "status", "reason",
           "message", "observed", "expected", "remediation", "notes"]  # notes last: earlier columns keep their place


def neutralise(value: object) -> object:
    if isinstance(value, str):
        value = report_text(value)
    return "'" + value if looks_like_formula(value) else value


class CsvReport(ReportWriter):
    format = "csv"
    filename = "findings.csv"
    cost = 4

    def stream(self, run: AuditRun, title: str, handle) -> None:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        words: dict[str, object] = {}  # the few check ids, areas, severities, statuses, reasons: cleaned once

        def word(value: str) -> object:
            cleaned = words.get(value)
            if cleaned is None:
                cleaned = words[value] = neutralise(value)
            return cleaned

        for row in domain_rows(run):
            d = row.result
            e = d.entry
            head = [neutralise(v) for v in (e.client, e.label, e.domain, row.score_text, d.score.verdict.value)]
            notes = neutralise(e.notes)
            for f in ordered_findings(d):
                writer.writerow([*head, word(f.check_id), word(f.area), word(f.severity.value), word(f.status.value),
                                 word(f.reason.value) if f.reason else "", neutralise(f.message),
                                 neutralise(f.observed), neutralise(f.expected), neutralise(f.remediation), notes])
        text.detach()  # the caller owns and closes the file
