"""The wheel installs dnsaudit only: no top-level 'checks' or 'reports' package (DESIGN.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("wheel")
    # Built from a copy of the tracked files: setuptools writes build/ and dnsaudit.egg-info
    # where it builds, and an egg-info left in the checkout is found on sys.path with the
    # entry points of that day (after a check moves module, "cannot be imported").
    source = tmp_path_factory.mktemp("source")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(folder), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (built,) = folder.glob("dnsaudit-*.whl")
    return built


def test_the_wheel_holds_every_module_and_data_file_of_the_source_tree(wheel):
    """The tests run on an editable install, which finds every file in the tree; a user's
    ``pip install .`` gets only what pyproject.toml lists (a package or a data file left out
    of it once broke every command of a normal install)."""
    names = set(zipfile.ZipFile(wheel).namelist())
    folders = {"dnsaudit": "dnsaudit", "checks": "dnsaudit/checks", "reports": "dnsaudit/reports"}
    missing = []
    for folder, installed in folders.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            relative = path.relative_to(ROOT / folder).as_posix()
            if folder == "dnsaudit" and relative.split("/")[0] in ("checks", "reports"):
                continue
            if f"{installed}/{relative}" not in names:
                missing.append(f"{folder}/{relative}")
    assert missing == []


def test_the_quick_start_runs_from_the_installed_wheel(wheel, tmp_path):
    """The README's quick start, on the wheel's files instead of the source tree."""
    target = tmp_path / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                           str(wheel)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(target), "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-m", "dnsaudit", "audit", str(ROOT / "domains.example.csv"),
                           "--zone", str(ROOT / "examples" / "zones"), "--offline", "--out", str(out), "--quiet"],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode in (0, 1), proc.stderr[-3000:]
    assert str(target) in subprocess.run([sys.executable, "-c", "import dnsaudit; print(dnsaudit.__file__)"],
                                         capture_output=True, text=True, env=env, cwd=tmp_path).stdout
    for report in ("report.xlsx", "report.html", "findings.csv", "results.json"):
        assert (out / report).stat().st_size > 0


def test_wheel_holds_only_the_dnsaudit_package(wheel):
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
