"""What a check may ask of the network: the ``Resolver``, ``Web`` and ``Tls`` protocols.

``CheckContext`` holds these, not the concrete clients, so a plugin author's test can hand
a check the fakes of ``dnsaudit.testing`` (or their own) and a type checker still verifies
every call. The run's real clients (``DnsClient``, ``WebClient``, ``TlsProber``) satisfy
them structurally. The mail layer (``dnsaudit.mail``) takes a ``Resolver`` too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from dnsaudit.net.dns import DnsAnswer
    from dnsaudit.net.tls import TlsOutcome
    from dnsaudit.net.web import WebResponse
    from dnsaudit.zones import ZoneSet


class Resolver(Protocol):
    """The run's DNS: each (name, type) asked once; failures kept apart (``DnsAnswer.outcome``)."""

    @property
    def zones(self) -> ZoneSet | None:
        """The planned zones of ``--zone`` (answered before any server), or None."""
        ...

    async def query(self, name: str, rdtype: str) -> DnsAnswer:
        """The classified answer to (name, rdtype); never raises for a DNS failure."""
        ...

    async def addresses(self, name: str) -> tuple[DnsAnswer, DnsAnswer]:
        """The A and the AAAA answer of a name."""
        ...

    async def alias(self, name: str) -> DnsAnswer:
        """The CNAME answer of a name whose A record is asked at the same time: the same answer
        as ``query(name, "CNAME")``, which a resolver may read from the A reply."""
        ...


class Web(Protocol):
    """The run's HTTP(S) client: one GET per URL per run, no redirects followed."""

    async def get(self, host: str, path: str, scheme: str = "https", verify: bool = True) -> WebResponse:
        """GET ``scheme://host/path``; a failure is a response with ``error`` set, never an exception."""
        ...


class Tls(Protocol):
    """The run's TLS prober: one handshake per (address, port, server name, STARTTLS)."""

    async def probe(self, address: str, port: int, server_name: str, starttls: bool = False) -> TlsOutcome:
        """What the endpoint presented; a failure is an outcome with ``error`` set."""
        ...
