"""The report phase's survey finds what reports.scope would clean with cheaper searches: they
must never miss a path or a token the exact patterns find (else a report would show a local
path or another client's name)."""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dnsaudit.reports import scope

# The hint's pattern before reports.scope searched from the slashes (searched in "\n" + text):
# a slash after a space, quote, bracket, ``=`` or the start of a line, a part, a slash and one more character.
_PATH_HINT = re.compile(r"[\s(\"'=]/[^\s/\"'()]+/[^\s/\"'()]")

# the characters the patterns care about, and a few others
TEXT = st.text(alphabet=st.sampled_from(list("ab1fF.:*-_ é/\\\n\t(\"'=C)") + ["\u202e", "ü", "\u2003", "\x1c"]),
               max_size=40)


@given(st.lists(TEXT, max_size=6))
@settings(max_examples=3000, deadline=None)
def test_the_tokens_of_joined_texts_are_those_redact_looks_up(texts):
    joined = "\n".join(texts)
    exact = [token for text in texts for token in scope._TOKEN.findall(text)]
    assert scope._tokens(joined) == tuple(dict.fromkeys(exact))


@given(st.lists(TEXT, max_size=6))
@settings(max_examples=3000, deadline=None)
def test_no_text_with_a_path_passes_the_path_hint(texts):
    if any(scope.without_paths(text) != text for text in texts):
        assert scope._may_hold_path("\n".join(texts))


@given(st.lists(TEXT, max_size=6))
@example(["x/b=/c/d"])  # a match that starts inside one that does not count
@example(["url https://a.b/c/d (/srv/x/y)"])
@settings(max_examples=3000, deadline=None)
def test_the_hint_searched_from_the_slashes_is_the_pattern_of_before(texts):
    text = "\n".join(texts)
    assert scope._may_hold_path(text) == (":\\" in text or _PATH_HINT.search("\n" + text) is not None)


def test_the_hint_sees_paths_at_the_start_of_a_text_and_after_a_quote_and_on_windows():
    for text in ("/home/a/zones/x.zone", "ok\n/srv/x/y", 'file "/etc/dns/x.zone"', r"C:\Users\bob\x.zone"):
        assert scope.without_paths(text) != text and scope._may_hold_path("first\n" + text)
    assert not scope._may_hold_path("https://example.com/a/b is a URL, v=spf1 a/24 is a prefix")
