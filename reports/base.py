"""What every report writer provides."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import ClassVar

from dnsaudit.model import AuditRun


class ReportWriter:
    """Subclass, set ``format`` and ``filename``, implement ``render``.

    ``title`` names the report for people (it carries the client's name in a per-client
    report). Writers render the model only: no network, no re-scoring.
    """

    format: ClassVar[str] = ""
    filename: ClassVar[str] = ""

    def render(self, run: AuditRun, title: str) -> bytes:  # pragma: no cover - interface
        raise TypeError(f"{type(self).__name__} does not implement render()")

    def write(self, run: AuditRun, out_dir: Path, title: str = "dnsaudit report") -> Path:
        """Write the report atomically: a reader never sees half a file."""
        target = out_dir / self.filename
        write_atomic(target, self.render(run, title))
        return target


def write_atomic(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
