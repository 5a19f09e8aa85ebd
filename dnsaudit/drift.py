"""What changed between two runs, and whether it got worse.

Compared per domain and check (each check folded to its worst status, as scoring does):

* ``worse`` / ``better``: the status moved (pass/info/skip < warn < fail);
* ``untested``: the check could not test this time (a timeout is news, not a regression);
* ``recovered``: it could not test last time and passes now;
* ``observed``: same status, but what was observed changed (an MX or SPF edit is news
  to an MSP even when it is still correct). What the check observed is display text, so
  it counts as changed only when the evidence under it changed in value too: the DNS
  answers compared as values (name, type, outcome, the *set* of records, the CNAME
  chain), a note (an HTTP step, a certificate) as its text. A check that words or orders
  its observed text differently, or a line rendered another way, is no change; a check
  with no evidence in either run is compared by its observed values alone;
* ``added`` / ``removed`` checks, and domains added to or removed from the input;
* ``waived``: a problem is now accepted by a waiver of the policy file. It is not
  ``better`` (DNS did not improve); when the waiver expires or is removed the problem
  counts again and the change is ``worse``, a regression, shown as ``waived -> fail``.

A change where the check's version differs between the runs is labelled ``check
updated``: the verdict moved because dnsaudit changed, not because DNS did; it counts as a
change, never as a regression. A regression is any ``worse`` change caused by DNS.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from dnsaudit.model import AuditRun, DomainResult, Evidence, Severity, Status
from dnsaudit.scoring import per_check
from dnsaudit.text import printable, readable_time

EXIT_NO_CHANGE, EXIT_CHANGED, EXIT_REGRESSED = 0, 4, 5
LEVEL = {Status.SKIP: 0, Status.PASS: 0, Status.INFO: 0, Status.WARN: 1, Status.FAIL: 2}


class ChangeKind(enum.StrEnum):
    """What happened to one check of one domain between two runs (see the module docstring)."""

    WORSE = "worse"
    BETTER = "better"
    UNTESTED = "untested"
    RECOVERED = "recovered"
    OBSERVED = "observed"
    ADDED = "added"
    REMOVED = "removed"
    WAIVED = "waived"


@dataclass(frozen=True)
class Change:
    domain: str  # display name
    check_id: str
    kind: ChangeKind
    before: str = ""  # status
    after: str = ""
    before_observed: str = ""
    after_observed: str = ""
    check_updated: str = ""  # "1 -> 2" when the check's version changed

    @property
    def regression(self) -> bool:
        return self.kind is ChangeKind.WORSE and not self.check_updated

    def line(self) -> str:
        label = {"error": "could not test"}
        if self.kind in (ChangeKind.ADDED, ChangeKind.REMOVED):
            text = f"check {self.kind.value}"
        elif self.kind is ChangeKind.OBSERVED:
            text = f"changed: {_short(self.before_observed)} -> {_short(self.after_observed)}"
        else:
            text = f"{label.get(self.before, self.before)} -> {label.get(self.after, self.after)}"
            if self.before_observed != self.after_observed:
                text += f" ({_short(self.before_observed)} -> {_short(self.after_observed)})"
        cause = f" [check updated {self.check_updated}]" if self.check_updated else ""
        return f"{self.domain}  {self.check_id}  {text}{cause}"

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "check": self.check_id, "kind": self.kind.value, "before": self.before,
                "after": self.after, "before_observed": self.before_observed, "after_observed": self.after_observed,
                "check_updated": self.check_updated, "regression": self.regression}


@dataclass(frozen=True)
class ScoreChange:
    domain: str
    before: int | None
    after: int | None
    verdict_before: str
    verdict_after: str

    def to_dict(self) -> dict[str, Any]:
        return {"domain": self.domain, "score_before": self.before, "score_after": self.after,
                "verdict_before": self.verdict_before, "verdict_after": self.verdict_after}


@dataclass(frozen=True)
class Drift:
    before_run: int
    after_run: int | None
    before_started: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changes: tuple[Change, ...] = ()
    scores: tuple[ScoreChange, ...] = ()

    @property
    def regressed(self) -> bool:
        return any(c.regression for c in self.changes)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.changes or self.scores)

    @property
    def exit_code(self) -> int:
        return EXIT_REGRESSED if self.regressed else EXIT_CHANGED if self.changed else EXIT_NO_CHANGE

    @property
    def verdict(self) -> str:
        return "regressed" if self.regressed else "changed" if self.changed else "no change"

    def lines(self) -> list[str]:
        """The comparison for a terminal: one line each, every remote value through ``printable``."""
        out = [f"Compared with run {self.before_run} ({readable_time(self.before_started)}): {self.verdict}."]
        out += [f"  + domain added: {d}" for d in self.added]
        out += [f"  - domain removed: {d}" for d in self.removed]
        out += [("  ! " if c.regression else "    ") + c.line() for c in self.changes]
        out += [f"    {s.domain}  score {_score(s.before)} -> {_score(s.after)} "
                f"({s.verdict_before} -> {s.verdict_after})" for s in self.scores]
        return [printable(line, 1000) for line in out]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "dnsaudit-drift", "schema_version": 1,
            "before_run": self.before_run, "after_run": self.after_run, "before_started": self.before_started,
            "verdict": self.verdict, "exit_code": self.exit_code,
            "domains_added": list(self.added), "domains_removed": list(self.removed),
            "changes": [c.to_dict() for c in self.changes], "scores": [s.to_dict() for s in self.scores],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Drift:
        changes = tuple(Change(c["domain"], c["check"], ChangeKind(c["kind"]), c["before"], c["after"],
                               c["before_observed"], c["after_observed"], c["check_updated"]) for c in data["changes"])
        scores = tuple(ScoreChange(s["domain"], s["score_before"], s["score_after"], s["verdict_before"],
                                   s["verdict_after"]) for s in data["scores"])
        return cls(data["before_run"], data["after_run"], data["before_started"], tuple(data["domains_added"]),
                   tuple(data["domains_removed"]), changes, scores)


def compare(before: AuditRun, after: AuditRun, before_id: int, after_id: int | None) -> Drift:
    old = {d.entry.domain: d for d in before.domains}
    new = {d.entry.domain: d for d in after.domains}
    versions_before = {c.id: c.version for c in before.info.checks}
    versions_after = {c.id: c.version for c in after.info.checks}
    changes: list[Change] = []
    scores: list[ScoreChange] = []
    for domain in (d for d in new if d in old):
        changes += _domain_changes(old[domain], new[domain], versions_before, versions_after)
        a, b = old[domain].score, new[domain].score
        if (a.points, a.verdict) != (b.points, b.verdict):
            scores.append(ScoreChange(new[domain].entry.label, _points(a.points), _points(b.points),
                                      a.verdict.value, b.verdict.value))
    return Drift(
        before_run=before_id, after_run=after_id, before_started=before.info.started,
        added=tuple(new[d].entry.label for d in new if d not in old),
        removed=tuple(old[d].entry.label for d in old if d not in new),
        changes=tuple(changes), scores=tuple(scores),
    )


def _domain_changes(old: DomainResult, new: DomainResult, v_old: dict[str, str],
                    v_new: dict[str, str]) -> list[Change]:
    label = new.entry.label
    before, after = per_check(old.findings), per_check(new.findings)
    seen_before, seen_after = _observed(old), _observed(new)
    waived_before, waived_after = _waived(old, before), _waived(new, after)
    changes = []
    for check in sorted(set(before) | set(after)):
        updated = f"{v_old.get(check)} -> {v_new.get(check)}" if v_old.get(check) != v_new.get(check) else ""
        if check not in after:
            changes.append(Change(label, check, ChangeKind.REMOVED, before[check][0].value, check_updated=updated))
            continue
        if check not in before:
            changes.append(Change(label, check, ChangeKind.ADDED, after=after[check][0].value, check_updated=updated))
            continue
        s_old, s_new = before[check][0], after[check][0]
        o_old, o_new = seen_before.get(check, ()), seen_after.get(check, ())
        kind = _kind(s_old, s_new, o_old != o_new and _values_changed(old, new, check))
        if kind is ChangeKind.BETTER and check in waived_after:
            kind = ChangeKind.WAIVED
        shown_old = "waived" if check in waived_before else s_old.value
        shown_new = "waived" if check in waived_after else s_new.value
        if kind is not None:
            changes.append(Change(label, check, kind, shown_old, shown_new, " | ".join(o_old), " | ".join(o_new),
                                  updated))
    return changes


def _waived(result: DomainResult, folded: dict[str, tuple[Status, Severity]]) -> set[str]:
    """Checks whose problems are all waived: they count as a pass, but are shown as waived."""
    waived = {f.check_id for f in result.findings if f.waived}
    return {c for c in waived if LEVEL.get(folded[c][0], 0) == 0}


def _kind(old: Status, new: Status, observed_changed: bool) -> ChangeKind | None:
    if old is new:
        return ChangeKind.OBSERVED if observed_changed and new is not Status.ERROR else None
    if new is Status.ERROR:
        return ChangeKind.UNTESTED
    if old is Status.ERROR:
        return ChangeKind.WORSE if LEVEL[new] > 0 else ChangeKind.RECOVERED
    if LEVEL[new] > LEVEL[old]:
        return ChangeKind.WORSE
    if LEVEL[new] < LEVEL[old]:
        return ChangeKind.BETTER
    return ChangeKind.OBSERVED if observed_changed else None


def _observed(result: DomainResult) -> dict[str, tuple[str, ...]]:
    """What each check observed, as values (sorted): compared as they are, so that two
    different sets of values never look alike once joined for display."""
    grouped: dict[str, list[str]] = {}
    for finding in result.findings:
        if finding.observed:
            grouped.setdefault(finding.check_id, []).append(finding.observed)
    return {check: tuple(sorted(values)) for check, values in grouped.items()}


def _values_changed(old: DomainResult, new: DomainResult, check: str) -> bool:
    """Whether the evidence of ``check`` differs in value between the runs (asked only when
    its observed text differs: rare, so not computed for every check of every domain)."""
    before, after = _facts(old, check), _facts(new, check)
    return before != after or not (before or after)


def _facts(result: DomainResult, check: str) -> frozenset[tuple[object, ...]]:
    """What the check's findings rest on, as values (see the module docstring)."""
    return frozenset(_value(e) for f in result.findings if f.check_id == check for e in f.evidence)


def _value(evidence: Evidence) -> tuple[object, ...]:
    if evidence.outcome is None:
        return ("note", evidence.text)
    return (evidence.name, evidence.type, evidence.outcome, frozenset(evidence.answers), evidence.cname_chain,
            frozenset(evidence.notes))


def _points(points: int) -> int | None:
    return points if points >= 0 else None


def _score(points: int | None) -> str:
    return "-" if points is None else str(points)


def _short(text: str, limit: int = 90) -> str:
    return printable(text.replace("\n", " / ") or "(none)", limit)
