"""What Microsoft 365 expects of a customer domain, per cloud.

Sources: "Add DNS records to connect your domain" (worldwide MX, autodiscover, SPF include),
the GCC High/DoD endpoint list ("Office 365 U.S. Government GCC High endpoints") and the
21Vianet list ("URLs and IP address ranges for Office 365 operated by 21Vianet") for the
sovereign clouds, "How SMTP DNSSEC and DANE work" for the ``mx.microsoft`` form.

Pure data and name arithmetic, no I/O: checks ask here what the right target is, so a
sovereign cloud changes one table and not every check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dnsaudit.model import Cloud, DomainEntry


@dataclass(frozen=True)
class CloudProfile:
    cloud: Cloud
    mx_suffixes: tuple[str, ...]  # the domain's own MX host sits directly under one of these
    dnssec_mx_suffix: str | None  # "<dashes>.<shard>.mx.microsoft" form, worldwide only
    spf_include: str
    autodiscover_host: str
    msoid_target: str | None  # required msoid CNAME target (China), None: must not exist

    @property
    def display(self) -> str:
        return _DISPLAY[self.cloud]


_DISPLAY = {
    Cloud.WORLDWIDE: "Microsoft 365 worldwide (including GCC)",
    Cloud.GCC_HIGH: "Microsoft 365 GCC High",
    Cloud.DOD: "Microsoft 365 DoD",
    Cloud.CHINA: "Microsoft 365 operated by 21Vianet (China)",
}

PROFILES = {
    Cloud.WORLDWIDE: CloudProfile(
        Cloud.WORLDWIDE,
        ("mail.protection.outlook.com",),
        "mx.microsoft",
        "spf.protection.outlook.com",
        "autodiscover.outlook.com",
        None,
    ),
    Cloud.GCC_HIGH: CloudProfile(
        Cloud.GCC_HIGH,
        ("mail.protection.office365.us",),
        None,
        "spf.protection.office365.us",
        "autodiscover.office365.us",
        None,
    ),
    Cloud.DOD: CloudProfile(
        Cloud.DOD,
        ("mail.protection.office365.us",),
        None,
        "spf.protection.office365.us",
        "autodiscover-dod.office365.us",
        None,
    ),
    Cloud.CHINA: CloudProfile(
        Cloud.CHINA,
        ("mail.protection.partner.outlook.cn",),
        None,
        "spf.protection.partner.outlook.cn",
        "autodiscover.partner.outlook.cn",
        "clientconfig.partner.microsoftonline-p.net.cn",
    ),
}

# The initial domain of a tenant ends in one of these (one per cloud family).
TENANT_SUFFIXES = ("onmicrosoft.com", "onmicrosoft.us", "partner.onmschina.cn")

# Hosts every cloud's autodiscover CNAME may legitimately pass through or end at.
ALL_AUTODISCOVER_HOSTS = frozenset(p.autodiscover_host for p in PROFILES.values())

# Well-known filtering gateways that sit in front of Exchange Online (MX suffixes).
KNOWN_GATEWAYS = {
    "mimecast.com": "Mimecast",
    "mimecast.co.za": "Mimecast",
    "mimecast-offshore.com": "Mimecast",
    "pphosted.com": "Proofpoint",
    "ppe-hosted.com": "Proofpoint Essentials",
    "barracudanetworks.com": "Barracuda",
    "messagelabs.com": "Broadcom Email Security.cloud",
    "iphmx.com": "Cisco Secure Email",
    "mailcontrol.com": "Forcepoint",
    "trendmicro.com": "Trend Micro",
    "trendmicro.eu": "Trend Micro",
    "hydra.sophos.com": "Sophos",
    "spamtitan.com": "SpamTitan",
    "mailguard.com.au": "MailGuard",
    "antispamcloud.com": "SpamExperts",
    "securence.com": "Securence",
}


def profile(cloud: Cloud) -> CloudProfile:
    return PROFILES[cloud]


def dashed(domain: str) -> str:
    """The left-hand token Microsoft derives from a domain: dots become dashes."""
    return domain.rstrip(".").lower().replace(".", "-")


def expected_mx(domain: str, cloud: Cloud) -> str:
    """The MX host Microsoft assigns to a domain by default (the classic form)."""
    return f"{dashed(domain)}.{PROFILES[cloud].mx_suffixes[0]}"


def microsoft_mx_token(host: str, cloud: Cloud) -> str | None:
    """The tenant-specific token of a Microsoft 365 MX host, or None if it is not one.

    ``contoso-com.mail.protection.outlook.com`` -> ``contoso-com``;
    ``contoso-com.o-v1.mx.microsoft`` -> ``contoso-com`` (DNSSEC-capable form, worldwide).
    """
    host = host.rstrip(".").lower()
    prof = PROFILES[cloud]
    for suffix in prof.mx_suffixes:
        head = _strip_suffix(host, suffix)
        if head and "." not in head:
            return head
    if prof.dnssec_mx_suffix:
        head = _strip_suffix(host, prof.dnssec_mx_suffix)
        if head and head.count(".") == 1:
            return head.split(".")[0]
    return None


def microsoft_mx_cloud(host: str) -> Cloud | None:
    """Which cloud's mail endpoint a host belongs to, if any (to spot a wrong cloud)."""
    for cloud in Cloud:
        if microsoft_mx_token(host, cloud):
            return cloud
    return None


def gateway_name(host: str, declared: str = "") -> str | None:
    """The name of the filtering gateway an MX host belongs to, if it is one.

    ``declared`` is the CSV's ``gateway`` column: a host suffix the user says is theirs.
    """
    host = host.rstrip(".").lower()
    for suffix in filter(None, (s.strip().lower().rstrip(".") for s in declared.replace(";", " ").split())):
        if host == suffix or host.endswith("." + suffix):
            return f"declared gateway {suffix}"
    for suffix, name in KNOWN_GATEWAYS.items():
        if host == suffix or host.endswith("." + suffix):
            return name
    return None


def is_verification_mx(host: str) -> bool:
    """Microsoft's fallback verification record: ``ms########.msv1.invalid``."""
    return host.rstrip(".").lower().endswith(".msv1.invalid")


def _strip_suffix(host: str, suffix: str) -> str:
    return host[: -len(suffix) - 1] if host.endswith("." + suffix) else ""


def organisation(tenant: str, client: str) -> str:
    """Which organisation's accepted domains a domain belongs to: its tenant, else its client,
    else the run's one unnamed organisation. A connector certificate may name any accepted
    domain of its own organisation, never another client's (an MSP list holds many)."""
    return f"tenant:{tenant}" if tenant else f"client:{client}" if client else ""


def accepted_domains(entries: Iterable[DomainEntry]) -> dict[str, frozenset[str]]:
    """The audited domains of each organisation (see ``organisation``), from the input's rows;
    a domain with both a tenant and a client also counts among its client's domains (for the
    client's rows that name no tenant)."""
    groups: dict[str, set[str]] = {}
    for entry in entries:
        groups.setdefault(organisation(entry.tenant, entry.client), set()).add(entry.domain)
        if entry.tenant and entry.client:
            groups.setdefault(organisation("", entry.client), set()).add(entry.domain)
    return {key: frozenset(domains) for key, domains in groups.items()}
