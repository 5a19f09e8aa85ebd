"""Is a domain's zone DNSSEC-signed, and does it validate? (RFC 4033-4035; Microsoft's
"How SMTP DNSSEC and DANE work")

What can be seen from outside, with any resolver that passes DNSSEC records on:

1. the DS RRset at the parent (RFC 4035 §5.2) and the zone's DNSKEY RRset;
2. a DS that matches a DNSKEY of the zone (key tag, algorithm and digest);
3. the DNSKEY RRset signed by that key, and the SOA and MX RRsets signed by a key of the
   DNSKEY RRset, each signature in date (RFC 4035 §5.3).

The chain above the parent (parent's keys up to the root) is not followed: that needs a
trust anchor, and every public resolver that validates already does it. The outcome is one
of ``ZoneStatus.state``; "untestable" keeps "could not test" apart from "unsigned" — a
timeout, or a resolver that strips RRSIG records, is never reported as an unsigned zone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from dnsaudit.evidence import Evidence
from dnsaudit.net.dnssec import SignedAnswer, dnssec_library

if TYPE_CHECKING:
    import dns.name
    import dns.node
    import dns.rdataset
    import dns.rrset
    from dns.rdtypes.ANY.DNSKEY import DNSKEY
    from dns.rdtypes.ANY.DS import DS

    KeySets = dict[dns.name.Name, dns.node.Node | dns.rdataset.Rdataset]  # dnspython's validate_rrsig keys

UNSIGNED, ISLAND, SECURE, BOGUS, UNTESTABLE = "unsigned", "island", "secure", "bogus", "untestable"


@runtime_checkable
class SignedResolver(Protocol):
    """A resolver that can ask with the DO bit (``DnsClient`` is one)."""

    async def query_signed(self, name: str, rdtype: str) -> SignedAnswer:
        ...


@dataclass(frozen=True)
class ZoneStatus:
    """What the zone's DNSSEC amounts to, in one sentence, with the answers it rests on."""

    state: str  # unsigned | island | secure | bogus | untestable
    summary: str
    evidence: tuple[Evidence, ...] = ()
    failed: SignedAnswer | None = None  # untestable because this question got no answer


async def zone_status(resolver: SignedResolver, domain: str, now: float | None = None) -> ZoneStatus:
    """The DNSSEC status of ``domain``'s zone (see the module docstring)."""
    import dns.name
    from dns.rdtypes.ANY.DNSKEY import DNSKEY
    from dns.rdtypes.ANY.DS import DS

    dnssec = dnssec_library()
    now = time.time() if now is None else now
    ds, dnskey = await asyncio.gather(resolver.query_signed(domain, "DS"), resolver.query_signed(domain, "DNSKEY"))
    evidence = [ds.evidence(), dnskey.evidence()]

    def status(state: str, summary: str, failed: SignedAnswer | None = None) -> ZoneStatus:
        return ZoneStatus(state, summary, tuple(evidence), failed)

    for answer in (ds, dnskey):
        if answer.outcome.is_failure:
            return status(UNTESTABLE, f"the DNSSEC query for {answer.name} {answer.rdtype} "
                          f"{answer.outcome.phrase}", answer)
    if ds.rrset is None and dnskey.rrset is None:
        return status(UNSIGNED, "the zone is not signed: no DS record at the parent and no DNSKEY in the zone")
    if ds.rrset is None:
        return status(ISLAND, "the zone publishes DNSKEY records but the parent has no DS record, so validating "
                      "resolvers treat it as unsigned")
    if dnskey.rrset is None:
        return status(BOGUS, "the parent publishes a DS record but the zone has no DNSKEY: validating resolvers "
                      "reject every answer from it")
    if not dnskey.signed:
        if not ds.signed:
            return status(UNTESTABLE, "the resolver returned no RRSIG records at all (it strips DNSSEC data); "
                          "use a DNSSEC-aware resolver (--nameserver)")
        return status(BOGUS, "the zone's DNSKEY RRset carries no signature")
    origin = dns.name.from_text(domain)
    dnskeys = [key for key in dnskey.rrset if isinstance(key, DNSKEY)]
    digests = [record for record in ds.rrset if isinstance(record, DS)]
    matched = [key for key in dnskeys for record in digests if _ds_matches(origin, key, record)]
    if not matched:
        tags = ", ".join(sorted({str(d.key_tag) for d in digests}))
        keys = ", ".join(sorted({str(dnssec.key_id(k)) for k in dnskeys}))
        return status(BOGUS, f"no DNSKEY of the zone (key tags {keys}) matches the DS at the parent "
                      f"(key tag {tags}): validating resolvers reject every answer")
    problem = _invalid(dnskey, {origin: _rrset_of(origin, matched)}, now)
    if problem:
        return status(BOGUS, f"the DNSKEY RRset's signature by the DS key does not validate ({problem})")
    soa, mx = await asyncio.gather(resolver.query_signed(domain, "SOA"), resolver.query_signed(domain, "MX"))
    evidence += [soa.evidence(), mx.evidence()]
    expiries = [s.expiration for s in dnskey.rrsigs or ()]  # signed: there are some
    for answer in (soa, mx):
        if answer.outcome.is_failure:
            return status(UNTESTABLE, f"the DNSSEC query for {answer.name} {answer.rdtype} "
                          f"{answer.outcome.phrase}", answer)
        if answer.rrset is None:
            continue  # no MX: nothing signed to check (denial proofs are not examined)
        if not answer.signed:
            return status(BOGUS, f"the {answer.rdtype} RRset carries no signature")
        problem = _invalid(answer, {origin: dnskey.rrset}, now)
        if problem:
            return status(BOGUS, f"the {answer.rdtype} RRset's signature does not validate ({problem})")
        expiries += [s.expiration for s in answer.rrsigs or ()]
    import datetime as dt

    until = dt.datetime.fromtimestamp(min(expiries), dt.UTC).strftime("%Y-%m-%d")
    tag = dnssec.key_id(matched[0])
    return status(SECURE, f"the zone is signed and validates: the DS at the parent matches key {tag}, and the "
                  f"DNSKEY, SOA and MX signatures are valid (the first expires {until})")


def _ds_matches(origin: dns.name.Name, key: DNSKEY, record: DS) -> bool:
    import dns.exception

    dnssec = dnssec_library()
    if key.algorithm != record.algorithm or dnssec.key_id(key) != record.key_tag:
        return False
    try:
        return bool(dnssec.make_ds(origin, key, record.digest_type) == record)
    except (dns.exception.UnsupportedAlgorithm, ValueError):
        return False


def _rrset_of(origin: dns.name.Name, keys: Iterable[DNSKEY]) -> dns.rrset.RRset:
    import dns.rdataclass
    import dns.rdatatype
    import dns.rrset

    rrset = dns.rrset.RRset(origin, dns.rdataclass.IN, dns.rdatatype.DNSKEY)
    for key in keys:
        rrset.add(key)
    return rrset


def _invalid(answer: SignedAnswer, keys: KeySets, now: float) -> str:
    """Why no RRSIG over the answer validates ("" when one does): expired, not yet valid, ..."""
    import dns.exception
    from dns.rdtypes.ANY.RRSIG import RRSIG

    dnssec = dnssec_library()
    if answer.rrset is None:
        return "no records to validate"
    reasons = []
    for rrsig in answer.rrsigs or ():
        if not isinstance(rrsig, RRSIG):
            continue
        try:
            dnssec.validate_rrsig(answer.rrset, rrsig, keys, now=now)
            return ""
        except dns.exception.UnsupportedAlgorithm as exc:
            reasons.append(f"key {rrsig.key_tag}: unsupported algorithm ({exc})")
        except dns.exception.ValidationFailure as exc:
            reasons.append(f"RRSIG by key {rrsig.key_tag}: {exc}")
    return "; ".join(reasons) or "no signature"
