"""The workbook, read back with openpyxl: sheets, headers, values, styles, and no formulas."""

from __future__ import annotations

import zipfile
from collections import Counter

import openpyxl
import pytest

from dnsaudit.reports.spreadsheet import Workbook
from dnsaudit.reports.xlsx import CHECKS, FINDINGS, RECORDS, SUMMARY


@pytest.fixture(scope="module")
def book(out_dir):
    return openpyxl.load_workbook(out_dir / "report.xlsx")


def rows(ws) -> list[dict]:
    header = [c.value for c in ws[1]]
    return [dict(zip(header, [c.value for c in r])) for r in ws.iter_rows(min_row=2)]


def test_sheets_and_headers(book):
    assert book.sheetnames == ["Summary", "Findings", "Records", "Checks", "Run"]
    for name, headers in (("Summary", SUMMARY), ("Findings", FINDINGS), ("Records", RECORDS), ("Checks", CHECKS)):
        ws = book[name]
        assert [c.value for c in ws[1]] == headers
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref.startswith("A1:")
        assert ws[1][0].font.bold
    assert book.properties.title == "Microsoft 365 mail readiness"


def test_summary_matches_results_json_and_is_worst_first(book, results_json):
    summary = rows(book["Summary"])
    assert len(summary) == len(results_json["domains"])
    assert Counter(r["Verdict"] for r in summary) == Counter(
        {k: v for k, v in results_json["totals"]["verdicts"].items() if v})
    by_domain = {d["input"]["display_name"]: d for d in results_json["domains"]}
    for row in summary:
        d = by_domain[row["Domain"]]
        assert row["Score"] == d["score"] and row["Verdict"] == d["verdict"] and row["Grade"] == d["grade"]
        assert row["Fail"] == sum(r["status"] == "fail" for r in d["results"])
        assert row["Could not test"] == sum(r["status"] == "error" for r in d["results"])
    order = ["blocked", "could not assess", "ready with warnings", "ready"]
    ranks = [order.index(r["Verdict"]) for r in summary]
    assert ranks == sorted(ranks)
    assert summary[0]["First problem"] and summary[-1]["Verdict"] == "ready"


def test_summary_colours_verdicts_by_conditional_formatting(book):
    rules = {rule.formula[0]: rule.dxf.fill.bgColor.rgb
             for cf in book["Summary"].conditional_formatting for rule in cf.rules}
    assert rules['"blocked"'].endswith("FFC7CE") and rules['"ready"'].endswith("C6EFCE")
    assert book["Summary"].column_dimensions["B"].width >= 25


def test_findings_hold_every_non_pass_result_with_its_fix(book, results_json):
    findings = rows(book["Findings"])
    expected = sum(r["status"] not in ("pass", "skip") for d in results_json["domains"] for r in d["results"])
    assert len(findings) == expected
    nomx = [f for f in findings if f["Domain"] == "nomx.test" and f["Check"] == "mx.present"]
    assert nomx[0]["Status"] == "fail"
    assert nomx[0]["Remediation (record to publish)"] == "nomx.test. 3600 IN MX 0 nomx-test.mail.protection.outlook.com."
    assert {f["Status"] for f in findings} == {"fail", "warn", "could not test", "info"}


def test_records_show_what_dns_answered(book):
    records = rows(book["Records"])
    good = {(r["Name"], r["Type"]): r["Answer"] for r in records if r["Domain"] == "good.test"}
    assert good[("good.test.", "MX")] == "0 good-test.mail.protection.outlook.com."
    assert "autodiscover.outlook.com" in good[("autodiscover.good.test.", "CNAME")]


def test_checks_and_run_sheets(book, results_json):
    checks = rows(book["Checks"])
    assert [c["Check"] for c in checks] == [c["id"] for c in results_json["run"]["checks"]]
    assert all(c["What it checks, why it matters, how to fix"] for c in checks)
    run = {r[0].value: r[1].value for r in book["Run"].iter_rows() if r[0].value}
    assert run["Tool"].startswith("dnsaudit ")
    assert run["DNS queries sent"] == results_json["run"]["dns_queries"]
    issues = [r for r in book["Run"].iter_rows(values_only=True) if r[1] == "error"]
    assert issues and "row not audited" in issues[0][2] and issues[0][0] == len(results_json["domains"]) + 2


def test_no_cell_is_a_formula_although_dns_and_input_contain_formulas(out_dir, hostile):
    books = [out_dir / "report.xlsx", *sorted(out_dir.glob("clients/*/report.xlsx"))]
    assert len(books) == 5  # combined + Contoso, Fabrikam, Northwind and the hostile client
    for path in books:
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                if name.startswith("xl/worksheets/"):
                    assert b"<f>" not in archive.read(name), (path, name)
    book = openpyxl.load_workbook(books[0])
    client = next(c for c in book["Summary"]["A"] if c.value == hostile["client"])
    assert client.data_type == "s" and client.quotePrefix
    answers = [r["Answer"] for r in rows(book["Records"]) if r["Domain"] == "hostile.test"]
    assert any("=HYPERLINK(" in a for a in answers)  # as DNS presents it, quotes escaped
    assert any(hostile["script"] in (r["Observed"] or "") for r in rows(book["Findings"]))


def test_formula_like_text_stays_text_and_hostile_text_stays_readable(tmp_path):
    path = tmp_path / "t.xlsx"
    with open(path, "wb") as handle:
        book = Workbook(handle, title="t")
        sheet = book.sheet("S", [10] * 9, header=list("ABCDEFGHI"))
        sheet.append(["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "plain", 5, "a\x00<b>&\ud800", float("nan")])
        book.close()
    ws = openpyxl.load_workbook(path)["S"]
    cells = ws[2]
    assert [c.data_type for c in cells] == ["s"] * 6 + ["n", "s", "s"]
    assert [c.quotePrefix for c in cells[:6]] == [True] * 5 + [False]
    assert cells[0].value == "=1+1" and cells[6].value == 5
    assert cells[7].value == "a<b>&\ufffd" and cells[8].value == "nan"  # NUL dropped, lone surrogate replaced


def test_wrapped_rows_are_as_tall_as_their_text(tmp_path):
    path = tmp_path / "t.xlsx"
    with open(path, "wb") as handle:
        book = Workbook(handle)
        sheet = book.sheet("S", [10, 10], header=["A", "B"], wrap=True)
        sheet.append(["short", "x" * 25])  # three lines of 11 characters
        sheet.append(["one\ntwo", "short"])
        sheet.append(["short", 5])
        book.close()
    heights = openpyxl.load_workbook(path)["S"].row_dimensions
    assert [heights[r].height for r in (2, 3, 4)] == [45, 30, None]
