"""Planned zone files as the DNS source: same verdicts as served zones, errors, --compare-live, offline."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dnsaudit.check import Settings
from dnsaudit.cli import main
from dnsaudit.model import Cloud, DomainEntry, Phase
from dnsaudit.net.dns import DnsClient, Nameserver, Outcome
from dnsaudit.registry import load_checks
from dnsaudit.runner import audit_entries
from dnsaudit.zones import ZoneError, ZoneSet

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"


def entries(cases):
    return [DomainEntry(c["domain"], i + 2, cloud=Cloud(c.get("cloud", "worldwide")),
                        phase=Phase(c.get("phase", "cloud")), gateway=c.get("gateway", ""),
                        relay_ips=tuple(c.get("relay_ips", ())), tenant=c.get("tenant", ""))
            for i, c in enumerate(cases)]


# Zone files carry no signatures: dnssec.zone is skipped for a planned zone, by design.
ONLY_LIVE = {"dnssec.zone"}


def test_planned_zones_get_the_same_verdicts_as_served_zones(tmp_path, dns_server, all_cases):
    # not the cases whose verdict comes from a server fault (a timeout cannot be written in a zone file)
    cases = [c for c in all_cases if "fault" not in c and "faults" not in c and c["domain"] != "relay-slow.test"]
    folder = tmp_path / "zones"
    folder.mkdir()
    for case in cases:
        if "zone" in case:
            (folder / f"{case['domain']}.zone").write_text(case["zone"])
    zones = ZoneSet.load([folder, TESTS / "zones"])
    checks = load_checks().checks

    async def audit(client):
        done = await audit_entries(entries(cases), checks, client, Settings(), concurrency=8)
        # the same verdicts; the wording of "could not test" may name REFUSED or OFFLINE for a
        # name outside every zone, which is the one thing a server and a plan say differently
        return {r.entry.domain: [(f.check_id, f.status.value, f.observed,
                                  f.message if f.reason is None else f.reason.value in ("refused", "offline"))
                                 for f in r.findings if f.check_id not in ONLY_LIVE] for r in done}

    served = asyncio.run(audit(DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=3, retries=0)))
    planned_client = DnsClient([], zones=zones, offline=True)
    planned = asyncio.run(audit(planned_client))
    assert planned == served
    assert planned_client.stats.queries_sent == 0 and planned_client.stats.zone_answers > 100


def test_names_outside_the_zones_go_to_the_resolver_and_chains_continue(dns_server):
    zones = ZoneSet()
    zones.add_text("plan.test", "@ SOA ns hostmaster 1 3600 600 86400 300\nautodiscover CNAME autodiscover.outlook.com.\n"
                   "* MX 10 catchall.plan.test.\n")

    async def go():
        client = DnsClient([Nameserver("127.0.0.1", dns_server.port)], timeout=1, retries=0, zones=zones)
        return (await client.query("autodiscover.plan.test", "A"), await client.query("good.test", "MX"),
                await client.query("anything.plan.test", "MX"), await client.query("nope.plan.test", "TXT"), client)

    chained, outside, wildcard, nodata, client = asyncio.run(go())
    assert chained.ok and chained.chain == ("autodiscover.plan.test.", "autodiscover.outlook.com.",
                                            "autod.ha-autod.office.com.")
    assert outside.ok and "good-test.mail.protection.outlook.com." in outside.texts[0]
    assert wildcard.texts == ("10 catchall.plan.test.",)
    assert nodata.outcome is Outcome.NODATA
    assert dns_server.count("autodiscover.plan.test", "A") == 0  # the plan answered, not the server


def test_offline_names_outside_zones_and_snapshot_are_not_answered():
    async def go():
        client = DnsClient([], offline=True)
        return await client.query("example.org", "MX")

    answer = asyncio.run(go())
    assert answer.outcome is Outcome.OFFLINE and answer.outcome.is_failure


@pytest.mark.parametrize(
    ("content", "message"),
    [("@ SOA ns hostmaster 1 3600 600 86400 300\nwww IN A 999.1.1.1\n", r"broken.test.zone:2"),
     ("@ SOA ns hostmaster 1 3600 600 86400 300\n@ BOGUSTYPE x\n", r"broken.test.zone:2")],
)
def test_a_broken_zone_file_is_a_clear_error(tmp_path, capsys, content, message):
    zone = tmp_path / "broken.test.zone"
    zone.write_text(content)
    with pytest.raises(ZoneError, match=message):
        ZoneSet.load([zone])
    csv = tmp_path / "d.csv"
    csv.write_text("domain\nbroken.test\n")
    assert main(["audit", str(csv), "--zone", str(zone), "--offline", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "broken.test.zone:2" in err and "Traceback" not in err
    assert main(["audit", str(csv), "--zone", str(tmp_path / "missing"), "--offline"]) == 2


def test_origin_from_the_file_name_or_origin_line(tmp_path):
    (tmp_path / "db.alpha.test").write_text("@ MX 0 mx.alpha.test.\n")
    (tmp_path / "whatever.txt").write_text("$ORIGIN beta.test.\n@ MX 0 mx.beta.test.\n")
    zones = ZoneSet.load([tmp_path])
    assert sorted(zones.sources) == ["alpha.test", "beta.test"]


def test_compare_live_shows_what_the_plan_changes(tmp_path, dns_server, capsys):
    plan = tmp_path / "good.test.zone"
    plan.write_text("@ SOA ns hostmaster 1 3600 600 86400 300\n@ MX 10 mail.good.test.\nmail A 203.0.113.9\n"
                    "autodiscover CNAME autodiscover.outlook.com.\n"
                    '@ TXT "v=spf1 include:spf.protection.outlook.com -all"\n')
    csv = tmp_path / "d.csv"
    csv.write_text("domain\ngood.test\n")
    code = main(["audit", str(csv), "--zone", str(plan), "--compare-live", "--nameserver",
                 f"127.0.0.1:{dns_server.port}", "--no-probes", "--out", str(tmp_path / "o"), "--quiet",
                 "--no-history", "--format", "json,html"])
    assert code == 1  # the plan moves MX away from Microsoft 365
    data = json.loads((tmp_path / "o" / "results.json").read_text())
    results = data["domains"][0]["results"]
    changes = [r["message"] for r in results if r["id"] == "zone.changes"]
    assert "The plan changes good.test. MX: 0 good-test.mail.protection.outlook.com. -> 10 mail.good.test.." in changes
    assert any("removes _dmarc.good.test. TXT" in m for m in changes)
    assert any("adds mail.good.test. A" in m for m in changes)
    assert [r["status"] for r in results if r["id"] == "mx.microsoft365"] == ["fail"]
    assert data["run"]["sources"]["zone_files"] == {"good.test": str(plan)}
    html = (tmp_path / "o" / "report.html").read_text()
    assert "Planned zones answered from files: good.test" in html and "Other names: live DNS" in html


def test_the_readme_first_command_works_offline(tmp_path):
    """The quickstart's audit, as written, on a copy of the repository's example files; no network."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)```", readme, re.S).group(1)
    command = next(part.strip() for line in block.splitlines() for part in line.split("&&")
                   if part.strip().startswith("dnsaudit audit"))
    assert "--offline" in command
    shutil.copy(ROOT / "domains.example.csv", tmp_path)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": "",
           "XDG_DATA_HOME": str(tmp_path / "data"), "DNSAUDIT_NAMESERVER": "192.0.2.1"}  # never asked
    proc = subprocess.run(["/bin/sh", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr  # the examples include blocked domains, on purpose
    (run,) = (tmp_path / "dnsaudit-runs").iterdir()
    assert sorted(p.name for p in run.iterdir()) == ["findings.csv", "fixes", "matrix.csv", "report.html",
                                                     "report.xlsx", "results.json"]
    data = json.loads((run / "results.json").read_text())
    assert data["run"]["dns_queries"] == 0 and data["run"]["sources"]["offline_snapshot"]
    verdicts = {d["input"]["domain"]: d["verdict"] for d in data["domains"]}
    assert verdicts["tailspin.example"] == "ready" and verdicts["contoso.com"] == "blocked"
    assert "0 queries sent" in proc.stdout
