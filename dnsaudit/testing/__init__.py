"""Test helpers for dnsaudit and for plugin authors (``ZoneServer``: a real DNS server on loopback)."""

from dnsaudit.testing.server import FAULTS, ZoneServer, load_zone

__all__ = ["FAULTS", "ZoneServer", "load_zone"]
