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

from dnsaudit.testing.cases import audit_cases, case_entry, case_resolver, case_server, check_case, load_cases
from dnsaudit.testing.fakes import FakeResolver, FakeTls, FakeWeb, fake_cert
from dnsaudit.testing.run import run_check
from dnsaudit.testing.server import FAULTS, ZoneServer, load_zone

__all__ = [
    "FAULTS", "FakeResolver", "FakeTls", "FakeWeb", "ZoneServer", "audit_cases", "case_entry", "case_resolver",
    "case_server", "check_case", "fake_cert", "load_cases", "load_zone", "run_check",
]
