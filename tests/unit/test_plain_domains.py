"""domains.plain_ascii, the shortcut past idna for plain names, gives what idna gives.

Names are generated from the characters where the shortcut's rules sit: letters of both
cases, digits, hyphens (``--`` in the third and fourth place, an ``xn--`` A-label, a label
that starts or ends with one), dots (empty labels, one label), the odd ASCII character and
a non-ASCII one, up to and past 253 characters.
"""

from __future__ import annotations

import contextlib
from unittest import mock

import idna
from hypothesis import given, settings
from hypothesis import strategies as st

from dnsaudit.domains import DomainError, normalise_domain, plain_ascii

LABEL = st.one_of(st.text("abcXYZ019-", min_size=0, max_size=8), st.sampled_from(["xn--bcher-kva", "ab--c", "-a", "a-",
                                                                                  "x" * 63, "y" * 64, "a_b", "é"]))
NAME = st.lists(LABEL, min_size=1, max_size=6).map(".".join) | st.integers(240, 260).map(lambda n: "a." * (n // 2))


def idna_way(name: str) -> tuple[str, str] | None:
    """What normalise_domain took from idna before the shortcut (None: not a domain)."""
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii").lower()
        return ascii_name, idna.decode(ascii_name)
    except (idna.IDNAError, UnicodeError):
        return None


@settings(max_examples=3000, deadline=None)
@given(NAME)
def test_a_plain_name_is_what_idna_makes_of_it(name):
    plain = plain_ascii(name)
    if plain is not None:
        assert idna_way(name) == (plain, plain)
    assert outcome(name) == outcome(name, shortcut=False)


def outcome(name: str, shortcut: bool = True) -> object:
    """normalise_domain's result or error message, with or without the shortcut."""
    with contextlib.ExitStack() as stack:
        if not shortcut:
            stack.enter_context(mock.patch("dnsaudit.domains.plain_ascii", lambda _name: None))
        try:
            return normalise_domain(name)
        except DomainError as exc:
            return str(exc)


def test_the_shortcut_is_taken_for_the_usual_names_only():
    assert plain_ascii("Contoso.COM") == "contoso.com"
    assert plain_ascii("t0.onmicrosoft.com") == "t0.onmicrosoft.com"
    for other in ("xn--bcher-kva.example", "ab--c.com", "contoso", "münchen.de", "a..b", "-a.com", "a_b.com",
                  "a." * 127 + "com"):
        assert plain_ascii(other) is None
