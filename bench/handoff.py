#!/usr/bin/env python3
"""Benchmark the way a finished domain takes from a worker process to the main process.

    python bench/handoff.py                      # 10,000 domains, 3 rounds
    python bench/handoff.py --domains 2000 --rounds 5 --no-history

No audit and no DNS: a spawned process plays a worker that has just finished its domains
(the check cases' golden results in ``bench/html_page.py``'s MSP-like mix) and sends each
one as ``dnsaudit.workers`` does; this process receives them with the workers' own receive
loop, spools them and stores each in a real history file, as ``dnsaudit audit`` does. It
prints, per domain, the CPU the sender spent after the checks (serialising, compressing,
sending) and the CPU this process spent (receiving, spooling, the history), with the bytes
sent, spooled and stored. The two sides are CPU seconds (``time.process_time``) of the
sending loop and of the receive loop only; give the load average (printed) with them.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def _sender(count: int, history: bool, conn) -> None:
    """The worker's side: make the results (not timed), then send them as a worker does (timed)."""
    import pickle

    from html_page import synthetic_run

    from dnsaudit import workers
    from dnsaudit.net.dns import DnsStats

    results = synthetic_run(count).domains
    packer = workers.Packer()
    conn.send_bytes(b"ready")  # the receiver starts its clock once the results exist
    started = time.process_time()
    sent = 0
    for position, result in enumerate(results):
        for message in workers.result_messages(packer, position, result, history):
            sent += len(message)
            conn.send_bytes(message)
    cpu = time.process_time() - started
    # "done" as a worker says it; the bytes sent ride in the slot of its peak memory
    conn.send_bytes(pickle.dumps(("done", (DnsStats(), float(sent), cpu)), pickle.HIGHEST_PROTOCOL))
    conn.close()


def one_round(count: int, history_on: bool, folder: Path) -> dict[str, float]:
    from dnsaudit import workers
    from dnsaudit.history import History
    from dnsaudit.run_history import RunHistory
    from dnsaudit.spool import PackedResults

    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_sender, args=(count, history_on, send), daemon=True)
    process.start()
    send.close()
    path = folder / f"history-{time.monotonic_ns()}.sqlite"
    history = RunHistory()
    with History(path) as opened:
        if history_on:
            history.history = opened
        from html_page import synthetic_run

        info = synthetic_run(1).info
        run_id = history.call("begin", info)

        def finished(domain: str, row) -> None:
            history.call("add_row", run_id, domain, row)

        assert receive.recv_bytes() == b"ready"
        results = PackedResults(count)
        report = workers.WorkerReport()
        started = time.process_time()
        workers._receive({receive: list(range(count))}, {receive: process}, results, report, finished)
        history.call("finish", run_id, info)
        main_cpu = time.process_time() - started
    process.join()
    stored = path.stat().st_size + sum(p.stat().st_size for p in folder.glob(path.name + "-*"))
    return {"worker_us": 1e6 * report.cpu_seconds[0] / count, "main_us": 1e6 * main_cpu / count,
            "sent_bytes": report.peak_rss_mb[0] / count, "spool_bytes": results.nbytes / count,
            "history_bytes": stored / count if history_on else 0.0}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-history", action="store_true", help="as dnsaudit audit --no-history")
    args = parser.parse_args()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    rounds = []
    with tempfile.TemporaryDirectory(prefix="dnsaudit-handoff-bench-") as folder:
        for _ in range(args.rounds):
            rounds.append(one_round(args.domains, not args.no_history, Path(folder)))
            r = rounds[-1]
            print(f"per domain: worker {r['worker_us']:.0f} us, main {r['main_us']:.0f} us; sent "
                  f"{r['sent_bytes']:.0f} B, spooled {r['spool_bytes']:.0f} B, history {r['history_bytes']:.0f} B")
    worker = [r["worker_us"] for r in rounds]
    main_ = [r["main_us"] for r in rounds]
    print(f"median of {args.rounds}: worker {statistics.median(worker):.0f} us ({min(worker):.0f}-{max(worker):.0f}), "
          f"main {statistics.median(main_):.0f} us ({min(main_):.0f}-{max(main_):.0f}) per domain; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
