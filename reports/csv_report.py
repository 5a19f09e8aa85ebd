"""findings.csv: one row per result, for people who pipe results into other tools.

UTF-8 with a BOM so Excel shows non-ASCII names correctly. A value that a spreadsheet
would execute (starting with ``= + - @``, tab or carriage return) is prefixed with a
single quote, the OWASP rule for CSV injection; the original is in results.json. Every
text value is cleaned and capped first (``dnsaudit.text.report_text``): no NUL or ESC, bidi
overrides shown as ``<U+202E>``, at most ``FIELD_LIMIT`` characters with the cut marked.
"""

from __future__ import annotations

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
        self._fields: dict[str, str] = {}  # texts cleaned by neutralise and put as CSV fields (bounded: see _field)

    def stream(self, run: AuditRun, title: str, handle) -> None:
        handle.write((",".join(map(csv_field, COLUMNS)) + "\r\n").encode("utf-8-sig"))
        piece = reader(run, self)
        for row in domain_rows(run):
            data = None if piece is None else piece(row.index)
            handle.write(self.render_domain(run, row.result) if data is None else data)

    def render_domain(self, run: AuditRun, domain: DomainResult) -> bytes:
        """The domain's rows, one per finding, worst first: as ``csv.writer`` writes them (the
        excel dialect, ``QUOTE_MINIMAL``, CRLF), each field put together here (``csv_field``)
        and remembered, since most repeat from domain to domain. Why not ``csv.writer``: at
        28 rows a domain it took 97 of the 159 us this method took (bench/README.md, the
        fourteenth round); tests/unit/test_csv_fields.py compares the two on hostile text."""
        e = domain.entry
        field = self._field
        head = ",".join([csv_field(neutralise(v)) for v in (e.client, e.label, e.domain, score_text(domain.score),
                                                             domain.score.verdict.value)])
        notes = csv_field(neutralise(e.notes))
        lines = [",".join((head, field(f.check_id), field(f.area), field(f.severity.value), field(f.status.value),
                           field(f.reason.value) if f.reason else "", field(f.message), field(f.observed),
                           field(f.expected), field(f.remediation), notes))
                 for f in ordered_findings(domain)]
        lines.append("")
        return "\r\n".join(lines).encode("utf-8") if len(lines) > 1 else b""

    def _field(self, value: object) -> str:
        """``csv_field(neutralise(value))``, remembered for the last few thousand texts: check
        ids, statuses, messages, expectations and fixes repeat from domain to domain."""
        if type(value) is not str:  # exactly str: a subclass (an enum) is cleaned each time
            return csv_field(neutralise(value))
        known = self._fields.get(value)
        if known is None:
            if len(self._fields) >= 8192:
                self._fields.clear()
            known = self._fields[value] = csv_field(neutralise(value))
        return known


def csv_field(value: object) -> str:
    """One field as ``csv.writer`` writes it in the excel dialect with ``QUOTE_MINIMAL``: None
    empty, a string (a subclass too: an enum's characters, not its ``__str__``) as it is, any
    other value its ``str``; quoted when it holds a comma, a double quote (doubled), a carriage
    return or a line feed (CPython's Modules/_csv.c, ``join_append_data``)."""
    if value.__class__ is not str:
        value = "" if value is None else str.__str__(value) if isinstance(value, str) else str(value)
    if '"' in value:
        return '"' + value.replace('"', '""') + '"'
    if "," in value or "\n" in value or "\r" in value:
        return '"' + value + '"'
    return value
