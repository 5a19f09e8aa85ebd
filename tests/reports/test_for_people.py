"""What a person reading the reports sees: no column that holds one value, times as people
write them, no made-up probe names among the records."""

from __future__ import annotations

import itertools
import re

import openpyxl
import pytest

READABLE = r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d \d\d:\d\d UTC"  # 2 Dec 2026 01:23 UTC
ISO_TIME = re.compile(r"20\d\d-\d\d-\d\dT\d\d:\d\d")
CLIENT_SHEETS = ("Summary", "Findings", "Matrix", "Records")


@pytest.fixture(scope="module")
def books(out_dir):
    return {"run": openpyxl.load_workbook(out_dir / "report.xlsx"),
            "Fabrikam": openpyxl.load_workbook(out_dir / "clients" / "Fabrikam" / "report.xlsx")}


def header(ws) -> list:
    return [c.value for c in next(ws.iter_rows(max_row=1))]


def test_a_clients_own_workbook_has_no_client_column(books, results_json):
    for name in CLIENT_SHEETS:
        assert header(books["run"][name])[0] == "Client", name  # the whole run: three clients to tell apart
        assert "Client" not in header(books["Fabrikam"][name]), name  # one client: its name on every row said nothing
    summary = books["Fabrikam"]["Summary"]
    assert header(summary)[:2] == ["Domain", "Notes"]
    fabrikam = {d["input"]["display_name"] for d in results_json["domains"] if d["input"]["client"] == "Fabrikam"}
    assert {row[0] for row in summary.iter_rows(min_row=2, values_only=True)} == fabrikam
    verdict = "ABCDEFGHIJKLMN"[header(summary).index("Verdict")]  # the colours follow the column
    assert any(str(rule.sqref).startswith(f"{verdict}2:") for rule in summary.conditional_formatting)
    overview = books["Fabrikam"]["Overview"]["A2"].value
    assert re.match(rf"\d+ domains? of Fabrikam audited {READABLE} with dnsaudit", overview), overview


def test_a_clients_own_page_has_no_client_column_or_filter(out_dir):
    whole = (out_dir / "report.html").read_text(encoding="utf-8")
    own = (out_dir / "clients" / "Fabrikam" / "report.html").read_text(encoding="utf-8")
    assert 'id="client-filter"' in whole and 'data-sort="client"' in whole and 'class="with-client"' in whole
    assert '<select id="client-filter"' not in own and 'data-sort="client"' not in own
    assert 'class="with-client"' not in own and 'placeholder="Search domain or problem"' in own
    assert re.search(r"<p>\d+ domains? of Fabrikam audited", own)


def test_times_are_readable_in_the_page_and_workbook_and_iso_for_machines(out_dir, books, results_json):
    started = results_json["run"]["started"]
    assert ISO_TIME.match(started)  # results.json keeps ISO 8601
    for page in (out_dir / "report.html", out_dir / "clients" / "Fabrikam" / "report.html"):
        html = page.read_text(encoding="utf-8")
        assert re.search(rf"domains audited {READABLE} with dnsaudit", html) or re.search(rf"of \w+ audited {READABLE}", html)
        assert not ISO_TIME.search(html), ISO_TIME.search(html)
    for book in books.values():
        run = {row[0]: row[1] for row in book["Run"].iter_rows(values_only=True) if row[0]}
        assert re.fullmatch(READABLE, run["Started"]) and re.fullmatch(READABLE, run["Finished"])
        for ws in book:
            for row in ws.iter_rows(values_only=True):
                assert not any(isinstance(v, str) and ISO_TIME.search(v) for v in row), (ws.title, row)


def test_records_show_a_wildcard_as_published_never_the_made_up_probe_name(books, results_json):
    """Checks ask for dnsaudit-wildcard-probe-….<domain> to detect a wildcard: an implementation
    detail. The Records sheet leaves the question out where nothing answered it and shows the
    wildcard (``*.<domain>``) that answered it otherwise."""
    probed = any("dnsaudit-wildcard-probe" in line for d in results_json["domains"] for r in d["results"]
                 for line in r.get("evidence", []))
    assert probed  # the run did ask (so the test can fail)
    rows = list(books["run"]["Records"].iter_rows(min_row=2, values_only=True))
    assert not any("wildcard-probe" in str(v) for row in rows for v in row)
    wildcard = [row for row in rows if row[1] == "wildcard-ms.test" and row[2] == "*.wildcard-ms.test."]
    assert wildcard and "wildcard" in wildcard[0][5], wildcard


@pytest.fixture(scope="module")
def browser():
    import shutil

    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield instance
        instance.close()


def at_width(browser, out_dir, width: int):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto((out_dir / "report.html").as_uri())
    return context, page


SIDEWAYS = """() => Array.from(document.querySelectorAll('main table, main .scroll'))
    .filter(e => e.closest('#domain-table') === null && e.scrollWidth > (e.parentElement.clientWidth || innerWidth) + 1)
    .map(e => (e.id || e.className) + ' ' + e.scrollWidth + ' > ' + e.parentElement.clientWidth)"""
AXIS = """() => Array.from(document.querySelectorAll('#score-chart text'))
    .filter(t => t.getAttribute('y') > 130 && t.checkVisibility())
    .map(t => { const b = t.getBoundingClientRect(); return [b.left, b.right]; })"""


@pytest.mark.parametrize("width", [390, 1400])
def test_summary_and_other_tables_fit_the_screen_and_the_score_axis_is_legible(browser, out_dir, width):
    """At 390 px the summary tables stack (the problem and its count on a line, the fix under
    them) and the other tables put each value under its column's name: nothing scrolls sideways.
    The score axis names each band by its lowest score, every other decade on a phone."""
    context, page = at_width(browser, out_dir, width)
    try:
        assert page.evaluate(SIDEWAYS) == []
        labels = sorted(page.evaluate(AXIS))
        assert len(labels) == (7 if width == 390 else 11), labels
        gaps = [b[0] - a[1] for a, b in itertools.pairwise(labels)]
        assert min(gaps) >= 8, gaps  # room between labels: they read as separate numbers
        header_shown = page.locator("#top-problems thead").is_visible()
        assert header_shown == (width == 1400)  # a table on a wide screen, stacked rows on a phone
        first = page.locator("#top-problems tbody tr").first
        count = first.locator("td.num").bounding_box()
        title = first.locator("td").first.bounding_box()
        if width == 390:
            assert abs(count["y"] - title["y"]) < 4 and count["x"] > title["x"] + title["width"] - 2  # one line
            assert page.evaluate("getComputedStyle(document.querySelector('#top-problems td.num'), '::after').content"
                                 ).strip('"').strip() in ("domain", "domains")
    finally:
        context.close()
