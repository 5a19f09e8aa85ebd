#!/usr/bin/env python3
"""Benchmark the report phase without an audit: CPU seconds per writer, and the phase as a run does it.

    python bench/reports.py                       # 10,000 domains, every default format
    python bench/reports.py --domains 1000 --split-by client
    python bench/reports.py --profile /tmp/reports.prof --only html

The results are the check cases' golden results copied under new names in an MSP-like mix
(``bench/html_page.py``'s ``synthetic_run``: 40 clients), packed into a ``PackedResults``
spool as the worker processes of a real run leave them. Then:

* per step: what ``write_reports`` prepares before the writers fork (``prepare_views``: the
  rows and summaries every writer shares), then each format written in this process, one
  after the other, with its CPU seconds (``time.process_time``; with ``--split-by client``
  the per-client copies included);
* the phase: ``dnsaudit.output.write_reports`` as ``dnsaudit audit`` calls it (formats
  shared out over ``--processes`` forked writers), its wall time and the CPU seconds of
  this process and of the writer processes.

CPU seconds move less than wall time when the machine is shared, but they move too: give
the load average (printed) with any figure. ``--profile FILE`` writes a cProfile of the
per-writer part (``--only`` to narrow it to some formats).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from html_page import synthetic_run  # the bench folder is not a package


def packed_run(count: int):
    """The synthetic run with its domains spooled, as a run with worker processes has them."""
    from dnsaudit.model import AuditRun
    from dnsaudit.spool import PackedResults, Packer

    run = synthetic_run(count)
    packed, packer, dictionary = PackedResults(len(run.domains)), Packer(), 0
    for index, domain in enumerate(run.domains):
        data, with_dictionary, made = packer.pack(domain)
        dictionary = packed.add_dictionary(made) if made else dictionary
        packed.put(index, data, dictionary if with_dictionary else 0)
    return AuditRun(run.info, packed)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--domains", type=int, default=10_000)
    parser.add_argument("--split-by", choices=["client"], help="also the per-client copies, as the audit option")
    parser.add_argument("--processes", type=int, default=2, help="forked writers for the phase (default 2)")
    parser.add_argument("--only", nargs="*", default=[], help="formats to write (default: every registered one)")
    parser.add_argument("--skip-writers", action="store_true", help="only the phase, not each writer alone")
    parser.add_argument("--skip-phase", action="store_true", help="only each writer alone, not the phase")
    parser.add_argument("--profile", type=Path, help="cProfile of the per-writer part into this file")
    parser.add_argument("--keep", type=Path, help="write the reports into this folder and keep them")
    args = parser.parse_args(argv)

    from dnsaudit import output
    from dnsaudit.model import AuditRun
    from dnsaudit.registry import load_writers

    writers = [cls() for cls in load_writers(list(args.only)).writers]
    started = time.perf_counter()
    run = packed_run(args.domains)
    print(f"{args.domains:,} domains made and packed in {time.perf_counter() - started:.1f} s; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    base = args.keep or Path(tempfile.mkdtemp(prefix="dnsaudit-reports-bench-"))
    title = "Microsoft 365 mail readiness"
    try:
        if not args.skip_writers:
            out = base / "one-by-one"
            out.mkdir(parents=True, exist_ok=True)
            profiler = None
            if args.profile:
                import cProfile

                profiler = cProfile.Profile()
            fresh = AuditRun(run.info, run.domains)  # as the audit hands it over: nothing derived yet
            print(f"{'step':<8} {'CPU s':>7} {'wall s':>7}")
            cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
            if profiler:
                profiler.enable()
            views = output.prepare_views(fresh, out, args.split_by, title, args.processes, writers)
            if profiler:
                profiler.disable()
            cpu, children, wall = time.process_time() - cpu, _children_cpu() - children, time.perf_counter() - wall
            print(f"{'prepare':<8} {cpu:7.2f} {wall:7.2f}  (+ {children:.2f} CPU s in {args.processes} forked "
                  "processes: the survey, and the pieces rendered ahead)")
            cpu = cpu + children
            total = cpu
            for writer in writers:
                cpu, wall = time.process_time(), time.perf_counter()
                if profiler:
                    profiler.enable()
                output._write_format(writer, fresh, views, out, title)
                if profiler:
                    profiler.disable()
                cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
                total += cpu
                print(f"{writer.format:<8} {cpu:7.2f} {wall:7.2f}")
            print(f"{'all':<8} {total:7.2f}")
            if profiler:
                profiler.dump_stats(args.profile)
                print(f"profile: {args.profile}")
        if not args.skip_phase:
            out = base / "phase"
            out.mkdir(parents=True)
            fresh = AuditRun(run.info, run.domains)
            prepared = []
            prepare = output.prepare_views

            def timed_prepare(*args_, **kwargs):  # the part before the writers fork, timed
                started = time.perf_counter(), _children_cpu()
                views = prepare(*args_, **kwargs)
                prepared.append((time.perf_counter() - started[0], _children_cpu() - started[1]))
                return views

            output.prepare_views = timed_prepare
            cpu, children, wall = time.process_time(), _children_cpu(), time.perf_counter()
            written = output.write_reports(fresh, out, writers, split_by=args.split_by, title=title,
                                           processes=args.processes)
            cpu, children = time.process_time() - cpu, _children_cpu() - children
            wall = time.perf_counter() - wall
            output.prepare_views = prepare
            print(f"phase ({args.processes} processes{', split by client' if args.split_by else ''}): "
                  f"{wall:.2f} s wall, CPU {cpu:.2f} s here + {children:.2f} s in forked processes "
                  f"= {cpu + children:.2f} s; {len(written)} files/folders; writers' own memory "
                  f"{', '.join(f'{mb:.0f}' for mb in written.child_private_mb)} MB")
            print(f"  before the fork: {prepared[0][0]:.2f} s wall ({prepared[0][1]:.2f} CPU s forked); writers: "
                  f"{', '.join(f'{c:.2f}' for c in written.child_cpu_s)} CPU s each")
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
