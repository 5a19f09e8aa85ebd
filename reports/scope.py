"""What a report may show: a client's part of a run, and no local paths in any report for people.

One module of ~380 lines, because it is one rule (what a report for people may name) and its
parts share the scrubbing of foreign names and paths: kept together, a reader sees all a
client's report is cut down by.

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
import functools
import ipaddress
import itertools
import re
import shutil
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from dnsaudit.model import AuditRun, DomainEntry, DomainResult, Evidence, Finding, InputIssue, RunInfo
from dnsaudit.reports import prerender
from dnsaudit.reports.view import ROWS_KEY, DomainRow, domain_rows, row_parts, rows_from_parts

REDACTED = "[another client]"
_TOKEN = re.compile(r"[0-9A-Za-z\u00a1-\uffff_*-]+(?:\.[0-9A-Za-z\u00a1-\uffff_-]+)+\.?|[0-9A-Fa-f:]*:[0-9A-Fa-f:.]+")
_RUNS = re.compile(r"[0-9A-Za-z\u00a1-\uffff_*.:-]+")  # what a _TOKEN match can hold, and more
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
    """Some of a run's domains (by index), each passed through ``clean`` when read (with
    ``dirty``, only those of these indexes into the source: the others are known to read
    the same cleaned).

    The run's domains may be packed (``PackedResults``): nothing is decoded until a writer
    reads a domain, so a per-client report of a large run keeps one domain in memory at a time.
    """

    def __init__(self, source: Sequence[DomainResult], indices: Sequence[int] | None, clean,
                 dirty: Collection[int] | None = None) -> None:
        self._source, self._indices, self._clean, self._dirty = source, indices, clean, dirty

    def __len__(self) -> int:
        return len(self._source) if self._indices is None else len(self._indices)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self))))
        if self._indices is not None:
            index = self._indices[index]
        elif index < 0:
            index += len(self)
        domain = self._source[index]
        return domain if self._dirty is not None and index not in self._dirty else self._clean(domain)

    def __iter__(self):
        return (self[i] for i in range(len(self)))


def run_for_people(run: AuditRun) -> AuditRun:
    """The whole run as reports for people show it: file names instead of local paths.

    Its report rows are ``run``'s (computed once there) with their findings cleaned: cleaning
    changes text only, never a status, a severity or a waiver, so the order, the counts and
    each row's first problem are the same as if they were computed again from the cleaned
    domains. Only the domains ``survey`` found a path in are cleaned when read."""
    found = survey(run)
    people = AuditRun(info_for_people(run.info),
                      ScopedDomains(run.domains, None, _NOTHING_FOREIGN.clean, found.paths), run.drift)
    _give_rows(people, domain_rows(run), None, _NOTHING_FOREIGN, found.paths)
    _give_pieces(people, run, None, ())
    return people


def run_for_client(run: AuditRun, client: str, indices: Sequence[int], entries: Sequence[DomainEntry]) -> AuditRun:
    """The part of ``run`` that is ``client``'s (``indices`` into ``run.domains``, ``entries``
    of every domain of the run, in the same order), safe to hand to that client.

    What names each client is gathered once per run (kept in ``run.derived``), so cutting
    a run for each of its clients costs one pass over the entries, not one per client; only
    the domains ``survey`` found a path or another client's name in are cleaned when read."""
    every = _clients_of(run, entries)
    found = survey(run, tokens=True)
    own = [entries[i] for i in indices]
    own_rows = {row for e in own for row in (e.row, *e.merged_rows)}
    foreign = every.foreign(client)
    other_rows = every.rows_but(client)
    issues = [dataclasses.replace(i, message=foreign.names_out(i.message), value=foreign.names_out(i.value))
              for i in run.info.input_issues
              if i.row and (i.row in own_rows or (i.row not in other_rows and i.client == client))]
    zones = {zone for zone, _ in run.info.zone_files
             if any(zone == e.domain or e.domain.endswith("." + zone) or zone.endswith("." + e.domain) for e in own)}
    info = info_for_people(run.info, zones, issues)
    drift = None  # the comparison with an earlier run covers every client's domains
    naming = {i for i in indices if any(foreign.is_foreign(t) for t in found.tokens.get(i, ()))}
    part = AuditRun(info, ScopedDomains(run.domains, list(indices), foreign.clean, found.paths | naming), drift)
    _give_rows(part, domain_rows(run), indices, foreign, found.paths | naming)
    _give_pieces(part, run, indices, naming)  # a domain that names another client is rendered for this cut
    return part


def _clients_of(run: AuditRun, entries: Sequence[DomainEntry]) -> _Clients:
    clients = run.derived.get(_CLIENTS)
    if clients is None or clients[0] is not entries:
        clients = (entries, _Clients(entries))
        run.derived[_CLIENTS] = clients
    return clients[1]


_CLIENTS = "reports.scope.clients"  # the key of what names each client, in AuditRun.derived
_SURVEY = "reports.scope.survey"  # the key of the survey of the run's domains


@dataclasses.dataclass
class Survey:
    """What a cut of a run must clean: ``paths``, the domains with a local path in a text;
    ``tokens``, per domain the tokens of its redacted texts that may name a domain or an
    address (collected when asked for: a client's cut looks them up among the names of the
    other clients)."""

    paths: set[int]
    tokens: dict[int, tuple[str, ...]] | None


def survey(run: AuditRun, mapper=None, *, tokens: bool = False, writers: Sequence = ()) -> Survey:
    """One pass over the domains that finds what each cut must clean, and computes the run's
    report rows on the way (kept by the run, like the survey) and the pieces of the
    ``writers`` that render each domain ahead (``reports.prerender``). ``mapper(function,
    count)`` returns ``[function(start, stop), ...]`` for consecutive ranges that cover
    ``range(count)`` in order (``dnsaudit.output`` calls them in forked processes, a range
    per core); by default one range, in this process.

    The domains the audit's worker processes surveyed already (``reports.ahead`` leaves
    them in the run as ``Surveyed``) are not surveyed again: the pass covers the others."""
    found = run.derived.get(_SURVEY)
    if found is not None and (found.tokens is not None or not tokens):
        return found
    rows = ROWS_KEY not in run.derived
    count = len(run.domains)
    ahead = [w for w in writers if getattr(w, "prerender", False)]
    before = run.derived.pop(SURVEYED, None)
    if before is not None and (len(before.parts) != count or (tokens and before.tokens is None)):
        before = None  # not this run's, or without what a client's cut needs: everything again
    todo: Sequence[int] = range(count) if before is None else [i for i, p in enumerate(before.parts) if p is None]
    # Pieces rendered in the workers for the same formats go with those rendered here, into the
    # same folder under numbers of their own; otherwise those domains' writers render them.
    joined = before is not None and before.folder is not None and set(before.where) == {w.format for w in ahead}
    folder = (before.folder if joined else prerender.new_folder()) if ahead else None
    base = max(before.numbers, default=-1) + 1 if joined else 0
    try:
        work = functools.partial(_survey_slice, run, rows, tokens, ahead, folder, todo, base)
        if not todo:
            slices = []
        else:
            slices = [work(0, len(todo))] if mapper is None else mapper(work, len(todo))
        if folder is not None:
            where = before.where if joined else {w.format: prerender.unplaced(count) for w in ahead}
            for _, _, _, (start, stop, placed) in slices:
                _place(where, placed, todo, start, stop)
            numbers = [*(before.numbers if joined else ()), *(base + start for _, _, _, (start, _, _) in slices)]
            pieces = prerender.open_pieces(folder, numbers, where, {w.format for w in ahead if not w.per_client})
            run.derived[prerender.KEY] = prerender.Parts(pieces, for_people=False)
    finally:
        if folder is not None and folder.exists():  # a range failed: open_pieces removes it otherwise
            shutil.rmtree(folder, ignore_errors=True)
    parts = (part for parts, _, _, _ in slices for part in parts)
    paths = (i for _, paths, _, _ in slices for i in paths)
    found_tokens = (pair for _, _, found_tokens, _ in slices for pair in found_tokens)
    if before is not None:
        parts = itertools.chain(((i, p) for i, p in enumerate(before.parts) if p is not None), parts)
        paths = itertools.chain(before.paths, paths)
        found_tokens = itertools.chain((before.tokens or {}).items(), found_tokens)
    return keep_survey(run, parts if rows else None, paths, found_tokens if tokens else None)


def _place(where: dict, placed: dict, todo: Sequence[int], start: int, stop: int) -> None:
    """Copy a range's places (``RangeRenderer.finish``: those of ``todo[start:stop]``, in turn)
    into the run's index ``where``."""
    for fmt, places in placed.items():
        target = where[fmt]
        if isinstance(todo, range):  # the whole run: consecutive domains
            target[3 * start:3 * stop] = places
        else:
            for j, index in enumerate(todo[start:stop]):
                target[3 * index:3 * index + 3] = places[3 * j:3 * j + 3]


@dataclasses.dataclass
class Surveyed:
    """What was surveyed of a run before ``survey`` (by the audit's worker processes:
    ``reports.ahead``): per domain its ``row_parts`` (None for one not surveyed), the
    domains with a path, the tokens (None when not collected), and where the pieces are:
    ``where`` (``prerender.Pieces``'s index; those not surveyed unplaced), in ``folder``'s
    files ``numbers``."""

    parts: list
    paths: list[int]
    tokens: dict[int, tuple[str, ...]] | None
    folder: Path | None
    numbers: list[int]
    where: dict


SURVEYED = "reports.scope.surveyed"  # the key of a ``Surveyed`` in AuditRun.derived, until ``survey`` takes it


def keep_survey(run: AuditRun, parts: Iterable[tuple[int, tuple]] | None, paths: Iterable[int],
                tokens: Iterable[tuple[int, tuple[str, ...]]] | None) -> Survey:
    """Keep in ``run`` what a survey found (each domain's ``survey_domain``, by index): its
    rows from ``parts`` (None: it has them), the domains with a path, and, when collected, the
    tokens of those that have any."""
    if parts is not None:
        rows_from_parts(run, parts)
    found = Survey(set(paths), dict(tokens) if tokens is not None else None)
    run.derived[_SURVEY] = found
    return found


def survey_domain(domain: DomainResult, rows: bool, tokens: bool) -> tuple[tuple | None, bool, tuple[str, ...]]:
    """What the survey finds in one domain: its ``row_parts`` (with ``rows``), whether a text
    may hold a local path, and (with ``tokens``) the tokens of its redacted texts."""
    redacted, kept = _texts(domain.findings)
    return (row_parts(domain) if rows else None, _may_hold_path(redacted + "\n" + kept),
            _tokens(redacted) if tokens else ())


def for_people(domain: DomainResult, path: bool) -> DomainResult:
    """``domain`` as the run for people reads it, given whether ``survey_domain`` saw a path."""
    return _NOTHING_FOREIGN.clean(domain) if path else domain


def _survey_slice(run: AuditRun, rows: bool, tokens: bool, ahead: Sequence, folder: Path | None,
                  todo: Sequence[int], base: int, start: int, stop: int) -> tuple:
    """Survey the run's domains ``todo[start:stop]``, their pieces into file ``base + start``."""
    parts, paths, found_tokens = [], [], []
    renderer = None if folder is None else prerender.RangeRenderer(run, ahead, folder, base + start, stop - start)
    for position, index in enumerate(todo[start:stop]):
        domain = run.domains[index]
        part, path, found = survey_domain(domain, rows, tokens)
        if rows:
            parts.append((index, part))
        if path:
            paths.append(index)
        if found:
            found_tokens.append((index, found))
        if renderer is not None:
            renderer.add(position, index, domain, for_people(domain, path))
    return parts, paths, found_tokens, (start, stop, None if renderer is None else renderer.finish())


def _tokens(text: str) -> tuple[str, ...]:
    """The distinct ``_TOKEN`` matches of ``text``, those ``_Foreign.redact`` looks up.

    ``_TOKEN`` is applied to each run of the characters a token can hold that holds a dot or
    a colon (every token does), not to the whole text: a token never spans two runs, so the
    tokens are the same, and the pattern, which retries every position of a long word such
    as a DKIM key, is not run over the words at all."""
    return tuple(dict.fromkeys(token for run in _RUNS.findall(text) if "." in run or ":" in run
                               for token in _TOKEN.findall(run)))


def _texts(findings: Sequence[Finding]) -> tuple[str, str]:
    """The texts of ``findings`` that are redacted (message, expected, remediation) and those
    that are not (observed, evidence), each kind joined by line breaks."""
    redacted: list[str] = []
    kept: list[str] = []
    for f in findings:
        redacted += (f.message, f.expected, f.remediation)
        kept.append(f.observed)
        for e in f.evidence:  # what _evidence_without_paths cleans
            if e.outcome is None:
                kept.append(e.text)
            else:
                kept += e.answers
                kept += e.notes
    return "\n".join(redacted), "\n".join(kept)


def _may_hold_path(text: str) -> bool:
    """False when no line of ``text`` holds what ``without_paths`` removes (True may be wrong).

    A POSIX match of ``_ABSOLUTE_PATH`` is a slash after a space, quote, bracket, ``=`` or
    the start of a line, a part, a slash and one more character (``_FROM_SLASH`` with what
    comes before it); a Windows match holds ``:\\``. The search starts at the slashes
    (``_FROM_SLASH``: the regex engine finds its first character fast) and looks at the
    character before each: a pattern starting with the class of what comes before tried every
    space of the text, 39 us a domain against 14 (bench/README.md, the fourteenth round);
    tests/unit/test_scope_survey.py compares the two."""
    if ":\\" in text:
        return True
    search = _FROM_SLASH.search
    found = search(text)
    while found is not None:
        start = found.start()
        if start == 0 or text[start - 1] in _BEFORE_PATH or text[start - 1].isspace():  # isspace is regex's \s
            return True
        found = search(text, start + 1)  # the next slash: a match may begin inside this one
    return False


_FROM_SLASH = re.compile(r"/[^\s/\"'()]+/[^\s/\"'()]")
_BEFORE_PATH = frozenset("(\"'=")


def _give_rows(part: AuditRun, rows: list[DomainRow], indices: Sequence[int] | None, foreign: _Foreign,
               dirty: Collection[int]) -> None:
    """``part`` (a cut of the run whose ``rows`` these are) gets those of its domains, cleaned:
    only those of the ``dirty`` domains (indexes into the run) need it, as ``ScopedDomains``
    reads them; the others are the run's rows, placed in the cut."""
    position = None if indices is None else {index: n for n, index in enumerate(indices)}
    own = []
    for row in rows:
        n = row.index if position is None else position.get(row.index)
        if n is None:
            continue
        if row.index not in dirty:
            own.append(dataclasses.replace(row, source=part.domains, index=n))
            continue
        top = None if row.top is None else foreign.finding(row.top)
        waivers = tuple(foreign.finding(f) for f in row.waivers)
        problems = tuple(foreign.finding(f) for f in row.problems)
        own.append(dataclasses.replace(row, top=top, waivers=waivers, problems=problems, source=part.domains, index=n))
    part.derived[ROWS_KEY] = own


def _give_pieces(part: AuditRun, run: AuditRun, indices: Sequence[int] | None, own: Collection[int]) -> None:
    """``part`` (a cut for people of ``run``) may use the pieces rendered ahead for people,
    but for the domains in ``own`` (indexes into the run), which it cleans otherwise."""
    parts = run.derived.get(prerender.KEY)
    if parts is not None:
        part.derived[prerender.KEY] = prerender.Parts(parts.pieces, True, indices, own)


class _Clients:
    """Each client's names, relay addresses and input rows, gathered in one pass over the entries."""

    def __init__(self, entries: Sequence[DomainEntry]) -> None:
        self._entries: dict[str, list[DomainEntry]] = {}
        for e in entries:
            self._entries.setdefault(e.client, []).append(e)
        self.names = {c: _names(own) for c, own in self._entries.items()}
        self.addresses = {c: {a for e in own for a in e.relay_ips} for c, own in self._entries.items()}
        self.rows = {c: {row for e in own for row in (e.row, *e.merged_rows)} for c, own in self._entries.items()}
        self._foreign: dict[str, _Foreign] = {}

    def foreign(self, client: str) -> _Foreign:
        """What names another client than ``client`` (made once per client)."""
        known = self._foreign.get(client)
        if known is None:
            others = [c for c in self.names if c != client]
            names = set().union(*(self.names[c] for c in others)) - self.names.get(client, set())
            addresses = set().union(*(self.addresses[c] for c in others)) - self.addresses.get(client, set())
            known = _Foreign(names, addresses, sorted({c for c in others if c}, key=len, reverse=True))
            self._foreign[client] = known
        return known

    def rows_but(self, client: str) -> set[int]:
        return set().union(*(rows for c, rows in self.rows.items() if c != client))


class _Foreign:
    """What names another client: their domains (and names under them), tenants, relay
    addresses and client names, minus anything the client shares with them.

    Most domains name nothing foreign and hold no local path: ``clean`` looks for either in
    all of a domain's texts at once and returns the domain as it is when there is none
    (``survey`` does the same once per run, so that writers clean only the domains it
    found); only a domain with a hit is cleaned text by text. Joining with line breaks
    finds the same: no token and no path part spans a line break, and a path at the start
    of a text follows one as it follows the start of the text.
    """

    def __init__(self, names: set[str], addresses: set[str], clients: list[str]) -> None:
        self.names, self.addresses, self.clients = names, addresses, clients
        self._verdicts: dict[str, bool] = {}  # token -> whether it is foreign (shared names recur)

    def clean(self, domain: DomainResult) -> DomainResult:
        redacted, kept = _texts(domain.findings)
        if not self.names_in(redacted) and not _may_hold_path(redacted + "\n" + kept):
            return domain
        findings = tuple(self.finding(f) for f in domain.findings)
        if all(a is b for a, b in zip(findings, domain.findings)):
            return domain
        return dataclasses.replace(domain, findings=findings)

    def names_in(self, text: str) -> bool:
        """Whether ``redact`` would change ``text``: any of its tokens is foreign."""
        return bool(self.names or self.addresses) and any(self.is_foreign(t) for t in _tokens(text))

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
        return REDACTED if self.is_foreign(token) else token

    def is_foreign(self, token: str) -> bool:
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
