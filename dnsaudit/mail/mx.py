"""A domain's MX records as sorted host lists (RFC 5321 §5.1), shared by the MX and TLS checks."""

from __future__ import annotations

from dataclasses import dataclass

from dnsaudit.mail.microsoft import is_verification_mx
from dnsaudit.net.dns import DnsAnswer


@dataclass(frozen=True)
class MxHost:
    preference: int
    host: str  # lower case, no trailing dot; "" for a null MX

    @property
    def record(self) -> str:
        return f"{self.preference} {self.host + '.' if self.host else '.'}"


def mx_hosts(answer: DnsAnswer) -> list[MxHost]:
    """MX records sorted by preference, then name."""
    hosts = [MxHost(r.preference, r.exchange) for r in answer.mx()]
    return sorted(hosts, key=lambda m: (m.preference, m.host))


def mail_hosts(hosts: list[MxHost]) -> list[MxHost]:
    """The hosts that could receive mail: no null MX, no verification leftovers."""
    return [m for m in hosts if m.host and not is_verification_mx(m.host)]
