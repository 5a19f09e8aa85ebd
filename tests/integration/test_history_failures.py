"""† The history is a side effect: a full disk, a read-only folder or a tampered row costs the run
its history (one line, exit 6), never its reports.

The full disk is a real 256 KB tmpfs and the read-only folder a real read-only bind mount,
each in a mount namespace of the test's own (``unshare --mount``): nothing is mounted on
the machine, and the mounts are gone when the run ends.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

UNSHARE = shutil.which("unshare")


def write_domains(tmp_path: Path, count: int) -> Path:
    source = tmp_path / "domains.csv"
    source.write_text("domain\n" + "".join(f"d{i}.example\n" for i in range(count)))
    return source


def audit_command(tmp_path: Path, history: Path, out: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "dnsaudit", "audit", str(tmp_path / "domains.csv"), "--offline", "--quiet",
            "--format", "json,csv", "--history", str(history), "--out", str(tmp_path / out), *extra]


def in_mount_namespace(tmp_path: Path, setup: str, command: list[str]) -> subprocess.CompletedProcess:
    assert UNSHARE and os.geteuid() == 0, "these tests need root and util-linux's unshare (tests/run runs as root)"
    script = f"set -e; {setup}; exec \"$@\""
    return subprocess.run([UNSHARE, "--mount", "--propagation", "private", "sh", "-c", script, "sh", *command],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})


def assert_one_line_exit_6_and_reports(done: subprocess.CompletedProcess, out: Path) -> str:
    assert done.returncode == 6, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert (out / "results.json").is_file() and (out / "findings.csv").is_file()
    return lines[0]


def test_a_full_disk_under_the_history_costs_the_history_not_the_reports(tmp_path):
    write_domains(tmp_path, 400)
    small = tmp_path / "small"
    small.mkdir()
    done = in_mount_namespace(tmp_path, f"mount -t tmpfs -o size=256k tmpfs {small}",
                              audit_command(tmp_path, small / "h.sqlite", "out"))
    line = assert_one_line_exit_6_and_reports(done, tmp_path / "out")
    assert "disk is full" in line and "the reports are written" in line


def test_a_read_only_history_folder_costs_the_history_not_the_reports(tmp_path):
    write_domains(tmp_path, 5)
    folder = tmp_path / "hist"
    folder.mkdir()
    first = subprocess.run(audit_command(tmp_path, folder / "h.sqlite", "out1"), capture_output=True, text=True,
                           timeout=60)
    assert first.returncode in (0, 1, 3), first.stderr
    (folder / "h.sqlite.lock").unlink()
    done = in_mount_namespace(tmp_path, f"mount --bind {folder} {folder}; mount -o remount,bind,ro {folder}",
                              audit_command(tmp_path, folder / "h.sqlite", "out2", "--compare", "last"))
    line = assert_one_line_exit_6_and_reports(done, tmp_path / "out2")
    assert "lock file" in line and "Read-only file system" in line


@pytest.mark.parametrize(("column", "value"), [("info_json", "{not json"), ("result_json", "[]")])
def test_a_tampered_history_row_is_one_line_and_exit_6(tmp_path, column, value):
    write_domains(tmp_path, 3)
    history = tmp_path / "h.sqlite"
    first = subprocess.run(audit_command(tmp_path, history, "out1"), capture_output=True, text=True, timeout=60)
    assert first.returncode in (0, 1, 3), first.stderr
    with sqlite3.connect(history) as db:
        table, key = ("runs", "id") if column == "info_json" else ("domains", "run_id")
        db.execute(f"UPDATE {table} SET {column} = ? WHERE {key} = 1", (value,))
    done = subprocess.run(audit_command(tmp_path, history, "out2", "--compare", "last"), capture_output=True,
                          text=True, timeout=60)
    line = assert_one_line_exit_6_and_reports(done, tmp_path / "out2")
    assert "run 1" in line and "damaged" in line
    diff = subprocess.run([sys.executable, "-m", "dnsaudit", "diff", "1", "2", "--history", str(history)],
                          capture_output=True, text=True, timeout=60)
    assert diff.returncode == 6 and "Traceback" not in diff.stderr
    assert len(diff.stderr.strip().splitlines()) == 1 and "damaged" in diff.stderr
