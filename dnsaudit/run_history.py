"""The history as a side effect of one run (``dnsaudit.pipeline`` keeps one per audit).

A history that cannot be written (a full disk, a read-only folder, a damaged row) must not
cost the audit or its reports: its first failure is kept for the end of the run and stops
further writes.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dnsaudit.history import History
    from dnsaudit.model import AuditRun


class RunHistory:
    """The history as the side effect it is: its first failure (a full disk, a read-only
    folder, a damaged row) is kept for the end of the run (exit code 6) and stops further
    writes; the audit and its reports go on. Without a history every call does nothing."""

    def __init__(self) -> None:
        self.history: History | None = None
        self.error = ""  # writing failed: nothing more is written
        self.compare_error = ""  # the run to compare with could not be read

    @property
    def usable(self) -> bool:
        return self.history is not None and not self.error

    def failed(self, exc: Exception) -> None:
        """Said once, at the end (the CLI's one line, exit code 6): the audit goes on meanwhile."""
        self.error = f"{exc}; the reports are written, but this run is not stored in the history"

    def load(self, run_id: int) -> AuditRun | None:
        """The run to compare with, or None when it cannot be read (a row changed by hand)."""
        from dnsaudit.history import HistoryError

        if self.history is None:
            return None
        try:
            return self.history.load(run_id)
        except HistoryError as exc:
            self.compare_error = f"{exc}; the reports are written, without a comparison"
            return None

    def call(self, method: str, *args: object) -> Any:  # Any: whatever the History method returns
        from dnsaudit.history import HistoryError

        if not self.usable:
            return None
        try:
            return getattr(self.history, method)(*args)
        except HistoryError as exc:
            self.failed(exc)
            with contextlib.suppress(HistoryError):  # mark the run incomplete, if the disk still lets us
                if self.history is not None:
                    self.history.interrupted()
            return None
