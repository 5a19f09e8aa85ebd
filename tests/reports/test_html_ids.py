"""report.html's ids name the domain and its input row, not its place: unique and CSS identifiers
for whatever a results.json holds (its articles are rendered before the rows are ordered)."""

from __future__ import annotations

import re

from dnsaudit.model import AuditRun, DomainEntry, DomainResult, RunInfo, Score, Verdict
from dnsaudit.reports.html import HtmlReport, anchor

IDENT = re.compile(r"-?[A-Za-z_][A-Za-z0-9_-]*")  # a CSS identifier of these characters: #d-... selects it


def test_an_audited_domain_reads_as_itself():
    assert anchor(DomainEntry("contoso.com", 2)) == "contoso_com-2"
    assert anchor(DomainEntry("xn--bcher-kva.example", 7)) == "xn--bcher-kva_example-7"


def test_names_from_elsewhere_and_a_domain_listed_twice_still_give_unique_identifiers():
    # what a hand-made or merged results.json may hold (dnsaudit report takes one)
    names = ["a.b.com", "a_b.com", "x y.com", 'q"<b>.com', "Zürich.example", "a.b.com"]
    entries = [DomainEntry(name, row) for row, name in enumerate(names, 2)]
    ids = [f"d-{anchor(e)}" for e in entries]
    assert len(set(ids)) == len(ids) and all(IDENT.fullmatch(i) for i in ids), ids
    domains = tuple(DomainResult(e, (), Score(90, "A", Verdict.READY)) for e in entries)
    page = HtmlReport().render(AuditRun(RunInfo("0", "", "", "in.csv", (), ()), domains), "T").decode()
    articles = re.findall(r'<article class="domain" id="([^"]+)"', page)
    rows = re.findall(r'<tr id="([^"]+)"', page)
    assert sorted(articles) == sorted(ids) and sorted(r[2:] for r in rows) == sorted(i[2:] for i in ids)
