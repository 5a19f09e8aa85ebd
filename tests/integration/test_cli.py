"""Tier 3: the command line end to end against the loopback DNS server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

import dnsaudit
from dnsaudit.cli import main

SCHEMA = json.loads((Path(dnsaudit.__file__).parent / "results.schema.json").read_text())


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def csv(tmp_path, text: str, name: str = "domains.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def results(out_dir: Path) -> dict:
    data = json.loads((out_dir / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    return data


def test_audit_of_good_and_bad_rows(tmp_path, nameserver, capsys):
    path = csv(tmp_path, (
        "domain,client,phase,notes\n"
        "good.test,Contoso,,by the book\n"
        "not a domain,Contoso,,\n"
        "hybrid.test,Fabrikam,hybrid,\n"
        "onprem.test,Fabrikam,,\n"
        "missing.test,Northwind,,\n"
        "slow.test,Northwind,,\n"
        "x.test,Northwind,someday,\n"
        "GOOD.TEST.,Contoso,,again\n"
    ))
    code, out, err = run(["audit", path, "--nameserver", nameserver, "--timeout", "1", "--retries", "0",
                          "--out", "out", "--no-probes"], capsys)
    assert code == 2  # rows 3 and 8 could not be audited
    assert "row 3: error" in err and "row 8: error" in err and "row 9: warning: duplicate of row 2" in err
    assert "Traceback" not in err
    data = results(tmp_path / "out")
    verdicts = {d["input"]["domain"]: d["verdict"] for d in data["domains"]}
    assert verdicts == {"good.test": "ready", "hybrid.test": "ready", "onprem.test": "blocked",
                        "missing.test": "blocked", "slow.test": "could not assess"}
    assert [(i["row"], i["level"]) for i in data["run"]["input_issues"]] == [(3, "error"), (8, "error"), (9, "warning")]
    assert data["totals"]["verdicts"] == {"ready": 2, "ready with warnings": 0, "blocked": 2, "could not assess": 1}
    good = next(d for d in data["domains"] if d["input"]["domain"] == "good.test")
    assert good["score"] == 100 and good["input"]["merged_rows"] == [9] and good["input"]["client"] == "Contoso"
    slow = next(d for d in data["domains"] if d["input"]["domain"] == "slow.test")
    assert slow["score"] is None and "domain.exists" in slow["could_not_test"]
    assert {r["reason"] for r in slow["results"] if r["status"] == "error"} == {"timeout"}
    # the summary lists the worst first and names the first problem
    lines = out.splitlines()
    assert lines[2].startswith("missing.test") or lines[2].startswith("onprem.test")
    assert "could not assess" in out and "Reports in" in out


@pytest.mark.parametrize(
    ("domains", "args", "code"),
    [
        (["good.test", "gcch.test"], [], 0),
        (["good.test", "token.test"], [], 0),  # a warning only
        (["good.test", "token.test"], ["--fail-on", "warn"], 1),
        (["onprem.test"], [], 1),
        (["onprem.test"], ["--fail-on", "never"], 0),
        (["extra.test"], ["--fail-on", "blocking"], 0),  # a medium failure does not block
        (["extra.test"], [], 1),
        (["good.test", "servfail.test"], [], 3),
        (["onprem.test", "servfail.test"], [], 1),
    ],
)
def test_exit_codes(tmp_path, nameserver, capsys, domains, args, code):
    cloud = "gcc-high" if "gcch.test" in domains else ""
    rows = "".join(f"{d},{cloud if d == 'gcch.test' else ''}\n" for d in domains)
    path = csv(tmp_path, "domain,cloud\n" + rows)
    got, _out, err = run(["audit", path, "--nameserver", nameserver, "--timeout", "1", "--retries", "0",
                          *args], capsys)
    assert got == code, err


def test_no_resolver_answering_stops_the_run_with_exit_3(tmp_path, capsys):
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        path = csv(tmp_path, "domain\ngood.test\n")
        code, out, err = run(["audit", path, "--nameserver", f"127.0.0.1:{silent.getsockname()[1]}",
                              "--timeout", "0.2", "--out", "out"], capsys)
    finally:
        silent.close()
    assert code == 3
    assert "no DNS server answered" in err and "nothing was audited" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [("client\nContoso\n", "no domain column"), (None, "input file not found")],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, nameserver, capsys, content, message):
    path = csv(tmp_path, content) if content is not None else str(tmp_path / "missing.csv")
    code, out, err = run(["audit", path, "--nameserver", nameserver], capsys)
    assert code == 2
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


@pytest.mark.parametrize("args", [["--nameserver", "dns.example"], ["--checks", "nope.*"], ["--timeout", "0"]])
def test_bad_options_exit_2(tmp_path, nameserver, capsys, args):
    path = csv(tmp_path, "domain\ngood.test\n")
    with_ns = [] if args[0] == "--nameserver" else ["--nameserver", nameserver]
    try:
        code = main(["audit", path, *with_ns, *args])
    except SystemExit as exc:  # argparse rejects some options itself
        code = exc.code
    assert code == 2


def test_outputs_never_overwrite_an_earlier_run(tmp_path, nameserver, capsys):
    path = csv(tmp_path, "domain\ngood.test\n")
    base = ["audit", path, "--nameserver", nameserver, "--quiet"]
    assert run(base, capsys)[0] == 0
    assert run(base, capsys)[0] == 0
    runs = sorted(p for p in (tmp_path / "dnsaudit-runs").iterdir())
    assert len(runs) == 2 and all((p / "results.json").exists() for p in runs)
    assert run([*base, "--out", str(runs[0])], capsys)[0] == 2


def test_a_used_out_folder_is_the_one_error_before_the_input_is_read(tmp_path, nameserver, capsys):
    """The usage mistake first and alone: not after every input row's warning."""
    used = tmp_path / "used"
    used.mkdir()
    (used / "report.html").write_text("an earlier run")
    path = csv(tmp_path, "domain\ngood.test\nnot a domain!\n")
    code, out, err = run(["audit", path, "--nameserver", nameserver, "--quiet", "--out", str(used)], capsys)
    assert code == 2
    assert err.strip().splitlines() == [f"dnsaudit: output folder {used} already exists and is not empty; give a new --out"]
    assert (used / "report.html").read_text() == "an earlier run"


def test_checks_can_be_selected_and_skipped(tmp_path, nameserver, capsys):
    path = csv(tmp_path, "domain\ngood.test\n")
    code, _out, _err = run(["audit", path, "--nameserver", nameserver, "--checks", "mx.*", "--skip", "mx.extra,mx.null,mx.dane",
                            "--out", "out"], capsys)
    assert code == 0
    data = results(tmp_path / "out")
    assert {r["id"] for r in data["domains"][0]["results"]} == {"mx.present", "mx.microsoft365", "mx.targets",
                                                                 "mx.verification"}
    assert [c["id"] for c in data["run"]["checks"]] == ["mx.microsoft365", "mx.present", "mx.targets",
                                                        "mx.verification"]


def test_xlsx_input_end_to_end(tmp_path, nameserver, capsys):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["DomainName", "Customer"])
    book.active.append(["good.test", "Contoso"])
    book.save(tmp_path / "list.xlsx")
    code, _out, _err = run(["audit", str(tmp_path / "list.xlsx"), "--nameserver", nameserver, "--out", "out"], capsys)
    assert code == 0
    assert results(tmp_path / "out")["domains"][0]["input"]["client"] == "Contoso"


def test_checks_command_documents_every_check(capsys):
    code, out, _err = run(["checks"], capsys)
    assert code == 0
    assert "mx.microsoft365" in out and "Fix:" in out and "References:" in out
    code, out, _err = run(["checks", "--brief", "autodiscover.*"], capsys)
    assert out.count("\n") == 3


def test_console_script_and_module_entry(tmp_path):
    env = {**os.environ, "PYTHONPATH": ""}
    for cmd in ([sys.executable, "-m", "dnsaudit", "--help"], [Path(sys.executable).with_name("dnsaudit"), "audit", "--help"]):
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert "audit" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "dnsaudit", "--version"], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == f"dnsaudit {dnsaudit.__version__}"
