"""Plugin loading: built-ins through entry points, third-party plugins validated and isolated."""

from __future__ import annotations

import asyncio
import importlib
import sys
import textwrap

import pytest

from dnsaudit.check import Check, CheckContext, Settings
from dnsaudit.model import DomainEntry, Severity, Status
from dnsaudit.registry import PluginError, load_checks, select, validate_check
from dnsaudit.runner import run_check

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
    ctx = CheckContext(DomainEntry("example.test", 2), dns=None, settings=Settings(check_timeout=0.2))  # type: ignore[arg-type]
    (finding,) = asyncio.run(run_check(cls(), ctx))
    assert finding.status is Status.ERROR and finding.reason.value == reason and text in finding.message
    assert finding.check_id == "acme.good"
