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


def in_terminal(args: list[str], columns: int, cwd: Path, stderr_too: bool = False) -> str:
    """Run dnsaudit with stdout (and with ``stderr_too`` stderr) on a pseudo-terminal
    ``columns`` wide; what it printed there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**CRON_ENV, "TERM": "xterm"}
    proc = subprocess.Popen([DNSAUDIT, *args], stdout=slave, stderr=slave if stderr_too else subprocess.PIPE,
                            stdin=subprocess.DEVNULL, cwd=cwd, env=env)
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
    assert proc.returncode in (0, 1), proc.stderr and proc.stderr.read()
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
    assert wingtip.endswith("the TXT lookup for eu._netblocks.mimecast.com has no answer offline.")  # 120+ columns, whole


def test_not_a_terminal_prints_every_column_in_full(tmp_path):
    proc = subprocess.run([DNSAUDIT, "audit", str(ROOT / "domains.example.csv"), *OFFLINE, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=CRON_ENV, cwd=tmp_path, timeout=120, check=False)
    lines = table_lines(proc.stdout)
    assert "…" not in "\n".join(lines)
    assert all(line == line.rstrip() for line in lines)  # no trailing blanks (tailspin has no problem)
    assert "Grade" in lines[0]
    assert any(line.endswith("the TXT lookup for eu._netblocks.mimecast.com has no answer offline.") for line in lines)
    assert max(display_width(line) for line in lines) > 150


def test_one_domain_is_one_domain(tmp_path):
    (tmp_path / "one.csv").write_text("domain\ncontoso.com\n")
    proc = subprocess.run([DNSAUDIT, "audit", "one.csv", *OFFLINE, "--out", str(tmp_path / "o")],
                          capture_output=True, text=True, env=CRON_ENV, cwd=tmp_path, timeout=120, check=False)
    assert "\n1 domain: 1 ready\n" in proc.stdout, proc.stdout
    assert "Auditing 1 domain with" in proc.stderr


LONG = ["shop1.eu.marketing.contoso-holdings.example", "shop2.eu.marketing.contoso-holdings.example"]


def long_input(tmp_path: Path) -> Path:
    rows = (ROOT / "domains.example.csv").read_text(encoding="utf-8")
    path = tmp_path / "long.csv"
    path.write_text(rows + "".join(f"{d},Contoso Ltd,,,,,,,\n" for d in LONG), encoding="utf-8")
    return path


def test_nothing_wraps_in_an_80_column_terminal_and_long_domains_stay_whole(tmp_path):
    """The start line, the progress bar, the table and the reports line each fit 80 columns
    (a terminal would wrap them mid-word); a domain too long for its column goes on over the
    next lines, broken after a dot, so two that differ in the middle stay two names."""
    output = in_terminal(["audit", str(long_input(tmp_path)), *OFFLINE[:-2], "--out", str(tmp_path / "o")], 80,
                         tmp_path, stderr_too=True)
    lines = [part for line in output.split("\n") for part in line.split("\r")]  # each redraw of the bar too
    assert max(map(display_width, lines)) <= 80, [line for line in lines if display_width(line) > 80]
    assert "  planned zones: contoso.com, fabrikam.com" in output and " more\n" in output
    assert any(line.startswith("[#") and "8/8 domains" in line for line in lines)
    table = table_lines(output)
    domain_width = len(table[1].split("  ")[0])
    for name in LONG:
        first = next(i for i, line in enumerate(table) if line.startswith(name[:9]))
        pieces = [table[first][:domain_width].rstrip()]
        pieces += [line.strip() for line in table[first + 1:first + 4] if line[:1] != " " and "  " not in line.strip()]
        assert "".join(pieces).startswith(name) and all(p.endswith(".") for p in pieces[:-1]), pieces
    assert "contoso.com " in output  # short names are as they were, one line


def test_under_cron_no_terminal_controls_and_no_progress(tmp_path):
    """cron: an empty environment, stdin from /dev/null, stdout and stderr into one file."""
    log = tmp_path / "o.log"
    with open(log, "wb") as handle:
        subprocess.run([DNSAUDIT, "audit", str(long_input(tmp_path)), *OFFLINE, "--out", str(tmp_path / "o")],
                       stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT, env=CRON_ENV, cwd=tmp_path,
                       timeout=120, check=False)
    text = log.read_text(encoding="utf-8")
    assert "\x1b" not in text and "\r" not in text and "[#" not in text, text
    assert "planned zones: contoso.com, fabrikam.com, northwind.example, tailspin.example, wingtip.example" in text
    assert all(f"\n{name}  " in text for name in LONG)  # in full, on one line: nothing will wrap a file
