"""Devices and applications that send through Microsoft 365 by relay or direct send.

Sources: Microsoft's "How to set up a multifunction device or application to send email
using Microsoft 365" (SMTP relay and direct send are judged by SPF), RFC 7208 §4
(``check_host()``, evaluated exactly through nested includes and redirects).
"""

from __future__ import annotations

import ipaddress

from dnsaudit.check import Check, CheckContext, txt_record
from dnsaudit.mail.spf import SpfEvaluator
from dnsaudit.mail.spf_record import LOOKUP_LIMIT, PASS, TEMPERROR
from dnsaudit.mail.spf_text import spf_texts, with_terms
from dnsaudit.mail.spf_tree import build_tree, tree_key
from dnsaudit.model import ErrorReason, Finding, Phase, Severity

# Addresses that never reach Microsoft 365 as a sender's address: they sit behind NAT.
INTERNAL_NETWORKS = tuple(ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.168.0.0/16", "::1/128", "::/128", "fc00::/7", "fe80::/10"))


def is_internal(address: str) -> bool:
    """Private (RFC 1918, ULA), carrier-grade NAT, loopback, link-local or unspecified."""
    ip = ipaddress.ip_address(address)
    return any(ip in net for net in INTERNAL_NETWORKS if net.version == ip.version)


M365_RELAY = "https://learn.microsoft.com/exchange/mail-flow-best-practices/how-to-set-up-a-multifunction-device-or-application-to-send-email-using-microsoft-365-or-office-365"


class RelaySpf(Check):
    """Every relay and direct-send IP in the input passes the domain's SPF.

    Printers, scanners and applications that send through Microsoft 365 by SMTP relay
    (a connector identified by IP) or direct send are authorised by SPF: Exchange Online
    and every receiver evaluate ``check_host(ip, domain, postmaster@domain)`` for their
    public IP, and anything but ``pass`` sends their mail to junk or rejects it. For each
    address in the ``relay_ips`` column dnsaudit runs that evaluation exactly (RFC 7208,
    through nested includes and redirects) and shows which term decided it. A private
    address (10.x, 172.16-31.x, 192.168.x, 100.64.x, fc00::/7, ...) is never what Microsoft
    sees: list the public address the device leaves through.

    Fix: publish the record in the remediation, which adds every address that does not
    pass. If the record already needs more than 10 DNS lookups, adding addresses will not
    help until it is trimmed (see spf.limits).
    """

    id = "relay.spf"
    area = "relay"
    severity = Severity.HIGH
    references = ("RFC 7208 §4", M365_RELAY)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        if not ctx.entry.relay_ips:
            return [self.skip("No relay or direct-send IPs listed for this domain (relay_ips column).")]
        sender = f"postmaster@{ctx.domain}"
        evaluator = SpfEvaluator(ctx.dns)
        public = [ip for ip in ctx.entry.relay_ips if not is_internal(ip)]
        results = {ip: await evaluator.check_host(ip, ctx.domain, sender) for ip in public}
        failing = [ip for ip, r in results.items() if r.result not in (PASS, TEMPERROR)]
        remediation, note = "", ""
        if failing:
            remediation, note = await self._fix(ctx, failing)
        findings = []
        for ip in ctx.entry.relay_ips:
            if ip not in results:
                findings.append(self.warn(f"{ip} is a private or reserved address: Microsoft 365 sees the public "
                                          "address the device leaves through; list that one instead.", observed=ip))
                continue
            r = results[ip]
            evidence = r.trace
            if r.result == PASS:
                findings.append(self.passed(f"{ip} passes SPF for {sender}, through {r.mechanism}.",
                                            observed=f"{ip}: pass", expected="pass", evidence=evidence))
            elif r.result == TEMPERROR:
                findings.append(self.error(f"Could not test {ip}: {r.reason}.", ErrorReason.DNS_ERROR,
                                           observed=f"{ip}: temperror", evidence=evidence))
            else:
                why = f" ({r.reason})" if r.reason else ""
                findings.append(self.fail(f"{ip} is not authorised: SPF gives {r.result}{why}, decided by "
                                          f"{r.mechanism}.{note}", observed=f"{ip}: {r.result}", expected="pass",
                                          remediation=remediation, evidence=evidence))
        return findings

    async def _fix(self, ctx: CheckContext, failing: list[str]) -> tuple[str, str]:
        """The full record that adds every failing address, and a note when it cannot be enough."""
        answer = await ctx.dns.query(ctx.domain, "TXT")
        texts = spf_texts(answer)
        terms = [f"ip{ipaddress.ip_address(ip).version}:{ip}" for ip in failing]
        include = ctx.cloud.spf_include if ctx.entry.phase is not Phase.PRE_MIGRATION else None
        if len(texts) != 1:
            return txt_record(ctx.domain, with_terms(None, terms, include)), (
                " The domain has no single SPF record; the remediation is a complete new one.")
        tree = await ctx.shared(tree_key(ctx.domain), lambda: build_tree(ctx.dns, ctx.domain))
        note = ""
        if tree.worst_case_lookups > LOOKUP_LIMIT:
            note = (f" Warning: the record as a whole needs {tree.worst_case_lookups} DNS lookups (limit "
                    f"{LOOKUP_LIMIT}); the new terms come first so these addresses pass, but senders matched "
                    "later still get permerror until it is trimmed (see spf.limits).")
        return txt_record(ctx.domain, with_terms(texts[0][0], terms)), note
