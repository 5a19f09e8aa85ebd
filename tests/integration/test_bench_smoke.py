"""The benchmark harness still works: 50 synthetic domains through Unbound and NSD, the delay
added by the kernel (netem in a private network namespace) or, where this machine has no
netem or namespaces, by the delay proxy (its UDP loop compiled from bench/delay_udp.c, or
in Python).

Not a performance test (figures are in bench/README.md); this only proves that the one
command of bench/README.md runs end to end on a clean checkout, worker processes included,
and that the delay is really applied (the harness times one question to each server).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def have(binary: str) -> bool:
    return bool(shutil.which(binary)) or Path(f"/usr/sbin/{binary}").exists()


@pytest.mark.parametrize("delay_by", ["auto", "python-proxy"])
def test_the_benchmark_harness_runs_end_to_end(delay_by):
    if not (have("unbound") and have("nsd")):
        pytest.fail("Debian's unbound and nsd are missing: the test command (bash tests/run) installs them")
    proc = subprocess.run([sys.executable, str(BENCH), "--domains", "50", "--delay-ms", "5", "--workers", "2",
                           "--delay-by", delay_by], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = dict(line.split(":", 1) for line in proc.stdout.splitlines() if ":" in line)
    assert figures["domains"].strip() == "50"
    if delay_by == "python-proxy":
        assert "UDP by the Python loop" in figures["delay by"], proc.stdout
    elif "proxy" in figures["delay by"]:  # no netem here: the C compiler the test command installs builds the loop
        assert "UDP by bench/delay_udp.c compiled" in figures["delay by"], proc.stdout
    else:
        assert re.match(r"\s*netem\b", figures["delay by"]), proc.stdout
    assert int(re.search(r"upstream (\d+) ms", figures["delay check"])[1]) >= 5, proc.stdout
    queries, questions = map(int, re.search(r"\((\d+) queries for (\d+) distinct", figures["DNS queries/second"]).groups())
    assert questions > 50 * 10 and queries >= questions  # every domain was really asked about
    assert re.search(r"workers: \d+ \+ \d+;", figures["peak memory"])  # two worker processes ran
    assert re.match(r"\s*\d+\.\d s", figures["wall time"])
    assert re.match(r"\s*\d+\.\d% of the machine's CPU time", figures["stolen CPU time"])  # Linux: /proc/stat
    for phase in ("audit", "reports"):
        assert phase in figures["time per phase"]
    # Unbound's own counters, read over its control socket (not "not read (...)")
    held = re.match(r"\s*at most (\d+) queries at once \(of 2048 a thread\), (\d+) dropped for newer ones, "
                    r"(\d+) dropped in all", figures["Unbound's list"])
    assert held and int(held[1]) >= 1, proc.stdout
    # tmpfs where the machine has one (the harness's own cleanup must not slow the next run)
    where = figures["work folder"].strip()
    assert where.startswith("/dev/shm (tmpfs") or "(no tmpfs at /dev/shm)" in where, where


def test_the_work_folder_goes_where_tmp_says_and_is_gone_after_the_run(tmp_path):
    if not (have("unbound") and have("nsd")):
        pytest.fail("Debian's unbound and nsd are missing: the test command (bash tests/run) installs them")
    proc = subprocess.run([sys.executable, str(BENCH), "--domains", "20", "--delay-ms", "1", "--workers", "1",
                           "--tmp", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"work folder:        {tmp_path} (--tmp)" in proc.stdout, proc.stdout
    assert list(tmp_path.iterdir()) == []  # made there, and removed at the end (no --keep)


def test_the_realistic_world_has_slow_and_lame_domains_and_only_the_lame_are_not_assessed():
    """--realistic: latency classes behind their own addresses and lame delegations; every
    slow-but-working domain gets its verdict, every dead one is "could not assess"."""
    if not (have("unbound") and have("nsd")):
        pytest.fail("Debian's unbound and nsd are missing: the test command (bash tests/run) installs them")
    proc = subprocess.run([sys.executable, str(BENCH), "--domains", "40", "--delay-ms", "5", "--realistic"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    checked = dict(re.findall(r"(\S+) (\d+) ms", proc.stdout.split("delay check:", 1)[1].splitlines()[0]))
    for kind, added in (("base", 0), ("+60ms", 60), ("+200ms", 200), ("+900ms", 900)):
        assert int(checked[kind]) >= 5 + added, proc.stdout  # each server's answers really wait their class's time
    assert "dead silent for" in proc.stdout  # a timeout, not an ICMP port unreachable
    classes = {m["kind"]: (int(m["count"]), int(m["failed"])) for m in re.finditer(
        r"class (?P<kind>\S+):\s+(?P<count>\d+) domains, .* could not assess (?P<failed>\d+)", proc.stdout)}
    assert set(classes) == {"base", "+60ms", "+200ms", "+900ms", "dead"}, proc.stdout
    assert sum(count for count, _ in classes.values()) == 40
    dead, failed = classes.pop("dead")
    assert dead >= 1 and failed == dead  # a lame delegation is never a verdict
    assert all(failed == 0 for _count, failed in classes.values()), proc.stdout


def test_the_report_phase_benchmark_writes_every_format_and_the_client_copies(tmp_path):
    bench = BENCH.with_name("reports.py")
    proc = subprocess.run([sys.executable, str(bench), "--domains", "45", "--split-by", "client", "--keep",
                           str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
    assert {"prepare", "csv", "fixes", "html", "json", "matrix", "xlsx", "all", "phase"} <= steps, proc.stdout
    for folder, entries in ((tmp_path / "one-by-one", 40), (tmp_path / "phase", 41)):  # the phase adds index.csv
        assert {p.name for p in folder.iterdir()} >= {"report.xlsx", "report.html", "findings.csv", "matrix.csv",
                                                     "results.json", "fixes", "clients"}
        assert len(list((folder / "clients").iterdir())) == entries


def test_the_report_phase_of_a_run_can_be_counted_alone(tmp_path):
    """bench/report_phase.py (run under callgrind to count the report phase's instructions)
    takes a run's results.json, and stops after packing when asked (the part to subtract)."""
    root = BENCH.parents[1]
    audit = subprocess.run([sys.executable, "-m", "dnsaudit", "audit", str(root / "domains.example.csv"), "--offline",
                            "--no-history", "--quiet", "--out", str(tmp_path / "run")],
                           capture_output=True, text=True, timeout=120)  # its own process: no state left in this one
    assert audit.returncode in (0, 1, 3), audit.stderr[-3000:]
    script = [sys.executable, str(BENCH.with_name("report_phase.py")), str(tmp_path / "run" / "results.json")]
    proc = subprocess.run(script, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    steps = {line.split()[0] for line in proc.stdout.splitlines()}
    assert {"survey", "csv", "fixes", "html", "json", "matrix", "xlsx"} <= steps, proc.stdout
    written = Path(proc.stdout.strip().splitlines()[-1].removeprefix("reports in "))
    assert (written / "report.html").stat().st_size > 0 and (written / "report.xlsx").exists()
    shutil.rmtree(written)
    packed_only = subprocess.run([*script, "--stop-after-pack"], capture_output=True, text=True, timeout=120)
    assert packed_only.returncode == 0 and packed_only.stdout == "", packed_only.stderr[-3000:]
