"""DNS queries and replies on the wire, without a message object per packet.

An audit of ten thousand domains asks some 170,000 questions. Building a
``dns.message.Message`` for each query and parsing every reply into one (question,
authority SOA, OPT record, rdatasets hashed for de-duplication) was a third of the run's
CPU, and the audit only ever reads three things of a reply: its rcode, its TC bit and the
answer-section records of the asked type or CNAME. So queries are assembled from bytes
and replies are read just that far; the records kept are still dnspython ``Rdata``
objects (``dns.rdata.from_wire``), so checks see the same types as before.

Everything in a reply is untrusted: names are read with a bound on compression jumps and
length, every offset is checked, and a reply that does not echo our question is not ours.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

IN = 1
_IN_CLASS = dns.rdataclass.RdataClass.IN  # the same class, as dnspython's parsers want it
CNAME = 5
OPT = 41
QR = 0x8000
RD = 0x0100
TC = 0x0200
CD = 0x0010
DO = 0x8000  # in the OPT record's TTL field (RFC 6891 §6.1.4)
# Error replies may come without the question section (dnspython's is_response allows it too).
RCODES_WITHOUT_QUESTION = frozenset({1, 2, 4, 5})  # FORMERR, SERVFAIL, NOTIMP, REFUSED
_HEADER = struct.Struct("!HHHHHH")
_RR = struct.Struct("!HHIH")
MAX_POINTER_JUMPS = 64
MAX_NOTES = 3


class MalformedReply(ValueError):
    """The datagram is not a DNS reply we can read."""


def encode_name(name: str) -> bytes:
    """An absolute name in lower-case wire form.

    Plain ASCII names (nearly all) are encoded here; anything with escapes (``\\.``,
    ``\\032``) or other characters goes through dnspython, which knows every rule.
    """
    if name.isascii() and "\\" not in name:
        text = name.lower().encode("ascii")
        text = text[:-1] if text.endswith(b".") else text
        labels = text.split(b".") if text else []
        if all(0 < len(label) < 64 for label in labels):
            wire = b"".join(bytes((len(label),)) + label for label in labels) + b"\x00"
            if len(wire) <= 255:
                return wire
    return dns.name.from_text(name).to_digestable()  # canonical (lower-case) uncompressed wire form


@dataclass(frozen=True, slots=True)
class Question:
    """One question, with its wire form computed once."""

    name: str  # absolute, lower case
    rdtype: int
    wire: bytes  # QNAME QTYPE QCLASS, QNAME lower case and uncompressed

    @classmethod
    def make(cls, name: str, rdtype: int) -> Question:
        return cls(name, rdtype, encode_name(name) + struct.pack("!HH", rdtype, IN))

    @property
    def qname(self) -> bytes:
        return self.wire[:-4]

    def query(self, query_id: int, payload: int | None, dnssec: bool = False) -> bytes:
        """A recursive query with EDNS(0) advertising ``payload`` bytes (no DNSSEC OK bit), or a
        plain one when ``payload`` is None. With ``dnssec``: the DNSSEC OK bit (RFC 4035 §3.2.1)
        and checking disabled (§3.2.2), as ``net.dnssec`` asks."""
        if payload is None:
            return _HEADER.pack(query_id, RD, 1, 0, 0, 0) + self.wire
        header = _HEADER.pack(query_id, RD | CD if dnssec else RD, 1, 0, 0, 1)
        return header + self.wire + b"\x00" + struct.pack("!HHIH", OPT, payload, DO if dnssec else 0, 0)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the audit reads of a reply.

    ``records`` are the answer-section records of class IN whose type is the asked one or
    CNAME, as (owner in lower-case wire form, type, rdata), in the order they came.
    """

    rcode: int
    truncated: bool
    records: tuple[tuple[bytes, int, dns.rdata.Rdata], ...] = ()
    notes: tuple[str, ...] = ()  # wanted records that could not be read and were skipped


def read_name(wire: bytes, offset: int) -> tuple[bytes, int]:
    """The name at ``offset`` as lower-case uncompressed wire bytes, and the offset after it."""
    labels: list[bytes] = []
    size = 1
    resume = -1
    jumps = 0
    end = len(wire)
    while True:
        if offset >= end:
            raise MalformedReply("name runs past the end of the message")
        length = wire[offset]
        if length == 0:
            offset += 1
            break
        if length >= 0xC0:
            if offset + 1 >= end:
                raise MalformedReply("compression pointer runs past the end of the message")
            jumps += 1
            if jumps > MAX_POINTER_JUMPS:
                raise MalformedReply("too many compression pointers")
            if resume < 0:
                resume = offset + 2
            offset = ((length & 0x3F) << 8) | wire[offset + 1]
            continue
        if length > 63:
            raise MalformedReply("unknown label type")
        size += length + 1
        if size > 255 or offset + 1 + length > end:
            raise MalformedReply("name too long")
        labels.append(wire[offset:offset + 1 + length])
        offset += 1 + length
    return b"".join(labels).lower() + b"\x00", (resume if resume >= 0 else offset)


def read_header(wire: bytes, query_id: int, question: Question) -> tuple[int, int, tuple[int, int, int], int] | None:
    """The header of a reply to ``question`` sent with ``query_id``, its question checked: flags,
    rcode, the answer, authority and additional counts and the offset of the answer section;
    None when the datagram is not that reply."""
    if len(wire) < 12:
        return None
    reply_id, flags, qdcount, ancount, nscount, arcount = _HEADER.unpack_from(wire)
    if reply_id != query_id or not flags & QR or flags & 0x7800:  # opcode must be QUERY
        return None
    rcode = flags & 0x000F
    offset = 12
    if qdcount == 1:
        asked = question.wire
        end = offset + len(asked)
        # The name without regard to case, type and class exactly (a type byte may be a letter).
        if wire[offset:end - 4].lower() != asked[:-4] or wire[end - 4:end] != asked[-4:]:
            return None
        offset = end
    elif not (qdcount == 0 and rcode in RCODES_WITHOUT_QUESTION):
        return None
    return flags, rcode, (ancount, nscount, arcount), offset


def read_record(wire: bytes, offset: int) -> tuple[bytes, dns.rdatatype.RdataType, int, int, int, int]:
    """The resource record at ``offset``: its owner (lower-case wire form), type, class, TTL,
    data length and the offset of its data, which is checked to lie inside the message. The
    type is the plain int read (typed as dnspython's readers take it; no enum is made per record)."""
    owner, offset = read_name(wire, offset)
    end = len(wire)
    if offset + 10 > end:
        raise MalformedReply("record header runs past the end of the message")
    rdtype, rdclass, ttl, rdlength = _RR.unpack_from(wire, offset)
    offset += 10
    if offset + rdlength > end:
        raise MalformedReply("record data runs past the end of the message")
    return owner, rdtype, rdclass, ttl, rdlength, offset


# Types whose data holds no name (A, TXT, AAAA, TLSA, CAA) read the same wherever they stand;
# those whose one name comes last, at this offset (NS, CNAME, PTR, MX, SRV), once the name is
# spelt out in full (a compression pointer, RFC 1035 section 4.1.4, reaches into the rest of
# its message).
_PLAIN_TYPES = frozenset({1, 16, 28, 52, 257})
_NAME_AT = {2: 0, 5: 0, 12: 0, 15: 2, 33: 6}
RDATA_MEMO_SIZE = 8192
_rdata_memo: dict[tuple[int, bytes], dns.rdata.Rdata] = {}


def read_rdata(rdtype: dns.rdatatype.RdataType, wire: bytes, offset: int, rdlength: int) -> dns.rdata.Rdata:
    """The record data at ``offset`` as dnspython's ``Rdata``, made once per distinct content.

    dnspython's ``from_wire`` costs 30-45 us a record here (an A record 38 us, a CNAME chain's
    three records 130 us), and a run reads the same data again and again in answers to
    different questions: every domain's autodiscover chain ends in Microsoft's names and
    addresses, most SPF records are the same text. Rdata objects are immutable, so one object
    serves every answer of equal content: the key is the data's bytes with its name spelt out
    (letter case kept, as ``from_wire`` keeps it). Other types, and data that does not read
    as its type's fixed part and one name, go to ``from_wire`` each time, which refuses what
    it refused before.
    """
    if rdtype in _PLAIN_TYPES:
        key = (rdtype, wire[offset:offset + rdlength])
    elif rdtype in _NAME_AT:
        start = offset + _NAME_AT[rdtype]
        name = _full_name(wire, start, offset + rdlength)
        if name is None:
            return dns.rdata.from_wire(_IN_CLASS, rdtype, wire, offset, rdlength)
        key = (rdtype, wire[offset:start] + name)
    else:
        return dns.rdata.from_wire(_IN_CLASS, rdtype, wire, offset, rdlength)
    found = _rdata_memo.get(key)
    if found is None:
        found = dns.rdata.from_wire(_IN_CLASS, rdtype, wire, offset, rdlength)
        if len(_rdata_memo) >= RDATA_MEMO_SIZE:
            _rdata_memo.clear()
        _rdata_memo[key] = found
    return found


_text_memo: dict[int, tuple[dns.rdata.Rdata, str]] = {}  # id(rdata) -> (rdata, its text): kept alive, so ids stay its


def rdata_text(rdata: dns.rdata.Rdata) -> str:
    """``rdata.to_text()``, made once per object: ``read_rdata`` hands out one object for
    every record of equal content, and the audit reads the text of each record of each
    answer (``net.dns._classify``). dnspython's ``to_text`` took 4-9 us a record here (it
    builds a style object each call), some 25 records a domain. The memo holds the objects
    it has texts for, so an object's id is not reused while its text is remembered; it is
    let go at ``RDATA_MEMO_SIZE`` entries, as ``read_rdata``'s."""
    known = _text_memo.get(id(rdata))
    if known is not None and known[0] is rdata:
        return known[1]
    text = rdata.to_text()
    if len(_text_memo) >= RDATA_MEMO_SIZE:
        _text_memo.clear()
    _text_memo[id(rdata)] = (rdata, text)
    return text


def _full_name(wire: bytes, offset: int, end: int) -> bytes | None:
    """The name at ``offset`` spelt out (letter case kept) when it ends the data exactly at
    ``end`` and dnspython reads it (the rules of ``dns.name.from_wire_parser``: each pointer
    leads before the part of the name that holds it, and what it leads to is read up to that
    part and no further, at most 16 of them); otherwise None, and ``from_wire`` reads the data
    as it always did."""
    labels: list[bytes] = []
    size, resume, hops = 1, -1, 0
    limit, part = end, offset  # reads stay below limit; part: where the part being read began
    while True:
        if offset >= limit:
            return None
        length = wire[offset]
        if length == 0:
            offset += 1
            break
        if length < 64:
            size += length + 1
            if offset + 1 + length > limit or size > 255:
                return None
            labels.append(wire[offset:offset + 1 + length])
            offset += 1 + length
        elif length >= 0xC0:
            if offset + 1 >= limit:
                return None
            target = ((length & 0x3F) << 8) | wire[offset + 1]
            hops += 1
            if hops > 16:  # a pointer forward or to itself needs no test: the new limit refuses any read there
                return None
            if resume < 0:
                resume = offset + 2
            limit, part, offset = part, target, target
        else:
            return None
    if (resume if resume >= 0 else offset) != end:
        return None
    return b"".join(labels) + b"\x00"


def parse_reply(wire: bytes, query_id: int, question: Question) -> Reply | None:
    """Read a reply to ``question`` sent with ``query_id``; None when it is not one.

    Raises MalformedReply when it claims to be the reply but cannot be read.
    """
    head = read_header(wire, query_id, question)
    if head is None:
        return None
    flags, rcode, (ancount, _nscount, _arcount), offset = head
    if flags & TC:
        return Reply(rcode, True)
    wanted = question.rdtype
    records = []
    notes: list[str] = []
    for _ in range(ancount):
        owner, rdtype, rdclass, _ttl, rdlength, offset = read_record(wire, offset)
        if rdclass == IN and rdtype in (wanted, CNAME):
            # One record whose data cannot be read (a TXT RR with rdlength 0, seen in the wild)
            # is skipped and noted: its length still frames the rest, which stays usable.
            try:
                records.append((owner, rdtype, read_rdata(rdtype, wire, offset, rdlength)))
            except dns.exception.DNSException as exc:
                if len(notes) < MAX_NOTES:  # a hostile reply may hold many: a few say enough
                    notes.append(f"a {dns.rdatatype.to_text(rdtype)} record with rdlength {rdlength} "
                                 f"could not be read and was skipped: {exc}")
        offset += rdlength
    return Reply(rcode, False, tuple(records), tuple(notes))
