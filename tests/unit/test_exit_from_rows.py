"""The exit code and --quiet's lines come from the report rows: no domain is decoded again after the reports."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from dnsaudit.cli.exits import EXIT_FINDINGS, EXIT_OK, EXIT_UNTESTED, exit_code, problem_lines
from dnsaudit.model import (
    AuditRun,
    DomainEntry,
    DomainResult,
    ErrorReason,
    Finding,
    RunInfo,
    Severity,
    Status,
    WaiverNote,
)
from dnsaudit.reports import view
from dnsaudit.reports.scope import run_for_client
from dnsaudit.scoring import score


def _finding(check: str, status: Status, severity: Severity = Severity.HIGH, waiver: WaiverNote | None = None,
             message: str = "m") -> Finding:
    return Finding(check, check.split(".")[0], severity, status, f"{message} ({check})",
                   observed="big observed value", remediation="a fix",
                   reason=ErrorReason.TIMEOUT if status is Status.ERROR else None, waiver=waiver)


RUNNING = WaiverNote("accepted", "ops", "2099-12-31")
EXPIRED = WaiverNote("accepted", "ops", "2020-01-01", expired=True)


class Sealed(Sequence[DomainResult]):
    """Domains that can be read while the rows are made, and never after (as a packed run's
    reads would cost a decode each)."""

    def __init__(self, domains: Sequence[DomainResult]) -> None:
        self._domains, self.sealed = tuple(domains), False

    def __len__(self) -> int:
        return len(self._domains)

    def __getitem__(self, index):  # type: ignore[override]
        if self.sealed:
            raise AssertionError("a domain was read again after the reports")
        return self._domains[index]


def _run(*findings_per_domain: tuple[Finding, ...]) -> tuple[AuditRun, Sealed]:
    domains = Sealed([DomainResult(DomainEntry(f"d{i}.test", i + 2), f, score(f), 0)
                      for i, f in enumerate(findings_per_domain)])
    run = AuditRun(RunInfo("0", "", "", "in.csv", (), ()), domains)
    view.domain_rows(run)  # as the reports' one pass makes them
    domains.sealed = True
    return run, domains


def test_quiet_lines_are_in_input_order_and_leave_out_waived_results():
    run, _ = _run(
        (_finding("mx.extra", Status.WARN), _finding("spf.record", Status.PASS)),  # the best domain: last in the rows
        (_finding("spf.record", Status.FAIL), _finding("dkim.cname", Status.FAIL, waiver=RUNNING),
         _finding("dmarc.record", Status.FAIL, Severity.LOW, waiver=EXPIRED)),
    )
    assert list(problem_lines(run, "fail")) == [
        "d1.test  spf.record  fail: m (spf.record)",
        "d1.test  dmarc.record  fail: m (dmarc.record)",  # an expired waiver no longer applies
    ]
    assert list(problem_lines(run, "warn")) == ["d0.test  mx.extra  warn: m (mx.extra)", *list(problem_lines(run, "fail"))]
    assert list(problem_lines(run, "blocking")) == ["d1.test  spf.record  fail: m (spf.record)"]
    assert list(problem_lines(run, "never")) == []


@pytest.mark.parametrize(("findings", "fail_on", "code"), [
    ((_finding("spf.record", Status.FAIL),), "fail", EXIT_FINDINGS),
    ((_finding("spf.record", Status.FAIL, waiver=RUNNING),), "fail", EXIT_OK),
    ((_finding("spf.record", Status.FAIL, Severity.LOW),), "blocking", EXIT_OK),
    ((_finding("mx.extra", Status.WARN),), "fail", EXIT_OK),
    ((_finding("mx.extra", Status.WARN),), "warn", EXIT_FINDINGS),
    ((_finding("mx.extra", Status.ERROR), _finding("spf.record", Status.PASS)), "fail", EXIT_UNTESTED),
    ((_finding("mx.extra", Status.ERROR), _finding("spf.record", Status.FAIL)), "fail", EXIT_FINDINGS),
    ((_finding("mx.extra", Status.ERROR), _finding("spf.record", Status.FAIL, waiver=RUNNING)), "fail", EXIT_UNTESTED),
    ((_finding("spf.record", Status.FAIL, waiver=EXPIRED),), "blocking", EXIT_FINDINGS),
])
def test_exit_code_from_the_rows(findings, fail_on, code, capsys):
    run, _ = _run(findings, (_finding("dmarc.record", Status.PASS),))
    assert exit_code(run, fail_on, 0) == code
    if code == EXIT_UNTESTED:
        assert "1 domain had checks that could not test" in capsys.readouterr().err


def test_the_untested_count_is_of_domains(capsys):
    dead = (_finding("mx.extra", Status.ERROR), _finding("spf.record", Status.ERROR))
    run, _ = _run(dead, dead, (_finding("dmarc.record", Status.PASS),))
    assert exit_code(run, "fail", 0) == EXIT_UNTESTED
    assert "2 domains had checks that could not test" in capsys.readouterr().err


def test_the_rows_hold_problems_in_short_and_a_clients_cut_cleans_them():
    acme = (_finding("spf.record", Status.FAIL, message="see fabrikam.test"),
            _finding("mx.extra", Status.WARN, waiver=RUNNING), _finding("dkim.cname", Status.PASS))
    domains = Sealed([DomainResult(DomainEntry("contoso.test", 2, client="Acme"), acme, score(acme), 0),
                      DomainResult(DomainEntry("fabrikam.test", 3, client="Other"), (), score(()), 1)])
    run = AuditRun(RunInfo("0", "", "", "in.csv", (), ()), domains)
    (row,) = [r for r in view.domain_rows(run) if r.problems]
    (problem,) = row.problems  # the waived warn is no problem
    assert (problem.check_id, problem.status, problem.message) == ("spf.record", Status.FAIL,
                                                                   "see fabrikam.test (spf.record)")
    assert problem.observed == problem.remediation == "" and problem.evidence == ()

    part = run_for_client(run, "Acme", [0], [d.entry for d in domains._domains])
    (cut,) = view.domain_rows(part)
    assert [p.message for p in cut.problems] == ["see [another client] (spf.record)"]
