"""The history file itself: where it lives, its lock, its schema and how a domain's row is stored.

Split from dnsaudit.history (the ``History`` API that runs and commands use) because these
are the file's fixed contracts, each with its own reason to change: the schema only by a new
migration, the row format only with a new format byte, the lock only with the platforms.

A domain's results are stored compressed with a preset dictionary: ``history.zdict``, the
results of four example domains, holds the keys, check ids and messages every result
repeats, so a domain takes ~1.2 KB instead of ~12.8 KB of JSON. Rows are Zstandard (RFC 8878,
the dictionary as raw content: format byte 2) since schema 4; rows of schema 3 are zlib
with the same dictionary (RFC 1950 section 2.2, FDICT: format byte 1) and are still read.
The dictionary is frozen (a stored row needs it byte for byte; a test pins its hash): a new
one would get a new format byte. Rows written before schema 3 are JSON text and are read
as they are.

The schema is versioned (``PRAGMA user_version``); ``MIGRATIONS`` upgrades an older file
in place, one step at a time, inside a transaction.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import weakref
import zlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import zstandard

SCHEMA_VERSION = 4

MIGRATIONS = {
    # 0 -> 1: the first schema
    1: """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'incomplete')),
        input_file TEXT NOT NULL,
        tool_version TEXT NOT NULL,
        info_json TEXT NOT NULL
    );
    CREATE TABLE domains (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        domain TEXT NOT NULL,
        result_json TEXT NOT NULL,
        PRIMARY KEY (run_id, domain)
    );
    """,
    # 1 -> 2: a baseline run that comparisons can pin
    2: """
    ALTER TABLE runs ADD COLUMN baseline INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX runs_by_status ON runs(status);
    """,
    # 2 -> 3: domains.result_json holds compressed BLOBs (see pack_result) next to older JSON
    # text; nothing to convert, but an older dnsaudit must not read the file any more.
    3: "",
    # 3 -> 4: new rows are zstd (format 2) next to zlib ones (format 1); the same again.
    4: "",
}

FORMAT_ZDICT_1 = b"\x01"  # the first byte of a stored BLOB: zlib with history.zdict (schema 3)
FORMAT_ZSTD_1 = b"\x02"  # zstd with history.zdict as its dictionary (schema 4 on)
_ZDICT = (Path(__file__).with_name("history.zdict")).read_bytes()
MAX_ROW = 64 << 20  # bytes of JSON a stored row may say it holds (a damaged one could say any)

# zstd's level 5. Measured on 3,000 domains of bench/run.py's world (12.8 KB of JSON each),
# per domain: zlib level 3 (format 1) 60 us to pack, 33 us to read, 1,258 bytes; zstd level 3
# 20 us, 12 us, 1,356 bytes; level 5 49 us, 12 us, 1,222 bytes. Level 3 looked the better
# buy until the file was measured: a 10,000-domain run's history was 18.4 MB at level 3,
# 14.4 MB with zlib and 14.0 MB at level 5 (the same rows, VACUUMed): SQLite's 4 KB pages
# hold three rows of ~1,250 bytes but only two of ~1,360. Each domain is packed once, in a
# worker process, and read back for results.json (reports/json_report.py) and each comparison.
LEVEL = 5


@cache
def _zstd_dictionary() -> zstandard.ZstdCompressionDict:
    import zstandard

    return zstandard.ZstdCompressionDict(_ZDICT, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


@cache
def _packer() -> zstandard.ZstdCompressor:
    """One compressor per process, reused: it keeps the digested dictionary between rows (a
    zstandard compressor must not be used by two threads at once; dnsaudit packs and reads
    rows in one thread of each process). Each frame carries its content's checksum (RFC 8878
    section 3.1.1: XXH64, 4 bytes): without it a damaged row may decode to other text, where
    zlib's Adler-32 made every damage an error."""
    import zstandard

    return zstandard.ZstdCompressor(level=LEVEL, dict_data=_zstd_dictionary(), write_checksum=True)


@cache
def _unpacker() -> zstandard.ZstdDecompressor:
    import zstandard

    return zstandard.ZstdDecompressor(dict_data=_zstd_dictionary())


def pack_result(result_json: str) -> bytes:
    """One domain's results as stored: a format byte and the compressed JSON text (the
    concatenation also gives the row a buffer of its own size: see ``spool._sized``)."""
    return FORMAT_ZSTD_1 + _packer().compress(result_json.encode("utf-8"))


def unpack_result(stored: str | bytes) -> str:
    """The JSON text of a stored row: JSON text as it is (schema 1-2), or a packed BLOB."""
    if isinstance(stored, str):
        return stored
    kind = stored[:1]
    unpack = _UNPACKERS.get(kind)
    if unpack is None:
        raise HistoryError(f"a stored result has an unknown format (first byte {kind!r}); upgrade dnsaudit")
    try:
        return unpack(stored[1:]).decode("utf-8")
    except (_Damaged, zlib.error, UnicodeDecodeError) as exc:
        raise HistoryError(f"a stored result is damaged: {exc}") from None


class _Damaged(Exception):
    """A row that does not read back (``unpack_result`` says so as a HistoryError)."""


def _unzstd(data: bytes) -> bytes:
    import zstandard

    try:
        size = zstandard.frame_content_size(data)
        if not 0 <= size <= MAX_ROW:  # -1: not said (our rows always say), or too large to be ours
            raise _Damaged(f"the row says it holds {size} bytes")
        return _unpacker().decompress(data)
    except zstandard.ZstdError as exc:
        raise _Damaged(str(exc)) from None


def _unzlib(data: bytes) -> bytes:
    unpacker = zlib.decompressobj(zdict=_ZDICT)
    text = unpacker.decompress(data) + unpacker.flush()
    if not unpacker.eof:
        raise _Damaged("the data ends early")
    return text


_UNPACKERS = {FORMAT_ZSTD_1: _unzstd, FORMAT_ZDICT_1: _unzlib}


class HistoryError(Exception):
    """The history cannot be used (locked by another run, unreadable, from a newer dnsaudit)."""


class HistoryLocked(HistoryError):
    """Another dnsaudit run holds the history's lock (and did not let go in the time waited)."""


class UnknownRun(HistoryError):
    """The user named a run that does not exist or cannot be compared (a usage error)."""


def _lock_exclusively(handle: TextIO) -> None:
    """Take an exclusive lock on an open file without waiting (raises if another process holds it)."""
    if sys.platform == "win32":  # no flock: lock the first byte
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        return
    import fcntl

    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)


def default_path() -> Path:
    """The per-user data folder: $XDG_DATA_HOME/dnsaudit (or ~/.local/share), %LOCALAPPDATA% on Windows."""
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "dnsaudit" / "history.sqlite"


def take_lock(path: Path, wait: float) -> TextIO:
    """Hold ``<path>.lock`` exclusively (our pid written in it), waiting up to ``wait`` seconds for another run;
    HistoryLocked names the holder. The lock lasts until the returned file is closed."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        handle = open(lock_path, "a+")  # noqa: SIM115 - held until the caller closes it
    except OSError as exc:  # a read-only folder or disk
        raise HistoryError(f"cannot create the history's lock file {lock_path}: {exc.strerror or exc}") from None
    deadline = time.monotonic() + wait
    while True:
        try:
            _lock_exclusively(handle)
            break
        except (BlockingIOError, PermissionError):
            if time.monotonic() < deadline:
                time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
                continue
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            waited = f" (waited {wait:g} s)" if wait else ""
            raise HistoryLocked(f"another dnsaudit run ({holder}) is using the history {path}{waited}"
                                ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    _HELD.add(handle)
    return handle


# The locks this process holds, for _let_go_in_a_forked_child.
_HELD: weakref.WeakSet[TextIO] = weakref.WeakSet()


def _let_go_in_a_forked_child() -> None:
    """A forked process (a worker, a report writer) closes its copy of the history's lock
    file: otherwise, if the run that holds the lock is killed, the lock outlives it for as
    long as the child lives. The lock stays with the run: flock(2) locks belong to the open
    file, released by LOCK_UN or once every descriptor of it is closed, not by closing one."""
    for handle in list(_HELD):
        with contextlib.suppress(OSError, ValueError):  # closed meanwhile in the parent
            handle.close()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_let_go_in_a_forked_child)
