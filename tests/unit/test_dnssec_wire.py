"""The byte-level reader of DNSSEC replies (``net.dnssec.parse_signed_reply``) against dnspython.

``dnssec.zone``'s questions used to be read by dnspython's message layer; they are now read
byte by byte (see ``dnsaudit.net.dnssec``). Here both read the same generated replies: the
RRset of the asked type, the RRSIGs over it, the signed-denial flag and the rcode must be
dnspython's, record for record, on every well-formed reply, and a damaged one is read,
refused (None) or MalformedReply, never another exception.
"""

from __future__ import annotations

import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dnsaudit.net.dns import Outcome
from dnsaudit.net.dnssec import SignedAnswer, parse_signed_reply, signed_answer
from dnsaudit.net.wire import MalformedReply, Question

QUERY_ID = 0x2a2a
BOUNDED = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIG = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4/QA=="
RECORDS = {
    "DS": ["12345 13 2 " + "ab" * 32, "54321 8 2 " + "cd" * 32],
    "DNSKEY": ["257 3 13 " + SIG, "256 3 13 " + SIG[::-1].replace("=", "") + "=="],
    "SOA": ["ns.example.test. hostmaster.example.test. 1 3600 600 86400 300"],
    "MX": ["0 mail.example.test.", "10 backup.example.test."],
}


def reference(name: str, rdtype: str, response: dns.message.Message) -> SignedAnswer:
    """What ``net.dnssec`` made of a reply through dnspython before it read bytes (its old ``_classify``)."""
    qname = dns.name.from_text(name)
    wanted = dns.rdatatype.from_text(rdtype)
    rrset = rrsigs = None
    for candidate in response.answer:
        if candidate.name != qname or candidate.rdclass != dns.rdataclass.IN:
            continue
        if candidate.rdtype == wanted:
            rrset = candidate
        elif candidate.rdtype == dns.rdatatype.RRSIG and candidate.covers == wanted:
            rrsigs = candidate
    if rrset is not None:
        return SignedAnswer(name, rdtype, Outcome.ANSWER, rrset, rrsigs)
    outcome = Outcome.NXDOMAIN if response.rcode() == dns.rcode.NXDOMAIN else Outcome.NODATA
    denial = any(r.rdtype in (dns.rdatatype.NSEC, dns.rdatatype.NSEC3) for r in response.authority)
    return SignedAnswer(name, rdtype, outcome, denial=denial)


def shape(rrset):
    if rrset is None:
        return None
    return (rrset.name, rrset.rdclass, rrset.rdtype, rrset.covers, rrset.ttl, sorted(r.to_text() for r in rrset))


def same(ours: SignedAnswer, theirs: SignedAnswer) -> None:
    assert (ours.name, ours.rdtype, ours.outcome, ours.denial) == (theirs.name, theirs.rdtype, theirs.outcome,
                                                                  theirs.denial)
    assert shape(ours.rrset) == shape(theirs.rrset)
    assert shape(ours.rrsigs) == shape(theirs.rrsigs)
    assert ours.describe() == theirs.describe()


def rrsig(covered: str, owner: str, ttl: int, tag: int) -> dns.rrset.RRset:
    text = f"{covered} 13 2 3600 20300101000000 20200101000000 {tag} example.test. {SIG}"
    return dns.rrset.from_text(owner, ttl, "IN", "RRSIG", text)


cases = st.fixed_dictionaries({
    "rdtype": st.sampled_from(sorted(RECORDS)),
    "owner": st.sampled_from(["example.test.", "EXAMPLE.test.", "Example.Test."]),
    "rcode": st.sampled_from([dns.rcode.NOERROR, dns.rcode.NXDOMAIN, dns.rcode.SERVFAIL, dns.rcode.BADVERS]),
    "records": st.integers(0, 2),  # how many records of the asked type (0: none)
    "ttls": st.lists(st.integers(0, 86400), min_size=3, max_size=3),
    "sigs": st.lists(st.integers(0, 65535), max_size=3),  # RRSIGs over the asked type, by key tag
    "noise": st.lists(st.sampled_from(["other-owner", "other-type", "sig-other-type", "sig-other-owner", "cname",
                                       "chaos"]), max_size=4),
    "authority": st.lists(st.sampled_from(["SOA", "NSEC", "NSEC3", "NS"]), max_size=3, unique=True),
    "edns": st.booleans(),
})


def build(case) -> tuple[Question, bytes]:
    rdtype = case["rdtype"]
    question = Question.make("example.test.", dns.rdatatype.from_text(rdtype))
    query = dns.message.from_wire(question.query(QUERY_ID, 1232, dnssec=True))
    response = dns.message.make_response(query)
    if not case["edns"]:
        response.use_edns(False)
    response.set_rcode(case["rcode"])
    owner, (ttl_a, ttl_b, ttl_sig) = case["owner"], case["ttls"]
    if case["records"]:
        response.answer.append(dns.rrset.from_text(owner, ttl_a, "IN", rdtype, *RECORDS[rdtype][:case["records"]]))
    for tag in case["sigs"]:
        response.answer.append(rrsig(rdtype, owner, ttl_sig, tag))
    other = "MX" if rdtype != "MX" else "SOA"
    for kind in case["noise"]:
        if kind == "other-owner":
            response.answer.append(dns.rrset.from_text("www.example.test.", ttl_b, "IN", rdtype, RECORDS[rdtype][0]))
        elif kind == "other-type":
            response.answer.append(dns.rrset.from_text(owner, ttl_b, "IN", other, RECORDS[other][0]))
        elif kind == "sig-other-type":
            response.answer.append(rrsig(other, owner, ttl_b, 7))
        elif kind == "sig-other-owner":
            response.answer.append(rrsig(rdtype, "www.example.test.", ttl_b, 8))
        elif kind == "cname":
            response.answer.append(dns.rrset.from_text(owner, ttl_b, "IN", "CNAME", "elsewhere.example.test."))
        else:
            response.answer.append(dns.rrset.from_text(owner, ttl_b, "CH", "TXT", '"chaos"'))
    for kind in case["authority"]:
        text = {"SOA": RECORDS["SOA"][0], "NSEC": "z.example.test. A MX RRSIG NSEC",
                "NSEC3": "1 0 0 - 0123456789abcdefghijklmnopqrstuv A RRSIG", "NS": "ns.example.test."}[kind]
        at = "example.test." if kind != "NSEC3" else "0123456789abcdefghijklmnopqrstuv.example.test."
        response.authority.append(dns.rrset.from_text(at, 300, "IN", kind, text))
    return question, response.to_wire()


def test_the_dnssec_query_is_what_dnspython_would_send():
    ours = dns.message.from_wire(Question.make("Example.TEST.", dns.rdatatype.DNSKEY).query(4242, 1232, dnssec=True))
    theirs = dns.message.make_query("example.test.", "DNSKEY", want_dnssec=True, payload=1232)
    theirs.flags |= dns.flags.CD
    assert ours.id == 4242
    assert (ours.flags, ours.edns, ours.ednsflags, ours.payload) == (theirs.flags, 0, theirs.ednsflags, 1232)
    assert ours.flags & dns.flags.CD and ours.ednsflags & dns.flags.DO
    assert ours.question[0].to_text() == theirs.question[0].to_text()


@BOUNDED
@given(cases)
def test_every_generated_reply_reads_as_dnspython_reads_it(case):
    question, wire = build(case)
    reply = parse_signed_reply(wire, QUERY_ID, question)
    response = dns.message.from_wire(wire)
    assert reply is not None and not reply.truncated
    assert reply.rcode == response.rcode()
    if reply.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        same(signed_answer("example.test.", case["rdtype"], reply), reference("example.test.", case["rdtype"], response))


def test_a_truncated_reply_says_so_and_another_id_is_not_ours():
    question, wire = build({"rdtype": "DNSKEY", "owner": "example.test.", "rcode": 0, "records": 2, "ttls": [1, 2, 3],
                            "sigs": [1], "noise": [], "authority": [], "edns": True})
    truncated = wire[:2] + bytes([wire[2] | 0x02]) + wire[3:]
    assert parse_signed_reply(truncated, QUERY_ID, question).truncated
    assert parse_signed_reply(wire, QUERY_ID + 1, question) is None
    other = Question.make("example.test.", dns.rdatatype.DS)
    assert parse_signed_reply(wire, QUERY_ID, other) is None


def test_a_ttl_with_its_top_bit_set_reads_as_zero_as_dnspython_reads_it():
    """RFC 2181 section 8; found by the damaged-reply property below (a flipped TTL byte:
    0x80000001 kept as it was, against dnspython's 0, in an RRSIG set whose other TTL was 1)."""
    for ttls in ([0x80000001, 7, 1], [7, 0, 0xFFFFFFFF], [0x7FFFFFFF, 0, 0x7FFFFFFF]):
        case = {"rdtype": "MX", "owner": "example.test.", "rcode": dns.rcode.NOERROR, "records": 2, "ttls": ttls,
                "sigs": [3, 3, 4], "noise": [], "authority": [], "edns": True}
        question, wire = build(case)
        ours = signed_answer("example.test.", "MX", parse_signed_reply(wire, QUERY_ID, question))
        same(ours, reference("example.test.", "MX", dns.message.from_wire(wire)))
        assert (ours.rrset.ttl, ours.rrsigs.ttl) == tuple(t if t <= 0x7FFFFFFF else 0 for t in (ttls[0], ttls[2]))


@BOUNDED
@given(cases, st.data())
def test_damaged_replies_are_read_refused_or_malformed_and_agree_with_dnspython_when_both_read_them(case, data):
    question, wire = build(case)
    damaged = bytearray(wire)
    for _ in range(data.draw(st.integers(1, 6))):
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        at = data.draw(st.integers(12, max(12, len(damaged) - 1)))
        if action == "flip":
            damaged[at:at + 1] = bytes([data.draw(st.integers(0, 255))])
        elif action == "cut":
            del damaged[at:at + data.draw(st.integers(1, 16))]
        else:
            damaged[at:at] = data.draw(st.binary(min_size=1, max_size=8))
    try:
        reply = parse_signed_reply(bytes(damaged), QUERY_ID, question)
    except MalformedReply:
        return
    try:
        response = dns.message.from_wire(bytes(damaged))
    except Exception:  # noqa: BLE001 - dnspython refuses more than the reader needs to
        return
    if reply is None or reply.truncated or reply.rcode not in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
        return
    assert reply.rcode == response.rcode()
    same(signed_answer("example.test.", case["rdtype"], reply), reference("example.test.", case["rdtype"], response))
