"""The pieces rendered ahead (reports.prerender) give every file byte for byte as a writer
rendering each domain itself gives it: the whole run, and each client's cut (some of whose
domains name another client and are rendered by the writer)."""

from __future__ import annotations

import dataclasses
import importlib.util
import zipfile
from pathlib import Path

from dnsaudit import output
from dnsaudit.model import AuditRun, Status
from dnsaudit.registry import load_writers
from dnsaudit.reports.scope import run_for_client, run_for_people
from dnsaudit.reports.split import plan_folders, unicode_names_work
from dnsaudit.reports.view import domain_rows
from dnsaudit.spool import PackedResults


def _bench(name: str):
    """A module of the bench folder (not a package; not put on sys.path, where its reports.py
    would shadow the name ``reports``)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[2] / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


synthetic_run = _bench("html_page").synthetic_run


def _run() -> AuditRun:
    """A packed run whose domains 0 and ``_failing`` name a local path: 0 in its first finding,
    the others in the message of their first fail (the top problem their report row shows)."""
    run = synthetic_run(120)
    domains = list(run.domains)
    places = [(0, 0)] + [(i, next(n for n, f in enumerate(domains[i].findings) if f.status is Status.FAIL))
                         for i in _failing(run)]
    for index, at in places:
        findings = list(domains[index].findings)
        findings[at] = dataclasses.replace(findings[at], message=findings[at].message + " see /home/alice/x.zone")
        domains[index] = dataclasses.replace(domains[index], findings=tuple(findings))
    packed = PackedResults(len(domains))
    for index, domain in enumerate(domains):
        packed.put(index, PackedResults.pack(domain))
    return AuditRun(run.info, packed)


def _failing(run: AuditRun) -> list[int]:
    """The first two domains after the fifth with a fail."""
    return [i for i in range(5, len(run.domains)) if any(f.status is Status.FAIL for f in run.domains[i].findings)][:2]


def _same(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        if rel.suffix == ".xlsx":
            za, zb = zipfile.ZipFile(a / rel), zipfile.ZipFile(b / rel)
            for member in za.namelist():
                if member != "docProps/core.xml":  # its creation time
                    assert za.read(member) == zb.read(member), (rel, member)
        else:
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def _same_as_alone(ahead: Path, writers: list, alone: Path) -> None:
    """The files in ``ahead`` (less clients/index.csv) are those of ``_run()`` rendered with no
    survey with writers: every domain rendered by its writer, the run's and each client's."""
    run = _run()
    people = run_for_people(run)
    rows = sorted(domain_rows(run), key=lambda r: r.index)
    entries = [r.entry for r in rows]
    for writer in writers:
        alone.mkdir(exist_ok=True)
        writer.write(people if writer.per_client else run, alone, "T")
        if not writer.per_client:
            continue
        for folder in plan_folders(entries, unicode_names_work(alone / "clients")):
            where = alone / "clients" / folder.folder
            where.mkdir(parents=True, exist_ok=True)
            writer.write(run_for_client(run, folder.client, folder.indices, entries), where, f"T — {folder.shown}")
    (ahead / "clients" / "index.csv").unlink()
    _same(ahead, alone)


def test_pieces_give_the_files_a_writer_renders_alone(tmp_path):
    writers = [cls() for cls in load_writers([]).writers]
    assert {w.format for w in writers if w.prerender} == {"csv", "json", "fixes", "xlsx", "html"}
    ahead = tmp_path / "ahead"
    ahead.mkdir()
    output.write_reports(_run(), ahead, writers, split_by="client", title="T", processes=2)

    _same_as_alone(ahead, writers, tmp_path / "alone")


def test_results_json_taken_from_the_history_rows_is_the_file_encoding_each_domain_gives(tmp_path):
    """A run with worker processes keeps each domain's history row beside it; results.json takes
    its lines from them where the text allows (ASCII only), else encodes the domain itself."""
    from dnsaudit.reports.json_report import JsonReport
    from dnsaudit.workers import history_row

    run = synthetic_run(30)
    odd = run.domains[1].findings[0]
    domains = list(run.domains)
    domains[1] = dataclasses.replace(domains[1], findings=(  # non-ASCII, a control character, a backslash-u
        dataclasses.replace(odd, message=odd.message + " — Zürich \x01 C:\\users\\x"), *domains[1].findings[1:]))
    packed = PackedResults(len(domains))
    for index, domain in enumerate(domains):
        packed.put(index, PackedResults.pack(domain), row=history_row(domain) if index != 2 else b"")

    (tmp_path / "ahead").mkdir()
    taken = []
    original = JsonReport.render_stored
    JsonReport.render_stored = lambda self, row: taken.append(original(self, row)) or taken[-1]  # type: ignore[method-assign]
    try:
        output.write_reports(AuditRun(run.info, packed), tmp_path / "ahead", [JsonReport()], processes=1)
    finally:
        JsonReport.render_stored = original  # type: ignore[method-assign]
    (tmp_path / "alone").mkdir()
    JsonReport().write(AuditRun(run.info, tuple(domains)), tmp_path / "alone", "T")
    assert (tmp_path / "ahead" / "results.json").read_bytes() == (tmp_path / "alone" / "results.json").read_bytes()
    assert len(taken) == 29 and taken.count(None) == 1  # domain 2 has no row; domain 1's text is encoded again


def test_pieces_surveyed_in_the_workers_give_the_files_a_writer_renders_alone(tmp_path):
    """The workers' survey (reports.ahead), each domain as it finishes, in any order, two
    workers' files, some domains with their history row and one never reported (its worker
    died), gives the files that rendering every domain whole gives, per client too."""
    from dnsaudit.reports.ahead import Ahead
    from dnsaudit.workers import history_row

    writers = [cls() for cls in load_writers([]).writers]
    run = _run()
    entries = [d.entry for d in run.domains]
    ahead = Ahead(writers, run.info.checks, entries, tokens=True)
    surveyors = [ahead.plan.surveyor(0), ahead.plan.surveyor(1)]
    lost = _failing(run)[0]  # its path is in its top problem: the main process surveys it
    order = [*range(1, len(entries), 2), *range(0, len(entries), 2)]  # not the run's order
    found = {}
    for index in order:
        if index != lost:
            domain = run.domains[index]
            found[index] = surveyors[index % 2].add(domain, history_row(domain) if index % 3 else b"")
    for surveyor in surveyors:
        surveyor.close()
    for index, what in found.items():  # the main process receives them after the workers wrote
        ahead.put(index, index % 2, what)
    ahead.worker_done(0), ahead.worker_done(1)  # both said "done": their files are complete
    ahead.install(run)  # the lost domain is surveyed in the pass before the writers, with its pieces
    (tmp_path / "ahead").mkdir()
    output.write_reports(run, tmp_path / "ahead", writers, split_by="client", title="T", processes=2)
    assert not ahead.plan.folder.exists()  # the pieces were read from the open files, their folder gone at once
    shown = [p for p in (tmp_path / "ahead").rglob("*") if p.is_file() and b"/home/alice" in p.read_bytes()]
    assert [p.name for p in shown] == ["results.json"]  # the reports for people name no local path

    _same_as_alone(tmp_path / "ahead", writers, tmp_path / "alone")
