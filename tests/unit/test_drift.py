"""Drift between two runs, on hand-made results."""

from __future__ import annotations

import dataclasses

from dnsaudit.drift import EXIT_CHANGED, EXIT_NO_CHANGE, EXIT_REGRESSED, ChangeKind, Drift, compare
from dnsaudit.model import (
    AuditRun,
    CheckInfo,
    DomainEntry,
    DomainResult,
    ErrorReason,
    Evidence,
    Finding,
    Outcome,
    RunInfo,
    Severity,
    Status,
)
from dnsaudit.scoring import score


def finding(check: str, status: str, observed: str = "", evidence: tuple[Evidence, ...] = ()) -> Finding:
    st = Status(status)
    return Finding(check, check.split(".")[0], Severity.HIGH, st, "m", observed=observed, evidence=evidence,
                   reason=ErrorReason.TIMEOUT if st is Status.ERROR else None)


def run(domains: dict[str, list[Finding]], versions: dict[str, str] | None = None) -> AuditRun:
    versions = versions or {}
    checks = {f.check_id for fs in domains.values() for f in fs}
    info = RunInfo("0", "2026-11-27T00:00:00+00:00", "", "in.csv", (), tuple(
        CheckInfo(c, c.split(".")[0], c, Severity.HIGH, "", (), versions.get(c, "1"), "dnsaudit") for c in sorted(checks)))
    results = tuple(DomainResult(DomainEntry(d, i + 2), tuple(fs), score(fs)) for i, (d, fs) in enumerate(domains.items()))
    return AuditRun(info, results)


def test_no_change():
    a = run({"a.test": [finding("mx.present", "pass", "0 mx.")]})
    drift = compare(a, a, 1, 2)
    assert (drift.changed, drift.regressed, drift.exit_code, drift.verdict) == (False, False, EXIT_NO_CHANGE, "no change")


def test_every_kind_of_change():
    before = run({
        "a.test": [finding("mx.present", "pass", "0 old."), finding("spf.record", "pass", "v=spf1 -all"),
                   finding("autodiscover.cname", "pass", "autodiscover.outlook.com"), finding("dmarc.record", "warn")],
        "b.test": [finding("mx.present", "error")],
        "gone.test": [finding("mx.present", "pass")],
    })
    after = run({
        "a.test": [finding("mx.present", "fail", "10 new."), finding("spf.record", "pass", "v=spf1 ~all"),
                   finding("autodiscover.cname", "error"), finding("dmarc.record", "pass")],
        "b.test": [finding("mx.present", "pass")],
        "new.test": [finding("mx.present", "pass")],
    })
    drift = compare(before, after, 1, 2)
    kinds = {(c.domain, c.check_id): c.kind for c in drift.changes}
    assert kinds == {("a.test", "mx.present"): "worse", ("a.test", "spf.record"): "observed",
                     ("a.test", "autodiscover.cname"): "untested", ("a.test", "dmarc.record"): "better",
                     ("b.test", "mx.present"): "recovered"}
    assert drift.added == ("new.test",) and drift.removed == ("gone.test",)
    assert drift.regressed and drift.exit_code == EXIT_REGRESSED
    assert any("10 new." in line for line in drift.lines())
    assert {s.domain for s in drift.scores} == {"a.test", "b.test"}
    assert Drift.from_dict(drift.to_dict()) == drift


def test_a_flapping_timeout_is_a_change_not_a_regression():
    before = run({"a.test": [finding("mx.present", "pass", "0 mx.")]})
    after = run({"a.test": [finding("mx.present", "error")]})
    drift = compare(before, after, 1, 2)
    assert [c.kind for c in drift.changes] == ["untested"]
    assert drift.exit_code == EXIT_CHANGED


def test_a_newer_check_version_is_labelled_and_not_a_regression():
    before = run({"a.test": [finding("spf.policy", "pass")]}, {"spf.policy": "1"})
    after = run({"a.test": [finding("spf.policy", "fail")]}, {"spf.policy": "2"})
    drift = compare(before, after, 1, 2)
    (change,) = drift.changes
    assert change.kind == "worse" and change.check_updated == "1 -> 2" and not change.regression
    assert "[check updated 1 -> 2]" in change.line()
    assert drift.exit_code == EXIT_CHANGED


def test_observed_change_with_same_status_is_news():
    before = run({"a.test": [finding("mx.present", "pass", "0 a-test.mail.protection.outlook.com.")]})
    after = run({"a.test": [finding("mx.present", "pass", "0 a-test.o-v1.mx.microsoft.")]})
    drift = compare(before, after, 1, 2)
    assert [c.kind for c in drift.changes] == ["observed"] and drift.exit_code == EXIT_CHANGED
    assert dataclasses.asdict(drift.changes[0])["after_observed"] == "0 a-test.o-v1.mx.microsoft."


def test_observed_values_are_compared_as_values_not_as_their_joined_text():
    # Two findings observing "a" and "b" are not the one finding that observed "a | b".
    before = run({"a.test": [finding("spf.record", "pass", "a | b")]})
    after = run({"a.test": [finding("spf.record", "pass", "a"), finding("spf.record", "pass", "b")]})
    (change,) = compare(before, after, 1, 2).changes
    assert change.kind is ChangeKind.OBSERVED
    assert (change.before_observed, change.after_observed) == ("a | b", "a | b")  # shown as before


def _mx(*records: str) -> tuple[Evidence, ...]:
    return (Evidence("a.test.", "MX", records, (), Outcome.ANSWER),
            Evidence.note("GET https://mta-sts.a.test/.well-known/mta-sts.txt: 200 text/plain"))


def test_drift_compares_the_evidence_values_not_how_they_were_written():
    """Only display differs (the observed text in another order, a stored line of an older
    version listing the records otherwise): no change. A record changes: a change."""
    from dnsaudit.results_read import evidence_from_line

    before = run({"a.test": [finding("mx.present", "pass", "10 a. | 20 b.", _mx("10 a.", "20 b."))]})
    reordered = run({"a.test": [finding("mx.present", "pass", "20 b. | 10 a.", _mx("20 b.", "10 a."))]})
    assert compare(before, reordered, 1, 2).changes == ()
    stored = (evidence_from_line("a.test. MX: 20 b. | 10 a."), *_mx()[1:])  # a row of the history, read back
    assert compare(before, run({"a.test": [finding("mx.present", "pass", "20 b. | 10 a.", stored)]}), 1, 2).changes == ()
    changed = run({"a.test": [finding("mx.present", "pass", "10 a. | 30 c.", _mx("10 a.", "30 c."))]})
    (change,) = compare(before, changed, 1, 2).changes
    assert change.kind is ChangeKind.OBSERVED and (change.before_observed, change.after_observed) == (
        "10 a. | 20 b.", "10 a. | 30 c.")
    note_changed = run({"a.test": [finding("mx.present", "pass", "20 b. | 10 a.", (
        _mx("10 a.", "20 b.")[0], Evidence.note("GET https://mta-sts.a.test/.well-known/mta-sts.txt: 404 text/html")))]})
    assert [c.kind for c in compare(before, note_changed, 1, 2).changes] == [ChangeKind.OBSERVED]


def test_change_kinds_are_an_enum_and_survive_drift_json():
    before = run({"a.test": [finding("mx.present", "pass"), finding("spf.record", "fail")]})
    after = run({"a.test": [finding("mx.present", "fail"), finding("dmarc.record", "pass")]})
    drift = compare(before, after, 1, 2)
    assert {c.check_id: c.kind for c in drift.changes} == {
        "dmarc.record": ChangeKind.ADDED, "mx.present": ChangeKind.WORSE, "spf.record": ChangeKind.REMOVED}
    data = drift.to_dict()
    assert [c["kind"] for c in data["changes"]] == ["added", "worse", "removed"]
    assert Drift.from_dict(data) == drift and all(type(c.kind) is ChangeKind for c in Drift.from_dict(data).changes)
