"""domains.plain_ascii, the shortcut past idna for plain names, gives what idna gives; and
domains.could_be_ip_address, the shortcut past ipaddress, never turns an address away.

Names are generated from the characters where the shortcut's rules sit: letters of both
cases, digits, hyphens (``--`` in the third and fourth place, an ``xn--`` A-label, a label
that starts or ends with one), dots (empty labels, one label), the odd ASCII character and
a non-ASCII one, up to and past 253 characters.
"""

from __future__ import annotations

import contextlib
import ipaddress
from unittest import mock

import idna
from hypothesis import given, settings
from hypothesis import strategies as st

from dnsaudit.domains import DomainError, could_be_ip_address, normalise_domain, plain_ascii

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


ADDRESS_TEXT = st.one_of(
    st.text("0123456789.:abcdefABCDEF%[]x \u0660\u00b2", max_size=45),
    st.ip_addresses().map(str),
    st.ip_addresses(v=6).map(lambda a: f"{a}%eth0"),
    st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(map(str, t))),
)


@settings(max_examples=3000, deadline=None)
@given(ADDRESS_TEXT)
def test_the_address_shortcut_never_turns_an_address_away(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return
    assert could_be_ip_address(text)


def test_the_address_shortcut_lets_names_pass_at_once():
    assert not could_be_ip_address("contoso.com") and not could_be_ip_address("c00001.bench.test")
    assert could_be_ip_address("192.0.2.1") and could_be_ip_address("2001:db8::1") and could_be_ip_address("1.2.3")
    for address in ("192.0.2.1", "[2001:db8::1]", "2001:db8::1", "192.0.2.1."):
        assert outcome(address) == f"{address!r} is an IP address, not a domain"


def test_the_space_pattern_is_str_isspace():
    """normalise_domain turns away names with a space as ``str.isspace`` has it, by a pattern."""
    from dnsaudit.domains import _WHITESPACE

    assert [cp for cp in range(0x110000) if bool(_WHITESPACE.search(chr(cp))) != chr(cp).isspace()] == []
