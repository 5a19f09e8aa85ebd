"""The summary printed at the end of a run: one line per domain, worst first, fitted to the terminal.

On a terminal the table is as wide as the window (``shutil.get_terminal_size``): Score and
Verdict keep their width, Grade is left out when the window is narrow (the score says it),
Domain and Client give up space down to a minimum, and "First problem" gets the rest, cut
with "…". A domain longer than its column wraps after a dot onto the next lines, never cut:
two long names that differ in the middle (``shop1.eu.contoso.com``, ``shop2.eu.…``) must stay
two names people can tell apart. Anything that is not a terminal (a pipe, a
file, cron's mail) gets every column at full length, because nothing will wrap it.
``COLUMNS`` (as shells set it, or a user) names the width in either case.
"""

from __future__ import annotations

import os
import shutil
import sys
import unicodedata

from dnsaudit.model import AuditRun
from dnsaudit.reports.view import domain_rows, sole_client
from dnsaudit.reports.view import totals as view_totals
from dnsaudit.text import plural, printable

GAP = "  "
DROPPABLE = ("Grade",)  # left out when the last column would get less than ROOMY
ROOMY = 40
SHRINKABLE_MIN = {"Client": 8, "Domain": 12}  # narrowed (Client first) only when the last column would
LAST_MIN = 20  # get less than LAST_MIN, and to no less than this; past that the table overflows
WRAPPED = ("Domain",)  # a cell too long for these columns goes on over the next lines instead of being cut


def terminal_width(stream=None) -> int | None:
    """The width to fit: $COLUMNS, else the terminal's; None when ``stream`` is no terminal."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    stream = stream or sys.stdout
    try:
        if not stream.isatty():
            return None
        return os.get_terminal_size(stream.fileno()).columns or shutil.get_terminal_size().columns
    except (AttributeError, ValueError, OSError):  # a closed or unusual stream
        return None


def summary(run: AuditRun, width: int | str | None = "auto") -> str:
    """The table and the totals line; ``width`` None prints every column in full."""
    if width == "auto":
        width = terminal_width()
    with_client = sole_client(run) is None
    headers = ["Domain", *(["Client"] if with_client else []), "Score", "Grade", "Verdict", "First problem"]
    rows = []
    for d in domain_rows(run):  # each row has the domain's entry and score
        top = d.top
        row = [printable(d.entry.label, 300)]
        if with_client:
            row.append(printable(d.entry.client, 300))
        row += [str(d.score.points) if d.score.points >= 0 else "-", d.score.grade, d.score.verdict.value,
                printable(f"{top.check_id}: {top.message}", 5000) if top else ""]
        rows.append(row)
    totals = view_totals(run)["verdicts"]
    line = ", ".join(f"{n} {v}" for v, n in totals.items() if n)
    return f"{table(headers, rows, width, right={'Score'})}\n\n{plural(len(run.domains), 'domain')}: {line}"


def table(headers: list[str], rows: list[list[str]], width: int | None, right: set[str] = frozenset()) -> str:
    """A plain table (header, dashes, rows; two spaces between columns), the last column given what is left."""
    widths = [max([display_width(h)] + [display_width(r[i]) for r in rows]) for i, h in enumerate(headers)]
    if width is not None:
        for name in DROPPABLE:
            if name in headers and _room(widths, width) < min(widths[-1], ROOMY):
                i = headers.index(name)
                headers, widths = headers[:i] + headers[i + 1:], widths[:i] + widths[i + 1:]
                rows = [r[:i] + r[i + 1:] for r in rows]
        widths = _fit(headers, widths, width)
    lines = [_line(headers, widths, headers, right), GAP.join("-" * w for w in widths)]
    wrapped = {i for i, h in enumerate(headers) if h in WRAPPED and i < len(headers) - 1}
    for row in rows:
        rest = {i: wrap_name(row[i], widths[i]) for i in wrapped if display_width(row[i]) > widths[i]}
        lines.append(_line([rest[i][0] if i in rest else cell for i, cell in enumerate(row)], widths, headers, right))
        for n in range(1, max(map(len, rest.values()), default=0)):  # the rest of a long name, under it
            lines.append(_line([rest[i][n] if i in rest and n < len(rest[i]) else "" for i in range(len(row))],
                               widths, headers, set()))
    return "\n".join(lines)


def wrap_name(name: str, width: int) -> list[str]:
    """``name`` in lines of at most ``width`` columns, broken after a dot where it can be
    (``autodiscover.`` / ``contoso.com``), inside a label only when one is wider than the line."""
    lines, line = [], ""
    for label in name.replace(".", ".\0").split("\0"):
        while display_width(label) > width:  # a label wider than the line: broken where it must
            if line:
                lines.append(line)
                line = ""
            head = cut(label, width + 1)[:-1]  # the most that fits, without the "…"
            lines.append(head)
            label = label[len(head):]
        if display_width(line + label) > width:
            lines.append(line)
            line = ""
        line += label
    return [*lines, line] if line else lines or [""]


def _room(widths: list[int], width: int) -> int:
    """Columns left for the last column when the others have ``widths``."""
    return width - len(GAP) * (len(widths) - 1) - sum(widths[:-1])


def _fit(headers: list[str], widths: list[int], width: int) -> list[int]:
    """Widths that fit ``width``: the last column takes the rest, shrinkable ones give way first."""
    widths = list(widths)
    want = min(widths[-1], LAST_MIN)
    for name, floor in SHRINKABLE_MIN.items():
        room = _room(widths, width)
        if name not in headers or room >= want:
            continue
        i = headers.index(name)
        widths[i] -= max(0, min(widths[i] - floor, want - room))
    widths[-1] = max(min(widths[-1], _room(widths, width)), min(widths[-1], LAST_MIN))
    return widths


def _line(cells: list[str], widths: list[int], headers: list[str], right: set[str]) -> str:
    out = []
    for i, (cell, w) in enumerate(zip(cells, widths, strict=True)):
        cell = cut(cell, w)
        pad = " " * (w - display_width(cell))
        if headers[i] in right:
            out.append(pad + cell)
        elif i == len(cells) - 1:
            out.append(cell)  # no trailing blanks
        else:
            out.append(cell + pad)
    return GAP.join(out).rstrip()  # an empty last cell leaves no blanks behind the verdict


def display_width(text: str) -> int:
    """Terminal columns: wide (East Asian) characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def cut(text: str, width: int) -> str:
    """``text`` in at most ``width`` columns, a cut marked with "…"."""
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        w = display_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"
