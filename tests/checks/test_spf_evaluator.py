"""RFC 7208 check_host() against zone data served by the real test DNS server."""

from __future__ import annotations

import asyncio
import ipaddress
from pathlib import Path

import pytest

from dnsaudit.mail.spf import _SUBTREES, SpfEvaluator
from dnsaudit.mail.spf_macro import SpfRequest, expand
from dnsaudit.mail.spf_record import SpfSyntaxError, parse_record
from dnsaudit.mail.spf_tree import build_tree
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.testing import ZoneServer

ZONE = (Path(__file__).parent / "spf_zone.txt").read_text()
REVERSE = """
@ SOA ns.spf.test. hostmaster.spf.test. 1 3600 600 86400 300
50 PTR named.spf.test.
51 PTR named.spf.test.
""" + "".join(f"60 PTR p{n:02}.spf.test.\n" for n in range(1, 11)) + "60 PTR a-good.spf.test.\n"


@pytest.fixture(scope="module")
def spf_server():
    server = ZoneServer()
    server.add_zone_text("spf.test.", ZONE)
    # a TXT record of rdlength 0 beside zerotxt.spf.test's SPF record (seen in the wild)
    server.add_raw_record("zerotxt.spf.test", "TXT", b"")
    server.add_zone_text("2.0.192.in-addr.arpa.", REVERSE)
    server.add_zone_text("test.", "@ SOA ns hostmaster 1 3600 600 86400 300")
    server.set_fault("slow.test", "timeout")
    with server:
        yield server


def check(server, ip: str, domain: str, sender: str | None = None):
    async def go():
        dns = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=1.0, retries=0)
        return await SpfEvaluator(dns).check_host(ip, domain, sender)

    return asyncio.run(go())


CASES = [
    # record selection and joining
    ("192.0.2.5", "basic.spf.test", "pass"),
    ("198.51.100.1", "basic.spf.test", "fail"),
    ("192.0.2.1", "split.spf.test", "pass"),  # "v=spf1 ip4:192.0.2.1" " -all"
    ("192.0.2.1", "split-nospace.spf.test", "permerror"),  # joins to "ip4:192.0.2.1-all"
    ("192.0.2.1", "notspf.spf.test", "none"),  # v=spf10 is not SPF
    ("192.0.2.1", "empty.spf.test", "neutral"),
    ("192.0.2.1", "two.spf.test", "permerror"),
    ("192.0.2.1", "nospf.spf.test", "none"),
    ("192.0.2.1", "nothere.spf.test", "none"),
    ("192.0.2.1", "not_a_domain", "none"),
    # include semantics
    ("192.0.2.5", "inc-pass.spf.test", "pass"),
    ("203.0.113.9", "inc-fail.spf.test", "pass"),  # include fail = no match, next term matches
    ("198.51.100.9", "inc-fail.spf.test", "softfail"),
    ("192.0.2.5", "inc-missing.spf.test", "permerror"),  # include of a domain without SPF
    ("192.0.2.5", "inc-nx.spf.test", "permerror"),
    ("192.0.2.5", "inc-slow.spf.test", "temperror"),
    ("192.0.2.5", "inc-perm.spf.test", "permerror"),
    # redirect
    ("192.0.2.5", "redir.spf.test", "pass"),
    ("198.51.100.1", "redir.spf.test", "fail"),
    ("192.0.2.5", "redir-all.spf.test", "neutral"),  # 'all' present: redirect ignored
    ("192.0.2.5", "redir-none.spf.test", "permerror"),
    ("192.0.2.5", "redir-dup.spf.test", "permerror"),
    # the ten-lookup limit, counted across the recursion
    ("192.0.2.9", "limit10.spf.test", "pass"),
    ("192.0.2.9", "limit11.spf.test", "permerror"),
    ("192.0.2.9", "nest10.spf.test", "pass"),
    ("192.0.2.9", "nest11.spf.test", "permerror"),
    # void lookups
    ("192.0.2.9", "void2.spf.test", "pass"),
    ("192.0.2.9", "void3.spf.test", "permerror"),
    # mx, a, dual CIDR
    ("198.51.100.1", "mx11.spf.test", "permerror"),
    ("192.0.2.1", "mx-dom.spf.test", "pass"),
    ("192.0.3.1", "mx-dom.spf.test", "fail"),
    ("2001:db8:77::ffff", "mx-dom.spf.test", "pass"),
    ("192.0.2.1", "dual.spf.test", "pass"),
    ("192.0.3.1", "dual.spf.test", "fail"),
    ("2001:db8:1:2:ffff::1", "dual.spf.test", "pass"),
    ("2001:db8:1:3::1", "dual.spf.test", "fail"),
    # ip4/ip6 and CIDR edges
    ("2001:db8:abcd:1::5", "v6.spf.test", "pass"),
    ("2001:db8:abce::5", "v6.spf.test", "fail"),
    ("::ffff:192.0.2.5", "v6.spf.test", "pass"),  # IPv4-mapped IPv6 compared as IPv4
    ("192.0.2.5", "cidr32.spf.test", "pass"),
    ("192.0.2.6", "cidr32.spf.test", "fail"),
    ("203.0.113.1", "cidr0.spf.test", "pass"),
    ("192.0.2.5", "cidr33.spf.test", "permerror"),
    ("192.0.2.5", "partial.spf.test", "permerror"),
    ("192.0.2.5", "zerolead.spf.test", "permerror"),
    # syntax
    ("192.0.2.5", "unknown-mech.spf.test", "permerror"),
    ("192.0.2.5", "unknown-mod.spf.test", "pass"),
    ("192.0.2.5", "c-macro.spf.test", "permerror"),  # %{c} only in exp
    # exists with macros (A lookup even for IPv6 clients)
    ("192.0.2.7", "exists-mac.spf.test", "pass"),
    ("192.0.2.8", "exists-mac.spf.test", "fail"),
    # ptr
    ("192.0.2.50", "ptr-dom.spf.test", "pass"),
    ("192.0.2.51", "ptr-dom.spf.test", "fail"),  # PTR does not resolve back to it
    # a DNS failure is temperror, never a pass and never "none"
    ("192.0.2.5", "a-slow.spf.test", "temperror"),
    # qualifiers
    ("203.0.113.1", "plus-all.spf.test", "pass"),
    ("203.0.113.1", "q-all.spf.test", "neutral"),
    ("203.0.113.1", "soft.spf.test", "softfail"),
    # an include target the run has evaluated already, from where this request stands
    ("192.0.2.9", "nest10.spf.test", "pass"),  # nested9.spf.test's 9 lookups after 1: fits
    ("192.0.2.9", "memo-after-one.spf.test", "permerror"),  # the same 9 after 2: 11
    ("192.0.2.9", "memo-void-ok.spf.test", "pass"),  # void1.spf.test's void after none
    ("192.0.2.9", "memo-void.spf.test", "permerror"),  # the same void after 2: 3
]


@pytest.mark.parametrize(("ip", "domain", "result"), CASES)
def test_check_host(spf_server, ip, domain, result):
    got = check(spf_server, ip, domain)
    assert got.result == result, got


def test_the_runs_memo_of_include_targets_changes_no_result(spf_server):
    """One resolver for every case, twice over and in both orders: each include and
    redirect target's outcome is then replayed from the run's memo wherever it may be, and
    every field of every result (the counters, the path, the evidence) must be what a
    resolver of its own gives."""
    fresh = {(ip, domain): check(spf_server, ip, domain) for ip, domain, _ in CASES}

    async def shared():
        dns = DnsClient([Nameserver("127.0.0.1", spf_server.port)], timeout=1.0, retries=0)
        got = []
        for ip, domain, _ in [*CASES, *reversed(CASES), *CASES]:
            got.append(((ip, domain), await SpfEvaluator(dns).check_host(ip, domain)))
        return dns, got

    dns, results = asyncio.run(shared())
    memo = {(domain, str(ip)) for domain, ip in _SUBTREES[dns]}
    assert {("nested9.spf.test", "192.0.2.9"), ("void1.spf.test", "192.0.2.9"), ("basic.spf.test", "192.0.2.5"),
            ("hard.spf.test", "198.51.100.9")} <= memo  # the memo served
    for key, got in results:
        assert got == fresh[key], key


def test_an_include_that_reads_the_sender_is_evaluated_for_each_sender(spf_server):
    async def go():
        dns = DnsClient([Nameserver("127.0.0.1", spf_server.port)], timeout=1.0, retries=0)
        evaluator = SpfEvaluator(dns)
        first = await evaluator.check_host("192.0.2.9", "memo-sender.spf.test", "alice@memo-sender.spf.test")
        second = await evaluator.check_host("192.0.2.9", "memo-sender.spf.test", "bob@memo-sender.spf.test")
        return first, second, dns

    alice, bob, dns = asyncio.run(go())
    assert (alice.result, bob.result) == ("pass", "fail")
    assert ("by-sender.spf.test", alice_ip := ipaddress.ip_address("192.0.2.9")) not in _SUBTREES[dns], alice_ip


def test_a_replayed_include_target_stands_only_while_the_resolver_holds_its_answers():
    """The DNS client keeps a bounded number of answers and asks an evicted question again:
    an include target's outcome built from an answer it let go is evaluated anew (here the
    provider's TXT times out when asked again: temperror, never the old pass)."""
    server = ZoneServer()
    server.add_zone_text("memo.test.", """
@ SOA ns hostmaster 1 3600 600 86400 300
a TXT "v=spf1 include:prov.memo.test -all"
b TXT "v=spf1 include:prov.memo.test -all"
prov TXT "v=spf1 ip4:192.0.2.9 -all"
filler A 192.0.2.1
""")

    async def go():
        dns = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=0.5, retries=0, max_cached=1)
        first = await SpfEvaluator(dns).check_host("192.0.2.9", "a.memo.test")
        await dns.query("filler.memo.test", "A")  # the cache (one answer) lets prov's TXT go
        server.set_fault("prov.memo.test", "timeout", "TXT")  # asked again, it times out
        second = await SpfEvaluator(dns).check_host("192.0.2.9", "b.memo.test")
        fresh = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=0.5, retries=0)
        reference = await SpfEvaluator(fresh).check_host("192.0.2.9", "b.memo.test")
        return first, second, reference

    with server:
        first, second, reference = asyncio.run(go())
    assert (first.result, reference.result) == ("pass", "temperror")
    assert second == reference


def test_a_resolver_that_cannot_say_what_it_holds_gets_no_memo():
    from dnsaudit.mail.spf import _subtree_memo
    from dnsaudit.testing import FakeResolver

    assert _subtree_memo(FakeResolver({})) is None
    assert _subtree_memo(DnsClient([Nameserver("127.0.0.1", 53)])) == {}


def test_the_deciding_term_and_path_are_reported(spf_server):
    got = check(spf_server, "192.0.2.5", "inc-pass.spf.test")
    assert got.decided_by == ("include:basic.spf.test", "ip4:192.0.2.0/24")
    got = check(spf_server, "192.0.2.5", "redir.spf.test")
    assert got.decided_by == ("redirect=basic.spf.test", "ip4:192.0.2.0/24")
    limit = check(spf_server, "192.0.2.9", "limit11.spf.test")
    assert "more than 10 DNS lookups" in limit.reason and "a:h11.spf.test" in limit.reason
    assert check(spf_server, "192.0.2.9", "limit10.spf.test").lookups == 10
    assert check(spf_server, "192.0.2.9", "void2.spf.test").voids == 2


def test_explanation_on_fail(spf_server):
    got = check(spf_server, "192.0.2.99", "explained.spf.test")
    assert got.result == "fail"
    assert got.explanation == "192.0.2.99 is not one of explained.spf.test's senders"


RFC_SENDER = "strong-bad@email.example.com"


@pytest.mark.parametrize(
    ("macro", "expanded"),
    [  # RFC 7208 §7.4
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        ("%{S}", "strong-bad%40email.example.com"),
        ("a%%b%_c%-d", "a%b c%20d"),
    ],
)
def test_macro_expansion_rfc_examples(macro, expanded):
    import ipaddress

    req = SpfRequest(ipaddress.ip_address("192.0.2.3"), RFC_SENDER, "mx.example.org")
    assert asyncio.run(expand(macro, "email.example.com", req)) == expanded


def test_macro_expansion_ipv6():
    import ipaddress

    req = SpfRequest(ipaddress.ip_address("2001:db8::cb01"), RFC_SENDER, "mx.example.org")
    assert asyncio.run(expand("%{ir}.%{v}._spf.%{d2}", "email.example.com", req)) == (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.example.com"
    )


def test_expansion_longer_than_253_drops_left_labels():
    import ipaddress

    req = SpfRequest(ipaddress.ip_address("192.0.2.3"), ("x" * 60 + ".") * 5 + "example.com", "h")
    out = asyncio.run(expand("%{o}", "d.example", req))
    assert len(out) <= 253 and out.endswith("example.com")


@pytest.mark.parametrize(
    ("record", "position"),
    [("v=spf1 ip4:192.0.2.1 bogus -all", 21), ("v=spf1 include -all", 7), ("v=spf1 a:%{q}.x.com", 7),
     ("v=spf1 exists:%{i0}.x.com", 7), ("v=spf1 include:x.com redirect=a.com redirect=b.com", 36),
     ("v=spf1 a:host", 7), ("v=spf1 all:x", 7)],
)
def test_syntax_errors_carry_their_position(record, position):
    with pytest.raises(SpfSyntaxError) as info:
        parse_record(record)
    assert info.value.position == position
    assert "\u2192" in info.value.marked()


def test_tree_counts_worst_case_lookups_and_finds_problems(spf_server):
    async def go(domain):
        dns = DnsClient([Nameserver("127.0.0.1", spf_server.port)], timeout=1.0, retries=0)
        return await build_tree(dns, domain)

    tree = asyncio.run(go("nest11.spf.test"))
    assert tree.worst_case_lookups == 11
    tree = asyncio.run(go("inc-missing.spf.test"))
    assert [(p.domain, p.status) for p in tree.problems()] == [("nospf.spf.test", "none")]
    tree = asyncio.run(go("void3.spf.test"))
    assert tree.void_targets == ["a:nx1.spf.test", "a:nx2.spf.test", "a:nx3.spf.test"]
    tree = asyncio.run(go("redir-all.spf.test"))
    assert tree.worst_case_lookups == 0 and tree.children == []


# -- RFC 7208 edge cases (each test names the section it follows) ------------------------------


@pytest.mark.parametrize(("ip", "domain"), [("192.0.2.5", "lf-ip4.spf.test"), ("198.51.100.1", "lf-all.spf.test")])
def test_rfc7208_s12_a_line_feed_after_a_term_is_a_syntax_error_not_trimmed(spf_server, ip, domain):
    got = check(spf_server, ip, domain)
    assert got.result == "permerror", got
    assert "whitespace other than a space" in got.reason and "\\n" in got.reason


def test_rfc7208_s7_1_macro_c_in_the_exp_domain_spec_is_a_syntax_error(spf_server):
    got = check(spf_server, "192.0.2.99", "exp-c.spf.test")
    assert got.result == "permerror", got
    assert "allowed only in 'exp'" in got.reason


def test_rfc7208_s7_1_macro_c_in_the_explanation_text_is_expanded(spf_server):
    got = check(spf_server, "192.0.2.99", "exp-c-text.spf.test")
    assert (got.result, got.explanation) == ("fail", "192.0.2.99 may not send for exp-c-text.spf.test")


@pytest.mark.parametrize("record", ["v=spf1 exp=%{r}.example.com -all", "v=spf1 exp=%{t}.example.com -all",
                                    "v=spf1 redirect=%{c}.example.com"])
def test_rfc7208_s7_1_macros_c_r_t_outside_explanation_text_do_not_parse(record):
    with pytest.raises(SpfSyntaxError, match="allowed only in 'exp'"):
        parse_record(record)


def test_rfc7208_s4_8_a_single_label_target_after_expansion_is_no_match_not_permerror(spf_server):
    got = check(spf_server, "192.0.2.5", "toplabel-after.spf.test")
    assert (got.result, got.decided_by) == ("pass", ("ip4:192.0.2.5",)), got
    assert any("'test' is not a valid domain name; no lookup" in e.line() for e in got.trace)
    assert got.lookups == 3 and got.voids == 0  # counted as terms, but no query was made


def test_rfc7208_s4_8_a_target_with_a_space_after_expansion_is_no_match(spf_server):
    got = check(spf_server, "192.0.2.5", "odd-after.spf.test")
    assert got.result == "pass", got
    assert any("' x.odd-after.spf.test' is not a valid domain name; no lookup" in e.line() for e in got.trace)
    assert got.voids == 0


def test_rfc7208_s4_3_and_s5_2_an_include_of_a_malformed_target_is_permerror(spf_server):
    got = check(spf_server, "192.0.2.5", "include-toplabel.spf.test")
    assert got.result == "permerror" and "gives none" in got.reason, got


def test_rfc7208_s4_3_the_initial_domain_must_be_a_multi_label_name(spf_server):
    assert check(spf_server, "192.0.2.5", "localhost").result == "none"


def test_rfc7208_s5_5_ptr_uses_the_first_ten_names_in_the_order_the_server_gave(spf_server):
    """The eleventh PTR name is the only one that resolves back; sorted, it would come first."""
    got = check(spf_server, "192.0.2.60", "ptr-order.spf.test")
    assert got.result == "fail", got
    assert spf_server.count("a-good.spf.test", "A") == 0


def test_rfc7208_s4_4_an_unreadable_txt_record_beside_the_spf_record_is_skipped_with_a_note(spf_server):
    got = check(spf_server, "192.0.2.5", "zerotxt.spf.test")
    assert got.result == "pass", got
    assert "rdlength 0 could not be read and was skipped" in got.trace[0].line()
    assert got.trace[0].notes  # the value keeps the note apart from the records
    from dnsaudit.results_read import evidence_from_line

    assert evidence_from_line(got.trace[0].line()) == got.trace[0]  # and a stored line reads back into it
