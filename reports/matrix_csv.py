"""matrix.csv: one row per domain, one column per check id, each cell the check's status there.

The shape people pivot (and checkdmarc's CSV users know): worst domains first, the status
a check folded to on the domain (``fail``, ``warn``, ``could not test``, ``info``, ``pass``,
``skip``; empty when the check did not run). UTF-8 with a BOM; a value a spreadsheet would
execute is quoted as in findings.csv.
"""

from __future__ import annotations

import csv
import io

from dnsaudit.model import AuditRun
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.csv_report import neutralise
from dnsaudit.reports.digest import CELL
from dnsaudit.reports.view import domain_rows

HEAD = ["client", "domain", "domain_ascii", "score", "verdict"]


class MatrixCsvReport(ReportWriter):
    format = "matrix"
    filename = "matrix.csv"
    cost = 1

    def stream(self, run: AuditRun, title: str, handle) -> None:
        checks = [c.id for c in run.info.checks]
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(HEAD + checks)
        for row in domain_rows(run):  # the rows hold each check's status: no domain is read again
            statuses, e = row.statuses, row.entry
            writer.writerow([neutralise(v) for v in (e.client, e.label, e.domain, row.score_text,
                                                     row.score.verdict.value)]
                            + [CELL[statuses[c]] if c in statuses else "" for c in checks])
        text.detach()  # the caller owns and closes the file
