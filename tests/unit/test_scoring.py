"""Scoring rules as published in the README."""

from __future__ import annotations

import pytest

from dnsaudit.model import ErrorReason, Finding, Severity, Status, Verdict
from dnsaudit.scoring import grade, score, top_problem


def f(check: str, status: str, severity: str = "high") -> Finding:
    st = Status(status)
    return Finding(check, check.split(".")[0], Severity(severity), st, "msg",
                   reason=ErrorReason.TIMEOUT if st is Status.ERROR else None)


def test_all_pass_is_ready_100():
    s = score([f("a.x", "pass", "critical"), f("a.y", "info", "low")])
    assert (s.points, s.grade, s.verdict) == (100, "A", Verdict.READY)


def test_weights_and_half_points_for_warn():
    # critical 10 pass, high 6 warn (3), medium 3 fail (0), low 1 pass -> 14/20
    s = score([f("a.c", "pass", "critical"), f("a.h", "warn", "high"), f("a.m", "fail", "medium"),
               f("a.l", "pass", "low")])
    assert s.points == 70 and s.grade == "C"
    assert s.verdict is Verdict.READY_WITH_WARNINGS and s.blocking == ()


def test_high_failure_blocks_even_with_a_good_score():
    findings = [f(f"a.c{i}", "pass", "critical") for i in range(5)] + [f("a.h", "fail", "high")]
    s = score(findings)
    assert s.points == 89 and s.verdict is Verdict.BLOCKED and s.blocking == ("a.h",)


def test_errors_are_left_out_of_the_score_and_listed():
    s = score([f("a.c", "pass", "critical"), f("a.m", "error", "medium")])
    assert s.points == 100 and s.untested == ("a.m",)
    assert s.verdict is Verdict.READY_WITH_WARNINGS


def test_untested_blocking_check_means_could_not_assess():
    s = score([f("a.c", "error", "critical"), f("a.m", "pass", "medium")])
    assert s.verdict is Verdict.COULD_NOT_ASSESS and s.points == 100


def test_nothing_tested_has_no_score():
    s = score([f("a.c", "error", "critical"), f("a.s", "skip", "medium")])
    assert (s.points, s.grade, s.verdict) == (-1, "-", Verdict.COULD_NOT_ASSESS)
    assert s.to_dict()["score"] is None


def test_a_check_counts_once_with_its_worst_finding():
    s = score([f("mx.targets", "pass", "medium"), f("mx.targets", "fail", "medium"), f("a.c", "pass", "critical")])
    assert s.points == round(100 * 10 / 13)


@pytest.mark.parametrize(("points", "letter"), [(100, "A"), (90, "A"), (89, "B"), (75, "B"), (60, "C"), (40, "D"),
                                                (39, "F"), (0, "F")])
def test_grades(points, letter):
    assert grade(points) == letter


def test_top_problem_prefers_failures_then_severity():
    findings = [f("a.w", "warn", "critical"), f("a.l", "fail", "low"), f("a.h", "fail", "high"), f("a.p", "pass")]
    assert top_problem(findings).check_id == "a.h"
    assert top_problem([f("a.p", "pass")]) is None


def test_error_findings_need_a_reason():
    with pytest.raises(ValueError):
        Finding("a.b", "a", Severity.LOW, Status.ERROR, "no reason")
    with pytest.raises(ValueError):
        Finding("a.b", "a", Severity.LOW, Status.PASS, "reason on a pass", reason=ErrorReason.TIMEOUT)
