"""--workers: the same results from several processes, and nothing lost when one dies."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from dnsaudit import results_read
from dnsaudit.check import Settings
from dnsaudit.cli import main
from dnsaudit.history_file import unpack_result
from dnsaudit.model import DomainEntry, Status
from dnsaudit.net.dns import parse_nameserver
from dnsaudit.workers import AuditJob, ResolverSetup, auto_workers, run_in_workers

DOMAINS = ["good.test", "hybrid.test", "onprem.test", "missing.test", "nomx.test", "servfail.test",
           "dmarcorg.test", "x.good.test", "refused.test"]


def audit(tmp_path, nameserver, workers: str, capsys) -> tuple[dict, dict]:
    listing = tmp_path / "list.csv"
    listing.write_text("domain,client\n" + "".join(f"{d},C{i % 3}\n" for i, d in enumerate(DOMAINS)))
    out, stats = tmp_path / f"out-{workers}", tmp_path / f"stats-{workers}.json"
    code = main(["audit", str(listing), "--nameserver", nameserver, "--timeout", "5", "--retries", "0",
                 "--out", str(out), "--no-history", "--workers", workers, "--stats", str(stats), "--quiet"])
    capsys.readouterr()
    assert code in (0, 1)
    return json.loads((out / "results.json").read_text()), json.loads(stats.read_text())


def comparable(results: dict) -> dict:
    return {d["input"]["domain"]: (d["score"], [(r["id"], r["status"], r["message"], r["observed"], r["evidence"])
                                                for r in d["results"]]) for d in results["domains"]}


def test_several_workers_give_the_results_of_one_process(tmp_path, nameserver, capsys):
    one, one_stats = audit(tmp_path, nameserver, "1", capsys)
    three, three_stats = audit(tmp_path, nameserver, "3", capsys)
    assert [d["input"]["domain"] for d in three["domains"]] == DOMAINS  # input order kept
    assert comparable(three) == comparable(one)
    assert len(three_stats["peak_rss_mb_workers"]) == 3 and one_stats["peak_rss_mb_workers"] == []
    assert three_stats["peak_rss_mb"] > three_stats["peak_rss_mb_main"]
    # Shared questions are asked once per worker: more queries, but no question twice in one worker.
    assert one_stats["dns"]["queries_sent"] <= three_stats["dns"]["queries_sent"] <= 3 * one_stats["dns"]["queries_sent"]
    assert three["run"]["dns_queries"] == three_stats["dns"]["queries_sent"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork on Linux only")
def test_spawned_workers_give_the_results_of_forked_ones(tmp_path, nameserver, capsys, monkeypatch):
    """Linux forks the workers, inside the main process's running event loop (the CLI's);
    macOS and Windows spawn them. Both ways give the same results as one process, so the
    spawned path is tested here too."""
    from dnsaudit import workers

    assert workers.START_METHOD == "fork"
    for name in ("one", "forked", "spawned"):
        (tmp_path / name).mkdir()
    one, _ = audit(tmp_path / "one", nameserver, "1", capsys)
    forked, forked_stats = audit(tmp_path / "forked", nameserver, "2", capsys)
    monkeypatch.setattr(workers, "START_METHOD", "spawn")
    spawned, spawned_stats = audit(tmp_path / "spawned", nameserver, "2", capsys)
    assert comparable(forked) == comparable(one) == comparable(spawned)
    assert len(forked_stats["peak_rss_mb_workers"]) == len(spawned_stats["peak_rss_mb_workers"]) == 2


def test_auto_is_one_process_for_short_lists():
    assert auto_workers(10) == 1 and auto_workers(499) == 1
    assert 1 <= auto_workers(10_000) <= 4


CRASHING_CHECK = '''
    import asyncio
    import os

    from dnsaudit.check import Check


    class Crash(Check):
        """Kills its process on boom.test (a worker dying mid-run), and on slowboom.test a
        second after the worker's other domains finished."""

        id = "test.crash"
        title = "crash"
        area = "test"

        async def run(self, ctx):
            if ctx.entry.domain == "slowboom.test":
                await asyncio.sleep(1)
                os._exit(1)
            if ctx.entry.domain == "boom.test":
                os._exit(1)
            return [self.passed("fine")]
'''


def test_a_worker_that_dies_leaves_its_domains_could_not_test(tmp_path, nameserver, monkeypatch):
    (tmp_path / "crashing_check.py").write_text(textwrap.dedent(CRASHING_CHECK))
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get this sys.path too
    from crashing_check import Crash

    entries = [DomainEntry(domain=d, row=i + 2) for i, d in enumerate(["a.test", "boom.test", "c.test", "d.test"])]
    job = AuditJob((Crash,), Settings(), 4, resolver=ResolverSetup((parse_nameserver(nameserver),), timeout=1))
    seen = []
    results, report = run_in_workers(job, entries, 2, lambda domain, row: seen.append((domain, row)))
    results = results.unpacked()
    by_domain = {r.entry.domain: r for r in results}
    assert [r.entry.domain for r in results] == ["a.test", "boom.test", "c.test", "d.test"]
    lost = by_domain["boom.test"].findings[0]
    assert lost.status is Status.ERROR and "worker process" in lost.message
    assert all(by_domain[d].findings[0].status is Status.PASS for d in ("a.test", "c.test"))  # the other worker
    assert len(report.peak_rss_mb) == 1  # only the surviving worker finished
    assert report.failures == ["a worker process stopped unexpectedly (see above for why, if it said)"]
    assert {domain for domain, _json in seen} >= {"a.test", "c.test"}
    assert all(json.loads(unpack_result(row))["input"]["domain"] == domain for domain, row in seen)
    sys.modules.pop("crashing_check", None)


def test_uvloop_and_asyncio_give_the_same_results(tmp_path, nameserver, capsys, monkeypatch):
    pytest.importorskip("uvloop", reason="uvloop is not installed for this platform (pyproject's marker)")
    """The audit runs on uvloop where it is installed (it is a dependency on Linux); asyncio's
    own loop, chosen with DNSAUDIT_EVENT_LOOP, must give the same results, in one process and
    in workers."""
    for workers in ("1", "2"):
        uv, asyncio_only = tmp_path / f"uvloop-{workers}", tmp_path / f"asyncio-{workers}"
        uv.mkdir(), asyncio_only.mkdir()
        monkeypatch.delenv("DNSAUDIT_EVENT_LOOP", raising=False)
        fast, fast_stats = audit(uv, nameserver, workers, capsys)
        monkeypatch.setenv("DNSAUDIT_EVENT_LOOP", "asyncio")
        plain, plain_stats = audit(asyncio_only, nameserver, workers, capsys)
        assert (fast_stats["event_loop"], plain_stats["event_loop"]) == ("uvloop", "asyncio")
        assert comparable(fast) == comparable(plain)
        assert len(fast["domains"]) == len(DOMAINS)


def test_a_bad_event_loop_value_is_a_usage_error(tmp_path, capsys, monkeypatch):
    listing = tmp_path / "list.csv"
    listing.write_text("domain\ngood.test\n")
    monkeypatch.setenv("DNSAUDIT_EVENT_LOOP", "tokio")
    assert main(["audit", str(listing), "--nameserver", "127.0.0.1:9", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "DNSAUDIT_EVENT_LOOP" in err and "'tokio'" in err and "uvloop" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("value", ["0", "many"])
def test_bad_workers_value_is_a_usage_error(tmp_path, value, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["audit", "x.csv", "--workers", value])
    assert stop.value.code == 2
    assert "--workers" in capsys.readouterr().err


def test_reports_written_side_by_side_equal_those_written_in_turn(tmp_path, nameserver, capsys):
    import zipfile

    from dnsaudit import output
    from dnsaudit.registry import load_writers

    results, _stats = audit(tmp_path, nameserver, "1", capsys)
    run = results_read.run_from_dict(results)
    writers = [cls() for cls in load_writers([]).writers]
    folders = {n: tmp_path / f"reports-{n}" for n in (1, 2)}
    written = {}
    for processes, folder in folders.items():
        folder.mkdir()
        written[processes] = output.write_reports(run, folder, writers, split_by="client", processes=processes)
    assert [p.relative_to(folders[2]) for p in written[2]] == [p.relative_to(folders[1]) for p in written[1]]
    assert len(written[2].child_private_mb) == 2  # both groups were written by forked children
    assert written[1].child_private_mb == ()  # one process: nothing forked
    for path in written[1]:
        other = folders[2] / path.relative_to(folders[1])
        if path.suffix == ".xlsx":  # the archive holds a creation time: compare the sheets
            with zipfile.ZipFile(path) as one, zipfile.ZipFile(other) as two:
                sheets = [n for n in one.namelist() if n.startswith("xl/worksheets/")]
                assert sheets and all(one.read(n) == two.read(n) for n in sheets)
        elif path.is_dir():  # fixes/: a file per domain
            assert sorted(p.name for p in path.iterdir()) == sorted(p.name for p in other.iterdir())
            assert all((other / p.name).read_bytes() == p.read_bytes() for p in path.iterdir())
        elif path.suffix != ".html":  # the page says when it was made
            assert path.read_bytes() == other.read_bytes(), path.name


def test_a_failing_report_writer_in_a_child_is_an_error(tmp_path):
    from dnsaudit import output

    def boom():
        raise ValueError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        output._in_forked_processes([list, boom], [1, 1], 2)


def test_packed_results_read_back_as_they_were(tmp_path, nameserver, capsys):
    from dnsaudit.spool import PackedResults

    results, _stats = audit(tmp_path, nameserver, "1", capsys)
    domains = results_read.run_from_dict(results).domains
    packed = PackedResults(len(domains))
    for index in reversed(range(len(domains))):  # domains finish in any order
        assert not packed.filled(index)
        packed.put(index, PackedResults.pack(domains[index]))
    assert len(packed) == len(domains) and packed.unpacked() == domains and packed[2] == domains[2]
    assert packed[1:3] == domains[1:3] and packed[-1] == domains[-1]
    assert packed.nbytes < len(json.dumps(results)) / 3  # what packing is for
    with pytest.raises(IndexError):
        PackedResults(2)[0]  # never stored


def test_results_packed_with_each_workers_dictionary_read_back_as_they_were():
    import random
    from pathlib import Path

    from dnsaudit.spool import PackedResults, Packer

    golden = Path(__file__).resolve().parents[1] / "checks" / "golden_results.json"
    domains = []
    for row, case in enumerate(json.loads(golden.read_text(encoding="utf-8")), start=2):  # 83 unlike domains
        case["input"]["row"] = row
        domains.append(results_read.domain_from_dict(case))
    order = list(range(len(domains)))
    random.Random(5).shuffle(order)  # domains finish in any order, from two workers
    spool, packers, numbers = PackedResults(len(domains)), [Packer(), Packer()], [0, 0]
    made = []
    for index in order:
        worker = index % 2
        packed, with_dictionary, dictionary = packers[worker].pack(domains[index])
        if dictionary:
            numbers[worker] = spool.add_dictionary(dictionary)
            made.append(worker)
        spool.put(index, packed, numbers[worker] if with_dictionary else 0)
    assert sorted(made) == [0, 1]  # one dictionary each, once
    assert spool.unpacked() == tuple(domains) and spool[7] == domains[7]
    plain = sum(len(PackedResults.pack(d)) for d in domains)
    assert spool.nbytes < plain / 2  # what the dictionary is for


def test_after_the_reports_no_domain_is_decoded_again(tmp_path, nameserver, capsys, monkeypatch):
    """--quiet's lines and the exit code come from the report rows: with worker processes (the
    results packed, the reports written in forked processes) this process decodes no domain."""
    from dnsaudit.spool import PackedResults

    decoded = []
    unpack = PackedResults.unpack
    monkeypatch.setattr(PackedResults, "unpack", lambda self, *a: decoded.append(1) or unpack(self, *a))
    listing = tmp_path / "list.csv"
    listing.write_text("domain\n" + "".join(f"{d}\n" for d in DOMAINS))
    code = main(["audit", str(listing), "--nameserver", nameserver, "--timeout", "5", "--retries", "0",
                 "--out", str(tmp_path / "out"), "--no-history", "--workers", "2", "--quiet", "--fail-on", "warn"])
    printed = capsys.readouterr().out.splitlines()
    assert code == 1 and decoded == []
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    expected = [f"{d['input']['domain']}  {r['id']}  {r['status']}: {r['message']}"
                for d in results["domains"] for r in d["results"] if r["status"] in ("warn", "fail")]
    assert printed == expected and len(expected) > len(DOMAINS)


def test_the_workers_survey_the_domains_for_the_reports_in_the_audits_tail(tmp_path, nameserver, dns_server, capsys,
                                                                          monkeypatch):
    """With worker processes the reports' survey (reports.ahead) is done in the workers while
    the last domains wait (here on a timeout), and by the workers that are done while another
    still audits: the pass after the audit covers only the domain that finished last, and the
    reports read as those of one process (findings.csv, the fixes and every client's copy
    carry no run metadata)."""
    from dnsaudit.reports import scope

    domains = ["timeout.test", *DOMAINS]  # with 3 workers, the first one audits timeout, onprem, servfail, refused
    listing = tmp_path / "list.csv"
    listing.write_text("domain,client\n" + "".join(f"{d},C{i % 3}\n" for i, d in enumerate(domains)))

    def audit_to(out: str, workers: str) -> Path:
        code = main(["audit", str(listing), "--nameserver", nameserver, "--timeout", "1", "--retries", "0",
                     "--out", str(tmp_path / out), "--no-history", "--workers", workers, "--split-by", "client",
                     "--quiet"])
        capsys.readouterr()
        assert code in (0, 1)
        return tmp_path / out

    dns_server.set_fault("timeout.test", "timeout")
    try:
        one = audit_to("one", "1")
    finally:
        dns_server.set_fault("timeout.test", None)
    dns_server.set_fault("timeout.test", "timeout")
    after = tmp_path / "surveyed-after"  # the pass runs in forked processes: they write what they surveyed
    survey_slice = scope._survey_slice

    def counted(run, rows, tokens, ahead, folder, todo, base, start, stop):
        with after.open("a") as out:
            out.write("".join(f"{run.domains[i].entry.domain}\n" for i in todo[start:stop]))
        return survey_slice(run, rows, tokens, ahead, folder, todo, base, start, stop)

    monkeypatch.setattr(scope, "_survey_slice", counted)
    try:
        three = audit_to("three", "3")
    finally:
        dns_server.set_fault("timeout.test", None)  # the server is the session's
    surveyed_after = after.read_text().split() if after.exists() else []
    # timeout.test finished last in its worker, after the others had been surveyed there meanwhile;
    # the two other workers, done long before, surveyed all of theirs while it waited
    assert surveyed_after == ["timeout.test"], surveyed_after
    compared = [p.relative_to(one) for p in one.rglob("*") if p.is_file() and (p.suffix == ".csv" or "fixes" in p.parts)]
    assert len([p for p in compared if p.name == "findings.csv"]) == 4  # the run's and each client's
    assert any("fixes" in p.parts for p in compared)
    for rel in compared:
        assert (three / rel).read_bytes() == (one / rel).read_bytes(), rel


def test_what_a_worker_that_dies_surveyed_is_surveyed_again(tmp_path, nameserver, monkeypatch):
    """A worker that surveyed some of its domains in the audit's tail and then died never
    flushed its file of pieces: what it said it surveyed is not used, and the pass after the
    audit surveys those domains, so every domain has its rows in the reports."""
    from dnsaudit import output
    from dnsaudit.model import AuditRun, RunInfo
    from dnsaudit.reports.ahead import Ahead
    from dnsaudit.reports.csv_report import CsvReport

    (tmp_path / "crashing_check.py").write_text(textwrap.dedent(CRASHING_CHECK))
    monkeypatch.syspath_prepend(str(tmp_path))  # spawned workers get this sys.path too
    from crashing_check import Crash

    names = ["a.test", "slowboom.test", "c.test", "d.test", "e.test", "f.test"]  # the second worker: slowboom, d, f
    entries = [DomainEntry(domain=d, row=i + 2) for i, d in enumerate(names)]
    job = AuditJob((Crash,), Settings(), 8, resolver=ResolverSetup((parse_nameserver(nameserver),), timeout=1))
    ahead = Ahead([CsvReport()], (), entries, tokens=False)
    try:
        results, report = run_in_workers(job, entries, 2, lambda domain, row: None, ahead=ahead)
        assert report.failures  # the second worker died
        run = AuditRun(RunInfo("", "", "", "", (), ()), results)
        ahead.install(run)
        (tmp_path / "out").mkdir()
        output.write_reports(run, tmp_path / "out", [CsvReport()], processes=1)
    finally:
        ahead.discard()
    text = (tmp_path / "out" / "findings.csv").read_text(encoding="utf-8-sig")
    assert all(f",{name}," in text for name in names), text
    sys.modules.pop("crashing_check", None)
