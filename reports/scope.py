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

from dnsaudit.model import AuditRun, DomainEntry, DomainResult, Finding, InputIssue, RunInfo

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
    """The whole run as reports for people show it: file names instead of local paths."""
    return AuditRun(info_for_people(run.info), ScopedDomains(run.domains, None, _Foreign([], []).clean), run.drift)


def run_for_client(run: AuditRun, client: str, indices: Sequence[int], entries: Sequence[DomainEntry]) -> AuditRun:
    """The part of ``run`` that is ``client``'s (``indices`` into ``run.domains``, ``entries``
    of every domain of the run, in the same order), safe to hand to that client."""
    own = [entries[i] for i in indices]
    own_rows = {row for e in own for row in (e.row, *e.merged_rows)}
    other_rows = {row for i, e in enumerate(entries) if e.client != client for row in (e.row, *e.merged_rows)}
    foreign = _Foreign(own, [e for e in entries if e.client != client])
    issues = [dataclasses.replace(i, message=foreign.names_out(i.message), value=foreign.names_out(i.value))
              for i in run.info.input_issues
              if i.row and (i.row in own_rows or (i.row not in other_rows and i.client == client))]
    zones = {zone for zone, _ in run.info.zone_files
             if any(zone == e.domain or e.domain.endswith("." + zone) or zone.endswith("." + e.domain) for e in own)}
    info = info_for_people(run.info, zones, issues)
    drift = None  # the comparison with an earlier run covers every client's domains
    return AuditRun(info, ScopedDomains(run.domains, list(indices), foreign.clean), drift)


class _Foreign:
    """What names another client: their domains (and names under them), tenants, relay
    addresses and client names, minus anything the client shares with them."""

    def __init__(self, own: list[DomainEntry], others: list[DomainEntry]) -> None:
        mine = _names(own)
        self.names = _names(others) - mine
        self.addresses = {a for e in others for a in e.relay_ips} - {a for e in own for a in e.relay_ips}
        own_clients = {e.client for e in own}
        self.clients = sorted({e.client for e in others if e.client} - own_clients, key=len, reverse=True)

    def clean(self, domain: DomainResult) -> DomainResult:
        findings = tuple(self._finding(f) for f in domain.findings)
        if all(a is b for a, b in zip(findings, domain.findings)):
            return domain
        return dataclasses.replace(domain, findings=findings)

    def _finding(self, finding: Finding) -> Finding:
        changes = {}
        for name in (*_TEXT_FIELDS, "observed"):
            value = getattr(finding, name)
            cleaned = without_paths(self.redact(value) if name in _TEXT_FIELDS else value)
            if cleaned != value:
                changes[name] = cleaned
        evidence = tuple(without_paths(line) for line in finding.evidence)
        if evidence != finding.evidence:
            changes["evidence"] = evidence
        return dataclasses.replace(finding, **changes) if changes else finding

    def redact(self, text: str) -> str:
        if not text or not (self.names or self.addresses):
            return text
        changed = _TOKEN.sub(self._token, text)
        return _RUN_OF_REDACTIONS.sub(REDACTED, changed) if changed != text else text

    def _token(self, match: re.Match) -> str:
        token = match.group(0)
        name = token.rstrip(".").lower().removeprefix("*.")
        if ":" in name or name.replace(".", "").isdigit():
            try:
                return REDACTED if str(ipaddress.ip_address(name)) in self.addresses else token
            except ValueError:
                return token
        labels = name.split(".")
        if any(".".join(labels[i:]) in self.names for i in range(len(labels) - 1)):
            return REDACTED
        return token

    def names_out(self, text: str) -> str:
        """``text`` (an input issue) without other clients' domains, addresses or names."""
        text = self.redact(text)
        for client in self.clients:
            if client in text:
                text = text.replace(client, REDACTED)
        return text


def _names(entries: Iterable[DomainEntry]) -> set[str]:
    names = set()
    for e in entries:
        names.update(n.lower() for n in (e.domain, e.display_name, e.tenant) if n)
        host = e.relay_cert_host
        if host and not re.search(r"[\\/]|\.(pem|crt|cer)$", host, re.I):
            names.add(host.rsplit(":", 1)[0].strip("[]").lower() if host.count(":") == 1 else host.lower())
    return names
