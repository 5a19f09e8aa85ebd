"""Dead and slow domains must not set the pace of a run (dnsaudit.pacing, the runner's gate)."""

from __future__ import annotations

import asyncio

import pytest

from dnsaudit.check import Settings
from dnsaudit.model import DomainEntry, Status
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.pacing import Pacer
from dnsaudit.registry import load_checks
from dnsaudit.runner import audit_entries
from dnsaudit.testing import ZoneServer

FAST = [f"fast{i}.test" for i in range(6)]
DEAD = ["dead1.test", "dead2.test"]


@pytest.fixture
def server():
    srv = ZoneServer()
    srv.add_zone_text("test.", "@ SOA ns hostmaster 1 3600 600 86400 300")
    for name in FAST:
        srv.add_zone_text(name + ".", f"@ SOA ns hostmaster 1 3600 600 86400 300\n"
                                      f"@ MX 0 {name.replace('.', '-')}.mail.protection.outlook.com.\n")
    for name in DEAD:
        srv.set_fault(name, "timeout")
    with srv:
        yield srv


def audit(server, names, *, concurrency=1, timeout=1.0):
    finished: list[str] = []
    client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=timeout, retries=0)
    entries = [DomainEntry(name, row) for row, name in enumerate(names, start=2)]
    results = asyncio.run(audit_entries(entries, load_checks().checks, client, Settings(), concurrency=concurrency,
                                    on_result=lambda r: finished.append(r.entry.domain)))
    return {r.entry.domain: r for r in results}, finished


def test_domains_waiting_on_a_timeout_do_not_hold_up_the_others(server):
    """With one slot, the old runner audited the fast domains only after both dead ones had
    timed out; now a domain that only waits gives its slot away."""
    results, finished = audit(server, [*DEAD, *FAST], concurrency=1, timeout=3.0)
    assert set(finished[:len(FAST)]) == set(FAST), finished
    assert set(finished[len(FAST):]) == set(DEAD)
    assert all(results[name].score.verdict.value != "could not assess" for name in FAST)


def test_a_dead_domain_costs_one_question_and_every_check_says_why(server):
    results, _ = audit(server, ["dead1.test", "fast0.test"], concurrency=4)
    asked = [(name, rdtype) for _transport, name, rdtype in server.queries if name.endswith("dead1.test.")]
    assert asked == [("dead1.test.", "SOA")]  # one question, one try (retries=0), nothing more
    dead = results["dead1.test"]
    assert dead.score.verdict.value == "could not assess"
    gated = {c.id for c in load_checks().checks if c.requires_existing_domain}
    others = [f for f in dead.findings if f.check_id in gated]
    assert others and all(f.status is Status.ERROR and f.reason.value == "timeout" for f in others)
    assert all("gave no usable answer to domain.exists (the query for dead1.test. SOA timed out)" in f.message for f in others)


def test_the_pacer_lends_a_waiting_domains_slot_and_takes_it_back_when_free():
    async def scenario():
        pacer = Pacer(1, allowance=4, patience=0.01)
        assert pacer.in_progress == 4
        first = await pacer.admit()
        second = asyncio.ensure_future(pacer.admit())
        await asyncio.sleep(0.02)
        assert not second.done()  # one active slot, taken
        first._step_aside()  # the first domain now only waits
        slot = await asyncio.wait_for(second, 1)
        back = asyncio.ensure_future(first._step_in())  # its answer came: it wants to work again
        await asyncio.sleep(0.02)
        assert not back.done()  # ... and waits for the slot like anyone else
        slot.finish()
        await asyncio.wait_for(back, 1)
        assert first.holding
        first.finish()
        third = await asyncio.wait_for(pacer.admit(), 1)  # every slot came back
        third.finish()
        assert pacer.stepped_aside == 1

    asyncio.run(scenario())


def test_two_lookups_of_one_domain_taking_the_slot_back_take_one_slot():
    """A domain's lookups turn slow and fast again at different times; however they
    interleave, the domain holds at most one slot and gives exactly that one back (a leaked
    slot once hung a 2,000-domain run)."""
    async def scenario():
        pacer = Pacer(1, patience=0.01)
        domain = await pacer.admit()
        domain._step_aside()  # lookup A turns slow: the slot goes to the next domain
        other = await asyncio.wait_for(pacer.admit(), 1)
        a_back = asyncio.ensure_future(domain._step_in())  # A answered: waits for a slot
        await asyncio.sleep(0.01)
        domain._step_aside()  # lookup B turns slow meanwhile
        b_back = asyncio.ensure_future(domain._step_in())  # ... and answers
        await asyncio.sleep(0.01)
        other.finish()
        await asyncio.wait_for(asyncio.gather(a_back, b_back), 1)
        assert domain.holding
        domain.finish()
        again = await asyncio.wait_for(pacer.admit(), 1)
        blocked = asyncio.ensure_future(pacer.admit())
        await asyncio.sleep(0.02)
        assert not blocked.done()  # exactly one slot exists, as at the start
        again.finish()
        (await asyncio.wait_for(blocked, 1)).finish()

    asyncio.run(scenario())


def test_a_domain_that_ends_while_taking_its_slot_back_returns_it():
    async def scenario():
        pacer = Pacer(1, patience=0.01)
        domain = await pacer.admit()
        domain._step_aside()
        other = await pacer.admit()
        waiting = asyncio.ensure_future(domain._step_in())
        await asyncio.sleep(0.01)
        waiting.cancel()  # the check timed out while its domain waited for a slot
        domain.finish()
        other.finish()
        await asyncio.sleep(0.01)
        first = await asyncio.wait_for(pacer.admit(), 1)
        second = asyncio.ensure_future(pacer.admit())
        await asyncio.sleep(0.02)
        assert not second.done()
        first.finish()
        (await asyncio.wait_for(second, 1)).finish()

    asyncio.run(scenario())


def test_a_slow_wait_lends_the_slot_a_fast_one_keeps_it_and_a_cancelled_waiter_leaves_the_lookup_running():
    """patiently(): one future per waiter relayed from the shared lookup (no shield), and one
    sweep of the pacer's FIFO of waits (no timer per wait)."""
    from dnsaudit.pacing import patiently, reset_slot

    async def scenario():
        loop = asyncio.get_running_loop()
        patient = Pacer(1, patience=5.0)  # a loaded machine may stall the loop for a while: not 5 s
        slot = await patient.admit()
        token = slot.running()
        fast = loop.create_future()
        loop.call_soon(fast.set_result, "fast")
        assert await patiently(fast) == "fast"
        assert patient.stepped_aside == 0 and slot.holding
        reset_slot(token)
        slot.finish()
        pacer = Pacer(1, patience=0.01)
        slot = await pacer.admit()
        token = slot.running()
        slow = loop.create_future()
        loop.call_later(0.3, slow.set_result, "slow")  # timers run in order: the sweep (0.01 s) first
        assert await patiently(slow) == "slow"
        assert pacer.stepped_aside == 1 and slot.holding  # lent while waiting, taken back after
        shared = loop.create_future()
        first = asyncio.ensure_future(patiently(shared))
        second = asyncio.ensure_future(patiently(shared))
        await asyncio.sleep(0)
        first.cancel()  # a check that timed out
        await asyncio.sleep(0)
        assert not shared.cancelled()
        shared.set_result("answer")
        assert await second == "answer"
        assert first.cancelled()
        failing = loop.create_future()
        waiter = asyncio.ensure_future(patiently(failing))
        await asyncio.sleep(0)
        failing.set_exception(OSError("network down"))
        with pytest.raises(OSError):
            await waiter
        reset_slot(token)
        slot.finish()

    asyncio.run(scenario())


@pytest.mark.parametrize("concurrency", [1, 64, 200])
def test_the_query_bound_leaves_room_for_every_domain_in_progress(tmp_path, concurrency):
    """A query to a dead server holds its place until it times out, so the bound on queries
    outstanding follows --concurrency: a fixed 200 let the realistic world's slow and dead
    domains hold most places (115.8 s against 85.8 s at 10,000 domains, bench/README.md)."""
    from dnsaudit.config import AuditConfig, DnsConfig
    from dnsaudit.pacing import QUERIES_PER_DOMAIN, outstanding_queries
    from dnsaudit.pipeline import Listener
    from dnsaudit.preflight import preflight
    from dnsaudit.workers import _split_limits

    listing = tmp_path / "domains.csv"
    listing.write_text("domain\nexample.test\n", encoding="utf-8")
    config = AuditConfig(listing, dns=DnsConfig(nameservers=(Nameserver("127.0.0.1", 53),)), concurrency=concurrency)
    plan = preflight(config, Listener())
    assert plan.resolver.max_in_flight == outstanding_queries(concurrency)
    assert plan.resolver.max_in_flight >= Pacer(concurrency).in_progress * QUERIES_PER_DOMAIN
    if concurrency == 64:
        assert plan.resolver.max_in_flight == 1024  # the README's figure
    from dnsaudit.preflight import job_for

    shares = _split_limits(job_for(config, plan), 2)
    assert shares.resolver.max_in_flight * 2 >= plan.resolver.max_in_flight
    assert shares.resolver.max_in_flight >= Pacer(shares.concurrency).in_progress * QUERIES_PER_DOMAIN
    # and the worker's clients are built with it (the live one of --compare-live too)
    assert shares.resolver.client()._limit._value == shares.resolver.max_in_flight
    assert shares.resolver.live_client()._limit._value == shares.resolver.max_in_flight


def test_no_more_queries_are_outstanding_than_the_bound_signed_ones_included():
    """The bound is on what the resolver sees: plain and DNSSEC (signed) questions alike. A
    silent server counts what reaches it while nothing is answered."""
    import socket

    from dnsaudit.net.dns import DnsClient

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    silent.setblocking(False)

    async def scenario() -> int:
        client = DnsClient([Nameserver("127.0.0.1", silent.getsockname()[1])], timeout=2.0, retries=0,
                           max_in_flight=3)
        asks = [asyncio.ensure_future(client.query(f"n{i}.example.test", "A")) for i in range(6)]
        asks += [asyncio.ensure_future(client.query_signed(f"s{i}.example.test", "DNSKEY")) for i in range(6)]
        await asyncio.sleep(0.5)
        received = 0
        while True:
            try:
                silent.recv(4096)
            except BlockingIOError:
                break
            received += 1
        for ask in asks:
            ask.cancel()
        await asyncio.gather(*asks, return_exceptions=True)
        await client.aclose()
        return received

    try:
        assert asyncio.run(scenario()) == 3
    finally:
        silent.close()


def test_the_tail_starts_once_every_domain_has_started_and_the_audit_waits_for_it(server):
    """``audit_entries(tail=...)``: the work that waits for the end of the list (a worker's
    survey for the reports) starts while the dead domains still wait, not after them, and
    the audit returns once it is done too."""
    events: list[tuple[str, str]] = []

    async def tail(audited: asyncio.Event) -> None:
        events.append(("tail", "start after the audit" if audited.is_set() else "start"))
        await audited.wait()
        events.append(("tail", "audited"))
        await asyncio.sleep(0.05)
        events.append(("tail", "end"))

    client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=1.0, retries=0)
    entries = [DomainEntry(name, row) for row, name in enumerate([*FAST, *DEAD], start=2)]
    results = asyncio.run(audit_entries(entries, load_checks().checks, client, Settings(), concurrency=2,
                                        on_result=lambda r: events.append(("done", r.entry.domain)), tail=tail))
    assert len(results) == len(entries) and events[-1] == ("tail", "end")
    start = events.index(("tail", "start"))  # not after the audit: the dead domains still wait on their timeout
    assert {name for kind, name in events[start:] if kind == "done"} >= set(DEAD)  # finished after it started
    assert events.index(("tail", "audited")) == len(events) - 2  # after the last domain

    events.clear()  # an empty list: the tail runs all the same, at once
    assert asyncio.run(audit_entries([], load_checks().checks, client, Settings(), tail=tail)) == []
    assert events == [("tail", "start after the audit"), ("tail", "audited"), ("tail", "end")]
