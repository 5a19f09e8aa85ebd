"""The classified answer to one DNS question, and the typed records checks read from it.

Values only (no client, no socket): ``net.dns`` makes them, checks and the mail layer read
them through ``mx()``, ``txt()``, ``srv()`` ... instead of dnspython's rdata, and a finding
cites one as ``evidence()`` (a ``dnsaudit.evidence.Evidence``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dns.name
import dns.rdata

from dnsaudit.evidence import Evidence
from dnsaudit.net.outcome import Outcome


@dataclass(frozen=True, slots=True)
class MxRecord:
    """One MX record (RFC 5321 §5.1)."""

    preference: int
    exchange: str  # lower case, no trailing dot; "" for the null MX "." (RFC 7505)


@dataclass(frozen=True, slots=True)
class SrvRecord:
    """One SRV record (RFC 2782)."""

    priority: int
    weight: int
    port: int
    target: str  # lower case, no trailing dot; "" for "." (the service is not offered)
    text: str  # the record in zone-file form, as published


@dataclass(frozen=True, slots=True)
class TxtRecord:
    """One TXT record: its character-strings and their concatenation (RFC 7208 §3.3)."""

    text: str  # the strings joined without spaces
    strings: tuple[str, ...]  # each decoded as UTF-8 (invalid octets replaced)


@dataclass(frozen=True, slots=True)
class TlsaRecord:
    """One TLSA record (RFC 6698 §2.1): certificate usage, selector, matching type, data (hex)."""

    usage: int
    selector: int
    matching_type: int
    data: str  # lower-case hex


def _host(name: dns.name.Name) -> str:
    return name.to_text().rstrip(".").lower()


@dataclass(frozen=True, slots=True)  # a run keeps ~17 per domain: no __dict__ each
class DnsAnswer:
    """The classified answer to one question.

    ``records`` hold the rdata of the asked type at the end of the CNAME chain, sorted by
    their text form (``texts``, computed once: many checks read the same answer); ``chain``
    lists the names the answer went through (the asked name first) when CNAMEs were followed.
    """

    name: str  # asked name, absolute, lower case, with trailing dot
    rdtype: str
    outcome: Outcome
    records: tuple[dns.rdata.Rdata, ...] = ()
    chain: tuple[str, ...] = ()
    detail: str = ""  # for failures: which server said what
    texts: tuple[str, ...] = ()  # the records' text forms; computed from records when not given
    order: tuple[int, ...] = ()  # indexes into records in the order the server gave them, when not sorted
    notes: tuple[str, ...] = ()  # records of the answer that could not be read and were left out
    _evidence: Evidence | None = field(default=None, repr=False, compare=False)
    # The typed records (mx(), txt(), ...), made once: a domain's checks read the same answer
    # many times (the SPF evaluator once per sampled address), and building them was ~5% of an
    # audit's CPU. One slot: an answer has one type.
    _typed_records: tuple[Any, ...] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.texts and self.records:
            object.__setattr__(self, "texts", tuple(r.to_text() for r in self.records))

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.ANSWER

    @property
    def exists(self) -> bool:
        """The name exists (it has records, perhaps not of this type)."""
        return self.outcome in (Outcome.ANSWER, Outcome.NODATA)

    def as_given(self) -> tuple[dns.rdata.Rdata, ...]:
        """The records in the order the server sent them (where order matters: RFC 7208 §5.5 PTR)."""
        return tuple(self.records[i] for i in self.order) if self.order else self.records

    @property
    def target(self) -> str:
        """The name the CNAME chain ends at (the asked name when there is no chain)."""
        return self.chain[-1] if self.chain else self.name

    def evidence(self) -> Evidence:
        """This answer as a finding's evidence: no TTLs, records sorted, chain shown (made once)."""
        evidence = self._evidence
        if evidence is None:
            evidence = Evidence(self.name, self.rdtype, self.texts if self.ok else (), self.chain[1:], self.outcome,
                                self.notes)
            object.__setattr__(self, "_evidence", evidence)
        return evidence

    def describe(self) -> str:
        """One normalised evidence line: ``evidence().line()``."""
        return self.evidence().line()

    # -- typed records: checks read these, never dnspython's rdata ---------------------
    # Each keeps the order of ``records`` (sorted by text) and is empty unless ``ok``.

    @property
    def cname_chain(self) -> tuple[str, ...]:
        """The names the CNAME chain went through after the asked one, without trailing dots."""
        return tuple(n.rstrip(".") for n in self.chain[1:])

    def mx(self) -> tuple[MxRecord, ...]:
        """The MX records of an MX answer."""
        return self._made("MX") or self._keep(tuple(MxRecord(r.preference, _host(r.exchange))
                                                    for r in self._typed("MX")))

    def srv(self) -> tuple[SrvRecord, ...]:
        """The SRV records of an SRV answer."""
        return self._made("SRV") or self._keep(tuple(SrvRecord(r.priority, r.weight, r.port, _host(r.target),
                                                               r.to_text()) for r in self._typed("SRV")))

    def txt(self) -> tuple[TxtRecord, ...]:
        """The TXT records of a TXT answer."""
        made = self._made("TXT")
        if made is not None:
            return made
        records = []
        for r in self._typed("TXT"):
            strings = tuple(s.decode("utf-8", errors="replace") for s in r.strings)
            records.append(TxtRecord("".join(strings), strings))
        return self._keep(tuple(records))

    def tlsa(self) -> tuple[TlsaRecord, ...]:
        """The TLSA records of a TLSA answer."""
        return self._made("TLSA") or self._keep(tuple(TlsaRecord(r.usage, r.selector, r.mtype, r.cert.hex())
                                                      for r in self._typed("TLSA")))

    def addresses(self) -> tuple[str, ...]:
        """The addresses of an A or AAAA answer, as text."""
        return self._made("A", "AAAA") or self._keep(tuple(str(r.address) for r in self._typed("A", "AAAA")))

    def names(self, *, given_order: bool = False) -> tuple[str, ...]:
        """The target names of a CNAME, PTR or NS answer: lower case, no trailing dot; with
        ``given_order`` in the order the server sent them (RFC 7208 §5.5 takes the first ten PTRs)."""
        self._typed("CNAME", "PTR", "NS")
        records: tuple[Any, ...] = self.as_given() if given_order else self.records
        return tuple(_host(r.target) for r in records)

    def _made(self, *rdtypes: str) -> tuple[Any, ...] | None:
        """The typed records made before (None the first time; raises for another type)."""
        made = self._typed_records
        if made is None:
            return None
        self._typed(*rdtypes)
        return made

    def _keep(self, made: tuple[Any, ...]) -> tuple[Any, ...]:
        object.__setattr__(self, "_typed_records", made)
        return made

    def _typed(self, *rdtypes: str) -> tuple[Any, ...]:
        if self.rdtype.upper() not in rdtypes:
            raise ValueError(f"{self.rdtype} answer for {self.name} asked for {'/'.join(rdtypes)} records")
        return self.records
