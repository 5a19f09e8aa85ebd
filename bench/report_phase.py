#!/usr/bin/env python3
"""The report phase of a real run, in one process, for counting instructions.

    python bench/run.py --domains 300 --delay-ms 1 --keep       # prints "kept: FOLDER"
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out \\
        python bench/report_phase.py FOLDER/out/results.json
    valgrind --tool=callgrind --callgrind-out-file=/tmp/cg0.out \\
        python bench/report_phase.py FOLDER/out/results.json --stop-after-pack
    callgrind_annotate /tmp/cg.out | grep "PROGRAM TOTALS"    # less cg0's: the phase alone

Why: on this repository's machine kind the CPU seconds of the same run move by a third from
one minute to the next (other guests of the hypervisor: ``bench/run.py`` prints the time they
stole), while callgrind's instruction count is the same twice. The sixth round's report
changes were each measured this way (bench/README.md).

What it does: reads the results.json, packs every domain into a ``PackedResults`` spool with
its history row, as the worker processes of a run leave them (``--stop-after-pack`` ends
here: the part to subtract), then ``prepare_views`` (the survey, which renders every domain's
pieces ahead) and each default format's writer in turn, printing the CPU seconds of each.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="results.json of a run (bench/run.py --keep leaves one)")
    parser.add_argument("--stop-after-pack", action="store_true",
                        help="stop once the domains are packed (the fixed part, to subtract)")
    args = parser.parse_args()

    from dnsaudit import registry
    from dnsaudit.model import AuditRun
    from dnsaudit.output import _write_format, prepare_views
    from dnsaudit.results_read import run_from_dict
    from dnsaudit.spool import PackedResults
    from dnsaudit.workers import history_row

    loaded = run_from_dict(json.loads(args.results.read_text(encoding="utf-8")))
    packed = PackedResults(len(loaded.domains))
    for index, domain in enumerate(loaded.domains):
        packed.put(index, PackedResults.pack(domain), row=history_row(domain))
    if args.stop_after_pack:
        return 0
    run = AuditRun(loaded.info, packed)
    writers = [cls() for cls in registry.load_writers([]).writers]
    out = Path(tempfile.mkdtemp(prefix="dnsaudit-report-phase-"))
    started = time.process_time()
    views = prepare_views(run, out, None, "T", 1, writers)
    print(f"survey   {time.process_time() - started:.2f} s CPU ({len(loaded.domains)} domains)")
    for writer in writers:
        started = time.process_time()
        _write_format(writer, run, views, out, "T")
        print(f"{writer.format:8s} {time.process_time() - started:.2f} s CPU")
    print(f"reports in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
