"""What every report writer provides."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, ClassVar

from dnsaudit.model import AuditRun, DomainResult


class ReportWriter:
    """Subclass, set ``format`` and ``filename``, implement ``render`` (or ``stream``).

    ``cost`` is the writer's CPU cost relative to the others on the same run (the built-ins,
    measured once the domains' pieces are rendered ahead, after the survey of 10,000 bench
    domains: xlsx 6, html 2, csv, json, matrix and fixes 1; the default, 2, is a writer like
    html); writing several formats in parallel shares them out by it. ``per_client``
    says whether ``--split-by client`` also writes the format once per client (a
    machine-readable whole-run file may not).

    ``title`` names the report for people (it carries the client's name in a per-client
    report). Writers render the model only: no network, no re-scoring. Writers of large
    text formats override ``stream`` so a run of thousands of domains is never held in
    memory as one string.

    ``prerender``: the file is a header, one piece per domain that reads the same wherever
    it lands (``render_domain``), and a tail. Then the pass over the domains that runs before
    the writers (``reports.scope.survey``, one forked process per core) renders every
    domain's piece (or, with worker processes, the workers do, in the audit's tail:
    ``reports.ahead``), and ``stream`` puts them together (``reports.prerender.reader``)
    instead of decoding each domain again: see ``reports.prerender``.
    """

    format: ClassVar[str] = ""
    filename: ClassVar[str] = ""
    cost: ClassVar[int] = 2
    per_client: ClassVar[bool] = True
    prerender: ClassVar[bool] = False

    def render_domain(self, run: AuditRun, domain: DomainResult) -> bytes:
        """The piece of the file that is ``domain``'s (b"" for none), with ``prerender``;
        ``run`` for what all its cuts share (its checks, ``run.info.checks``), never its other
        domains. It may be called in a worker process of the audit (``reports.ahead``), on a
        new instance of the writer, with a stand-in run that holds the checks only."""
        raise NotImplementedError

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
        with atomic_file(target, buffering=WRITE_BUFFER) as handle:  # streamed in many small pieces
            self.stream(run, title, handle)
        return target


# Bytes buffered before each write(2) of a streamed report: it is written in many small
# pieces (a domain's rows), and at 10,000 domains results.json alone is ~130 MB. Writing 250 MB
# in pieces of 0.3-13 KB took 0.20 s of CPU through the default 8 KB buffer, 0.06 s through
# 1 MiB (bench/README.md, the eleventh round). A file written in one piece (``write_atomic``)
# keeps the default: a buffer that large would only be allocated and freed again.
WRITE_BUFFER = 1 << 20


@contextlib.contextmanager
def atomic_file(target: Path, buffering: int = -1) -> Iterator[BinaryIO]:
    """A file that appears under its name only once it is complete.

    With the permissions any new file gets (0666 less the umask), as the history's SQLite
    file does: ``mkstemp`` makes its file 0600, which would keep a report from the group
    that shares the output folder. ``buffering`` is ``open``'s (``WRITE_BUFFER`` for a
    report streamed in pieces).
    """
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb", buffering=buffering) as handle:
            yield handle
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process's umask, read without changing it where the system tells it (Linux >= 4.7)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and put back at once
    os.umask(mask)
    return mask


def write_atomic(target: Path, data: bytes) -> None:
    with atomic_file(target) as handle:
        handle.write(data)
