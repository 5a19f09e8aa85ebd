"""The address guard's table (dnsaudit.net.addresses): 25 private forms refused, public ones allowed."""

from __future__ import annotations

import pytest

from dnsaudit.net.addresses import EMBEDDING, SPECIAL, allowed_addresses, is_public, why_not_public

PRIVATE = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "192.0.2.1", "198.18.0.1", "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12::1",
    "ff02::1", "2001:db8::1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:7f00:1::1",
    "::127.0.0.1", "::ffff:0:a00:1", "::ffff:127.0.0.1", "2002:c0a8:101::1", "64:ff9b::c0a8:101",
    "2001:0:4136:e378:8000:63bf:80ff:fffe", "2001:0:7f00:1:8000:63bf:3fff:fdd2", "3fff::1", "fe80::1%eth0",
]
PUBLIC = ["8.8.8.8", "40.97.1.1", "2603:1036::1", "2620:1ec:c11::200", "64:ff9b::808:808", "2002:808:808::1",
          "::ffff:40.97.1.1", "1.1.1.1"]


@pytest.mark.parametrize("address", PRIVATE)
def test_private_forms_are_not_public(address):
    assert not is_public(address) and why_not_public(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_and_their_translations_are_public(address):
    assert is_public(address), why_not_public(address)


def test_embedded_addresses_are_named_in_the_reason():
    assert "127.0.0.1" in why_not_public("64:ff9b::7f00:1") and "RFC 6052" in why_not_public("64:ff9b::7f00:1")
    assert "169.254.169.254" in why_not_public("64:ff9b::a9fe:a9fe")


def test_every_table_entry_cites_its_rfc():
    assert all("RFC" in why for _net, why in SPECIAL) and all("RFC" in why for _net, why, _f in EMBEDDING)


def test_allow_private_allows_all():
    assert allowed_addresses(["10.0.0.1", "8.8.8.8"], False) == ["8.8.8.8"]
    assert allowed_addresses(["10.0.0.1", "8.8.8.8"], True) == ["10.0.0.1", "8.8.8.8"]
