"""MTA-STS (RFC 8461) and TLS reporting (RFC 8460): advisory.

Sources: RFC 8461 §3.1 (the ``_mta-sts`` record), §3.2-3.3 (the policy file, fetched over
HTTPS, text/plain, no redirects), §4.1 (MX patterns); RFC 8460 §3 (the ``_smtp._tls`` record);
Microsoft's "Enhancing mail flow with MTA-STS" for Exchange Online as a receiver.

The record and policy parsers are checkdmarc's (pinned), which are pure functions; its
network helpers are not used, so DNS and HTTPS go through the run's shared clients.
"""

from __future__ import annotations

from dnsaudit.check import Check, CheckContext, Fields
from dnsaudit.mail.spf_record import txt_strings
from dnsaudit.model import Evidence, Finding, Severity

POLICY_PATH = "/.well-known/mta-sts.txt"


def mx_line(host: str) -> str:
    """The policy line that covers one MX host: Microsoft's shared parent for its hosts (one
    wildcard label: ``*.<letter>-v1.mx.microsoft``, ``*.mail.protection.outlook.com``), else the host."""
    labels = host.split(".")
    if host.endswith(".mx.microsoft") and len(labels) == 4:
        return "mx: *." + ".".join(labels[1:])
    if ".mail.protection." in host and len(labels) >= 4:
        return "mx: *." + ".".join(labels[1:])
    return f"mx: {host}"


class MtaStsPolicy(Check):
    """If MTA-STS is published, its policy is reachable and covers every MX (advisory).

    MTA-STS lets a domain require TLS for inbound mail: a ``_mta-sts`` TXT record
    (``v=STSv1; id=...``) announces a policy served at
    ``https://mta-sts.<domain>/.well-known/mta-sts.txt``. Senders accept the policy only
    with a trusted certificate, status 200 without redirects and ``text/plain``; in
    ``enforce`` mode they refuse to deliver to an MX host that no ``mx:`` pattern matches.
    A wildcard pattern covers exactly one label: ``*.mail.protection.outlook.com`` matches
    ``contoso-com.mail.protection.outlook.com``, while ``*.mx.microsoft`` does not match
    ``contoso-com.o-v1.mx.microsoft``, and ``*.mail.protection.outlook.com`` does not match
    an ``mx.microsoft`` host at all: for the DNSSEC-capable MX use
    ``mx: *.<letter>-v1.mx.microsoft`` (the finding gives the exact line) or the full host.
    Not publishing MTA-STS is fine (information only).

    Fix: serve the policy as described and list every MX host.
    """

    id = "mta_sts.policy"
    area = "mta_sts"
    severity = Severity.LOW
    references = ("RFC 8461", "https://learn.microsoft.com/purview/enhancing-mail-flow-with-mta-sts")

    async def run(self, ctx: CheckContext) -> list[Finding]:
        answer = await ctx.dns.query(f"_mta-sts.{ctx.domain}", "TXT")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the MTA-STS record")]
        evidence = [answer.evidence()]
        records = [t for t, _ in txt_strings(answer) if t.startswith("v=STSv1")] if answer.ok else []
        if not records:
            return [self.info("MTA-STS is not published (optional).", observed="(none)", evidence=tuple(evidence))]
        if len(records) > 1:
            return [self.fail(f"{len(records)} MTA-STS records are published; senders ignore them.",
                              observed=" | ".join(records), evidence=tuple(evidence))]
        # Imported only for a domain that publishes a record: checkdmarc takes ~0.5 s of CPU to
        # import (it loads all of itself), which a run of domains without MTA-STS never needs.
        from checkdmarc.mta_sts import MTASTSError, mx_in_mta_sts_patterns, parse_mta_sts_policy, parse_mta_sts_record

        try:
            parse_mta_sts_record(records[0])
        except MTASTSError as exc:
            return [self.fail(f"The MTA-STS record is invalid: {exc}", observed=records[0], evidence=tuple(evidence))]
        if ctx.web is None:
            return [self.skip("The MTA-STS policy was not fetched. " + ctx.no_probes())]
        host = f"mta-sts.{ctx.domain}"
        response = await ctx.web.get(host, POLICY_PATH)
        evidence.append(Evidence.note(f"GET {response.url}: " + (response.error or f"{response.status} "
                                                                 f"{response.header('content-type')}")))
        fields: Fields = dict(evidence=tuple(evidence), observed=response.error or f"HTTP {response.status}")
        if response.error:
            if response.reason is not None:
                return [self.error(f"Could not fetch the MTA-STS policy: {response.error}", response.reason,
                                   **fields)]
            return [self.fail(f"Senders cannot fetch the MTA-STS policy: {response.error}", **fields)]
        if response.status != 200:
            extra = " (senders do not follow redirects)" if 300 <= response.status < 400 else ""
            return [self.fail(f"The MTA-STS policy answers HTTP {response.status}{extra}; only 200 is accepted.",
                              expected="HTTP 200", **fields)]
        content_type = response.header("content-type").split(";")[0].strip().lower()
        if content_type != "text/plain":
            return [self.fail(f"The MTA-STS policy is served as '{content_type or 'no type'}', not text/plain.",
                              expected="text/plain", **fields)]
        text = response.body.decode("utf-8", errors="replace")
        fields["observed"] = text.strip()[:500]
        try:
            policy = parse_mta_sts_policy(text)["policy"]
        except MTASTSError as exc:
            return [self.fail(f"The MTA-STS policy is invalid: {exc}", **fields)]
        mx = await ctx.dns.query(ctx.domain, "MX")
        if mx.outcome.is_failure:
            return [self.could_not_test(mx, "the MX hosts the policy must cover")]
        hosts = [r.exchange for r in mx.mx() if r.exchange]
        patterns = list(policy.get("mx", []))
        uncovered = [h for h in hosts if not mx_in_mta_sts_patterns(h, patterns)]
        mode = policy.get("mode")
        fields["evidence"] = (*fields["evidence"], mx.evidence())
        if uncovered:
            harm = "senders will refuse to deliver to them" if mode == "enforce" else "they would fail in enforce mode"
            lines = sorted({mx_line(h) for h in uncovered})
            hint = ""
            if any(h.endswith(".mx.microsoft") for h in uncovered):
                hint = (" A wildcard covers exactly one label (RFC 8461 §4.1): '*.mx.microsoft' does not match "
                        "<domain-dashes>.<letter>-v1.mx.microsoft, and '*.mail.protection.outlook.com' does not "
                        "match an mx.microsoft host.")
            return [self.fail(f"MX hosts not covered by the policy's mx patterns ({', '.join(patterns)}): "
                              f"{', '.join(uncovered)}; {harm}.{hint}", expected="every MX host matched",
                              remediation="Add to the policy: " + "; ".join(lines), **fields)]
        if mode != "enforce":
            return [self.info(f"The MTA-STS policy is valid and covers every MX, in mode {mode}.", **fields)]
        return [self.passed("The MTA-STS policy is valid, enforced and covers every MX.", **fields)]


class TlsRptRecord(Check):
    """A TLS reporting address is published (advisory).

    TLS-RPT (``_smtp._tls`` TXT, ``v=TLSRPTv1; rua=mailto:...``) asks sending servers to
    report TLS failures when delivering to the domain: the way to learn that MTA-STS or a
    certificate is breaking inbound mail. Optional; information only when absent.

    Fix: publish ``_smtp._tls.<domain>. IN TXT "v=TLSRPTv1; rua=mailto:tls-reports@<domain>"``.
    """

    id = "tls_rpt.record"
    area = "tls_rpt"
    severity = Severity.LOW
    references = ("RFC 8460",)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        name = f"_smtp._tls.{ctx.domain}"
        answer = await ctx.dns.query(name, "TXT")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the TLS-RPT record")]
        evidence = (answer.evidence(),)
        records = [t for t, _ in txt_strings(answer) if t.startswith("v=TLSRPTv1")] if answer.ok else []
        if not records:
            return [self.info("TLS reporting is not published (optional).", observed="(none)", evidence=evidence)]
        if len(records) > 1:
            return [self.fail(f"{len(records)} TLS-RPT records are published; senders ignore them.",
                              observed=" | ".join(records), evidence=evidence)]
        from checkdmarc.smtp_tls_reporting import SMTPTLSReportingError, parse_smtp_tls_reporting_record  # as above

        try:
            parse_smtp_tls_reporting_record(records[0])
        except SMTPTLSReportingError as exc:
            return [self.fail(f"The TLS-RPT record is invalid: {exc}", observed=records[0], evidence=evidence)]
        return [self.passed("TLS reporting is published.", observed=records[0], evidence=evidence)]


