"""A fix for every fixable finding: each fail or warn of the cases that one record would fix
carries that record (zone-file syntax) as its remediation; a line that starts with a name is
a record that parses."""

from __future__ import annotations

import json
from pathlib import Path

import dns.rdata
import dns.rdataclass
import dns.rdatatype

GOLDEN = Path(__file__).with_name("golden_results.json")

# Findings no single record fixes: a judgement, a choice or a change elsewhere (the sender's
# address, another zone, the provider's include); check id and the start of the message.
NOT_A_RECORD = [
    ("mx.microsoft365", "MX already points at Microsoft 365 although the phase is pre-migration"),
    ("mx.microsoft365", "MX points at Microsoft 365 ("),  # the tenant's host name is Microsoft's to give
    ("mx.microsoft365", "Mail arrives through the filtering gateway"),
    ("mx.dane", "The TLSA records at"),  # Microsoft publishes the TLSA of its MX hosts, not the customer
    ("relay.spf", ""),  # a private address: the device's public address is unknown
    ("spf.limits", ""),  # lookups: which includes to flatten or drop is the sender's choice
    ("spf.microsoft365", "The record includes spf.protection.outlook.com, but Microsoft's servers do not all pass"),
    ("spf.policy", "'ip4:"),
    ("spf.policy", "'ptr'"),
    ("spf.record", "The SPF record has a syntax error"),
    ("tls_rpt.record", "The TLS-RPT record is invalid"),
]


def findings():
    for domain in json.loads(GOLDEN.read_text(encoding="utf-8")):
        for f in domain["results"]:
            if f["status"] in ("fail", "warn"):
                yield domain["input"]["domain"], f


def test_every_fixable_fail_or_warn_carries_its_record():
    missing = [(d, f["id"], f["message"]) for d, f in findings() if not f["remediation"]
               and not any(f["id"] == i and f["message"].startswith(m) for i, m in NOT_A_RECORD)]
    assert missing == []


def test_the_records_are_zone_file_lines_that_parse():
    seen = 0
    for _, f in findings():
        for line in f["remediation"].splitlines():
            if not line.split()[0].endswith(".") or "<" in line:
                continue  # a sentence ("Delete: ...", "Point ... until cutover") or a placeholder to fill in
            owner, ttl, klass, rdtype, value = line.split(None, 4)
            assert ttl.isdigit() and klass == "IN", line
            dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), value)
            seen += 1
    assert seen > 50


def test_spf_all_and_dmarc_none_get_their_fixed_record():
    by = {(d, f["id"], f["message"][:12]): f["remediation"] for d, f in findings()}
    assert by[("spf-plusall.test", "spf.policy", "'+all' autho")].endswith('"v=spf1 include:spf.protection.outlook.com -all"')
    dmarc = [r for (d, i, m), r in by.items() if i == "dmarc.record" and m.startswith("DMARC policy")]
    assert dmarc and all("p=quarantine" in r and r.startswith("_dmarc.") for r in dmarc)
