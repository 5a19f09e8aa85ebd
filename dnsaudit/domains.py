"""Turning what people paste into a domain name: IDNs, URLs, e-mail addresses.

Domains are kept as lower-case A-labels (UTS 46 mapping, as browsers and mail clients do)
and shown to people in Unicode. Anything that had to be guessed (a URL's domain, an
address's domain part) is returned with a note, so the input row can carry a warning.

A URL (``https://www.contoso.com/login``, copied from a browser) names a web host, not a
mail domain: it is reduced to its registrable domain by the Public Suffix List
(https://publicsuffix.org/list/, the ``publicsuffixlist`` package), so that ``www.`` or
``login.`` in front does not become a domain that "does not exist". An e-mail address keeps
its whole domain part: that is a mail domain as written.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import idna

from dnsaudit.mail.microsoft import TENANT_SUFFIXES

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# A label nobody publishes: checks ask for ``<label>.<domain>`` to tell a wildcard (``*.<domain>``)
# from a real record; the reports show its answer as the wildcard's, never the made-up name.
WILDCARD_PROBE_LABEL = "dnsaudit-wildcard-probe-q7x2k"
# What str.isspace calls a space (the same Unicode table: a test compares every code point);
# one search instead of a generator over the characters, 2 us less a name.
_WHITESPACE = re.compile(r"\s")
# Two or more LDH labels (LDH_LABEL), none with "--" in its third and fourth place: a
# ``plain_ascii`` name, matched in one go instead of label by label.
_PLAIN_LABEL = r"(?!-)(?![a-z0-9-]{2}--)[a-z0-9-]{1,63}(?<!-)"
_PLAIN_NAME = re.compile(rf"(?:{_PLAIN_LABEL}\.)+{_PLAIN_LABEL}")


class DomainError(ValueError):
    """The text is not a usable domain name; the message says why, for the row's error."""


@dataclass(frozen=True)
class NormalisedDomain:
    ascii: str  # A-labels, lower case, no trailing dot
    unicode: str  # for people
    note: str = ""  # what was changed, when the change was a guess


def normalise_domain(text: str) -> NormalisedDomain:
    """Normalise one cell to a domain, or raise DomainError."""
    raw = text.strip().strip("\"'<>").strip()
    if not raw:
        raise DomainError("the domain is empty")
    note = ""
    url = False
    if "://" in raw:
        url = True
        host = urlsplit(raw).hostname or ""
        note = f"a URL was given; using its host name {host!r}"
        raw = host
    if "@" in raw:
        raw = raw.rsplit("@", 1)[1]
        note = f"an e-mail address was given; using its domain {raw!r}"
    if "/" in raw or "?" in raw:
        url = True
        host = urlsplit("//" + raw).hostname or ""
        note = f"a path was given; using its host name {host!r}"
        raw = host
    raw = raw.rstrip(".")
    if raw.startswith("*."):
        raise DomainError(f"{text.strip()!r} is a wildcard, not a domain")
    bare = raw.strip("[]")  # an IPv6 address may come in brackets
    if could_be_ip_address(bare):
        try:
            ipaddress.ip_address(bare)
        except ValueError:
            pass
        else:
            raise DomainError(f"{text.strip()!r} is an IP address, not a domain")
    if _WHITESPACE.search(raw):
        raise DomainError(f"{text.strip()!r} contains spaces")
    plain = plain_ascii(raw)
    try:
        ascii_name = plain if plain is not None else idna.encode(raw, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError) as exc:
        raise DomainError(f"{text.strip()!r} is not a valid domain name ({exc})") from None
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise DomainError(f"{text.strip()!r} is a single label; give the full domain, e.g. contoso.com")
    if len(ascii_name) > 253:
        raise DomainError(f"{text.strip()!r} is longer than 253 characters")
    bad = next((label for label in labels if not LDH_LABEL.match(label)), None)
    if bad is not None:
        raise DomainError(f"{text.strip()!r} has an invalid label {bad!r} (letters, digits and inner hyphens only)")
    if url:
        registrable = registrable_domain(ascii_name)
        if registrable != ascii_name:
            note = f"a URL was given; using its registrable domain {registrable!r} (the host is {ascii_name!r})"
            ascii_name = registrable
    if plain is not None:  # and so is its registrable domain
        return NormalisedDomain(ascii_name, ascii_name, note)
    try:
        unicode_name = idna.decode(ascii_name)
    except idna.IDNAError:
        unicode_name = ascii_name
    return NormalisedDomain(ascii_name, unicode_name, note)


def could_be_ip_address(text: str) -> bool:
    """False when ``ipaddress.ip_address`` surely refuses ``text``: an IPv6 address holds a
    colon, an IPv4 one digits and dots only. Why: for a name, ipaddress says no by raising,
    4-5 us a call, 0.1 s of a 10,000-row list's start (the domain and the tenant), before any
    domain is audited. tests/unit compare it with ipaddress on generated text."""
    return ":" in text or text.replace(".", "").isdigit()


def plain_ascii(name: str) -> str | None:
    """``name`` in lower case when it is two or more letter-digit-hyphen labels, none an
    A-label nor with ``--`` in its third and fourth place, at most 253 characters: what
    UTS 46 maps to itself lower-cased (its only ASCII mapping) and IDNA 2008 accepts and
    decodes to itself (RFC 5891 4.2.3.1). Else None: idna decides. Nearly every row of a
    list is such a name, and idna's checks of each code point took 30 us a name (0.6 s of
    the main process's CPU for 10,000 rows: the domain and the tenant); tests/unit compare
    the two on generated names."""
    if len(name) > 253 or not name.isascii():
        return None
    lowered = name.lower()
    return lowered if _PLAIN_NAME.fullmatch(lowered) else None


def registrable_domain(name: str) -> str:
    """The public suffix plus one label (``www.contoso.co.uk`` -> ``contoso.co.uk``); a public
    suffix itself is returned as it is. A tenant's initial domain (``contoso.onmicrosoft.com``)
    is a domain of its own although the list does not say so: each tenant is a customer."""
    for suffix in sorted(("mail.onmicrosoft.com", *TENANT_SUFFIXES), key=len, reverse=True):  # hybrid routing
        if name.endswith("." + suffix):
            return ".".join(name[: -len(suffix) - 1].split(".")[-1:] + [suffix])
    return _public_suffixes().privatesuffix(name) or name


@cache
def _public_suffixes() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList  # loads the list (~0.2 s): only when a URL is given

    return PublicSuffixList()
