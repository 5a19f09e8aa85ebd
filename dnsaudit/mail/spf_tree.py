"""The whole include tree of an SPF record, independent of any client IP.

check_host() stops at the first match, so it only tells what one IP costs. Publishers
need the worst case — every include and redirect followed — to know how many of the ten
DNS lookups they have used and left, whether an include points nowhere or loops, and
which addresses Microsoft's include really authorises.
"""

from __future__ import annotations

import asyncio
import enum
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass, field

from dnsaudit.mail.spf import RecordStatus, SpfEvaluator
from dnsaudit.mail.spf_record import SpfRecord, Term, network
from dnsaudit.model import ErrorReason, Evidence
from dnsaudit.net.dns import Outcome
from dnsaudit.net.protocols import Resolver

MAX_DEPTH = 12


class NodeStatus(enum.StrEnum):
    """How far the tree got at one node: ``OK`` is a record that was read and followed."""

    OK = "ok"
    NONE = "none"  # no SPF record at the include target
    PERMERROR = "permerror"  # a record that does not parse, or several
    TEMPERROR = "temperror"  # the lookup failed (timeout, SERVFAIL): could not test
    LOOP = "loop"  # the target includes itself
    MACRO = "macro"  # the target depends on the sender: not followed
    DEPTH = "depth"  # nested deeper than MAX_DEPTH


_FROM_EVALUATOR = {RecordStatus.NONE: NodeStatus.NONE, RecordStatus.PERMERROR: NodeStatus.PERMERROR,
                   RecordStatus.TEMPERROR: NodeStatus.TEMPERROR}


@dataclass
class SpfNode:
    """One record in the tree, reached from its parent through ``via``."""

    domain: str
    via: str = ""  # "include:x" / "redirect=x"; empty at the root
    status: NodeStatus = NodeStatus.OK
    reason: str = ""
    record: SpfRecord | None = None
    children: list[SpfNode] = field(default_factory=list)
    void_targets: list[str] = field(default_factory=list)  # a:/mx: targets with no answer
    evidence: list[Evidence] = field(default_factory=list)
    error_reason: ErrorReason | None = None  # for temperror: why the lookup failed

    def walk(self) -> Iterator[SpfNode]:
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def own_lookups(self) -> int:
        """DNS-causing terms of this record (a redirect ignored because of 'all' does not count)."""
        if self.record is None:
            return 0
        count = sum(1 for t in self.record.directives if t.counts_lookup)
        if self.record.modifier("redirect") is not None and self.record.all_term is None:
            count += 1
        return count

    @property
    def worst_case_lookups(self) -> int:
        """Lookups when evaluation reaches the end of every record in the tree."""
        return self.own_lookups + sum(c.worst_case_lookups for c in self.children)

    def find(self, domain: str) -> SpfNode | None:
        return next((n for n in self.walk() if n.domain == domain and n.status is NodeStatus.OK), None)

    def networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """Every ip4/ip6 range authorised (with any qualifier) in this subtree."""
        nets = []
        for node in self.walk():
            for term in node.record.directives if node.record else ():
                length = term.cidr4 if term.name == "ip4" else term.cidr6 if term.name == "ip6" else None
                if term.argument is not None and length is not None:  # the parser sets both for ip4/ip6
                    nets.append(network(term.argument, length))
        return nets

    def problems(self) -> list[SpfNode]:
        return [n for n in self.walk() if n.status is not NodeStatus.OK]


def tree_key(domain: str) -> tuple[str, str]:
    """The key under which the checks of one domain share its tree (``CheckContext.shared``):
    spf.limits, spf.microsoft365 and relay.spf build it once between them."""
    return ("spf-tree", domain.rstrip(".").lower())


async def build_tree(dns: Resolver, domain: str) -> SpfNode:
    """Fetch every record reachable from ``domain`` (each asked once through the client's cache)."""
    domain = domain.rstrip(".").lower()
    return await _node(SpfEvaluator(dns), dns, domain, "", ())


async def _node(evaluator: SpfEvaluator, dns: Resolver, domain: str, via: str, stack: tuple[str, ...]) -> SpfNode:
    if domain in stack:
        return SpfNode(domain, via, NodeStatus.LOOP, f"{domain} includes itself through {' > '.join(stack)}")
    if len(stack) >= MAX_DEPTH:
        return SpfNode(domain, via, NodeStatus.DEPTH, f"includes nested more than {MAX_DEPTH} deep")
    found = await evaluator.record(domain)
    node = SpfNode(domain, via, evidence=[found.answer.evidence()])
    record = found.record
    if record is None:
        node.status, node.reason = _FROM_EVALUATOR[found.status], found.reason
        if found.status is RecordStatus.TEMPERROR:
            node.error_reason = found.answer.outcome.error_reason
        return node
    node.record = record
    follow: list[Term] = [t for t in record.directives if t.name == "include"]
    redirect = record.modifier("redirect")
    if redirect is not None and record.all_term is None:
        follow.append(redirect)

    async def child(term: Term) -> SpfNode:
        if "%" in (term.argument or ""):
            return SpfNode(term.argument or "", term.text, NodeStatus.MACRO,
                           "target depends on the sender (macro); not followed")
        return await _node(evaluator, dns, (term.argument or "").rstrip(".").lower(), term.text, stack + (domain,))

    node.children = list(await asyncio.gather(*(child(t) for t in follow)))
    node.void_targets = await _void_targets(dns, domain, record, node.evidence)
    return node


async def _void_targets(dns: Resolver, domain: str, record: SpfRecord, evidence: list[Evidence]) -> list[str]:
    """a: and mx: targets that answer nothing: each is a void lookup for every sender."""
    checks = []
    for term in record.directives:
        if term.name not in ("a", "mx") or "%" in (term.argument or ""):
            continue
        target = (term.argument or domain).rstrip(".").lower()
        checks.append((term, dns.query(target, "A" if term.name == "a" else "MX")))
    answers = await asyncio.gather(*(c for _, c in checks))
    voids = []
    for (term, _), answer in zip(checks, answers):
        if answer.outcome in (Outcome.NXDOMAIN, Outcome.NODATA):
            evidence.append(answer.evidence())
            voids.append(term.text)
    return voids
