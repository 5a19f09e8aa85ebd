"""Each domain's part of a report file, rendered once in the one pass over the domains.

Why: at 10,000 domains every writer that walked the domains decoded each of them again from
the spool (``PackedResults``: ~0.15 ms a domain, a third of the report phase), and the same
domain's rows were rendered again for every client's copy. A writer whose file is a header,
then one piece per domain that does not depend on where it lands, then a tail (findings.csv,
results.json, fixes/) says so (``ReportWriter.prerender``, ``render_domain``); ``survey``
(``reports.scope``), which decodes every domain once before the writers fork, split over one
forked process per core, renders those pieces on the way into a temporary file per range of
domains; in a run with worker processes, each worker first renders those of the domains it
finishes in the audit's tail into a file of its own (``reports.ahead``), and the pass covers
the rest. The writers then put the file together from the pieces in their own order (worst
domain first, or the run's order) and decode only what was not rendered ahead.

A piece is rendered from the domain as the run's reports for people read it (file names
instead of local paths: ``run_for_people``), or as it is for a writer that is not
``per_client`` (results.json gets the run uncut). A client's cut reads a domain the same way
unless another client's name was taken out of it: those few (``own``) the writer renders
itself, from the cleaned domain, so every file is byte for byte what rendering it whole gives.
"""

from __future__ import annotations

import array
import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

from dnsaudit.model import AuditRun, DomainResult
from dnsaudit.reports.base import WRITE_BUFFER

KEY = "reports.prerender.parts"  # in AuditRun.derived: a ``Parts`` for that run (or cut)


class Pieces:
    """The pieces of every domain for each prerendering format, in temporary files (one per
    forked process of ``survey`` or per worker process of the audit), read back with
    ``os.pread`` by any forked writer at the same time."""

    def __init__(self, folder: Path, numbers: Collection[int], where: dict[str, array.array],
                 raw: Collection[str]) -> None:
        """``numbers``: the files ``folder/<number>``; ``where[fmt]``: per domain of the run its
        piece's file number (-1 for none: the writer renders that domain), offset and length;
        ``raw``: the formats rendered from the domain as it is (not for people)."""
        self._files = {n: open(folder / str(n), "rb") for n in numbers}  # noqa: SIM115 - closed by close()
        self._where = where
        self.raw = frozenset(raw)
        self.formats = frozenset(where)

    def get(self, fmt: str, index: int) -> bytes | None:
        """The piece of the run's domain ``index`` for ``fmt`` (b"" when it gives nothing, None
        when none was rendered ahead)."""
        where = self._where[fmt]
        at = 3 * index
        number, offset, length = where[at], where[at + 1], where[at + 2]
        if number < 0:
            return None
        if not length:
            return b""
        handle = self._files[number]
        if hasattr(os, "pread"):
            return os.pread(handle.fileno(), length, offset)
        handle.seek(offset)  # Windows: one process reads at a time there
        return handle.read(length)

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()


def unplaced(count: int) -> array.array:
    """A ``Pieces`` index of ``count`` domains with no piece yet (file -1)."""
    return array.array("q", [-1, 0, 0]) * count


def place(where: dict[str, array.array], formats: Sequence[str], slot: int, number: int, spans: Sequence[int]) -> None:
    """Record in ``where`` (by format, a ``Pieces`` index or part of one) that slot ``slot``'s
    pieces of ``formats`` are in file ``number`` at ``spans`` (``PieceWriter.add``'s offsets
    and lengths, in the same order)."""
    at = 3 * slot
    for n, fmt in enumerate(formats):
        index = where[fmt]
        index[at], index[at + 1], index[at + 2] = number, spans[2 * n], spans[2 * n + 1]


class PieceWriter:
    """Renders domains' pieces, one domain after another, into one file: in a forked process
    of ``survey`` for its range of the run, or in a worker process of the audit for each
    domain it finishes (``reports.ahead``)."""

    def __init__(self, run: AuditRun, writers: Sequence, path: Path) -> None:
        """``run``: what the pieces may read of the run besides the domain (its checks)."""
        self._run, self.writers = run, list(writers)
        self.formats = [w.format for w in self.writers]  # the order of ``add``'s spans
        # A run with worker processes keeps each domain's history row (its JSON text) beside it
        # (``PackedResults.stored_row``): a writer of the run as it is that can take that text
        # (``render_stored``: results.json) need not encode the domain again.
        self._take_stored = {w.format for w in writers if not w.per_client and hasattr(w, "render_stored")}
        self._handle = open(path, "wb", buffering=WRITE_BUFFER)  # noqa: SIM115 - closed by close()
        self._end = 0

    def add(self, domain: DomainResult, for_people: DomainResult, row: bytes = b"") -> tuple[int, ...]:
        """Render ``domain``'s pieces (``for_people``: the domain as the reports for people read
        it; ``row``: its history row, if any); the offset and length of each writer's in turn."""
        spans: list[int] = []
        for writer in self.writers:
            data = writer.render_stored(row) if row and writer.format in self._take_stored else None
            if data is None:
                data = writer.render_domain(self._run, for_people if writer.per_client else domain)
            if data:
                spans += (self._end, len(data))
                self._handle.write(data)
                self._end += len(data)
            else:
                spans += (0, 0)
        return tuple(spans)

    def close(self) -> None:
        self._handle.close()


class RangeRenderer:
    """Renders the pieces of some of the run's domains into ``folder/<number>``, in one forked
    process of ``survey``; ``finish`` gives their places: each domain's part of ``Pieces``'s
    index, in the order they were added (``add``'s ``position``)."""

    def __init__(self, run: AuditRun, writers: Sequence, folder: Path, number: int, count: int) -> None:
        self._number = number
        self._writer = PieceWriter(run, writers, folder / str(number))
        self._stored_row = getattr(run.domains, "stored_row", None)
        self._where = {w.format: unplaced(count) for w in writers}

    def add(self, position: int, index: int, domain: DomainResult, for_people: DomainResult) -> None:
        """The run's domain ``index``'s pieces, the ``position``-th of this renderer's:
        ``for_people`` is the domain as the reports for people read it."""
        row = self._stored_row(index) if self._stored_row is not None else b""
        place(self._where, self._writer.formats, position, self._number, self._writer.add(domain, for_people, row))

    def finish(self) -> dict[str, array.array]:
        self._writer.close()
        return self._where


def new_folder() -> Path:
    return Path(tempfile.mkdtemp(prefix="dnsaudit-pieces-"))


def open_pieces(folder: Path, numbers: Collection[int], where: dict[str, array.array],
                raw: Collection[str]) -> Pieces:
    """The pieces written into ``folder``, open; the folder itself is removed at once (the open
    files stay readable), so nothing is left behind whatever happens next."""
    try:
        return Pieces(folder, numbers, where, raw)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Parts:
    """The pieces a run, or a cut of it, may use: those of its domain ``n`` are the pieces of
    the run's domain ``indices[n]`` (``n`` itself for the whole run) unless that domain is in
    ``own`` (this cut cleans it otherwise than the run for people: the writer renders it)."""

    def __init__(self, pieces: Pieces, for_people: bool, indices: Sequence[int] | None = None,
                 own: Collection[int] = ()) -> None:
        self.pieces, self.for_people, self.indices, self.own = pieces, for_people, indices, own

    def reader(self, writer) -> Callable[[int], bytes | None] | None:
        """``piece(n)`` for ``writer``'s format (None for a domain to render), or None when no
        piece of this format fits this run (not rendered ahead, or for the other kind of reader)."""
        fmt = writer.format
        if fmt not in self.pieces.formats or (fmt in self.pieces.raw) == self.for_people:
            return None
        get, indices, own = self.pieces.get, self.indices, self.own

        def piece(n: int) -> bytes | None:
            index = n if indices is None else indices[n]
            return None if index in own else get(fmt, index)

        return piece


def reader(run: AuditRun, writer) -> Callable[[int], bytes | None] | None:
    """What ``writer`` may take ready-made for ``run``'s domain ``n`` (see ``Parts.reader``);
    None when nothing was rendered ahead (a writer called on its own, or a third-party one)."""
    parts = run.derived.get(KEY)
    return None if parts is None else parts.reader(writer)


def close(run: AuditRun) -> None:
    """The pieces' files closed; the run's writers render each domain again if called again."""
    parts = run.derived.pop(KEY, None)
    if parts is not None:
        with contextlib.suppress(OSError):
            parts.pieces.close()
