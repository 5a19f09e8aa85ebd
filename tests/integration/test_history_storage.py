"""How the history stores results: compressed with a frozen dictionary, old text rows still read, space reclaimed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from dnsaudit import results_read
from dnsaudit.history import MIGRATIONS, History, HistoryError, HistoryLocked, pack_result, unpack_result

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def example_results(tmp_path_factory) -> dict:
    """results.json of the example list, audited offline from the example zones."""
    from dnsaudit.cli import main

    out = tmp_path_factory.mktemp("examples")
    code = main(["audit", str(ROOT / "domains.example.csv"), "--zone", str(ROOT / "examples" / "zones"), "--offline",
                 "--no-history", "--format", "json", "--out", str(out), "--quiet"])
    assert code in (0, 1)
    return json.loads((out / "results.json").read_text())


def store(path: Path, results: dict, runs: int = 1, copies: int = 1) -> None:
    info = results_read.info_from_dict(results["run"])
    with History(path) as history:
        for _ in range(runs):
            run_id = history.begin(info)
            for copy in range(copies):
                for domain in results["domains"]:
                    history.add_domain(run_id, f"{copy}.{domain['input']['domain']}", json.dumps(domain))
            history.finish(run_id, info)


def test_the_dictionary_is_frozen():
    # Every stored row needs these bytes to be read back: never edit the file, add a new format.
    data = (ROOT / "dnsaudit" / "history.zdict").read_bytes()
    assert hashlib.sha256(data).hexdigest() == "eb758447223967e95189e464727a2903ab6ce3b6dfb4de42080a44ced1ae09e2"


def test_results_are_stored_compressed_and_read_back_unchanged(tmp_path, example_results):
    store(tmp_path / "h.sqlite", example_results)
    with History(tmp_path / "h.sqlite", lock=False) as history:
        stored = history.db.execute("SELECT typeof(result_json), length(result_json) FROM domains").fetchall()
        run = history.load(1)
    assert {kind for kind, _ in stored} == {"blob"}
    plain = [len(json.dumps(d).encode()) for d in example_results["domains"]]
    average = sum(size for _, size in stored) / len(stored)
    assert average <= 2048 and average * 5 < sum(plain) / len(plain)  # about 9 KB of JSON each, under 2 KB stored
    assert [d.to_dict() for d in run.domains] == example_results["domains"]


def test_rows_of_an_older_history_are_still_read(tmp_path, example_results):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)  # a schema 2 history: results as JSON text
    for step in (1, 2):
        db.executescript(MIGRATIONS[step])
    db.execute("INSERT INTO runs (started, finished, status, input_file, tool_version, info_json) VALUES "
               "('2026-01-01T00:00:00+00:00', '2026-01-01T00:01:00+00:00', 'complete', 'in.csv', '0.0.1', ?)",
               (json.dumps(example_results["run"]),))
    db.executemany("INSERT INTO domains (run_id, domain, result_json) VALUES (1, ?, ?)",
                   [(d["input"]["domain"], json.dumps(d)) for d in example_results["domains"]])
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    store(path, example_results)  # run 2 is written compressed next to the text rows of run 1
    with History(path, lock=False) as history:
        kinds = dict(history.db.execute("SELECT run_id, group_concat(DISTINCT typeof(result_json)) FROM domains "
                                        "GROUP BY run_id"))
        assert kinds == {1: "text", 2: "blob"}
        assert [d.to_dict() for d in history.load(1).domains] == example_results["domains"]
        assert [d.to_dict() for d in history.load(2).domains] == example_results["domains"]


# '{"domain": "contoso.com", "score": 100}' as schema 3 stored it: format byte 1, zlib with history.zdict
ZLIB_ROW = bytes.fromhex("01787dbd4f03df435e05024c6b25c0460268e908d8ab88750fb50004180c5c")


def test_rows_of_schema_3_still_read_and_new_rows_are_zstd():
    assert unpack_result(ZLIB_ROW) == '{"domain": "contoso.com", "score": 100}'
    text = '{"domain": "contoso.com", "results": []}' * 50
    row = pack_result(text)
    assert row[:1] == b"\x02" and row[1:5] == b"\x28\xb5\x2f\xfd"  # zstd's frame magic (RFC 8878 3.1.1)
    assert len(row) < len(text) // 10 and unpack_result(row) == text
    with pytest.raises(HistoryError, match="damaged"):
        unpack_result(ZLIB_ROW[:-3])


def test_a_damaged_zstd_row_is_an_error_never_other_text():
    text = '{"domain": "contoso.com", "results": [{"id": "mx.present", "status": "pass"}]}'
    row = pack_result(text)
    for position in range(1, len(row)):
        for bit in range(8):
            damaged = bytearray(row)
            damaged[position] ^= 1 << bit
            with contextlib.suppress(HistoryError):  # an error is right; other text never
                assert unpack_result(bytes(damaged)) == text, (position, bit)


def test_a_row_that_says_it_holds_too_much_is_damaged():
    import zstandard

    huge = b"\x02" + zstandard.ZstdCompressor().compress(b" " * (65 << 20))
    with pytest.raises(HistoryError, match=r"damaged.*bytes"):
        unpack_result(huge)


def test_a_damaged_or_unknown_row_is_a_history_error():
    assert unpack_result(pack_result('{"a": 1}')) == '{"a": 1}'
    with pytest.raises(HistoryError, match="damaged"):
        unpack_result(pack_result('{"a": 1}')[:-3])
    with pytest.raises(HistoryError, match="unknown format"):
        unpack_result(b"\x09abc")


def test_keep_and_compact_give_the_space_back(tmp_path, example_results):
    path = tmp_path / "h.sqlite"
    store(path, example_results, runs=6, copies=20)
    with History(path) as history:
        full = history.size()
        assert history.keep(1) == 5
        after_keep = history.size()
        before, after = history.compact()
        assert [r.id for r in history.runs()] == [6]
    assert after_keep < full / 2  # a new file vacuums incrementally: --keep alone gives space back
    assert after <= after_keep and before == after_keep
    assert path.stat().st_size == after


def test_compact_turns_on_incremental_vacuum_for_an_older_file(tmp_path, example_results):
    path = tmp_path / "h.sqlite"
    sqlite3.connect(path).execute("PRAGMA auto_vacuum = NONE").connection.close()
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE t (x)")  # the file exists with auto_vacuum off, as files made before schema 3
    db.execute("DROP TABLE t")
    db.commit()
    db.close()
    store(path, example_results, runs=4, copies=20)
    with History(path) as history:
        full = history.size()
        history.keep(1)
        assert history.size() > full * 0.9  # nothing given back without auto_vacuum
        _, after = history.compact()
        assert after < full / 2
        assert history.db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental from now on


HOLD = """
import sys, time
from dnsaudit.history import History
with History(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_the_lock_is_waited_for_when_asked(tmp_path):
    import subprocess
    import sys
    import time

    path = tmp_path / "h.sqlite"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(path), "1.5"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        started = time.monotonic()
        with pytest.raises(HistoryLocked, match=r"another dnsaudit run \(pid \d+\) .*\(waited 0.3 s\)"):
            History(path, wait=0.3).__enter__()
        assert time.monotonic() - started >= 0.3
        with History(path, wait=30) as second:  # the holder lets go after 1.5 s
            assert second.runs() == []
            assert holder.poll() is not None or time.monotonic() - started >= 1.0
    finally:
        holder.kill()
        holder.wait()


def test_runs_prune_keeps_the_newest_and_shrinks_the_file(tmp_path, example_results):
    import subprocess
    import sys

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)  # a schema 2 history with four runs of text rows, as dnsaudit wrote before
    for step in (1, 2):
        db.executescript(MIGRATIONS[step])
    for run in range(1, 5):
        db.execute("INSERT INTO runs (started, finished, status, input_file, tool_version, info_json) VALUES "
                   "(?, ?, 'complete', 'in.csv', '0.0.1', ?)",
                   (f"2026-01-0{run}T00:00:00+00:00", f"2026-01-0{run}T00:01:00+00:00",
                    json.dumps(example_results["run"])))
        db.executemany("INSERT INTO domains (run_id, domain, result_json) VALUES (?, ?, ?)",
                       [(run, f"{copy}.{d['input']['domain']}", json.dumps(d))
                        for copy in range(30) for d in example_results["domains"]])
    db.execute("UPDATE runs SET baseline = 1 WHERE id = 1")
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()
    full = path.stat().st_size
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run([str(Path(sys.executable).with_name("dnsaudit")), "runs", "--prune", "2", "--history",
                           str(path)], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"removed 1 run; {path} went from {full / 1e6:,.1f} MB to ")
    assert path.stat().st_size < full / 8  # the rest packed as well
    with History(path, lock=False) as history:
        assert [r.id for r in history.runs()] == [1, 3, 4]  # the baseline stays
        assert history.db.execute("SELECT DISTINCT typeof(result_json) FROM domains").fetchall() == [("blob",)]
        assert [d.to_dict() for d in history.load(4).domains][:6] == example_results["domains"]


def test_packed_bytes_hold_no_more_memory_than_their_size():
    """zstandard's compress hands back its worst-case buffer; what the spool and the history
    keep must be copied to its own size (a worker keeps thousands of them)."""
    import tracemalloc

    from dnsaudit.spool import Packer

    text = '{"domain": "contoso.com", "results": []}' * 300
    pack_result(text)  # the compressor is made before measuring
    tracemalloc.start()
    try:
        rows = [pack_result(text) for _ in range(200)]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 200 * (len(rows[0]) + 200)
    from dnsaudit.model import DomainEntry, DomainResult, Score, Verdict

    result = DomainResult(DomainEntry("contoso.com", 2, notes="x" * 12000), (), Score(100, "A", Verdict.READY), 0)
    packer = Packer()
    for _ in range(4):
        packer.pack(result)  # past the sample: the dictionary is made
    tracemalloc.start()
    try:
        packed = [packer.pack(result)[0] for _ in range(200)]
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held < 200 * (len(packed[0]) + 200)
