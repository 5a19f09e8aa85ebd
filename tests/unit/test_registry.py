"""Plugin loading: built-ins through entry points, third-party plugins validated and isolated."""

from __future__ import annotations

import asyncio
import importlib
import sys
import textwrap
from importlib.metadata import EntryPoint

import pytest

from dnsaudit import __version__
from dnsaudit.check import Check, Settings
from dnsaudit.model import DomainEntry, Severity, Status
from dnsaudit.registry import (
    CHECK_GROUP,
    REPORT_GROUP,
    Found,
    PluginError,
    PluginKind,
    Source,
    find,
    for_run,
    load,
    load_checks,
    load_group,
    load_writers,
    select,
    validate_check,
    validate_writer,
)
from dnsaudit.reports.base import ReportWriter
from dnsaudit.testing import run_check

BUILT_IN = {"domain.exists", "mx.present", "mx.null", "mx.microsoft365", "mx.targets", "mx.extra",
            "mx.verification", "autodiscover.cname", "autodiscover.srv"}


def test_built_in_checks_load_through_entry_points():
    loaded = load_checks(strict=True)
    assert {c.id for c in loaded.checks} >= BUILT_IN
    assert loaded.warnings == []
    for cls in loaded.checks:
        assert cls.title() and cls.documentation(), cls.id


def test_no_top_level_checks_or_reports_package_is_installed():
    for name in ("checks", "reports"):
        assert importlib.util.find_spec(name) is None, name


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        (["mx.*"], [], {"mx.present", "mx.null", "mx.microsoft365", "mx.targets", "mx.extra", "mx.verification"}),
        (["*.srv", "domain.exists"], [], {"autodiscover.srv", "domain.exists"}),
        ([], ["mx.*", "autodiscover.*"], {"domain.exists"}),
    ],
)
def test_select_by_glob(include, exclude, expected):
    checks = [c for c in load_checks().checks if c.id in BUILT_IN]
    assert {c.id for c in select(checks, include, exclude)} == expected


def test_a_pattern_matching_nothing_is_an_error():
    with pytest.raises(PluginError, match=r"no check matches 'mx\.prsent'"):
        select(load_checks().checks, ["mx.prsent"], [])


class Good(Check):
    """A fine check."""

    id = "acme.good"
    area = "acme"
    severity = Severity.LOW

    async def run(self, ctx):
        return [self.passed("fine")]


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"id": "acme.other"}, "entry-point name must equal the id"),
        ({"id": "Acme.Good"}, "entry-point name must equal the id"),
        ({"area": "other"}, "area"),
        ({"severity": "high"}, "Severity"),
        ({"__doc__": None}, "docstring"),
    ],
)
def test_validate_check_rejects(attrs, message):
    cls = type("Bad", (Good,), dict(attrs))
    with pytest.raises(PluginError, match=message):
        validate_check(cls, "acme.good")


def test_validate_check_rejects_non_checks_and_sync_run():
    with pytest.raises(PluginError, match="subclass"):
        validate_check(object, "acme.good")

    class Sync(Good):
        """Sync."""

        def run(self, ctx):  # type: ignore[override]
            return []

    with pytest.raises(PluginError, match="async def run"):
        validate_check(Sync, "acme.good")


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """Install a fake third-party distribution with one good and one broken check."""
    (tmp_path / "acme_checks.py").write_text(textwrap.dedent('''
        from dnsaudit.check import Check
        from dnsaudit.model import Severity

        class Banner(Check):
            """Acme banner check."""
            id = "acme.banner"
            area = "acme"
            severity = Severity.LOW
            async def run(self, ctx):
                return [self.passed("banner ok")]
        '''))
    dist = tmp_path / "acme_checks-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-checks\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[dnsaudit.checks]\nacme.banner = acme_checks:Banner\nacme.broken = acme_checks:DoesNotExist\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("acme_checks", None)


def test_third_party_plugins_load_and_a_broken_one_is_a_warning(third_party):
    loaded = load_checks()
    ids = {c.id for c in loaded.checks}
    assert "acme.banner" in ids and "acme.broken" not in ids
    (warning,) = loaded.warnings
    assert "acme.broken" in warning and "acme-checks" in warning
    with pytest.raises(PluginError, match=r"acme\.broken"):
        load_checks(strict=True)


def test_finding_plugins_imports_nothing(third_party):
    found = {f.name: f for f in find(PluginKind.CHECK)}
    assert found["acme.banner"].target == "acme_checks:Banner"
    assert found["acme.banner"].source == Source("acme-checks", "1.0")
    assert found["domain.exists"].source == Source("dnsaudit", __version__)
    assert "acme_checks" not in sys.modules
    assert load(found["acme.banner"]).__name__ == "Banner" and "acme_checks" in sys.modules
    with pytest.raises(PluginError, match="acme_checks:DoesNotExist cannot be imported: AttributeError"):
        load(found["acme.broken"])


def test_provenance_is_kept_by_the_registry_not_written_on_the_class(third_party):
    loaded = load_checks()
    banner = next(c for c in loaded.checks if c.id == "acme.banner")
    before = dict(vars(banner))
    again = load_checks()
    assert loaded.source(banner) == Source("acme-checks", "1.0") and str(loaded.source(banner)) == "acme-checks 1.0"
    assert loaded.info(banner).source == "acme-checks"
    exists = next(c for c in loaded.checks if c.id == "domain.exists")
    assert loaded.info(exists).source == "dnsaudit" and loaded.source(exists).built_in
    assert dict(vars(banner)) == before == dict(vars(next(c for c in again.checks if c.id == "acme.banner")))
    assert not any(name.startswith("_source") for cls in loaded.checks for name in vars(cls))


def _found(kind, name, target, distribution):
    group = CHECK_GROUP if kind is PluginKind.CHECK else REPORT_GROUP
    return Found(kind, name, target, Source(distribution, "9"), EntryPoint(name, target, group))


def test_a_broken_built_in_fails_loudly_whatever_strict_says():
    found = [_found(PluginKind.CHECK, "mx.gone", "dnsaudit.checks.mx:NoSuchCheck", "dnsaudit")]
    with pytest.raises(PluginError, match=r"check plugin 'mx\.gone' from dnsaudit 9 cannot be used"):
        load_group(PluginKind.CHECK, validate_check, found=found)
    found = [_found(PluginKind.REPORT, "json", "dnsaudit.reports.json_report:Nope", "dnsaudit")]
    with pytest.raises(PluginError, match="report format 'json' from dnsaudit 9 cannot be used"):
        load_group(PluginKind.REPORT, validate_writer, found=found)


def test_a_name_registered_twice_is_broken_the_second_time():
    found = [_found(PluginKind.REPORT, "json", "dnsaudit.reports.json_report:JsonReport", "dnsaudit"),
             _found(PluginKind.REPORT, "json", "dnsaudit.reports.json_report:JsonReport", "acme-json")]
    loaded = load_group(PluginKind.REPORT, validate_writer, found=found)
    assert [p.source.distribution for p in loaded.plugins] == ["dnsaudit"]
    assert loaded.warnings == ["report format 'json' from acme-json 9 cannot be used: report format 'json' is "
                               "registered twice (dnsaudit and acme-json)"]


def test_opt_in_checks_run_only_when_the_run_opts_in():
    loaded = load_checks().checks
    selected = select(loaded, ["mx.present", "zone.*"], [])
    assert [c.id for c in for_run(loaded, selected, conditions=())] == ["mx.present"]
    assert [c.id for c in for_run(loaded, select(loaded, ["mx.present"], []), conditions={"compare-live"})] == [
        "mx.present", "zone.changes"]
    assert [c.id for c in for_run(loaded, select(loaded, ["mx.present"], []), conditions={"expectations"})] == [
        "mx.present", "policy.expectations"]
    assert {c.id: c.opt_in for c in loaded if c.opt_in} == {"zone.changes": "compare-live",
                                                            "policy.expectations": "expectations"}


def test_an_opt_in_condition_the_core_does_not_know_is_a_broken_plugin():
    from dnsaudit.registry import validate_check

    class Odd(Check):
        """Runs when the moon is full."""

        id = "odd.moon"
        area = "odd"
        opt_in = "full-moon"

        async def run(self, ctx):
            return [self.passed("fine")]

    with pytest.raises(PluginError, match="opt_in 'full-moon'; use \"\" or one of: compare-live, expectations"):
        validate_check(Odd, "odd.moon")


class GoodWriter(ReportWriter):
    format = "acme"
    filename = "acme.txt"

    def render(self, run, title):
        return b"acme"


@pytest.mark.parametrize(
    ("attrs", "message"),
    [
        ({"format": "other"}, "entry-point name must equal the format"),
        ({"filename": ""}, "plain file name"),
        ({"filename": "../escape.txt"}, "plain file name"),
        ({"cost": 0}, "positive whole number"),
        ({"cost": "4"}, "positive whole number"),
        ({"per_client": "no"}, "per_client"),
    ],
)
def test_validate_writer_rejects(attrs, message):
    cls = type("BadWriter", (GoodWriter,), dict(attrs))
    with pytest.raises(PluginError, match=message):
        validate_writer(cls, "acme")


def test_validate_writer_rejects_non_writers_and_accepts_a_good_one():
    with pytest.raises(PluginError, match="is not a report writer"):
        validate_writer(object, "acme")
    with pytest.raises(PluginError, match="is not a report writer"):
        validate_writer(type("NoWrite", (), {"format": "acme", "filename": "a", "cost": 1, "per_client": True}),
                        "acme")
    assert validate_writer(GoodWriter, "acme") is GoodWriter


def test_built_in_writers_declare_what_the_core_needs_to_know():
    writers = {cls.format: cls for cls in load_writers([], strict=True).writers}
    assert {f: (w.cost, w.per_client) for f, w in writers.items()} == {
        "csv": (1, True), "html": (2, True), "json": (1, False), "xlsx": (6, True), "matrix": (1, True),
        "fixes": (1, True)}


@pytest.fixture
def third_party_writers(tmp_path, monkeypatch):
    """A fake third-party distribution with a good writer and one that fails to import."""
    (tmp_path / "acme_writers.py").write_text(textwrap.dedent('''
        from dnsaudit.reports.base import ReportWriter

        class Plain(ReportWriter):
            format = "plain"
            filename = "plain.txt"
            cost = 1
            per_client = False
            def render(self, run, title):
                return title.encode()
        '''))
    (tmp_path / "acme_broken_writer.py").write_text("raise ImportError('needs libacme')\n")
    dist = tmp_path / "acme_writers-2.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-writers\nVersion: 2.1\n")
    (dist / "entry_points.txt").write_text(
        "[dnsaudit.reports]\nplain = acme_writers:Plain\nbroken = acme_broken_writer:Broken\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    for name in ("acme_writers", "acme_broken_writer"):
        sys.modules.pop(name, None)


def test_a_broken_third_party_writer_is_a_warning_not_silence(third_party_writers):
    loaded = load_writers([])
    assert {cls.format for cls in loaded.writers} == {"csv", "html", "json", "xlsx", "matrix", "fixes", "plain"}
    assert loaded.warnings == ["report format 'broken' from acme-writers 2.1 cannot be used: acme_broken_writer:Broken "
                               "cannot be imported: ImportError: needs libacme"]
    assert str(loaded.source(next(c for c in loaded.writers if c.format == "plain"))) == "acme-writers 2.1"
    with pytest.raises(PluginError, match=r"report format 'broken' from acme-writers 2\.1"):
        load_writers([], strict=True)
    with pytest.raises(PluginError, match="'broken'"):
        load_writers(["broken"])  # asked for by name: the user would miss the report
    assert [cls.format for cls in load_writers(["plain", "json"]).writers] == ["json", "plain"]
    with pytest.raises(PluginError, match="unknown report format pdf"):
        load_writers(["pdf"])


class Raises(Good):
    """Raises."""

    async def run(self, ctx):
        raise RuntimeError("boom")


class Hangs(Good):
    """Hangs."""

    async def run(self, ctx):
        await asyncio.sleep(10)


class Empty(Good):
    """Returns nothing."""

    async def run(self, ctx):
        return []


class Foreign(Good):
    """Returns another check's finding."""

    async def run(self, ctx):
        return [Good().passed("x").__class__("mx.present", "mx", Severity.LOW, Status.PASS, "x")]


@pytest.mark.parametrize(("cls", "reason", "text"), [(Raises, "check-bug", "RuntimeError: boom"),
                                                     (Hangs, "timeout", "longer than"),
                                                     (Empty, "check-bug", "no findings"),
                                                     (Foreign, "check-bug", "another check")])
def test_a_misbehaving_check_yields_an_error_for_itself_only(cls, reason, text):
    (finding,) = run_check(cls, entry="example.test", settings=Settings(check_timeout=0.2), isolate=True)
    assert finding.status is Status.ERROR and finding.reason.value == reason and text in finding.message
    assert finding.check_id == "acme.good"


def test_the_cli_warns_about_a_broken_third_party_writer_and_writes_the_rest(third_party_writers, tmp_path, capsys):
    import json

    from dnsaudit.cli import main
    from dnsaudit.model import AuditRun, RunInfo

    results = tmp_path / "results.json"
    results.write_text(json.dumps(AuditRun(RunInfo("0", "2026-01-01T00:00:00+00:00", "", "in.csv", (), ()),
                                           ()).to_dict()))
    assert main(["report", str(results), "--out", str(tmp_path / "out"), "--split-by", "client"]) == 0
    captured = capsys.readouterr()
    assert "warning: report format 'broken' from acme-writers 2.1 cannot be used" in captured.err
    assert {p.name for p in (tmp_path / "out").iterdir()} == {
        "findings.csv", "report.html", "report.xlsx", "results.json", "plain.txt", "clients", "matrix.csv", "fixes"}
    assert main(["report", str(results), "--out", str(tmp_path / "out2"), "--format", "broken"]) == 2
    assert "report format 'broken' from acme-writers 2.1 cannot be used" in capsys.readouterr().err


def test_report_strict_plugins_makes_a_broken_third_party_writer_fatal(third_party_writers, tmp_path, capsys):
    """dnsaudit report --strict-plugins: the audit's policy, exit code 2 and no folder written."""
    import json

    from dnsaudit.cli import main
    from dnsaudit.model import AuditRun, RunInfo

    results = tmp_path / "results.json"
    results.write_text(json.dumps(AuditRun(RunInfo("0", "2026-01-01T00:00:00+00:00", "", "in.csv", (), ()),
                                           ()).to_dict()))
    assert main(["report", str(results), "--out", str(tmp_path / "lenient")]) == 0
    assert "warning: report format 'broken' from acme-writers 2.1 cannot be used" in capsys.readouterr().err
    assert {"results.json", "plain.txt"} <= {p.name for p in (tmp_path / "lenient").iterdir()}
    assert main(["report", str(results), "--out", str(tmp_path / "strict"), "--strict-plugins"]) == 2
    err = capsys.readouterr().err
    assert "report format 'broken' from acme-writers 2.1 cannot be used" in err and "warning" not in err
    assert not (tmp_path / "strict").exists()
    assert main(["report", str(results), "--out", str(tmp_path / "strict-ok"), "--format", "json",
                 "--strict-plugins"]) == 0  # a broken plugin not among the chosen formats is not loaded


def test_writers_are_shared_out_and_split_per_client_by_their_class_attributes(tmp_path, monkeypatch):
    from dnsaudit import output
    from dnsaudit.model import AuditRun, DomainResult, RunInfo, Score, Verdict

    class Whole(GoodWriter):
        format, filename, cost, per_client = "whole", "whole.txt", 7, False

    class Each(GoodWriter):
        format, filename, cost, per_client = "each", "each.txt", 5, True

    domains = tuple(DomainResult(DomainEntry(f"d{i}.test", i + 2, client=c), (), Score(100, "A", Verdict.READY))
                    for i, c in enumerate(["Contoso", "Fabrikam"]))
    run = AuditRun(RunInfo("0", "", "", "in.csv", (), ()), domains)
    written = output.write_reports(run, tmp_path, [Whole(), Each()], split_by="client")
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == [
        "clients/Contoso/each.txt", "clients/Fabrikam/each.txt", "clients/index.csv", "each.txt", "whole.txt"]
    seen = []
    monkeypatch.setattr(output, "_in_forked_processes", lambda tasks, costs, processes: seen.append(costs) or [])
    output.write_reports(run, tmp_path, [Whole(), Each()], processes=2)
    assert seen == [[7, 5]]
