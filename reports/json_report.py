"""results.json: the whole run for machines, in the versioned schema of results.schema.json.

The record is complete and uncut (``dnsaudit report`` renders the other reports from it).
Non-ASCII text is written as UTF-8; a lone surrogate (which UTF-8 cannot hold) only ever
occurs inside a JSON string, where ``backslashreplace`` writes it as the JSON escape
``\\udXXX`` that ``ensure_ascii`` would have written.
"""

from __future__ import annotations

import json

from dnsaudit.model import AuditRun
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.view import totals


class JsonReport(ReportWriter):
    """Streams one domain at a time (one per line inside "domains"), so memory stays flat."""

    format = "json"
    filename = "results.json"
    cost = 4
    per_client = False  # the whole run for machines; per-client copies are for people

    def stream(self, run: AuditRun, title: str, handle) -> None:
        head = run.to_dict_without_domains(totals(run))  # counted from the rows the other reports share
        text = json.dumps(head, indent=2, ensure_ascii=False)
        handle.write((text[:-2] + ',\n  "domains": [').encode("utf-8", "backslashreplace"))
        for index, domain in enumerate(run.domains):
            line = json.dumps(domain.to_dict(), ensure_ascii=False)
            handle.write((("," if index else "") + "\n    " + line).encode("utf-8", "backslashreplace"))
        handle.write(b"\n  ]\n}\n")
