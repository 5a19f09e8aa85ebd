"""The HTML page in a real headless Chromium: inert hostile content, sorting, filtering, offline."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if CHROMIUM is None:
    raise RuntimeError("Debian's chromium is missing: the test command (bash tests/run) installs it")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser, out_dir):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    page.goto((out_dir / "report.html").as_uri())
    yield page
    context.close()


def visible_rows(page) -> list[dict]:
    return page.eval_on_selector_all(
        "#domain-table tbody tr",
        "rows => rows.filter(r => r.checkVisibility()).map(r => { const k = r.closest('#domain-table').classList.contains('with-client') ? 1 : 0;"
        " const score = Number(r.cells[k + 1].textContent);"
        " return {domain: r.cells[k].textContent, verdict: r.cells[k + 3].textContent,"
        " score: Number.isNaN(score) ? -1 : score,"
        " client: k ? r.cells[0].textContent : ''}; })")


def test_page_is_offline_and_hostile_content_is_inert(page, out_dir, hostile, results_json):
    assert page.title() == "Microsoft 365 mail readiness"
    assert all(url.startswith(("file:", "data:")) for url in page.requests), page.requests
    body = page.text_content("main")  # details below the fold are not rendered until scrolled to
    assert hostile["script"] in body  # shown as text...
    assert page.evaluate("document.querySelectorAll('script').length") == 1  # ...never as a script
    assert page.evaluate("document.querySelectorAll('img, b.injected').length") == 0
    assert "<b>bold</b> note" in body
    page.screenshot(path=str(out_dir / "report.png"), full_page=False)
    assert (out_dir / "report.png").stat().st_size > 10_000


def test_totals_match_results_json(page, results_json):
    totals = results_json["totals"]
    assert int(page.inner_text("#total-domains")) == totals["domains"]
    assert int(page.inner_text("#total-blocked")) == totals["verdicts"]["blocked"]
    assert int(page.inner_text("#total-ready")) == totals["verdicts"]["ready"]
    assert int(page.inner_text("#total-unknown")) == totals["verdicts"]["could not assess"]
    assert page.inner_text("#shown") == f"{totals['domains']} of {totals['domains']} domains shown"
    bars = page.eval_on_selector_all("#score-chart rect", "rects => rects.length")
    assert bars == 11


def test_sorting_by_score(page):
    header = page.locator("#domain-table th[data-sort=score]")
    header.click()
    ascending = [r["score"] for r in visible_rows(page)]
    assert ascending == sorted(ascending) and header.get_attribute("aria-sort") == "ascending"
    header.click()
    descending = [r["score"] for r in visible_rows(page)]
    assert descending == sorted(descending, reverse=True)
    page.locator("#domain-table th[data-sort=domain]").click()
    names = [r["domain"] for r in visible_rows(page)]
    assert names == sorted(names, key=str.lower) or names == sorted(names)


def test_filtering_by_verdict_client_and_text(page, results_json):
    page.select_option("#verdict-filter", "blocked")
    rows = visible_rows(page)
    assert rows and {r["verdict"] for r in rows} == {"blocked"}
    assert len(rows) == results_json["totals"]["verdicts"]["blocked"]
    assert page.inner_text("#shown").startswith(f"{len(rows)} of ")
    page.select_option("#client-filter", "Contoso")
    assert {r["client"] for r in visible_rows(page)} == {"Contoso"}
    page.select_option("#verdict-filter", "")
    page.select_option("#client-filter", "")
    page.fill("#search", "wildcard-ms")
    assert [r["domain"] for r in visible_rows(page)] == ["wildcard-ms.test"]
    page.locator("#matches tr", has_text="wildcard-ms.test").locator("a").click()
    assert page.locator("article.domain", has_text="wildcard-ms.test").first.is_visible()  # the match links to it


def test_details_show_findings_with_evidence_and_fix(page):
    article = page.locator("article.domain", has_text="nomx.test").first
    assert "nomx.test. 3600 IN MX 0 nomx-test.mail.protection.outlook.com." in article.text_content()
    assert article.locator("details summary", has_text="evidence").count() > 0


def test_per_client_pages_carry_the_client_in_the_title(browser, out_dir):
    context = browser.new_context()
    page = context.new_page()
    page.goto((out_dir / "clients" / "Fabrikam" / "report.html").as_uri())
    assert page.title() == "Microsoft 365 mail readiness — Fabrikam"
    assert {r["client"] for r in visible_rows(page)} == {""}  # no Client column: the title names the client
    # Each domain's article is rendered once for every page (reports.prerender): its client is
    # there and hidden where the page has one client, shown where it has several.
    shown = "ms => ms.map(m => getComputedStyle(m).display)"
    assert set(page.eval_on_selector_all("article.domain .meta .client", shown)) == {"none"}
    page.goto((out_dir / "report.html").as_uri())
    assert set(page.eval_on_selector_all("article.domain .meta .client", shown)) == {"inline"}
    assert page.locator("article.domain .meta", has_text="Fabrikam").count() >= 1
    context.close()


def test_check_documentation_is_rendered_not_shown_as_markup(page):
    """Docstring RST (``literal``, *emphasis*) becomes <code>/<em>, never raw backticks (issue 12 item 10)."""
    doc = page.locator("div.doc").filter(has_text="null MX").first
    assert doc.locator("code", has_text="0 .").count() >= 1
    assert "``" not in page.inner_text("body")
    assert page.locator("div.doc em").count() > 0  # the checks' *judgement* notes


def problems_of(domain: dict) -> list[dict]:
    return [r for r in domain["results"] if r["status"] in ("fail", "warn", "error")]


def untestable(domain: dict) -> bool:
    ran = [r for r in domain["results"] if r["status"] != "skip"]
    return bool(ran) and all(r["status"] == "error" for r in ran)


def test_problems_in_full_passes_folded_and_dead_domains_in_one_line(page, results_json):
    by_label = {d["input"]["display_name"]: d for d in results_json["domains"]}
    shown = page.eval_on_selector_all("article.domain", """arts => arts.map(a => ({
        domain: a.querySelector('h3').firstChild.textContent.trim(), full: a.querySelectorAll('div.f').length,
        dead: a.querySelectorAll('p.f.dead').length, quiet: a.querySelectorAll('.q').length,
        back: a.querySelector('a.back').getAttribute('href')}))""")
    assert len(shown) == len(results_json["domains"])
    for item in shown:
        d = by_label[item["domain"]]
        if untestable(d):
            assert (item["full"], item["dead"]) == (0, 1), item
        else:
            assert item["full"] == len(problems_of(d)) and item["dead"] == 0, item
        folded = [r for r in d["results"] if r["status"] in ("pass", "skip", "info")]
        assert item["quiet"] == (1 if folded else 0)
        assert page.locator(item["back"]).count() == 1  # its row in the table
    assert sum(map(untestable, results_json["domains"])) >= 2


def test_back_to_the_table_and_a_fix_copies_whole(page):
    article = page.locator("article.domain", has_text="nomx.test").first
    article.scroll_into_view_if_needed()
    fix = article.locator("pre.fix").first
    fix.click()
    assert page.evaluate("window.getSelection().toString()") == fix.inner_text()
    article.locator("a.back").click()
    row = page.locator(article.locator("a.back").get_attribute("href"))
    assert row.is_visible() and row.bounding_box()["y"] < 1000


def test_executive_summary_first(page, results_json):
    assert page.evaluate("document.querySelector('main').firstElementChild.id") == "overview"
    assert f"of {results_json['totals']['domains']} domains are ready" in page.inner_text("#summary-lines")
    assert page.eval_on_selector_all("#verdict-chart rect", "r => r.length") == 4
    top = page.eval_on_selector_all("#top-problems tbody tr", "rows => rows.map(r => Number(r.cells[1].textContent))")
    affected = {}
    for d in results_json["domains"]:
        for check in {r["id"] for r in d["results"] if r["status"] in ("fail", "warn")}:
            affected[check] = affected.get(check, 0) + 1
    assert top == sorted(affected.values(), reverse=True)[:5]
    assert page.locator("#blockers tbody tr").count() >= 1


def test_compact_at_1400_and_usable_at_390_pixels(browser, out_dir, results_json):
    heights = {}
    for width in (1400, 390):
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.goto((out_dir / "report.html").as_uri())
        heights[width] = page.evaluate("document.documentElement.scrollHeight")
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # nothing wider than the screen
        table = page.locator("#domain-table")
        assert table.bounding_box()["width"] <= width
        problem = page.locator("#domain-table tbody tr td:last-child").first.bounding_box()
        assert problem["width"] >= (120 if width == 390 else 300)  # "First problem" does not wrap letter by letter
        for fix in page.locator("pre.fix").all()[:20]:
            box = fix.bounding_box()
            assert box["width"] >= min(300, width - 60), box
        context.close()
    domains = results_json["totals"]["domains"]
    assert heights[1400] / domains < 400, heights  # problems in full, the rest one line per domain
