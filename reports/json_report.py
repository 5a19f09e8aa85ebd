"""results.json: the whole run for machines, in the versioned schema of results.schema.json.

The record is complete and uncut (``dnsaudit report`` renders the other reports from it).
Non-ASCII text is written as UTF-8; a lone surrogate (which UTF-8 cannot hold) only ever
occurs inside a JSON string, where ``backslashreplace`` writes it as the JSON escape
``\\udXXX`` that ``ensure_ascii`` would have written.
"""

from __future__ import annotations

import json

from dnsaudit.model import AuditRun, DomainResult
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.prerender import reader
from dnsaudit.reports.view import totals


class JsonReport(ReportWriter):
    """Streams one domain at a time (one per line inside "domains"), so memory stays flat."""

    format = "json"
    filename = "results.json"
    cost = 1  # its lines are rendered ahead (prerender): putting the file together is cheap
    per_client = False  # the whole run for machines; per-client copies are for people
    prerender = True

    def stream(self, run: AuditRun, title: str, handle) -> None:
        head = run.to_dict_without_domains(totals(run))  # counted from the rows the other reports share
        text = json.dumps(head, indent=2, ensure_ascii=False)
        handle.write((text[:-2] + ',\n  "domains": [').encode("utf-8", "backslashreplace"))
        piece = reader(run, self)
        for index in range(len(run.domains)):
            data = None if piece is None else piece(index)
            if data is None:
                data = self.render_domain(run, run.domains[index])
            handle.write(data[1:] if index == 0 else data)  # the first line has no comma before it
        handle.write(b"\n  ]\n}\n")

    def render_domain(self, run: AuditRun, domain: DomainResult) -> bytes:
        """The domain's line of "domains", after a comma."""
        return (",\n    " + json.dumps(domain.to_dict(), ensure_ascii=False)).encode("utf-8", "backslashreplace")
