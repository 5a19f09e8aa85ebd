"""One cell's value as dnsaudit uses it: relay addresses, a certificate host, a tenant, a cloud.

Each parser takes the row number and the issues list, so that a rejected or changed value
is reported with its row while the rest of the row is still audited.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Mapping
from typing import TypeVar

from dnsaudit.domains import DomainError, normalise_domain
from dnsaudit.mail.microsoft import TENANT_SUFFIXES
from dnsaudit.model import Cloud, InputIssue, IssueLevel, Phase

E = TypeVar("E", bound=enum.Enum)

CLOUDS = {
    Cloud.WORLDWIDE: ("", "worldwide", "commercial", "global", "ww", "gcc", "gccmoderate", "public"),
    Cloud.GCC_HIGH: ("gcchigh", "gcch", "usgovgcchigh"),
    Cloud.DOD: ("dod", "usgovdod"),
    Cloud.CHINA: ("china", "21vianet", "vianet", "gallatin", "cn"),
}
PHASES = {
    Phase.CLOUD: ("", "cloud", "cutover", "postmigration", "migrated", "done", "online"),
    Phase.HYBRID: ("hybrid",),
    Phase.PRE_MIGRATION: ("premigration", "pre", "onpremises", "onprem", "planning"),
}


def choice(value: str, table: Mapping[E, tuple[str, ...]]) -> E | None:
    """The member of ``table`` whose spellings include ``value`` (case, spaces and punctuation ignored)."""
    key = re.sub(r"[^a-z0-9]", "", value.lower())
    return next((member for member, spellings in table.items() if key in spellings), None)


def relay_ips(row: int, text: str, issues: list[InputIssue]) -> tuple[str, ...]:
    addresses = []
    for token in filter(None, re.split(r"[;,\s]+", text)):
        try:
            address = ipaddress.ip_address(token.strip("[]"))
        except ValueError:
            hint = " (give single addresses, not ranges)" if "/" in token else ""
            issues.append(InputIssue(row, IssueLevel.ERROR, f"relay IP {token!r} is not an IPv4 or IPv6 address{hint}; "
                                     "that value is left out", token))
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if str(address) not in addresses:
            addresses.append(str(address))
    return tuple(addresses)


def cert_host(row: int, text: str, issues: list[InputIssue]) -> str:
    text = text.strip()
    if not text or re.search(r"[\\/]|\.(pem|crt|cer)$", text, re.IGNORECASE):
        return text  # empty, or a certificate file path
    if text.startswith("["):  # [IPv6]:PORT or [IPv6], as the relay check reads it
        address, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            address = ""
        if not address or (rest and not rest.startswith(":")) or (port and not (port.isdigit() and
                                                                               0 < int(port) < 65536)):
            issues.append(InputIssue(row, IssueLevel.ERROR,
                                     f"relay_cert_host {text!r} is not [IPv6]:PORT; left out", text))
            return ""
        return text
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "")
    if port and (not port.isdigit() or not 0 < int(port) < 65536):
        issues.append(InputIssue(row, IssueLevel.ERROR,
                                 f"relay_cert_host {text!r} has an invalid port; left out", text))
        return ""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return text
    except ValueError:
        pass
    try:
        normalised = normalise_domain(host).ascii
    except DomainError as exc:
        issues.append(InputIssue(row, IssueLevel.ERROR, f"relay_cert_host: {exc}; left out", text))
        return ""
    return f"{normalised}:{port}" if port else normalised


def tenant(row: int, text: str, issues: list[InputIssue]) -> str:
    text = text.strip().lower().rstrip(".")
    if not text:
        return ""
    if "." not in text:
        issues.append(InputIssue(row, IssueLevel.WARNING, f"tenant {text!r} taken as {text}.onmicrosoft.com", text))
        text += ".onmicrosoft.com"
    try:
        tenant = normalise_domain(text).ascii
    except DomainError as exc:
        issues.append(InputIssue(row, IssueLevel.ERROR, f"tenant: {exc}; left out", text))
        return ""
    if not tenant.endswith(TENANT_SUFFIXES):
        issues.append(InputIssue(row, IssueLevel.WARNING, f"tenant {tenant!r} does not end in "
                                 f"{' / '.join(TENANT_SUFFIXES)}", text))
    return tenant
