"""A check that raises keeps its traceback in its result (sslyze's error_trace); --debug prints it."""

from __future__ import annotations

import json
import pickle
import sys
import textwrap
from pathlib import Path

import jsonschema
import pytest

import dnsaudit
from dnsaudit import results_read
from dnsaudit.cli import main
from dnsaudit.model import ErrorReason, Finding, Severity, Status
from dnsaudit.runner import TRACE_LIMIT, _trace

SCHEMA = json.loads((Path(dnsaudit.__file__).parent / "results.schema.json").read_text())


@pytest.fixture
def crashing_plugin(tmp_path, monkeypatch):
    """A third-party distribution whose check fails two calls deep."""
    (tmp_path / "acme_crash.py").write_text(textwrap.dedent('''
        from dnsaudit.check import Check
        from dnsaudit.model import Severity

        def parse_banner(text):
            return int(text)

        class Crash(Check):
            """Acme banner check that trips over its own parser."""
            id = "acme.crash"
            area = "acme"
            severity = Severity.LOW
            async def run(self, ctx):
                return [self.passed(f"banner {parse_banner('not a number')}")]
        '''))
    dist = tmp_path / "acme_crash-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-crash\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[dnsaudit.checks]\nacme.crash = acme_crash:Crash\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "domains.csv").write_text("domain\ngood.test\nonprem.test\nnomx.test\nhybrid.test\nextra.test\n")
    yield tmp_path
    sys.modules.pop("acme_crash", None)


def audit(nameserver: str, out: str, *extra: str) -> int:
    return main(["audit", "domains.csv", "--nameserver", nameserver, "--timeout", "5", "--no-probes",
                 "--no-history", "--checks", "acme.crash,mx.present", "--fail-on", "never", "--format", "json", "--out", out, *extra])


def crash_results(folder: Path) -> list[dict]:
    data = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    return [r for d in data["domains"] for r in d["results"] if r["id"] == "acme.crash"]


@pytest.mark.parametrize("workers", ["1", "2"])  # 2: the trace crosses from the worker processes
def test_the_traceback_is_kept_in_the_results_and_debug_prints_it_once(crashing_plugin, nameserver, capsys, workers):
    assert audit(nameserver, "plain", "--workers", workers, "--quiet") == 3  # could not test
    plain = capsys.readouterr().err
    assert "Traceback" not in plain
    results = crash_results(crashing_plugin / "plain")
    assert len(results) == 5
    for result in results:
        assert result["status"] == "error" and result["reason"] == "check-bug"
        assert "ValueError: invalid literal for int()" in result["message"]
        trace = result["trace"]
        assert trace.startswith("Traceback (most recent call last):")
        assert "in parse_banner" in trace and "return int(text)" in trace
    mx = [r for d in json.loads((crashing_plugin / "plain" / "results.json").read_text())["domains"]
          for r in d["results"] if r["id"] == "mx.present"]
    assert mx and all("trace" not in r for r in mx)  # only a check that raised has one

    assert audit(nameserver, "debug", "--workers", workers, "--quiet", "--debug") == 3
    err = capsys.readouterr().err
    assert err.count("Traceback (most recent call last):") == 1  # the same bug on five domains: once
    assert "dnsaudit: debug: check acme.crash raised on good.test, onprem.test, nomx.test and 2 more:" in err
    assert "in parse_banner" in err


def test_a_trace_belongs_to_an_error_and_survives_json_and_pickle():
    finding = Finding("acme.crash", "acme", Severity.LOW, Status.ERROR, "Could not test.",
                      reason=ErrorReason.CHECK_BUG, trace="Traceback (most recent call last):\n  ...\nValueError: x")
    assert results_read.finding_from_dict(finding.to_dict()) == finding
    assert pickle.loads(pickle.dumps(finding)) == finding
    assert "trace" not in Finding("acme.ok", "acme", Severity.LOW, Status.PASS, "ok").to_dict()
    with pytest.raises(ValueError, match="trace"):
        Finding("acme.ok", "acme", Severity.LOW, Status.PASS, "ok", trace="Traceback ...")


def test_a_long_traceback_keeps_its_end():
    source = "def f0():\n    raise KeyError('the last frame')\n" + "".join(
        f"def f{i}():\n    f{i - 1}()\n" for i in range(1, 200))  # 200 distinct frames: nothing to collapse
    namespace: dict = {}
    exec(compile(source, "deep_plugin.py", "exec"), namespace)
    try:
        namespace["f199"]()
    except KeyError as exc:
        text = _trace(exc)
    assert len(text) < TRACE_LIMIT + 100
    assert "characters of the traceback left out" in text.splitlines()[0]
    assert "in f0" in text and "in f199" not in text
    assert text.endswith("KeyError: 'the last frame'")
