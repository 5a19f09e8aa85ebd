"""The byte-level query builder and reply reader: faithful on good replies, safe on hostile ones."""

from __future__ import annotations

import struct

import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
import pytest

from dnsaudit.net.wire import MalformedReply, Question, encode_name, parse_reply, read_name


def reply_to(question: Question, query_id: int, *rrsets, rcode: int = 0) -> bytes:
    query = dns.message.from_wire(question.query(query_id, 1232))
    response = dns.message.make_response(query)
    response.use_edns(False)  # the answer section ends the message
    response.set_rcode(rcode)
    response.answer.extend(rrsets)
    return response.to_wire()


def test_the_query_is_what_dnspython_would_send():
    question = Question.make("Example.TEST.", dns.rdatatype.MX)
    query = dns.message.from_wire(question.query(4242, 1232))
    assert query.id == 4242 and query.flags & 0x0100  # RD
    assert query.question[0].to_text() == "example.test. IN MX"
    assert query.edns == 0 and query.payload == 1232


def test_answer_records_of_the_asked_type_and_cnames_are_kept_with_compressed_names():
    question = Question.make("www.example.test.", dns.rdatatype.A)
    wire = reply_to(
        question, 7,
        dns.rrset.from_text("www.example.test.", 60, "IN", "CNAME", "host.example.test."),
        dns.rrset.from_text("host.example.test.", 60, "IN", "A", "192.0.2.1", "192.0.2.2"),
        dns.rrset.from_text("host.example.test.", 60, "IN", "TXT", '"not asked"'),
    )
    reply = parse_reply(wire, 7, question)
    assert reply.rcode == 0 and not reply.truncated
    assert sorted((owner, t, r.to_text()) for owner, t, r in reply.records) == [
        (b"\x03www\x07example\x04test\x00", 5, "host.example.test."),
        (b"\x04host\x07example\x04test\x00", 1, "192.0.2.1"),
        (b"\x04host\x07example\x04test\x00", 1, "192.0.2.2"),
    ]  # dnspython may render an rrset's records in any order


def test_a_reply_with_another_id_or_question_is_not_ours():
    question = Question.make("good.test.", dns.rdatatype.A)
    assert parse_reply(reply_to(question, 7), 8, question) is None
    other = Question.make("evil.test.", dns.rdatatype.A)
    assert parse_reply(reply_to(other, 7), 7, question) is None
    assert parse_reply(b"\x00\x07", 7, question) is None


def test_the_question_echo_is_compared_without_regard_to_case():
    question = Question.make("good.test.", dns.rdatatype.A)
    wire = bytearray(reply_to(question, 7))
    wire[13:17] = b"GOOD"
    assert parse_reply(bytes(wire), 7, question) is not None


def test_a_type_whose_bytes_look_like_letters_is_matched_exactly():
    question = Question.make("good.test.", 65)  # HTTPS: 0x0041, an "A" to bytes.lower()
    assert parse_reply(reply_to(question, 4), 4, question) is not None
    other = Question.make("good.test.", 97)  # 0x0061, "a"
    assert parse_reply(reply_to(other, 4), 4, question) is None


def test_an_error_reply_without_question_section_is_accepted():
    question = Question.make("good.test.", dns.rdatatype.A)
    refused = struct.pack("!HHHHHH", 9, 0x8000 | 5, 0, 0, 0, 0)
    assert parse_reply(refused, 9, question).rcode == 5
    noerror = struct.pack("!HHHHHH", 9, 0x8000, 0, 0, 0, 0)
    assert parse_reply(noerror, 9, question) is None


def test_truncation_is_reported_and_nothing_is_read_past_it():
    question = Question.make("big.test.", dns.rdatatype.TXT)
    wire = bytearray(reply_to(question, 3))
    wire[2] |= 0x02
    reply = parse_reply(bytes(wire), 3, question)
    assert reply.truncated and reply.records == ()


@pytest.mark.parametrize(("wire", "why"), [
    (b"\xc0\x00", "too many compression pointers"),  # points at itself
    (b"\x03abc", "past the end"),
    (b"\xc0", "past the end"),
    (b"\x40abc\x00", "unknown label type"),
    (b"\x3f" + b"a" * 63 + b"\x3f" + b"a" * 63 + b"\x3f" + b"a" * 63 + b"\x3f" + b"a" * 63 + b"\x00", "too long"),
])
def test_hostile_names_are_refused(wire, why):
    with pytest.raises(MalformedReply, match=why):
        read_name(wire, 0)


def test_a_record_running_past_the_end_is_malformed():
    question = Question.make("good.test.", dns.rdatatype.A)
    wire = reply_to(question, 5, dns.rrset.from_text("good.test.", 60, "IN", "A", "192.0.2.1"))
    with pytest.raises(MalformedReply):
        parse_reply(wire[:-2], 5, question)


def test_an_unreadable_record_whose_length_frames_it_is_skipped_with_a_note():
    """An A record of 3 bytes: its rdlength still says where the next record starts, so the
    record is left out (and said so) instead of the whole reply being refused."""
    question = Question.make("good.test.", dns.rdatatype.A)
    wire = reply_to(question, 5, dns.rrset.from_text("good.test.", 60, "IN", "A", "192.0.2.1"))
    reply = parse_reply(wire[:-6] + b"\x00\x03" + wire[-4:-1], 5, question)
    assert reply.records == ()
    assert reply.notes and "rdlength 3" in reply.notes[0]


def with_empty_txt(wire: bytes) -> bytes:
    """The reply with one more answer record: a TXT RR at the question's name with rdlength 0
    (no character-string at all, which RFC 1035 §3.3.14 does not allow and dnspython cannot build)."""
    header = bytearray(wire[:12])
    struct.pack_into("!H", header, 6, struct.unpack_from("!H", wire, 6)[0] + 1)
    return bytes(header) + wire[12:] + b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 300, 0)


def test_a_txt_record_with_rdlength_0_is_skipped_and_the_other_records_are_used():
    question = Question.make("spf.test.", dns.rdatatype.TXT)
    wire = with_empty_txt(reply_to(question, 9, dns.rrset.from_text("spf.test.", 60, "IN", "TXT",
                                                                   '"v=spf1 ip4:192.0.2.5 -all"')))
    reply = parse_reply(wire, 9, question)
    assert [r.to_text() for _o, _t, r in reply.records] == ['"v=spf1 ip4:192.0.2.5 -all"']
    assert reply.notes == ("a TXT record with rdlength 0 could not be read and was skipped: "
                           "the list of strings must not be empty",)


def test_a_flood_of_unreadable_records_is_noted_only_a_few_times():
    question = Question.make("spf.test.", dns.rdatatype.TXT)
    wire = reply_to(question, 9)
    for _ in range(50):
        wire = with_empty_txt(wire)
    reply = parse_reply(wire, 9, question)
    assert reply.records == () and len(reply.notes) == 3


@pytest.mark.parametrize("name", [".", "example.test.", "Example.TEST", "_dmarc.a-b.example.test.", "x" * 63 + ".test.",
                                  "a\\.b.test.", "caf\\195\\169.test.", "\u00e9.test.", ".".join(["a" * 63] * 4)])
def test_names_are_encoded_as_dnspython_would(name):
    try:
        expected = dns.name.from_text(name).canonicalize().to_wire()
    except dns.exception.DNSException as exc:
        with pytest.raises(type(exc)):
            encode_name(name)
        return
    assert encode_name(name) == expected


@pytest.mark.parametrize("name", ["a..test.", "x" * 64 + ".test.", "a.b.."])
def test_invalid_names_are_refused_as_dnspython_refuses_them(name):
    with pytest.raises(dns.exception.DNSException):
        encode_name(name)
