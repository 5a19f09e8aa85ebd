"""SPF macro expansion (RFC 7208 §7) and the state of one ``check_host()`` request it reads.

Split from the evaluator (dnsaudit.mail.spf) because it is the one part that knows the
sender, HELO name and client address letters; the evaluator hands in how to find the
validated domain name of ``%{p}`` (§5.5), the only letter that needs DNS.
"""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from dnsaudit.evidence import Evidence
from dnsaudit.mail.spf_record import MAX_DOMAIN
from dnsaudit.net.answer import DnsAnswer

# The validated domain name of the client address, for %{p}: ``(request, domain) -> name``.
PtrName = Callable[["SpfRequest", str], Awaitable[str]]


@dataclass
class SpfRequest:
    """One check_host() request: its inputs (§4.1) and the counters the limits of §4.6.4 read."""

    ip: ipaddress.IPv4Address | ipaddress.IPv6Address
    sender: str
    helo: str
    receiver: str = "unknown"
    lookups: int = 0
    voids: int = 0
    trace: list[Evidence] = field(default_factory=list)
    matched_inside: tuple[str, ...] = ()  # the path to the term that made the last include pass
    macros: int = 0  # macro-strings expanded: what used one may depend on the sender or HELO name
    answers: list[DnsAnswer] = field(default_factory=list)  # every DNS answer the evaluation read

    @property
    def local_part(self) -> str:
        return self.sender.rsplit("@", 1)[0] if "@" in self.sender else "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rsplit("@", 1)[1] if "@" in self.sender else self.sender


def _ip_macro(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


async def expand(spec: str, domain: str, req: SpfRequest, ptr_name: PtrName | None = None,
                 exp: bool = False) -> str:
    """§7: expand a macro-string for the current domain."""
    if "%" not in spec:
        return spec if exp else _shortened(spec)
    req.macros += 1
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
        value = await _macro_value(letter.lower(), domain, req, ptr_name)
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
    return result if exp else _shortened(result)


def _shortened(name: str) -> str:
    """§7.3: a domain name longer than 253 octets loses labels on the left until it fits."""
    while len(name.rstrip(".")) > MAX_DOMAIN and "." in name:
        name = name.split(".", 1)[1]
    return name


async def _macro_value(letter: str, domain: str, req: SpfRequest, ptr_name: PtrName | None) -> str:
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
        return await ptr_name(req, domain) if ptr_name else "unknown"
    if letter == "c":
        return str(req.ip)
    if letter == "r":
        return req.receiver
    return str(int(time.time()))  # "t"

