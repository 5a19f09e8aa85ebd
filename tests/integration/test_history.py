"""History and drift end to end: runs with zones changed between them, a killed run, the lock, cron."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dnsaudit.cli import main
from dnsaudit.history import MIGRATIONS, SCHEMA_VERSION, History, HistoryError
from dnsaudit.testing import ZoneServer

README = Path(__file__).resolve().parents[2] / "README.md"
CHECKS = "domain.exists,mx.*,autodiscover.cname,spf.record"


def good_zone(domain: str, spf: str = "v=spf1 include:spf.protection.outlook.com -all", mx: str | None = None,
              autodiscover: bool = True) -> str:
    mx = mx or f"0 {domain.replace('.', '-')}.mail.protection.outlook.com."
    return "\n".join(filter(None, [
        "@ SOA ns hostmaster 1 3600 600 86400 300", f"@ MX {mx}", f'@ TXT "{spf}"',
        "autodiscover CNAME autodiscover.outlook.com." if autodiscover else "", "mail A 203.0.113.25"]))


@pytest.fixture
def world(tmp_path):
    """A DNS server of its own, whose zones the test edits between runs."""
    server = ZoneServer.from_directory(Path(__file__).resolve().parents[1] / "zones")
    for name in ("d1.test", "d2.test", "d3.test", "d4.test", "d5.test"):
        server.add_zone_text(name + ".", good_zone(name))
    with server:
        yield server


READABLE = r"\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) 20\d\d \d\d:\d\d UTC"  # 2 Dec 2026 01:23 UTC
ISO_TIME = r"20\d\d-\d\d-\d\dT\d\d:\d\d"


def audit(tmp_path, server, domains, *extra, out=None) -> tuple[int, dict | None]:
    csv = tmp_path / "domains.csv"
    csv.write_text("domain\n" + "\n".join(domains) + "\n")
    out = out or tmp_path / f"out{len(list(tmp_path.glob('out*')))}"
    code = main(["audit", str(csv), "--nameserver", f"127.0.0.1:{server.port}", "--timeout", "1", "--retries", "0",
                 "--checks", CHECKS, "--no-probes", "--format", "json", "--history", str(tmp_path / "h.sqlite"),
                 "--out", str(out), "--quiet", *extra])
    drift = out / "drift.json"
    return code, json.loads(drift.read_text()) if drift.exists() else None


def test_three_runs_with_changes_between_them(tmp_path, world, capsys):
    code, drift = audit(tmp_path, world, ["d1.test", "d2.test", "d3.test", "d4.test"], "--compare", "last")
    assert code == 0 and drift is None
    assert "no complete run to compare with" in capsys.readouterr().err

    # run 2: MX moved away, SPF edited, autodiscover removed, a timeout, d4 removed, d5 added
    world.add_zone_text("d1.test.", good_zone("d1.test", mx="10 mail.d1.test."))
    world.add_zone_text("d2.test.", good_zone("d2.test", spf="v=spf1 include:spf.protection.outlook.com "
                                              "include:sendgrid.net -all", autodiscover=False))
    world.set_fault("d3.test", "timeout")
    code, drift = audit(tmp_path, world, ["d1.test", "d2.test", "d3.test", "d5.test"], "--compare", "last")
    out = capsys.readouterr().out
    assert code == 5 and drift["verdict"] == "regressed" and drift["before_run"] == 1 and drift["after_run"] == 2
    assert drift["domains_added"] == ["d5.test"] and drift["domains_removed"] == ["d4.test"]
    changes = {(c["domain"], c["check"]): c for c in drift["changes"]}
    assert changes[("d1.test", "mx.microsoft365")]["kind"] == "worse"
    assert changes[("d1.test", "mx.microsoft365")]["after_observed"] == "10 mail.d1.test."
    assert changes[("d2.test", "spf.record")]["kind"] == "observed"
    assert "sendgrid" in changes[("d2.test", "spf.record")]["after_observed"]
    assert changes[("d2.test", "autodiscover.cname")]["kind"] == "worse"
    assert {c["kind"] for k, c in changes.items() if k[0] == "d3.test"} == {"untested"}
    assert not any(c["regression"] for k, c in changes.items() if k[0] == "d3.test")
    assert "! d1.test  mx.microsoft365  pass -> fail" in out and "+ domain added: d5.test" in out

    # run 3: MX back, the timeout gone: better and recovered, nothing worse
    world.add_zone_text("d1.test.", good_zone("d1.test"))
    world.set_fault("d3.test", None)
    code, drift = audit(tmp_path, world, ["d1.test", "d2.test", "d3.test", "d5.test"], "--compare", "last")
    assert code == 4 and drift["verdict"] == "changed"
    kinds = {(c["domain"], c["check"]): c["kind"] for c in drift["changes"]}
    assert kinds[("d1.test", "mx.microsoft365")] == "better" and kinds[("d3.test", "mx.present")] == "recovered"

    # run 4: nothing moved; --quiet prints nothing at all
    capsys.readouterr()
    code, drift = audit(tmp_path, world, ["d1.test", "d2.test", "d3.test", "d5.test"], "--compare", "last")
    assert code == 0 and drift["verdict"] == "no change"
    assert capsys.readouterr().out == ""

    # the baseline, runs and diff commands
    history = ["--history", str(tmp_path / "h.sqlite")]
    assert main(["baseline", "set", "1", *history]) == 0
    code, drift = audit(tmp_path, world, ["d1.test", "d2.test", "d3.test", "d5.test"], "--compare", "baseline")
    assert code == 5 and drift["before_run"] == 1
    capsys.readouterr()
    assert main(["diff", "1", "2", *history]) == 5
    assert re.search(rf"Compared with run 1 \({READABLE}\)", capsys.readouterr().out)
    assert main(["diff", *history]) == 0  # the last two runs: 4 and 5 compare as no change
    assert main(["runs", *history]) == 0
    listing = capsys.readouterr().out
    assert len(re.findall(rf"^\s*\d+\s+{READABLE}", listing, re.M)) == 5 and "yes" in listing
    assert not re.search(ISO_TIME, listing)  # people read the listing: no 2026-12-02T01:23:45.123456+00:00
    assert main(["diff", "99", *history]) == 2
    assert main(["baseline", "set", "99", *history]) == 2


def test_reports_show_the_changes(tmp_path, world):
    audit(tmp_path, world, ["d1.test"])
    world.add_zone_text("d1.test.", good_zone("d1.test", mx="10 mail.d1.test."))
    out = tmp_path / "with-reports"
    code, _ = audit(tmp_path, world, ["d1.test"], "--compare", "last", "--format", "json,xlsx,html", out=out)
    assert code == 5
    import openpyxl

    book = openpyxl.load_workbook(out / "report.xlsx")
    assert book.sheetnames[:3] == ["Overview", "Summary", "Changes"]
    rows = list(book["Changes"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Regression", "Domain", "Check", "Change")
    assert ("Yes", "d1.test", "mx.microsoft365", "worse") in [r[:4] for r in rows]
    html = (out / "report.html").read_text()
    assert 'id="changes"' in html and "regressed" in html
    assert re.search(rf"Since run 1 \({READABLE}\)", html) and not re.search(ISO_TIME, html)
    run_sheet = dict(row[:2] for row in book["Run"].iter_rows(values_only=True) if row[0])
    assert re.fullmatch(READABLE, run_sheet["Started"]) and re.match(rf"run 1 \({READABLE}\)", run_sheet["Compared with"])
    assert re.fullmatch(ISO_TIME + r".*", json.loads((out / "drift.json").read_text())["before_started"])  # for machines


def test_keep_retains_the_newest_runs_and_the_baseline(tmp_path, world):
    for _ in range(4):
        audit(tmp_path, world, ["d1.test"])
    assert main(["baseline", "set", "1", "--history", str(tmp_path / "h.sqlite")]) == 0
    audit(tmp_path, world, ["d1.test"], "--keep", "2")
    with History(tmp_path / "h.sqlite", lock=False) as history:
        assert [r.id for r in history.runs()] == [1, 4, 5]


def bulk_csv(tmp_path, world, domains: int) -> Path:
    """``domains`` names under bulk.test, each with an MX, answered slowly (50 ms) by ``world``."""
    world.add_zone_text("bulk.test.", "@ SOA ns hostmaster 1 3600 600 86400 300\n*.bulk.test. MX 10 mail.bulk.test.")
    world.delay = 0.05
    csv = tmp_path / "bulk.csv"
    csv.write_text("domain\n" + "\n".join(f"n{i}.bulk.test" for i in range(domains)) + "\n")
    return csv


def slow_run(tmp_path, world, domains: int, *extra: str, started: Path | None = None,
             group: bool = False) -> subprocess.Popen:
    """A CLI audit in a subprocess that takes a while (the server answers slowly; 3,000 domains, as 400 could
    end before the test interrupted them now that waiting costs no slot). With ``started``, that file appears
    once the child's interpreter has started (its site module imported a sitecustomize of the test's). With
    ``group`` it leads a process group of its own, as a shell's foreground job does."""
    csv = bulk_csv(tmp_path, world, domains)
    env = {**os.environ, "PYTHONPATH": ""}
    if started is not None:
        (tmp_path / "site").mkdir(exist_ok=True)
        (tmp_path / "site" / "sitecustomize.py").write_text(f"open({str(started)!r}, 'w').close()\n")
        env["PYTHONPATH"] = str(tmp_path / "site")
    with sigint_for_child():
        return subprocess.Popen(
            [sys.executable, "-m", "dnsaudit", "audit", str(csv), "--nameserver", f"127.0.0.1:{world.port}",
             "--checks", "mx.present,mx.null", "--no-probes", "--format", "json", "--concurrency", "2",
             "--history", str(tmp_path / "h.sqlite"), "--out", str(tmp_path / "slow"), "--quiet", *extra],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=group)


@contextlib.contextmanager
def sigint_for_child():
    """The child hears SIGINT as from a terminal's Ctrl-C, however this suite was started.

    A shell ignores SIGINT for a job it starts in the background of a script (``pytest &``),
    an ignored signal stays ignored across exec, and dnsaudit, like Python and asyncio, then
    leaves it ignored: the test's SIGINT did nothing, the run went on to its end (exit 0, or
    past the test's timeout). A handler set here is reset to the default in the child."""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def wait_for_domains(path: Path, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
                row = db.execute("SELECT COUNT(*) FROM domains WHERE run_id = "
                                 "(SELECT MAX(id) FROM runs WHERE status = 'running')").fetchone()
                if row and row[0] >= count:
                    return
        except sqlite3.Error:
            pass
        time.sleep(0.05)
    raise AssertionError("the slow run never stored domains")


def test_a_killed_run_leaves_the_history_consistent_and_is_never_a_baseline(tmp_path, world):
    assert audit(tmp_path, world, ["d1.test", "d2.test"])[0] == 0
    proc = slow_run(tmp_path, world, 3000)
    try:
        wait_for_domains(tmp_path / "h.sqlite", 5)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    world.delay = 0
    code, drift = audit(tmp_path, world, ["d1.test", "d2.test"], "--compare", "last")
    assert code == 0 and drift["before_run"] == 1  # not the killed run 2
    with History(tmp_path / "h.sqlite", lock=False) as history:
        runs = history.runs()
        assert [(r.id, r.status) for r in runs] == [(1, "complete"), (2, "incomplete"), (3, "complete")]
        assert runs[1].domains >= 5  # what it finished is kept
        assert history.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        with pytest.raises(HistoryError, match="incomplete"):
            history.resolve("2")


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_interrupted_run_exits_130_and_keeps_what_it_finished(tmp_path, world, workers):
    proc = slow_run(tmp_path, world, 3000, "--workers", workers)
    try:
        wait_for_domains(tmp_path / "h.sqlite", 5)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted: the reports are missing or incomplete" in err and b"Traceback" not in err
    assert b"'dnsaudit report --run 1' writes their reports" in err
    with History(tmp_path / "h.sqlite", lock=False) as history:
        (run,) = history.runs()
        assert run.status == "incomplete" and run.domains >= 5
    assert not (tmp_path / "slow" / "results.json").exists()
    assert main(["report", "--run", "1", "--history", str(tmp_path / "h.sqlite"), "--out", str(tmp_path / "kept")]) == 0
    written = {p.name for p in (tmp_path / "kept").iterdir()}
    assert written >= {"results.json", "report.xlsx", "report.html", "findings.csv"}
    kept = json.loads((tmp_path / "kept" / "results.json").read_text())
    assert len(kept["domains"]) == run.domains and all(d["input"]["domain"].endswith(".bulk.test")
                                                        for d in kept["domains"])


# Seconds after the child's interpreter started: importing the CLI, reading the input, opening
# the history, starting the workers, the first results, the audit well under way.
MOMENTS = {"1": (0.02, 0.07, 0.15, 0.25, 0.35, 0.5, 0.65, 0.8, 1.0, 1.3, 1.7, 2.2),
           "2": (0.1, 0.3, 0.5, 0.7, 0.9, 1.2, 1.6, 2.2)}


@pytest.mark.parametrize(("workers", "to"), [("1", "process"), ("2", "process"), ("2", "group")])
def test_ctrl_c_at_any_moment_is_one_line_and_130(tmp_path, world, workers, to):
    """Interrupted while the CLI imports, the input is read, the history opened, the workers start or the audit
    runs: exit code 130 (not -2, not 0), one line, no traceback, and the process gone within seconds (a SIGINT
    heard by asyncio's handler while the workers started was lost until all 3,000 domains were done).

    ``group``: the SIGINT goes to the whole process group, as a terminal's Ctrl-C does, the workers too: a
    worker still importing printed its traceback; one cut short before multiprocessing noted it was never
    stopped (seen in tmux). Nothing of the run may be left afterwards."""
    failures = []
    for attempt, after in enumerate(MOMENTS[workers]):
        folder = tmp_path / str(attempt)
        folder.mkdir()
        started = folder / "started"
        proc = slow_run(folder, world, 3000, "--workers", workers, started=started, group=to == "group")
        deadline = time.monotonic() + 30
        while not started.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(after)
        if to == "group":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        try:
            _out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            _out, err = proc.communicate()
            failures.append(f"{after} s: still running 20 s after SIGINT; stderr {err[-300:]!r}")
            continue
        finally:
            if to == "group":
                left = group_left(proc.pid)
                if left:
                    failures.append(f"{after} s: {left} process(es) of the run still there after it ended")
        took = time.monotonic() - sent
        one_line = err.count(b"\n") == 1 and err.startswith(b"dnsaudit: interrupted") and b"Traceback" not in err
        if proc.returncode != 130 or not one_line or took > 10:
            failures.append(f"{after} s: exit {proc.returncode} after {took:.1f} s, stderr {err[-300:]!r}")
    assert not failures, "\n".join(failures)


def group_left(pgid: int) -> int:
    """How many processes of the group are left 2 s after its leader ended (they are killed then)."""
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.05)
    left = len([p for p in Path("/proc").iterdir() if p.name.isdigit() and _pgid(p) == pgid])
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    return left


def _pgid(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().rsplit(")", 1)[1].split()[2])
    except (OSError, IndexError, ValueError):
        return None


def bulk_audit(tmp_path, world, *extra: str) -> list[str]:
    return ["audit", str(bulk_csv(tmp_path, world, 3000)), "--nameserver", f"127.0.0.1:{world.port}", "--checks", "mx.present,mx.null",
            "--no-probes", "--format", "json", "--concurrency", "2", "--history", str(tmp_path / "h.sqlite"),
            "--out", str(tmp_path / "slow"), "--quiet", *extra]


def test_a_ctrl_c_that_python_swallowed_still_stops_a_run_with_workers(tmp_path, world, monkeypatch, capsys,
                                                                       swallow):
    """Swallowed while the main process waits for the workers' results (before dnsaudit.sigint: the run went on
    to its end, exit 0 after all 3,000 domains): 130, one line, the finished domains kept."""
    from dnsaudit import pipeline

    heard = pipeline._Heard.domain_done

    def domain_done(self, done: int, total: int) -> None:
        heard(self, done, total)
        if done == 5:
            swallow(KeyboardInterrupt())

    monkeypatch.setattr(pipeline._Heard, "domain_done", domain_done)
    code = main(bulk_audit(tmp_path, world, "--workers", "2"))
    err = capsys.readouterr().err
    assert code == 130, err
    assert err.startswith("dnsaudit: interrupted") and err.count("\n") == 1 and "Exception ignored" not in err
    with History(tmp_path / "h.sqlite", lock=False) as history:
        (run,) = history.runs()
        assert run.status == "incomplete" and 5 <= run.domains < 3000


def test_a_ctrl_c_that_python_swallowed_while_the_command_loaded_stops_it_before_the_audit(tmp_path, world,
                                                                                            monkeypatch, capsys,
                                                                                            swallow):
    """As the command's entry point runs it (``dnsaudit`` and ``python -m dnsaudit``): swallowed before the
    arguments are read, the audit never starts."""
    from dnsaudit import __main__ as entry
    from dnsaudit import cli

    build = cli.build_parser

    def build_parser():
        swallow(KeyboardInterrupt())
        return build()

    monkeypatch.setattr(cli, "build_parser", build_parser)
    monkeypatch.setattr(sys, "argv", ["dnsaudit", *bulk_audit(tmp_path, world)])
    assert entry.run() == 130
    err = capsys.readouterr().err
    assert err == "dnsaudit: interrupted\n"
    assert not (tmp_path / "h.sqlite").exists() and not (tmp_path / "slow").exists()


def test_report_needs_a_results_file_or_a_run(tmp_path, capsys):
    assert main(["report", "--history", str(tmp_path / "h.sqlite")]) == 2
    assert "give either RESULTS_JSON or --run ID" in capsys.readouterr().err
    assert main(["report", "--run", "7", "--history", str(tmp_path / "h.sqlite")]) == 2
    assert "there is no run 7" in capsys.readouterr().err


def test_overlapping_runs_cannot_share_a_history(tmp_path, world, capsys):
    proc = slow_run(tmp_path, world, 3000)
    try:
        wait_for_domains(tmp_path / "h.sqlite", 1)
        code, _ = audit(tmp_path, world, ["d1.test"], "--compare", "last")
        assert code == 6  # nothing to compare with but what the other run is writing
        assert "another dnsaudit run (pid" in capsys.readouterr().err
        code, _ = audit(tmp_path, world, ["d1.test"])  # without --compare: audited, reported, not stored
        assert code == 0
        assert "not stored in the history" in capsys.readouterr().err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)


def test_migration_from_schema_1_keeps_the_runs(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[1])
    db.execute("INSERT INTO runs (started, finished, status, input_file, tool_version, info_json) VALUES "
               "('2026-01-01T00:00:00+00:00', '2026-01-01T00:01:00+00:00', 'complete', 'in.csv', '0.0.1', '{}')")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with History(path) as history:
        assert history.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        (run,) = history.runs()
        assert run.status == "complete" and run.baseline is False
        history.set_baseline(1)
        assert history.resolve("baseline").id == 1


def test_a_history_from_a_newer_dnsaudit_is_refused(tmp_path):
    path = tmp_path / "new.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}").connection.close()
    with pytest.raises(HistoryError, match="newer dnsaudit"):
        History(path).__enter__()


def test_the_readme_crontab_line_works_as_written(tmp_path, world):
    line = next(ln for ln in README.read_text().splitlines() if re.match(r"^\d+ \d+ \* \* \* ", ln))
    command = line.split(" ", 5)[5].replace("\\%", "%")
    folder = re.search(r"cd (\S+) &&", command).group(1)
    command = command.replace(folder, str(tmp_path))
    (tmp_path / "domains.csv").write_text("domain\nd1.test\nd2.test\n")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "PYTHONPATH": "",
           "DNSAUDIT_NAMESERVER": f"127.0.0.1:{world.port}", "XDG_DATA_HOME": str(tmp_path / "data")}

    def cron() -> subprocess.CompletedProcess:
        return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=120)

    first = cron()
    assert first.returncode in (0, 1), first.stderr  # the first run has nothing to compare with
    time.sleep(1.1)  # the default output folder is named by the second
    second = cron()
    assert (second.returncode, second.stdout) == (0, ""), second.stderr
    world.add_zone_text("d1.test.", good_zone("d1.test", mx="10 mail.d1.test."))
    time.sleep(1.1)
    third = cron()
    assert third.returncode == 5
    assert "regressed" in third.stdout and "d1.test  mx.microsoft365  pass -> fail" in third.stdout
    assert len(list((tmp_path / "dnsaudit-runs").iterdir())) == 3


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    """Whether ``pid`` is there and not a zombie (ended, waiting to be reaped)."""
    try:
        return (Path(f"/proc/{pid}") / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc, and workers fork on Linux only")
def test_the_workers_of_a_killed_run_end_soon(tmp_path, world):
    """A forked worker must not hold a read end of its own pipe (nor of another's): then, its
    main process killed, its next result breaks the pipe and it ends, instead of auditing on
    until the pipe is full and waiting there forever."""
    proc = slow_run(tmp_path, world, 3000, "--workers", "2")
    try:
        wait_for_domains(tmp_path / "h.sqlite", 5)
        workers = [pid for pid in _children(proc.pid)
                   if "dnsaudit" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")]
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert len(workers) == 2
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(map(_running, workers)):
        time.sleep(0.1)
    alive = [pid for pid in workers if _running(pid)]
    for pid in alive:  # leave nothing behind, then fail
        os.kill(pid, signal.SIGKILL)
    assert alive == []
