"""What every report writer provides."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO, ClassVar

from dnsaudit.model import AuditRun


class ReportWriter:
    """Subclass, set ``format`` and ``filename``, implement ``render`` (or ``stream``).

    ``cost`` is the writer's CPU cost relative to the others on the same run (the built-ins
    measured on 4,000 domains: html 4, xlsx 3, csv 2, json, matrix and fixes 1); writing several formats in
    parallel shares them out by it. ``per_client`` says whether ``--split-by client`` also
    writes the format once per client (a machine-readable whole-run file may not).

    ``title`` names the report for people (it carries the client's name in a per-client
    report). Writers render the model only: no network, no re-scoring. Writers of large
    text formats override ``stream`` so a run of thousands of domains is never held in
    memory as one string.
    """

    format: ClassVar[str] = ""
    filename: ClassVar[str] = ""
    cost: ClassVar[int] = 2
    per_client: ClassVar[bool] = True

    def render(self, run: AuditRun, title: str) -> bytes:
        """The whole report as bytes (the default collects what ``stream`` writes)."""
        import io

        buffer = io.BytesIO()
        self.stream(run, title, buffer)
        return buffer.getvalue()

    def stream(self, run: AuditRun, title: str, handle: BinaryIO) -> None:
        handle.write(self.render(run, title))

    def write(self, run: AuditRun, out_dir: Path, title: str = "dnsaudit report") -> Path:
        """Write the report atomically: a reader never sees half a file."""
        target = out_dir / self.filename
        with atomic_file(target) as handle:
            self.stream(run, title, handle)
        return target


@contextlib.contextmanager
def atomic_file(target: Path):
    """A file that appears under its name only once it is complete."""
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(target: Path, data: bytes) -> None:
    with atomic_file(target) as handle:
        handle.write(data)
