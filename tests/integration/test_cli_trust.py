"""A command line cron can trust, run as cron runs it: the real ``dnsaudit`` in a subprocess, no
terminal, no environment beyond PATH and HOME (issue 16 items 1-4 and 8)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnsaudit.testing import ZoneServer

ROOT = Path(__file__).resolve().parents[2]
DNSAUDIT = str(Path(sys.executable).with_name("dnsaudit"))
ZONES = ROOT / "tests" / "zones"


def cron_env(home: Path) -> dict[str, str]:
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(home)}


def dnsaudit(args: list[str], cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([DNSAUDIT, *args], capture_output=True, text=True, env=cron_env(cwd), cwd=cwd, check=False,
                          stdin=subprocess.DEVNULL, timeout=180, **kwargs)


def help_example(marker: str) -> list[str]:
    """The command of the line in ``dnsaudit audit --help`` that carries ``marker``, as words."""
    text = subprocess.run([DNSAUDIT, "audit", "--help"], capture_output=True, text=True, check=True).stdout
    line = next(ln for ln in text.splitlines() if marker in ln)
    return line.split("#")[0].split()


# -- 1. --quiet prints the results at the --fail-on level ----------------------------------


def test_the_help_cron_example_prints_the_blockers_and_nothing_else(tmp_path, nameserver):
    command = help_example("for cron: exit 1 on blockers")
    assert command == ["dnsaudit", "audit", "domains.csv", "--fail-on", "blocking", "--quiet"]
    plumbing = ["--nameserver", nameserver, "--no-probes"]  # the test resolver; no connection past loopback
    (tmp_path / "domains.csv").write_text("domain\ngood.test\nnomx.test\n")
    proc = dnsaudit([*command[1:], *plumbing], tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines and all(line.startswith("nomx.test  ") for line in lines), proc.stdout
    assert "nomx.test  mx.present  fail: " in proc.stdout
    assert all(re.match(r"^\S+  [a-z_0-9]+\.[a-z_0-9]+  fail: \S", line) for line in lines)
    assert (tmp_path / "dnsaudit-runs").is_dir()  # the reports are written as always

    (tmp_path / "domains.csv").write_text("domain\ngood.test\n")  # nothing at the level: nothing at all
    time.sleep(1.1)  # the default output folder is named by the second
    proc = dnsaudit([*command[1:], *plumbing], tmp_path)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_no_library_warning_reaches_stderr_from_the_main_process_or_a_worker(tmp_path, nameserver):
    """cryptography 51 deprecates DSA, which dnspython's DNSSEC support names on import: four
    warning lines per process on a cron job's stderr, unless dnsaudit keeps them out."""
    (tmp_path / "domains.csv").write_text("domain\ngood.test\nnomx.test\n")
    for workers in ("1", "2"):
        proc = dnsaudit(["audit", "domains.csv", "--nameserver", nameserver, "--no-probes", "--quiet", "--no-history",
                         "--workers", workers, "--format", "json", "--out", f"o{workers}"], tmp_path)
        assert proc.returncode == 1 and proc.stderr == "", (workers, proc.stderr)
        results = json.loads((tmp_path / f"o{workers}" / "results.json").read_text())
        assert {r["id"] for d in results["domains"] for r in d["results"]} >= {"dnssec.zone"}  # it ran


def test_quiet_follows_the_fail_on_level_and_keeps_input_errors_only(tmp_path, nameserver):
    # token.test: mx.microsoft365 warns; a URL is normalised (a warning: not printed); row 4 is an error
    (tmp_path / "domains.csv").write_text("domain\ntoken.test\nhttps://www.good.test/owa\nnot a domain\n")
    proc = dnsaudit(["audit", "domains.csv", "--nameserver", nameserver, "--no-probes", "--quiet", "--no-history",
                     "--format", "json", "--fail-on", "warn", "--out", "o"], tmp_path)
    assert proc.returncode == 2  # the input error decides the exit code
    assert "token.test  mx.microsoft365  warn: " in proc.stdout and "good.test" not in proc.stdout
    assert "row 4: error" in proc.stderr and "URL" not in proc.stderr


# -- 2. a history another run holds --------------------------------------------------------

HOLD = """
import sys, time
from dnsaudit.history import History
with History(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def hold_history(path: Path, seconds: float) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline() == "locked\n"
    return holder


def test_a_held_history_without_compare_still_audits_and_reports(tmp_path, nameserver):
    (tmp_path / "domains.csv").write_text("domain\ngood.test\nnomx.test\n")
    history = tmp_path / "h.sqlite"
    holder = hold_history(history, 60)
    try:
        proc = dnsaudit(["audit", "domains.csv", "--nameserver", nameserver, "--no-probes", "--history", str(history),
                         "--out", "out", "--format", "json,csv"], tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 1, proc.stderr  # the exit code of the results, not of the history
    assert re.search(r"warning: another dnsaudit run \(pid \d+\) is using the history .*h\.sqlite: this run is "
                     r"audited and reported but not stored in the history", proc.stderr)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["findings.csv", "results.json"]
    assert "nomx.test" in proc.stdout and "stored as run" not in proc.stdout
    with sqlite3.connect(history) as db:
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone() == (0,)


def test_a_held_history_with_compare_stops_or_waits(tmp_path, nameserver):
    (tmp_path / "domains.csv").write_text("domain\ngood.test\n")
    history = tmp_path / "h.sqlite"
    base = ["audit", "domains.csv", "--nameserver", nameserver, "--no-probes", "--history", str(history),
            "--format", "json", "--compare", "last", "--quiet"]
    holder = hold_history(history, 60)
    try:
        proc = dnsaudit([*base, "--out", "a"], tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert proc.returncode == 6
    assert proc.stderr.count("\n") == 1 and "--wait-lock SECONDS waits for it" in proc.stderr
    assert not (tmp_path / "a").exists()

    holder = hold_history(history, 2)  # lets go after two seconds
    started = time.monotonic()
    proc = dnsaudit([*base, "--out", "b", "--wait-lock", "60"], tmp_path)
    holder.wait()
    assert proc.returncode == 0, proc.stderr  # the first run: nothing to compare with, good.test is ready
    assert 1.5 < time.monotonic() - started < 60
    with sqlite3.connect(history) as db:
        assert db.execute("SELECT COUNT(*) FROM runs WHERE status = 'complete'").fetchone() == (1,)


# -- 3. output paths are checked before a single query -------------------------------------
# (--history by its form only: a history the file system refuses today costs the history, not the
# reports: exit 6 with the reports written, tests/integration/test_history_failures.py)


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--stats", "{tmp}/missing/stats.json", "--stats {tmp}/missing/stats.json: the folder {tmp}/missing does not exist"),
        ("--stats", "{tmp}", "--stats {tmp} is a folder; give a file name in it"),
        ("--out", "{tmp}/domains.csv/out", "--out {tmp}/domains.csv/out: {tmp}/domains.csv is not a folder"),
        ("--history", "{tmp}", "--history {tmp} is a folder; give a file name in it"),
        ("--history", "{tmp}/domains.csv/h.sqlite", "--history {tmp}/domains.csv/h.sqlite: {tmp}/domains.csv is not a folder"),
    ],
)
def test_an_unwritable_output_path_is_one_line_and_exit_2_before_any_query(tmp_path, nameserver, dns_server,
                                                                           option, value, message):
    (tmp_path / "domains.csv").write_text("domain\ngood.test\n")
    asked = len(dns_server.queries)
    proc = dnsaudit(["audit", "domains.csv", "--nameserver", nameserver, "--no-probes", "--format", "json",
                     option, value.format(tmp=tmp_path)], tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith(f"dnsaudit: {message.format(tmp=tmp_path)}") and proc.stderr.count("\n") == 1
    assert "Traceback" not in proc.stderr
    assert len(dns_server.queries) == asked  # not one question asked
    assert sorted(p.name for p in tmp_path.iterdir()) == ["domains.csv"]  # no output folder, no stray file


# -- 4. a resolver that lies ---------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "denied"), [(".", "the root zone"), ("outlook.com", "outlook.com")])
def test_a_resolver_that_denies_what_exists_is_caught_by_the_preflight(tmp_path, suffix, denied):
    liar = ZoneServer.from_directory(ZONES)
    liar.add_zone_text("good.test.", "@ SOA ns hostmaster 1 3600 600 86400 300\n@ MX 0 good-test.mail.protection.outlook.com.")
    liar.set_fault(suffix, "nxdomain")
    (tmp_path / "domains.csv").write_text("domain\ngood.test\n")
    with liar:
        proc = dnsaudit(["audit", "domains.csv", "--nameserver", f"127.0.0.1:{liar.port}", "--no-probes",
                         "--history", str(tmp_path / "h.sqlite"), "--out", "out"], tmp_path)
        asked = {name for _t, name, _type in liar.queries}
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == ""
    *start, error = proc.stderr.splitlines()  # the line that starts the audit, then one line
    assert [line for line in start if line.startswith("dnsaudit")] == []
    assert error.startswith(f"dnsaudit: DNS server 127.0.0.1:{liar.port} says {denied} does not exist "
                            "(NXDOMAIN): it does not resolve Internet names")
    assert "good.test." not in asked  # stopped before the audit
    assert not (tmp_path / "out").exists()


# -- 8. Ctrl-C after the progress bar; reports with the umask's permissions ----------------


def test_ctrl_c_starts_its_message_on_a_new_line_after_the_progress_bar(tmp_path):
    import pty

    server = ZoneServer.from_directory(ZONES)
    server.add_zone_text("bulk.test.", "@ SOA ns hostmaster 1 3600 600 86400 300\n*.bulk.test. MX 10 mail.bulk.test.")
    server.delay = 0.05  # 3,000 domains at 50 ms: the run outlasts the bar's first drawing by many seconds
    (tmp_path / "bulk.csv").write_text("domain\n" + "\n".join(f"n{i}.bulk.test" for i in range(3000)) + "\n")
    master, slave = pty.openpty()
    with server:
        proc = subprocess.Popen([DNSAUDIT, "audit", "bulk.csv", "--nameserver", f"127.0.0.1:{server.port}",
                                 "--checks", "mx.present", "--concurrency", "2", "--no-history", "--out", "out"],
                                stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, cwd=tmp_path,
                                env={**cron_env(tmp_path), "TERM": "xterm"})
        os.close(slave)
        seen = b""
        started = time.monotonic()
        deadline = started + 60
        while b"domains " not in seen.split(b"\r")[-1] and time.monotonic() < deadline:  # the bar is drawn
            seen += os.read(master, 4096)
        bar_seen = b"domains " in seen.split(b"\r")[-1]
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
        proc.wait(timeout=60)
        ended = time.monotonic()
    os.close(master)
    text = seen.decode()
    # What a failure needs to be understood (it failed once, exit 0, on a loaded machine).
    assert proc.returncode == 130, (proc.returncode, f"bar seen: {bar_seen}", f"SIGINT {sent - started:.1f} s after "
                                    f"the start, exit {ended - sent:.1f} s after it", text[-400:])
    before, _, _ = text.partition("dnsaudit: interrupted")
    assert "left" in before and before.endswith("left\r\n"), repr(text[-300:])


def test_reports_get_the_permissions_new_files_get(tmp_path, nameserver):
    umask = 0o027  # the group may read, as the history; mkstemp alone gives 0600
    (tmp_path / "domains.csv").write_text("domain\ngood.test\n")
    proc = dnsaudit(["audit", "domains.csv", "--nameserver", nameserver, "--no-probes", "--out", "out",
                     "--history", str(tmp_path / "h.sqlite"), "--stats", str(tmp_path / "stats.json")], tmp_path,
                    preexec_fn=lambda: os.umask(umask))
    assert proc.returncode == 0, proc.stderr
    expected = 0o666 & ~umask
    files = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [*files, tmp_path / "h.sqlite", tmp_path / "stats.json"]}
    assert set(modes) >= {"report.xlsx", "report.html", "findings.csv", "results.json", "h.sqlite", "stats.json"}
    assert modes == dict.fromkeys(modes, expected), {k: oct(v) for k, v in modes.items()}
