"""What became of one DNS question: the outcome the DNS client classifies and evidence records.

A module of its own, without dnspython, because ``dnsaudit.evidence`` (and through it the
results model every report reads) names an answer's outcome: reading a results file must
not import the resolver.
"""

from __future__ import annotations

import enum

from dnsaudit.vocabulary import ErrorReason


class Outcome(str, enum.Enum):
    """What became of one question. Only ANSWER carries records of the asked type."""

    ANSWER = "answer"
    NODATA = "nodata"  # the name exists, but has no records of this type
    NXDOMAIN = "nxdomain"  # the name does not exist
    SERVFAIL = "servfail"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    ERROR = "error"  # anything else: FORMERR, NOTIMP, a network error, a malformed reply
    CNAME_LOOP = "cname loop"  # the CNAME chain of the reply comes back to itself or never ends
    OFFLINE = "offline"  # --offline, and neither a zone file nor the snapshot holds the name

    @property
    def is_failure(self) -> bool:
        """True when the answer says nothing about the record (could not test)."""
        return self in _FAILURES

    @property
    def error_reason(self) -> ErrorReason:
        return _REASONS.get(self, ErrorReason.DNS_ERROR)


_FAILURES = frozenset({Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TIMEOUT, Outcome.ERROR, Outcome.CNAME_LOOP,
                       Outcome.OFFLINE})
_REASONS = {
    Outcome.SERVFAIL: ErrorReason.SERVFAIL,
    Outcome.REFUSED: ErrorReason.REFUSED,
    Outcome.TIMEOUT: ErrorReason.TIMEOUT,
    Outcome.ERROR: ErrorReason.DNS_ERROR,
    Outcome.OFFLINE: ErrorReason.OFFLINE,
}
