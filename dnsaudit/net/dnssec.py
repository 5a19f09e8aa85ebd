"""DNSSEC questions: an RRset together with its RRSIGs, asked with the DO and CD bits.

The run's ordinary queries (``net.wire``) set no DNSSEC OK bit and read only the records
of the asked type, which is all the other checks need. ``dnssec.zone`` needs the
signatures too, for a handful of questions per domain (DS, DNSKEY, SOA, MX), so those go
through dnspython's message layer here. Each query sets:

* DO (RFC 4035 §3.2.1), so that a DNSSEC-aware resolver returns RRSIG records;
* CD (RFC 4035 §3.2.2), so that a validating resolver hands over data it considers bogus
  instead of answering SERVFAIL: dnsaudit validates itself, and can then say *why* a zone
  is broken rather than "could not test".

A resolver that knows nothing of DNSSEC returns the records without their RRSIGs; the
caller tells that apart from an unsigned zone (see ``dnsaudit.mail.dnssec``).
"""

from __future__ import annotations

from dataclasses import dataclass

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dnsaudit.net.dns import Nameserver, Outcome

PAYLOAD = 1232
_DENIALS = (dns.rdatatype.NSEC, dns.rdatatype.NSEC3)


@dataclass(frozen=True)
class SignedAnswer:
    """The answer to one DNSSEC question: the RRset of the asked type and the RRSIGs over it."""

    name: str  # absolute, lower case
    rdtype: str
    outcome: Outcome
    rrset: dns.rrset.RRset | None = None
    rrsigs: dns.rrset.RRset | None = None
    denial: bool = False  # NSEC/NSEC3 records came with a negative answer
    detail: str = ""

    @property
    def signed(self) -> bool:
        return self.rrsigs is not None and len(self.rrsigs) > 0

    def describe(self) -> str:
        """One evidence line: the records (keys by tag, flags and algorithm) and the signatures."""
        head = f"{self.name} {self.rdtype} (DNSSEC)"
        if self.rrset is None:
            extra = ", signed denial" if self.denial else ""
            return f"{head}: {self.outcome.value.upper()}{extra}"
        if self.rdtype == "DNSKEY":
            import dns.dnssec

            records = sorted(f"key {dns.dnssec.key_id(k)} flags {k.flags} {dns.dnssec.algorithm_to_text(k.algorithm)}"
                             for k in self.rrset)
        else:
            records = sorted(r.to_text() for r in self.rrset)
        sigs = "; ".join(sorted(f"RRSIG by key {s.key_tag} until {_when(s.expiration)}" for s in self.rrsigs or ()))
        return f"{head}: {' | '.join(records)}; {sigs or 'no RRSIG'}"


def _when(timestamp: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


async def ask_signed(nameservers: list[Nameserver], name: str, rdtype: str, *, timeout: float,
                     retries: int) -> SignedAnswer:
    """Ask (name, rdtype) with DO and CD; failures are kept apart as in ``DnsClient``."""
    import dns.asyncquery

    name = name.lower() if name.endswith(".") else name.lower() + "."
    query = dns.message.make_query(name, rdtype, want_dnssec=True, payload=PAYLOAD)
    query.flags |= dns.flags.CD
    failures: list[tuple[Outcome, str]] = []
    for _round in range(retries + 1):
        for ns in nameservers:
            try:
                response, _tcp = await dns.asyncquery.udp_with_fallback(query, ns.address, timeout=timeout,
                                                                        port=ns.port)
            except dns.exception.Timeout:
                failures.append((Outcome.TIMEOUT, f"{ns}: timeout"))
                continue
            except (OSError, dns.exception.DNSException) as exc:
                failures.append((Outcome.ERROR, f"{ns}: {exc}"))
                continue
            rcode = response.rcode()
            if rcode in (dns.rcode.NOERROR, dns.rcode.NXDOMAIN):
                return _classify(name, rdtype, response)
            outcome = {dns.rcode.SERVFAIL: Outcome.SERVFAIL, dns.rcode.REFUSED: Outcome.REFUSED}.get(rcode,
                                                                                                    Outcome.ERROR)
            failures.append((outcome, f"{ns}: {dns.rcode.to_text(rcode)}"))
        if not any(outcome is Outcome.TIMEOUT for outcome, _ in failures):
            break
    outcomes = {outcome for outcome, _ in failures}
    worst = next((o for o in (Outcome.SERVFAIL, Outcome.REFUSED, Outcome.TIMEOUT) if o in outcomes), Outcome.ERROR)
    return SignedAnswer(name, rdtype, worst, detail="; ".join(d for _, d in failures))


def _classify(name: str, rdtype: str, response: dns.message.Message) -> SignedAnswer:
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
    denial = any(r.rdtype in _DENIALS for r in response.authority)
    return SignedAnswer(name, rdtype, outcome, denial=denial)
