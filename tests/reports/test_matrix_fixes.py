"""matrix.csv (domain × check), fixes/<domain>.zone (every proposed record, importable) and
the notes column of findings.csv, read back from the report run."""

from __future__ import annotations

import csv

import dns.zone

RANK = {"skip": 0, "pass": 1, "info": 2, "error": 3, "warn": 4, "fail": 5}


def read_csv(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_matrix_csv_has_one_row_per_domain_and_a_column_per_check(out_dir, results_json):
    rows = read_csv(out_dir / "matrix.csv")
    checks = [c["id"] for c in results_json["run"]["checks"]]
    assert list(rows[0])[5:] == checks and len(rows) == len(results_json["domains"])
    by_domain = {r["domain_ascii"]: r for r in rows}
    for d in results_json["domains"]:
        row = by_domain[d["input"]["domain"]]
        assert row["verdict"] == d["verdict"]
        for check in checks:
            statuses = [r["status"] for r in d["results"] if r["id"] == check]
            worst = max(statuses, key=RANK.get) if statuses else ""
            assert row[check] == ("could not test" if worst == "error" else worst)
    assert not [v for r in rows for v in r.values() if v.startswith(("=", "+", "@"))]


def test_findings_csv_carries_notes(out_dir, results_json):
    rows = read_csv(out_dir / "findings.csv")
    notes = {d["input"]["domain"]: d["input"]["notes"] for d in results_json["domains"]}
    assert rows and all(r["notes"] == notes[r["domain_ascii"]] for r in rows)


def test_a_zone_file_per_domain_with_every_proposed_record_that_imports(out_dir, results_json):
    folder = out_dir / "fixes"
    fixable = {d["input"]["domain"]: d for d in results_json["domains"]
               if any(r["status"] in ("fail", "warn") and r["remediation"] for r in d["results"])}
    assert fixable and sorted(p.stem for p in folder.glob("*.zone")) == sorted(fixable)
    for domain, d in fixable.items():
        text = (folder / f"{domain}.zone").read_text(encoding="utf-8")
        zone = dns.zone.from_text(text, origin=domain + ".", relativize=False, check_origin=False)
        published = {(str(name), rdataset.rdtype, rd.to_text()) for name, node in zone.nodes.items()
                     for rdataset in node.rdatasets for rd in rdataset}
        for r in d["results"]:
            if r["status"] not in ("fail", "warn"):
                continue
            for line in r["remediation"].splitlines():
                if line.split() and line.split()[0].endswith(".") and "<" not in line:
                    assert line in text, (domain, line)  # as a record, or as a comment to merge by hand
        spf = [p for p in published if p[1] == dns.rdatatype.TXT and p[2].startswith('"v=spf1')
               and p[0] == domain + "."]
        assert len(spf) <= 1, (domain, spf)  # one SPF record per name (RFC 7208 §4.5), whatever was proposed


def test_each_client_gets_fixes_for_its_own_domains_only(out_dir, results_json):
    for client in ("Contoso", "Fabrikam", "Northwind"):
        own = {d["input"]["domain"] for d in results_json["domains"] if d["input"]["client"] == client}
        files = {p.stem for p in (out_dir / "clients" / client / "fixes").glob("*.zone")}
        assert files and files <= own
