"""Test helpers for dnsaudit and for plugin authors (this is public API, as sqlfluff's rule tests are).

- ``run_check(MyCheck, entry="contoso.test", zone="...", web=FakeWeb(...), tls=FakeTls(...))``:
  one check on one domain, in-process, its findings back (a check that raises lets it through);
- ``FakeResolver``, ``FakeWeb``, ``FakeTls`` and ``fake_cert``: the run's clients answering from
  data given by the test, recording what was asked;
- the case-table runner (``load_cases``, ``audit_cases``, ``check_case``): checks tested from
  data, all cases in one run;
- ``ZoneServer``: a real DNS server on 127.0.0.1 serving zone files, with faults per name,
  for tests that go through the real resolver and the network.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Each name is imported when first used (PEP 562), so that the test DNS server's own process,
# which needs only .server, starts in 0.1 s instead of 0.5 s (the case runner imports the checks).
_HOMES = {
    "audit_cases": "cases", "case_entry": "cases", "case_resolver": "cases", "case_server": "cases",
    "check_case": "cases", "load_cases": "cases",
    "FakeResolver": "fakes", "FakeTls": "fakes", "FakeWeb": "fakes", "fake_cert": "fakes",
    "run_check": "run",
    "FAULTS": "server", "ZoneServer": "server", "load_zone": "server",
}
__all__ = [
    "FAULTS", "FakeResolver", "FakeTls", "FakeWeb", "ZoneServer", "audit_cases", "case_entry", "case_resolver",
    "case_server", "check_case", "fake_cert", "load_cases", "load_zone", "run_check",
]

if TYPE_CHECKING:
    from dnsaudit.testing.cases import audit_cases, case_entry, case_resolver, case_server, check_case, load_cases
    from dnsaudit.testing.fakes import FakeResolver, FakeTls, FakeWeb, fake_cert
    from dnsaudit.testing.run import run_check
    from dnsaudit.testing.server import FAULTS, ZoneServer, load_zone


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value
