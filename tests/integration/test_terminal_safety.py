"""What dnsaudit prints cannot drive the terminal: a TXT record with CR, ESC/CSI/OSC sequences and BEL
through --compare, 'dnsaudit diff', the summary table and the error lines."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dnsaudit.cli import main
from dnsaudit.cli.exits import err
from dnsaudit.testing import ZoneServer

# zone-file escapes (decimal): ESC [2K (erase line), CR, ESC ]0;title BEL (window title), CSI 31m, RLO
HOSTILE_SPF = r"v=spf1 -all \027[2K\013\027]0;owned\007\155\226\128\174"
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")


def zone(spf: str) -> str:
    return "\n".join(["@ SOA ns hostmaster 1 3600 600 86400 300", "@ MX 0 t1-test.mail.protection.outlook.com.",
                      f'@ TXT "{spf}"'])


@pytest.fixture
def world():
    server = ZoneServer.from_directory(Path(__file__).resolve().parents[1] / "zones")
    server.add_zone_text("t1.test.", zone("v=spf1 include:spf.protection.outlook.com -all"))
    with server:
        yield server


def audit(tmp_path, server, *extra) -> int:
    csv = tmp_path / "domains.csv"
    csv.write_text("domain\nt1.test\n")
    out = tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    return main(["audit", str(csv), "--nameserver", f"127.0.0.1:{server.port}", "--timeout", "1", "--retries", "0",
                 "--checks", "domain.exists,mx.*,spf.*", "--no-probes", "--format", "json",
                 "--history", str(tmp_path / "h.sqlite"), "--out", str(out), *extra])


def test_compare_and_diff_print_no_terminal_controls_from_dns(tmp_path, world, capsys):
    assert audit(tmp_path, world) in (0, 1, 3)
    world.add_zone_text("t1.test.", zone(HOSTILE_SPF))
    capsys.readouterr()
    audit(tmp_path, world, "--compare", "last")
    printed = capsys.readouterr()
    assert "Compared with run 1" in printed.out and "spf.record" in printed.out
    assert not RAW.search(printed.out) and not RAW.search(printed.err), printed.out
    assert "<U+001B>[2K" in printed.out  # shown, not obeyed

    assert main(["diff", "--history", str(tmp_path / "h.sqlite")]) in (4, 5)
    diff = capsys.readouterr().out
    assert "spf.record" in diff and not RAW.search(diff) and "<U+001B>]0;owned<U+0007>" in diff


def test_error_lines_cannot_drive_the_terminal(capsys):
    err("cannot read \x1b]0;owned\x07 value\r\x1b[2Kfake line\u202e")
    line = capsys.readouterr().err
    assert line.count("\n") == 1 and not RAW.search(line)
    assert line.startswith("dnsaudit: cannot read <U+001B>]0;owned<U+0007>")


def test_runs_lists_a_hostile_input_file_name_escaped(tmp_path, world, capsys):
    source = tmp_path / "list\x1b]0;owned\x07.csv"
    source.write_text("domain\nt1.test\n")
    main(["audit", str(source), "--nameserver", f"127.0.0.1:{world.port}", "--timeout", "1", "--retries", "0",
          "--checks", "domain.exists", "--no-probes", "--format", "json", "--history", str(tmp_path / "h.sqlite"),
          "--out", str(tmp_path / "out"), "--quiet"])
    capsys.readouterr()
    assert main(["runs", "--history", str(tmp_path / "h.sqlite")]) == 0
    listing = capsys.readouterr().out
    assert "list<U+001B>]0;owned<U+0007>.csv" in listing and not RAW.search(listing)
