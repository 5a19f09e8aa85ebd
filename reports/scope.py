"""What a report may show: a client's part of a run, and no local paths in any report for people.

An MSP hands ``clients/<client>/`` to that client, so a per-client report must name nothing
of another client: its domains, tenants, names, notes, relay addresses or input rows. The
run is cut down here, once, before any writer sees it, so every format (and a third-party
writer) gets the same safe view:

* the domains are the client's own;
* the input issues are those of the client's rows (``InputIssue.client``, or a row one of
  its domains came from), with any other client's name taken out of their text;
* the planned zones are those of the client's domains;
* as a last line of defence, a finding's message, expected value and remediation that
  still names another client's domain, tenant or relay address (a check that compared a
  domain with the whole run, say) shows ``[another client]`` there instead. ``observed``
  and ``evidence`` are what DNS answered for the client's own names and stay as they are.

Every report for people (the whole-run ones too) shows file names, never the absolute
local paths of the machine that ran the audit; ``results.json`` keeps the paths.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Iterable, Sequence

from dnsaudit.model import AuditRun, DomainEntry, DomainResult, Evidence, Finding, InputIssue, RunInfo
from dnsaudit.reports.view import ROWS_KEY, DomainRow, domain_rows

REDACTED = "[another client]"
_TOKEN = re.compile(r"[0-9A-Za-z\u00a1-\uffff_*-]+(?:\.[0-9A-Za-z\u00a1-\uffff_-]+)+\.?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+")
_RUN_OF_REDACTIONS = re.compile(re.escape(REDACTED) + r"(?:, " + re.escape(REDACTED) + r")+")
# An absolute path: POSIX (after a space, quote or bracket, so no URL path matches) or Windows.
_ABSOLUTE_PATH = re.compile(r"(?:(?<=[\s(\"'=])|^)(?:/[^\s/\"'()]+)+/(?=[^\s/\"'()]+)|[A-Za-z]:\\(?:[^\s\\\"'()]+\\)+")
_TEXT_FIELDS = ("message", "expected", "remediation")


def file_name(path: str) -> str:
    """The last part of a path, for either kind of separator."""
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1] if path else path


def without_paths(text: str) -> str:
    """``text`` with every absolute directory part removed (``/home/x/zones/a.zone`` -> ``a.zone``)."""
    if ("/" not in text and "\\" not in text) or not _ABSOLUTE_PATH.search(text):  # most texts: no sub() at all
        return text
    return _ABSOLUTE_PATH.sub("", text)


def _evidence_without_paths(evidence: Evidence) -> Evidence:
    """``evidence`` with its texts through ``without_paths`` (a relay certificate's file, a TXT
    record naming one); itself when nothing changed."""
    if evidence.outcome is None:
        text = without_paths(evidence.text)
        return evidence if text == evidence.text else Evidence.note(text)
    answers = tuple(without_paths(a) for a in evidence.answers)
    notes = tuple(without_paths(n) for n in evidence.notes)
    if answers == evidence.answers and notes == evidence.notes:
        return evidence
    return dataclasses.replace(evidence, answers=answers, notes=notes)


def info_for_people(info: RunInfo, zones: Iterable[str] | None = None, issues: Iterable[InputIssue] | None = None
                    ) -> RunInfo:
    """``info`` with file names instead of paths; ``zones``/``issues`` keep only those."""
    keep = None if zones is None else set(zones)
    return dataclasses.replace(
        info,
        input_file=file_name(info.input_file),
        zone_files=tuple((zone, file_name(path)) for zone, path in info.zone_files if keep is None or zone in keep),
        input_issues=tuple(dataclasses.replace(i, message=without_paths(i.message), value=without_paths(i.value))
                           for i in (info.input_issues if issues is None else issues)),
    )


class ScopedDomains(Sequence):
    """Some of a run's domains (by index), each passed through ``clean`` when read.

    The run's domains may be packed (``PackedResults``): nothing is decoded until a writer
    reads a domain, so a per-client report of a large run keeps one domain in memory at a time.
    """

    def __init__(self, source: Sequence[DomainResult], indices: Sequence[int] | None, clean) -> None:
        self._source, self._indices, self._clean = source, indices, clean

    def __len__(self) -> int:
        return len(self._source) if self._indices is None else len(self._indices)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        return self._clean(self._source[index if self._indices is None else self._indices[index]])

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def run_for_people(run: AuditRun) -> AuditRun:
    """The whole run as reports for people show it: file names instead of local paths.

    Its report rows are ``run``'s (computed once there) with their findings cleaned: cleaning
    changes text only, never a status, a severity or a waiver, so the order, the counts and
    each row's first problem are the same as if they were computed again from the cleaned
    domains."""
    people = AuditRun(info_for_people(run.info), ScopedDomains(run.domains, None, _NOTHING_FOREIGN.clean), run.drift)
    _give_rows(people, domain_rows(run), None, _NOTHING_FOREIGN)
    return people


def run_for_client(run: AuditRun, client: str, indices: Sequence[int], entries: Sequence[DomainEntry]) -> AuditRun:
    """The part of ``run`` that is ``client``'s (``indices`` into ``run.domains``, ``entries``
    of every domain of the run, in the same order), safe to hand to that client.

    What names each client is gathered once per run (kept in ``run.derived``), so cutting
    a run for each of its clients costs one pass over the entries, not one per client."""
    clients = run.derived.get(_CLIENTS)
    if clients is None or clients[0] is not entries:
        clients = (entries, _Clients(entries))
        run.derived[_CLIENTS] = clients
    every = clients[1]
    own = [entries[i] for i in indices]
    own_rows = {row for e in own for row in (e.row, *e.merged_rows)}
    foreign = every.foreign(client, own)
    other_rows = every.rows_but(client)
    issues = [dataclasses.replace(i, message=foreign.names_out(i.message), value=foreign.names_out(i.value))
              for i in run.info.input_issues
              if i.row and (i.row in own_rows or (i.row not in other_rows and i.client == client))]
    zones = {zone for zone, _ in run.info.zone_files
             if any(zone == e.domain or e.domain.endswith("." + zone) or zone.endswith("." + e.domain) for e in own)}
    info = info_for_people(run.info, zones, issues)
    drift = None  # the comparison with an earlier run covers every client's domains
    part = AuditRun(info, ScopedDomains(run.domains, list(indices), foreign.clean), drift)
    _give_rows(part, domain_rows(run), indices, foreign)
    return part


_CLIENTS = "reports.scope.clients"  # the key of what names each client, in AuditRun.derived


def _give_rows(part: AuditRun, rows: list[DomainRow], indices: Sequence[int] | None, foreign: _Foreign) -> None:
    """``part`` (a cut of the run whose ``rows`` these are) gets those of its domains, cleaned."""
    position = None if indices is None else {index: n for n, index in enumerate(indices)}
    own = []
    for row in rows:
        n = row.index if position is None else position.get(row.index)
        if n is None:
            continue
        top = None if row.top is None else foreign.finding(row.top)
        waivers = tuple(foreign.finding(f) for f in row.waivers)
        own.append(dataclasses.replace(row, top=top, waivers=waivers, source=part.domains, index=n))
    part.derived[ROWS_KEY] = own


class _Clients:
    """Each client's names, relay addresses and input rows, gathered in one pass over the entries."""

    def __init__(self, entries: Sequence[DomainEntry]) -> None:
        by_client: dict[str, list[DomainEntry]] = {}
        for e in entries:
            by_client.setdefault(e.client, []).append(e)
        self.names = {c: _names(own) for c, own in by_client.items()}
        self.addresses = {c: {a for e in own for a in e.relay_ips} for c, own in by_client.items()}
        self.rows = {c: {row for e in own for row in (e.row, *e.merged_rows)} for c, own in by_client.items()}

    def foreign(self, client: str, own: list[DomainEntry]) -> _Foreign:
        """What names another client than ``client`` (whose domains are ``own``)."""
        others = [c for c in self.names if c != client]
        mine_names = _names(own)
        mine_addresses = {a for e in own for a in e.relay_ips}
        names = set().union(*(self.names[c] for c in others)) - mine_names
        addresses = set().union(*(self.addresses[c] for c in others)) - mine_addresses
        own_clients = {e.client for e in own}
        return _Foreign(names, addresses, sorted({c for c in others if c} - own_clients, key=len, reverse=True))

    def rows_but(self, client: str) -> set[int]:
        return set().union(*(rows for c, rows in self.rows.items() if c != client))


class _Foreign:
    """What names another client: their domains (and names under them), tenants, relay
    addresses and client names, minus anything the client shares with them.

    Most domains name nothing foreign and hold no local path: ``clean`` looks for either in
    all of a domain's texts at once (two searches of one joined string) and returns the
    domain as it is when there is none; only a domain with a hit is cleaned text by text.
    Joining with line breaks finds the same: no token and no path part spans a line break,
    and a path at the start of a text follows one as it follows the start.
    """

    def __init__(self, names: set[str], addresses: set[str], clients: list[str]) -> None:
        self.names, self.addresses, self.clients = names, addresses, clients
        self._verdicts: dict[str, bool] = {}  # token -> whether it is foreign (shared names recur)

    def clean(self, domain: DomainResult) -> DomainResult:
        if not self._may_change(domain.findings):
            return domain
        findings = tuple(self.finding(f) for f in domain.findings)
        if all(a is b for a, b in zip(findings, domain.findings)):
            return domain
        return dataclasses.replace(domain, findings=findings)

    def _may_change(self, findings: Sequence[Finding]) -> bool:
        redacted: list[str] = []
        kept: list[str] = []
        for f in findings:
            redacted += (f.message, f.expected, f.remediation)
            kept.append(f.observed)
            kept += (e.line() for e in f.evidence)  # rendered once per answer, then cached
        text = "\n".join(redacted)
        if self.names or self.addresses:
            for token in _TOKEN.findall(text):
                if self._foreign(token):
                    return True
        text += "\n" + "\n".join(kept)
        return ("/" in text or "\\" in text) and _ABSOLUTE_PATH.search(text) is not None

    def finding(self, finding: Finding) -> Finding:
        """``finding`` with its texts cleaned (itself when nothing changes)."""
        changes = {}
        for name in (*_TEXT_FIELDS, "observed"):
            value = getattr(finding, name)
            cleaned = without_paths(self.redact(value) if name in _TEXT_FIELDS else value)
            if cleaned != value:
                changes[name] = cleaned
        evidence = tuple(_evidence_without_paths(e) for e in finding.evidence)
        if any(a is not b for a, b in zip(evidence, finding.evidence)):
            changes["evidence"] = evidence
        return dataclasses.replace(finding, **changes) if changes else finding

    def redact(self, text: str) -> str:
        if not text or not (self.names or self.addresses):
            return text
        changed = _TOKEN.sub(self._token, text)
        return _RUN_OF_REDACTIONS.sub(REDACTED, changed) if changed != text else text

    def _token(self, match: re.Match) -> str:
        token = match.group(0)
        return REDACTED if self._foreign(token) else token

    def _foreign(self, token: str) -> bool:
        known = self._verdicts.get(token)
        if known is not None:
            return known
        name = token.rstrip(".").lower().removeprefix("*.")
        if ":" in name or name.replace(".", "").isdigit():
            try:
                verdict = str(ipaddress.ip_address(name)) in self.addresses
            except ValueError:
                verdict = False
        else:
            labels = name.split(".")
            verdict = any(".".join(labels[i:]) in self.names for i in range(len(labels) - 1))
        if len(self._verdicts) > 50_000:  # a bound on memory: most tokens are one domain's own names
            self._verdicts.clear()
        self._verdicts[token] = verdict
        return verdict

    def names_out(self, text: str) -> str:
        """``text`` (an input issue) without other clients' domains, addresses or names."""
        text = self.redact(text)
        for client in self.clients:
            if client in text:
                text = text.replace(client, REDACTED)
        return text


_NOTHING_FOREIGN = _Foreign(set(), set(), [])  # the whole run for people: paths only


def _names(entries: Iterable[DomainEntry]) -> set[str]:
    names = set()
    for e in entries:
        names.update(n.lower() for n in (e.domain, e.display_name, e.tenant) if n)
        host = e.relay_cert_host
        if host and not re.search(r"[\\/]|\.(pem|crt|cer)$", host, re.I):
            names.add(host.rsplit(":", 1)[0].strip("[]").lower() if host.count(":") == 1 else host.lower())
    return names
