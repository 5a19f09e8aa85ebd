"""Hostile text through every report: XML-illegal characters, terminal controls, bidi overrides, huge values.

The run of ``conftest.report_run`` is written again (``dnsaudit report``) from a results.json
whose values carry, for every domain, each character class that XML 1.0 forbids, ESC/OSC
sequences, NUL, BEL, a right-to-left override, and for one domain a 1 MiB value. The
workbook is read back with openpyxl and converted by LibreOffice (which silently dropped
rows of an invalid workbook); the CSV and the page are read as bytes.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess

import openpyxl
import pytest

from dnsaudit.cli import main

# Every character XML 1.0 (section 2.2, Char) excludes: C0 but tab/LF/CR, lone surrogates, U+FFFE, U+FFFF.
# (The surrogates apart: json.loads would join a high and a low one into one valid character.)
XML_FORBIDDEN = [*map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]),
                 "\ud800", "\udbff", "\udc00", "\udfff", "\ufffe", "\uffff"]
TERMINAL_ATTACK = "\x1b[2K\r\x1b]0;owned\x07\x9b31m"
RLO = "\u202e"
HUGE = 1_048_576
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if SOFFICE is None:
    raise RuntimeError("Debian's libreoffice-calc is missing: the test command (bash tests/run) installs it")


def hostile(tag: str) -> str:
    return f"{tag} {'.'.join(XML_FORBIDDEN)} {TERMINAL_ATTACK} {RLO}gnp.exe end"


@pytest.fixture(scope="module")
def hostile_out(results_json, tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile-text")
    data = json.loads(json.dumps(results_json))
    for i, domain in enumerate(data["domains"]):
        domain["input"]["notes"] = hostile(f"note{i}")
        domain["input"]["client"] = hostile(f"client{i % 3}")
        for result in domain["results"]:
            result["message"] = hostile(f"message{i}")
            result["observed"] = hostile(f"observed{i}")
            result["evidence"] = [*result["evidence"], f"txt{i}.hostile.test. TXT: {hostile(f'evidence{i}')}"]
    failed = next(r for d in data["domains"] for r in d["results"] if r["status"] == "fail")
    failed["observed"] = "x" * HUGE  # a fail: on every sheet and table that lists findings
    source = work / "results.json"
    source.write_text(json.dumps(data), encoding="utf-8")  # ensure_ascii: lone surrogates as \ud800
    out = work / "out"
    assert main(["report", str(source), "--out", str(out)]) == 0
    return out, data


def test_workbook_with_every_xml_forbidden_character_opens_with_every_row(hostile_out):
    out, data = hostile_out
    book = openpyxl.load_workbook(out / "report.xlsx")  # raised on U+FFFE/U+FFFF before
    summary = list(book["Summary"].iter_rows(min_row=2, values_only=True))
    assert len(summary) == len(data["domains"])
    findings = list(book["Findings"].iter_rows(min_row=2, values_only=True))
    texts = [str(v) for row in findings for v in row if isinstance(v, str)]
    assert any("message" in t for t in texts)
    assert not any(ch in t for t in texts for ch in XML_FORBIDDEN)
    assert any("<U+202E>gnp.exe" in t for t in texts) and not any(RLO in t for t in texts)
    longest = max(len(t) for t in texts)
    assert longest < 32_767


def test_libreoffice_reads_every_row_of_the_hostile_workbook(hostile_out, tmp_path):
    out, data = hostile_out
    profile = tmp_path / "profile"
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                    'csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1',
                    "--outdir", str(tmp_path), str(out / "report.xlsx")],
                   check=True, capture_output=True, timeout=180, env=env)
    with open(tmp_path / "report-Summary.csv", encoding="utf-8", newline="") as handle:
        header, *summary = list(csv.reader(handle))
    assert len(summary) == len(data["domains"])
    domains = {d["input"]["display_name"] for d in data["domains"]}
    assert {row[header.index("Domain")] for row in summary} == domains
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    for sheet in ("Findings", "Records"):
        with open(tmp_path / f"report-{sheet}.csv", encoding="utf-8", newline="") as handle:
            converted = list(csv.reader(handle))
        assert len(converted) == sum(1 for _ in book[sheet].iter_rows()) > 1, sheet


def test_csv_and_html_drop_nul_and_esc_and_show_bidi_overrides(hostile_out):
    out, _ = hostile_out
    for name in ("findings.csv", "report.html"):
        raw = (out / name).read_bytes()
        text = raw.decode("utf-8")  # a lone surrogate would not have encoded at all
        for ch in "\x00\x1b\x07\x9b" + RLO + "\ufffe\uffff":
            assert ch not in text, (name, hex(ord(ch)))
    assert "<U+202E>gnp.exe" in (out / "findings.csv").read_text(encoding="utf-8-sig")
    assert "&lt;U+202E&gt;gnp.exe" in (out / "report.html").read_text(encoding="utf-8")


def test_every_report_caps_a_huge_value_and_marks_the_cut(hostile_out):
    out, _ = hostile_out
    with open(out / "findings.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    longest = max(len(v) for r in rows for v in r.values())
    assert longest < 11_000
    marker = f"{HUGE:,} characters, cut"
    assert any(marker in r["observed"] for r in rows)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert marker in html and "x" * 20_000 not in html
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    cells = [v for row in book["Findings"].iter_rows(values_only=True) for v in row if isinstance(v, str)]
    assert any(marker in v for v in cells)
