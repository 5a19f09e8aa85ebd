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

    def render_stored(self, row: bytes) -> bytes | None:
        """The same line from the domain's history row (``workers.history_row``: the same dict,
        encoded with ``ensure_ascii``), or None when it cannot be taken as it is. Without a
        ``\\u`` in it the two encodings are the same text: only non-ASCII and control
        characters (and a backslash before a ``u``, which reads ``\\\\u``) make one, and
        this file writes those otherwise. Saves encoding each domain again (~0.2 ms a domain)."""
        from dnsaudit.history_file import unpack_result

        text = unpack_result(row)
        if "\\u" in text:
            return None
        return (",\n    " + text).encode("ascii")
