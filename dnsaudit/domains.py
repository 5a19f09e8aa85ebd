"""Turning what people paste into a domain name: IDNs, URLs, e-mail addresses.

Domains are kept as lower-case A-labels (UTS 46 mapping, as browsers and mail clients do)
and shown to people in Unicode. Anything that had to be guessed (a URL's host, an
address's domain part) is returned with a note, so the input row can carry a warning.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import idna

LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


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
    if "://" in raw:
        host = urlsplit(raw).hostname or ""
        note = f"a URL was given; using its host name {host!r}"
        raw = host
    if "@" in raw:
        raw = raw.rsplit("@", 1)[1]
        note = f"an e-mail address was given; using its domain {raw!r}"
    if "/" in raw or "?" in raw:
        host = urlsplit("//" + raw).hostname or ""
        note = f"a path was given; using its host name {host!r}"
        raw = host
    raw = raw.rstrip(".")
    if raw.startswith("*."):
        raise DomainError(f"{text.strip()!r} is a wildcard, not a domain")
    try:
        ipaddress.ip_address(raw.strip("[]"))
    except ValueError:
        pass
    else:
        raise DomainError(f"{text.strip()!r} is an IP address, not a domain")
    if any(c.isspace() for c in raw):
        raise DomainError(f"{text.strip()!r} contains spaces")
    try:
        ascii_name = idna.encode(raw, uts46=True).decode("ascii").lower()
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
    try:
        unicode_name = idna.decode(ascii_name)
    except idna.IDNAError:
        unicode_name = ascii_name
    return NormalisedDomain(ascii_name, unicode_name, note)
