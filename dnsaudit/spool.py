"""The spool of a large run's domain results: compressed pickles in one temporary file.

Kept apart from dnsaudit.model (the results vocabulary): this is storage, used by the
worker pool and read by the report writers through the ``Sequence`` interface only.

A worker compresses its results with Zstandard (RFC 8878), primed with a dictionary made of
its own first results (``Packer``; a raw-content dictionary, RFC 8878 section 5): the domains
of one list repeat each other's check ids, messages and class names, which a pickle alone
does not share. Measured on 3,000 domains of bench/run.py's world (8.6 KB of pickle each),
per domain: zlib level 1 with the same dictionary 37.5 us to pack, 22.7 us to read back,
1,024 bytes; zstd level 1 15.3 us, 9.4 us, 775 bytes. Every domain is packed once in a
worker and read back at least once for the reports, so zstd saves ~35 us a domain of the
run's CPU. The spool lives for one run, so the dictionary is never stored anywhere else.
"""

from __future__ import annotations

import array
import os
import pickle
import tempfile
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, overload

from dnsaudit.model import DomainResult

if TYPE_CHECKING:
    import zstandard

LEVEL = 1  # zstd's fastest regular level: the spool is read back within the run


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
        self._dictionary_of = array.array("H", [0]) * count  # per slot: 0 none, else _dictionaries[n - 1]
        self._dictionaries: list[bytes] = []
        self._rows = array.array("q", [-1]) * (2 * count)  # offset, length of each slot's history row

    @staticmethod
    def pack(result: DomainResult) -> bytes:
        """One result on its own, without a dictionary (``put`` it with ``dictionary=0``)."""
        return _sized(_alone().compress(pickle.dumps(result, pickle.HIGHEST_PROTOCOL)))

    def unpack(self, data: bytes, dictionary: int = 0) -> DomainResult:
        return unpacked(data, self._dictionaries[dictionary - 1] if dictionary else b"")

    def add_dictionary(self, zdict: bytes) -> int:
        """A ``Packer``'s dictionary, before any result packed with it; its number for ``put``."""
        self._dictionaries.append(zdict)
        return len(self._dictionaries)

    def put(self, index: int, packed: bytes, dictionary: int = 0, row: bytes = b"") -> None:
        """Slot ``index``'s result as ``pack`` or a ``Packer`` made it, and its history row if
        there is one (``workers.history_row``: the result's JSON text as the history stores it,
        which a report of that JSON may take instead of encoding the result again)."""
        self._file.seek(self._end)
        self._file.write(packed)
        self._spans[2 * index], self._spans[2 * index + 1] = self._end, len(packed)
        self._dictionary_of[index] = dictionary
        self._end += len(packed)
        if row:
            self._file.write(row)
            self._rows[2 * index], self._rows[2 * index + 1] = self._end, len(row)
            self._end += len(row)

    def stored_row(self, index: int) -> bytes:
        """Slot ``index``'s history row (b"" when none was stored with it)."""
        offset, length = self._rows[2 * index], self._rows[2 * index + 1]
        if offset < 0:
            return b""
        self._file.flush()
        return self._read_at(offset, length)

    def filled(self, index: int) -> bool:
        return self._spans[2 * index] >= 0

    @property
    def nbytes(self) -> int:
        return self._end

    def _read(self, index: int) -> bytes:
        offset, length = self._spans[2 * index], self._spans[2 * index + 1]
        if offset < 0:
            raise IndexError(f"result {index} was never stored")
        return self._read_at(offset, length)

    def _read_at(self, offset: int, length: int) -> bytes:
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
        return self.unpack(self._read(index), self._dictionary_of[index])

    def __iter__(self) -> Iterator[DomainResult]:
        self._file.flush()
        return (self.unpack(self._read(i), self._dictionary_of[i]) for i in range(len(self)))

    def unpacked(self) -> tuple[DomainResult, ...]:
        return tuple(self)


class Packer:
    """One worker's results packed for the spool, with a dictionary made of its first results.

    The first results are packed alone (``pack`` says ``uses_dictionary`` False) until they
    hold ``SAMPLE`` bytes of pickle; those bytes, the latest last (the nearer a match, the
    shorter its offset), become the dictionary, which ``pack`` hands back once, with the result that
    completed it: the spool must have it (``PackedResults.add_dictionary``) before the next
    result. Whatever the first results are (all of them errors, say), every result reads
    back as it was; only the ratio depends on how alike they are.
    """

    SAMPLE = 16_384  # bytes of pickle: two domains of bench/run.py's world (32 KB did no better with zlib)

    def __init__(self) -> None:
        self._sample: list[bytes] = []
        self._primed: zstandard.ZstdCompressor | None = None
        self._dictionary = b""

    def unpack(self, data: bytes, uses_dictionary: bool) -> DomainResult:
        """A result this packer packed, back (a worker reading its own, ``workers._TailSurvey``)."""
        return unpacked(data, self._dictionary if uses_dictionary else b"")

    def pack(self, result: DomainResult) -> tuple[bytes, bool, bytes]:
        """(packed, uses_dictionary, the dictionary if this result completed it else b"")."""
        data = pickle.dumps(result, pickle.HIGHEST_PROTOCOL)
        if self._primed is not None:
            return _sized(self._primed.compress(data)), True, b""
        self._sample.append(data)
        made = b""
        if sum(map(len, self._sample)) >= self.SAMPLE:
            import zstandard

            made = b"".join(self._sample)[-32_768:]
            self._primed = zstandard.ZstdCompressor(level=LEVEL, dict_data=_dictionary(made))
            self._dictionary = made
            self._sample.clear()
        return _sized(_alone().compress(data)), False, made


def unpacked(data: bytes, zdict: bytes) -> DomainResult:
    """A packed result back: zstd, with the dictionary ``zdict`` unless it is b"", then the
    pickle (our own bytes, never a stranger's)."""
    result: DomainResult = pickle.loads(_reader(zdict).decompress(data))
    return result


@cache
def _alone() -> zstandard.ZstdCompressor:
    """The compressor of results packed without a dictionary (one per process, reused: a
    compressor keeps its tables from one frame to the next)."""
    import zstandard

    return zstandard.ZstdCompressor(level=LEVEL)


def _sized(packed: bytes) -> bytes:
    """``packed`` in a buffer of its own size. zstandard's ``compress`` hands back its output
    in the buffer it allocated for the worst case (a little more than the input): 12 KB
    held for 0.3 KB (tracemalloc), so a worker's backlog of packed results grew by 36 MB at
    5,000 domains. A copy costs far less than that memory."""
    return bytes(memoryview(packed))


def _dictionary(content: bytes) -> zstandard.ZstdCompressionDict:
    import zstandard

    return zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


_READERS: dict[bytes, zstandard.ZstdDecompressor] = {}  # per dictionary (a run has one per worker)


def _reader(zdict: bytes) -> zstandard.ZstdDecompressor:
    """The decompressor for results packed with ``zdict`` (b"": none), made once per process:
    loading a dictionary costs more than reading a result."""
    reader = _READERS.get(zdict)
    if reader is None:
        import zstandard

        if len(_READERS) >= 64:  # dictionaries of runs gone by (a long-lived process, the tests)
            _READERS.clear()
        reader = _READERS[zdict] = zstandard.ZstdDecompressor(dict_data=_dictionary(zdict) if zdict else None)
    return reader
