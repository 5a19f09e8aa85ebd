"""The reply reader's memo of record data (``dnsaudit.net.wire.read_rdata``) changes nothing.

Each reply, valid or damaged, is read twice: with the memo, warmed by every reply before it
(so that equal contents at other places, compressed differently, are found in it), and with
dnspython's ``from_wire`` alone, as before the memo. Both readings must agree record for record,
letter case included, and fail alike. ``tests/fuzz/fuzz_wire.py --memo`` runs the same
comparison for as long as you let it.
"""

from __future__ import annotations

import dns.message
import dns.rdata
import dns.rdatatype
import dns.rrset
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsaudit.net import wire as wire_module
from dnsaudit.net.wire import MalformedReply, Question, parse_reply

QUERY_ID = 0x2345
BOUNDED = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

labels = st.sampled_from(["a", "B", "mail", "Outlook", "com", "x", "_tcp", "autod"])
names = st.lists(labels, min_size=1, max_size=4).map(lambda parts: ".".join(parts) + ".example.test.")
TYPES = ["A", "AAAA", "TXT", "CNAME", "MX", "SRV", "NS", "PTR"]


def rdata_text(rdtype: str, name: str, number: int) -> str:
    return {"A": f"192.0.2.{number % 250}", "AAAA": f"2001:db8::{number:x}", "TXT": f'"v=spf1 ip4:192.0.2.{number % 250} -all"',
            "CNAME": name, "NS": name, "PTR": name, "MX": f"{number % 20} {name}",
            "SRV": f"0 {number % 5} 443 {name}"}[rdtype]


records = st.lists(st.tuples(names, st.sampled_from(TYPES), names, st.integers(0, 40)), min_size=1, max_size=6)


def build(question: Question, chosen) -> bytes:
    """A reply whose names dnspython compresses against each other (pointers in record data)."""
    response = dns.message.make_response(dns.message.from_wire(question.query(QUERY_ID, 1232)))
    for owner, rdtype, target, number in chosen:
        response.answer.append(dns.rrset.from_text(owner, 60, "IN", rdtype, rdata_text(rdtype, target, number)))
    return response.to_wire()


def read(data: bytes, question: Question):
    try:
        reply = parse_reply(data, QUERY_ID, question)
    except MalformedReply as exc:
        return ("malformed", str(exc))
    if reply is None:
        return None
    for _owner, _rdtype, rdata in reply.records:
        assert wire_module.rdata_text(rdata) == rdata.to_text()  # the texts' memo, too
    return (reply.rcode, reply.truncated, reply.notes,
            tuple((owner, rdtype, type(rdata).__name__, rdata.to_text()) for owner, rdtype, rdata in reply.records))


def read_without_memo(data: bytes, question: Question, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(wire_module, "read_rdata", lambda rdtype, message, offset, length: dns.rdata.from_wire(
            wire_module._IN_CLASS, rdtype, message, offset, length))
        return read(data, question)


@pytest.fixture(scope="module")
def monkeymodule():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@BOUNDED
@given(records, st.sampled_from(TYPES), st.data())
def test_with_and_without_the_memo_every_reply_reads_the_same(monkeymodule, chosen, asked, data):
    owner = chosen[0][0]
    question = Question.make(owner, dns.rdatatype.from_text(asked))
    chosen = [(owner if i == 0 else o, asked if data.draw(st.booleans()) else t, target, n)
              for i, (o, t, target, n) in enumerate(chosen)]
    message = bytearray(build(question, chosen))
    for _ in range(data.draw(st.integers(0, 4))):  # damage it (or not)
        at = data.draw(st.integers(12, len(message) - 1))
        message[at] = data.draw(st.sampled_from([0x00, 0x01, 0x3F, 0x40, 0xC0, 0xC1, 0xFF, message[at] ^ 0x20]))
    message = bytes(message)
    with_memo = read(message, question)
    assert with_memo == read_without_memo(message, question, monkeymodule)
    assert read(message, question) == with_memo  # read again: now from the memo


def test_equal_contents_at_other_places_share_one_object():
    """What the memo is for: the same CNAME target, compressed against other names in two
    replies, and the same address, are read once."""
    first = Question.make("autodiscover.one.test.", dns.rdatatype.A)
    second = Question.make("autodiscover.two.test.", dns.rdatatype.A)
    chain = [("autodiscover.outlook.com.", "CNAME", "autod.office.com.", 0), ("autod.office.com.", "A", "", 10)]
    one = parse_reply(build(first, [("autodiscover.one.test.", "CNAME", "autodiscover.outlook.com.", 0), *chain]),
                      QUERY_ID, first)
    two = parse_reply(build(second, [("autodiscover.two.test.", "CNAME", "autodiscover.outlook.com.", 0), *chain]),
                      QUERY_ID, second)
    assert one is not None and two is not None
    assert [r.to_text() for _o, _t, r in one.records] == [r.to_text() for _o, _t, r in two.records]
    assert all(a is b for (_o, _t, a), (_p, _u, b) in zip(one.records, two.records, strict=True))


def test_letter_case_is_kept_apart():
    question = Question.make("x.example.test.", dns.rdatatype.CNAME)
    lower = parse_reply(build(question, [("x.example.test.", "CNAME", "target.example.net.", 0)]), QUERY_ID, question)
    upper = parse_reply(build(question, [("x.example.test.", "CNAME", "TARGET.example.net.", 0)]), QUERY_ID, question)
    assert lower is not None and upper is not None
    assert lower.records[0][2].to_text() == "target.example.net."
    assert upper.records[0][2].to_text() == "TARGET.example.net."


def dnspython_reads(message: bytes, offset: int, end: int) -> bytes | None:
    """The name dnspython's record readers take from ``message[offset:end]`` (uncompressed,
    case kept), or None when they refuse it."""
    import dns.exception
    import dns.name
    import dns.wirebase

    parser = dns.wirebase.Parser(message, offset)
    try:
        with parser.restrict_to(end - offset):
            name = dns.name.from_wire_parser(parser)
    except dns.exception.DNSException:
        return None
    return name.to_wire()


# Bytes a name is made of, and the ones that break it: label lengths, pointers, letters.
name_bytes = st.lists(st.sampled_from([0, 1, 2, 3, 5, 63, 64, 0x80, 0xC0, 0xC1, 0xFF, 97, 98, 65]), max_size=48)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name_bytes, st.integers(0, 47), st.integers(0, 48))
def test_a_name_is_spelt_out_only_where_dnspython_reads_the_same(raw, offset, end):
    """``_full_name`` is the memo's key: it must never accept what dnspython refuses (compression
    pointers that go forward, into the name itself, or too many of them), nor spell it otherwise."""
    message = bytes(raw)
    if offset >= len(message) or end > len(message) or end <= offset:
        return
    ours = wire_module._full_name(message, offset, end)
    if ours is not None:
        assert ours == dnspython_reads(message, offset, end)


def chain(pointers: int) -> tuple[bytes, int, int]:
    """A name of ``pointers`` compression pointers, each leading to the one before, then a label."""
    message = b"\x01a\x00" + bytes((0xC0, 0))
    for n in range(1, pointers):
        message += bytes((0xC0, 3 + 2 * (n - 1)))
    return message, len(message) - 2, len(message)


@pytest.mark.parametrize("message, offset, end", [
    (b"\x01a\x00" + b"\xc0\x00", 3, 5),  # a pointer back: read
    (b"\xc0\x02" + b"\x01a\x00", 0, 2),  # a pointer forward: refused
    (b"\x01a\xc0\x00", 0, 4),  # a pointer to the name's own start: refused
    (b"\x02\xc0\x00\x00" + b"\xc0\x01", 4, 6),  # the second pointer's label runs over the first's part: refused
    (*chain(16),),  # 16 pointers, each to the one before: read
    (*chain(17),),  # 17: refused
])
def test_pointers_as_dnspython_takes_them(message, offset, end):
    assert wire_module._full_name(message, offset, end) == dnspython_reads(message, offset, end)


def test_a_remembered_text_is_never_another_objects(monkeypatch):
    """The texts' memo is keyed by id: an entry left by another object with that id (as after
    the memo let an object go and a new one took its place) is not taken for this one's."""
    first = dns.rdata.from_text("IN", "CNAME", "first.example.")
    other = dns.rdata.from_text("IN", "CNAME", "other.example.")
    monkeypatch.setattr(wire_module, "_text_memo", {id(other): (first, "first.example.")})
    assert wire_module.rdata_text(other) == "other.example."
    assert wire_module.rdata_text(other) == "other.example."  # now remembered as its own
    assert wire_module._text_memo[id(other)][0] is other
