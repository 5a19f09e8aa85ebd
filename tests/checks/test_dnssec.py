"""dnssec.zone against zones signed with dnspython and served by the real test DNS server.

The parent zone ``dsec.test`` is signed and holds the children's DS records; each child is
signed (or not, or broken) the way its name says. One more server strips every DNSSEC
record, as resolvers that know nothing of DNSSEC do: that is "could not test", never
"unsigned".
"""

from __future__ import annotations

import datetime as dt

import dns.dnssec
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from dnsaudit.check import Settings
from dnsaudit.checks.dnssec import DnssecZone
from dnsaudit.net.dns import DnsClient, Nameserver
from dnsaudit.testing import ZoneServer, run_check
from dnsaudit.zones import zone_from_text

NOW = dt.datetime.now(dt.UTC)
PARENT = "dsec.test."


def soa(origin: str) -> str:
    return f"@ SOA ns.{origin} hostmaster.{origin} 1 3600 600 86400 300\n@ NS ns.{origin}\n"


def key() -> tuple[ed25519.Ed25519PrivateKey, dns.rdata.Rdata]:
    private = ed25519.Ed25519PrivateKey.generate()
    dnskey = dns.dnssec.make_dnskey(private.public_key(), dns.dnssec.Algorithm.ED25519, flags=257)
    return private, dnskey


def signed(origin: str, text: str, keypair, *, inception=None, expiration=None):
    zone = zone_from_text(soa(origin) + text, origin)
    dns.dnssec.sign_zone(zone, keys=[keypair], inception=inception or NOW - dt.timedelta(hours=1),
                         expiration=expiration or NOW + dt.timedelta(days=14))
    return zone


def ds_of(child: str, dnskey) -> str:
    ds = dns.dnssec.make_ds(child, dnskey, "SHA256")
    return f"{child} DS {ds.to_text()}\n"


MX_MS = "@ MX 0 {dashes}.o-v1.mx.microsoft.\n"


@pytest.fixture(scope="module")
def world():
    keys = {name: key() for name in ("parent", "secure", "island", "badsig", "expired", "wrongds", "other")}
    children = {
        "secure": signed("secure.dsec.test.", MX_MS.format(dashes="secure-dsec-test"), keys["secure"]),
        "island": signed("island.dsec.test.", "@ MX 0 island-dsec-test.mail.protection.outlook.com.\n",
                         keys["island"]),
        "badsig": signed("badsig.dsec.test.", MX_MS.format(dashes="badsig-dsec-test"), keys["badsig"]),
        "expired": signed("expired.dsec.test.", "@ MX 0 expired-dsec-test.mail.protection.outlook.com.\n",
                          keys["expired"], inception=NOW - dt.timedelta(days=30),
                          expiration=NOW - dt.timedelta(days=2)),
        "wrongds": signed("wrongds.dsec.test.", "@ MX 0 wrongds-dsec-test.mail.protection.outlook.com.\n",
                          keys["wrongds"]),
        "unsigned": zone_from_text(soa("unsigned.dsec.test.") + "@ MX 0 u-dsec-test.mail.protection.outlook.com.\n",
                                   "unsigned.dsec.test."),
        "unsigned-dane": zone_from_text(soa("unsigned-dane.dsec.test.") + MX_MS.format(dashes="unsigned-dane"),
                                        "unsigned-dane.dsec.test."),
        "dsnokeys": zone_from_text(soa("dsnokeys.dsec.test.") + "@ MX 0 d-dsec-test.mail.protection.outlook.com.\n",
                                   "dsnokeys.dsec.test."),
        "slow": zone_from_text(soa("slow.dsec.test."), "slow.dsec.test."),
    }
    # A signature that no longer matches its data: the MX changed after signing.
    bad = children["badsig"]
    mx = dns.rdataset.from_text("IN", "MX", 3600, "10 attacker.example.")
    bad.replace_rdataset("badsig.dsec.test.", mx)
    parent_text = (ds_of("secure.dsec.test.", keys["secure"][1]) + ds_of("badsig.dsec.test.", keys["badsig"][1])
                   + ds_of("expired.dsec.test.", keys["expired"][1]) + ds_of("wrongds.dsec.test.", keys["other"][1])
                   + ds_of("dsnokeys.dsec.test.", keys["other"][1]) + ds_of("slow.dsec.test.", keys["other"][1]))
    parent = signed(PARENT, parent_text, keys["parent"])
    zones = [parent, *children.values()]
    server = ZoneServer(zones)
    server.set_fault("slow.dsec.test", "timeout")
    stripping = ZoneServer(zones, serve_signatures=False)
    with server, stripping:
        yield server, stripping


def audit(server, label: str) -> list:
    client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=1.0, retries=0)
    return run_check(DnssecZone, entry=f"{label}.dsec.test", dns=client, settings=Settings())


@pytest.mark.parametrize(
    ("label", "status", "text"),
    [
        ("secure", "pass", "the DS at the parent matches key"),
        ("unsigned", "info", "not signed: no DS record at the parent and no DNSKEY"),
        ("unsigned-dane", "warn", "inbound SMTP DANE for unsigned-dane.o-v1.mx.microsoft cannot take effect"),
        ("island", "info", "the parent has no DS record"),
        ("badsig", "fail", "the MX RRset's signature does not validate"),
        ("expired", "fail", "expired"),
        ("wrongds", "fail", "matches the DS at the parent"),
        ("dsnokeys", "fail", "the zone has no DNSKEY"),
        ("slow", "error", "timed out"),
    ],
)
def test_dnssec_zone(world, label, status, text):
    server, _ = world
    findings = audit(server, label)
    assert [f.status.value for f in findings] == [status], findings
    assert text in findings[0].message, findings[0].message


def test_a_resolver_that_strips_dnssec_records_is_could_not_test_not_unsigned(world):
    _, stripping = world
    finding = audit(stripping, "secure")[0]
    assert finding.status.value == "error", finding
    assert "strips DNSSEC data" in finding.message


def test_the_evidence_shows_keys_and_signatures(world):
    server, _ = world
    finding = audit(server, "secure")[0]
    lines = [e.line() for e in finding.evidence]
    assert any("DNSKEY (DNSSEC): key" in line and "RRSIG by key" in line for line in lines)
    assert any(line.startswith("secure.dsec.test. DS (DNSSEC):") for line in lines)


def test_planned_zone_files_are_skipped(world):
    from dnsaudit.zones import ZoneSet

    server, _ = world
    planned = ZoneSet()
    planned.add_text("secure.dsec.test.", soa("secure.dsec.test."))

    client = DnsClient([Nameserver("127.0.0.1", server.port)], timeout=1.0, retries=0, zones=planned)
    findings = run_check(DnssecZone, entry="secure.dsec.test", dns=client, settings=Settings())
    assert [f.status.value for f in findings] == ["skip"]


def test_offline_is_could_not_test(world):
    finding = run_check(DnssecZone, entry="secure.dsec.test", dns=DnsClient([], offline=True), settings=Settings())[0]
    assert (finding.status.value, finding.reason.value) == ("error", "offline")
