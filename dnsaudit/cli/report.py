"""``dnsaudit report``: the reports again, from a results.json or a stored run (no network)."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dnsaudit import results_read
from dnsaudit.cli.exits import EXIT_OK, EXIT_USAGE, err
from dnsaudit.cli.parser import globs
from dnsaudit.text import printable

if TYPE_CHECKING:
    from dnsaudit.model import AuditRun


def writers_for(args: argparse.Namespace) -> list[Any]:  # report writer instances (reports.base)
    """The report writers that --format asks for (all when it is not given); a broken
    third-party writer nobody asked for by name is a warning, an error with --strict-plugins
    (the policy of ``dnsaudit audit``)."""
    from dnsaudit.registry import load_writers

    loaded = load_writers(globs(args.format), strict=args.strict_plugins)
    for warning in loaded.warnings:
        err(f"warning: {warning}")
    return [cls() for cls in loaded.writers]


def cmd_report(args: argparse.Namespace) -> int:
    if (args.results is None) == (args.run is None):  # before the writers are loaded: a usage error is quick
        err("give either RESULTS_JSON or --run ID")
        return EXIT_USAGE
    from dnsaudit.registry import PluginError

    try:
        writers = writers_for(args)
    except PluginError as exc:
        err(str(exc))
        return EXIT_USAGE
    if args.run is not None:
        from dnsaudit.history import History, HistoryError, default_path

        try:
            with History(args.history or default_path(), lock=False) as history:
                run = history.load(args.run)
        except HistoryError as exc:
            err(str(exc))
            return EXIT_USAGE
        return _render(args, run, writers)
    try:
        with open(args.results, encoding="utf-8") as handle:
            data = json.load(handle)
        violation = schema_violation(data)
        if violation:
            err(f"{args.results} is not a usable dnsaudit results file: {violation}")
            return EXIT_USAGE
        run = results_read.run_from_dict(data)
        drift_file = Path(args.results).with_name("drift.json")
        if drift_file.is_file():
            from dnsaudit.drift import Drift

            run = dataclasses.replace(run, drift=Drift.from_dict(json.loads(drift_file.read_text(encoding="utf-8"))))
    except OSError as exc:
        err(f"cannot read {args.results}: {exc.strerror or exc}")
        return EXIT_USAGE
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:  # valid, yet not readable
        err(f"{args.results} is not a usable dnsaudit results file: {type(exc).__name__}: {exc}")
        return EXIT_USAGE
    return _render(args, run, writers)


def schema_violation(data: object) -> str:
    """The first place where ``data`` breaks results.schema.json, as ``at run.nameservers[0]: ...``; "" if none.

    A results.json edited by hand or by another tool is read by code that trusts its shape:
    checking the shape first turns a traceback into a line that says where to look.
    """
    from importlib import resources

    import jsonschema

    schema = json.loads((resources.files("dnsaudit") / "results.schema.json").read_text(encoding="utf-8"))
    error = next(iter(jsonschema.Draft202012Validator(schema).iter_errors(data)), None)
    if error is None:
        return ""
    where = "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in error.absolute_path)
    return printable(f"at {where.lstrip('.') or 'the top level'}: {error.message}", 300)


def _render(args: argparse.Namespace, run: AuditRun, writers: list[Any]) -> int:
    from dnsaudit.config import DEFAULT_TITLE
    from dnsaudit.output import prepare_out_dir, write_reports

    try:
        out_dir = prepare_out_dir(args.out, dt.datetime.now())
    except OSError as exc:
        err(str(exc))
        return EXIT_USAGE
    from dnsaudit.workers import auto_workers

    for path in write_reports(run, out_dir, writers, split_by=args.split_by, title=args.title or DEFAULT_TITLE,
                              processes=auto_workers(len(run.domains))):
        print(path)
    return EXIT_OK
