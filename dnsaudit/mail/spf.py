"""SPF (RFC 7208): record selection, parsing, macro expansion and ``check_host()``.

No well-kept asynchronous SPF library exists, and a relay IP's verdict has to be exact, so
this module implements the RFC on the run's shared DnsClient: every TXT, A, MX or PTR
question is asked once per run, whichever domain needs it first, and a DNS failure is
``temperror`` (never a pass, never "no record").

    evaluator = SpfEvaluator(dns)
    result = await evaluator.check_host("203.0.113.25", "contoso.com", "postmaster@contoso.com")
    result.result        -> "pass"
    result.decided_by    -> ("include:relay.contoso.com", "ip4:203.0.113.0/24")

Section numbers in comments refer to RFC 7208. Longer than our other modules on purpose: the
parser, the macro expander and ``check_host()`` share the RFC's terms and limits, and read
best side by side with the sections they implement.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import time
import urllib.parse
from dataclasses import dataclass, field

from dnsaudit.net.dns import DnsAnswer, Outcome
from dnsaudit.net.protocols import Resolver

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


class SpfSyntaxError(ValueError):
    """A record that does not parse; ``position`` is the offset of the offending term."""

    def __init__(self, message: str, position: int, record: str) -> None:
        super().__init__(message)
        self.position = position
        self.record = record

    def marked(self, marker: str = "\u2192") -> str:
        """The record with a marker where the error is, for people."""
        return self.record[: self.position] + marker + self.record[self.position:]


class _Abort(Exception):
    """Stops evaluation with a final result (permerror or temperror)."""

    def __init__(self, result: str, reason: str) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason


# -- record selection and parsing -------------------------------------------------------------


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
        _check_macro_string(value, error)  # §7.1: c, r and t only in the explanation text, not in exp=
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
        _check_macro_string(argument, error)
        _check_domain_spec(argument, error)
    elif rest:
        raise error("unexpected text after the mechanism name")
    if name in ("include", "exists") and argument is None:
        raise error(f"'{name}' needs a domain")
    return Term(token, position, name, qualifier, argument, cidr4, cidr6)


def _split_dual_cidr(rest: str, error) -> tuple[str, int | None, int | None]:
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


def _parse_ip(token, position, name, qualifier, rest, error) -> Term:
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


def _check_macro_string(value: str, error, allow_exp_letters: bool = False) -> None:
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


def _check_domain_spec(value: str, error) -> None:
    """§7.1 domain-end: the last label is a valid top label or ends with a macro."""
    if value.endswith("}"):
        return
    stripped = value[:-1] if value.endswith(".") else value
    last = stripped.rsplit(".", 1)
    if len(last) < 2 or "%" in last[-1] or not _TOPLABEL.match(last[-1]):
        raise error("the domain does not end in a valid top-level label")


# -- macro expansion ---------------------------------------------------------------------------


@dataclass
class _Request:
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    sender: str
    helo: str
    receiver: str = "unknown"
    lookups: int = 0
    voids: int = 0
    trace: list[str] = field(default_factory=list)
    matched_inside: tuple[str, ...] = ()  # the path to the term that made the last include pass

    @property
    def local_part(self) -> str:
        return self.sender.rsplit("@", 1)[0] if "@" in self.sender else "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rsplit("@", 1)[1] if "@" in self.sender else self.sender


def _ip_macro(ip) -> str:
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


async def expand(spec: str, domain: str, req: _Request, evaluator: SpfEvaluator | None = None,
                 exp: bool = False) -> str:
    """§7: expand a macro-string for the current domain."""
    out: list[str] = []
    i = 0
    while i < len(spec):
        char = spec[i]
        if char != "%":
            out.append(char)
            i += 1
            continue
        nxt = spec[i + 1]
        if nxt in "%_-":
            out.append({"%": "%", "_": " ", "-": "%20"}[nxt])
            i += 2
            continue
        match = re.match(r"%\{([A-Za-z])(\d*)(r?)([.\-+,/_=]*)\}", spec[i:], re.IGNORECASE)
        assert match is not None  # parse_record has checked the syntax
        letter, digits, reverse, delimiters = match.groups()
        value = await _macro_value(letter.lower(), domain, req, evaluator, exp)
        parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
        if reverse:
            parts.reverse()
        if digits:
            parts = parts[-int(digits):]
        value = ".".join(parts)
        if letter.isupper():
            value = urllib.parse.quote(value, safe="-._~")
        out.append(value)
        i += len(match.group(0))
    result = "".join(out)
    if not exp:
        while len(result.rstrip(".")) > MAX_DOMAIN and "." in result:  # §7.3: drop left labels
            result = result.split(".", 1)[1]
    return result


async def _macro_value(letter: str, domain: str, req: _Request, evaluator, exp: bool) -> str:
    if letter == "s":
        return req.sender
    if letter == "l":
        return req.local_part
    if letter == "o":
        return req.sender_domain
    if letter == "d":
        return domain
    if letter == "i":
        return _ip_macro(req.ip)
    if letter == "v":
        return "in-addr" if req.ip.version == 4 else "ip6"
    if letter == "h":
        return req.helo
    if letter == "p":
        return await evaluator._validated_name(req, domain) if evaluator else "unknown"
    if letter == "c":
        return str(req.ip)
    if letter == "r":
        return req.receiver
    return str(int(time.time()))  # "t"


# -- evaluation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpfResult:
    """The outcome of check_host() and how it came about."""

    result: str
    domain: str
    reason: str = ""  # for errors and none: why
    decided_by: tuple[str, ...] = ()  # include/redirect path, then the matching term
    explanation: str = ""  # the exp= text on a fail, expanded
    lookups: int = 0
    voids: int = 0
    trace: tuple[str, ...] = ()  # DNS answers used, for evidence

    @property
    def mechanism(self) -> str:
        return " > ".join(self.decided_by) if self.decided_by else "(no term matched: default)"


class SpfEvaluator:
    """check_host() on the run's DnsClient. One instance can serve many evaluations."""

    def __init__(self, dns: Resolver) -> None:
        self.dns = dns

    async def record(self, domain: str) -> tuple[str, SpfRecord | str, DnsAnswer]:
        """The domain's SPF record: ("ok", record) or (result, reason) for none/permerror/temperror."""
        answer = await self.dns.query(domain, "TXT")
        if answer.outcome.is_failure:
            return TEMPERROR, f"the TXT lookup for {domain} ended in {answer.outcome.value.upper()}", answer
        texts = [text for text, _ in txt_strings(answer) if is_spf(text)] if answer.ok else []
        if not texts:
            return NONE, f"{domain} has no SPF record", answer
        if len(texts) > 1:
            return PERMERROR, f"{domain} has {len(texts)} SPF records", answer
        try:
            return "ok", parse_record(texts[0]), answer
        except SpfSyntaxError as exc:
            return PERMERROR, f"syntax error in the SPF record of {domain}: {exc}", answer

    async def check_host(self, ip: str, domain: str, sender: str | None = None, helo: str | None = None) -> SpfResult:
        """§4: the SPF result for a message from ``ip`` with MAIL FROM ``sender`` for ``domain``."""
        address = ipaddress.ip_address(ip)
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        domain = domain.rstrip(".").lower()
        sender = sender or f"postmaster@{domain}"
        if sender.startswith("@"):
            sender = "postmaster" + sender
        req = _Request(address, sender, helo or domain)
        result = await self._check(req, domain, ())
        return SpfResult(result.result, domain, result.reason, result.decided_by, result.explanation,
                         req.lookups, req.voids, tuple(req.trace))

    async def _check(self, req: _Request, domain: str, path: tuple[str, ...]) -> SpfResult:
        if not _valid_domain(domain):
            return SpfResult(NONE, domain, f"'{domain}' is not a valid domain name")
        status, record, answer = await self.record(domain)
        req.trace.append(answer.describe())
        if status != "ok":
            return SpfResult(status, domain, record)
        try:
            return await self._evaluate(req, domain, record, path)
        except _Abort as abort:
            return SpfResult(abort.result, domain, abort.reason, path)

    async def _evaluate(self, req: _Request, domain: str, record: SpfRecord, path: tuple[str, ...]) -> SpfResult:
        for term in record.directives:
            if term.counts_lookup:
                self._count(req, term)
            if await self._matches(req, domain, term, path):
                result = QUALIFIERS[term.qualifier]
                explanation = ""
                if result == FAIL and record.modifier("exp") is not None:
                    explanation = await self._explanation(req, domain, record.modifier("exp"))
                decided = req.matched_inside if term.name == "include" else path + (term.text,)
                return SpfResult(result, domain, "", decided, explanation)
        redirect = record.modifier("redirect")
        if redirect is not None and record.all_term is None:  # §6.1: ignored when "all" is present
            self._count(req, redirect)
            target = await self._target(req, domain, redirect.argument)
            result = await self._check(req, target, path + (redirect.text,))
            if result.result == NONE:  # §6.1: a redirect to a domain without SPF is permerror
                return SpfResult(PERMERROR, domain, f"redirect to {target}, which has no SPF record",
                                 path + (redirect.text,))
            return result
        return SpfResult(NEUTRAL, domain, "no term matched", path)

    def _count(self, req: _Request, term: Term) -> None:
        req.lookups += 1
        if req.lookups > LOOKUP_LIMIT:
            raise _Abort(PERMERROR, f"more than {LOOKUP_LIMIT} DNS lookups (reached at '{term.text}')")

    def _void(self, req: _Request, answer: DnsAnswer) -> None:
        if answer.outcome in (Outcome.NXDOMAIN, Outcome.NODATA):
            req.voids += 1
            if req.voids > VOID_LIMIT:
                raise _Abort(PERMERROR, f"more than {VOID_LIMIT} void DNS lookups (at {answer.name})")

    async def _query(self, req: _Request, name: str, rdtype: str, *, void: bool = True,
                     temperror: bool = True) -> DnsAnswer:
        answer = await self.dns.query(name, rdtype)
        req.trace.append(answer.describe())
        if answer.outcome.is_failure and temperror:
            raise _Abort(TEMPERROR, f"the {rdtype} lookup for {name} ended in {answer.outcome.value.upper()}")
        if void:
            self._void(req, answer)
        return answer

    async def _target(self, req: _Request, domain: str, spec: str | None) -> str:
        if spec is None:
            return domain
        # Not checked here: a target that is not a valid name is no syntax error (§4.8); the
        # mechanisms treat it as a lookup that finds nothing, include and redirect as check_host
        # of a malformed domain (§4.3: "none").
        return (await expand(spec, domain, req, self)).rstrip(".").lower()

    async def _matches(self, req: _Request, domain: str, term: Term, path: tuple[str, ...]) -> bool:
        name, ip = term.name, req.ip
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            if (name == "ip4") != (ip.version == 4):
                return False
            length = term.cidr4 if name == "ip4" else term.cidr6
            return ip in network(term.argument, length)
        target = await self._target(req, domain, term.argument)
        if name != "include" and not _valid_domain(target):
            req.trace.append(f"{term.text}: the target '{target}' is not a valid domain name; no lookup, no match")
            return False
        if name == "include":
            result = await self._check(req, target, path + (term.text,))
            if result.result == PASS:
                req.matched_inside = result.decided_by
                return True
            if result.result in (FAIL, SOFTFAIL, NEUTRAL):
                return False
            if result.result == TEMPERROR:
                raise _Abort(TEMPERROR, result.reason)
            raise _Abort(PERMERROR, f"include:{target} gives {result.result}"
                         + (f" ({result.reason})" if result.reason else ""))
        if name == "a":
            return await self._address_match(req, target, term)
        if name == "mx":
            mx = await self._query(req, target, "MX")
            if len(mx.records) > MX_ADDRESS_LIMIT:
                raise _Abort(PERMERROR, f"mx:{target} has more than {MX_ADDRESS_LIMIT} MX records")
            for record in mx.mx():
                host = record.exchange
                if host and await self._address_match(req, host, term):
                    return True
            return False
        if name == "exists":
            answer = await self._query(req, target, "A")  # §5.7: always A, even for IPv6 clients
            return answer.ok
        if name == "ptr":
            validated = await self._validated_names(req)
            return any(n == target or n.endswith("." + target) for n in validated)
        raise _Abort(PERMERROR, f"unknown mechanism {name}")  # pragma: no cover - parse_record rejects it

    async def _address_match(self, req: _Request, host: str, term: Term) -> bool:
        rdtype = "A" if req.ip.version == 4 else "AAAA"
        length = (term.cidr4 if term.cidr4 is not None else 32) if req.ip.version == 4 else (
            term.cidr6 if term.cidr6 is not None else 128)
        answer = await self._query(req, host, rdtype)
        return any(req.ip in network(address, length) for address in answer.addresses())

    async def _validated_names(self, req: _Request) -> list[str]:
        """§5.5: PTR names of the client that resolve back to it (errors mean no names)."""
        reverse = req.ip.reverse_pointer
        answer = await self._query(req, reverse, "PTR", temperror=False)
        if not answer.ok:
            return []
        names = []
        rdtype = "A" if req.ip.version == 4 else "AAAA"
        for name in answer.names(given_order=True)[:PTR_NAME_LIMIT]:  # the first ten as the server gave them
            forward = await self._query(req, name, rdtype, void=False, temperror=False)
            if any(ipaddress.ip_address(a) == req.ip for a in forward.addresses()):
                names.append(name)
        return names

    async def _validated_name(self, req: _Request, domain: str) -> str:
        """§7.3 %{p}: a validated name, preferring one in ``domain``; "unknown" if none."""
        try:
            names = await self._validated_names(req)
        except _Abort:
            return "unknown"
        for name in names:
            if name == domain or name.endswith("." + domain):
                return name
        return names[0] if names else "unknown"

    async def _explanation(self, req: _Request, domain: str, exp: Term) -> str:
        """§6.2: the explanation for a fail; any problem just means no explanation."""
        try:
            target = await self._target(req, domain, exp.argument)
            if not _valid_domain(target):
                return ""
            answer = await self.dns.query(target, "TXT")
        except _Abort:
            return ""
        texts = txt_strings(answer) if answer.ok else []
        if len(texts) != 1:
            return ""
        try:
            _check_macro_string(texts[0][0].replace(" ", "%_"), lambda m: ValueError(m), allow_exp_letters=True)
        except ValueError:
            return ""
        return await expand(texts[0][0], domain, req, self, exp=True)


def _valid_domain(domain: str) -> bool:
    """§4.3: a multi-label name, labels of 1 to 63 octets, of visible ASCII (a space from ``%_``,
    a backslash or a non-ASCII character makes a name no query can be built for)."""
    labels = domain.rstrip(".").split(".")
    return (
        len(labels) >= 2
        and len(domain.rstrip(".")) <= MAX_DOMAIN
        and all(0 < len(label) <= 63 for label in labels)
        and all(0x21 <= ord(c) <= 0x7E and c != "\\" for c in domain)
    )
