"""The CLI starts fast: ``--help``, ``dnsaudit checks`` and usage errors import no network,
workbook, template or crypto library (dnspython's resolver alone pulls in an HTTP client and
took ~0.5 s of CPU before anything was printed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
from dnsaudit.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.__stderr__)
"""
HEAVY = ("httpx", "httpx2", "openpyxl", "jinja2", "cryptography", "checkdmarc", "jsonschema", "apprise")


def modules_after(*args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=60,
                          check=False)
    return set(json.loads(proc.stderr.strip().splitlines()[-1]))


def heavy(modules: set[str], extra: tuple[str, ...] = ()) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in HEAVY + extra)


@pytest.mark.parametrize("args", [["--help"], ["audit", "--help"], ["audit"], ["audit", "--no-such-option"],
                                  ["report"], ["--version"]])
def test_help_and_usage_errors_import_nothing_heavy(args):
    assert heavy(modules_after(*args), ("dns",)) == []


def test_listing_the_checks_imports_no_resolver_http_or_crypto_library():
    """The check modules are imported (they are the catalogue), the libraries they use when
    they run are not: dnspython's resolver (and with it an HTTP client), httpx, cryptography."""
    modules = modules_after("checks", "--brief")
    assert "dnsaudit.checks.tls" in modules  # the catalogue was loaded
    assert heavy(modules) == [] and not {"dns.resolver", "dns.query"} & modules


def test_import_of_the_cli_is_light():
    proc = subprocess.run([sys.executable, "-c", "import json, sys, dnsaudit.cli; print(json.dumps(sorted(sys.modules)))"],
                          capture_output=True, text=True, timeout=60, check=True)
    assert heavy(set(json.loads(proc.stdout)), ("dns",)) == []
