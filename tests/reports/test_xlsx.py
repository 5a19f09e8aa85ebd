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
    assert book.sheetnames == ["Overview", "Summary", "Findings", "Matrix", "Records", "Checks", "Run"]
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


def untestable(domain: dict) -> bool:
    ran = [r for r in domain["results"] if r["status"] != "skip"]
    return bool(ran) and all(r["status"] == "error" for r in ran)


def test_findings_hold_every_non_pass_result_with_its_fix(book, results_json):
    findings = rows(book["Findings"])
    expected = sum(r["status"] not in ("pass", "skip") for d in results_json["domains"] if not untestable(d)
                   for r in d["results"])
    assert len(findings) == expected + sum(map(untestable, results_json["domains"]))
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
    assert not any("``" in c["What it checks, why it matters, how to fix"] for c in checks)  # plain text
    run = {r[0].value: r[1].value for r in book["Run"].iter_rows() if r[0].value}
    assert run["Tool"].startswith("dnsaudit ")
    assert run["DNS queries sent"] == results_json["run"]["dns_queries"]
    assert run["Setting probes"] == "No" and run["Setting allow private"] == "No"  # values for people
    assert run["Setting timeout"] == 3 and run["Input file"] == "domains.csv"
    assert not [v for v in run.values() if isinstance(v, (bool, float)) or v in ("True", "False")]
    issues = [r for r in book["Run"].iter_rows(values_only=True) if r[2] == "error"]
    assert issues and "row not audited" in issues[0][1] and issues[0][0] == len(results_json["domains"]) + 2


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


def test_a_domain_nothing_could_be_tested_on_is_one_findings_row(book, results_json):
    dead = [d["input"]["display_name"] for d in results_json["domains"] if untestable(d)]
    assert dead  # the timeout, SERVFAIL and REFUSED cases
    findings = rows(book["Findings"])
    for domain in dead:
        lines = [f for f in findings if f["Domain"] == domain]
        assert len(lines) == 1 and lines[0]["Status"] == "could not test", lines
        assert lines[0]["Message"].startswith("None of the ") and ("timeout" in lines[0]["Message"]
                                                                   or "servfail" in lines[0]["Message"]
                                                                   or "refused" in lines[0]["Message"])


def test_notes_and_client_in_summary_and_findings(book, results_json):
    notes = {d["input"]["display_name"]: (d["input"]["client"], d["input"]["notes"]) for d in results_json["domains"]}
    for sheet in ("Summary", "Findings"):
        table = rows(book[sheet])
        assert table and all((r["Client"] or "", r["Notes"] or "") == notes[r["Domain"]] for r in table), sheet
    assert any(r["Notes"] == "<b>bold</b> note" for r in rows(book["Summary"]))


def test_matrix_sheet_has_each_checks_status_per_domain(book, results_json):
    matrix = rows(book["Matrix"])
    check_ids = [c["id"] for c in results_json["run"]["checks"]]
    assert [c.value for c in book["Matrix"][1]] == ["Client", "Domain", "Verdict", *check_ids]
    assert len(matrix) == len(results_json["domains"])
    rank = {"skip": 0, "pass": 1, "info": 2, "error": 3, "warn": 4, "fail": 5}
    label = {"error": "could not test"}
    for d in results_json["domains"]:
        row = next(r for r in matrix if r["Domain"] == d["input"]["display_name"])
        for check in check_ids:
            statuses = [r["status"] for r in d["results"] if r["id"] == check]
            worst = max(statuses, key=rank.get) if statuses else None
            assert row[check] == (label.get(worst, worst) if worst else None), (d["input"]["domain"], check)
    colours = {rule.formula[0] for cf in book["Matrix"].conditional_formatting for rule in cf.rules}
    assert '"fail"' in colours and '"could not test"' in colours


def test_overview_first_with_verdicts_top_problems_and_a_native_chart(book, results_json):
    assert book.sheetnames[0] == "Overview" and book.active.title == "Overview"
    ws = book["Overview"]
    values = list(ws.iter_rows(values_only=True))
    text = "\n".join(str(v) for r in values for v in r if v is not None)
    totals = results_json["totals"]["verdicts"]
    table = {r[0]: r[1] for r in values if r[0] in totals}
    assert table == totals
    assert f"of {results_json['totals']['domains']} domains are ready" in text
    assert "blocked" in text and "Most common problems" in text and "What blocks cutover" in text
    header = next(i for i, r in enumerate(values) if r[0] and r[0].startswith("Most common problems"))
    top = list(values[header + 1: header + 6])
    affected = {}
    for d in results_json["domains"]:
        for check in {r["id"] for r in d["results"] if r["status"] in ("fail", "warn")}:
            affected[check] = affected.get(check, 0) + 1
    assert [r[1] for r in top] == sorted(affected.values(), reverse=True)[:5]
    assert all(affected[r[2]] == r[1] for r in top)
    [chart] = ws._charts
    assert chart.tagname == "barChart"
    series = chart.series[0]
    first = next(i for i, r in enumerate(values, 1) if r[0] == "ready")
    assert series.val.numRef.f == f"'Overview'!$B${first}:$B${first + 3}"
    assert series.cat.strRef.f == f"'Overview'!$A${first}:$A${first + 3}"
    cached = [p.v for p in series.val.numRef.numCache.pt]
    assert [float(v) for v in cached] == [float(totals[v]) for v in
                                          ("ready", "ready with warnings", "blocked", "could not assess")]


def test_every_table_prints_landscape_with_titles_page_numbers_and_legible_scale(book):
    from dnsaudit.reports.spreadsheet import PRINT_WIDTH

    for ws in book.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert "&P" in (ws.oddFooter.right.text or ""), ws.title
        widths = sum(d.width for d in ws.column_dimensions.values() if d.width)
        if ws.title != "Matrix" or widths <= PRINT_WIDTH:
            assert widths <= PRINT_WIDTH, ws.title  # one page wide at >= 8 pt (see reports.spreadsheet)
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1, ws.title
    assert book["Summary"].print_title_rows == "$1:$1"
    # wider than a page: each printed page of check columns still names the domain
    assert book["Matrix"].print_title_rows == "$1:$1" and book["Matrix"].print_title_cols == "$A:$C"
