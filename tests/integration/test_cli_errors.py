"""Every mistake on the command line is three short lines and exit 2: the real ``dnsaudit`` in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

DNSAUDIT = str(Path(sys.executable).with_name("dnsaudit"))
ROOT = Path(__file__).resolve().parents[2]
ENV = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp"}


def dnsaudit(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([DNSAUDIT, *args], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=120, check=False)


@pytest.mark.parametrize(
    ("args", "usage", "error", "help_for"),
    [
        (["audit"], "dnsaudit audit [INPUT] [options]", "the following arguments are required: INPUT", "audit"),
        (["audit", "d.csv", "--bogus"], "dnsaudit audit [INPUT] [options]", "unrecognized arguments: --bogus", "audit"),
        (["audit", "d.csv", "--timeout", "soon"], "dnsaudit audit [INPUT] [options]",
         "argument --timeout: 'soon' is not a number", "audit"),
        (["audit", "d.csv", "--fail-on", "always"], "dnsaudit audit [INPUT] [options]",
         "argument --fail-on: invalid choice: 'always'", "audit"),
        (["audit", "d.csv", "--checks", ""], "dnsaudit audit [INPUT] [options]",
         "argument --checks: '' names no check; leave the option out for all of them", "audit"),
        (["audit", "d.csv", "--format", " , "], "dnsaudit audit [INPUT] [options]",
         "argument --format: ' , ' names no format", "audit"),
        (["report", "r.json", "--format", ""], "dnsaudit report [RESULTS_JSON] [options]",
         "argument --format: '' names no format", "report"),
        (["diff", "--jsn"], "dnsaudit diff [RUN ...] [options]", "unrecognized arguments: --jsn", "diff"),
        (["audits"], "dnsaudit COMMAND [options]", "argument COMMAND: invalid choice: 'audits'", None),
    ],
)
def test_a_usage_error_is_usage_error_and_where_the_help_is(tmp_path, args, usage, error, help_for):
    proc = dnsaudit(*args, cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 3, proc.stderr
    assert lines[0] == f"usage: {usage}"
    assert lines[1].startswith(f"dnsaudit: error: {error}")
    assert lines[2] == (f"see 'dnsaudit {help_for} --help'" if help_for else "see 'dnsaudit --help'")


def test_a_format_given_twice_is_written_once(tmp_path):
    proc = dnsaudit("audit", str(ROOT / "domains.example.csv"), "--zone", str(ROOT / "examples" / "zones"),
                    "--offline", "--no-history", "--format", "json,csv", "--format", "json", "--out", "out",
                    cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["findings.csv", "results.json"]
    assert proc.stdout.count("results.json") == 1
    assert len(json.loads((tmp_path / "out" / "results.json").read_text())["domains"]) == 6
