"""Reading the list of domains: CSV (any encoding and delimiter people produce) or .xlsx.

What people really paste is messy: Excel's UTF-16 "Unicode text", cp1252 from an old
export, semicolons from a European locale, PowerShell's ``#TYPE`` line from
``Get-AcceptedDomain | Export-Csv``, URLs and e-mail addresses in place of domains. Each
row is read on its own: a bad row becomes an InputIssue with its row number and the rest
goes on; a value that had to be changed is kept with a warning. Only a file that cannot be
read at all, or has no domain column, stops the run (InputError, exit code 2).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dnsaudit.domains import DomainError, normalise_domain
from dnsaudit.input_files import MAX_INPUT_BYTES, read_rows
from dnsaudit.input_rows import FormulaCell, InputError, Row
from dnsaudit.input_values import CLOUDS, PHASES, cert_host, choice, relay_ips, tenant
from dnsaudit.model import DomainEntry, InputIssue, IssueLevel

# (domain A-label, display name, client) -> values for the columns its row left empty
Defaults = Callable[[str, str, str], Mapping[str, str]]

MAX_CELL = 2000  # characters kept from a free-text cell
HEADER_SEARCH = 10  # non-blank rows searched for the header (title rows above it)

# canonical column -> accepted header spellings (compared lower case, letters and digits only)
COLUMNS = {
    "domain": ("domain", "domains", "domainname", "accepteddomain", "emaildomain", "maildomain", "fqdn"),
    "relay_ips": ("relayips", "relayip", "relay", "relayaddresses", "directsendips", "sendingips", "ips"),
    "relay_cert_host": ("relaycerthost", "relaycert", "relaycertificate", "certhost", "relayhost"),
    "cloud": ("cloud", "environment", "m365cloud"),
    "phase": ("phase", "migrationphase", "stage"),
    "tenant": ("tenant", "tenantdomain", "onmicrosoft", "tenantname"),
    "client": ("client", "customer", "company", "organisation", "organization"),
    "notes": ("notes", "note", "comment", "comments", "description"),
    "gateway": ("gateway", "mxgateway", "emailgateway"),
}
ALIASES = {alias: canonical for canonical, aliases in COLUMNS.items() for alias in aliases}

@dataclass
class InputResult:
    entries: list[DomainEntry] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header as written

    @property
    def errors(self) -> list[InputIssue]:
        return [i for i in self.issues if i.level is IssueLevel.ERROR]


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


# -- reading the file ---------------------------------------------------------------------


def read_input(path: str | Path, sheet: str | None = None, max_bytes: int = MAX_INPUT_BYTES,
               defaults: Defaults | None = None) -> InputResult:
    """Read and validate a domain list. Raises InputError when the file is unusable.

    ``defaults(domain, display_name, client)`` gives values for the columns a row left
    empty (the policy file's [[expect]] tables: cloud, phase, gateway); a value in the row wins.
    """
    raw = read_rows(Path(path), sheet, has_domains=has_domain_column, max_bytes=max_bytes)
    return parse_rows(raw.rows, raw.issues, defaults)


def has_domain_column(rows: list[Row]) -> bool:
    """Whether these rows would be read as a domain list (a workbook sheet is chosen by it)."""
    meaningful = [(n, cells) for n, cells in rows if not _skippable(cells)]
    return bool(meaningful) and (_header_index(meaningful) is not None or _headerless(meaningful[0][1]))


# -- interpreting rows --------------------------------------------------------------------


def _skippable(cells: list[str]) -> bool:
    stripped = [c.strip() for c in cells]
    if any(isinstance(c, FormulaCell) for c in cells):
        return False  # looks blank, but is a formula without its value: the row must say so
    return not any(stripped) or stripped[0].startswith("#")


def _header_index(meaningful: list[Row]) -> int | None:
    """The first of the first HEADER_SEARCH non-blank rows with a domain column (title rows above it)."""
    for index, (_, cells) in enumerate(meaningful[:HEADER_SEARCH]):
        if any(ALIASES.get(_key(cell)) == "domain" for cell in cells):
            return index
    return None


def _headerless(first: list[str]) -> bool:
    """A single column of domains, no header: the first row's one cell is a domain."""
    non_empty = [c for c in first if c.strip()]
    if len(non_empty) != 1:
        return False
    try:
        normalise_domain(non_empty[0])
    except DomainError:
        return False
    return True


def parse_rows(rows: list[Row], issues: Iterable[InputIssue] = (), defaults: Defaults | None = None) -> InputResult:
    result = InputResult(issues=list(issues))
    meaningful = [(n, cells) for n, cells in rows if not _skippable(cells)]
    if not meaningful:
        raise InputError("the input holds no domains")
    index = _header_index(meaningful)
    if index:
        titles = meaningful[:index]
        meaningful = meaningful[index:]
        above = f"row {titles[0][0]}" if len(titles) == 1 else f"rows {titles[0][0]}-{titles[-1][0]}"
        title = next(c.strip() for c in titles[0][1] if c.strip())[:80]
        result.issues.append(InputIssue(meaningful[0][0], IssueLevel.WARNING,
                                        f"header taken from row {meaningful[0][0]}, "
                                        f"the first with a domain column; {above} above it read as a title "
                                        f"({title!r}), not as domains"))
    header_row, header = meaningful[0]
    mapping = _header_mapping(header, header_row, result)
    data = meaningful[1:]
    if mapping is None:  # a header-less single column of domains
        mapping = {0: "domain"}
        data = meaningful
        result.columns = {"domain": "(first column, no header)"}
    names = [] if mapping == {0: "domain"} and data is meaningful else [h.strip() for h in header]
    by_domain: dict[str, int] = {}
    for number, cells in data:
        if not _formulas_known(number, cells, mapping, names, result):
            continue
        values = {canonical: cells[i].strip()[:MAX_CELL] for i, canonical in mapping.items() if i < len(cells)}
        extra = tuple(
            (names[i] if i < len(names) and names[i] else f"column {i + 1}", cell.strip()[:MAX_CELL])
            for i, cell in enumerate(cells)
            if i not in mapping and cell.strip()
        )
        before = len(result.issues)
        entry = _entry(number, values, extra, result, defaults)
        if entry is not None and entry.domain in by_domain:
            index = by_domain[entry.domain]
            result.entries[index] = _merge(result.entries[index], entry, result)
        elif entry is not None:
            by_domain[entry.domain] = len(result.entries)
            result.entries.append(entry)
        if values.get("client"):  # so that a per-client report lists its own rows' issues only
            result.issues[before:] = [replace(i, client=values["client"]) for i in result.issues[before:]]
    return result


def _header_mapping(header: list[str], row: int, result: InputResult) -> dict[int, str] | None:
    """Map column positions to canonical names, or None for a header-less domain list."""
    mapping: dict[int, str] = {}
    unknown = []
    for i, name in enumerate(header):
        canonical = ALIASES.get(_key(name))
        if canonical is None:
            if name.strip():
                unknown.append(name.strip())
        elif canonical in mapping.values():
            result.issues.append(InputIssue(row, IssueLevel.WARNING, f"column {name.strip()!r} repeats the {canonical} "
                                            "column; only the first is used", name.strip()))
        else:
            mapping[i] = canonical
            result.columns[canonical] = name.strip()
    if "domain" in mapping.values():
        if unknown:
            result.issues.append(InputIssue(row, IssueLevel.WARNING,
                                            "columns not used by dnsaudit (kept as extra data): "
                                            + ", ".join(unknown)))
        return mapping
    if not mapping and _headerless(header):
        return None
    found = ", ".join(repr(c.strip()) for c in header if c.strip()) or "none"
    raise InputError(f"no domain column in the header on row {row} (found {found}); "
                     "name it 'domain' (or Domain, DomainName, Domain Name)")


def _formulas_known(row: int, cells: list[str], mapping: dict[int, str], names: list[str],
                    result: InputResult) -> bool:
    """False (with an error) when a column dnsaudit uses holds a formula without a saved value."""
    ok = True
    for i, cell in enumerate(cells):
        if not isinstance(cell, FormulaCell):
            continue
        column = names[i] if i < len(names) and names[i] else f"column {i + 1}"
        formula = cell.formula[:200]
        if i in mapping:
            result.issues.append(InputIssue(row, IssueLevel.ERROR,
                                            f"the {column} cell is a formula ({formula}) with no saved "
                                            "value; row not audited (open and save the file in Excel, or paste "
                                            "values)", formula))
            ok = False
        else:
            result.issues.append(InputIssue(row, IssueLevel.WARNING,
                                            f"the {column} cell is a formula ({formula}) with no "
                                            "saved value; left out", formula))
    return ok


def _entry(row: int, values: dict[str, str], extra: tuple[tuple[str, str], ...], result: InputResult,
           defaults: Defaults | None = None) -> DomainEntry | None:
    """One row as a DomainEntry, or None (with an error issue) when it cannot be audited."""
    issues = result.issues
    raw = values.get("domain", "")
    if not raw:
        issues.append(InputIssue(row, IssueLevel.ERROR, "no domain in this row; row not audited"))
        return None
    try:
        name = normalise_domain(raw)
    except DomainError as exc:
        issues.append(InputIssue(row, IssueLevel.ERROR, f"{exc}; row not audited", raw))
        return None
    if name.note:
        issues.append(InputIssue(row, IssueLevel.WARNING, name.note, raw))
    if defaults is not None:
        for column, value in defaults(name.ascii, name.unicode, values.get("client", "")).items():
            if not values.get(column):
                values[column] = value
    cloud = choice(values.get("cloud", ""), CLOUDS)
    phase = choice(values.get("phase", ""), PHASES)
    for column, value, parsed, choices in (("cloud", values.get("cloud", ""), cloud, CLOUDS),
                                           ("phase", values.get("phase", ""), phase, PHASES)):
        if parsed is None:
            allowed = " | ".join(c.value for c in choices)
            issues.append(InputIssue(row, IssueLevel.ERROR,
                                     f"{column} {value!r} is not one of {allowed}; row not audited "
                                     "(its expectations would be wrong)", value))
            return None
    if cloud is None or phase is None:  # each was reported and returned above
        return None
    return DomainEntry(
        domain=name.ascii,
        row=row,
        display_name=name.unicode,
        relay_ips=relay_ips(row, values.get("relay_ips", ""), issues),
        relay_cert_host=cert_host(row, values.get("relay_cert_host", ""), issues),
        cloud=cloud,
        phase=phase,
        tenant=tenant(row, values.get("tenant", ""), issues),
        client=values.get("client", ""),
        notes=values.get("notes", ""),
        gateway=values.get("gateway", "").lower(),
        extra=tuple(extra),
    )


def _merge(first: DomainEntry, later: DomainEntry, result: InputResult) -> DomainEntry:
    """Fold a duplicate row into the first one: lists are joined, blanks filled, conflicts kept first."""
    conflicts: list[str] = []

    def kept(name: str, mine: str, theirs: str) -> str:
        """The first row's value, the later row's where the first is blank; a difference noted."""
        if mine and theirs and mine != theirs:
            conflicts.append(f"{name} {theirs!r} (kept {mine!r})")
        return mine or theirs

    texts = {"relay_cert_host": kept("relay_cert_host", first.relay_cert_host, later.relay_cert_host),
             "tenant": kept("tenant", first.tenant, later.tenant),
             "client": kept("client", first.client, later.client),
             "notes": kept("notes", first.notes, later.notes),
             "gateway": kept("gateway", first.gateway, later.gateway)}
    for name in ("cloud", "phase"):
        mine, theirs = getattr(first, name), getattr(later, name)
        if mine != theirs:
            conflicts.append(f"{name} {theirs.value!r} (kept {mine.value!r})")
    detail = "; differing values: " + ", ".join(conflicts) if conflicts else ""
    result.issues.append(InputIssue(later.row, IssueLevel.WARNING, f"duplicate of row {first.row} ({first.label}); "
                                    f"merged into it{detail}", later.domain))
    return replace(first, relay_cert_host=texts["relay_cert_host"], tenant=texts["tenant"], client=texts["client"],
                   notes=texts["notes"], gateway=texts["gateway"],
                   relay_ips=tuple(dict.fromkeys(first.relay_ips + later.relay_ips)),
                   merged_rows=first.merged_rows + (later.row,),
                   extra=first.extra + tuple(e for e in later.extra if e not in first.extra))
