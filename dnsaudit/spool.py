"""The spool of a large run's domain results: compressed pickles in one temporary file.

Kept apart from dnsaudit.model (the results vocabulary): this is storage, used by the
worker pool and read by the report writers through the ``Sequence`` interface only.
"""

from __future__ import annotations

import array
import os
import pickle
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from typing import overload

from dnsaudit.model import DomainResult


class PackedResults(Sequence[DomainResult]):
    """A large run's domain results, each a compressed pickle in a temporary file, decoded on access.

    The main process of a run with worker processes receives every domain's results and
    needs them again only for the reports: as objects that is ~15 KB per domain (150 MB for
    ten thousand), packed ~2.5 KB, and spooled to disk nothing but an offset, so the main
    process does not grow with the list. Slots are filled in any order (domains finish out
    of order); each access decodes again (~0.15 ms), so whoever walks the domains several
    times calls ``unpacked()`` once. Reads are positional (``os.pread``), so forked report
    writers can read the same file at the same time.
    """

    def __init__(self, count: int) -> None:
        self._file = tempfile.TemporaryFile(prefix="dnsaudit-results-")  # noqa: SIM115 - open for the run, closed by close()
        self._end = 0
        self._spans = array.array("q", [-1]) * (2 * count)  # offset, length per slot

    @staticmethod
    def pack(result: DomainResult) -> bytes:
        return zlib.compress(pickle.dumps(result, pickle.HIGHEST_PROTOCOL), 1)

    @staticmethod
    def unpack(data: bytes) -> DomainResult:
        result: DomainResult = pickle.loads(zlib.decompress(data))  # our own bytes (pack), never a stranger's
        return result

    def put(self, index: int, packed: bytes) -> None:
        self._file.seek(self._end)
        self._file.write(packed)
        self._spans[2 * index], self._spans[2 * index + 1] = self._end, len(packed)
        self._end += len(packed)

    def filled(self, index: int) -> bool:
        return self._spans[2 * index] >= 0

    @property
    def nbytes(self) -> int:
        return self._end

    def _read(self, index: int) -> bytes:
        offset, length = self._spans[2 * index], self._spans[2 * index + 1]
        if offset < 0:
            raise IndexError(f"result {index} was never stored")
        if hasattr(os, "pread"):
            return os.pread(self._file.fileno(), length, offset)
        self._file.seek(offset)  # Windows: one process reads at a time there
        return self._file.read(length)

    def __len__(self) -> int:
        return len(self._spans) // 2

    @overload
    def __getitem__(self, index: int) -> DomainResult: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[DomainResult, ...]: ...

    def __getitem__(self, index: int | slice) -> DomainResult | tuple[DomainResult, ...]:
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        self._file.flush()
        return self.unpack(self._read(index))

    def __iter__(self) -> Iterator[DomainResult]:
        self._file.flush()
        return (self.unpack(self._read(i)) for i in range(len(self)))

    def unpacked(self) -> tuple[DomainResult, ...]:
        return tuple(self)
