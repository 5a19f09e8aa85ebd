"""--split-by client: each client's reports hold that client only, and no report for people
shows a local path. Three clients, each with values of its own in every column (domains,
tenant, relay addresses, notes, an e-mail and a URL row, a rejected row), a relay
certificate whose check lists every audited domain, planned zones from an absolute folder."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import openpyxl
import pytest
import trustme

from dnsaudit.cli import main

ZONE = """$ORIGIN {d}.
@ SOA ns1.{d}. hostmaster.{d}. 1 3600 600 86400 300
@ NS ns1.{d}.
ns1 A 198.51.100.53
@ MX 0 {label}.mail.protection.outlook.com.
@ TXT "v=spf1 ip4:{relay} include:spf.protection.outlook.com {all}"
_dmarc TXT "v=DMARC1; p={policy}"
autodiscover CNAME autodiscover.outlook.com.
"""

# client -> its input rows (domain column as written, relay IPs, tenant, notes, relay cert)
CLIENTS = {
    "Contoso Ltd": [("alpha-contoso.test", "192.0.2.11", "contosotenant", "note-contoso-7731", ""),
                    ("ops@gamma-contoso.test", "192.0.2.12 999.0.0.1", "", "note-contoso-8842", "")],
    "Fabrikam": [("fab-one.test", "198.51.100.22", "fabtenant.onmicrosoft.com", "note-fabrikam-4410", ""),
                 ("https://fab-two.test/login", "", "", "note-fabrikam-5521", ""),
                 ("not a domain fab!", "", "", "note-fabrikam-rejected", "")],
    "Nørthwind A/S": [("nw-one.test", "203.0.113.33", "nwtenant.onmicrosoft.com", "note-northwind-9901",
                       "relay.pem")],
}
DOMAINS = {"alpha-contoso.test": "Contoso Ltd", "gamma-contoso.test": "Contoso Ltd", "fab-one.test": "Fabrikam",
           "fab-two.test": "Fabrikam", "nw-one.test": "Nørthwind A/S"}
FOLDERS = {"Contoso Ltd": "Contoso Ltd", "Fabrikam": "Fabrikam", "Nørthwind A/S": "Nørthwind A_S"}


def tokens_of(client: str) -> set[str]:
    """Everything of a client that another client's reports must not show."""
    found = {client}
    for domain, relays, tenant, notes, _ in CLIENTS[client]:
        found.update({domain, notes, *relays.split()})
        if tenant:
            found.add(tenant)
    found.update(d for d, c in DOMAINS.items() if c == client)
    return found


@pytest.fixture(scope="module")
def split_run(tmp_path_factory):
    work = tmp_path_factory.mktemp("isolation")
    zones = work / "planned-zones"
    zones.mkdir()
    for i, (domain, client) in enumerate(DOMAINS.items()):
        relay = next((r.split()[0] for d, r, *_ in CLIENTS[client] if domain in d and r), "192.0.2.99")
        (zones / f"{domain}.zone").write_text(ZONE.format(d=domain, label=domain.replace(".", "-"),
                                                          relay=relay, all="+all" if i % 2 else "-all",
                                                          policy="none" if i % 2 else "reject"), encoding="utf-8")
    ca = trustme.CA()
    (work / "relay.pem").write_bytes(ca.issue_cert("mail.nw-one.test").cert_chain_pems[0].bytes())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["domain", "client", "relay_ips", "tenant", "notes", "relay_cert_host"])
    for client, rows in CLIENTS.items():
        for domain, relays, tenant, notes, cert in rows:
            writer.writerow([domain, client, relays, tenant, notes, cert])
    (work / "domains.csv").write_text(out.getvalue(), encoding="utf-8")
    code = main(["audit", str(work / "domains.csv"), "--zone", str(zones), "--offline", "--out", str(work / "out"),
                 "--split-by", "client", "--quiet"])
    assert code == 2  # the rejected row (and the bad relay address); the rest was audited
    return work, work / "out"


def report_texts(folder: Path) -> dict[str, str]:
    """Every report for people in ``folder`` as text: each cell of each sheet, the page, the CSVs."""
    texts = {}
    book = openpyxl.load_workbook(folder / "report.xlsx")
    cells = [book.properties.title or ""]
    for ws in book.worksheets:
        cells.append(ws.title)
        cells += [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    texts["report.xlsx"] = "\n".join(cells)
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".zone"):
            texts[str(path.relative_to(folder))] = path.read_text(encoding="utf-8-sig")
    return texts


def test_each_client_folder_holds_that_client_only(split_run):
    work, out = split_run
    for client, folder_name in FOLDERS.items():
        folder = out / "clients" / folder_name
        texts = report_texts(folder)
        assert {"report.xlsx", "report.html", "findings.csv"} <= set(texts), (client, sorted(texts))
        foreign = {t for other in CLIENTS if other != client for t in tokens_of(other)}
        for name, text in texts.items():
            for token in foreign:
                assert token.lower() not in text.lower(), f"{folder_name}/{name} names another client's {token!r}"
            assert str(work) not in text, f"{folder_name}/{name} shows a local path"
        own = {d for d, c in DOMAINS.items() if c == client}
        assert all(d in texts["report.html"] and d in texts["report.xlsx"] for d in own)


def test_a_client_sees_the_issues_of_its_own_rows(split_run):
    _, out = split_run
    fabrikam = report_texts(out / "clients" / "Fabrikam")
    assert "not a domain fab!" in fabrikam["report.html"] and "not a domain fab!" in fabrikam["report.xlsx"]
    assert "https://fab-two.test/login" in fabrikam["report.xlsx"]
    contoso = report_texts(out / "clients" / "Contoso Ltd")
    assert "999.0.0.1" in contoso["report.xlsx"] and "ops@gamma-contoso.test" in contoso["report.html"]
    assert "alpha-contoso.test.zone" in contoso["report.xlsx"]  # its planned zone, by file name


def test_the_relay_check_of_one_client_does_not_list_the_others(split_run):
    """tls.relay compares the certificate with the run's domains; the client's copy names its own only."""
    _, out = split_run
    rows = list(csv.DictReader(io.StringIO((out / "clients" / FOLDERS["Nørthwind A/S"] / "findings.csv")
                                           .read_text(encoding="utf-8-sig"))))
    relay = [r for r in rows if r["check"] == "tls.relay"]
    assert relay and all("alpha-contoso.test" not in r["expected"] for r in relay)
    assert any("nw-one.test" in r["expected"] or "nw-one.test" in r["message"] for r in relay)


def test_whole_run_reports_show_file_names_not_paths(split_run):
    work, out = split_run
    for name, text in report_texts(out).items():
        assert str(work) not in text, f"{name} shows a local path"
        assert not re.search(r"(^|\s)/(tmp|home|root)/", text), name
    assert str(work) in (out / "results.json").read_text(encoding="utf-8")  # machines keep the paths


def test_index_csv_lists_each_client_folder_and_verdicts(split_run):
    _, out = split_run
    rows = list(csv.DictReader(io.StringIO((out / "clients" / "index.csv").read_text(encoding="utf-8-sig"))))
    assert [(r["client"], r["folder"]) for r in rows] == list(FOLDERS.items())  # input order
    assert [int(r["domains"]) for r in rows] == [2, 2, 1]
    for r in rows:
        verdicts = sum(int(r[v]) for v in ("ready", "ready with warnings", "blocked", "could not assess"))
        assert verdicts == int(r["domains"])
        assert (out / "clients" / r["folder"] / "report.html").is_file()
