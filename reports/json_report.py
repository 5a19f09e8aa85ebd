"""results.json: the whole run for machines, in the versioned schema of results.schema.json."""

from __future__ import annotations

import json

from dnsaudit.model import AuditRun
from dnsaudit.reports.base import ReportWriter


class JsonReport(ReportWriter):
    format = "json"
    filename = "results.json"

    def render(self, run: AuditRun, title: str = "") -> bytes:
        return (json.dumps(run.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
