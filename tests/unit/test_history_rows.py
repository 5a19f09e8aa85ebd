"""A history row changed by hand is a HistoryError naming the run, whatever the change."""

from __future__ import annotations

import json
import sqlite3

import pytest

from dnsaudit.history import History, HistoryError
from dnsaudit.model import AuditRun, DomainEntry, DomainResult, RunInfo, Score, Verdict


@pytest.mark.parametrize(("column", "value"), [("info_json", "{not json"), ("info_json", "[]"),
                                               ("info_json", '{"checks": 5}'), ("result_json", "[]"),
                                               ("result_json", '{"input": 5}'), ("result_json", "null")])
def test_a_tampered_row_is_a_history_error(tmp_path, column, value):
    path = tmp_path / "h.sqlite"
    info = RunInfo("0", "2026-11-27T00:00:00+00:00", "", "in.csv", (), ())
    result = DomainResult(DomainEntry("a.test", 2), (), Score(100, "A", Verdict.READY))
    with History(path) as history:
        run = history.begin(info)
        history.add_domain(run, "a.test", json.dumps(result.to_dict()))
        history.finish(run, info)
        assert isinstance(history.load(run), AuditRun)
    with sqlite3.connect(path) as db:
        table, key = ("runs", "id") if column == "info_json" else ("domains", "run_id")
        db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = ?", (value, run))
    with History(path, lock=False) as history, pytest.raises(HistoryError, match=f"run {run} .* damaged"):
        history.load(run)
