"""The run's one DNS client: asks each (name, type) once, keeps every failure mode apart.

dnspython's high-level resolver folds SERVFAIL and REFUSED into one exception and treats a
timeout as a single error; an audit must tell a domain that *does not exist* from one whose
servers are *broken* from one we *could not reach*, so this client sends queries itself
(UDP over a few long-lived sockets, TCP when truncated: ``net.udp`` and ``net.wire``) and
classifies the raw reply.

Every answer is memoised for the run with single-flight semantics: concurrent askers of
the same question await the same in-flight query, so ``spf.protection.outlook.com`` costs
one query however many thousand domains include it. The memo is bounded (``MAX_CACHED``
answers, least recently used let go) so that memory does not grow with the list.

Over 300 lines because the client is one unit: the memo, the zone files, the servers and
the classification of their replies share one question's life; the values it returns are
in ``net.answer``, the servers it asks in ``net.nameserver``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections import OrderedDict
from dataclasses import dataclass, field

import dns.exception
import dns.rcode
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.CNAME import CNAME

from dnsaudit.net.answer import DnsAnswer, MxRecord, SrvRecord, TlsaRecord, TxtRecord
from dnsaudit.net.dnssec import SignedAnswer, ask_signed
from dnsaudit.net.nameserver import DEFAULT_PORT, Nameserver, parse_nameserver, system_nameservers
from dnsaudit.net.outcome import Outcome, rcode_outcome, worst_failure
from dnsaudit.net.udp import UdpPool
from dnsaudit.net.wire import MalformedReply, Question, Reply, rdata_text
from dnsaudit.pacing import patiently
from dnsaudit.zones import ZoneSet

MAX_CNAME_HOPS = 16
# Seconds ``alias`` waits for the A reply it may read a CNAME from before it asks the CNAME
# question beside it: longer than a slow but working server's answer (the benchmark's +900 ms
# class), far shorter than a timeout, so a name whose A times out does not wait twice.
ALIAS_PATIENCE = 1.5
# Answers kept per client (~1 KB each). Far more than the domains being audited at once ask
# (64 domains x ~17 questions), so on a list of any length only answers nobody asks again
# (a finished domain's MX, say) are let go, and memory stops growing; the names many domains
# share stay, as they are used all the time. Ten thousand domains ask ~170,000 questions.
MAX_CACHED = 50_000

# The answer and its typed records live in net.answer (values, no client); they are
# imported from here as they always were.
__all__ = ["DEFAULT_PORT", "MAX_CACHED", "MAX_CNAME_HOPS", "DnsAnswer", "DnsClient", "DnsStats", "MxRecord",
           "Nameserver", "Outcome", "SrvRecord", "TlsaRecord", "TxtRecord", "parse_nameserver", "system_nameservers"]


@dataclass
class DnsStats:
    questions: int = 0  # distinct questions asked
    queries_sent: int = 0  # datagrams/connections, retries included
    cache_hits: int = 0  # answers the run had already, CNAME answers read from A replies (alias) included
    zone_answers: int = 0  # answered from zone files or the offline snapshot
    evicted: int = 0  # answers let go beyond the cache's size (asked again if needed again)
    by_outcome: dict[str, int] = field(default_factory=dict)

    def merge(self, other: DnsStats) -> None:
        """Add another client's counts (a worker process's) to these."""
        self.questions += other.questions
        self.queries_sent += other.queries_sent
        self.cache_hits += other.cache_hits
        self.zone_answers += other.zone_answers
        self.evicted += other.evicted
        for outcome, count in other.by_outcome.items():
            self.by_outcome[outcome] = self.by_outcome.get(outcome, 0) + count


# Names whose NXDOMAIN proves a resolver wrong (see DnsClient.liars).
MUST_EXIST = ((".", dns.rdatatype.NS), ("outlook.com.", dns.rdatatype.SOA))


class DnsClient:
    """Asynchronous stub resolver with a per-run single-flight cache.

    One instance per run; checks receive it through their context and never create their
    own. ``timeout`` is per attempt on one server; ``retries`` is how many more rounds over
    all servers are made after the first one timed out.
    """

    def __init__(
        self,
        nameservers: list[Nameserver],
        *,
        timeout: float = 3.0,
        retries: int = 1,
        max_in_flight: int = 1024,
        max_cached: int = MAX_CACHED,
        zones: ZoneSet | None = None,
        snapshot: ZoneSet | None = None,
        offline: bool = False,
    ) -> None:
        """``zones`` (planned zone files) answer every name under them before any server is
        asked; a CNAME leaving them is followed the usual way. With ``offline`` no server is
        asked: names outside the zones come from ``snapshot`` or stay unanswered."""
        if not nameservers and not offline:
            raise ValueError("no nameserver to ask")
        self.zones = zones
        self.snapshot = snapshot
        self.offline = offline
        self.nameservers = list(nameservers)
        self.timeout = timeout
        self.retries = retries
        self.stats = DnsStats()
        # Single-flight and memo: a task while the question is being asked, then its answer.
        self._cache: OrderedDict[tuple[str, str], DnsAnswer | asyncio.Task[DnsAnswer]] = OrderedDict()
        self.max_cached = max_cached
        self._pools: dict[Nameserver, UdpPool] = {}
        self._limit = asyncio.Semaphore(max_in_flight)
        self._aliases_wanted: dict[str, int] = {}  # name -> askers of alias() waiting on its A reply

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        """Answer (name, rdtype), asking the network at most once per run.

        The lookup runs as its own task, so an asker that is cancelled (a check that timed
        out) does not cancel it for the others waiting on the same question. Once answered,
        the cache keeps the answer alone (a finished task weighs more than most answers).
        """
        key = (_absolute(name), _RDTYPES.get(rdtype) or rdtype.upper())
        entry = self._cache.get(key)
        if entry is None:
            self.stats.questions += 1
            # In a context of its own: the lookup serves every domain that asks, not only the first.
            entry = self._cache[key] = asyncio.get_running_loop().create_task(
                self._resolve(*key), context=contextvars.Context())
            entry.add_done_callback(functools.partial(self._settle, key))
        else:
            self.stats.cache_hits += 1
            self._cache.move_to_end(key)  # recently used: evicted last
            if not isinstance(entry, asyncio.Future):
                return entry  # most questions are asked again after they were answered
        return await patiently(entry)  # a slow answer gives the domain's slot away meanwhile

    async def alias(self, name: str) -> DnsAnswer:
        """The CNAME answer of ``name`` for a check that asks its A record at the same time,
        read from the A reply when that reply settles it, else asked as a question of its own.

        Why: a resolver's reply to A for an alias holds the CNAME record at the name (RFC 1034
        section 4.3.2, step 3a; the rcode then tells of the chain's end, RFC 6604 section 2),
        and NXDOMAIN without one says nothing at all is at the name (RFC 8020). Those two are
        read from the A reply: the autodiscover check asks one question less for a domain whose
        autodiscover is a CNAME (bench/README.md, the thirteenth round). Any other reply is not
        trusted for it: A records at the name (a broken server may hold a CNAME beside them and
        answer each type as asked, though RFC 1034 section 3.6.2 forbids it), NODATA, records
        that could not be read, a failure, or an A answered before this was asked. An A still
        unanswered after ``ALIAS_PATIENCE`` does not hold the CNAME question back: it is asked
        meanwhile. A CNAME answer read from an A reply counts as a cache hit in ``stats``.
        """
        name = _absolute(name)
        key = (name, "CNAME")
        if key not in self._cache:
            lookup = self._cache.get((name, "A"))
            if not isinstance(lookup, DnsAnswer):  # answered already: its reply is gone
                wanted = self._aliases_wanted
                wanted[name] = wanted.get(name, 0) + 1
                try:
                    if lookup is None:  # asked here first (the check asks it too: one question)
                        lookup = asyncio.ensure_future(self.query(name, "A"))
                    await asyncio.wait((lookup,), timeout=ALIAS_PATIENCE)
                finally:
                    if wanted[name] == 1:
                        del wanted[name]
                    else:
                        wanted[name] -= 1
        entry = self._cache.get(key)
        if isinstance(entry, DnsAnswer):
            self.stats.cache_hits += 1
            self._cache.move_to_end(key)
            return entry
        return await self.query(name, "CNAME")

    def _keep_alias(self, question: Question, reply: Reply) -> None:
        """The CNAME answer an A reply settles, for ``alias`` when one is waiting for it: a
        CNAME record at the name, or NXDOMAIN with nothing at the name (see ``alias``)."""
        name = question.name
        if (question.rdtype != dns.rdatatype.A or name not in self._aliases_wanted
                or (name, "CNAME") in self._cache or reply.notes):
            return
        qname = question.qname
        at_name = {t for owner, t, _ in reply.records if owner == qname}
        if dns.rdatatype.CNAME in at_name or (not at_name and reply.rcode == dns.rcode.NXDOMAIN):
            self._cache[(name, "CNAME")] = _classify(Question.make(name, dns.rdatatype.CNAME), "CNAME", reply)

    def _settle(self, key: tuple[str, str], task: asyncio.Task[DnsAnswer]) -> None:
        """A finished lookup: keep the answer instead of the task (a failure stays a task, so
        later askers see the same exception), and let the least recently used answers go
        beyond ``max_cached``."""
        if self._cache.get(key) is task and not task.cancelled() and task.exception() is None:
            self._cache[key] = task.result()
        while len(self._cache) > self.max_cached:
            oldest, entry = next(iter(self._cache.items()))
            if isinstance(entry, asyncio.Future):  # still being asked: the cache may overflow a while
                break
            del self._cache[oldest]
            self.stats.evicted += 1

    def holds(self, answer: DnsAnswer) -> bool:
        """Whether ``answer`` is still this run's answer to its question: kept, the same object
        (and so recently used). What was worked out from it alone (SpfEvaluator's memo) stands
        for asking again; an evicted answer would be asked again, and might differ."""
        key = (answer.name, answer.rdtype)
        if self._cache.get(key) is answer:
            self._cache.move_to_end(key)
            return True
        return False

    async def addresses(self, name: str) -> tuple[DnsAnswer, DnsAnswer]:
        """A and AAAA of a name, asked concurrently."""
        a, aaaa = await asyncio.gather(self.query(name, "A"), self.query(name, "AAAA"))
        return a, aaaa

    async def query_signed(self, name: str, rdtype: str) -> SignedAnswer:
        """(name, rdtype) with the DNSSEC OK and checking-disabled bits: the RRset and its RRSIGs
        (``net.dnssec``; only dnssec.zone asks, a few questions per domain, not cached)."""
        if self.offline:
            return SignedAnswer(_absolute(name), rdtype, Outcome.OFFLINE,
                                detail="offline: DNSSEC records are not in the snapshot")
        self.stats.queries_sent += 1
        async with self._limit:  # under the same bound as the other queries (README, "Speed")
            return await ask_signed(self.nameservers, name, rdtype, timeout=self.timeout, retries=self.retries,
                                    pool=self._pool)

    async def preflight(self) -> list[tuple[Nameserver, str]]:
        """Ask every nameserver one question; return those that answered nothing at all.

        Any response, even REFUSED, proves a server is there. The caller stops the run
        when no server answers, instead of producing a report of identical errors.
        """
        silent = []
        question = Question.make(".", dns.rdatatype.NS)
        for ns in self.nameservers:
            try:
                await self._send(question, ns)
            except (TimeoutError, dns.exception.Timeout):
                silent.append((ns, f"no answer within {self.timeout:.1f}s"))
            except OSError as exc:
                silent.append((ns, exc.strerror or str(exc)))
            except MalformedReply as exc:
                silent.append((ns, f"unreadable reply: {exc}"))
        return silent

    async def liars(self) -> list[tuple[Nameserver, str]]:
        """Servers that answer NXDOMAIN for a name that exists; each with the name it denied.

        The root always exists (RFC 1034 section 3.1) and so does outlook.com, Microsoft's
        mail domain every audit asks about; NXDOMAIN says nothing at all exists at and below
        the name (RFC 8020). A resolver that says so (an internal-only server without
        recursion, a filtering one) would turn every domain into "does not exist", so the
        caller stops the run instead. Other answers (REFUSED, SERVFAIL, silence) are honest
        "could not test" and are not judged here.
        """
        liars = []
        for ns in self.nameservers:
            for name, rdtype in MUST_EXIST:
                try:
                    reply = await self._send(Question.make(name, rdtype), ns)
                except (dns.exception.Timeout, OSError, MalformedReply):  # TimeoutError is an OSError
                    continue  # silence is the preflight's business
                if reply.rcode == dns.rcode.NXDOMAIN:
                    liars.append((ns, "the root zone" if name == "." else name.rstrip(".")))
                    break
        return liars

    async def _resolve(self, name: str, rdtype: str) -> DnsAnswer:
        if self.zones and self.zones.covers(name):
            return await self._from_zones(self.zones, name, rdtype)
        if self.offline:
            if self.snapshot and self.snapshot.covers(name):
                return await self._from_zones(self.snapshot, name, rdtype)
            return self._count(DnsAnswer(name, rdtype, Outcome.OFFLINE,
                                         detail="offline: neither the zone files nor the snapshot hold this name"))
        return await self._ask_servers(name, rdtype)

    async def _from_zones(self, zones: ZoneSet, name: str, rdtype: str) -> DnsAnswer:
        """Answer from zone data; a CNAME chain that leaves the zones goes on through ``query``."""
        self.stats.zone_answers += 1
        found = zones.lookup(name, rdtype)
        if found.rcode == "SERVFAIL":
            return self._count(DnsAnswer(name, rdtype, Outcome.CNAME_LOOP, detail="CNAME loop in the zone files"))
        records = tuple((rrset.name.to_digestable(), rrset.rdtype, rdata)  # canonical wire form, as wire.py reads
                        for rrset in found.answer if rrset.rdclass == dns.rdataclass.IN for rdata in rrset)
        question = Question.make(name, dns.rdatatype.from_text(rdtype))
        reply = Reply(dns.rcode.from_text(found.rcode), False, records)
        answer = _classify(question, rdtype, reply)
        self._keep_alias(question, reply)
        if found.exit is None:
            return self._count(answer)
        rest = await self.query(found.exit.to_text(), rdtype)
        chain = (*(answer.chain or (name,)), *rest.chain[1:])
        return DnsAnswer(name, rdtype, rest.outcome, rest.records, chain, rest.detail)

    async def _ask_servers(self, name: str, rdtype: str) -> DnsAnswer:
        question = Question.make(name, dns.rdatatype.from_text(rdtype))
        failures: list[tuple[Outcome, str]] = []
        for _round in range(self.retries + 1):
            for ns in self.nameservers:
                try:
                    async with self._limit:
                        reply = await self._send(question, ns)
                        if reply.rcode == dns.rcode.FORMERR:  # a server that knows no EDNS (RFC 6891 7)
                            reply = await self._send(question, ns, edns=False)
                except (TimeoutError, dns.exception.Timeout):
                    failures.append((Outcome.TIMEOUT, f"{ns}: timeout"))
                    continue
                except (OSError, MalformedReply) as exc:
                    failures.append((Outcome.ERROR, f"{ns}: {exc}"))
                    continue
                if reply.rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                    self._keep_alias(question, reply)
                    return self._count(_classify(question, rdtype, reply))
                outcome = rcode_outcome(reply.rcode)
                failures.append((outcome, f"{ns}: {dns.rcode.Rcode.to_text(reply.rcode)}"))
            if not any(outcome is Outcome.TIMEOUT for outcome, _ in failures):
                break  # every server answered, with a failure: asking again will not help
        return self._count(DnsAnswer(name, rdtype, worst_failure(failures), detail="; ".join(d for _, d in failures)))

    def _count(self, answer: DnsAnswer) -> DnsAnswer:
        outcome = answer.outcome.value
        self.stats.by_outcome[outcome] = self.stats.by_outcome.get(outcome, 0) + 1
        return answer

    async def _send(self, question: Question, ns: Nameserver, edns: bool = True) -> Reply:
        self.stats.queries_sent += 1
        reply: Reply = await self._pool(ns).ask(question, self.timeout, edns)  # parse_reply's Reply
        return reply

    def _pool(self, ns: Nameserver) -> UdpPool:
        """The sockets to ``ns``, opened on first use and kept for the run."""
        pool = self._pools.get(ns)
        if pool is None:
            pool = self._pools[ns] = UdpPool(ns.address, ns.port)
        return pool

    async def aclose(self) -> None:
        """Close the sockets (the run's end; a new query would open them again)."""
        for pool in self._pools.values():
            pool.close()


_RDTYPES = {t: t for t in ("A", "AAAA", "MX", "TXT", "CNAME", "SRV", "NS", "PTR", "SOA", "CAA", "TLSA")}




def _absolute(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def _classify(question: Question, rdtype: str, reply: Reply) -> DnsAnswer:
    """Follow the CNAME chain inside the reply and classify what is at its end.

    A chain that comes back to a name it passed, or is longer than ``MAX_CNAME_HOPS``, is
    CNAME_LOOP (could not test), never NODATA: a loop says nothing about the record (RFC 1034
    section 3.6.2 has resolvers signal it, and they answer SERVFAIL).
    """
    name, wanted = question.name, question.rdtype
    current = question.qname
    chain = [name]
    seen = {current}
    for _hop in range(MAX_CNAME_HOPS + 1):
        found = {rdata_text(rdata): rdata for owner, t, rdata in reply.records if t == wanted and owner == current}
        if found:  # identical records once, sorted by their text
            texts = tuple(sorted(found))
            given = list(found)
            order = tuple(texts.index(t) for t in given) if given != list(texts) else ()
            return DnsAnswer(name, rdtype, Outcome.ANSWER, tuple(found[t] for t in texts),
                             tuple(chain) if len(chain) > 1 else (), texts=texts, order=order, notes=reply.notes)
        if wanted == dns.rdatatype.CNAME:
            break
        cname = next((rdata for owner, t, rdata in reply.records
                      if t == dns.rdatatype.CNAME and owner == current and isinstance(rdata, CNAME)), None)
        if cname is None:
            break
        current = cname.target.to_digestable()
        chain.append(rdata_text(cname).lower())  # a CNAME's text is its target's, absolute
        if current in seen or len(chain) > MAX_CNAME_HOPS + 1:
            what = "CNAME loop" if current in seen else f"CNAME chain longer than {MAX_CNAME_HOPS} names"
            return DnsAnswer(name, rdtype, Outcome.CNAME_LOOP, (), tuple(chain), notes=reply.notes,
                             detail=f"{what} in the reply: {' -> '.join(chain)}")
        seen.add(current)
    outcome = Outcome.NXDOMAIN if reply.rcode == dns.rcode.NXDOMAIN else Outcome.NODATA
    return DnsAnswer(name, rdtype, outcome, (), tuple(chain) if len(chain) > 1 else (), notes=reply.notes)
