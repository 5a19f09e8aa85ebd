"""DMARC (RFC 7489): advisory, lower weight.

Sources: RFC 7489 §6.3 (tags), §6.6.3 (policy discovery, the organisational domain's
record for a subdomain); Microsoft's "Set up DMARC to validate the From address domain".
"""

from __future__ import annotations

import re

from dnsaudit.check import Check, CheckContext, txt_record
from dnsaudit.mail.dmarc import POLICIES, STRENGTH, dmarc_records, organisational_domain, parse_dmarc
from dnsaudit.model import Evidence, Finding, Severity

M365_DMARC = "https://learn.microsoft.com/defender-office-365/email-authentication-dmarc-configure"


class DmarcRecord(Check):
    """A DMARC policy is published (advisory).

    DMARC (``_dmarc.<domain>`` TXT) tells receivers what to do with mail that fails SPF and
    DKIM alignment, and where to send reports. ``p=none`` only monitors; ``quarantine``
    or ``reject`` protect the domain from spoofing. ``sp`` sets the policy for
    subdomains; ``rua``/``ruf`` must be ``mailto:`` URIs. A subdomain without its own
    record gets the organisational domain's (RFC 7489 §6.6.3), judged by its ``sp``.
    Advisory: Microsoft 365 mail flows without it, but spoofing protection and bulk-sender
    rules depend on it.

    Fix: publish the record in the remediation and tighten ``p`` once reports are clean.
    """

    id = "dmarc.record"
    area = "dmarc"
    severity = Severity.LOW
    references = ("RFC 7489 §6", M365_DMARC)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        name = f"_dmarc.{ctx.domain}"
        answer = await ctx.dns.query(name, "TXT")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the DMARC record")]
        evidence: tuple[Evidence, ...] = (answer.evidence(),)
        records = dmarc_records(answer)
        starter = txt_record(name, f"v=DMARC1; p=none; rua=mailto:dmarc-reports@{ctx.domain}")
        inherited = ""
        org = organisational_domain(ctx.domain)
        if not records and org != ctx.domain:
            parent = await ctx.dns.query(f"_dmarc.{org}", "TXT")
            if parent.outcome.is_failure:
                return [self.could_not_test(parent, f"the DMARC record of {org}")]
            evidence += (parent.evidence(),)
            records = dmarc_records(parent)
            inherited = org if len(records) == 1 else ""
        if not records:
            return [self.warn("No DMARC record: receivers get no policy and you get no reports.", observed="(none)",
                              expected="v=DMARC1; p=quarantine or reject", remediation=starter, evidence=evidence)]
        if len(records) > 1:
            return [self.fail(f"{len(records)} DMARC records are published; receivers ignore them all.",
                              observed=" | ".join(records), expected="exactly one", evidence=evidence)]
        text = records[0]
        tags, problems = parse_dmarc(text)
        policy = tags.get("p", "").lower()
        if inherited and tags.get("sp"):
            policy = tags["sp"].lower()  # a subdomain gets the organisational domain's sp
        if policy not in POLICIES:
            problems.append(f"p={tags.get('p', '(missing)')} is not none, quarantine or reject")
        sub = tags.get("sp", "").lower()
        if sub and sub not in POLICIES:
            problems.append(f"sp={tags['sp']} is not none, quarantine or reject")
        for tag in ("rua", "ruf"):
            for uri in filter(None, (u.strip() for u in tags.get(tag, "").split(","))):
                if not re.match(r"^mailto:[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z0-9-]+(!\d+[kmgt]?)?$", uri, re.I):
                    problems.append(f"{tag} URI '{uri}' is not a mailto: address")
        if problems:
            return [self.fail("The DMARC record is invalid: " + "; ".join(problems) + ".", observed=text,
                              expected="v=DMARC1; p=...; rua=mailto:...", remediation=starter, evidence=evidence)]
        findings = []
        if policy == "none":
            # The same record with p=quarantine (a subdomain inheriting sp=none: a record of its own).
            fixed = (_with_tag(text, "p", "quarantine") if not inherited
                     else "v=DMARC1; p=quarantine" + (f"; rua={tags['rua']}" if tags.get("rua") else ""))
            findings.append(self.warn(f"DMARC policy is {'sp' if inherited and tags.get('sp') else 'p'}=none"
                                      f"{f' (inherited from {inherited})' if inherited else ''}: it monitors but "
                                      "does not protect against spoofing.",
                                      observed=text, expected="p=quarantine or p=reject",
                                      remediation=txt_record(name, fixed), evidence=evidence))
        if sub and STRENGTH[sub] < STRENGTH[policy]:
            owner = f"_dmarc.{inherited}" if inherited else name
            findings.append(self.warn(f"Subdomains get a weaker policy (sp={sub}) than the domain (p={policy}).",
                                      observed=text, expected=f"sp={policy} (or no sp)",
                                      remediation=txt_record(owner, _with_tag(text, "sp", policy)),
                                      evidence=evidence))
        if "rua" not in tags:
            findings.append(self.info("No rua address: you receive no aggregate reports.", observed=text,
                                      evidence=evidence))
        if tags.get("pct", "100") != "100":
            findings.append(self.info(f"pct={tags['pct']}: the policy applies to part of the failing mail only.",
                                      observed=text, evidence=evidence))
        source = f" (inherited from {inherited})" if inherited else ""
        return findings or [self.passed(f"DMARC policy p={policy} is published{source}.", observed=text,
                                        evidence=evidence)]


def _with_tag(text: str, tag: str, value: str) -> str:
    """The DMARC record with ``tag`` set to ``value`` (in its place, or after ``p``), other tags kept."""
    parts = [p.strip() for p in text.split(";") if p.strip()]
    names = [p.split("=", 1)[0].strip().lower() for p in parts]
    if tag in names:
        parts[names.index(tag)] = f"{tag}={value}"
    else:
        parts.insert(names.index("p") + 1 if "p" in names else 1, f"{tag}={value}")
    return "; ".join(parts)
