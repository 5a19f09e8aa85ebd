"""fixes/<domain>.zone: per domain, every record its findings propose, ready for a DNS import.

One file per domain that has something to fix (``digest.zone_fixes``: records in zone-file
syntax with ``$ORIGIN``, what is not a record as ``;`` comments), named by the domain's
A-label so that every file system and every DNS provider's import takes it. Domains with
nothing to fix get no file; an empty folder means nothing needs publishing.
"""

from __future__ import annotations

from pathlib import Path

from dnsaudit.model import AuditRun
from dnsaudit.reports.base import ReportWriter, write_atomic
from dnsaudit.reports.digest import zone_fixes
from dnsaudit.reports.view import domain_rows


class ZoneFixesReport(ReportWriter):
    format = "fixes"
    filename = "fixes"
    cost = 1

    def write(self, run: AuditRun, out_dir: Path, title: str = "") -> Path:
        folder = out_dir / self.filename
        folder.mkdir(exist_ok=True)
        for row in domain_rows(run):
            text = zone_fixes(row.result)
            if text:
                write_atomic(folder / f"{row.entry.domain}.zone", (text + "\n").encode("utf-8"))
        return folder

    def render(self, run: AuditRun, title: str) -> bytes:
        """All domains' fixes in one text (for a caller that wants bytes, not a folder)."""
        return "\n".join(filter(None, (zone_fixes(row.result) for row in domain_rows(run)))).encode("utf-8")
