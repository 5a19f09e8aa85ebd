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


def test_every_imported_package_is_declared():
    """A package the code imports comes from pyproject.toml, never only through another
    package's dependencies (cryptography and publicsuffixlist once came through checkdmarc)."""
    import ast
    import importlib.metadata
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared_specs = project["dependencies"] + [d for extra, deps in project["optional-dependencies"].items()
                                                if extra != "test" for d in deps]
    declared = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in declared_specs}
    distributions = importlib.metadata.packages_distributions()
    imported = set()
    for folder in ("dnsaudit", "checks", "reports"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "dnsaudit"}
    missing = {}
    for module in sorted(third_party):
        names = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
        if not names & declared:
            missing[module] = sorted(names)
    assert third_party >= {"cryptography", "publicsuffixlist", "dns", "openpyxl"}  # the walk saw the code
    assert missing == {}, f"imported but not declared in pyproject.toml: {missing}"
