"""SPF records (RFC 7208): which TXT record is SPF, and parsing it into terms, syntax checked.

The parser is the evaluator's (dnsaudit.mail.spf) and the checks' (spf.record, spf.limits)
common ground: no DNS here, so a record from a zone file, a TXT answer or a test reads the
same, and a record shared by thousands of domains is parsed once (``parse_record`` is cached).
Section numbers in comments refer to RFC 7208.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass

from dnsaudit.net.dns import DnsAnswer

LOOKUP_LIMIT = 10  # §4.6.4: include, a, mx, ptr, exists and redirect
VOID_LIMIT = 2  # §4.6.4: lookups that answer NXDOMAIN or nothing
MX_ADDRESS_LIMIT = 10  # §4.6.4: address lookups per mx mechanism
PTR_NAME_LIMIT = 10  # §5.5: PTR names looked at
MAX_DOMAIN = 253

PASS, FAIL, SOFTFAIL, NEUTRAL, NONE, PERMERROR, TEMPERROR = (
    "pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
QUALIFIERS = {"+": PASS, "-": FAIL, "~": SOFTFAIL, "?": NEUTRAL}
MECHANISMS = ("all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists")
DNS_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
MACRO_LETTERS = frozenset("slodiphcrtv")
EXP_ONLY_LETTERS = frozenset("crt")
DELIMITERS = frozenset(".-+,/_=")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9\-_.]*$")
_TOPLABEL = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9]+(?:-+[A-Za-z0-9]+)*$|^[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]$")


# How a syntax check builds the exception it raises (the parser's carries the term's position).
MakeError = Callable[[str], Exception]


class SpfSyntaxError(ValueError):
    """A record that does not parse; ``position`` is the offset of the offending term."""

    def __init__(self, message: str, position: int, record: str) -> None:
        super().__init__(message)
        self.position = position
        self.record = record

    def marked(self, marker: str = "\u2192") -> str:
        """The record with a marker where the error is, for people."""
        return self.record[: self.position] + marker + self.record[self.position:]


def txt_strings(answer: DnsAnswer) -> list[tuple[str, tuple[str, ...]]]:
    """Each TXT record as (joined text, its strings). §3.3: strings join without spaces."""
    return [(record.text, record.strings) for record in answer.txt()]


def is_spf(text: str) -> bool:
    """§4.5: exactly "v=spf1" followed by a space or the end (case-insensitive)."""
    return text[:6].lower() == "v=spf1" and (len(text) == 6 or text[6] == " ")


@dataclass(frozen=True)
class Term:
    """One directive or modifier of a record, as written and as understood."""

    text: str
    position: int
    name: str  # mechanism or modifier name, lower case
    qualifier: str = "+"  # directives only
    argument: str | None = None  # domain-spec, address or macro-string
    cidr4: int | None = None
    cidr6: int | None = None
    modifier: bool = False

    @property
    def counts_lookup(self) -> bool:
        return (not self.modifier and self.name in DNS_MECHANISMS) or (self.modifier and self.name == "redirect")


@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[Term, ...]

    @property
    def directives(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not t.modifier)

    def modifier(self, name: str) -> Term | None:
        return next((t for t in self.terms if t.modifier and t.name == name), None)

    @property
    def all_term(self) -> Term | None:
        return next((t for t in self.directives if t.name == "all"), None)


@functools.lru_cache(maxsize=65536)
def network(address: str, length: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """``address/length`` as a network (host bits ignored), parsed once per run: every domain
    that includes a provider matches addresses against the same ranges."""
    return ipaddress.ip_network(f"{address}/{length}", strict=False)


@functools.lru_cache(maxsize=8192)
def parse_record(text: str) -> SpfRecord:
    """Parse an SPF record (§4.6, §12). Raises SpfSyntaxError with the position of the error.

    Cached: thousands of domains share the same provider records, and the result is frozen.
    """
    if not is_spf(text):
        raise SpfSyntaxError("the record does not start with 'v=spf1'", 0, text)
    terms: list[Term] = []
    position = 6
    for match in re.finditer(r"[^ ]+", text[6:]):
        position = 6 + match.start()
        terms.append(_parse_term(match.group(), position, text))
    for name in ("redirect", "exp"):
        found = [t for t in terms if t.modifier and t.name == name]
        if len(found) > 1:
            raise SpfSyntaxError(f"the '{name}' modifier appears more than once", found[1].position, text)
    return SpfRecord(text, tuple(terms))


def _parse_term(token: str, position: int, record: str) -> Term:
    def error(message: str) -> SpfSyntaxError:
        shown = token if token.isprintable() else token.encode("unicode_escape").decode("ascii")
        return SpfSyntaxError(f"{message} in '{shown}'", position, record)

    # §12: terms are separated by spaces (SP) only and consist of visible ASCII; a line feed,
    # tab or other character is a syntax error, never trimmed away.
    odd = next((c for c in token if not 0x21 <= ord(c) <= 0x7E), None)
    if odd is not None:
        kind = "whitespace other than a space" if odd.isspace() else "a character outside visible ASCII"
        raise error(f"{kind} ({odd!r}); only spaces separate terms")
    modifier = re.match(r"^([A-Za-z][A-Za-z0-9\-_.]*)=(.*)$", token)
    if modifier:
        name, value = modifier.group(1).lower(), modifier.group(2)
        check_macro_string(value, error)  # §7.1: c, r and t only in the explanation text, not in exp=
        if name in ("redirect", "exp"):
            _check_domain_spec(value, error)
        return Term(token, position, name, argument=value, modifier=True)
    qualifier = "+"
    body = token
    if body[0] in QUALIFIERS:
        qualifier, body = body[0], body[1:]
    match = re.match(r"^([A-Za-z0-9]+)(.*)$", body)
    if not match or match.group(1).lower() not in MECHANISMS:
        raise error("unknown mechanism")
    name, rest = match.group(1).lower(), match.group(2)
    if name == "all":
        if rest:
            raise error("'all' takes no argument")
        return Term(token, position, name, qualifier)
    if name in ("ip4", "ip6"):
        return _parse_ip(token, position, name, qualifier, rest, error)
    argument = None
    cidr4 = cidr6 = None
    if name in ("a", "mx"):
        rest, cidr4, cidr6 = _split_dual_cidr(rest, error)
    if rest.startswith(":"):
        argument = rest[1:]
        if not argument:
            raise error("empty domain after ':'")
        check_macro_string(argument, error)
        _check_domain_spec(argument, error)
    elif rest:
        raise error("unexpected text after the mechanism name")
    if name in ("include", "exists") and argument is None:
        raise error(f"'{name}' needs a domain")
    return Term(token, position, name, qualifier, argument, cidr4, cidr6)


def _split_dual_cidr(rest: str, error: MakeError) -> tuple[str, int | None, int | None]:
    cidr4 = cidr6 = None
    match = re.search(r"(?:/(\d+))?(?://(\d+))?$", rest)
    if match and match.group(0):
        for value, limit in ((match.group(1), 32), (match.group(2), 128)):
            if value is not None and ((len(value) > 1 and value[0] == "0") or int(value) > limit):
                raise error("invalid CIDR length")
        cidr4 = int(match.group(1)) if match.group(1) is not None else None
        cidr6 = int(match.group(2)) if match.group(2) is not None else None
        rest = rest[: match.start()]
    return rest, cidr4, cidr6


def _parse_ip(token: str, position: int, name: str, qualifier: str, rest: str, error: MakeError) -> Term:
    if not rest.startswith(":") or len(rest) < 2:
        raise error(f"'{name}' needs an address")
    address, _, length = rest[1:].partition("/")
    limit = 32 if name == "ip4" else 128
    if length and (not length.isdigit() or (len(length) > 1 and length[0] == "0") or int(length) > limit):
        raise error("invalid CIDR length")
    try:
        parsed = ipaddress.IPv4Address(address) if name == "ip4" else ipaddress.IPv6Address(address)
    except ValueError:
        raise error(f"'{address}' is not a complete IPv{name[-1]} address") from None
    cidr = int(length) if length else limit
    if name == "ip4":
        return Term(token, position, name, qualifier, str(parsed), cidr4=cidr)
    return Term(token, position, name, qualifier, str(parsed), cidr6=cidr)


def check_macro_string(value: str, error: MakeError, allow_exp_letters: bool = False) -> None:
    """§7.1 macro-string syntax: literals %x21-7E except '%', and well-formed expands."""
    i = 0
    while i < len(value):
        char = value[i]
        if char == "%":
            nxt = value[i + 1: i + 2]
            if nxt in ("%", "_", "-"):
                i += 2
                continue
            match = re.match(r"%\{([A-Za-z])(\d*)(r?)([.\-+,/_=]*)\}", value[i:], re.IGNORECASE)
            if not match:
                raise error("malformed macro")
            letter = match.group(1).lower()
            if letter not in MACRO_LETTERS:
                raise error(f"unknown macro letter '{match.group(1)}'")
            if letter in EXP_ONLY_LETTERS and not allow_exp_letters:
                raise error(f"macro '%{{{match.group(1)}}}' is allowed only in 'exp'")
            if match.group(2) and int(match.group(2)) == 0:
                raise error("a macro digit transformer must not be zero")
            i += len(match.group(0))
            continue
        if not 0x21 <= ord(char) <= 0x7E:
            raise error("invalid character")
        i += 1


def _check_domain_spec(value: str, error: MakeError) -> None:
    """§7.1 domain-end: the last label is a valid top label or ends with a macro."""
    if value.endswith("}"):
        return
    stripped = value[:-1] if value.endswith(".") else value
    last = stripped.rsplit(".", 1)
    if len(last) < 2 or "%" in last[-1] or not _TOPLABEL.match(last[-1]):
        raise error("the domain does not end in a valid top-level label")
