"""Input that never ends, through the real ``dnsaudit`` command: FIFOs, /dev/zero, huge files, zip bombs,
a million bad rows, a PEM path that is a FIFO. Each is one line and exit 2 (or a finding), at once.

Every run is a subprocess with a timeout and an address-space limit, so that a regression
fails the test instead of hanging it or eating the machine's memory.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from dnsaudit.input_values import cert_host

MEMORY = 2 * 1024**3


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def dnsaudit(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "dnsaudit", "audit", *args, "--offline", "--no-history",
                           "--out", str(tmp_path / "out"), "--quiet"],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path,
                          preexec_fn=_limits)


def one_error_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def test_a_fifo_as_input_is_refused_at_once(tmp_path):
    fifo = tmp_path / "domains.csv"
    os.mkfifo(fifo)
    line = one_error_line(dnsaudit(tmp_path, str(fifo), timeout=30))
    assert "FIFO" in line and "not a regular file" in line


def test_a_link_to_dev_zero_is_refused(tmp_path):
    link = tmp_path / "domains.csv"
    link.symlink_to("/dev/zero")
    line = one_error_line(dnsaudit(tmp_path, str(link), timeout=30))
    assert "character device" in line


def test_an_input_larger_than_the_limit_is_refused_before_it_is_read(tmp_path):
    big = tmp_path / "domains.csv"
    with open(big, "wb") as handle:
        handle.write(b"domain\ncontoso.com\n")
        handle.truncate(150_000_000)  # sparse: costs no disk
    line = one_error_line(dnsaudit(tmp_path, str(big)))
    assert "150 MB, more than the limit of 100 MB" in line and "--max-input-mb" in line
    small = tmp_path / "small.csv"
    small.write_text("domain\n" + "contoso.com\n" * 200_000)  # 2.4 MB
    line = one_error_line(dnsaudit(tmp_path, str(small), "--max-input-mb", "1"))
    assert "more than the limit of 1 MB" in line


def test_a_workbook_that_unpacks_past_the_limit_is_refused(tmp_path):
    bomb = tmp_path / "domains.xlsx"
    row = b'<row><c t="inlineStr"><is><t>contoso.com</t></is></c></row>'
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            for _ in range(400):
                sheet.write(row * 1000)  # 24 MB unpacked
    assert bomb.stat().st_size < 1_000_000
    line = one_error_line(dnsaudit(tmp_path, str(bomb), "--max-input-mb", "1"))
    assert "unpacks to 24 MB, more than the limit of 8 MB" in line


def test_many_bad_rows_print_a_hundred_lines_and_a_summary(tmp_path):
    source = tmp_path / "domains.csv"
    source.write_text("domain\ncontoso.com\n" + "not a domain!\n" * 250)
    done = dnsaudit(tmp_path, str(source), "--checks", "domain.exists", "--format", "json")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith(str(source))]
    assert len(lines) == 101, done.stderr[-2000:]
    assert "… and 150 more rows like this" in lines[-1]
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert len(results["run"]["input_issues"]) == 250


def test_a_relay_certificate_path_that_is_a_fifo_or_huge_is_a_finding_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "relay.pem")
    with open(tmp_path / "huge.pem", "wb") as handle:
        handle.truncate(50_000_000)
    source = tmp_path / "domains.csv"
    source.write_text("domain,relay_cert_host\ncontoso.com,relay.pem\nfabrikam.com,huge.pem\n")
    done = dnsaudit(tmp_path, str(source), "--checks", "tls.relay", "--format", "json", "--check-timeout", "5",
                    timeout=40)
    assert "Traceback" not in done.stderr, done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    messages = {d["input"]["domain"]: d["results"][0]["message"] for d in results["domains"]}
    assert "FIFO" in messages["contoso.com"] and "not a regular file" in messages["contoso.com"]
    assert "more than the limit of 1 MB" in messages["fabrikam.com"]


@pytest.mark.parametrize(("text", "kept"), [("[::1]:18443", "[::1]:18443"), ("[2001:db8::25]", "[2001:db8::25]"),
                                            ("[::1]:99999", ""), ("[nope]:25", ""), ("[::1]x", "")])
def test_relay_cert_host_accepts_bracketed_ipv6(text, kept):
    issues = []
    assert cert_host(2, text, issues) == kept
    assert bool(issues) == (not kept)
