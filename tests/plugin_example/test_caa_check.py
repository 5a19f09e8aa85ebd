"""The example plugin's own tests, through dnsaudit.testing only (as its author would write them)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from dnsaudit.model import ErrorReason, Status
from dnsaudit.testing import audit_cases, check_case, run_check

# In the plugin's own repository this is "from caa_check import CaaPresent"; dnsaudit's tests
# run with --import-mode=importlib and no package, so the module is loaded from its file.
_spec = importlib.util.spec_from_file_location("caa_check", Path(__file__).with_name("caa_check.py"))
assert _spec is not None and _spec.loader is not None
caa_check = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(caa_check)
CaaPresent = caa_check.CaaPresent


def test_a_caa_record_passes() -> None:
    (finding,) = run_check(CaaPresent, entry="contoso.test", zone='@ CAA 0 issue "digicert.com"')
    assert finding.status is Status.PASS
    assert finding.observed == '0 issue "digicert.com"'


def test_no_caa_record_warns_with_the_record_to_publish() -> None:
    (finding,) = run_check(CaaPresent, entry="contoso.test", zone="@ A 192.0.2.1")
    assert finding.status is Status.WARN
    assert finding.remediation == 'contoso.test. 3600 IN CAA 0 issue "letsencrypt.org"'


def test_a_timeout_is_could_not_test() -> None:
    (finding,) = run_check(CaaPresent, entry="contoso.test", zone="", faults={"contoso.test": "timeout"})
    assert (finding.status, finding.reason) == (Status.ERROR, ErrorReason.TIMEOUT)


CASES: list[dict[str, Any]] = [
    {"name": "CAA published", "domain": "caa.test", "zone": '@ CAA 0 issue "sectigo.com"',
     "expect": {"caa.present": "pass"}},
    {"name": "no CAA", "domain": "nocaa.test", "zone": "@ A 192.0.2.1", "expect": {"caa.present": "warn"},
     "message_contains": {"caa.present": "any public CA"}},
    {"name": "broken servers", "domain": "broken.test", "fault": "servfail", "expect": {"caa.present": "error"},
     "reason": {"caa.present": "servfail"}},
]


def test_the_case_table() -> None:
    results = audit_cases(CASES, [CaaPresent])
    for case in CASES:
        check_case(case, results[case["domain"]])
