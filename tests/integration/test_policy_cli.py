"""The policy file through the real command line: precedence, errors, waivers, expectations, alerts."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openpyxl
import pytest

from dnsaudit.cli import main

# mx.extra fails (a legacy host beside Microsoft's); every other MX check passes.
EXTRA = """
@ SOA ns.policy-extra.test. h.policy-extra.test. 1 3600 600 86400 300
@ MX 0 policy-extra-test.mail.protection.outlook.com.
@ MX 10 legacy.policy-extra.test.
legacy A 192.0.2.25
_dmarc TXT "v=DMARC1; p=none"
@ TXT "v=spf1 include:spf.protection.outlook.com include:sendgrid.net -all"
"""
CLEAN = """
@ SOA ns.policy-clean.test. h.policy-clean.test. 1 3600 600 86400 300
@ MX 0 policy-clean-test.mail.protection.outlook.com.
"""


@pytest.fixture(autouse=True)
def zones(dns_server, tmp_path, monkeypatch):
    dns_server.add_zone_text("policy-extra.test.", EXTRA)
    dns_server.add_zone_text("policy-clean.test.", CLEAN)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "domains.csv").write_text("domain,client\npolicy-extra.test,Acme\npolicy-clean.test,Other\n",
                                          encoding="utf-8")


def policy(tmp_path: Path, nameserver: str, extra: str = "", name: str = "dnsaudit.toml", checks: str = "mx.*") -> Path:
    path = tmp_path / name
    path.write_text(f'input = "domains.csv"\nnameserver = ["{nameserver}"]\ntimeout = 1\nretries = 0\n'
                    f'checks = "{checks}"\nno-probes = true\nhistory = "history.sqlite"\n{extra}', encoding="utf-8")
    return path


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def findings(out: Path, domain: str, check: str) -> list[dict]:
    (d,) = [d for d in results(out)["domains"] if d["input"]["domain"] == domain]
    return [f for f in d["results"] if f["id"] == check]


def test_dnsaudit_toml_in_the_current_folder_is_read_and_the_command_line_wins(tmp_path, nameserver, capsys):
    policy(tmp_path, nameserver, 'fail-on = "fail"\nformat = "json"\n')
    code, _, err = run(["audit", "--out", "a", "--quiet"], capsys)
    assert code == 1, err  # mx.extra fails on policy-extra.test
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["results.json"]
    assert [d["input"]["domain"] for d in results(tmp_path / "a")["domains"]] == ["policy-extra.test",
                                                                                 "policy-clean.test"]
    code, _, err = run(["audit", "--out", "b", "--quiet", "--fail-on", "never"], capsys)
    assert code == 0, err


def test_no_config_ignores_the_file_and_config_names_another(tmp_path, nameserver, capsys):
    (tmp_path / "dnsaudit.toml").write_text("colour = true\n", encoding="utf-8")
    code, _, err = run(["audit", "--out", "a", "--quiet"], capsys)
    assert code == 2 and err.strip() == "dnsaudit: dnsaudit.toml: unknown key 'colour'"
    code, _, err = run(["audit", "domains.csv", "--no-config", "--nameserver", nameserver, "--checks", "mx.*",
                        "--no-probes", "--no-history", "--timeout", "1", "--out", "b", "--quiet"], capsys)
    assert code == 1, err
    other = policy(tmp_path, nameserver, 'fail-on = "never"\n', name="other.toml")
    code, _, err = run(["audit", "--config", str(other), "--out", "c", "--quiet"], capsys)
    assert code == 0, err
    code, _, err = run(["audit", "--config", str(other), "--no-config"], capsys)
    assert code == 2 and "not both" in err


@pytest.mark.parametrize("text, message", [
    ("fail_on = 'warn'\n", "dnsaudit.toml: unknown key 'fail_on' (did you mean 'fail-on'?)"),
    ("timeout = 'soon'\n", "dnsaudit.toml: timeout: 'soon' is not valid"),
    ("[[waiver]]\ncheck = 'mx.extra'\ndomain = 'a.test'\nreason = 'r'\n", "dnsaudit.toml: waiver 1: 'expires' is"),
])
def test_a_mistake_in_the_file_is_one_line_and_exit_2(tmp_path, capsys, text, message):
    (tmp_path / "dnsaudit.toml").write_text(text, encoding="utf-8")
    code, out, err = run(["audit", "domains.csv"], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and message in err


def test_waived_results_count_against_nothing_until_the_waiver_expires(tmp_path, nameserver, capsys):
    today = dt.date.today()  # here, not at import: a suite running past midnight moved it once
    waiver = ('[[waiver]]\ncheck = "mx.extra"\ndomain = "policy-extra.test"\nreason = "legacy relay until cutover"\n'
              'owner = "mail-team"\nexpires = {date}\n\n'
              '[[waiver]]\ncheck = "mx.extar"\nclient = "Acme"\nreason = "typo"\nexpires = 2099-01-01\n')
    policy(tmp_path, nameserver, 'compare = "last"\n' + waiver.format(date=today + dt.timedelta(days=30)))
    code, _, err = run(["audit", "--out", "first", "--quiet", "--no-config", "--config", "dnsaudit.toml"], capsys)
    assert code == 2  # --config with --no-config
    code, _, err = run(["audit", "--out", "first"], capsys)
    assert code == 0, err  # the first run: nothing to compare with, and the only failure is waived
    assert "warning: dnsaudit.toml, waiver 2: check 'mx.extar' for client 'Acme' matches no domain and check" in err
    (extra,) = findings(tmp_path / "first", "policy-extra.test", "mx.extra")
    assert extra["status"] == "fail" and extra["waiver"]["reason"] == "legacy relay until cutover"
    book = openpyxl.load_workbook(tmp_path / "first" / "report.xlsx", read_only=True)
    rows = [[c.value for c in r] for r in book["Waivers"].iter_rows()]
    assert rows[1][:4] == ["Acme", "policy-extra.test", "mx.extra", "fail"] and rows[1][8] == "waived"
    assert 'id="waived"' in (tmp_path / "first" / "report.html").read_text(encoding="utf-8")

    policy(tmp_path, nameserver, 'compare = "last"\n' + waiver.format(date=today - dt.timedelta(days=1)))
    code, out, err = run(["audit", "--out", "second"], capsys)
    assert code == 5, err  # the waiver ended: the problem counts again, a regression
    assert "policy-extra.test  mx.extra  waived -> fail" in out
    (extra,) = findings(tmp_path / "second", "policy-extra.test", "mx.extra")
    assert extra["message"].endswith(f"(waiver expired on {today - dt.timedelta(days=1)})")

    policy(tmp_path, nameserver, 'compare = "last"\n' + waiver.format(date=today))
    code, out, err = run(["audit", "--out", "third"], capsys)
    assert code == 4, err  # changed, not worse: fail -> waived
    assert "policy-extra.test  mx.extra  fail -> waived" in out


def test_expectations_fill_empty_columns_and_are_checked(tmp_path, nameserver, capsys):
    policy(tmp_path, nameserver, checks="policy.*,mx.microsoft365", extra='no-history = true\n'
                                 '[[expect]]\nclient = "Acme"\ngateway = "mimecast.com"\nspf-forbid = ["sendgrid.net"]\n'
                                 'dmarc-minimum = "quarantine"\nphase = "hybrid"\n')
    code, _, err = run(["audit", "--out", "a", "--quiet"], capsys)
    assert code == 1, err
    (d,) = [d for d in results(tmp_path / "a")["domains"] if d["input"]["domain"] == "policy-extra.test"]
    assert d["input"]["phase"] == "hybrid" and d["input"]["gateway"] == "mimecast.com"
    expectations = [f for f in d["results"] if f["id"] == "policy.expectations"]
    assert [f["status"] for f in expectations] == ["fail", "fail", "fail"]
    assert all('[[expect]] client = "Acme"' in f["message"] for f in expectations)
    other = findings(tmp_path / "a", "policy-clean.test", "policy.expectations")
    assert [f["status"] for f in other] == ["skip"]
    policy(tmp_path, nameserver, 'no-history = true\n')
    code, _, err = run(["audit", "--out", "b", "--quiet", "--checks", "*"], capsys)
    ids = {f["id"] for d in results(tmp_path / "b")["domains"] for f in d["results"]}
    assert "policy.expectations" not in ids  # opt-in: only with [[expect]] tables


class Hook:
    def __init__(self, status: int = 200) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_an_alert_reaches_the_webhook_and_a_failing_one_only_warns(tmp_path, nameserver, capsys):
    good, bad = Hook(), Hook(status=503)
    try:
        policy(tmp_path, nameserver, f'no-history = true\nnotify = ["{good.url}"]\n')
        code, _, err = run(["audit", "--out", "a", "--quiet", "--notify", bad.url, "--notify", good.url], capsys)
    finally:
        good.close()
        bad.close()
    assert code == 1  # unchanged by the failed alert
    assert (tmp_path / "a" / "report.xlsx").is_file() and (tmp_path / "a" / "results.json").is_file()
    (body,) = good.received
    assert "policy-extra.test" in body["message"] and "mx.extra" in body["message"]
    assert f"Reports: {tmp_path / 'a'}" in body["message"]
    assert len(bad.received) == 1
    assert f"warning: notification to json://127.0.0.1:{bad.url.split(':')[2].split('/')[0]}/… failed" in err
    assert "error=503" in err and " - WARNING - " not in err and "/hook" not in err.split("notification to")[1].split("\n")[0]


def test_under_cron_conditions_the_short_cron_line_works(tmp_path, nameserver):
    policy(tmp_path, nameserver, 'fail-on = "blocking"\nquiet = true\nno-history = true\n')
    done = subprocess.run([sys.executable, "-m", "dnsaudit", "audit"], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, timeout=120)
    assert done.returncode == 0, done.stderr  # mx.extra is medium: not blocking
    assert "Traceback" not in done.stderr
