"""tls.relay: a connector certificate matches an accepted domain of its own organisation, by CN or SAN.

Certificates are real (trustme and cryptography) and read from PEM files, as the
``relay_cert_host`` column allows; the CLI test shows the run groups domains by tenant and
client, so one client's certificate never matches another client's domain.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dnsaudit.check import Settings
from dnsaudit.checks.tls import TlsRelay
from dnsaudit.cli import main
from dnsaudit.mail.microsoft import accepted_domains
from dnsaudit.model import DomainEntry
from dnsaudit.net.dns import DnsClient
from dnsaudit.testing import run_check

NOW = dt.datetime.now(dt.UTC)


def cn_only(ca: trustme.CA, cn: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(ca._certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(NOW - dt.timedelta(days=1))
            .not_valid_after(NOW + dt.timedelta(days=200)).sign(ca._private_key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pems(tmp_path_factory):
    folder = tmp_path_factory.mktemp("relay-pems")
    ca = trustme.CA()
    files = {
        "san": ca.issue_cert("relay.contoso.test").cert_chain_pems[0].bytes(),
        "wildcard": ca.issue_cert("*.contoso.test").cert_chain_pems[0].bytes(),
        "cn": cn_only(ca, "relay.contoso.test"),
        "cn-wildcard": cn_only(ca, "*.contoso.test"),
        "other": ca.issue_cert("relay.fabrikam.test").cert_chain_pems[0].bytes(),
        "sibling": ca.issue_cert("smtp.contoso-mail.test").cert_chain_pems[0].bytes(),
    }
    for name, data in files.items():
        (folder / f"{name}.pem").write_bytes(data)
    return folder


def relay(pems, cert: str, domain: str = "contoso.test", tenant: str = "contoso.onmicrosoft.com",
          rows=()) -> list:
    entry = DomainEntry(domain, 2, relay_cert_host=str(pems / f"{cert}.pem"), tenant=tenant)
    settings = Settings(accepted_domains=accepted_domains([entry, *rows]))

    return run_check(TlsRelay, entry=entry, dns=DnsClient([], offline=True), settings=settings)


@pytest.mark.parametrize(
    ("cert", "status", "text"),
    [
        ("san", "pass", "names relay.contoso.test, under an accepted domain"),
        ("wildcard", "pass", "names *.contoso.test"),
        ("cn", "warn", "only in its subject CN"),
        ("cn-wildcard", "warn", "names *.contoso.test only in its subject CN"),
        ("other", "fail", "names no accepted domain of this organisation in its CN or subjectAltName"),
    ],
)
def test_a_connector_certificate_matches_by_san_or_cn(pems, cert, status, text):
    names, dates = relay(pems, cert)
    assert (names.status.value, dates.status.value) == (status, "pass"), names.message
    assert text in names.message


def test_a_domain_of_the_same_tenant_is_accepted(pems):
    sibling = DomainEntry("contoso-mail.test", 3, tenant="contoso.onmicrosoft.com")
    assert relay(pems, "sibling", rows=[sibling])[0].status.value == "pass"


def test_a_domain_of_another_tenant_is_not_accepted(pems):
    other = DomainEntry("contoso-mail.test", 3, tenant="fabrikam.onmicrosoft.com")
    finding = relay(pems, "sibling", rows=[other])[0]
    assert finding.status.value == "fail" and "contoso-mail.test" not in finding.expected


def test_the_cli_groups_accepted_domains_by_tenant_then_client(pems, tmp_path, dns_server):
    """An MSP list: client A's relay certificate names client B's domain, which is no match."""
    rows = [
        "contoso.test,,A,", f"contoso-mail.test,,A,{pems / 'sibling.pem'}",  # same client, no tenant: match
        "fabrikam.test,,B,", f"fabrikam-relay.test,,B,{pems / 'san.pem'}",  # names contoso.test (client A)
        "t1.test,t1.onmicrosoft.com,A,", f"t2.test,t2.onmicrosoft.com,A,{pems / 'sibling.pem'}",  # other tenant
    ]
    path = tmp_path / "domains.csv"
    path.write_text("domain,tenant,client,relay_cert_host\n" + "\n".join(rows) + "\n", encoding="utf-8")
    main(["audit", str(path), "--nameserver", f"127.0.0.1:{dns_server.port}", "--timeout", "1", "--retries", "0",
          "--checks", "tls.relay", "--no-probes", "--out", str(tmp_path / "out"), "--quiet", "--format", "json"])
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    names = {d["input"]["domain"]: d["results"][0] for d in data["domains"] if d["input"]["relay_cert_host"]}
    assert names["contoso-mail.test"]["status"] == "pass"
    assert names["fabrikam-relay.test"]["status"] == "fail", names["fabrikam-relay.test"]["message"]
    assert "contoso.test" not in names["fabrikam-relay.test"]["expected"]
    assert names["t2.test"]["status"] == "fail"  # contoso-mail.test is client A's, but t2 has its own tenant
