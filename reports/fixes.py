"""fixes/<domain>.zone: per domain, every record its findings propose, ready for a DNS import.

One file per domain that has something to fix (``digest.zone_fixes``: records in zone-file
syntax with ``$ORIGIN``, what is not a record as ``;`` comments), named by the domain's
A-label so that every file system and every DNS provider's import takes it. Domains with
nothing to fix get no file; an empty folder means nothing needs publishing.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from dnsaudit.model import AuditRun, DomainResult, Status
from dnsaudit.reports.base import ReportWriter, current_umask, write_atomic
from dnsaudit.reports.digest import zone_fixes
from dnsaudit.reports.prerender import reader
from dnsaudit.reports.view import domain_rows


class ZoneFixesReport(ReportWriter):
    format = "fixes"
    filename = "fixes"
    cost = 1
    prerender = True  # each domain's file is rendered ahead; the writer writes the files

    def write(self, run: AuditRun, out_dir: Path, title: str = "") -> Path:
        """The folder appears whole: its files are written into a new hidden folder that then
        takes the folder's name (one rename instead of one per file; thousands of domains
        have fixes). Into a folder that exists already, each file is replaced atomically."""
        folder = out_dir / self.filename
        if folder.exists():
            for domain, data in self._files(run):
                write_atomic(folder / f"{domain}.zone", data)
            return folder
        building = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{self.filename}.", suffix=".tmp"))
        try:
            building.chmod(0o777 & ~current_umask())  # as any new folder gets (mkdtemp makes it 0700)
            for domain, data in self._files(run):
                with open(building / f"{domain}.zone", "xb") as handle:  # the umask's permissions, as reports get
                    handle.write(data)
            building.rename(folder)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        return folder

    def _files(self, run: AuditRun):
        """(domain, file contents) of each domain with something to fix; a domain without a
        fail or a warn has nothing to fix and is not read."""
        piece = reader(run, self)
        for row in domain_rows(run):
            if row.counts[Status.FAIL] or row.counts[Status.WARN]:
                data = None if piece is None else piece(row.index)
                if data is None:
                    data = self.render_domain(run, row.result)
                if data:
                    yield row.entry.domain, data

    def render_domain(self, run: AuditRun, domain: DomainResult) -> bytes:
        """The domain's file (b"" when it has nothing to fix)."""
        if not any(f.status in (Status.FAIL, Status.WARN) for f in domain.findings):
            return b""
        text = zone_fixes(domain)
        return (text + "\n").encode("utf-8") if text else b""

    def render(self, run: AuditRun, title: str) -> bytes:
        """All domains' fixes in one text (for a caller that wants bytes, not a folder)."""
        return "\n".join(filter(None, (zone_fixes(row.result) for row in domain_rows(run)))).encode("utf-8")
