"""A hostile DNS server on 127.0.0.1: forged datagrams before the real reply, oversized replies, CNAME loops.

``HostileServer`` answers each query with whatever datagrams its ``respond`` function makes
of it, in order, so a test can put a malformed or oversized reply (matching ID and
question) right in front of the real one, as an off-path forger or a broken middlebox would.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable

import dns.message
import dns.rdatatype
import dns.rrset
import pytest

from dnsaudit.check import Settings
from dnsaudit.model import DomainEntry, Status
from dnsaudit.net.dns import DnsClient, Nameserver, Outcome
from dnsaudit.registry import load_checks
from dnsaudit.runner import audit_entries


class HostileServer:
    def __init__(self, respond: Callable[[dns.message.Message], list[bytes]]) -> None:
        self.respond = respond
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            query = dns.message.from_wire(data)
            for datagram in self.respond(query):
                self.sock.sendto(datagram, peer)

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.sock.close()


def reply(query: dns.message.Message, *records: str) -> dns.message.Message:
    response = dns.message.make_response(query)
    for text in records:
        owner, _in, rdtype, value = text.split(maxsplit=3)
        response.answer.append(dns.rrset.from_text(owner, 300, "IN", rdtype, value))
    return response


def ask(port: int, name: str, rdtype: str, timeout: float = 1.0):
    async def go():
        client = DnsClient([Nameserver("127.0.0.1", port)], timeout=timeout, retries=0)
        try:
            return await client.query(name, rdtype)
        finally:
            await client.aclose()
    return asyncio.run(go())


def a_reply(query) -> bytes:
    """The real answer, without OPT record: so that cutting its last bytes cuts the A record."""
    response = reply(query, f"{query.question[0].name} IN A 192.0.2.7")
    response.use_edns(False)
    return response.to_wire()


def test_a_forged_unreadable_reply_does_not_hide_the_real_one():
    def respond(query):
        forged = bytearray(a_reply(query))
        return [bytes(forged[:-3]), a_reply(query)]  # same ID and question, record cut short; then the real one

    with HostileServer(respond) as server:
        answer = ask(server.port, "host.forged.test", "A")
    assert answer.outcome is Outcome.ANSWER and answer.texts == ("192.0.2.7",)


def test_only_unreadable_replies_are_an_error_after_the_timeout():
    with HostileServer(lambda q: [a_reply(q)[:-3]]) as server:
        answer = ask(server.port, "host.forged.test", "A", timeout=0.5)
    assert answer.outcome is Outcome.ERROR and answer.outcome.is_failure


def test_a_reply_larger_than_the_advertised_edns_size_is_refused():
    def respond(query):
        big = reply(query, f"{query.question[0].name} IN A 192.0.2.66",
                    *(f"{query.question[0].name} IN A 198.51.100.{i}" for i in range(1, 120)))
        return [big.to_wire(max_size=65535), a_reply(query)]  # ~2 KB without TC, past the 1232 bytes asked for

    with HostileServer(respond) as server:
        answer = ask(server.port, "host.big.test", "A")
    assert answer.outcome is Outcome.ANSWER and answer.texts == ("192.0.2.7",)


def loop_reply(query) -> list[bytes]:
    name = query.question[0].name.to_text()
    if name.startswith("loop"):  # loop.test. -> a.loop.test. -> b.loop.test. -> a.loop.test.
        return [reply(query, f"{name} IN CNAME a.loop.test.", "a.loop.test. IN CNAME b.loop.test.",
                      "b.loop.test. IN CNAME a.loop.test.").to_wire()]
    if name.startswith("long"):  # 20 hops: longer than any chain a resolver follows
        hops = [f"{name} IN CNAME h1.long.test."] + [f"h{i}.long.test. IN CNAME h{i + 1}.long.test." for i in range(1, 20)]
        return [reply(query, *hops).to_wire()]
    return [dns.message.make_response(query).to_wire()]


@pytest.mark.parametrize("name", ["loop.test", "long.test"])
def test_a_cname_loop_in_a_reply_is_an_error_not_nodata(name):
    with HostileServer(loop_reply) as server:
        answer = ask(server.port, name, "MX")
    assert answer.outcome is Outcome.CNAME_LOOP and answer.outcome.is_failure
    assert "CNAME" in answer.detail and answer.chain[0] == f"{name}."


def test_a_domain_behind_a_cname_loop_is_could_not_test_never_no_mx():
    with HostileServer(loop_reply) as server:
        checks = [c for c in load_checks().checks if c.id in ("mx.present", "domain.exists")]

        async def go():
            client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=1, retries=0)
            try:
                return await audit_entries([DomainEntry("loop.test", 2)], checks, client, Settings(), concurrency=1)
            finally:
                await client.aclose()
        results = asyncio.run(go())
    mx = [f for f in results[0].findings if f.check_id == "mx.present"]
    assert mx and all(f.status is Status.ERROR for f in mx), mx
    assert "CNAME loop" in mx[0].message and "has no MX" not in mx[0].message


def test_a_cname_loop_in_planned_zone_files_is_the_same_outcome(tmp_path):
    from dnsaudit.zones import ZoneSet

    zone = tmp_path / "loop.test.zone"
    zone.write_text("$ORIGIN loop.test.\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n"
                    "a CNAME b\nb CNAME a\n")

    async def go():
        client = DnsClient([], offline=True, zones=ZoneSet.load([zone]))
        return await client.query("a.loop.test", "MX")
    answer = asyncio.run(go())
    assert answer.outcome is Outcome.CNAME_LOOP and "loop" in answer.detail


def cname_beside_a(query) -> list[bytes]:
    """A broken server holding a CNAME and an A record at one name (RFC 1034 section 3.6.2
    forbids it) and answering each type as asked."""
    question = query.question[0]
    record = "IN A 192.0.2.9" if question.rdtype == dns.rdatatype.A else "IN CNAME relay.example.net."
    return [reply(query, f"{question.name} {record}").to_wire()]


@pytest.mark.parametrize("a_first", [False, True])
def test_a_cname_beside_a_records_is_found_whichever_question_comes_first(a_first):
    """An A reply with A records does not settle whether a CNAME is there too, so
    ``DnsClient.alias`` (the autodiscover check) asks CNAME: the answer does not depend on
    whether the A was asked before."""
    with HostileServer(cname_beside_a) as server:
        async def go():
            client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=1.0, retries=0)
            if a_first:
                await client.query("autodiscover.b.test", "A")
                return await client.alias("autodiscover.b.test")
            alias, _a = await asyncio.gather(client.alias("autodiscover.b.test"),
                                             client.query("autodiscover.b.test", "A"))
            return alias

        answer = asyncio.run(go())
    assert answer.ok and answer.texts == ("relay.example.net.",)

