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

    @property
    def phrase(self) -> str:
        """What became of the question, in words for a sentence about it ("the DNS query for
        x. MX timed out"): messages are read by people who are not DNS engineers. Evidence
        lines keep the short upper-case word (``Evidence.line``)."""
        return _PHRASES[self]


_FAILURES = frozenset({Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TIMEOUT, Outcome.ERROR, Outcome.CNAME_LOOP,
                       Outcome.OFFLINE})
_PHRASES = {
    Outcome.ANSWER: "was answered",
    Outcome.NODATA: "found no records of that type",
    Outcome.NXDOMAIN: "found that the name does not exist (NXDOMAIN)",
    Outcome.SERVFAIL: "got a server failure (SERVFAIL)",
    Outcome.REFUSED: "was refused by the DNS server",
    Outcome.TIMEOUT: "timed out",
    Outcome.ERROR: "failed",
    Outcome.CNAME_LOOP: "ran into a CNAME loop",
    Outcome.OFFLINE: "has no answer offline",  # --offline: no zone file or snapshot holds the name
}
_REASONS = {
    Outcome.SERVFAIL: ErrorReason.SERVFAIL,
    Outcome.REFUSED: ErrorReason.REFUSED,
    Outcome.TIMEOUT: ErrorReason.TIMEOUT,
    Outcome.ERROR: ErrorReason.DNS_ERROR,
    Outcome.OFFLINE: ErrorReason.OFFLINE,
}


# What a server's failure RCODE means (RFC 1035 section 4.1.1: 2 server failure, 5 refused);
# any other failure RCODE is an error. Plain numbers: this module imports no dnspython.
_RCODE_OUTCOMES: dict[int, Outcome] = {2: Outcome.SERVFAIL, 5: Outcome.REFUSED}


def rcode_outcome(rcode: int) -> Outcome:
    """The outcome of a reply whose RCODE is neither NOERROR nor NXDOMAIN."""
    return _RCODE_OUTCOMES.get(rcode, Outcome.ERROR)


def worst_failure(failures: list[tuple[Outcome, str]]) -> Outcome:
    """The most telling failure of a question asked of several servers: what a server said
    beats a silence beats a local error."""
    outcomes = {outcome for outcome, _ in failures}
    for candidate in (Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TIMEOUT):
        if candidate in outcomes:
            return candidate
    return Outcome.ERROR
