"""Run history in SQLite: every run stored as it goes, so drift can be measured.

A run is inserted as ``running`` before the first domain is audited and each domain's
results are committed in their own transaction as soon as it finishes; the run becomes
``complete`` only at the very end. A run that is killed stays ``running`` and is marked
``incomplete`` by the next process that opens the history; incomplete runs are never a
comparison point. SQLite's journal keeps every committed transaction and discards a torn
one, so a kill at any moment leaves earlier runs intact.

A lock file (``flock``) held for the whole run keeps two overlapping cron runs from
interleaving in one history: the second one is told (HistoryLocked), after waiting up to
``wait`` seconds when it asked to.

The file's fixed contracts (its place, lock, schema and migrations, the packed row format,
the errors) are dnsaudit.history_file; this module is the API runs and commands use.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from dnsaudit import results_read
from dnsaudit.history_file import (
    MIGRATIONS,
    SCHEMA_VERSION,
    HistoryError,
    HistoryLocked,
    UnknownRun,
    default_path,
    pack_result,
    take_lock,
    unpack_result,
)
from dnsaudit.model import AuditRun, RunInfo

# What callers import from here; the file's contracts are re-exported so that one import serves.
__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "History", "HistoryError", "HistoryLocked", "RunRow", "UnknownRun",
           "default_path", "pack_result", "unpack_result"]


@dataclass(frozen=True)
class RunRow:
    id: int
    started: str
    finished: str | None
    status: str
    input_file: str
    tool_version: str
    baseline: bool
    domains: int


COMMIT_INTERVAL = 0.25  # seconds
COMMIT_BATCH = 500  # domains


class History:
    """One history file. Use as a context manager: it takes the lock, migrates, and recovers."""

    def __init__(self, path: str | Path, *, lock: bool = True, wait: float = 0.0) -> None:
        self.path = Path(path)
        self._want_lock = lock
        self._wait = wait  # seconds to wait for another run's lock
        self._lock_file: TextIO | None = None
        self.db: sqlite3.Connection | None = None
        self._pending: list[tuple[int, str, bytes]] = []  # domains not yet committed
        self.current_run: int | None = None  # the run this process began
        self._committed_at = time.monotonic()

    def __enter__(self) -> History:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"cannot create the history folder {self.path.parent}: {exc.strerror}") from None
        if self._want_lock:
            self._lock_file = take_lock(self.path, self._wait)
        try:
            self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:
                self.db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # a new file: --keep gives space back
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
            if self._want_lock:
                self._recover()
        except sqlite3.DatabaseError as exc:
            self.__exit__(None, None, None)
            raise HistoryError(f"{self.path} is not a usable dnsaudit history: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error, HistoryError):  # an interrupted run keeps what it finished
                self.flush()
            self.db.close()
            self.db = None
        if self._lock_file is not None:
            self._lock_file.close()  # releases the flock
            self._lock_file = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def _open(self) -> sqlite3.Connection:
        """The connection, for the methods that need the history open (inside ``with History(...)``)."""
        if self.db is None:
            raise HistoryError(f"the history {self.path} is not open")
        return self.db

    def _migrate(self) -> None:
        version = self._open.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path} was written by a newer dnsaudit (schema {version}); upgrade dnsaudit")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            with self._transaction():
                for statement in filter(str.strip, MIGRATIONS[step].split(";")):
                    self._open.execute(statement)
                self._open.execute(f"PRAGMA user_version = {step}")

    def _recover(self) -> None:
        """Runs left 'running' by a killed process: we hold the lock, so nobody is writing them."""
        with self._transaction():
            self._open.execute("UPDATE runs SET status = 'incomplete' WHERE status = 'running'")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._open.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back itself (a full disk)
                self._open.execute("ROLLBACK")
            raise
        self._open.execute("COMMIT")

    @contextlib.contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """A failed write (a full disk, a read-only file, an I/O error) as one HistoryError line."""
        try:
            yield
        except sqlite3.Error as exc:
            raise HistoryError(f"cannot write {what} to the history {self.path}: {exc}") from None
        except OSError as exc:
            raise HistoryError(f"cannot write {what} to the history {self.path}: {exc.strerror or exc}") from None

    # -- writing a run -----------------------------------------------------------------------

    def begin(self, info: RunInfo) -> int:
        with self._writing("the new run"), self._transaction():
            cursor = self._open.execute(
                "INSERT INTO runs (started, status, input_file, tool_version, info_json) "
                "VALUES (?, 'running', ?, ?, ?)",
                (info.started, info.input_file, info.tool_version, json.dumps(info.to_dict())))
        if cursor.lastrowid is None:  # sqlite3 sets it after every INSERT
            raise HistoryError(f"the history {self.path} gave the new run no id")
        self.current_run = cursor.lastrowid
        return self.current_run

    def add_domain(self, run_id: int, domain: str, result_json: str) -> None:
        """Store one domain's results (status, severity, message, evidence per check) from
        their JSON form, ``json.dumps(result.to_dict())``; see ``add_row``."""
        self.add_row(run_id, domain, pack_result(result_json))

    def add_row(self, run_id: int, domain: str, row: bytes) -> None:
        """Store one domain's results as ``pack_result`` made them (in a worker process, say,
        so that the main process of a run does not compress ten thousand rows itself).

        Domains are committed together, at most ``COMMIT_INTERVAL`` seconds or ``COMMIT_BATCH``
        domains after they finished: a durable commit per domain (an fsync each) cost more than
        auditing the domain. A killed run loses at most that last moment, never consistency.
        """
        self._pending.append((run_id, domain, row))
        if len(self._pending) >= COMMIT_BATCH or time.monotonic() - self._committed_at >= COMMIT_INTERVAL:
            self.flush()

    def flush(self) -> None:
        """Commit the domains added so far."""
        if self._pending:
            with self._writing("the finished domains"), self._transaction():
                self._open.executemany("INSERT OR REPLACE INTO domains (run_id, domain, result_json) VALUES (?, ?, ?)",
                                    self._pending)
            self._pending.clear()
        self._committed_at = time.monotonic()

    def interrupted(self) -> None:
        """The run was stopped: keep what it finished, and never offer it as a baseline."""
        self.flush()
        with self._writing("the run's end"):
            self._recover()

    def finish(self, run_id: int, info: RunInfo) -> None:
        self.flush()
        with self._writing("the run's end"), self._transaction():
            self._open.execute("UPDATE runs SET status = 'complete', finished = ?, info_json = ? WHERE id = ?",
                            (info.finished, json.dumps(info.to_dict()), run_id))

    def keep(self, newest: int) -> int:
        """Delete all but the newest ``newest`` runs (the baseline is always kept); return how many went."""
        with self._writing("the removal of old runs"):
            with self._transaction():
                doomed = [row[0] for row in self._open.execute(
                    "SELECT id FROM runs WHERE baseline = 0 AND id NOT IN "
                    "(SELECT id FROM runs ORDER BY id DESC LIMIT ?)", (newest,))]
                self._open.executemany("DELETE FROM runs WHERE id = ?", [(i,) for i in doomed])
            if doomed:
                # executescript steps to the end (execute() stops after the first page freed);
                # a file made before schema 3 has no auto_vacuum: compact() turns it on
                self._open.executescript("PRAGMA incremental_vacuum;")
                self._open.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return len(doomed)

    def compact(self) -> tuple[int, int]:
        """Give the space of deleted runs back to the file system (VACUUM); (bytes before, after).

        Rows of a file made before schema 3 are packed first, and incremental auto-vacuum is
        turned on, so that later ``keep`` calls give space back by themselves.
        """
        before = self.size()
        self.flush()
        self._pack_old_rows()
        self._open.execute("PRAGMA auto_vacuum=INCREMENTAL")
        self._open.execute("VACUUM")
        self._open.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return before, self.size()

    def _pack_old_rows(self) -> None:
        """Rows stored as JSON text before schema 3 are stored packed, a batch per transaction."""
        while True:
            batch = self._open.execute("SELECT rowid, result_json FROM domains WHERE typeof(result_json) = 'text' "
                                    "LIMIT ?", (COMMIT_BATCH,)).fetchall()
            if not batch:
                return
            with self._transaction():
                self._open.executemany("UPDATE domains SET result_json = ? WHERE rowid = ?",
                                    [(pack_result(text), rowid) for rowid, text in batch])

    def size(self) -> int:
        """Bytes on disk: the file and its write-ahead log."""
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)

    # -- reading -----------------------------------------------------------------------------

    def runs(self) -> list[RunRow]:
        rows = self._open.execute(
            "SELECT r.id, r.started, r.finished, r.status, r.input_file, r.tool_version, r.baseline, "
            "(SELECT COUNT(*) FROM domains d WHERE d.run_id = r.id) FROM runs r ORDER BY r.id")
        return [RunRow(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]), row[7]) for row in rows]

    def run(self, run_id: int) -> RunRow:
        row = next((r for r in self.runs() if r.id == run_id), None)
        if row is None:
            raise UnknownRun(f"there is no run {run_id} in {self.path} (see 'dnsaudit runs')")
        return row

    def resolve(self, which: str, *, before: int | None = None) -> RunRow | None:
        """A complete run by name: 'last' (before run ``before``, if given), 'baseline', or an id."""
        complete = [r for r in self.runs() if r.status == "complete" and (before is None or r.id < before)]
        if which == "last":
            return complete[-1] if complete else None
        if which == "baseline":
            return next((r for r in complete if r.baseline), None)
        if not which.isdigit():
            raise UnknownRun(f"'{which}' is not a run: use last, baseline or a run id (see 'dnsaudit runs')")
        row = self.run(int(which))
        if row.status != "complete":
            raise UnknownRun(f"run {row.id} is {row.status}; only complete runs can be compared")
        return row

    def set_baseline(self, run_id: int) -> None:
        row = self.run(run_id)
        if row.status != "complete":
            raise UnknownRun(f"run {run_id} is {row.status}; only a complete run can be the baseline")
        with self._transaction():
            self._open.execute("UPDATE runs SET baseline = (id = ?)", (run_id,))

    def load(self, run_id: int) -> AuditRun:
        info_json = self._open.execute("SELECT info_json FROM runs WHERE id = ?", (run_id,)).fetchone()
        if info_json is None:
            raise HistoryError(f"there is no run {run_id} in {self.path}")
        try:
            info = results_read.info_from_dict(_object(json.loads(info_json[0])))
            rows = self._open.execute("SELECT result_json FROM domains WHERE run_id = ? ORDER BY rowid", (run_id,))
            domains = [results_read.domain_from_dict(_object(json.loads(unpack_result(row[0])))) for row in rows]
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:  # a row changed by hand
            raise HistoryError(f"run {run_id} in {self.path} cannot be read: a stored row is damaged "
                               f"({type(exc).__name__}: {exc})") from None
        return AuditRun(info, tuple(domains))


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"a JSON object was expected, not {type(value).__name__}")
    return value
