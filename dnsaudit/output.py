"""Writing a run's reports: the output folder, the chosen formats, and per-client copies for MSPs.

Writers come from the ``dnsaudit.reports`` entry points (our own included, loaded by
dnsaudit.registry), so a third-party format installs the same way a built-in one does;
what this module needs of a writer it reads from the writer's class attributes (``cost``,
``per_client``), never from its format name.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

from dnsaudit.config import DEFAULT_TITLE
from dnsaudit.model import AuditRun


def default_out_dir(now: dt.datetime) -> Path:
    base = Path("dnsaudit-runs") / now.strftime("%Y-%m-%d_%H%M%S")
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}_{n}")
    return candidate


def prepare_out_dir(chosen: Path | None, now: dt.datetime) -> Path:
    """The output folder, created; never one that already holds files (no run is overwritten)."""
    out = chosen if chosen is not None else default_out_dir(now)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OSError(f"output folder {out} already exists and is not empty; give a new --out")
    out.mkdir(parents=True, exist_ok=True)
    return out


def check_writable(path: Path | None, option: str, *, folder: bool = False, parents: bool = True,
                   probe: bool = True) -> None:
    """Raise ValueError (one line naming ``option``) unless ``path`` can be written: a file
    (created or replaced) or, with ``folder``, a folder (created, or new files in it).
    ``parents``: missing folders on the way will be created (else they must exist).
    ``probe`` False checks the path's form only (a folder where a file goes, a file where a
    folder goes), not whether the file system lets us write today.

    Tried, not judged from permission bits: a temporary file is made and removed where the
    real one will go, so a read-only file system or root squashing shows as it is.
    """
    if path is None:
        return
    path = Path(path)
    if not folder and path.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file name in it")
    if folder and path.exists() and not path.is_dir():
        raise ValueError(f"{option} {path} is a file, not a folder")
    where = path if folder and path.is_dir() else path.absolute().parent
    if not parents and not where.exists():
        raise ValueError(f"{option} {path}: the folder {where} does not exist")
    while not where.exists() and where != where.parent:  # folders that do not exist yet get created
        where = where.parent
    if not where.is_dir():
        raise ValueError(f"{option} {path}: {where} is not a folder")
    if not probe:
        return
    try:
        with tempfile.TemporaryFile(dir=where, prefix=".dnsaudit-probe-"):
            pass
    except OSError as exc:
        raise ValueError(f"{option} {path}: cannot create files in {where} ({exc.strerror or exc})") from None
    if not folder and path.exists():
        try:
            with open(path, "ab"):
                pass
        except OSError as exc:
            raise ValueError(f"{option} {path}: cannot write it ({exc.strerror or exc})") from None


def write_reports(run: AuditRun, out_dir: Path, writers: list, *, split_by: str | None = None,
                  title: str = DEFAULT_TITLE, processes: int = 1) -> Written:
    """Write every report and return the files written; with ``split_by="client"`` also one
    set per client under clients/ (see ``reports.split`` for the folder names) and
    ``clients/index.csv``.

    Reports for people get the run as ``reports.scope`` cuts it: file names instead of local
    paths, and per client nothing of another client. results.json gets the run as it is.
    With ``processes`` > 1 (and ``os.fork``), the formats are written side by side in forked
    copies of this process, which inherit the results instead of receiving them. A run whose
    domains are packed (``PackedResults``) is read one domain at a time by every writer.
    """
    views = prepare_views(run, out_dir, split_by, title, processes, writers)
    try:
        tasks = [functools.partial(_write_format, w, run, views, out_dir, title) for w in writers]
        if processes > 1 and len(tasks) > 1 and hasattr(os, "fork"):
            written = _in_forked_processes(tasks, [w.cost for w in writers], processes)
        else:
            written = Written(path for task in tasks for path in task())
    finally:
        from dnsaudit.reports.prerender import close

        close(run)  # the pieces rendered ahead (their files are unlinked already)
    if split_by == "client":
        from dnsaudit.reports.base import write_atomic
        from dnsaudit.reports.split import index_csv

        index = out_dir / "clients" / "index.csv"
        write_atomic(index, index_csv(views.folders, views.verdicts))
        written.append(index)
    return written


@dataclasses.dataclass
class Views:
    """What the writers share, made once before they fork (they inherit it): the run for
    people, and with ``--split-by client`` each client's part (run, folder, title), with
    their rows and summaries computed."""

    people: AuditRun
    parts: list[tuple[AuditRun, Path, str]]
    folders: list  # reports.split.ClientFolder, in the order of ``parts``
    verdicts: list  # each domain's verdict, in the run's order (for clients/index.csv)


def prepare_views(run: AuditRun, out_dir: Path, split_by: str | None, title: str, processes: int = 1,
                  writers: Sequence[Any] = ()) -> Views:
    """The views of ``run`` the report writers render, with the client folders created; the
    one pass over the domains this takes (``reports.scope.survey``) runs in ``processes``
    forked processes, and renders each domain's piece of the ``writers`` that render ahead
    (``reports.prerender``)."""
    from dnsaudit.reports.digest import executive
    from dnsaudit.reports.scope import run_for_client, run_for_people, survey
    from dnsaudit.reports.split import plan_folders, unicode_names_work
    from dnsaudit.reports.view import rows_in_input_order

    mapper = functools.partial(_forked_map, processes=processes) if processes > 1 and hasattr(os, "fork") else None
    survey(run, mapper, tokens=split_by == "client", writers=writers)
    people = run_for_people(run)
    parts, folders, verdicts = [], [], []
    if split_by == "client":
        rows = rows_in_input_order(run)
        entries = [r.entry for r in rows]
        verdicts = [r.score.verdict for r in rows]
        clients_dir = out_dir / "clients"
        folders = plan_folders(entries, unicode_names_work(clients_dir))
        for folder in folders:
            (clients_dir / folder.folder).mkdir(parents=True, exist_ok=True)
            parts.append((run_for_client(run, folder.client, folder.indices, entries),
                          clients_dir / folder.folder, f"{title} — {folder.shown}"))
    for view in (people, *(part for part, _, _ in parts)):
        executive(view)
    return Views(people, parts, folders, verdicts)


def _forked_map(function, count: int, processes: int) -> list:
    """``[function(start, stop), ...]`` over ``processes`` consecutive ranges of ``range(count)``,
    each called in a forked process (which inherits what it reads); the results come back pickled."""
    bounds = [count * n // processes for n in range(processes + 1)]
    calls = [functools.partial(function, start, stop) for start, stop in itertools.pairwise(bounds)]
    results, _, _ = _forked(calls, [[n] for n in range(len(calls))])
    return [results[n] for n in range(len(calls))]


class Written(list):
    """The report files written, in the writers' order, and ``child_private_mb``: the memory
    of its own that each forked writer process held (for --stats; empty when the formats
    were written in this process), and ``child_cpu_s``, the CPU seconds of each (so that the
    benchmark shows the balance of the writers: the phase lasts as long as the slower)."""

    child_private_mb: tuple[float, ...] = ()
    child_cpu_s: tuple[float, ...] = ()


def _write_format(writer, run: AuditRun, views: Views, out_dir: Path, title: str) -> list[Path]:
    """One format: for machines (results.json) the run as it is, paths included, never split;
    for people the run for people and each client's part."""
    if not writer.per_client:
        return [writer.write(run, out_dir, title)]
    return [writer.write(views.people, out_dir, title),
            *(writer.write(part, folder, shown) for part, folder, shown in views.parts)]


def _in_forked_processes(tasks: list, costs: list[int], processes: int) -> Written:
    """Run the tasks in ``processes`` forked children, in groups of about equal cost, and
    wait for them. Output order is the tasks' order; a failure in any child is raised here."""
    groups: list[list[int]] = [[] for _ in range(min(processes, len(tasks)))]
    for index in sorted(range(len(tasks)), key=lambda i: -costs[i]):
        min(groups, key=lambda g: sum(costs[i] for i in g)).append(index)
    done, private_memory, cpu = _forked(tasks, groups)
    written = Written(path for i in range(len(tasks)) for path in done[i])
    written.child_private_mb = tuple(private_memory)
    written.child_cpu_s = tuple(cpu)
    return written


def _forked(calls: list, groups: list[list[int]]) -> tuple[dict, list[float], list[float]]:
    """Call ``calls`` in one forked child per group (indexes into ``calls``) and wait for them:
    each call's result by index, the memory of its own each child held and its CPU seconds.
    A failure in any child is raised here."""
    import contextlib
    import pickle
    import signal
    import traceback

    from dnsaudit.gctune import freeze_forked_child
    from dnsaudit.progress import private_mb
    from dnsaudit.sigint import deaf_to_sigint, held_sigint

    children: list[tuple[int, BinaryIO]] = []  # each writer and the read end of its pipe
    done, failures, interrupted, private_memory, cpu = {}, [], False, [], []
    reaped = 0
    try:
        for group in groups:
            read_end, write_end = os.pipe()
            # A Ctrl-C meanwhile is raised once the child is in ``children`` (stopped below),
            # and the child starts deaf to it: a terminal's Ctrl-C reaches the whole process
            # group, and one that came before the child's first line would have left it
            # through the parent's stack, printing the parent's "interrupted" line a second time.
            with held_sigint():
                pid = os.fork()
                if pid == 0:  # the child: write, report back, and leave without running the parent's cleanup
                    try:
                        deaf_to_sigint()  # the parent stops its writers when it is interrupted
                        freeze_forked_child()  # the collector would otherwise touch, and so copy, shared pages
                        os.close(read_end)
                        try:
                            payload = ("ok", {i: calls[i]() for i in group}, private_mb())
                        except KeyboardInterrupt:  # deaf to SIGINT, but a call may raise it all the same
                            payload = ("interrupted", "", 0.0)
                        except BaseException:  # noqa: BLE001 - the child reports any failure to the parent
                            payload = ("error", traceback.format_exc(), 0.0)
                        with os.fdopen(write_end, "wb") as pipe:
                            pipe.write(pickle.dumps(payload, pickle.HIGHEST_PROTOCOL))
                    finally:
                        os._exit(0)
                os.close(write_end)
                children.append((pid, os.fdopen(read_end, "rb")))
        for pid, pipe in children:
            with pipe:
                data = pipe.read()
            usage = os.wait4(pid, 0)[2] if hasattr(os, "wait4") else None
            reaped += 1
            kind, value, private = pickle.loads(data) if data else ("error", "the report process died", 0.0)
            if kind == "ok":
                done.update(value)
                private_memory.append(private)
                cpu.append(usage.ru_utime + usage.ru_stime if usage else 0.0)
            elif kind == "interrupted":
                interrupted = True
            else:
                failures.append(value)
    except BaseException:  # Ctrl-C here: the writers still at work stop too, none is left behind
        for other, pipe in children[reaped:]:
            with contextlib.suppress(OSError):  # this one may have ended already
                os.kill(other, signal.SIGKILL)
                os.waitpid(other, 0)
            pipe.close()  # closing twice is nothing: the one being read was closed as its read was cut short
        raise
    if interrupted:
        raise KeyboardInterrupt
    if failures:
        raise RuntimeError("writing a report failed:\n" + "\n".join(failures))
    return done, private_memory, cpu
