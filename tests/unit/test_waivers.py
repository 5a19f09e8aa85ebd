"""Waivers between the checks and scoring: accepted problems, expiry, typos, never on errors, drift."""

from __future__ import annotations

import datetime as dt
import json
import pickle
from pathlib import Path

import jsonschema

from dnsaudit import results_read
from dnsaudit.drift import compare
from dnsaudit.model import (
    AuditRun,
    CheckInfo,
    DomainEntry,
    DomainResult,
    ErrorReason,
    Finding,
    RunInfo,
    Severity,
    Status,
    Verdict,
)
from dnsaudit.policy.waivers import Waiver, apply_waivers, unmatched_waivers
from dnsaudit.scoring import score, top_problem

TODAY = dt.date(2026, 12, 2)
ACME = DomainEntry("contoso.test", 2, client="Acme")
OTHER = DomainEntry("fabrikam.test", 3, client="Other")


def finding(check: str, status: str, severity: Severity = Severity.HIGH, message: str = "m") -> Finding:
    st = Status(status)
    return Finding(check, check.split(".")[0], severity, st, message,
                   reason=ErrorReason.TIMEOUT if st is Status.ERROR else None)


def waiver(check="mx.extra", domain="contoso.test", client="", expires=dt.date(2026, 12, 31), reason="accepted"):
    return Waiver(check=check, reason=reason, expires=expires, domain=domain, client=client, owner="ops",
                  source="dnsaudit.toml, waiver 1")


def test_a_waived_result_keeps_status_and_message_and_counts_against_nothing():
    findings = [finding("mx.present", "pass"), finding("mx.extra", "fail", message="an old MX host remains")]
    assert score(findings).verdict is Verdict.BLOCKED
    waived = apply_waivers(ACME, findings, [waiver()], TODAY)
    extra = waived[1]
    assert (extra.status, extra.message, extra.waived) == (Status.FAIL, "an old MX host remains", True)
    assert (extra.waiver.reason, extra.waiver.owner, extra.waiver.expires) == ("accepted", "ops", "2026-12-31")
    result = score(waived)
    assert (result.points, result.verdict, result.blocking) == (100, Verdict.READY, ())
    assert top_problem(waived) is None and top_problem(findings) is findings[1]


def test_the_last_day_still_applies_the_day_after_it_has_expired():
    findings = [finding("mx.extra", "warn", message="an old MX host remains")]
    on_the_day = apply_waivers(ACME, findings, [waiver(expires=TODAY)], TODAY)[0]
    assert on_the_day.waived
    after = apply_waivers(ACME, findings, [waiver(expires=TODAY - dt.timedelta(days=1))], TODAY)[0]
    assert not after.waived and after.waiver.expired and after.status is Status.WARN
    assert after.message == "an old MX host remains (waiver expired on 2026-12-01)"
    assert score([after]).verdict is Verdict.READY_WITH_WARNINGS


def test_a_running_waiver_wins_over_an_expired_one():
    findings = [finding("mx.extra", "fail")]
    result = apply_waivers(ACME, findings, [waiver(expires=dt.date(2026, 1, 1)), waiver(reason="renewed")], TODAY)[0]
    assert result.waived and result.waiver.reason == "renewed"


def test_never_on_could_not_test_nor_on_results_that_are_no_problem():
    findings = [finding("mx.extra", "error"), finding("mx.extra", "pass"), finding("mx.extra", "skip"),
                finding("mx.extra", "info")]
    assert apply_waivers(ACME, findings, [waiver(check="*", domain="*")], TODAY) == tuple(findings)
    assert score(findings).untested == ("mx.extra",)


def test_matching_by_glob_domain_and_client():
    findings = [finding("dmarc.record", "warn"), finding("mx.extra", "warn")]
    by_client = apply_waivers(ACME, findings, [waiver(check="dmarc.*", domain="", client="acme")], TODAY)
    assert [f.waived for f in by_client] == [True, False]
    assert not any(f.waived for f in apply_waivers(OTHER, findings, [waiver(check="*", domain="", client="Acme")],
                                                   TODAY))
    both = waiver(check="*", domain="*.test", client="Other")
    assert [f.waived for f in apply_waivers(ACME, findings, [both], TODAY)] == [False, False]
    assert [f.waived for f in apply_waivers(OTHER, findings, [both], TODAY)] == [True, True]


def test_a_waiver_that_matches_nothing_is_found_before_the_run():
    typo = waiver(check="mx.extar")
    elsewhere = waiver(domain="nowhere.test")
    good = waiver(check="dmarc.*", domain="", client="Acme")
    assert unmatched_waivers([typo, elsewhere, good], [ACME, OTHER], ["mx.extra", "dmarc.record"]) == [typo, elsewhere]
    assert "check 'mx.extar' for domain 'contoso.test'" in typo.describe()


def test_a_waiver_survives_json_pickle_and_the_schema():
    waived = apply_waivers(ACME, [finding("mx.extra", "fail")], [waiver()], TODAY)[0]
    assert results_read.finding_from_dict(waived.to_dict()) == waived
    assert pickle.loads(pickle.dumps(waived)) == waived
    assert "waiver" not in finding("mx.extra", "fail").to_dict()  # results without a policy stay as they were
    result = DomainResult(ACME, (waived,), score([waived]))
    run = AuditRun(_info(["mx.extra"]), (result,))
    schema = json.loads((Path(__file__).parents[2] / "dnsaudit" / "results.schema.json").read_text())
    jsonschema.validate(json.loads(json.dumps(run.to_dict())), schema)


def _info(checks):
    return RunInfo("0", "2026-12-02T00:00:00+00:00", "", "in.csv", (), tuple(
        CheckInfo(c, c.split(".")[0], c, Severity.HIGH, "", (), "1", "dnsaudit") for c in checks))


def _run(findings):
    return AuditRun(_info(sorted({f.check_id for f in findings})),
                    (DomainResult(ACME, tuple(findings), score(findings)),))


def test_drift_a_problem_that_became_waived_is_waived_not_better_and_its_expiry_is_a_regression():
    problem = [finding("mx.extra", "fail")]
    waived = apply_waivers(ACME, problem, [waiver()], TODAY)
    later = TODAY + dt.timedelta(days=60)
    expired = apply_waivers(ACME, problem, [waiver()], later)
    drift = compare(_run(problem), _run(waived), 1, 2)
    (change,) = drift.changes
    assert (change.kind, change.before, change.after, change.regression) == ("waived", "fail", "waived", False)
    assert not drift.regressed and "fail -> waived" in drift.lines()[1]
    assert compare(_run(waived), _run(waived), 2, 3).changes == ()
    drift = compare(_run(waived), _run(expired), 2, 3)
    (change,) = drift.changes
    assert (change.kind, change.before, change.after, change.regression) == ("worse", "waived", "fail", True)
    assert drift.regressed and drift.exit_code == 5
