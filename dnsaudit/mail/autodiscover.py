"""Outlook's autodiscover order, shared by the three autodiscover checks.

Sources: Microsoft KB 3211279 ("Outlook 2016 implementation of Autodiscover": the order of
the root-domain, autodiscover-host, HTTP-redirect and SRV steps), "Autodiscover for
Exchange", and "Add DNS records to connect your domain" for the ``autodiscover`` CNAME of
each cloud; RFC 2782 for SRV.

Pure data and record arithmetic, no I/O and no check API: the checks (autodiscover.cname,
autodiscover.srv, autodiscover.endpoints) never import each other, so what they must agree
on (which SRV record Outlook takes, which hosts are Microsoft's) lives here.
"""

from __future__ import annotations

from dnsaudit.mail.microsoft import ALL_AUTODISCOVER_HOSTS
from dnsaudit.net.dns import DnsAnswer, SrvRecord

REFERENCES = (
    "https://learn.microsoft.com/exchange/client-developer/exchange-web-services/autodiscover-for-exchange",
    "https://support.microsoft.com/help/3211279",  # KB 3211279: Outlook's Autodiscover order
    "https://learn.microsoft.com/microsoft-365/admin/get-help-with-domains/create-dns-records-at-any-dns-hosting-provider",
)
AUTODISCOVER_PATH = "/autodiscover/autodiscover.xml"
# An SRV target that is Microsoft 365's own autodiscover host (no leftover after cutover).
MICROSOFT_SRV_TARGETS = ALL_AUTODISCOVER_HOSTS | {"autodiscover-s.outlook.com"}
# Hosts an http:// autodiscover redirect may name to reach Microsoft 365 (not probed).
MICROSOFT_REDIRECT_HOSTS = ALL_AUTODISCOVER_HOSTS | {"autodiscover-s.outlook.com", "autodiscover-s.office365.us",
                                                     "autodiscover-s-dod.office365.us",
                                                     "autodiscover-s.partner.outlook.cn"}


def outlook_srv_record(answer: DnsAnswer) -> SrvRecord | None:
    """The ``_autodiscover._tcp`` record Outlook uses: the first by priority (then weight) on
    port 443 with a target; None when there is none (or the lookup found nothing)."""
    records = sorted(answer.srv(), key=lambda r: (r.priority, -r.weight)) if answer.ok else []
    return next((r for r in records if r.port == 443 and r.target), None)
