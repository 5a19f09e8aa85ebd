"""The summary printed at the end of a run: one line per domain, worst first."""

from __future__ import annotations

from tabulate import tabulate

from dnsaudit.model import AuditRun
from dnsaudit.reports.view import clients, domain_rows
from dnsaudit.reports.view import totals as view_totals
from dnsaudit.text import printable


def summary(run: AuditRun, problem_width: int = 70) -> str:
    with_client = bool(clients(run))
    rows = []
    for d in domain_rows(run):  # each row has the domain's entry and score
        top = d.top
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
    totals = view_totals(run)["verdicts"]
    line = ", ".join(f"{n} {v}" for v, n in totals.items() if n)
    return f"{tabulate(rows, headers=headers, tablefmt='simple')}\n\n{len(run.domains)} domains: {line}"
