"""report.html: one self-contained page (inline CSS, JS and SVG; no network request when opened).

It opens with the executive summary (verdicts, what blocks cutover, the most common
problems, two small SVG charts), then the domain table, then per domain its problems in
full and what passed folded into one line, so that a page of 10,000 domains stays a
~10 MB file a browser opens in seconds (bench/README.md). The layout is one column on a
phone: the table drops its count columns, findings stack, long records wrap.

Rendered with Jinja2 and autoescaping, so every DNS, HTTP or input value is shown as
text. As a second line of defence the page carries a Content-Security-Policy that allows
only its own script, by hash: even a value that escaped escaping could not run. Every
value printed passes ``dnsaudit.text.report_text`` first (the environment's ``finalize``):
no NUL or ESC, bidi overrides shown as ``<U+202E>``, each value capped.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from importlib import resources

from dnsaudit.markup import doc_html
from dnsaudit.model import AuditRun, DomainEntry, DomainResult, Status, Verdict
from dnsaudit.reports.base import ReportWriter
from dnsaudit.reports.digest import PROBLEMS, executive, fix_advice, quiet, untestable
from dnsaudit.reports.prerender import reader
from dnsaudit.reports.view import (
    VERDICT_ORDER,
    clients,
    domain_rows,
    ordered_findings,
    score_text,
    sole_client,
    status_label,
    totals,
    waiver_lines,
)
from dnsaudit.text import readable_time, report_text

CHART_HEIGHT = 120
CHART_TOP = 16  # room for the count above the tallest bar
BAR_WIDTH = 28
BAR_GAP = 6
BAND_COLOURS = ["#b42318"] * 4 + ["#d4691e"] * 2 + ["#9a6700"] * 2 + ["#1e7b34"] * 3


def _template(name: str) -> str:
    return (resources.files("dnsaudit.reports") / "templates" / name).read_text(encoding="utf-8")


def score_chart(run: AuditRun) -> dict:
    """Bars for the score distribution: ten bands of ten points, then domains without a score."""
    counts = [0] * 11
    for row in domain_rows(run):
        points = row.score.points
        counts[10 if points < 0 else min(points // 10, 9)] += 1
    tallest = max(counts) or 1
    bars = []
    for i, count in enumerate(counts):
        height = round(CHART_HEIGHT * count / tallest)
        label = "none" if i == 10 else (f"{i * 10}-{i * 10 + 9}" if i < 9 else "90-100")
        # The axis names each band by its lowest score (11 ranges such as "80-89" did not fit
        # their bars); the bar's tooltip keeps the range. On a phone every other decade goes.
        bars.append({"x": i * (BAR_WIDTH + BAR_GAP), "y": CHART_TOP + CHART_HEIGHT - height, "h": height,
                     "count": count, "label": label, "tick": "none" if i == 10 else str(i * 10),
                     "minor": i in (1, 3, 5, 7), "colour": "#8c959f" if i == 10 else BAND_COLOURS[i]})
    return {"bars": bars, "bar_width": BAR_WIDTH, "height": CHART_TOP + CHART_HEIGHT,
            "width": 11 * (BAR_WIDTH + BAR_GAP)}


TABLE_CHUNK = 250  # rows per table of the domain list (see the template)
VERDICT_COLOURS = {Verdict.READY: "#1e7b34", Verdict.READY_WITH_WARNINGS: "#c9a227", Verdict.BLOCKED: "#b42318",
                   Verdict.COULD_NOT_ASSESS: "#8c959f"}


def verdict_chart(verdicts: dict[str, int]) -> dict:
    """Horizontal bars, one per verdict, worst first as in the table."""
    label_width, bar_max, step = 130, 180, 24
    tallest = max(verdicts.values()) or 1
    order = sorted(Verdict, key=VERDICT_ORDER.get)
    bars = [{"label": v.value, "count": verdicts[v.value], "y": i * step,
             "w": round(bar_max * verdicts[v.value] / tallest), "colour": VERDICT_COLOURS[v]}
            for i, v in enumerate(order)]
    return {"bars": bars, "label_width": label_width, "width": label_width + bar_max + 50, "height": len(order) * step}


@functools.cache
def _page():
    """The compiled template, its article macro (one domain's part, ``article.html.j2``), the
    page's CSS and script, and the script's hash: made once per process (compiling the
    template takes ~0.3 s, and ``--split-by client`` writes a page per client)."""
    import jinja2
    from markupsafe import Markup

    script = _template("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    css, script_markup = Markup(_template("report.css")), Markup(script)

    def finalize(value):  # every {{ value }} but the page's own CSS and script, and the articles
        if value is css or value is script_markup or type(value) is Article or not isinstance(value, str):
            return value
        if isinstance(value, Markup):  # escaped already (a join of values, say)
            return Markup(report_text(str(value), shown="&lt;U+{:04X}&gt;"))
        return report_text(value)

    loader = jinja2.DictLoader({name: _template(name) for name in ("report.html.j2", "article.html.j2")})
    env = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, finalize=finalize)
    env.filters["doc_html"] = lambda doc: Markup(doc_html(doc))  # a check's docstring: <p>, <code>, <em>
    env.filters["when"] = readable_time  # "2 Dec 2026 01:23 UTC", not ISO 8601
    # What the article macro reads besides its domain: the same for every page.
    env.globals.update(ordered=ordered_findings, untestable=untestable, quiet=quiet, problems=PROBLEMS,
                       label=status_label, S=Status, verdict_rank=dict(VERDICT_ORDER.items()), score_text=score_text,
                       anchor=anchor)
    article = env.get_template("article.html.j2").module.article  # type: ignore[attr-defined]
    return env.get_template("report.html.j2"), article, css, script_markup, digest


def anchor(entry: DomainEntry) -> str:
    """What a domain's ids (its row ``r-…``, its article ``d-…``) name it by: where it is, not
    where it lands, as an article is rendered before the rows are ordered. An audited domain's
    labels are letters, digits and hyphens (``dnsaudit.domains``): with its dots as
    underscores it is a CSS identifier as it is; a name of a results.json from elsewhere that
    is not one gets a hash of itself. The input row makes the id unique even in a
    results.json that lists a domain twice (two runs' files put together)."""
    domain = entry.domain
    name = domain.replace(".", "_") if _LDH_NAME.fullmatch(domain) else \
        "x" + hashlib.sha1(domain.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{name}-{entry.row}"


_LDH_NAME = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*")


class Article(str):
    """A domain's article, rendered (escaped and cleaned value by value): the page takes it as it is."""

    __slots__ = ()

    def __html__(self) -> str:
        return self


class HtmlReport(ReportWriter):
    format = "html"
    filename = "report.html"
    # The articles are rendered ahead (prerender); the table and the summary are not. Each
    # writer after the survey, 10,000 bench domains (bench/README.md, the fourteenth round):
    # xlsx 1.51 s, html 0.57, json 0.24, fixes 0.22, matrix 0.09, csv 0.08. With two report
    # processes these costs put xlsx alone and the rest together (1.2 s): xlsx 3 had put
    # json beside it, 1.75 s against 0.96.
    cost = 2
    prerender = True  # each domain's article

    def stream(self, run: AuditRun, title: str, handle) -> None:
        """Rendered piece by piece: a page for thousands of domains is never one string in memory."""
        template, _article, css, script_markup, digest = _page()
        summary = executive(run)
        piece = reader(run, self)

        def article(row) -> Article:  # rendered ahead where it was, else now (the domain decoded)
            data = None if piece is None else piece(row.index)
            return Article(data.decode("utf-8") if data else self._article(row.result))

        chunks = template.generate(
            title=title,
            run=run,
            totals=totals(run),
            rows=domain_rows(run),
            clients=clients(run) if sole_client(run) is None else [],
            sole_client=sole_client(run),
            verdicts=[v.value for v in sorted(Verdict, key=VERDICT_ORDER.get)],
            chart=score_chart(run),
            waived=waiver_lines(run),
            summary=summary,
            verdict_chart=verdict_chart(summary.verdicts),
            fixes={c.id: fix_advice(c.doc) for c in run.info.checks},
            chunk=TABLE_CHUNK,
            article=article,
            css=css,
            script=script_markup,
            script_hash=f"sha256-{digest}",
        )
        for chunk in chunks:
            handle.write(chunk.encode("utf-8"))

    def render_domain(self, run: AuditRun, domain: DomainResult) -> bytes:
        """The domain's article of "Problems, per domain"."""
        return self._article(domain).encode("utf-8")

    @staticmethod
    def _article(domain: DomainResult) -> str:
        return str(_page()[1](domain))
