"""Planned zones compared with what is published now (``--zone ... --compare-live``)."""

from __future__ import annotations

from dnsaudit.check import Check, CheckContext
from dnsaudit.model import Evidence, Finding, Severity

# Names that matter to the audit even when the plan leaves them out: their live records
# would be deleted by publishing the plan as a whole zone.
STANDARD = (("", "MX"), ("", "TXT"), ("autodiscover", "CNAME"), ("_autodiscover._tcp", "SRV"), ("_dmarc", "TXT"),
            ("selector1._domainkey", "CNAME"), ("selector2._domainkey", "CNAME"))
SKIPPED_TYPES = {"SOA", "NS", "RRSIG", "NSEC", "DNSKEY"}


class ZoneChanges(Check):
    """What publishing the planned zone would change, record by record.

    With ``--zone`` and ``--compare-live``, every record set of the domain's planned zone
    (and the names the audit relies on: MX, SPF, autodiscover, DMARC, DKIM selectors) is
    compared with what DNS answers today, so a reviewer sees each change next to the
    verdicts the plan gets. Information only: a change is the point of a plan.
    """

    id = "zone.changes"
    area = "zone"
    severity = Severity.INFO
    references = ("RFC 1035 §5",)
    requires_existing_domain = False
    opt_in = "compare-live"  # only with --zone and --compare-live

    async def run(self, ctx: CheckContext) -> list[Finding]:
        zones = ctx.dns.zones
        if ctx.live is None or not zones or not zones.covers(ctx.domain):
            return [self.skip("No planned zone for this domain to compare with live DNS.")]
        planned = {(owner, rdtype): list(texts) for owner, rdtype, texts in zones.record_texts(ctx.domain)
                   if rdtype not in SKIPPED_TYPES}
        for label, rdtype in STANDARD:
            planned.setdefault((f"{label + '.' if label else ''}{ctx.domain}.", rdtype), [])
        findings = []
        for (name, rdtype), records in sorted(planned.items()):
            live = await ctx.live.query(name, rdtype)
            if live.outcome.is_failure:
                findings.append(self.could_not_test(live, f"what {name} {rdtype} is today"))
                continue
            now = sorted(live.texts) if live.ok and len(live.chain) < 2 else []
            if now == records:
                continue
            before, after = " | ".join(now) or "(none)", " | ".join(records) or "(none)"
            verb = "adds" if not now else "removes" if not records else "changes"
            findings.append(self.info(f"The plan {verb} {name} {rdtype}: {before} -> {after}.", observed=after,
                                      expected=f"live today: {before}",
                                      evidence=(live.evidence(), Evidence.note(f"{name} {rdtype} planned: {after}"))))
        return findings or [self.passed("The planned zone matches what DNS answers today.")]
