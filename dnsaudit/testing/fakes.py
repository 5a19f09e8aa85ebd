"""In-process stand-ins for the run's DNS, HTTP(S) and TLS clients.

Each satisfies its protocol of ``dnsaudit.check`` (``Resolver``, ``Web``, ``Tls``), answers
from data given by the test, never opens a socket, and records what was asked, so that a
test can also say which questions a check did (or did not) ask.

    resolver = FakeResolver({"contoso.test": "@ MX 0 contoso-test.mail.protection.outlook.com."},
                            faults={"broken.contoso.test": "servfail"})
    web = FakeWeb({"https://mta-sts.contoso.test/.well-known/mta-sts.txt": "version: STSv1\\n..."})
    tls = FakeTls({"mail.contoso.test": fake_cert(["mail.contoso.test"])})
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import dns.name
import dns.rdatatype

from dnsaudit.certs import CertFacts
from dnsaudit.model import ErrorReason
from dnsaudit.net.dns import DnsAnswer, DnsClient, Outcome
from dnsaudit.net.tls import TlsOutcome
from dnsaudit.net.web import WebFailure, WebResponse
from dnsaudit.zones import ZoneSet

if TYPE_CHECKING:
    from dnsaudit.net.dnssec import SignedAnswer

FAULT_OUTCOMES = {"timeout": Outcome.TIMEOUT, "servfail": Outcome.SERVFAIL, "refused": Outcome.REFUSED}
NOT_SERVED = "FakeResolver: no zone given to it holds this name"


def _absolute(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


class FakeResolver:
    """A ``Resolver`` answering from zone texts, with faults injected per name suffix.

    ``zones`` maps each zone's origin to its text in zone-file syntax (``@`` is the origin,
    an SOA is added when the text has none). CNAME chains are followed across the zones,
    wildcards and NXDOMAIN/NODATA behave as on a real server (the answers come from the
    same code as ``--zone``). With ``microsoft`` (the default) the Microsoft 365 records
    that dnsaudit ships for ``--offline`` answer too, so ``include:spf.protection.outlook.com``
    resolves. A name nothing holds is REFUSED, as by ``ZoneServer``. ``faults`` maps a name
    suffix (every name at or under it), or ``"name TYPE"`` (that one question: one broken
    record), to ``"timeout"``, ``"servfail"`` or ``"refused"``.
    """

    def __init__(self, zones: Mapping[str, str] | None = None, *, faults: Mapping[str, str] | None = None,
                 microsoft: bool = True) -> None:
        served = ZoneSet()
        for origin, text in (zones or {}).items():
            served.add_text(_absolute(origin), _with_soa(_absolute(origin), text), source=f"<zone {origin}>")
        snapshot = None
        if microsoft:
            from dnsaudit.snapshot import load_snapshot

            snapshot = load_snapshot()
        self._client = DnsClient([], zones=served, snapshot=snapshot, offline=True)
        self.faults: dict[tuple[str, str | None], Outcome] = {}
        for target, kind in (faults or {}).items():
            if kind not in FAULT_OUTCOMES:
                raise ValueError(f"unknown fault {kind!r}; use one of {sorted(FAULT_OUTCOMES)}")
            name, _, rdtype = target.partition(" ")
            self.faults[(_absolute(name), rdtype.strip().upper() or None)] = FAULT_OUTCOMES[kind]
        self.questions: list[tuple[str, str]] = []  # (absolute name, type), in the order asked

    @property
    def zones(self) -> ZoneSet | None:
        """No planned zones (``--zone``): the fake's zones are the world, not a plan."""
        return None

    def _fault(self, name: str, rdtype: str) -> Outcome | None:
        return next((outcome for (suffix, only), outcome in self.faults.items()
                     if (name == suffix and only == rdtype) or (only is None and (name == suffix
                                                                                  or name.endswith("." + suffix)))),
                    None)

    async def query_signed(self, name: str, rdtype: str) -> SignedAnswer:
        """A DNSSEC question (dnssec.zone): the RRset and its RRSIGs from the zones (zones signed
        with ``dns.dnssec.sign_zone`` carry them; a DS at an apex comes from the parent zone)."""
        from dnsaudit.net.dnssec import SignedAnswer

        name, rdtype = _absolute(name), rdtype.upper()
        self.questions.append((name, rdtype))
        fault = self._fault(name, rdtype)
        if fault is not None:
            return SignedAnswer(name, rdtype, fault, detail=f"FakeResolver: injected {fault.value}")
        zones = self._client.zones
        if zones is None or not zones.covers(name):
            return SignedAnswer(name, rdtype, Outcome.REFUSED, detail=NOT_SERVED)
        found = zones.lookup(name, rdtype)
        owner, wanted = dns.name.from_text(name), dns.rdatatype.from_text(rdtype)
        rrset = next((r for r in found.answer if r.name == owner and r.rdtype == wanted), None)
        if rrset is not None:
            return SignedAnswer(name, rdtype, Outcome.ANSWER, rrset, zones.signatures(rrset))
        return SignedAnswer(name, rdtype, Outcome.NXDOMAIN if found.rcode == "NXDOMAIN" else Outcome.NODATA)

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        name, rdtype = _absolute(name), rdtype.upper()
        self.questions.append((name, rdtype))
        fault = self._fault(name, rdtype)
        if fault is not None:
            return DnsAnswer(name, rdtype, fault, detail=f"FakeResolver: injected {fault.value}")
        answer = await self._client.query(name, rdtype)
        if answer.outcome is Outcome.OFFLINE:  # outside every zone, perhaps at the end of a CNAME chain
            return DnsAnswer(name, rdtype, Outcome.REFUSED, chain=answer.chain, detail=NOT_SERVED)
        return answer

    async def addresses(self, name: str) -> tuple[DnsAnswer, DnsAnswer]:
        return await self.query(name, "A"), await self.query(name, "AAAA")

    async def alias(self, name: str) -> DnsAnswer:
        """As ``query(name, "CNAME")`` (recorded, faults injected, as a question of its own)."""
        return await self.query(name, "CNAME")

    def asked(self, name: str, rdtype: str) -> bool:
        """Whether the check asked this question."""
        return (_absolute(name), rdtype.upper()) in self.questions


def _with_soa(origin: str, text: str) -> str:
    lines = [line.split(";")[0].split() for line in text.splitlines()]
    if any("SOA" in (part.upper() for part in line) for line in lines):
        return text
    return f"@ 3600 IN SOA ns.{origin} hostmaster.{origin} 1 3600 600 86400 300\n{text}"


class FakeWeb:
    """A ``Web`` answering GETs by URL (``scheme://host/path``).

    A value is a ``WebResponse``, or a ``str``/``bytes`` body served with status 200. Any
    other URL gets a refused connection ("could not test", as a real unreachable host).
    """

    def __init__(self, answers: Mapping[str, WebResponse | str | bytes] | None = None) -> None:
        self.answers: dict[str, WebResponse] = {}
        for url, answer in (answers or {}).items():
            if isinstance(answer, WebResponse):
                self.answers[url] = answer
            else:
                self.add(url, body=answer)
        self.requests: list[str] = []  # URLs in the order asked

    def add(self, url: str, *, status: int = 200, body: str | bytes = b"",
            headers: Mapping[str, str] | None = None, address: str = "192.0.2.80") -> None:
        """Serve ``url`` with this status, body and headers (names are matched case-insensitively)."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        pairs = tuple((k.lower(), v) for k, v in (headers or {}).items())
        self.answers[url] = WebResponse(url, address, status, pairs, data)

    def add_error(self, url: str, error: str, reason: ErrorReason | None = ErrorReason.TIMEOUT,
                  failure: WebFailure | None = None) -> None:
        """Make ``url`` fail: with a ``reason`` it could not be tested, without one the server is at fault.

        ``failure`` is the kind checks decide from (``WebFailure.CERTIFICATE_UNTRUSTED`` for a
        certificate a user may accept); by default TIMEOUT for a timeout, NETWORK otherwise.
        """
        if failure is None:
            failure = WebFailure.TIMEOUT if reason is ErrorReason.TIMEOUT else WebFailure.NETWORK
        self.answers[url] = WebResponse(url, error=error, reason=reason, failure=failure)

    async def get(self, host: str, path: str, scheme: str = "https", verify: bool = True) -> WebResponse:
        url = f"{scheme}://{host}{path}"
        self.requests.append(url)
        found = self.answers.get(url)
        if found is not None:
            return found
        return WebResponse(url, error="connection refused (FakeWeb has no answer for this URL)",
                           reason=ErrorReason.NETWORK, failure=WebFailure.REFUSED)


def fake_cert(names: Iterable[str], *, days_left: int = 90, issuer: str = "CN=dnsaudit test CA",
              self_signed: bool = False, subject_cn: str | None = None) -> CertFacts:
    """The facts of a certificate naming ``names`` (SAN dNSNames) and expiring in ``days_left`` days."""
    dns_names = tuple(n.lower() for n in names)
    now = dt.datetime.now(dt.UTC)
    cn = dns_names[0] if subject_cn is None and dns_names else subject_cn or ""
    digest = hashlib.sha256(repr((dns_names, issuer, days_left)).encode()).hexdigest()
    return CertFacts(cn, dns_names, (), issuer, now - dt.timedelta(days=30), now + dt.timedelta(days=days_left),
                     digest, self_signed)


class FakeTls:
    """A ``Tls`` prober answering by server name (SNI), whatever the address and port.

    A value is the presented certificate (``fake_cert(...)``, trusted, STARTTLS offered) or
    a full ``TlsOutcome``. Any other name gets a refused connection ("could not test").
    """

    def __init__(self, endpoints: Mapping[str, CertFacts | TlsOutcome] | None = None) -> None:
        self.endpoints: dict[str, CertFacts | TlsOutcome] = {k.lower(): v for k, v in (endpoints or {}).items()}
        self.probes: list[tuple[str, int, str, bool]] = []  # (address, port, server name, starttls)

    def add(self, server_name: str, cert: CertFacts | None, *, trusted: bool = True, trust_error: str = "",
            starttls: bool = True, error: str = "", reason: ErrorReason | None = None) -> None:
        """What the endpoint named ``server_name`` presents (``cert=None`` with ``error``: no certificate)."""
        self.endpoints[server_name.lower()] = TlsOutcome(server_name, "", 0, cert, trusted, trust_error, error,
                                                         reason, starttls)

    async def probe(self, address: str, port: int, server_name: str, starttls: bool = False) -> TlsOutcome:
        self.probes.append((address, port, server_name, starttls))
        found = self.endpoints.get(server_name.lower())
        if found is None:
            return TlsOutcome(server_name, address, port, error="connection refused (FakeTls has no such endpoint)",
                              reason=ErrorReason.NETWORK)
        if isinstance(found, CertFacts):
            return TlsOutcome(server_name, address, port, found, trusted=True, starttls=True if starttls else None)
        return TlsOutcome(server_name, address, port, found.cert, found.trusted, found.trust_error, found.error,
                          found.reason, found.starttls if starttls else None, found.banner)
