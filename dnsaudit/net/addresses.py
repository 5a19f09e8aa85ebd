"""Which addresses that public DNS hands out dnsaudit may connect to (the address guard).

A name in a domain under audit can point anywhere: at loopback, at RFC 1918 space, at the
cloud metadata address 169.254.169.254. dnsaudit connects only to globally reachable
addresses unless the user allows private ones (``--allow-private``).

The decision does not rest on the interpreter's tables alone (Python 3.11 calls NAT64's
``64:ff9b::7f00:1`` and the local-use ``64:ff9b:1::/48`` global): ``SPECIAL`` below is the
IANA special-purpose address registry (RFC 6890 and its updates), each entry with its
RFC, and an address must be global by both. IPv6 forms that *carry* an IPv4 address
(``EMBEDDING``) are decided by that IPv4 address, because a translator, a 6to4 relay or a
dual-stack socket delivers the packet there: ``64:ff9b::a9fe:a9fe`` is 169.254.169.254 on
a network with NAT64, ``::ffff:127.0.0.1`` is loopback on any dual-stack host.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Not globally reachable (IANA IPv4/IPv6 Special-Purpose Address Registries, "Globally
# Reachable: False", plus multicast and the reserved blocks).
SPECIAL: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "RFC 791 / RFC 6890: this network"),
    ("10.0.0.0/8", "RFC 1918: private use"),
    ("100.64.0.0/10", "RFC 6598: shared address space (carrier-grade NAT)"),
    ("127.0.0.0/8", "RFC 1122 section 3.2.1.3: loopback"),
    ("169.254.0.0/16", "RFC 3927: link local (cloud metadata services)"),
    ("172.16.0.0/12", "RFC 1918: private use"),
    ("192.0.0.0/24", "RFC 6890 section 2.2.2: IETF protocol assignments"),
    ("192.0.2.0/24", "RFC 5737: documentation (TEST-NET-1)"),
    ("192.31.196.0/24", "RFC 7535: AS112-v4"),
    ("192.52.193.0/24", "RFC 7450: AMT"),
    ("192.88.99.0/24", "RFC 7526: deprecated 6to4 relay anycast"),
    ("192.168.0.0/16", "RFC 1918: private use"),
    ("192.175.48.0/24", "RFC 7534: direct delegation AS112 service"),
    ("198.18.0.0/15", "RFC 2544: benchmarking"),
    ("198.51.100.0/24", "RFC 5737: documentation (TEST-NET-2)"),
    ("203.0.113.0/24", "RFC 5737: documentation (TEST-NET-3)"),
    ("224.0.0.0/4", "RFC 5771: multicast"),
    ("240.0.0.0/4", "RFC 1112 section 4: reserved (and 255.255.255.255, RFC 919 limited broadcast)"),
    ("::/128", "RFC 4291 section 2.5.2: unspecified"),
    ("::1/128", "RFC 4291 section 2.5.3: loopback"),
    ("100::/64", "RFC 6666: discard-only"),
    ("2001:2::/48", "RFC 5180: benchmarking"),
    ("2001:10::/28", "RFC 4843: ORCHID (deprecated)"),
    ("2001:20::/28", "RFC 7343: ORCHIDv2"),
    ("2001:db8::/32", "RFC 3849: documentation"),
    ("3fff::/20", "RFC 9637: documentation"),
    ("5f00::/16", "RFC 9602: SRv6 SIDs"),
    ("64:ff9b:1::/48", "RFC 8215: local-use IPv4/IPv6 translation"),
    ("fc00::/7", "RFC 4193: unique local"),
    ("fe80::/10", "RFC 4291 section 2.5.6: link-local unicast"),
    ("fec0::/10", "RFC 3879: deprecated site-local"),
    ("ff00::/8", "RFC 4291 section 2.7: multicast"),
)


def _low32(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


def _6to4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)


def _teredo_client(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address(~int(ip) & 0xFFFFFFFF)  # stored obfuscated (bits inverted)


def _teredo_server(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    return ipaddress.IPv4Address((int(ip) >> 64) & 0xFFFFFFFF)


# IPv6 prefixes that carry an IPv4 address, and where it is. Checked before SPECIAL, so
# ``::127.0.0.1`` is judged as 127.0.0.1, not by ``::/96``'s absence from the registry.
EMBEDDING: tuple[tuple[str, str, tuple[Callable[[ipaddress.IPv6Address], ipaddress.IPv4Address], ...]], ...] = (
    ("::ffff:0:0/96", "RFC 4291 section 2.5.5.2: IPv4-mapped", (_low32,)),
    ("::ffff:0:0:0/96", "RFC 2765 section 2.1: IPv4-translated (SIIT)", (_low32,)),
    ("64:ff9b::/96", "RFC 6052 section 2.1: NAT64 well-known prefix", (_low32,)),
    ("2002::/16", "RFC 3056 section 2: 6to4", (_6to4,)),
    ("2001::/32", "RFC 4380 section 4: Teredo (server and obfuscated client)", (_teredo_server, _teredo_client)),
    ("::/96", "RFC 4291 section 2.5.5.1: IPv4-compatible (deprecated)", (_low32,)),
)

_SPECIAL = tuple((ipaddress.ip_network(net), why) for net, why in SPECIAL)
_EMBEDDING = tuple((ipaddress.IPv6Network(net), why, where) for net, why, where in EMBEDDING)


def why_not_public(address: str | Address) -> str:
    """Why dnsaudit must not connect to ``address`` without --allow-private; "" when it may."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id:
            return "an IPv6 address with a zone index"
        for network, why, where in _EMBEDDING:
            if ip in network and ip not in (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1")):
                for extract in where:
                    inner = why_not_public(extract(ip))
                    if inner:
                        return f"{why} form of {extract(ip)}, {inner}"
                return ""
    for special, why in _SPECIAL:
        if ip.version == special.version and ip in special:
            return why
    if not ip.is_global or ip.is_multicast:  # the interpreter's tables as a second opinion
        return "not globally reachable"
    return ""


def is_public(address: str | Address) -> bool:
    """True when ``address`` is globally reachable, judged by the IPv4 address it carries if any."""
    return not why_not_public(address)


def allowed_addresses(addresses: Iterable[str], allow_private: bool) -> list[str]:
    """The addresses dnsaudit may connect to: public ones, or all with --allow-private."""
    return [a for a in addresses if allow_private or is_public(a)]
