"""DNSSEC questions: an RRset together with its RRSIGs, asked with the DO and CD bits.

The run's ordinary queries (``net.wire``) set no DNSSEC OK bit and read only the records
of the asked type, which is all the other checks need. ``dnssec.zone`` needs the
signatures too, for a handful of questions per domain (DS, DNSKEY, SOA, MX). Each query sets:

* DO (RFC 4035 §3.2.1), so that a DNSSEC-aware resolver returns RRSIG records;
* CD (RFC 4035 §3.2.2), so that a validating resolver hands over data it considers bogus
  instead of answering SERVFAIL: dnsaudit validates itself, and can then say *why* a zone
  is broken rather than "could not test".

A resolver that knows nothing of DNSSEC returns the records without their RRSIGs; the
caller tells that apart from an unsigned zone (see ``dnsaudit.mail.dnssec``).

Why these replies are read here, byte by byte, instead of by dnspython's message layer:
these questions went through ``dns.asyncquery.udp_with_fallback``, which opens and closes a
socket per query and parses the whole reply into a ``dns.message.Message``; at two to four
questions per domain that was 13.8 % of an audit's CPU on 1,000 benchmark domains (py-spy,
``bench/run.py --workers 1 --profile``). Now they go over the run's long-lived sockets
(``net.udp``) and ``parse_signed_reply`` reads only what ``SignedAnswer`` holds: the
answer-section records of the asked type and the RRSIGs covering it (owner = the asked
name, class IN; each record's data still parsed by ``dns.rdata.from_wire``, so the
records are dnspython's and its DNSSEC code validates them), whether the authority section
holds NSEC or NSEC3 records, and the extended rcode of the OPT record. On well-formed
replies the result is dnspython's, record for record: ``tests/unit/test_dnssec_wire.py``
compares the two on generated replies. A malformed reply is MalformedReply ("could not
test"), as any reply of the run; a reply that is not ours is ignored while the wait goes on.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import dns.exception
import dns.name
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnsaudit.evidence import Evidence
from dnsaudit.net.nameserver import Nameserver
from dnsaudit.net.outcome import Outcome, rcode_outcome, worst_failure
from dnsaudit.net.udp import UdpPool
from dnsaudit.net.wire import IN, OPT, TC, MalformedReply, Question, read_header, read_record

if TYPE_CHECKING:
    from types import ModuleType

PAYLOAD = 1232
RRSIG = 46
MAX_TTL = 0x7FFFFFFF  # RFC 2181 section 8: TTLs are 31-bit; a larger one is read as 0
_DENIALS = frozenset({dns.rdatatype.NSEC, dns.rdatatype.NSEC3})


@functools.cache
def dnssec_library() -> ModuleType:
    """dnspython's DNSSEC module (``dns.dnssec``), without cryptography's warning about DSA.

    cryptography 51 deprecates its DSA classes, and dnspython's DSA algorithm module
    (``dns/dnssecalgs/dsa.py``) names them when it is imported, and again when it reads a DSA
    key: four CryptographyDeprecationWarning lines on stderr in every process that audits a
    domain (the main process and each worker), in the terminal and in cron's mail. It speaks of
    the libraries' future, not of the user's domains, so that warning from that module alone is
    ignored (a filter added once, at the first DNSSEC question: nothing is imported before one
    needs it), and every other warning shows as before."""
    import warnings

    warnings.filterwarnings("ignore", message="DSA is deprecated", module=r"dns\.dnssecalgs\.dsa")
    import dns.dnssec

    return dns.dnssec


@dataclass(frozen=True)
class SignedAnswer:
    """The answer to one DNSSEC question: the RRset of the asked type and the RRSIGs over it."""

    name: str  # absolute, lower case
    rdtype: str
    outcome: Outcome
    rrset: dns.rrset.RRset | None = None
    rrsigs: dns.rrset.RRset | None = None
    denial: bool = False  # NSEC/NSEC3 records came with a negative answer
    detail: str = ""

    @property
    def signed(self) -> bool:
        return self.rrsigs is not None and len(self.rrsigs) > 0

    def evidence(self) -> Evidence:
        """This RRset and its signatures as a finding's evidence: a note (``describe()``), as no
        report reads its parts."""
        return Evidence.note(self.describe())

    def describe(self) -> str:
        """One evidence line: the records (keys by tag, flags and algorithm) and the signatures."""
        head = f"{self.name} {self.rdtype} (DNSSEC)"
        if self.rrset is None:
            extra = ", signed denial" if self.denial else ""
            return f"{head}: {self.outcome.value.upper()}{extra}"
        if self.rdtype == "DNSKEY":
            dnssec = dnssec_library()
            records = sorted(f"key {dnssec.key_id(k)} flags {k.flags} {dnssec.algorithm_to_text(k.algorithm)}"
                             for k in self.rrset)
        else:
            records = sorted(r.to_text() for r in self.rrset)
        sigs = "; ".join(sorted(f"RRSIG by key {s.key_tag} until {_when(s.expiration)}" for s in self.rrsigs or ()))
        return f"{head}: {' | '.join(records)}; {sigs or 'no RRSIG'}"


def _when(timestamp: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class SignedReply:
    """What a DNSSEC question's reply says: rcode (extended), TC, the asked RRset's records and
    the RRSIGs covering it as (type, TTL, rdata) in the order they came, and whether the
    authority section held NSEC or NSEC3 records."""

    rcode: int
    truncated: bool
    records: tuple[tuple[int, int, dns.rdata.Rdata], ...] = ()
    denial: bool = False


def parse_signed_reply(wire: bytes, query_id: int, question: Question) -> SignedReply | None:
    """Read a reply to a DO/CD ``question`` sent with ``query_id``; None when it is not one.

    Raises MalformedReply when it claims to be the reply but cannot be read.
    """
    head = read_header(wire, query_id, question)
    if head is None:
        return None
    flags, rcode, counts, offset = head
    if flags & TC:
        return SignedReply(rcode, True)
    qname, wanted = question.qname, question.rdtype
    records = []
    denial = False
    for section, count in enumerate(counts):
        for _ in range(count):
            owner, rdtype, rdclass, ttl, rdlength, offset = read_record(wire, offset)
            if section == 0:
                if rdclass == IN and owner == qname and (
                        rdtype == wanted or (rdtype == RRSIG and rdlength >= 2
                        and int.from_bytes(wire[offset:offset + 2], "big") == wanted)):
                    try:
                        rdata = dns.rdata.from_wire(dns.rdataclass.IN, rdtype, wire, offset, rdlength)
                        # A TTL with its top bit set counts as zero (RFC 2181 section 8), as dnspython reads it
                        records.append((rdtype, ttl if ttl <= MAX_TTL else 0, rdata))
                    except dns.exception.DNSException as exc:  # dnspython refuses the whole message then
                        raise MalformedReply(f"a {dns.rdatatype.to_text(rdtype)} record could not be read: {exc}") \
                            from None
            elif section == 1:
                denial = denial or rdtype in _DENIALS
            elif rdtype == OPT:
                rcode |= (ttl >> 20) & 0xFF0  # the extended RCODE's upper bits (RFC 6891 §6.1.3)
            offset += rdlength
    return SignedReply(rcode, False, tuple(records), denial)


async def ask_signed(nameservers: list[Nameserver], name: str, rdtype: str, *, timeout: float,
                     retries: int, pool: Callable[[Nameserver], UdpPool]) -> SignedAnswer:
    """Ask (name, rdtype) with DO and CD over ``pool(ns)``'s sockets; failures are kept apart as
    in ``DnsClient``."""
    name = name.lower() if name.endswith(".") else name.lower() + "."
    question = Question.make(name, dns.rdatatype.from_text(rdtype))
    failures: list[tuple[Outcome, str]] = []
    for _round in range(retries + 1):
        for ns in nameservers:
            try:
                reply = await pool(ns).ask(question, timeout, reader=parse_signed_reply, dnssec=True)
            except (TimeoutError, dns.exception.Timeout):
                failures.append((Outcome.TIMEOUT, f"{ns}: timeout"))
                continue
            except (OSError, MalformedReply) as exc:
                failures.append((Outcome.ERROR, f"{ns}: {exc}"))
                continue
            if reply.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return signed_answer(name, rdtype, reply)
            outcome = rcode_outcome(reply.rcode)
            failures.append((outcome, f"{ns}: {dns.rcode.to_text(reply.rcode)}"))
        if not any(outcome is Outcome.TIMEOUT for outcome, _ in failures):
            break
    return SignedAnswer(name, rdtype, worst_failure(failures), detail="; ".join(d for _, d in failures))


def signed_answer(name: str, rdtype: str, reply: SignedReply) -> SignedAnswer:
    """The answer a NOERROR or NXDOMAIN reply gives: the RRset and its RRSIGs, or none of either."""
    qname = dns.name.from_text(name)
    wanted = dns.rdatatype.from_text(rdtype)
    rrset = rrsigs = None
    for record_type, ttl, rdata in reply.records:
        if record_type == wanted:
            if rrset is None:
                rrset = dns.rrset.RRset(qname, dns.rdataclass.IN, wanted)
            rrset.add(rdata, ttl)
        else:
            if rrsigs is None:
                rrsigs = dns.rrset.RRset(qname, dns.rdataclass.IN, dns.rdatatype.RRSIG, wanted)
            rrsigs.add(rdata, ttl)
    if rrset is not None:
        return SignedAnswer(name, rdtype, Outcome.ANSWER, rrset, rrsigs)
    outcome = Outcome.NXDOMAIN if reply.rcode == dns.rcode.NXDOMAIN else Outcome.NODATA
    return SignedAnswer(name, rdtype, outcome, denial=reply.denial)
