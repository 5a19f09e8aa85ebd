"""findings.csv's rows are put together field by field (reports.csv_report.csv_field, for
speed): they must be byte for byte what csv.writer writes, whatever the texts hold."""

from __future__ import annotations

import csv
import io

from hypothesis import given, settings
from hypothesis import strategies as st

from dnsaudit.model import DomainEntry, DomainResult, ErrorReason, Finding, Score, Severity, Status, Verdict
from dnsaudit.reports.csv_report import CsvReport, csv_field, neutralise
from dnsaudit.reports.view import ordered_findings, score_text

# what quoting and neutralising care about, and a few others
TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\r\n\t=+-@\';é') + ["\u202e", "\x00", "\x1b", "\ud800"]),
               max_size=30)


class Shown(str):
    """A string that shows itself otherwise (csv.writer writes its characters, not its __str__)."""

    def __str__(self) -> str:
        return "shown otherwise"


VALUE = st.one_of(TEXT, st.none(), st.integers(-5, 200), st.floats(allow_nan=True), st.booleans(),
                  st.sampled_from(list(Status) + list(Severity)), TEXT.map(Shown))


def written_by_csv_module(rows: list) -> str:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return text.getvalue()


@given(st.lists(st.lists(VALUE, min_size=2, max_size=6), max_size=4))
@settings(max_examples=3000, deadline=None)
def test_a_field_is_what_csv_writer_writes(rows):
    assert "".join(",".join(csv_field(v) for v in row) + "\r\n" for row in rows) == written_by_csv_module(rows)


FINDING = st.builds(
    lambda status, texts: Finding(texts[0] or "x.y", texts[1], Severity.HIGH, status, texts[2], observed=texts[3],
                                  expected=texts[4], remediation=texts[5],
                                  reason=ErrorReason.TIMEOUT if status is Status.ERROR else None),
    st.sampled_from(list(Status)), st.lists(TEXT, min_size=6, max_size=6))


@given(st.lists(FINDING, max_size=5), st.lists(TEXT, min_size=3, max_size=3), st.integers(0, 100))
@settings(max_examples=1000, deadline=None)
def test_a_domains_rows_are_those_csv_writer_writes(findings, texts, points):
    entry = DomainEntry(domain="a.example", row=2, display_name=texts[0], client=texts[1], notes=texts[2])
    domain = DomainResult(entry, tuple(findings), Score(points, "B", Verdict.READY))
    e = domain.entry
    head = [neutralise(v) for v in (e.client, e.label, e.domain, score_text(domain.score), domain.score.verdict.value)]
    rows = [[*head, *(neutralise(v) for v in (f.check_id, f.area, f.severity.value, f.status.value,
                                              f.reason.value if f.reason else "", f.message, f.observed, f.expected,
                                              f.remediation)), neutralise(e.notes)]
            for f in ordered_findings(domain)]
    writer = CsvReport()
    for _ in range(2):  # the second time from the writer's memo
        assert writer.render_domain(None, domain) == written_by_csv_module(rows).encode("utf-8")
