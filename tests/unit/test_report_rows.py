"""Report rows and the executive summary are kept by their run, not in a module table keyed by id()."""

from __future__ import annotations

import dataclasses
import gc
import weakref

from dnsaudit.model import AuditRun, DomainEntry, DomainResult, RunInfo, Score, Verdict
from dnsaudit.reports import digest, view


def _run() -> AuditRun:
    domains = tuple(DomainResult(DomainEntry(f"d{i}.test", i + 2), (), Score(100 - i, "A", Verdict.READY))
                    for i in range(3))
    return AuditRun(RunInfo("0", "", "", "in.csv", (), ()), domains)


def test_rows_are_computed_once_per_run_and_kept_by_it():
    run = _run()
    rows = view.domain_rows(run)
    assert view.domain_rows(run) is rows and digest.executive(run) is digest.executive(run)
    part = run.subset(run.domains[:1])
    assert [r.entry.domain for r in view.domain_rows(part)] == ["d0.test"] and view.domain_rows(run) is rows
    assert dataclasses.replace(run, drift=None).derived == {}  # a run made from this one starts empty
    assert run == AuditRun(run.info, run.domains)  # derived values take no part in equality


def test_nothing_is_kept_in_the_modules_and_the_rows_go_with_their_run():
    run = _run()
    row = weakref.ref(view.domain_rows(run)[0])
    digest.executive(run)
    tables = [name for module in (view, digest) for name, value in vars(module).items() if isinstance(value, dict)
              and name.startswith("_") and not name.startswith("__")]
    assert tables == []
    del run
    gc.collect()
    assert row() is None
