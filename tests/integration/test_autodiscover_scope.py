"""Autodiscover probes never go above the input domain (the 2021 "Autodiscovering the Great Leak" clients did).

Outlook clients that walked up from ``sub.contoso.com`` to ``autodiscover.contoso.com``
sent credentials to whoever held the parent's name (the 2021 leak). dnsaudit audits the
name it was given: every DNS question and so every HTTP(S)/TLS connection its autodiscover
checks make is for the domain or a name under it. The parent here answers everything, so a
single step upwards would show in the server's log.
"""

from __future__ import annotations

import asyncio
import socket

from dnsaudit.check import Settings
from dnsaudit.model import DomainEntry, Phase
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.net.tls import TlsProber
from dnsaudit.net.web import WebClient
from dnsaudit.registry import load_checks, select
from dnsaudit.runner import audit_entries
from dnsaudit.testing import ZoneServer

PARENT = """
@ SOA ns hostmaster 1 3600 600 86400 300
@ A 127.0.0.1
autodiscover A 127.0.0.1
_autodiscover._tcp SRV 0 0 443 mail.scope-parent.test.
mail A 127.0.0.1
* A 127.0.0.1
"""


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_question_is_asked_above_the_input_domain():
    server = ZoneServer()
    server.add_zone_text("scope-parent.test.", PARENT)
    server.add_zone_text("sub.scope-parent.test.", "@ SOA ns hostmaster 1 3600 600 86400 300\n")
    port = closed_port()
    checks = select(load_checks().checks, ["autodiscover.*", "tls.autodiscover"], [])
    assert {c.id for c in checks} >= {"autodiscover.cname", "autodiscover.srv", "autodiscover.endpoints"}

    async def go(phase):
        dns = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=1, retries=0)
        web = WebClient(dns, https_port=port, http_port=port, allow_private=True, timeout=2)
        try:
            return await audit_entries([DomainEntry("sub.scope-parent.test", 2, phase=phase)], checks, dns,
                                   Settings(https_port=port, http_port=port, allow_private=True), web=web,
                                   tls=TlsProber(timeout=2))
        finally:
            await web.aclose()

    with server:
        for phase in Phase:
            results = asyncio.run(go(phase))
            assert results[0].findings  # the checks ran
    asked = {name for _transport, name, _type in server.queries}
    assert "autodiscover.sub.scope-parent.test." in asked and "_autodiscover._tcp.sub.scope-parent.test." in asked
    above = sorted(n for n in asked if n.endswith("scope-parent.test.") and not n.endswith("sub.scope-parent.test."))
    assert above == [], f"questions above the input domain: {above}"
