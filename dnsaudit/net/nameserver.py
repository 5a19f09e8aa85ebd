"""The servers a run asks: an address and a port, read from the command line or the system.

Kept apart from the client (``net.dns``): the command line and the policy file parse
nameservers long before any query.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_PORT = 53


@dataclass(frozen=True)
class Nameserver:
    address: str
    port: int = DEFAULT_PORT

    def __str__(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


def parse_nameserver(text: str) -> Nameserver:
    """Parse ``IP``, ``IP:PORT``, ``[IPv6]:PORT`` or a bare IPv6 address.

    Raises ValueError with a message fit for the command line.
    """
    import ipaddress

    text = text.strip()
    address, port = text, DEFAULT_PORT
    if text.startswith("["):
        address, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":"):
                raise ValueError(f"cannot read nameserver {text!r}: expected [IPv6]:PORT")
            port = _parse_port(rest[1:], text)
    elif text.count(":") == 1:
        address, port_text = text.split(":")
        port = _parse_port(port_text, text)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ValueError(f"nameserver {text!r} is not an IP address (give IP or IP:PORT)") from None
    return Nameserver(address, port)


def _parse_port(text: str, whole: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"nameserver {whole!r} has an invalid port {text!r}")
    return int(text)


def system_nameservers() -> list[Nameserver]:
    """The resolvers of the operating system (``/etc/resolv.conf`` or the registry)."""
    import dns.resolver  # here: it imports dns.query and with it an HTTP client (~0.5 s), which
    # `dnsaudit checks` and the check modules never need

    try:
        resolver = dns.resolver.Resolver(configure=True)
    except dns.resolver.NoResolverConfiguration:
        return []
    return [Nameserver(str(ns)) for ns in resolver.nameservers]
