"""The audit as a library call: ``pipeline.run_audit(AuditConfig(...))``, no argparse, nothing printed."""

from __future__ import annotations

import dataclasses
import gc
import json
import pickle
import socket
from pathlib import Path

import pytest

from dnsaudit.cli import main
from dnsaudit.config import AuditConfig, CheckSelection, DnsConfig, HistoryConfig, ProbeConfig, ReportConfig
from dnsaudit.net.dns import Nameserver
from dnsaudit.pipeline import AuditFailed, Failure, Listener, run_audit
from dnsaudit.registry import load_writers


class Recorder(Listener):
    def __init__(self) -> None:
        self.events: list[tuple] = []

    def warning(self, message: str) -> None:
        self.events.append(("warning", message))

    def input_issue(self, issue) -> None:
        self.events.append(("issue", issue.row))

    def starting(self, domains: int, checks: int, source: str) -> None:
        self.events.append(("starting", domains, source))

    def domain_done(self, done: int, total: int) -> None:
        self.events.append(("done", done, total))


def listing(tmp_path: Path) -> Path:
    path = tmp_path / "domains.csv"
    path.write_text("domain,client\ngood.test,Contoso\nnot a domain,Contoso\nonprem.test,Fabrikam\n", encoding="utf-8")
    return path


def config(tmp_path: Path, port: int, **parts) -> AuditConfig:
    fields = dict(
        dns=DnsConfig(nameservers=(Nameserver("127.0.0.1", port),), timeout=1.0, retries=0),
        probes=ProbeConfig(enabled=False),
        reports=ReportConfig(out_dir=tmp_path / "out", formats=("json", "csv")),
        history=HistoryConfig(path=tmp_path / "history.sqlite"),
    )
    return AuditConfig(listing(tmp_path), **{**fields, **parts})


def comparable(results_json: Path) -> list:
    data = json.loads(results_json.read_text(encoding="utf-8"))
    return [(d["input"], d["score"], d["verdict"], [(r["id"], r["status"], r["message"]) for r in d["results"]])
            for d in data["domains"]]


def test_a_library_caller_audits_without_argparse_and_nothing_is_printed(tmp_path, dns_server, capsys):
    heard = Recorder()
    outcome = run_audit(config(tmp_path, dns_server.port), heard)
    assert capsys.readouterr() == ("", "")  # the pipeline prints nothing; the listener heard it all
    assert {d.entry.domain: d.score.verdict.value for d in outcome.run.domains} == {
        "good.test": "ready", "onprem.test": "blocked"}
    assert outcome.out_dir == tmp_path / "out" and outcome.run_id == 1 and outcome.input_errors == 1
    assert {p.name for p in outcome.written} == {"results.json", "findings.csv"}
    assert outcome.dns_questions > 0 and outcome.stats["domains"] == 2 and outcome.drift is None
    assert heard.events[0] == ("issue", 3)
    assert heard.events[1] == ("starting", 2, f"127.0.0.1:{dns_server.port}")
    assert heard.events[2:] == [("done", 1, 2), ("done", 2, 2)]
    # The same audit through the command line gives the same results.
    cli_out = tmp_path / "cli-out"
    code = main(["audit", str(listing(tmp_path)), "--nameserver", f"127.0.0.1:{dns_server.port}", "--timeout", "1",
                 "--retries", "0", "--no-probes", "--format", "json", "--out", str(cli_out), "--no-history"])
    assert code == 2  # the bad row
    assert comparable(cli_out / "results.json") == comparable(tmp_path / "out" / "results.json")


def test_a_second_run_compares_with_the_first(tmp_path, dns_server):
    first = run_audit(config(tmp_path, dns_server.port))
    # Paths may be given as strings, as a caller writes them.
    again = config(tmp_path, dns_server.port, reports=ReportConfig(out_dir=str(tmp_path / "again"), formats=("json",),
                                                                   stats_file=str(tmp_path / "stats.json")),
                   history=HistoryConfig(path=str(tmp_path / "history.sqlite"), compare="last"))
    assert again.reports.out_dir == tmp_path / "again" and again.history.path == tmp_path / "history.sqlite"
    second = run_audit(again)
    assert second.run_id == first.run_id + 1
    assert second.drift is not None and not second.drift.changed
    assert (tmp_path / "again" / "drift.json").is_file() and (tmp_path / "stats.json").is_file()


def test_an_unusable_audit_raises_before_any_query(tmp_path, dns_server):
    empty = tmp_path / "empty.csv"
    empty.write_text("domain\nnot a domain\n", encoding="utf-8")
    with pytest.raises(AuditFailed) as failed:
        run_audit(dataclasses.replace(config(tmp_path, dns_server.port), input_file=empty))
    assert failed.value.failure is Failure.USAGE and "no domain in" in str(failed.value)
    with pytest.raises(AuditFailed) as failed:
        run_audit(config(tmp_path, dns_server.port, checks=CheckSelection(include=("no.such.*",))))
    assert failed.value.failure is Failure.USAGE
    assert not (tmp_path / "out").exists() and not (tmp_path / "history.sqlite").exists()


def test_no_dns_answer_is_a_failure_and_leaves_no_folder(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:  # bound, never answers
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        heard = Recorder()
        with pytest.raises(AuditFailed) as failed:
            run_audit(config(tmp_path, port, dns=DnsConfig(nameservers=(Nameserver("127.0.0.1", port),),
                                                           timeout=0.2, retries=0)), heard)
    assert failed.value.failure is Failure.NO_DNS and "no DNS server answered" in str(failed.value)
    assert not (tmp_path / "out").exists()


def test_the_config_is_frozen_and_pickles_with_every_part_set(tmp_path):
    every = AuditConfig(
        tmp_path / "in.xlsx", sheet="Domains",
        dns=DnsConfig(nameservers=(Nameserver("192.0.2.1", 5353), Nameserver("2001:db8::1")), timeout=2.5,
                      retries=3, zone_files=(tmp_path / "plan.zone",), offline=False, compare_live=True),
        probes=ProbeConfig(enabled=True, allow_private=True, ca_file="ca.pem", https_port=8443, http_port=8080,
                           smtp_port=2525, timeout=4.0),
        checks=CheckSelection(include=("mx.*",), skip=("mx.extra",), timeout=9.0, strict_plugins=True),
        reports=ReportConfig(out_dir=tmp_path / "out", formats=("xlsx", "html"), split_by="client", title="Acme",
                             stats_file=tmp_path / "stats.json"),
        history=HistoryConfig(enabled=True, path=tmp_path / "h.sqlite", compare="baseline", keep=30),
        concurrency=7, workers=2, fail_on="blocking",
    )
    assert pickle.loads(pickle.dumps(every)) == every
    with pytest.raises(dataclasses.FrozenInstanceError):
        every.dns.timeout = 1.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="fail_on"):
        AuditConfig("in.csv", fail_on="sometimes")


def test_library_calls_leave_the_garbage_collector_alone(tmp_path, dns_server):
    """Only dnsaudit's own process entry points (CLI, workers, forked writers) tune the collector."""
    from dnsaudit import output

    previous = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    try:
        outcome = run_audit(config(tmp_path, dns_server.port))
        (tmp_path / "again").mkdir()
        written = output.write_reports(outcome.run, tmp_path / "again", [w() for w in load_writers(["json", "csv"]).writers],
                                       processes=2)
        assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
        assert len(written.child_private_mb) == 2  # the writers did run in forked children
    finally:
        gc.set_threshold(*previous)
