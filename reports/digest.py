"""What the reports condense: each check's status per domain (the matrix), the executive
summary of a run, the one line for a domain nothing could be tested on, and the fixes.

Derived from the results model alone, once per run, so the workbook, the page and the
CSVs say the same thing. Kept apart from ``view`` (rows, records, text safety): this is
what a reader gets *instead of* every finding.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from dnsaudit.markup import doc_text
from dnsaudit.model import AuditRun, DomainResult, Finding, Status, Verdict
from dnsaudit.reports.view import domain_rows
from dnsaudit.text import printable

PROBLEMS = (Status.FAIL, Status.WARN, Status.ERROR)
CELL = {Status.PASS: "pass", Status.INFO: "info", Status.WARN: "warn", Status.FAIL: "fail",
        Status.ERROR: "could not test", Status.SKIP: "skip"}


def untestable(domain: DomainResult) -> str:
    """For a domain whose every check that ran could not test: one line with the reasons
    (instead of a dozen near-identical rows); "" for any other domain."""
    ran = [f for f in domain.findings if f.status is not Status.SKIP]
    if not ran or any(f.status is not Status.ERROR for f in ran):
        return ""
    reasons = Counter(f.reason.value for f in ran if f.reason)
    checks = len({f.check_id for f in ran})
    why = ", ".join(f"{reason} ({n})" for reason, n in reasons.most_common())
    return f"None of the {checks} checks could test: {why}. First: {ran[0].message}"


def problems(domain: DomainResult, ordered: list[Finding]) -> list[Finding]:
    return [f for f in ordered if f.status in PROBLEMS]


def quiet(ordered: list[Finding]) -> tuple[list[Finding], list[Finding], list[str]]:
    """What a page folds into one line: info notes, skips, and the ids of the checks that passed."""
    info = [f for f in ordered if f.status is Status.INFO]
    skips = [f for f in ordered if f.status is Status.SKIP]
    passed = list(dict.fromkeys(f.check_id for f in ordered if f.status is Status.PASS))
    return info, skips, passed


@dataclass(frozen=True)
class Problem:
    check_id: str
    title: str  # what good looks like, in the check's own words
    status: Status  # fail or warn: the worst seen
    domains: int


@dataclass(frozen=True)
class Executive:
    """The run (or the client) for a manager: verdict counts, most common problems, blockers."""

    domains: int
    verdicts: dict[str, int]
    top: list[Problem]  # the five most common problems, by domains affected
    blockers: list[Problem]  # the checks whose failure blocks cutover, by domains blocked
    untested: int  # domains on which nothing could be tested

    def sentences(self) -> list[str]:
        """The summary in words: what is ready, what blocks cutover, what to do first."""
        v = self.verdicts
        ready = v["ready"] + v["ready with warnings"]
        warned = v["ready with warnings"]
        lines = [f"{ready} of {self.domains} domains are ready to receive mail in Microsoft 365"
                 + (f" ({warned} of them with warnings to fix)." if warned else ".")]
        if v["blocked"]:
            causes = "; ".join(f"“{_plain(p.title)}” for {_count(p.domains)} ({p.check_id})"
                               for p in self.blockers[:3])
            lines.append(f"{_count(v['blocked'])} {_be(v['blocked'])} blocked: moving their mail now would break it. "
                         f"Not yet true: {causes}.")
        if v["could not assess"]:
            extra = f"; {_count(self.untested)} answered nothing at all" if self.untested else ""
            lines.append(f"{_count(v['could not assess'])} could not be assessed (DNS or a server did not answer"
                         f"{extra}): run the audit again for {'it' if v['could not assess'] == 1 else 'them'}.")
        if self.top:
            first = self.top[0]
            lines.append(f"Most common problem: “{_plain(first.title)}” is not yet true for "
                         f"{_count(first.domains)} ({first.check_id}).")
        return lines


def _count(n: int) -> str:
    return f"{n} domain" if n == 1 else f"{n} domains"


def _be(n: int) -> str:
    return "is" if n == 1 else "are"


def _plain(title: str) -> str:
    return title.rstrip(".").replace("``", "")


def executive(run: AuditRun) -> Executive:
    """From the report rows (``view.domain_rows``), no pass of its own over the domains;
    cached per run: the page and the workbook both show it."""
    cached = run.derived.get(_EXECUTIVE)
    if cached is not None:
        return cached
    titles = {c.id: c.title for c in run.info.checks}
    verdicts = {v.value: 0 for v in Verdict}
    affected: Counter = Counter()
    worst: dict[str, Status] = {}
    blocking: Counter = Counter()
    untested = count = 0
    for row in domain_rows(run):
        count += 1
        verdicts[row.score.verdict.value] += 1
        for check_id, status in row.statuses.items():
            if status in (Status.FAIL, Status.WARN):
                affected[check_id] += 1
                if check_id not in worst or status.rank > worst[check_id].rank:
                    worst[check_id] = status
        if row.score.verdict is Verdict.BLOCKED:
            blocking.update(row.score.blocking)
        untested += row.untested
    order = sorted(affected, key=lambda c: (-affected[c], -worst[c].rank, c))
    top = [Problem(c, titles.get(c, c), worst[c], affected[c]) for c in order[:5]]
    blockers = [Problem(c, titles.get(c, c), Status.FAIL, n)
                for c, n in sorted(blocking.items(), key=lambda item: (-item[1], item[0]))]
    result = Executive(count, verdicts, top, blockers, untested)
    run.derived[_EXECUTIVE] = result
    return result


_EXECUTIVE = "reports.digest.executive"  # the key of the summary in AuditRun.derived


def zone_fixes(domain: DomainResult) -> str:
    """``fixes/<domain>.zone``: every record the domain's fails and warns propose, once each, in
    zone-file syntax, worst finding first; what is not a record (deletions, placeholders to
    fill in) as comments. A name that holds one record only (a CNAME, the SPF or DMARC TXT)
    gets the first proposal; a later, different one for it stays a comment to merge by hand,
    as two SPF records would make SPF fail for every message (RFC 7208 §4.5)."""
    lines: list[str] = []
    seen: set[str] = set()
    single: set[tuple[str, str]] = set()
    findings = sorted((f for f in domain.findings if f.status in (Status.FAIL, Status.WARN) and f.remediation),
                      key=lambda f: (-f.status.rank, -f.severity.rank, f.check_id))
    for f in findings:
        block = [f"; {f.check_id} ({f.status.value}): {printable(' '.join(f.message.split()), 200)}"]
        for line in f.remediation.splitlines():
            line = printable(line.strip(), 4000)
            if not line or line in seen:
                continue
            seen.add(line)
            key = _single_valued(line)
            if key is None:
                block.append("; " + line)
            elif key[1] and key in single:
                block.append("; also proposed, merge by hand: " + line)
            else:
                single.add(key)
                block.append(line)
        if len(block) > 1:
            lines += block + [""]
    if not lines:
        return ""
    head = [f"; Records that fix the findings of {printable(domain.entry.label, 300)} (dnsaudit). Review each",
            "; before importing: a record replaces the one of the same name and type, it is not added beside it.",
            f"$ORIGIN {domain.entry.domain}.", ""]
    return "\n".join(head + lines)


def _single_valued(line: str) -> tuple[str, str] | None:
    """None when ``line`` is not a record; else (owner and type, and a kind when the name
    may hold one such record only, "" when several are fine, like MX)."""
    parts = line.split(None, 4)
    if len(parts) < 5 or not parts[0].endswith(".") or not parts[1].isdigit() or parts[2] != "IN" or "<" in line:
        return None
    owner, rdtype, value = parts[0].lower(), parts[3].upper(), parts[4].lstrip('"').lower()
    if rdtype == "CNAME":
        return (owner + " CNAME", "cname")
    for prefix in ("v=spf1", "v=dmarc1", "v=stsv1", "v=tlsrptv1"):
        if rdtype == "TXT" and value.startswith(prefix):
            return (owner + " " + prefix, prefix)
    return (owner + " " + rdtype + " " + value, "")


def fix_advice(doc: str) -> str:
    """The "Fix:" paragraph of a check's documentation (its advice in one place), or ""."""
    _, found, rest = doc.partition("Fix:")
    text = doc_text(" ".join(rest.split("\n\n")[0].split()))
    return text[:1].upper() + text[1:] if found else ""
