"""The Waivers sheet and the page's "Waived" section, on a hand-made run (the CLI run is in test_policy_cli.py)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl

from dnsaudit.model import AuditRun, CheckInfo, DomainEntry, DomainResult, Finding, RunInfo, Severity, Status
from dnsaudit.policy.waivers import Waiver, apply_waivers
from dnsaudit.reports.html import HtmlReport
from dnsaudit.reports.xlsx import XlsxReport
from dnsaudit.scoring import score

TODAY = dt.date(2026, 12, 2)
REASON = "<script>alert(1)</script> until cutover"


def waived_run() -> AuditRun:
    waivers = [Waiver("mx.extra", REASON, dt.date(2026, 12, 31), domain="contoso.test", owner="ops@msp.example",
                      source="dnsaudit.toml, waiver 1"),
               Waiver("dmarc.*", "old decision", dt.date(2026, 11, 30), client="Fabrikam", source="dnsaudit.toml, waiver 2")]
    domains = []
    for i, (name, client) in enumerate((("contoso.test", "Contoso"), ("fabrikam.test", "Fabrikam"))):
        entry = DomainEntry(name, i + 2, client=client)
        findings = [Finding("mx.extra", "mx", Severity.MEDIUM, Status.FAIL, "An old MX host remains."),
                    Finding("dmarc.record", "dmarc", Severity.LOW, Status.WARN, "DMARC policy is p=none.")]
        findings = apply_waivers(entry, findings, waivers, TODAY)
        domains.append(DomainResult(entry, findings, score(findings)))
    checks = (CheckInfo("mx.extra", "mx", "t", Severity.MEDIUM, "", (), "1", "dnsaudit"),
              CheckInfo("dmarc.record", "dmarc", "t", Severity.LOW, "", (), "1", "dnsaudit"))
    return AuditRun(RunInfo("0", "2026-12-02T01:00:00+00:00", "", "in.csv", (), checks), tuple(domains))


def test_the_waivers_sheet_says_what_why_who_and_until_when():
    book = openpyxl.load_workbook(io.BytesIO(XlsxReport().render(waived_run(), "t")))
    assert "Waivers" in book.sheetnames
    rows = [[c.value for c in row] for row in book["Waivers"].iter_rows()]
    assert rows[0][:9] == ["Client", "Domain", "Check", "Status", "Message", "Waived because", "Owner", "Until",
                           "State"]
    assert rows[1] == ["Contoso", "contoso.test", "mx.extra", "fail", "An old MX host remains.", REASON,
                       "ops@msp.example", "2026-12-31", "waived", "dnsaudit.toml, waiver 1"]
    assert rows[2][:5] == ["Fabrikam", "fabrikam.test", "dmarc.record", "warn",
                           "DMARC policy is p=none. (waiver expired on 2026-11-30)"]
    assert rows[2][8] == "expired" and len(rows) == 3
    findings = {(r[1].value, r[3].value): r[5].value for r in book["Findings"].iter_rows(min_row=2)}
    assert findings[("contoso.test", "mx.extra")] == "fail (waived)"
    assert findings[("fabrikam.test", "dmarc.record")] == "warn"
    matrix = [[c.value for c in r] for r in book["Matrix"].iter_rows()]
    column = matrix[0].index("mx.extra")
    assert {r[1]: r[column] for r in matrix[1:]} == {"contoso.test": "waived", "fabrikam.test": "fail"}


def test_no_waivers_sheet_without_waivers():
    plain = waived_run()
    plain = AuditRun(plain.info, tuple(DomainResult(d.entry, tuple(
        Finding(f.check_id, f.area, f.severity, f.status, f.message) for f in d.findings), d.score)
        for d in plain.domains))
    assert "Waivers" not in openpyxl.load_workbook(io.BytesIO(XlsxReport().render(plain, "t"))).sheetnames
    assert 'id="waived"' not in HtmlReport().render(plain, "t").decode()


def test_the_page_lists_waived_results_and_escapes_the_reason():
    page = HtmlReport().render(waived_run(), "t").decode()
    section = page.split('<section id="waived">', 1)[1].split("</section>", 1)[0]
    assert "Waived (2)" in section and "&lt;script&gt;alert(1)&lt;/script&gt; until cutover" in section
    assert "<script>alert" not in page
    assert "ops@msp.example" in section and "2026-11-30 <b>expired</b>" in section
    assert "waived until 2026-12-31" in page
