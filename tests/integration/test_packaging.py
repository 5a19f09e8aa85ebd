"""The wheel installs dnsaudit only: no top-level 'checks' or 'reports' package (DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_wheel_holds_only_the_dnsaudit_package(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("dnsaudit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"dnsaudit"}
    for expected in ("dnsaudit/checks/mx.py", "dnsaudit/reports/json_report.py", "dnsaudit/net/dns.py",
                     "dnsaudit/results.schema.json", "dnsaudit/testing/__init__.py", "dnsaudit/py.typed",
                     "dnsaudit/mail/spf.py", "dnsaudit/net/protocols.py"):
        assert expected in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[dnsaudit.checks]" in text and "mx.present = dnsaudit.checks.mx:MxPresent" in text
