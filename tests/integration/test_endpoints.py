"""autodiscover.endpoints and the TLS checks against real local HTTPS, HTTP and SMTP servers.

Every endpoint listens on 127.0.0.x with ephemeral ports and certificates from trustme (one
trusted CA given with --ca-file, one untrusted); the test DNS server points the names at
those addresses. The CLI runs end to end with --allow-private, except in the test that
shows nothing is connected to without it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import http.server
import json
import socket
import ssl
import threading
from typing import ClassVar

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dnsaudit.cli import main
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.net.web import WebClient, WebFailure

NOW = dt.datetime.now(dt.UTC)
AUTH_401 = (401, {"WWW-Authenticate": "Negotiate, NTLM", "Content-Type": "text/html"}, b"")
HTML_200 = (200, {"Content-Type": "text/html"}, b"<html>Welcome to our shop</html>")

# Host header -> response, for the HTTPS server
HTTPS = {
    "autodiscover.onprem-good.test": AUTH_401,
    "autodiscover.onprem-mismatch.test": AUTH_401,
    "autodiscover.onprem-expired.test": AUTH_401,
    "autodiscover.onprem-soon.test": AUTH_401,
    "autodiscover.onprem-untrusted.test": AUTH_401,
    "autodiscover.wild-ok.test": AUTH_401,
    "autodiscover.sub.wild-deep.test": AUTH_401,
    "autodiscover.onprem-cnonly.test": AUTH_401,
    "webhost-root.test": HTML_200,
    "autodiscover.webhost-root.test": AUTH_401,
    "autodiscover.website.test": HTML_200,
    "real.redirect-https.test": AUTH_401,
    "mail.srv-only.test": AUTH_401,
    "relay.relay-good.test": HTML_200,
    "printer.relay-bad.test": HTML_200,
}
# Host header -> response, for the plain HTTP server
HTTP = {
    "autodiscover.redirect-https.test": (302, {"Location": "https://real.redirect-https.test/autodiscover/autodiscover.xml"}, b""),
    "autodiscover.redirect-http.test": (302, {"Location": "http://elsewhere.redirect-http.test/autodiscover.xml"}, b""),
}


class Handler(http.server.BaseHTTPRequestHandler):
    table: ClassVar[dict] = {}

    def do_GET(self):
        status, headers, body = self.table.get(self.headers.get("Host", ""), (404, {"Content-Type": "text/html"}, b"no"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def cn_only_cert(ca: trustme.CA, name: str) -> tuple[bytes, bytes]:
    """A certificate that names the host only in its subject CN (no subjectAltName)."""
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = ca._certificate.subject
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(issuer).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=1)).not_valid_after(NOW + dt.timedelta(days=200))
            .sign(ca._private_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    trusted, untrusted = trustme.CA(), trustme.CA()
    ca_file = folder / "ca.pem"
    trusted.cert_pem.write_to_path(str(ca_file))
    contexts = {}

    def context_for(*names, ca=trusted, **kw):
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*names, **kw).configure_cert(ctx)
        return ctx

    for host in HTTPS:
        contexts[host] = context_for(host)
    contexts["autodiscover.onprem-mismatch.test"] = context_for("mail.other.test")
    contexts["autodiscover.onprem-expired.test"] = context_for(
        "autodiscover.onprem-expired.test", not_before=NOW - dt.timedelta(days=400), not_after=NOW - dt.timedelta(days=2))
    contexts["autodiscover.onprem-soon.test"] = context_for(
        "autodiscover.onprem-soon.test", not_after=NOW + dt.timedelta(days=10))
    contexts["autodiscover.onprem-untrusted.test"] = context_for("autodiscover.onprem-untrusted.test", ca=untrusted)
    contexts["autodiscover.wild-ok.test"] = context_for("*.wild-ok.test")
    contexts["autodiscover.sub.wild-deep.test"] = context_for("*.wild-deep.test")
    contexts["printer.relay-bad.test"] = context_for("printer.local")
    cert_pem, key_pem = cn_only_cert(trusted, "autodiscover.onprem-cnonly.test")
    (folder / "cn.pem").write_bytes(cert_pem + key_pem)
    cn_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cn_ctx.load_cert_chain(str(folder / "cn.pem"))
    contexts["autodiscover.onprem-cnonly.test"] = cn_ctx
    relay_pem = folder / "relay.pem"
    trusted.issue_cert("scanner.relay-pem.test").cert_chain_pems[0].write_to_path(str(relay_pem))
    return {"trusted": trusted, "ca_file": str(ca_file), "contexts": contexts, "folder": folder,
            "relay_pem": str(relay_pem)}


def serve_https(pki) -> tuple[http.server.ThreadingHTTPServer, list]:
    contexts = pki["contexts"]
    accepted = []

    def pick(sslobj, server_name, _ctx):
        if server_name in contexts:
            sslobj.context = contexts[server_name]

    base = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    pki["trusted"].issue_cert("default.test").configure_cert(base)
    base.sni_callback = pick
    handler = type("HttpsHandler", (Handler,), {"table": HTTPS})

    class TlsServer(http.server.ThreadingHTTPServer):
        def get_request(self):
            conn, addr = self.socket.accept()
            accepted.append(addr)
            return base.wrap_socket(conn, server_side=True, do_handshake_on_connect=False), addr

    server = TlsServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, accepted


class Smtp:
    """A minimal SMTP server: banner, EHLO (with or without STARTTLS), STARTTLS, QUIT."""

    def __init__(self, host: str, port: int, context: ssl.SSLContext | None):
        self.context = context
        self.sock = socket.create_server((host, port))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        try:
            conn.sendall(b"220 mx.test ESMTP ready\r\n")
            file = conn.makefile("rb")
            while line := file.readline():
                command = line.strip().upper()
                if command.startswith(b"EHLO"):
                    extra = b"250-STARTTLS\r\n" if self.context else b""
                    conn.sendall(b"250-mx.test\r\n250-PIPELINING\r\n" + extra + b"250 8BITMIME\r\n")
                elif command == b"STARTTLS" and self.context:
                    conn.sendall(b"220 go ahead\r\n")
                    tls = self.context.wrap_socket(conn, server_side=True)
                    tls.recv(100)
                    tls.close()
                    return
                else:
                    conn.sendall(b"221 bye\r\n")
                    return
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        self.sock.close()


def zone(domain: str, body: str) -> str:
    return f"@ SOA ns hostmaster 1 3600 600 86400 300\n{body}\n"


ZONES = {
    "onprem-good.test": "autodiscover A 127.0.0.1",
    "onprem-mismatch.test": "autodiscover A 127.0.0.1",
    "onprem-expired.test": "autodiscover A 127.0.0.1",
    "onprem-soon.test": "autodiscover A 127.0.0.1",
    "onprem-untrusted.test": "autodiscover A 127.0.0.1",
    "wild-ok.test": "autodiscover A 127.0.0.1",
    "sub.wild-deep.test": "autodiscover A 127.0.0.1",
    "onprem-cnonly.test": "autodiscover A 127.0.0.1",
    "webhost-root.test": "@ A 127.0.0.1\nautodiscover A 127.0.0.1",
    "website.test": "autodiscover A 127.0.0.1",
    "redirect-https.test": "autodiscover A 127.0.0.2\nreal A 127.0.0.1",  # only plain http on .2
    "redirect-http.test": "autodiscover A 127.0.0.2\nelsewhere A 127.0.0.2",
    "srv-only.test": "_autodiscover._tcp SRV 0 0 443 mail.srv-only.test.\nmail A 127.0.0.1",
    "ms-book.test": ("@ MX 0 ms-book-test.mail.protection.outlook.com.\n"
                     "autodiscover CNAME autodiscover.outlook.com.\n"
                     '@ TXT "v=spf1 include:spf.protection.outlook.com -all"'),
    "smtp-good.test": "@ MX 10 mx.smtp-good.test.\nmx A 127.0.0.1",
    "smtp-wrong.test": "@ MX 10 mx.smtp-wrong.test.\nmx A 127.0.0.2",
    "smtp-plain.test": "@ MX 10 mx.smtp-plain.test.\nmx A 127.0.0.3",
    "relay-good.test": "relay A 127.0.0.1",
    "relay-bad.test": "printer A 127.0.0.1",
    "relay-pem.test": "",
    "kinds.test": "certificate A 127.0.0.1\nblocked A 10.0.0.1\ncertificate-noaddr TXT \"no address\"",
}


@pytest.fixture(scope="module")
def endpoints(dns_server, pki):
    for domain, body in ZONES.items():
        dns_server.add_zone_text(domain + ".", zone(domain, body))
    https, accepted = serve_https(pki)
    http_handler = type("PlainHandler", (Handler,), {"table": HTTP})
    plain = http.server.ThreadingHTTPServer(("127.0.0.2", 0), http_handler)
    threading.Thread(target=plain.serve_forever, daemon=True).start()
    good = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    pki["trusted"].issue_cert("mx.smtp-good.test").configure_cert(good)
    wrong = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    pki["trusted"].issue_cert("wrong.example.test").configure_cert(wrong)
    smtp = [Smtp("127.0.0.1", 0, good)]
    smtp.append(Smtp("127.0.0.2", smtp[0].port, wrong))
    smtp.append(Smtp("127.0.0.3", smtp[0].port, None))
    yield {"https": https.server_address[1], "http": plain.server_address[1], "smtp": smtp[0].port,
           "accepted": accepted}
    https.shutdown()
    plain.shutdown()
    for server in smtp:
        server.close()


def audit(tmp_path, dns_server, pki, endpoints, rows: list[str], *extra: str) -> dict:
    path = tmp_path / "domains.csv"
    path.write_text("domain,phase,relay_cert_host\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    main(["audit", str(path), "--nameserver", f"127.0.0.1:{dns_server.port}", "--timeout", "1", "--retries", "0",
          "--https-port", str(endpoints["https"]), "--http-port", str(endpoints["http"]),
          "--smtp-port", str(endpoints["smtp"]), "--ca-file", pki["ca_file"], "--probe-timeout", "5",
          "--checks", "autodiscover.endpoints,tls.*", "--out", str(out), "--quiet", "--format", "json", *extra])
    data = json.loads((out / "results.json").read_text())
    return {d["input"]["domain"]: d["results"] for d in data["domains"]}


def statuses(results: list[dict], check: str) -> list[str]:
    return [r["status"] for r in results if r["id"] == check]


def messages(results: list[dict], check: str) -> str:
    return " | ".join(r["message"] for r in results if r["id"] == check)


@pytest.fixture(scope="module")
def audited(tmp_path_factory, dns_server, pki, endpoints):
    rows = [f"{d},hybrid," for d in ZONES if not d.startswith(("relay", "ms-book"))]
    rows += ["ms-book.test,cloud,", f"relay-good.test,,relay.relay-good.test:{endpoints['https']}",
             f"relay-bad.test,,printer.relay-bad.test:{endpoints['https']}", f"relay-pem.test,,{pki['relay_pem']}"]
    return audit(tmp_path_factory.mktemp("audit"), dns_server, pki, endpoints, rows, "--allow-private")


@pytest.mark.parametrize(
    ("domain", "names", "trust", "dates", "text"),
    [
        ("onprem-good.test", "pass", "pass", "pass", "names autodiscover.onprem-good.test"),
        ("onprem-mismatch.test", "fail", "pass", "pass", "does not name autodiscover.onprem-mismatch.test (it names mail.other.test)"),
        ("onprem-expired.test", "pass", "fail", "fail", "expired on"),
        ("onprem-soon.test", "pass", "pass", "warn", "expires in"),
        ("onprem-untrusted.test", "pass", "fail", "pass", "not trusted"),
        ("wild-ok.test", "pass", "pass", "pass", "names autodiscover.wild-ok.test"),
        ("sub.wild-deep.test", "fail", "pass", "pass", "it names *.wild-deep.test"),
        ("onprem-cnonly.test", "fail", "pass", "pass", "only in its subject CN"),
    ],
)
def test_tls_autodiscover(audited, domain, names, trust, dates, text):
    results = audited[domain]
    assert statuses(results, "tls.autodiscover") == [names, trust, dates], messages(results, "tls.autodiscover")
    assert text in messages(results, "tls.autodiscover")
    observed = next(r["observed"] for r in results if r["id"] == "tls.autodiscover")
    assert "issuer" in observed and "valid" in observed  # names, issuer and dates shown


def test_srv_target_certificate(audited):
    assert statuses(audited["srv-only.test"], "tls.autodiscover") == ["pass", "pass", "pass"]
    assert "SRV target mail.srv-only.test" in messages(audited["srv-only.test"], "tls.autodiscover")


@pytest.mark.parametrize(
    ("domain", "expected", "text"),
    [
        ("onprem-good.test", ["pass"], "Outlook would use step 2: 401, WWW-Authenticate: Negotiate, NTLM"),
        ("webhost-root.test", ["warn", "info"], "answers Outlook's first step"),
        ("website.test", ["fail", "fail"], "answers like a website"),
        ("redirect-https.test", ["pass"], "step 3: 302 to https://real.redirect-https.test"),
        ("redirect-http.test", ["fail", "error"], "redirects to a plain http URL, which Outlook does not follow"),
        ("srv-only.test", ["pass"], "step 4"),
        ("onprem-untrusted.test", ["info"], "step 2: 401, WWW-Authenticate: Negotiate, NTLM, behind a certificate warning"),
        ("ms-book.test", ["pass"], "Microsoft 365"),
    ],
)
def test_autodiscover_walk(audited, domain, expected, text):
    results = audited[domain]
    assert statuses(results, "autodiscover.endpoints") == expected, messages(results, "autodiscover.endpoints")
    assert text in messages(results, "autodiscover.endpoints")


def test_microsoft_domain_by_the_book_has_no_tls_finding(audited):
    results = audited["ms-book.test"]
    assert {r["status"] for r in results if r["id"].startswith("tls.")} == {"skip"}


@pytest.mark.parametrize(
    ("domain", "expected", "text"),
    [
        ("smtp-good.test", ["pass", "pass", "pass"], "names mx.smtp-good.test"),
        ("smtp-wrong.test", ["fail", "pass", "pass"], "does not name mx.smtp-wrong.test"),
        ("smtp-plain.test", ["fail"], "does not offer STARTTLS"),
    ],
)
def test_tls_mx_starttls(audited, domain, expected, text):
    results = audited[domain]
    assert statuses(results, "tls.mx") == expected, messages(results, "tls.mx")
    assert text in messages(results, "tls.mx")


@pytest.mark.parametrize(
    ("domain", "expected", "text"),
    [
        ("relay-good.test", ["pass", "pass", "pass"], "names relay.relay-good.test"),
        ("relay-bad.test", ["fail", "pass", "pass"], "names no accepted domain of this organisation in its CN or subjectAltName (printer.local)"),
        ("relay-pem.test", ["pass", "pass"], "scanner.relay-pem.test"),
    ],
)
def test_tls_relay(audited, domain, expected, text):
    results = audited[domain]
    assert statuses(results, "tls.relay") == expected, messages(results, "tls.relay")
    assert text in messages(results, "tls.relay")


def test_nothing_is_connected_to_without_allow_private(tmp_path, dns_server, pki, endpoints):
    before = len(endpoints["accepted"])
    results = audit(tmp_path, dns_server, pki, endpoints, ["onprem-good.test,hybrid,", "smtp-good.test,hybrid,"])
    assert len(endpoints["accepted"]) == before
    assert statuses(results["onprem-good.test"], "tls.autodiscover") == ["warn"]
    assert "non-public addresses in public DNS (127.0.0.1)" in messages(results["onprem-good.test"], "tls.autodiscover")
    assert statuses(results["smtp-good.test"], "tls.mx") == ["warn"]
    assert "not probed" in messages(results["onprem-good.test"], "autodiscover.endpoints")


def test_every_network_check_can_pass_fail_and_is_covered(audited):
    seen: dict[str, set] = {}
    for results in audited.values():
        for r in results:
            seen.setdefault(r["id"], set()).add(r["status"])
    for check in ("autodiscover.endpoints", "tls.autodiscover", "tls.mx", "tls.relay"):
        assert {"pass", "fail"} <= seen[check], (check, seen[check])


def test_a_refused_connection_is_could_not_test(tmp_path, dns_server, pki, endpoints):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    path = tmp_path / "d.csv"
    path.write_text("domain,phase\nonprem-good.test,hybrid\n")
    main(["audit", str(path), "--nameserver", f"127.0.0.1:{dns_server.port}", "--https-port", str(port),
          "--http-port", str(port), "--allow-private", "--checks", "tls.autodiscover,autodiscover.endpoints",
          "--out", str(tmp_path / "o"), "--quiet", "--format", "json", "--probe-timeout", "2"])
    results = json.loads((tmp_path / "o" / "results.json").read_text())["domains"][0]["results"]
    assert statuses(results, "tls.autodiscover") == ["error"]
    assert [r["reason"] for r in results if r["id"] == "tls.autodiscover"] == ["network"]
    assert statuses(results, "autodiscover.endpoints") == ["error"]


def test_a_failed_get_says_its_kind_as_a_value(dns_server, pki, endpoints):
    """WebResponse.failure is set where the error happens: checks decide from it, not from the error text
    (a host named certificate... without an address is not a certificate problem)."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]
    closed.close()

    async def kinds() -> dict[str, tuple[WebFailure | None, bool]]:
        dns = DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=1.0, retries=0)
        web = WebClient(dns, https_port=endpoints["https"], http_port=endpoints["http"], allow_private=True,
                        ca_file=pki["ca_file"], timeout=5)
        refusing = WebClient(dns, https_port=refused_port, allow_private=True, timeout=5)
        guarded = WebClient(dns, https_port=endpoints["https"], ca_file=pki["ca_file"], timeout=5)
        path = "/autodiscover/autodiscover.xml"
        try:
            got = {
                "good": await web.get("autodiscover.onprem-good.test", path),
                "untrusted": await web.get("autodiscover.onprem-untrusted.test", path),
                "mismatch": await web.get("autodiscover.onprem-mismatch.test", path),
                "expired": await web.get("autodiscover.onprem-expired.test", path),
                "lenient": await web.get("autodiscover.onprem-untrusted.test", path, verify=False),
                "no address": await web.get("certificate-noaddr.kinds.test", path),
                "refused": await refusing.get("certificate.kinds.test", path),
                "non-public": await guarded.get("blocked.kinds.test", path),
            }
        finally:
            await web.aclose()
            await refusing.aclose()
            await guarded.aclose()
        return {k: (r.failure, r.ok) for k, r in got.items()}

    assert asyncio.run(kinds()) == {
        "good": (None, True), "untrusted": (WebFailure.CERTIFICATE_UNTRUSTED, False),
        "mismatch": (WebFailure.CERTIFICATE_NAME, False), "expired": (WebFailure.CERTIFICATE_EXPIRED, False),
        "lenient": (None, True), "no address": (WebFailure.NO_ADDRESS, False),
        "refused": (WebFailure.REFUSED, False), "non-public": (WebFailure.NON_PUBLIC, False)}
    assert all(k.certificate for k in (WebFailure.CERTIFICATE_UNTRUSTED, WebFailure.CERTIFICATE_NAME,
                                       WebFailure.CERTIFICATE_EXPIRED))
    assert not any(k.certificate for k in (WebFailure.TLS, WebFailure.NO_ADDRESS, WebFailure.REFUSED))


def test_pools_and_tls_contexts_are_made_on_the_first_connection_only(dns_server, pki, endpoints):
    """Each reads the system store (~35 ms, in each worker process): a client that only got
    answers without connecting (a non-public address) made none, one that connected made them,
    and with --ca-file they are made at once (a bad file fails at the start, as itself); a
    closed client makes none afterwards, so none is left open."""
    from dnsaudit.net.tls import TlsProber

    async def made() -> dict[str, object]:
        dns = DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=1.0, retries=0)
        guarded = WebClient(dns, https_port=endpoints["https"], timeout=5)
        web = WebClient(dns, https_port=endpoints["https"], allow_private=True, timeout=5)
        with_ca = WebClient(dns, https_port=endpoints["https"], ca_file=pki["ca_file"], timeout=5)
        unused = WebClient(dns, https_port=endpoints["https"], allow_private=True, timeout=5)
        try:
            blocked = await guarded.get("blocked.kinds.test", "/autodiscover/autodiscover.xml")
            good = await web.get("autodiscover.onprem-good.test", "/autodiscover/autodiscover.xml", verify=False)
            assert blocked.failure is WebFailure.NON_PUBLIC and good.ok, (blocked, good)
            pools = {"guarded": guarded._pools is None, "web": web._pools is not None,
                     "with_ca": with_ca._pools is not None}
        finally:
            for client in (guarded, web, with_ca):
                await client.aclose()
        assert all(pool.is_closed for client in (web, with_ca) for pool in client._pools or ())
        await unused.aclose()
        with pytest.raises(RuntimeError, match="closed"):
            await unused.get("autodiscover.onprem-good.test", "/autodiscover/autodiscover.xml")
        pools["unused"] = unused._pools is None
        return pools

    assert asyncio.run(made()) == {"guarded": True, "web": True, "with_ca": True, "unused": True}
    assert not {"verifying", "reading"} & set(vars(TlsProber()))
    assert set(vars(TlsProber(ca_file=pki["ca_file"]))) & {"verifying", "reading"} == {"verifying"}


def test_a_ca_file_that_is_not_pem_stops_the_run_before_any_domain(tmp_path, dns_server, capsys):
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    (tmp_path / "domains.csv").write_text("domain\nonprem-good.test\n")
    code = main(["audit", str(tmp_path / "domains.csv"), "--nameserver", f"127.0.0.1:{dns_server.port}",
                 "--ca-file", str(tmp_path / "ca.pem"), "--out", str(tmp_path / "out"), "--no-history"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f"--ca-file {tmp_path / 'ca.pem'}: not a readable PEM file of CA certificates" in err
    assert not (tmp_path / "out" / "results.json").exists()


def test_hybrid_without_cname_but_a_working_srv_is_one_story(tmp_path, dns_server, pki, endpoints):
    """Issue 13 section 4: no autodiscover CNAME, an SRV to the on-premises host whose endpoint
    answers with a good certificate. The walk says Outlook uses step 4, the CNAME check only
    warns that this path is slower, and nothing about autodiscover blocks the domain."""
    results = audit(tmp_path, dns_server, pki, endpoints, ["srv-only.test,hybrid,"], "--allow-private",
                    "--checks", "autodiscover.*")["srv-only.test"]
    assert statuses(results, "autodiscover.endpoints") == ["pass"], messages(results, "autodiscover.endpoints")
    assert "step 4" in messages(results, "autodiscover.endpoints")
    assert statuses(results, "autodiscover.cname") == ["warn"], messages(results, "autodiscover.cname")
    assert "falls back to the _autodiscover._tcp SRV record (mail.srv-only.test)" in messages(results,
                                                                                                "autodiscover.cname")
    assert statuses(results, "tls.autodiscover") == ["pass", "pass", "pass"]
    assert not [r for r in results if r["status"] == "fail" and r["severity"] in ("high", "critical")]


def test_mx_dane_compares_an_own_mx_hosts_tlsa_with_its_certificate(tmp_path, dns_server, pki, endpoints):
    """mx.dane for an MX host that is not Microsoft's: a TLSA 3 1 1 record is compared with the
    SubjectPublicKeyInfo of the certificate the host presents after STARTTLS on port 25."""
    import asyncio

    from dnsaudit.net.tls import TlsProber

    presented = asyncio.run(TlsProber(timeout=5).probe("127.0.0.1", endpoints["smtp"], "mx.smtp-good.test",
                                                       starttls=True)).cert
    assert presented is not None and len(presented.spki_sha256) == 64
    for domain, digest in (("dane-match.test", presented.spki_sha256), ("dane-mismatch.test", "00" * 32)):
        dns_server.add_zone_text(domain + ".", zone(domain, f"@ MX 10 mx.{domain}.\nmx A 127.0.0.1\n"
                                                            f"_25._tcp.mx TLSA 3 1 1 {digest}"))
    results = audit(tmp_path, dns_server, pki, endpoints, ["dane-match.test,hybrid,", "dane-mismatch.test,hybrid,"],
                    "--allow-private", "--checks", "mx.dane")
    assert statuses(results["dane-match.test"], "mx.dane") == ["pass"], messages(results["dane-match.test"], "mx.dane")
    assert statuses(results["dane-mismatch.test"], "mx.dane") == ["fail"]
    mismatch = next(r for r in results["dane-mismatch.test"] if r["id"] == "mx.dane")
    assert "matches none of its TLSA records" in mismatch["message"]
    assert mismatch["remediation"].endswith(f"TLSA 3 1 1 {presented.spki_sha256}")
