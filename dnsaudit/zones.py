"""Zone files as a DNS source: planned records audited before they are published.

A ZoneSet answers the way an authoritative server would for the names under its zones —
records, CNAME chains (also from one loaded zone into another), wildcards (RFC 4592),
empty non-terminals, NODATA and NXDOMAIN — and says where a chain leaves the loaded
zones, so the caller can go on with a resolver. The test DNS server uses the same code,
so planned zones and served zones get the same verdicts by construction.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dns.exception
import dns.name
import dns.node
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rrset
import dns.zone

ZONE_SUFFIXES = (".zone", ".db", ".txt")
MAX_HOPS = 16


class ZoneError(Exception):
    """A zone file that cannot be used; the message names the file and the line."""


@dataclass(frozen=True)
class ZoneAnswer:
    """The zones' answer to one question.

    ``rcode`` is "NOERROR" or "NXDOMAIN" ("SERVFAIL" for a CNAME loop); ``answer`` holds the
    RRsets in order (CNAMEs first); ``exit`` is set when a CNAME points outside every zone:
    the caller resolves that name elsewhere and appends the result.
    """

    rcode: str
    answer: tuple[dns.rrset.RRset, ...] = ()
    soa: dns.rrset.RRset | None = None
    exit: dns.name.Name | None = None


def _parse(text: str, origin: str, filename: str) -> dns.zone.Zone:
    return dns.zone.from_text("$TTL 3600\n" + text, origin=origin, relativize=False, check_origin=False,
                              filename=filename)


def zone_from_text(text: str, origin: str, filename: str = "<zone>") -> dns.zone.Zone:
    """Parse zone text; records without a TTL get one hour (hand-written zones rarely state one)."""
    try:
        return _parse(text, origin, filename)
    except dns.exception.DNSException as exc:
        reason = re.sub(r"^.*?:\d+: ", "", str(exc))
        line = _failing_line(text, origin, reason)
        where = f"{filename}:{line}" if line else filename
        raise ZoneError(f"cannot read zone file {where}: {reason}") from None


def _failing_line(text: str, origin: str, reason: str, limit: int = 5000) -> int | None:
    """The first line whose inclusion produces the error (dnspython's own count is sometimes one off)."""
    lines = text.splitlines()
    if len(lines) > limit:
        return None
    for count in range(1, len(lines) + 1):
        try:
            _parse("\n".join(lines[:count]) + "\n", origin, "x")
        except dns.exception.DNSException as exc:
            if re.sub(r"^.*?:\d+: ", "", str(exc)) == reason:
                return count
    return None


def origin_for(path: Path, text: str) -> str:
    """$ORIGIN from the file, else the file name less .zone/.db/.txt and a leading 'db.'."""
    match = re.search(r"^\$ORIGIN\s+(\S+)", text, re.M | re.I)
    if match:
        return match.group(1)
    name = path.name
    for suffix in ZONE_SUFFIXES:
        name = name.removesuffix(suffix)
    name = name.removeprefix("db.")
    if not name or name.startswith("."):
        raise ZoneError(f"{path}: no $ORIGIN line, and the file name does not say which domain it is "
                        "(name it <domain>.zone)")
    return name


@dataclass
class ZoneSet:
    zones: dict[dns.name.Name, dns.zone.Zone] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # origin (text, no dot) -> file

    @classmethod
    def load(cls, paths: list[str | Path]) -> ZoneSet:
        """Every zone file named, or found in a named folder. Raises ZoneError."""
        zone_set = cls()
        for item in map(Path, paths):
            if item.is_dir():
                files = sorted(p for p in item.iterdir() if p.is_file() and not p.name.startswith("."))
                if not files:
                    raise ZoneError(f"{item}: the folder holds no zone files")
            elif item.is_file():
                files = [item]
            else:
                raise ZoneError(f"{item}: no such zone file or folder")
            for file in files:
                zone_set.add_file(file)
        return zone_set

    def add_file(self, path: Path) -> None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ZoneError(f"cannot read zone file {path}: {exc}") from None
        self.add(zone_from_text(text, origin_for(path, text), filename=str(path)), str(path))

    def add_text(self, origin: str, text: str, source: str = "<text>") -> None:
        self.add(zone_from_text(text, origin), source)

    def add(self, zone: dns.zone.Zone, source: str) -> None:
        if zone.origin is None:
            raise ZoneError(f"{source}: the zone has no origin")
        origin = zone.origin.to_text(omit_final_dot=True).lower()
        if zone.origin in self.zones and self.sources.get(origin) != source:
            raise ZoneError(f"{source}: the zone {origin} is also given in {self.sources[origin]}")
        self.zones[zone.origin] = zone
        self.sources[origin] = source

    def __bool__(self) -> bool:
        return bool(self.zones)

    def zone_for(self, name: dns.name.Name, rdtype: int = 0) -> dns.zone.Zone | None:
        """The zone that answers for ``name``; a DS at a zone's apex is the parent's (RFC 4035
        §3.1.4.1), when the parent is loaded too."""
        best, best_origin = None, dns.name.root
        for origin, zone in self.zones.items():
            if name.is_subdomain(origin) and (best is None or len(origin) > len(best_origin)):
                best, best_origin = zone, origin
        if best is not None and rdtype == dns.rdatatype.DS and name == best_origin and len(name) > 1:
            return self.zone_for(name.parent()) or best
        return best

    def signatures(self, rrset: dns.rrset.RRset) -> dns.rrset.RRset | None:
        """The RRSIGs over one RRset of the answer, from the zone that holds it (signed zones)."""
        zone = self.zone_for(rrset.name, rrset.rdtype)
        node = zone.get_node(rrset.name) if zone is not None else None
        found = node.get_rdataset(rrset.rdclass, dns.rdatatype.RRSIG, rrset.rdtype) if node is not None else None
        return _rrset(rrset.name, found) if found is not None else None

    def covers(self, name: str | dns.name.Name) -> bool:
        return self.zone_for(_name(name)) is not None

    def lookup(self, qname: str | dns.name.Name, rdtype: str | int) -> ZoneAnswer:
        """Answer from the zones; the first name must be under one of them (see ``covers``)."""
        rdtype = dns.rdatatype.RdataType.make(rdtype)
        current = _name(qname)
        answer: list[dns.rrset.RRset] = []
        for _hop in range(MAX_HOPS):
            zone = self.zone_for(current, rdtype)
            if zone is None:
                return ZoneAnswer("NOERROR", tuple(answer), exit=current)
            node = zone.get_node(current)
            if node is None and _is_empty_non_terminal(zone, current):
                return ZoneAnswer("NOERROR", tuple(answer), _soa(zone))
            node = node or _wildcard(zone, current)
            if node is None:
                return ZoneAnswer("NXDOMAIN", tuple(answer), _soa(zone))
            rdataset = node.get_rdataset(dns.rdataclass.IN, rdtype)
            if rdataset is not None:
                return ZoneAnswer("NOERROR", (*answer, _rrset(current, rdataset)))
            cname = node.get_rdataset(dns.rdataclass.IN, dns.rdatatype.CNAME)
            if cname is None or rdtype == dns.rdatatype.CNAME:
                return ZoneAnswer("NOERROR", tuple(answer), _soa(zone))
            answer.append(_rrset(current, cname))
            current = cname[0].target
        return ZoneAnswer("SERVFAIL", tuple(answer))

    def rrsets(self, origin: str) -> Iterator[tuple[dns.name.Name, dns.rdataset.Rdataset]]:
        """Every (name, type, rdatas) of one zone, for comparing a plan with live DNS."""
        zone = self.zones[_name(origin)]
        for name, node in sorted(zone.nodes.items()):
            for rdataset in node.rdatasets:
                yield name, rdataset

    def record_texts(self, domain: str) -> list[tuple[str, str, tuple[str, ...]]]:
        """The record sets at or under ``domain`` in the zone that holds it, as text: (owner,
        absolute and lower case; type; the records sorted). Empty when no zone holds it."""
        under = _name(domain)
        zone = self.zone_for(under)
        if zone is None:
            return []
        return [(name.to_text().lower(), dns.rdatatype.to_text(rdataset.rdtype),
                 tuple(sorted(r.to_text() for r in rdataset)))
                for name, rdataset in self.rrsets(str(zone.origin)) if name.is_subdomain(under)]


def _name(value: str | dns.name.Name) -> dns.name.Name:
    return value if isinstance(value, dns.name.Name) else dns.name.from_text(value)


def _origin(zone: dns.zone.Zone) -> dns.name.Name:
    """The origin of a zone of the set (``ZoneSet.add`` refuses a zone without one)."""
    if zone.origin is None:
        raise ZoneError("a zone without an origin")
    return zone.origin


def _wildcard(zone: dns.zone.Zone, name: dns.name.Name) -> dns.node.Node | None:
    """RFC 4592: a wildcard at the closest encloser answers for a name that does not exist."""
    encloser = name.parent()
    origin = _origin(zone)
    while encloser.is_subdomain(origin):
        if zone.get_node(encloser) is not None or _is_empty_non_terminal(zone, encloser):
            return zone.get_node(dns.name.Name((b"*",) + encloser.labels))
        if encloser == origin:
            return None
        encloser = encloser.parent()
    return None


def _is_empty_non_terminal(zone: dns.zone.Zone, name: dns.name.Name) -> bool:
    """RFC 4592 section 2.2.2: ``name`` has no node but owns names below it."""
    return name in _interior_names(zone)


_INTERIOR: dict[int, tuple[dns.zone.Zone, int, frozenset[dns.name.Name]]] = {}


def _interior_names(zone: dns.zone.Zone) -> frozenset[dns.name.Name]:
    """Every name that has an owner of the zone strictly below it, made once per zone.

    Asking the zone's every node instead made each NXDOMAIN or NODATA answer cost the zone's
    size: an offline audit of 3,000 domains against one planned zone of 10,000 (bench/run.py's
    world) still ran after 10 minutes; with the set the whole run takes 55 s. A zone whose node count
    changes (a test adding names) is walked again, as is a new zone object (the test server
    replaces a changed zone by a new one); dnsaudit itself never changes a loaded zone.
    """
    cached = _INTERIOR.get(id(zone))
    if cached is not None and cached[0] is zone and cached[1] == len(zone.nodes):
        return cached[2]
    names: set[dns.name.Name] = set()
    for owner in zone.nodes:
        parent = owner
        while len(parent) > 1:
            parent = parent.parent()
            if parent in names:
                break  # its ancestors are in already
            names.add(parent)
    interior = frozenset(names)
    if len(_INTERIOR) > 64:  # zones are loaded once per run; tests build many
        _INTERIOR.clear()
    _INTERIOR[id(zone)] = (zone, len(zone.nodes), interior)
    return interior


def _soa(zone: dns.zone.Zone) -> dns.rrset.RRset | None:
    origin = _origin(zone)
    soa = zone.get_rdataset(origin, dns.rdatatype.SOA)
    return _rrset(origin, soa) if soa is not None else None


def _rrset(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    rrset = dns.rrset.RRset(owner, rdataset.rdclass, rdataset.rdtype)
    rrset.update(rdataset)  # type: ignore[no-untyped-call]  # dnspython's Set.update has no annotations
    return rrset
