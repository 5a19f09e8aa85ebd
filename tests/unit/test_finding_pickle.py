"""Findings come back from pickle (worker processes, the results spool) field for field,
though unpickling sets their slots without running ``__init__``."""

from __future__ import annotations

import dataclasses
import enum
import pickle

import pytest

from dnsaudit.evidence import Evidence
from dnsaudit.findings import Finding, WaiverNote
from dnsaudit.vocabulary import ErrorReason, Severity, Status


def test_every_field_comes_back_in_its_own_place():
    waived = Finding("spf.record", "spf", Severity.HIGH, Status.FAIL, "message", "observed", "expected", "fix",
                     (Evidence.note("a note"),), waiver=WaiverNote("why", "who", "2030-01-01", False, "file"))
    error = Finding("mx.route", "mx", Severity.CRITICAL, Status.ERROR, "m", reason=ErrorReason.TIMEOUT, trace="tb")
    for finding in (waived, error):
        back = pickle.loads(pickle.dumps(finding, pickle.HIGHEST_PROTOCOL))
        assert back == finding and hash(back) == hash(finding)
        assert [getattr(back, f.name) for f in dataclasses.fields(Finding)] == \
            [getattr(finding, f.name) for f in dataclasses.fields(Finding)]
        with pytest.raises(dataclasses.FrozenInstanceError):
            back.message = "changed"  # type: ignore[misc]


def test_a_checks_finding_is_the_dataclass_s_own_and_checked_the_same():
    """Check.finding makes findings without the dataclass's __init__ (made_finding): the same
    fields, the same refusals."""
    from dnsaudit.checks.mx import MxPresent

    check = MxPresent()
    made = check.fail("no MX", observed="none", expected="an MX", remediation="fix", evidence=["a note"])
    assert made == Finding(check.id, check.area, check.severity, Status.FAIL, "no MX", "none", "an MX", "fix",
                           made.evidence)
    assert check.error("timed out", ErrorReason.TIMEOUT).reason is ErrorReason.TIMEOUT
    with pytest.raises(ValueError, match="needs a reason"):
        check.finding(Status.ERROR, "could not test")
    with pytest.raises(ValueError, match="needs a reason"):
        check.finding(Status.PASS, "fine", reason=ErrorReason.TIMEOUT)


class Ids(enum.StrEnum):
    MINE = "mine.check"


def test_a_check_id_of_a_str_subclass_is_kept_as_it_is():
    """A plugin may name its check with a StrEnum member: sys.intern takes exact str only."""
    from dnsaudit.checks.mx import MxPresent

    class Mine(MxPresent):
        id = Ids.MINE

    made = Mine().passed("fine")
    assert made.check_id == "mine.check"
    assert pickle.loads(pickle.dumps(made)).check_id == "mine.check"
