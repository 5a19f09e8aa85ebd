"""Property-based tests of the DNS reply reader (hypothesis, a bounded number of examples).

Whatever arrives (random bytes behind a matching header, valid replies with bytes flipped,
cut or inserted), ``parse_reply`` returns a Reply, returns None (not ours) or raises
MalformedReply: never another exception, which would end a domain's query as a crash. Valid
replies built by dnspython are read back faithfully. ``tests/fuzz/fuzz_wire.py`` runs the
same property for millions of inputs.
"""

from __future__ import annotations

import struct

import dns.message
import dns.rdatatype
import dns.rrset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsaudit.net.wire import MalformedReply, Question, parse_reply

QUESTION = Question.make("example.test.", dns.rdatatype.TXT)
QUERY_ID = 0x1234
HEADER = struct.pack("!HH", QUERY_ID, 0x8180)
BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=20)
names = st.lists(labels, min_size=1, max_size=4).map(lambda parts: ".".join(parts) + ".example.test.")
txt_strings = st.lists(st.binary(min_size=0, max_size=255), min_size=1, max_size=3)


def read(wire: bytes):
    try:
        return parse_reply(wire, QUERY_ID, QUESTION)
    except MalformedReply:
        return "malformed"


def reply(records: list[tuple[str, str, list[bytes]]]) -> bytes:
    query = dns.message.from_wire(QUESTION.query(QUERY_ID, 1232))
    response = dns.message.make_response(query)
    response.use_edns(False)
    for owner, rdtype, strings in records:
        if rdtype == "TXT":
            text = " ".join('"' + "".join(f"\\{b:03d}" for b in s) + '"' for s in strings)
            response.answer.append(dns.rrset.from_text("example.test.", 60, "IN", "TXT", text))
        else:
            response.answer.append(dns.rrset.from_text("example.test.", 60, "IN", "CNAME", owner))
    return response.to_wire()


@BOUNDED
@given(st.binary(max_size=600))
def test_random_bytes_behind_a_matching_header_never_crash_the_reader(tail):
    read(HEADER + tail)
    read(HEADER + struct.pack("!HHHH", 1, 3, 0, 0) + QUESTION.wire + tail)


@BOUNDED
@given(st.lists(st.tuples(names, st.sampled_from(["TXT", "CNAME"]), txt_strings), min_size=1, max_size=5),
       st.data())
def test_damaged_valid_replies_are_read_or_refused_never_a_crash(records, data):
    wire = bytearray(reply(records))
    for _ in range(data.draw(st.integers(1, 8))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(0, len(wire) - 1))
        if action == "flip":
            wire[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del wire[at:at + data.draw(st.integers(1, 16))]
        else:
            wire[at:at] = data.draw(st.binary(min_size=1, max_size=8))
        if len(wire) < 2:
            break
    read(bytes(wire))


@BOUNDED
@given(st.lists(txt_strings, min_size=1, max_size=6, unique_by=lambda s: tuple(s)))
def test_valid_replies_are_read_back_faithfully(records):
    result = read(reply([("", "TXT", strings) for strings in records]))
    assert result not in (None, "malformed")
    got = sorted(tuple(rdata.strings) for _owner, _t, rdata in result.records)
    assert got == sorted(tuple(s) for s in records)
