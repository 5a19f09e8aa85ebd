"""findings.csv, results.json's structure, and re-rendering with 'dnsaudit report' offline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from dnsaudit.cli import main

GOLDEN = Path(__file__).with_name("results_structure.json")


def test_csv_has_one_row_per_result_and_neutralises_formulas(out_dir, results_json, hostile):
    with open(out_dir / "findings.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == sum(len(d["results"]) for d in results_json["domains"])
    hostile_rows = [r for r in rows if r["domain"] == "hostile.test"]
    assert hostile_rows and all(r["client"] == "'" + hostile["client"] for r in hostile_rows)
    assert not [r for r in rows for v in r.values() if v.startswith(("=", "+", "@"))]
    spf_all = [r for r in rows if r["observed"] == "'-all"]
    assert all(r["observed"].startswith("'") for r in spf_all)


def structure(value):
    """The shape of a JSON document: keys and value types, first element of each list."""
    if isinstance(value, dict):
        return {k: structure(v) for k, v in sorted(value.items()) if k not in ("settings", "extra")}
    if isinstance(value, list):
        return [structure(value[0])] if value else []
    return type(value).__name__ if value is not None else "null"


def test_results_json_structure_is_golden(results_json):
    """A change to the results schema must be deliberate: update the golden file and schema_version."""
    domain = next(d for d in results_json["domains"] if d["input"]["domain"] == "good.test")
    shape = structure({**results_json, "domains": [domain]})
    if not GOLDEN.exists():  # pragma: no cover - writing the golden file once, by hand
        GOLDEN.write_text(json.dumps(shape, indent=1, sort_keys=True) + "\n")
    assert shape == json.loads(GOLDEN.read_text())


@pytest.mark.disable_socket
def test_report_rerenders_without_network(out_dir, tmp_path, capsys, results_json):
    target = tmp_path / "again"
    code = main(["report", str(out_dir / "results.json"), "--out", str(target), "--format", "xlsx,html,csv",
                 "--title", "Quarterly review"])
    assert code == 0
    assert sorted(p.name for p in target.iterdir()) == ["findings.csv", "report.html", "report.xlsx"]
    html = (target / "report.html").read_text(encoding="utf-8")
    assert "<title>Quarterly review</title>" in html
    assert (out_dir / "report.html").read_bytes() != b""


def test_report_refuses_what_it_cannot_read(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": "other"}')
    assert main(["report", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "not a usable dnsaudit results file" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "missing.json")]) == 2
    assert main(["report", str(bad), "--format", "pdf"]) == 2
