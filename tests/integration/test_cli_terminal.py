"""The summary table as people see it: the real ``dnsaudit`` in a pseudo-terminal of a given size, and in a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from dnsaudit.reports.terminal import display_width

ROOT = Path(__file__).resolve().parents[2]
DNSAUDIT = str(Path(sys.executable).with_name("dnsaudit"))
OFFLINE = ["--zone", str(ROOT / "examples" / "zones"), "--offline", "--no-history", "--format", "json"]
CRON_ENV = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": "/tmp"}


def in_terminal(args: list[str], columns: int, cwd: Path) -> str:
    """Run dnsaudit with stdout on a pseudo-terminal ``columns`` wide; what it printed there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**CRON_ENV, "TERM": "xterm"}
    proc = subprocess.Popen([DNSAUDIT, *args], stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            cwd=cwd, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    proc.wait(timeout=120)
    assert proc.returncode in (0, 1), proc.stderr.read()
    return b"".join(chunks).decode().replace("\r\n", "\n")


def table_lines(output: str) -> list[str]:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Domain "))
    end = lines.index("", start)
    return lines[start:end]


@pytest.mark.parametrize("columns", [80, 100])
def test_the_table_fits_the_terminal(tmp_path, columns):
    output = in_terminal(["audit", str(ROOT / "domains.example.csv"), *OFFLINE, "--out", str(tmp_path / "o")],
                         columns, tmp_path)
    lines = table_lines(output)
    assert len(lines) == 2 + 6
    assert all(display_width(line) <= columns for line in lines), [display_width(line) for line in lines]
    assert lines[0].split()[:3] == ["Domain", "Client", "Score"] and lines[0].endswith("First problem")
    assert "Grade" not in lines[0]  # a narrow window leaves the grade out: the score says it
    assert any(line.endswith("…") for line in lines[2:])  # the long problems are cut to the window
    score = lines[0].index("Score") + len("Score")  # numbers right-aligned under their header
    cells = {line[score - 3:score] for line in lines[2:]}  # not the scores themselves: new checks move them
    assert "100" in cells and any(len(c) == 3 and c[0] == " " and c[1:].isdigit() for c in cells), cells
    assert "\n6 domains: 1 ready, 2 ready with warnings, 2 blocked, 1 could not assess\n" in output


def test_a_wide_terminal_gives_first_problem_the_rest(tmp_path):
    output = in_terminal(["audit", str(ROOT / "domains.example.csv"), *OFFLINE, "--out", str(tmp_path / "o")],
                         200, tmp_path)
    lines = table_lines(output)
    assert "Grade" in lines[0]
    assert max(display_width(line) for line in lines) <= 200
    wingtip = next(line for line in lines if line.startswith("wingtip.example"))
    assert wingtip.endswith("the TXT lookup for eu._netblocks.mimecast.com ended in OFFLINE.")  # 120+ columns, whole


def test_not_a_terminal_prints_every_column_in_full(tmp_path):
    proc = subprocess.run([DNSAUDIT, "audit", str(ROOT / "domains.example.csv"), *OFFLINE, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=CRON_ENV, cwd=tmp_path, timeout=120, check=False)
    lines = table_lines(proc.stdout)
    assert "…" not in "\n".join(lines)
    assert all(line == line.rstrip() for line in lines)  # no trailing blanks (tailspin has no problem)
    assert "Grade" in lines[0]
    assert any(line.endswith("the TXT lookup for eu._netblocks.mimecast.com ended in OFFLINE.") for line in lines)
    assert max(display_width(line) for line in lines) > 150


def test_one_domain_is_one_domain(tmp_path):
    (tmp_path / "one.csv").write_text("domain\ncontoso.com\n")
    proc = subprocess.run([DNSAUDIT, "audit", "one.csv", *OFFLINE, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=CRON_ENV, cwd=tmp_path, timeout=120, check=False)
    assert "\n1 domain: 1 ready\n" in proc.stdout, proc.stdout
    assert "Auditing 1 domain with" in proc.stderr
