"""Waivers: problems a person accepted, applied between the checks and scoring.

A waiver names a check (id or glob) and a domain (name or glob) or a client, says why
(``reason``, required), who (``owner``) and until when (``expires``, required: a waiver
without an end is a finding waiting to be forgotten). Applied to one domain's findings:

* a warn or fail finding it covers keeps its status and message and is marked waived
  with the reason, owner and date; scoring, the verdict and the exit code then treat it
  as accepted (see dnsaudit.scoring);
* once the date has passed the waiver stops applying: the finding counts again and its
  message ends "(waiver expired on <date>)", so the next cron run alerts;
* an ``error`` finding is never waived: "could not test" is not a risk anyone accepted;
* pass, info and skip findings are left as they are (there is nothing to accept).

The function is pure (the date is an argument), so worker processes apply it exactly as
one process would and tests need no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase

from dnsaudit.model import DomainEntry, Finding, Status, WaiverNote
from dnsaudit.policy.match import client_matches, domain_matches

WAIVABLE = (Status.WARN, Status.FAIL)


@dataclass(frozen=True)
class Waiver:
    check: str  # a check id or a glob over ids ("dmarc.*")
    reason: str
    expires: dt.date  # the last day it applies
    domain: str = ""  # a domain pattern (see dnsaudit.policy.match), or empty
    client: str = ""  # a client name or glob, or empty; with both, both must match
    owner: str = ""
    source: str = ""  # "dnsaudit.toml, waiver 2": where a person finds it again

    def covers(self, entry: DomainEntry, check_id: str) -> bool:
        """Whether this waiver names this domain's check (whatever the finding's status or the date)."""
        if not fnmatchcase(check_id, self.check.lower()):
            return False
        if self.domain and not domain_matches(self.domain, entry.domain, entry.display_name):
            return False
        if self.client and not client_matches(self.client, entry.client):
            return False
        return bool(self.domain or self.client)

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def note(self, today: dt.date) -> WaiverNote:
        return WaiverNote(self.reason, self.owner, self.expires.isoformat(), self.expired(today), self.source)

    def describe(self) -> str:
        """One line for warnings: what it names, and where it is written."""
        whom = " and ".join(filter(None, (self.domain and f"domain {self.domain!r}",
                                          self.client and f"client {self.client!r}")))
        return f"{self.source}: check {self.check!r} for {whom}"


def apply_waivers(entry: DomainEntry, findings: Iterable[Finding], waivers: Sequence[Waiver],
                  today: dt.date) -> tuple[Finding, ...]:
    """The domain's findings with the waivers applied (the same objects where none applies).

    Of several waivers covering one finding, the first running one in the file wins; when
    all have expired, the one that ran longest is named.
    """
    findings = tuple(findings)
    if not waivers:
        return findings
    out = []
    for finding in findings:
        covering = [w for w in waivers if finding.status in WAIVABLE and w.covers(entry, finding.check_id)]
        running = [w for w in covering if not w.expired(today)]
        if running:
            finding = replace(finding, waiver=running[0].note(today))
        elif covering:
            last = max(covering, key=lambda w: w.expires)
            finding = replace(finding, waiver=last.note(today),
                              message=f"{finding.message} (waiver expired on {last.expires.isoformat()})")
        out.append(finding)
    return tuple(out)


def unmatched_waivers(waivers: Sequence[Waiver], entries: Iterable[DomainEntry],
                      check_ids: Iterable[str]) -> list[Waiver]:
    """Waivers that name no (domain, check) pair of this run: a typo must not hide quietly.

    Decided from the input and the selected checks before any query, so the warning comes
    first, not after an hour of auditing.
    """
    check_ids = list(check_ids)
    left = list(waivers)
    for entry in entries:
        if not left:
            break
        left = [w for w in left if not any(w.covers(entry, c) for c in check_ids)]
    return left
