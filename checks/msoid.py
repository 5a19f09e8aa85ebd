"""The ``msoid`` CNAME, which steers Microsoft 365 sign-in to a cloud (Microsoft's DNS records pages per cloud)."""

from __future__ import annotations

from dnsaudit.check import Check, CheckContext, ExpectedFields, zone_record
from dnsaudit.domains import WILDCARD_PROBE_LABEL  # with the same CNAME, a wildcard answers for msoid too
from dnsaudit.model import Finding, Severity

# The hosts Microsoft has used as msoid targets: clientconfig.microsoftonline-p.net (the old
# worldwide value) and clientconfig.partner.microsoftonline-p.net.cn (21Vianet).
MICROSOFT_MSOID_SUFFIXES = ("microsoftonline-p.net", "microsoftonline-p.net.cn")
REFERENCES = (
    "https://learn.microsoft.com/microsoft-365/enterprise/external-domain-name-system-records",
    "https://learn.microsoft.com/microsoft-365/admin/services-in-china/services-in-china",
)


def _is_microsoft_target(host: str) -> bool:
    return any(host == s or host.endswith("." + s) for s in MICROSOFT_MSOID_SUFFIXES)


class MsoidCname(Check):
    """The msoid CNAME exists only in the 21Vianet (China) cloud, and points right there.

    Office clients look up ``msoid.<domain>`` to learn which Microsoft cloud signs the
    domain's users in. Outside Microsoft 365 operated by 21Vianet the name must not exist:
    a leftover ``msoid`` CNAME (usually to ``clientconfig.microsoftonline-p.net``, from old
    setup guides) sends sign-in to the wrong place, and Microsoft's guidance is to delete
    it. In the 21Vianet cloud it is required: a CNAME to
    ``clientconfig.partner.microsoftonline-p.net.cn``. Outside China no ``msoid`` record
    (NXDOMAIN, or a name without a CNAME) passes; a timeout or SERVFAIL is "could not
    test". A CNAME that only a wildcard (``*.<domain>``) gives, to a host that is not
    Microsoft's, is a warning (*judgement*: clients that ask get an answer they cannot use).

    Good record (21Vianet only): ``msoid.<domain>. IN CNAME clientconfig.partner.microsoftonline-p.net.cn.``

    Fix: outside China delete the record the remediation names; in China publish it.
    """

    id = "msoid.cname"
    area = "msoid"
    severity = Severity.HIGH
    references = REFERENCES

    async def run(self, ctx: CheckContext) -> list[Finding]:
        name = f"msoid.{ctx.domain}"
        answer = await ctx.dns.query(name, "CNAME")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the msoid record")]
        evidence = [answer.evidence()]
        target = answer.names()[0] if answer.ok else ""
        required = ctx.cloud.msoid_target
        fields: ExpectedFields = dict(observed=f"CNAME {target}" if target else "(none)", evidence=tuple(evidence))
        if required is not None:
            fields["expected"] = f"CNAME {required}"
            recommended = zone_record(name, "CNAME", required + ".")
            if target == required:
                return [self.passed(f"msoid.{ctx.entry.label} points at {required}, as the 21Vianet cloud requires.",
                                    **fields)]
            if not target:
                return [self.fail(f"msoid.{ctx.entry.label} is missing: {ctx.cloud.display} needs it for sign-in.",
                                  remediation=recommended, **fields)]
            return [self.fail(f"msoid.{ctx.entry.label} points at {target}, not at {required}.",
                              remediation=recommended, **fields)]
        fields["expected"] = "no msoid record"
        if not target:
            return [self.passed(f"No msoid CNAME, as it should be in {ctx.cloud.display}.", **fields)]
        delete = f"Delete: {zone_record(name, 'CNAME', target + '.')}"
        if not _is_microsoft_target(target):
            probe = await ctx.dns.query(f"{WILDCARD_PROBE_LABEL}.{ctx.domain}", "CNAME")
            fields["evidence"] = (*evidence, probe.evidence())
            if probe.ok and probe.names() == answer.names():
                return [self.warn(f"The wildcard *.{ctx.domain} gives msoid.{ctx.entry.label} a CNAME to {target}; "
                                  "Office clients that look it up get an answer they cannot use.",
                                  remediation=f"Publish no msoid CNAME: keep the wildcard from covering msoid "
                                  f"(for example a TXT record at {name}).", **fields)]
        return [self.fail(f"msoid.{ctx.entry.label} is a CNAME to {target}: outside the 21Vianet cloud it sends "
                          "Microsoft 365 sign-in to the wrong place; delete it.", remediation=delete, **fields)]
