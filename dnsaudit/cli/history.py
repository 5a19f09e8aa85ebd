"""The history subcommands: ``dnsaudit runs``, ``dnsaudit diff``, ``dnsaudit baseline``."""

from __future__ import annotations

import argparse
import json

from tabulate import tabulate

from dnsaudit.cli.exits import EXIT_HISTORY, EXIT_OK, EXIT_USAGE, err
from dnsaudit.drift import compare
from dnsaudit.history import History, HistoryError, UnknownRun, default_path
from dnsaudit.text import plural, printable, readable_time


def run_command(args: argparse.Namespace) -> int:
    path = args.history or default_path()
    if not path.exists():
        err(f"no history at {path} yet: run 'dnsaudit audit' first (or give --history FILE)")
        return EXIT_HISTORY
    try:
        writes = (args.command == "baseline" and args.action == "set") or (args.command == "runs" and args.prune)
        with History(path, lock=writes) as history:
            return {"runs": _runs, "diff": _diff, "baseline": _baseline}[args.command](args, history)
    except UnknownRun as exc:
        err(str(exc))
        return EXIT_USAGE
    except HistoryError as exc:
        err(str(exc))
        return EXIT_HISTORY


def _runs(args: argparse.Namespace, history: History) -> int:
    if args.prune:
        removed = history.keep(args.prune)
        before, after = history.compact()
        print(f"removed {plural(removed, 'run')}; {history.path} went from {_mb(before)} to {_mb(after)}")
        return EXIT_OK
    rows = [[r.id, printable(readable_time(r.started), 40), printable(readable_time(r.finished or ""), 40), r.status,
             r.domains, "yes" if r.baseline else "", printable(r.input_file, 200)]  # a stored path: text like any
            for r in history.runs()]
    print(tabulate(rows, headers=["Run", "Started", "Finished", "Status", "Domains", "Baseline", "Input"]))
    return EXIT_OK


def _mb(size: int) -> str:
    return f"{size / 1e6:,.1f} MB"


def _diff(args: argparse.Namespace, history: History) -> int:
    if len(args.runs) > 2:
        err("give at most two runs: dnsaudit diff [RUN_A] [RUN_B]")
        return EXIT_USAGE
    newer = history.resolve(args.runs[1] if len(args.runs) == 2 else "last")
    if newer is None:
        err("the history holds no complete run")
        return EXIT_HISTORY
    older = history.resolve(args.runs[0], before=None) if args.runs else history.resolve("last", before=newer.id)
    if older is None:
        err(f"no complete run before run {newer.id} to compare with")
        return EXIT_HISTORY
    drift = compare(history.load(older.id), history.load(newer.id), older.id, newer.id)
    print(json.dumps(drift.to_dict(), indent=2) if args.json else "\n".join(drift.lines()))
    return drift.exit_code


def _baseline(args: argparse.Namespace, history: History) -> int:
    if args.action == "set":
        if args.run_id is None:
            err("which run? dnsaudit baseline set RUN_ID (see 'dnsaudit runs')")
            return EXIT_USAGE
        history.set_baseline(args.run_id)
        print(f"run {args.run_id} is now the baseline")
        return EXIT_OK
    current = history.resolve("baseline")
    print(f"baseline: run {current.id} ({readable_time(current.started)})" if current else "no baseline set")
    return EXIT_OK
