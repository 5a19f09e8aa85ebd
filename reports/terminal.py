"""The summary printed at the end of a run: one line per domain, worst first."""

from __future__ import annotations

from tabulate import tabulate

from dnsaudit.model import AuditRun, DomainResult, Verdict
from dnsaudit.scoring import top_problem
from dnsaudit.text import printable

VERDICT_ORDER = {Verdict.BLOCKED: 0, Verdict.COULD_NOT_ASSESS: 1, Verdict.READY_WITH_WARNINGS: 2, Verdict.READY: 3}


def worst_first(domains) -> list[DomainResult]:
    return sorted(domains, key=lambda d: (VERDICT_ORDER[d.score.verdict], d.score.points, d.entry.domain))


def summary(run: AuditRun, problem_width: int = 70) -> str:
    with_client = any(d.entry.client for d in run.domains)
    rows = []
    for d in worst_first(run.domains):
        top = top_problem(d.findings)
        problem = f"{top.check_id}: {top.message}" if top else ""
        row = [printable(d.entry.label, 60)]
        if with_client:
            row.append(printable(d.entry.client, 30))
        row += [
            d.score.points if d.score.points >= 0 else "-",
            d.score.grade,
            d.score.verdict.value,
            printable(problem, problem_width),
        ]
        rows.append(row)
    headers = ["Domain", *(["Client"] if with_client else []), "Score", "Grade", "Verdict", "First problem"]
    totals = run.totals()["verdicts"]
    line = ", ".join(f"{n} {v}" for v, n in totals.items() if n)
    return f"{tabulate(rows, headers=headers, tablefmt='simple')}\n\n{len(run.domains)} domains: {line}"
