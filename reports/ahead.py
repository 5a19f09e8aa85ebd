"""The survey of a run's domains (``reports.scope.survey``) done by the audit's worker
processes in the audit's tail, while the last domains wait on their answers.

Why: the survey decodes every domain from the spool again (``dnsaudit.spool``), finds what
the reports for people must clean, and renders each domain's pieces of the files
(``reports.prerender``): at 10,000 domains 9 s of CPU, two thirds of the report phase. A
list with slow and dead domains ends its audit waiting seconds on their answers with every
core idle; the workers spend that time here (``dnsaudit.workers._TailSurvey``: once a
worker has no domain left to start, it surveys those it finished, then each as it
finishes, until its last domain is done). What they did not survey, the pass after the
audit does (``Surveyed`` tells it which). Measured in bench/README.md, the twelfth round.

The three parts, in the order they work:

* ``Ahead`` is made in the main process before the workers start: the writers that render
  ahead, the run's checks, whether the client cut's tokens are wanted, and the folder the
  pieces go to. Its ``plan`` travels to each worker (it is picklable).
* ``Surveyor``, in a worker, surveys a domain (``scope.survey_domain``), renders its pieces
  into the worker's own file and returns what the main process keeps: the report row's
  parts, whether a text may hold a local path, the tokens, and where the pieces went.
* ``Ahead.put`` keeps that, by the domain's index in the run; ``Ahead.install`` leaves it
  in the finished run (``scope.Surveyed``), and ``survey`` surveys only the other domains
  (those finished last, those of a worker that died, those whose survey failed there).

The pieces are byte for byte those the survey renders (``render_domain`` reads the domain
and ``run.info.checks`` only, which the worker's stand-in run holds): tests/reports/
test_prerender.py compares the files of both ways.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dnsaudit.model import AuditRun, CheckInfo, DomainEntry, DomainResult, RunInfo
from dnsaudit.reports import prerender
from dnsaudit.reports.scope import SURVEYED, Surveyed, for_people, survey_domain


@dataclass(frozen=True)
class AheadPlan:
    """What each worker needs to survey its domains (picklable: it is sent to the workers)."""

    writers: tuple[type, ...]  # the ReportWriter classes that render ahead (``prerender``)
    checks: tuple[CheckInfo, ...]  # the run's checks (``RunInfo.checks``): what a piece may read of the run
    tokens: bool  # collect the tokens a client's cut looks up (``--split-by client``)
    folder: Path | None  # where each worker's file of pieces goes (None: no writer renders ahead)

    def surveyor(self, number: int) -> Surveyor:
        """Worker ``number``'s surveyor (its pieces go to ``folder/<number>``)."""
        return Surveyor(self, number)


class Surveyor:
    """One worker's survey: ``add`` each domain as it finishes, ``close`` at the end."""

    def __init__(self, plan: AheadPlan, number: int) -> None:
        self._tokens = plan.tokens
        self._pieces = None
        if plan.folder is not None:
            stand_in = AuditRun(RunInfo("", "", "", "", (), plan.checks), ())
            self._pieces = prerender.PieceWriter(stand_in, [cls() for cls in plan.writers],
                                                 plan.folder / str(number))

    def add(self, domain: DomainResult, row: bytes = b"") -> tuple:
        """What the main process keeps of ``domain`` (``row``: its history row, or b""): its
        row's parts without the entry (the main process has it), whether it may hold a path,
        its tokens, and its pieces' offsets and lengths."""
        part, path, tokens = survey_domain(domain, True, self._tokens)
        spans = () if self._pieces is None else self._pieces.add(domain, for_people(domain, path), row)
        return part[1:], path, tokens, spans

    def close(self) -> None:
        """Flush the pieces: the main process reads them once the worker has gone."""
        if self._pieces is not None:
            self._pieces.close()


class Ahead:
    """The main process's side: the plan for the workers, and what they found, by index.

    What a worker found is used only once it has said it is done (``worker_done``): its file
    of pieces is complete then. A worker that died may have left it unflushed; the domains
    it surveyed are surveyed again after the audit."""

    def __init__(self, writers: Sequence, checks: Sequence[CheckInfo], entries: Sequence[DomainEntry],
                 tokens: bool) -> None:
        ahead = [w for w in writers if getattr(w, "prerender", False)]
        self.plan = AheadPlan(tuple(type(w) for w in ahead), tuple(checks), tokens,
                              prerender.new_folder() if ahead else None)
        self._formats = [w.format for w in ahead]
        self._entries = entries
        self._parts: list[tuple | None] = [None] * len(entries)
        self._paths: list[int] = []
        self._found_tokens: dict[int, tuple[str, ...]] = {}
        self._where = {fmt: prerender.unplaced(len(entries)) for fmt in self._formats}
        self._waiting: dict[int, list[tuple[int, tuple]]] = {}  # per worker still at work: (index, found)

    def put(self, index: int, number: int, found: tuple) -> None:
        """What worker ``number``'s ``Surveyor.add`` returned for the run's domain ``index``."""
        self._waiting.setdefault(number, []).append((index, found))

    def worker_done(self, number: int) -> None:
        """Worker ``number`` finished (its surveyor closed): what it found counts."""
        for index, (part, path, tokens, spans) in self._waiting.pop(number, ()):
            self._parts[index] = (self._entries[index], *part)
            if path:
                self._paths.append(index)
            if tokens:
                self._found_tokens[index] = tokens
            prerender.place(self._where, self._formats, index, number, spans)

    def install(self, run: AuditRun) -> None:
        """Leave in the finished ``run`` (its domains in the order of ``entries``) what the
        workers surveyed (``scope.Surveyed``): ``scope.survey`` surveys the others."""
        folder = self.plan.folder
        numbers = sorted(int(p.name) for p in folder.iterdir()) if folder is not None else []  # every worker's file
        run.derived[SURVEYED] = Surveyed(self._parts, self._paths, self._found_tokens if self.plan.tokens else None,
                                         folder, numbers, self._where)
        self._parts = []

    def discard(self) -> None:
        """Remove the pieces' folder: ``scope.survey`` does once it has opened the files; this
        is for a run that stopped before, or whose survey did not take them."""
        if self.plan.folder is not None:
            shutil.rmtree(self.plan.folder, ignore_errors=True)
