"""Turns a domain's findings into a score, a grade and a verdict. The only place that does.

The rules, published in the README so nobody has to reverse-engineer a number:

* Each check counts once, with the worst status among its findings.
* A check is worth points by severity: critical 10, high 6, medium 3, low 1, info 0.
  Advisory checks weigh low (DMARC, DKIM, MTA-STS, TLS-RPT) or medium (dnssec.zone and
  mx.dane: a broken DNSSEC chain stops all mail from validating senders); where they only
  inform they report info, which earns all their points.
* pass and info earn all its points, warn half, fail none.
* error ("could not test") and skip are left out of the denominator: not testing something
  never raises or lowers a score.
* score = 100 x earned / possible, rounded; no score when nothing could be tested.
* grade: A >= 90, B >= 75, C >= 60, D >= 40, else F.
* verdict: *blocked* when a critical or high check failed; otherwise *could not assess*
  when a critical or high check could not test, or nothing could; otherwise *ready with
  warnings* when anything warned, failed or could not test; otherwise *ready*.
* a waived result (a warn or fail that a running waiver of the policy file accepts) counts
  as a pass here: it lowers neither the score nor the verdict. An expired waiver does not.
"""

from __future__ import annotations

from collections.abc import Iterable

from dnsaudit.config import FAIL_ON  # noqa: F401  (the levels reaches() knows)
from dnsaudit.model import Finding, Score, Severity, Status, Verdict

WEIGHTS = {Severity.CRITICAL: 10, Severity.HIGH: 6, Severity.MEDIUM: 3, Severity.LOW: 1, Severity.INFO: 0}
EARNED = {Status.PASS: 1.0, Status.INFO: 1.0, Status.WARN: 0.5, Status.FAIL: 0.0}
GRADES = ((90, "A"), (75, "B"), (60, "C"), (40, "D"), (0, "F"))
BLOCKING = frozenset({Severity.CRITICAL, Severity.HIGH})


def per_check(findings: Iterable[Finding]) -> dict[str, tuple[Status, Severity]]:
    """Each check's worst status and the highest severity among its findings."""
    folded: dict[str, tuple[Status, Severity]] = {}
    for f in findings:
        status, severity = folded.get(f.check_id, (Status.SKIP, Severity.INFO))
        counted = effective_status(f)
        folded[f.check_id] = (
            counted if counted.rank > status.rank else status,
            f.severity if f.severity.rank > severity.rank else severity,
        )
    return folded


def effective_status(finding: Finding) -> Status:
    """The status scoring counts: a waived problem counts as a pass (see the rules above)."""
    return Status.PASS if finding.waived else finding.status


def grade(points: int) -> str:
    if points < 0:
        return "-"
    return next(letter for floor, letter in GRADES if points >= floor)


def score(findings: Iterable[Finding]) -> Score:
    checks = per_check(findings)
    earned = possible = 0.0
    for status, severity in checks.values():
        if status in EARNED:
            possible += WEIGHTS[severity]
            earned += WEIGHTS[severity] * EARNED[status]
    tested = [s for s, _ in checks.values() if s in EARNED]
    if possible:
        points = round(100 * earned / possible)
    else:
        points = 100 if tested else -1  # only zero-weight checks tested: nothing against it
    blocking = tuple(sorted(c for c, (s, sev) in checks.items() if s is Status.FAIL and sev in BLOCKING))
    untested = tuple(sorted(c for c, (s, _) in checks.items() if s is Status.ERROR))
    untested_blocking = any(s is Status.ERROR and sev in BLOCKING for s, sev in checks.values())
    if blocking:
        verdict = Verdict.BLOCKED
    elif untested_blocking or not tested:
        verdict = Verdict.COULD_NOT_ASSESS
    elif untested or any(s in (Status.WARN, Status.FAIL) for s, _ in checks.values()):
        verdict = Verdict.READY_WITH_WARNINGS
    else:
        verdict = Verdict.READY
    return Score(points, grade(points), verdict, blocking, untested)


def top_problem(findings: Iterable[Finding]) -> Finding | None:
    """The finding a person should read first: what decides the verdict, then the worst of the rest.

    A waived result is nobody's first problem any more.

    Order: a failed critical/high check (it blocks), a critical/high check that could not
    test (it makes the domain "could not assess"), then fail, warn and could-not-test.
    """

    def priority(f: Finding) -> tuple[int, int]:
        decisive = f.severity in BLOCKING and f.status in (Status.FAIL, Status.ERROR)
        order = {Status.FAIL: 3, Status.WARN: 2, Status.ERROR: 1}[f.status]
        return (2 if decisive and f.status is Status.FAIL else 1 if decisive else 0, order * 10 + f.severity.rank)

    problems = [f for f in findings if f.status in (Status.FAIL, Status.WARN, Status.ERROR) and not f.waived]
    return max(problems, key=priority, default=None)




def reaches(finding: Finding, fail_on: str) -> bool:
    """Whether a result is at least as bad as ``--fail-on`` (a waived result never is)."""
    if finding.waived or fail_on == "never":
        return False
    if fail_on == "warn":
        return finding.status in (Status.WARN, Status.FAIL)
    if fail_on == "blocking":
        return finding.status is Status.FAIL and finding.severity in BLOCKING
    return finding.status is Status.FAIL
