"""The results' vocabulary: the enums every layer shares (checks, scoring, reports, the net layer).

Kept apart from the values (``dnsaudit.findings``) and their JSON form (``dnsaudit.results_json``)
so that the lowest layer (``dnsaudit.net``) can name an error reason without importing the
results model; plugin authors import all of it from ``dnsaudit.model``.
"""

from __future__ import annotations

import enum


class Status(str, enum.Enum):
    """Outcome of one fact a check looked at.

    ``error`` means *could not test* (timeout, SERVFAIL, refused, a check bug): it is never
    scored as a pass and never reported as "record missing". ``skip`` means the check did
    not apply (the domain does not exist, the phase makes it moot, the user skipped it).
    """

    PASS = "pass"
    INFO = "info"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"
    SKIP = "skip"

    @property
    def rank(self) -> int:
        """How bad a status is when several findings of one check are folded into one."""
        return _STATUS_RANK[self]


_STATUS_RANK = {
    Status.SKIP: 0,
    Status.PASS: 1,
    Status.INFO: 2,
    Status.ERROR: 3,
    Status.WARN: 4,
    Status.FAIL: 5,
}


class Severity(str, enum.Enum):
    """How much a FAIL of a check matters; scoring reads it, checks never compute points."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {severity: index for index, severity in enumerate(Severity)}


class ErrorReason(str, enum.Enum):
    """Why a check could not test something: kept apart so users know what to retry."""

    TIMEOUT = "timeout"
    SERVFAIL = "servfail"
    REFUSED = "refused"
    NETWORK = "network"
    CHECK_BUG = "check-bug"
    DNS_ERROR = "dns-error"
    OFFLINE = "offline"  # --offline and the name is in neither the zone files nor the snapshot


class Cloud(str, enum.Enum):
    """Which Microsoft 365 cloud a domain lives in; it changes every expected target."""

    WORLDWIDE = "worldwide"
    GCC_HIGH = "gcc-high"
    DOD = "dod"
    CHINA = "china"


class Phase(str, enum.Enum):
    """Where a domain is in its migration; it decides which records are findings."""

    PRE_MIGRATION = "pre-migration"
    HYBRID = "hybrid"
    CLOUD = "cloud"


class IssueLevel(enum.StrEnum):
    """How bad an input problem is."""

    ERROR = "error"  # the row was not audited, or a value was rejected
    WARNING = "warning"  # a value was normalised, or something was left aside


class Verdict(str, enum.Enum):
    READY = "ready"
    READY_WITH_WARNINGS = "ready with warnings"
    BLOCKED = "blocked"
    COULD_NOT_ASSESS = "could not assess"
