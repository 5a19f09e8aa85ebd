"""mta_sts.policy against a real HTTPS server on 127.0.0.1 with trustme certificates."""

from __future__ import annotations

import asyncio
import http.server
import ssl
import threading

import pytest
import trustme

from dnsaudit.check import Settings
from dnsaudit.model import DomainEntry
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.net.web import WebClient
from dnsaudit.registry import load_checks, select
from dnsaudit.runner import audit_entries

GOOD_POLICY = "version: STSv1\nmode: enforce\nmx: *.mail.protection.outlook.com\nmax_age: 86400\n"
RESPONSES = {  # Host -> (status, content type, body, extra headers)
    "mta-sts.sts-good.test": (200, "text/plain; charset=utf-8", GOOD_POLICY, {}),
    "mta-sts.sts-testing.test": (200, "text/plain", GOOD_POLICY.replace("enforce", "testing"), {}),
    "mta-sts.sts-redirect.test": (301, "text/html", "", {"Location": "https://elsewhere.test/policy"}),
    "mta-sts.sts-html.test": (200, "text/html", "<html>policy</html>", {}),
    "mta-sts.sts-invalid.test": (200, "text/plain", "version: STSv1\nmode: sometimes\n", {}),
    "mta-sts.sts-uncovered.test": (200, "text/plain", GOOD_POLICY.replace("*.mail.protection.outlook.com",
                                                                          "*.mx.microsoft"), {}),
    "mta-sts.sts-badcert.test": (200, "text/plain", GOOD_POLICY, {}),
    "mta-sts.sts-classic.test": (200, "text/plain", GOOD_POLICY, {}),  # the classic pattern, an mx.microsoft MX
}
CERT_NAMES = [h for h in RESPONSES if h != "mta-sts.sts-badcert.test"]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status, ctype, body, headers = RESPONSES.get(self.headers["Host"], (404, "text/plain", "no", {}))
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def https_server(tmp_path_factory):
    ca = trustme.CA()
    cert = ca.issue_cert(*CERT_NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ca_file = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    yield server.server_address[1], str(ca_file)
    server.shutdown()


@pytest.fixture(scope="module")
def zones(dns_server):
    for host in RESPONSES:
        domain = host.removeprefix("mta-sts.")
        mx = "x-test.o-v1.mx.microsoft." if domain in ("sts-uncovered.test", "sts-classic.test") else f"{domain.replace('.', '-')}.mail.protection.outlook.com."
        dns_server.add_zone_text(domain + ".", f"""
@ SOA ns hostmaster 1 3600 600 86400 300
@ MX 0 {mx}
_mta-sts TXT "v=STSv1; id=20261127"
mta-sts A 127.0.0.1
""")
    dns_server.add_zone_text("sts-noaddr.test.", '@ SOA ns hostmaster 1 3600 600 86400 300\n_mta-sts TXT "v=STSv1; id=1"\n')
    dns_server.add_zone_text("sts-badrecord.test.", '@ SOA ns hostmaster 1 3600 600 86400 300\n_mta-sts TXT "v=STSv1; id=not valid!"\n')
    return dns_server


def audit(zones, https_server, domains, allow_private=True):
    port, ca_file = https_server

    async def go():
        dns = DnsClient([Nameserver("127.0.0.1", zones.port)], timeout=1, retries=0)
        web = WebClient(dns, https_port=port, allow_private=allow_private, ca_file=ca_file, timeout=5)
        checks = select(load_checks().checks, ["mta_sts.policy"], [])
        try:
            results = await audit_entries([DomainEntry(d, i + 2) for i, d in enumerate(domains)], checks, dns,
                                      Settings(), web=web)
        finally:
            await web.aclose()
        return {r.entry.domain: r.findings[0] for r in results}

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("domain", "status", "text"),
    [
        ("sts-good.test", "pass", "enforced and covers every MX"),
        ("sts-testing.test", "info", "mode testing"),
        ("sts-redirect.test", "fail", "HTTP 301 (senders do not follow redirects)"),
        ("sts-html.test", "fail", "text/html"),
        ("sts-invalid.test", "fail", "policy is invalid"),
        ("sts-uncovered.test", "fail", "x-test.o-v1.mx.microsoft"),
        ("sts-badcert.test", "fail", "certificate"),
        ("sts-noaddr.test", "fail", "has no address"),
        ("sts-badrecord.test", "fail", "record is invalid"),
        ("good.test", "info", "not published"),
    ],
)
def test_mta_sts_cases(zones, https_server, domain, status, text):
    finding = audit(zones, https_server, [domain])[domain]
    assert finding.status.value == status, finding.message
    assert text in finding.message


def test_a_loopback_answer_is_not_connected_to_without_allow_private(zones, https_server):
    finding = audit(zones, https_server, ["sts-good.test"], allow_private=False)["sts-good.test"]
    assert finding.status.value == "fail"
    assert "non-public addresses (127.0.0.1)" in finding.message and "--allow-private" in finding.message


@pytest.mark.parametrize("domain", ["sts-uncovered.test", "sts-classic.test"])
def test_an_mx_microsoft_host_gets_the_exact_mx_line_to_use(zones, https_server, domain):
    """RFC 8461 §4.1: one wildcard label; neither *.mx.microsoft nor the classic pattern covers x-test.o-v1.mx.microsoft."""
    finding = audit(zones, https_server, [domain])[domain]
    assert finding.status.value == "fail", finding.message
    assert finding.remediation == "Add to the policy: mx: *.o-v1.mx.microsoft"
    assert "'*.mx.microsoft' does not match" in finding.message
