"""Which domains a waiver or an expectation names: a domain name or glob, a client name or glob."""

from __future__ import annotations

from fnmatch import fnmatchcase

from dnsaudit.domains import DomainError, normalise_domain

GLOB_CHARS = frozenset("*?[")


def domain_pattern(text: str) -> str:
    """A domain pattern as written, in the form domains are compared in (A-labels, lower case).

    A plain name goes through the same normalisation as the input column (``Bücher.de`` and
    ``xn--bcher-kva.de`` are the same domain); a glob is only lower-cased and matched against
    both forms of the name. Raises ValueError for a plain name that is not a domain.
    """
    text = text.strip().lower().rstrip(".")
    if GLOB_CHARS & set(text):
        return text
    try:
        return normalise_domain(text).ascii
    except DomainError as exc:
        raise ValueError(str(exc)) from None


def domain_matches(pattern: str, domain: str, display_name: str = "") -> bool:
    if not pattern:
        return False
    if not GLOB_CHARS & set(pattern):
        return pattern == domain
    return fnmatchcase(domain, pattern) or (bool(display_name) and fnmatchcase(display_name.lower(), pattern))


def client_matches(pattern: str, client: str) -> bool:
    """Clients compare without regard to case or surrounding spaces; a glob (``Acme*``) is allowed."""
    if not pattern or not client.strip():
        return False
    return fnmatchcase(client.strip().lower(), pattern.strip().lower())
