"""Alerts: the text of a notification, and its delivery to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dnsaudit import notify
from dnsaudit.drift import compare
from dnsaudit.model import AuditRun, CheckInfo, DomainEntry, DomainResult, Finding, RunInfo, Severity, Status
from dnsaudit.policy.waivers import Waiver, apply_waivers
from dnsaudit.scoring import score


class Hook:
    """A webhook receiver: records each POST (path, JSON body) and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        received = self.received = []
        answer = status

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                received.append((self.path, json.loads(self.rfile.read(length) or b"null")))
                self.send_response(answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def finding(check: str, status: str, severity=Severity.HIGH, message="m", observed="") -> Finding:
    return Finding(check, check.split(".")[0], severity, Status(status), message, observed=observed)


def run(domains: dict[str, list[Finding]]) -> AuditRun:
    checks = sorted({f.check_id for fs in domains.values() for f in fs})
    info = RunInfo("0", "2026-12-02T01:00:00+00:00", "", "clients.csv", (), tuple(
        CheckInfo(c, c.split(".")[0], c, Severity.HIGH, "", (), "1", "dnsaudit") for c in checks))
    return AuditRun(info, tuple(DomainResult(DomainEntry(d, i + 2), tuple(fs), score(fs))
                                for i, (d, fs) in enumerate(domains.items())))


MESSAGE = notify.Message("dnsaudit: clients.csv regressed (1 domain)", "1 result got worse\nReports: /srv/r")


def test_a_regression_names_what_got_worse_where_and_the_reports():
    before = run({"contoso.test": [finding("mx.microsoft365", "pass", observed="10 a.")],
                  "fabrikam.test": [finding("spf.record", "pass")]})
    after = run({"contoso.test": [finding("mx.microsoft365", "fail", message="MX points elsewhere",
                                          observed="10 b.")],
                 "fabrikam.test": [finding("spf.record", "pass")]})
    drift = compare(before, after, 7, 8)
    message = notify.build_message(after, fail_on="fail", reports="/srv/audit/runs/x", drift=drift)
    assert message.title == "dnsaudit: clients.csv regressed (1 domain)"
    assert message.body.splitlines()[:3] == [
        "1 result got worse since run 7 (2 Dec 2026 01:00 UTC), on 1 domain.",
        "Checks: mx.microsoft365", "Domains: contoso.test"]
    assert "contoso.test  mx.microsoft365  pass -> fail (10 a. -> 10 b.)" in message.body
    assert message.body.endswith("Reports: /srv/audit/runs/x")
    assert notify.build_message(after, fail_on="fail", reports="x", drift=compare(after, after, 8, 9)) is None


def test_without_compare_results_at_fail_on_alert_and_waived_ones_do_not():
    results = run({"contoso.test": [finding("mx.extra", "fail", message="an old MX host"),
                                    finding("dmarc.record", "warn", Severity.LOW)],
                   "fabrikam.test": [finding("mx.extra", "pass")]})
    message = notify.build_message(results, fail_on="fail", reports="r")
    assert "1 domain with results at --fail-on fail." in message.body
    assert "contoso.test  mx.extra  fail: an old MX host" in message.body and "dmarc" not in message.body
    assert notify.build_message(results, fail_on="never", reports="r") is None
    accepted = Waiver("mx.extra", "accepted", dt.date(2027, 1, 1), domain="contoso.test")
    entry, = [d.entry for d in results.domains if d.entry.domain == "contoso.test"]
    waived = run({"contoso.test": list(apply_waivers(entry, results.domains[0].findings, [accepted],
                                                     dt.date(2026, 12, 2)))})
    assert notify.build_message(waived, fail_on="fail", reports="r") is None


def test_many_domains_are_counted_not_all_named():
    results = run({f"d{i}.test": [finding("mx.extra", "fail")] for i in range(14)})
    body = notify.build_message(results, fail_on="fail", reports="r").body
    assert "Domains: d0.test, d1.test" in body and "d9.test and 4 more" in body and "d13.test" not in body
    assert "more lines in the reports" in body


def test_webhook_without_apprise_posts_json_to_the_server():
    with Hook() as hook:
        warnings = notify.send([f"json://127.0.0.1:{hook.port}/hooks/dnsaudit"], MESSAGE, apprise_loader=lambda: None)
    assert warnings == []
    ((path, body),) = hook.received
    assert path == "/hooks/dnsaudit"
    assert body["title"] == MESSAGE.title and body["message"] == MESSAGE.body and body["version"] == "1.0"
    assert body["text"].startswith(MESSAGE.title) and body["type"] == "warning"


def test_webhook_through_apprise():
    import apprise  # the test extra installs it: its path is tested, not skipped

    assert notify._import_apprise() is apprise
    with Hook() as hook:
        warnings = notify.send([f"json://127.0.0.1:{hook.port}/apprise"], MESSAGE)
    assert warnings == []
    ((path, body),) = hook.received
    assert path == "/apprise" and body["title"] == MESSAGE.title and body["message"] == MESSAGE.body


def test_a_plain_http_address_apprise_does_not_know_is_posted_directly():
    with Hook() as hook:
        assert notify.send([f"http://127.0.0.1:{hook.port}/incoming?token=s3cret"], MESSAGE) == []
    ((path, body),) = hook.received
    assert path == "/incoming?token=s3cret" and body["message"] == MESSAGE.body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("with_apprise", [True, False])
def test_a_failing_notification_is_one_warning_line_and_hides_the_secret(with_apprise):
    loader = None if with_apprise else (lambda: None)
    with Hook(status=500) as hook:
        refused = f"json://127.0.0.1:{free_port()}/secret-path"
        answered = f"json://127.0.0.1:{hook.port}/secret-path"
        warnings = notify.send([refused, answered], MESSAGE, timeout=2, apprise_loader=loader)
    assert len(warnings) == 2 and all("\n" not in w and "secret" not in w for w in warnings)
    assert warnings[0].startswith(f"notification to json://127.0.0.1:{refused.split(':')[2].split('/')[0]}/… failed")
    assert len(hook.received) == 1  # the server was really asked


def test_a_service_url_needs_apprise():
    (warning,) = notify.send(["msteams://token/"], MESSAGE, apprise_loader=lambda: None)
    assert "needs Apprise (pip install 'dnsaudit[notify]')" in warning
