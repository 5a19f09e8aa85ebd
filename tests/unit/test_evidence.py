"""Evidence as a value: its line, the one reader of stored lines, and files of the previous version.

results.json keeps evidence as the lines people read (schema version 1): these tests pin
that the typed values render exactly those lines and that every line stored by the
previous version reads back into the value it came from.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import pytest

from dnsaudit import results_read
from dnsaudit.model import Evidence, Finding, Outcome, Severity, Status
from dnsaudit.results_read import evidence_from_line

TESTS = Path(__file__).parents[1]
GOLDEN = TESTS / "checks" / "golden_results.json"
V1_RESULTS = TESTS / "reports" / "v1_results.json"  # written by dnsaudit before Evidence was typed
# How reports/view.py read evidence lines before Evidence was typed: kept here, as the reference.
OLD_RECORD = re.compile(r"^(?P<name>\S+) (?P<type>[A-Z0-9]+)(?: \(CNAME (?P<chain>[^)]*)\))?: (?P<answer>.*)$")


def _golden_lines() -> list[str]:
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return sorted({line for domain in data for finding in domain["results"] for line in finding["evidence"]})


def test_an_answer_renders_the_line_people_read():
    chained = Evidence("autodiscover.contoso.test.", "A", ("52.97.0.10",),
                       ("autodiscover.outlook.com.", "autod.ms-acdc-autod.office.com."), Outcome.ANSWER)
    assert chained.line() == ("autodiscover.contoso.test. A (CNAME -> autodiscover.outlook.com. -> "
                              "autod.ms-acdc-autod.office.com.): 52.97.0.10")
    assert Evidence("x.test.", "MX", ("10 a.x.test.", "20 b.x.test."), (), Outcome.ANSWER).line() == \
        "x.test. MX: 10 a.x.test. | 20 b.x.test."
    assert Evidence("x.test.", "TXT", (), (), Outcome.CNAME_LOOP).line() == "x.test. TXT: CNAME LOOP"
    noted = Evidence("x.test.", "TXT", ('"v=spf1 -all"',), (), Outcome.ANSWER,
                     ("a TXT record with rdlength 0 could not be read and was skipped: too short",))
    assert noted.line() == ('x.test. TXT: "v=spf1 -all" (a TXT record with rdlength 0 could not be read and was '
                            'skipped: too short)')
    assert str(noted) == noted.line() and noted.answer_text() == noted.line().split(": ", 1)[1]
    note = Evidence.note("GET https://mta-sts.x.test/.well-known/mta-sts.txt: 200 text/plain")
    assert not note.is_answer and note.line() == note.text


def test_evidence_is_a_frozen_slotted_value_that_pickles_without_its_line():
    e = Evidence("x.test.", "A", ("192.0.2.1",), (), Outcome.ANSWER)
    assert not hasattr(e, "__dict__")
    with pytest.raises(AttributeError):
        e.name = "y.test."  # type: ignore[misc]
    e.line()  # cached inside
    back = pickle.loads(pickle.dumps(e))
    assert back == e and hash(back) == hash(e) and back._line == ""
    assert Evidence("x.test.", "A", ("192.0.2.1",), (), Outcome.ANSWER) == e  # the cached line is no part of it


def test_every_stored_line_of_the_cases_reads_back_into_a_value_that_renders_it():
    """The golden results hold every line the case table produces: each one reads back (the
    loader's one parser) into an Evidence whose line is byte for byte the stored one, and the
    DNS answers among them (what the reports' records table showed) are answers, not notes."""
    lines = _golden_lines()
    assert len(lines) > 1000
    for line in lines:
        evidence = evidence_from_line(line)
        assert evidence.line() == line
        old = OLD_RECORD.match(line)
        assert evidence.is_answer == bool(old), line
        if old:
            assert (evidence.name, evidence.type, evidence.answer_text()) == (old["name"], old["type"], old["answer"])
            assert " -> ".join(evidence.cname_chain) == (old["chain"] or "").lstrip("-> ").strip()
    kinds = {evidence_from_line(line).outcome for line in lines}
    assert {Outcome.ANSWER, Outcome.NXDOMAIN, Outcome.NODATA, Outcome.SERVFAIL, None} <= kinds
    assert any(evidence_from_line(line).cname_chain for line in lines)
    assert any(len(evidence_from_line(line).answers) > 1 for line in lines)


@pytest.mark.parametrize("line", [
    'x.test. TXT: "a | b" | "c"',  # a separator inside a TXT string is part of it
    'x.test. TXT: "say \\"hi | there\\"" | "v=spf1 -all"',
    "x.test. TXT: NXDOMAIN (a TXT record with rdlength 0 could not be read and was skipped: x; "
    "a TXT record with rdlength 3 could not be read and was skipped: y)",
    "x.test. MX (CNAME -> y.test. -> z.test.): CNAME LOOP",
])
def test_lines_that_are_hard_to_split_read_back_exactly(line):
    evidence = evidence_from_line(line)
    assert evidence.is_answer and evidence.line() == line


def test_the_parts_of_a_hard_line_are_the_values():
    assert evidence_from_line('x.test. TXT: "a | b" | "c"').answers == ('"a | b"', '"c"')
    two_notes = evidence_from_line("x.test. A: NODATA (a A record with rdlength 1 could not be read and was "
                                   "skipped: x; a A record with rdlength 2 could not be read and was skipped: y)")
    assert two_notes.outcome is Outcome.NODATA and len(two_notes.notes) == 2


@pytest.mark.parametrize("line", [
    "TLS mx.x.test:25: names mx.x.test; issuer R3; valid 2026-01-01 to 2026-04-01",
    "PEM relay.pem: names relay.x.test; issuer Contoso CA; valid 2026-01-01 to 2027-01-01",
    "step 1 https://x.test/autodiscover/autodiscover.xml: nothing (connection refused)",
    "x.test. DS (DNSSEC): NXDOMAIN",
    "x.test. MX planned: 0 x-test.mail.protection.outlook.com.",
    "a:bad..name: the target 'bad..name' is not a valid domain name; no lookup, no match",
    "x.test. A (CNAME oops): 192.0.2.1",  # not a chain as dnsaudit writes it
])
def test_other_lines_are_notes_that_keep_their_text(line):
    evidence = evidence_from_line(line)
    assert evidence == Evidence.note(line) and evidence.line() == line


def test_a_finding_reads_back_equal_through_its_json():
    evidence = (Evidence("x.test.", "MX", ("0 x-test.mail.protection.outlook.com.",), (), Outcome.ANSWER),
                Evidence("x.test.", "A", (), ("y.test.",), Outcome.NXDOMAIN),
                Evidence.note("GET https://mta-sts.x.test/.well-known/mta-sts.txt: 404 text/html"))
    finding = Finding("mx.present", "mx", Severity.HIGH, Status.PASS, "ok", evidence=evidence)
    data = json.loads(json.dumps(finding.to_dict()))
    assert data["evidence"] == [e.line() for e in evidence]  # stored as the lines: schema version 1
    assert results_read.finding_from_dict(data) == finding


def test_a_results_file_of_the_previous_version_reads_and_writes_back_unchanged():
    """``dnsaudit report old-results.json``: a file written before Evidence was typed reads
    into values, and written again it is the same JSON, line for line."""
    data = json.loads(V1_RESULTS.read_text(encoding="utf-8"))
    run = results_read.run_from_dict(data)
    assert all(isinstance(e, Evidence) for d in run.domains for f in d.findings for e in f.evidence)
    assert any(e.cname_chain for d in run.domains for f in d.findings for e in f.evidence)
    again = json.loads(json.dumps(run.to_dict()))
    assert again["domains"] == data["domains"]
    assert [results_read.domain_from_dict(d) for d in again["domains"]] == list(run.domains)


def test_a_check_given_a_line_reads_it_as_the_value():
    """A plugin written before Evidence passes ``describe()`` strings: they become the values."""
    from dnsaudit.check import Check

    class Old(Check):
        """An older plugin."""

        id = "old.plugin"

        async def run(self, ctx):  # pragma: no cover - never run
            return []

    finding = Old().passed("ok", evidence=["x.test. MX: 0 x-test.mail.protection.outlook.com.", "free text"])
    assert finding.evidence == (Evidence("x.test.", "MX", ("0 x-test.mail.protection.outlook.com.",), (),
                                         Outcome.ANSWER), Evidence.note("free text"))
