"""RFC 9525 name matching, as pure functions."""

from __future__ import annotations

import pytest

from dnsaudit.certs import name_matches


@pytest.mark.parametrize(
    ("reference", "presented", "expected"),
    [
        ("autodiscover.contoso.com", "autodiscover.contoso.com", True),
        ("AUTODISCOVER.Contoso.com.", "autodiscover.contoso.com", True),
        ("autodiscover.contoso.com", "*.contoso.com", True),
        ("a.b.contoso.com", "*.contoso.com", False),  # one label only
        ("contoso.com", "*.contoso.com", False),
        ("autodiscover.contoso.com", "auto*.contoso.com", False),  # partial-label wildcards are not honoured
        ("autodiscover.contoso.com", "*.*.com", False),
        ("contoso.com", "*.com", False),  # never directly under a top-level domain
        ("xn--bcher-kva.example", "xn--bcher-kva.example", True),
        ("mail.contoso.com", "mail.contoso.com.evil.com", False),
    ],
)
def test_name_matches(reference, presented, expected):
    assert name_matches(reference, presented) is expected
