"""SPF: the record itself, its lookup budget, its policy and Microsoft's include.

One module of ~330 lines, as each check area is: its checks share one base class and the one
include tree of a domain, and the entry points (pyproject.toml) name them here; parsing,
evaluation and the tree are in ``dnsaudit.mail`` already.

Sources: RFC 7208 (record selection §4.5, syntax §12, the ten-lookup and two-void limits
§4.6.4, results §2.6 and §8); Microsoft's "Set up SPF to help prevent spoofing" for the
include of each cloud (``spf.protection.outlook.com`` worldwide).
"""

from __future__ import annotations

import abc
import functools
import ipaddress
import re
from collections.abc import Sequence

from dnsaudit.check import Check, CheckContext, txt_record
from dnsaudit.mail.spf import SpfEvaluator
from dnsaudit.mail.spf_record import LOOKUP_LIMIT, PASS, VOID_LIMIT, SpfRecord, SpfSyntaxError, parse_record
from dnsaudit.mail.spf_text import spf_texts, with_terms
from dnsaudit.mail.spf_tree import NodeStatus, SpfNode, build_tree, tree_key
from dnsaudit.model import ErrorReason, Evidence, Finding, Phase, Severity
from dnsaudit.net.dns import DnsAnswer

RFC = "RFC 7208"
M365_SPF = "https://learn.microsoft.com/defender-office-365/email-authentication-spf-configure"
SIZE_WARNING = 450  # octets: RFC 7208 §3.4 asks records to stay small enough for one UDP answer
BROAD_IPV4, BROAD_IPV6 = 16, 32  # judgement: wider ranges than these authorise whole networks
MECHANISM_START = r"^[+\-~?]?(all|include|a|mx|ptr|ip4|ip6|exists|redirect|exp)\b"


class SpfCheck(Check):
    """Base of the SPF checks: fetch and parse the domain's one SPF record, then judge it."""

    area = "spf"
    references = (RFC, M365_SPF)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        answer = await ctx.dns.query(ctx.domain, "TXT")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the SPF record")]
        texts = spf_texts(answer)
        if len(texts) != 1:
            return [self.skip("No single SPF record to examine (see spf.record).", evidence=(answer.evidence(),))]
        try:
            record = parse_record(texts[0][0])
        except SpfSyntaxError:
            return [self.skip("The SPF record does not parse (see spf.record).", evidence=(answer.evidence(),))]
        return await self.judge(ctx, record, answer)

    @abc.abstractmethod
    async def judge(self, ctx: CheckContext, record: SpfRecord, answer: DnsAnswer) -> list[Finding]:
        """Verdicts on the domain's parsed SPF record."""


class SpfRecordCheck(Check):
    """Exactly one valid SPF record is published.

    SPF (a TXT record starting ``v=spf1``) lists the servers allowed to send mail as the
    domain. Receivers find none, or find two (which makes every message's SPF result
    ``permerror``), or cannot parse it, and treat the mail as unauthenticated. The record
    is checked for syntax (the position of an error is shown), for a string boundary that
    falls inside a term (DNS joins a record's strings without a space, so
    ``"...include:a.com" "include:b.com..."`` silently becomes one broken term), and for
    size (over 450 octets risks truncated answers).

    Fix: publish one record; the remediation shows a complete one.
    """

    id = "spf.record"
    area = "spf"
    severity = Severity.HIGH
    references = (RFC + " §3, §4.5, §12", M365_SPF)

    async def run(self, ctx: CheckContext) -> list[Finding]:
        answer = await ctx.dns.query(ctx.domain, "TXT")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, "the SPF record")]
        texts = spf_texts(answer)
        evidence = (answer.evidence(),)
        include = ctx.cloud.spf_include if ctx.entry.phase is not Phase.PRE_MIGRATION else None
        if not texts:
            return [self.fail("No SPF record: receivers cannot tell which servers may send as this domain.",
                              observed="(none)", expected="one TXT record starting v=spf1",
                              remediation=txt_record(ctx.domain, with_terms(None, [], include)), evidence=evidence)]
        if len(texts) > 1:
            merged = _merge([t for t, _ in texts])
            return [self.fail(f"{len(texts)} SPF records are published; receivers return permerror for every "
                              "message. Merge them into one.", observed=" | ".join(t for t, _ in texts),
                              expected="exactly one SPF record", remediation=txt_record(ctx.domain, merged),
                              evidence=evidence)]
        text, parts = texts[0]
        findings = self._string_boundaries(ctx, parts, evidence)
        try:
            parse_record(text)
        except SpfSyntaxError as exc:
            cause = f" {findings[0].message}" if findings else ""
            return [self.fail(f"The SPF record has a syntax error at character {exc.position + 1}: {exc}. Receivers "
                              f"return permerror.{cause}", observed=exc.marked(), expected="a valid SPF record",
                              remediation=findings[0].remediation if findings else "", evidence=evidence)]
        size = len(text.encode("utf-8"))
        if size > SIZE_WARNING:
            findings.append(self.warn(f"The SPF record is {size} octets long; keep it under {SIZE_WARNING} so "
                                      "answers fit one UDP packet.", observed=text, evidence=evidence))
        return findings or [self.passed("One valid SPF record is published.", observed=text, evidence=evidence)]

    def _string_boundaries(self, ctx: CheckContext, parts: tuple[str, ...],
                           evidence: Sequence[Evidence]) -> list[Finding]:
        """Warn where a string starts a new term but DNS joins it to the previous one without a space."""
        findings = []
        for i in range(1, len(parts)):
            before, after = parts[i - 1], parts[i]
            if before and after and not before.endswith(" ") and not after.startswith(" ") \
                    and re.match(MECHANISM_START, after, re.IGNORECASE):
                joined = before.split(" ")[-1] + after.split(" ")[0]
                fixed = "".join(p if j != i else " " + p for j, p in enumerate(parts))
                findings.append(self.warn(
                    f"String {i + 1} of the record starts a new term without a space before it, so DNS joins "
                    f"them into '{joined}'.", observed=" + ".join(f'"{p}"' for p in parts),
                    remediation=txt_record(ctx.domain, fixed), evidence=evidence))
        return findings


def _merge(records: list[str]) -> str:
    """One record with every term of several (first 'all' and redirect kept last)."""
    terms: list[str] = []
    endings: list[str] = []
    for record in records:
        for term in record.split()[1:]:
            bare = term.lstrip("+-~?").lower()
            target = endings if bare == "all" or bare.startswith("redirect=") else terms
            if term not in target:
                target.append(term)
    return " ".join(["v=spf1", *terms, *endings[:1]])


class SpfLimits(SpfCheck):
    """The SPF record stays within the DNS lookup limits.

    Receivers stop evaluating after 10 terms that cost a DNS lookup (``include``, ``a``,
    ``mx``, ``ptr``, ``exists``, ``redirect``, counted through every nested include) and
    after 2 "void" lookups that find nothing; past either limit the result is
    ``permerror`` and the mail fails SPF. dnsaudit follows the whole include tree and
    reports the worst case, how many lookups are left, and how many Microsoft's include
    uses. An include of a domain without SPF, or one that loops, is a permerror for every
    sender that reaches it.

    Fix: remove includes you no longer use, replace ``a``/``mx`` with ``ip4``/``ip6``, or
    fix the include that points nowhere.
    """

    id = "spf.limits"
    severity = Severity.MEDIUM
    references = (RFC + " §4.6.4", M365_SPF)

    async def judge(self, ctx: CheckContext, record: SpfRecord, answer: DnsAnswer) -> list[Finding]:
        tree = await ctx.shared(tree_key(ctx.domain), lambda: build_tree(ctx.dns, ctx.domain))
        evidence = tuple(e for node in tree.walk() for e in node.evidence)
        findings = []
        for node in tree.problems():
            if node.status is NodeStatus.TEMPERROR:
                findings.append(self.error(f"Could not test {node.via}: {node.reason}.", _reason(node),
                                           evidence=evidence))
            elif node.status is NodeStatus.MACRO:
                findings.append(self.info(f"{node.via} depends on the sender and was not followed.", evidence=evidence))
            else:
                findings.append(self.fail(f"{node.via}: {node.reason}; receivers that reach it return permerror.",
                                          observed=node.via, evidence=evidence))
        used = tree.worst_case_lookups
        left = LOOKUP_LIMIT - used
        microsoft = tree.find(ctx.cloud.spf_include)
        ms_note = f"; Microsoft's include uses {1 + microsoft.worst_case_lookups}" if microsoft else ""
        observed = f"{used} of {LOOKUP_LIMIT} lookups (worst case){ms_note}"
        if used > LOOKUP_LIMIT:
            findings.append(self.fail(f"The record needs {used} DNS lookups in the worst case, more than "
                                      f"{LOOKUP_LIMIT}: senders matched late get permerror.", observed=observed,
                                      expected=f"at most {LOOKUP_LIMIT}", evidence=evidence))
        elif left <= 1:
            findings.append(self.warn(f"The record uses {used} of {LOOKUP_LIMIT} DNS lookups; only {left} left for "
                                      "the next service you add.", observed=observed, evidence=evidence))
        voids = [v for node in tree.walk() for v in node.void_targets]
        if len(voids) > VOID_LIMIT:
            findings.append(self.fail(f"{len(voids)} terms look up names that do not answer ({', '.join(voids)}); "
                                      f"more than {VOID_LIMIT} such void lookups is a permerror.",
                                      observed=", ".join(voids), evidence=evidence))
        elif voids:
            findings.append(self.warn(f"Terms that look up names that do not answer: {', '.join(voids)} (void "
                                      f"lookups; {VOID_LIMIT} make the limit).", observed=", ".join(voids),
                                      evidence=evidence))
        return findings or [self.passed(f"The record uses {used} of {LOOKUP_LIMIT} DNS lookups; {left} left"
                                        f"{ms_note}.", observed=observed, evidence=evidence)]


def _reason(node: SpfNode) -> ErrorReason:
    return node.error_reason or ErrorReason.DNS_ERROR


class SpfPolicy(SpfCheck):
    """The SPF record's policy is strict enough and uses no risky terms.

    ``+all`` (or a bare ``all``) authorises every server on the internet; ``?all`` says
    nothing; ``~all`` (soft fail) is common during changes, ``-all`` is the goal once every
    sender is listed. A record with neither ``all`` nor ``redirect`` ends "neutral" for
    unlisted senders. ``ptr`` is deprecated (slow, unreliable; RFC 7208 §5.5). *Judgement*:
    an ``ip4`` range wider than /16 or an ``ip6`` range wider than /32 authorises whole
    networks, usually by mistake.

    Fix: end the record with ``-all``, replace ``ptr`` with ``ip4``/``ip6``, narrow the ranges.
    """

    id = "spf.policy"
    severity = Severity.MEDIUM
    references = (RFC + " §5.1, §5.5, §8", M365_SPF)

    async def judge(self, ctx: CheckContext, record: SpfRecord, answer: DnsAnswer) -> list[Finding]:
        evidence = (answer.evidence(),)
        findings = []
        all_term = record.all_term
        if all_term is not None:
            q = all_term.qualifier
            fixed = txt_record(ctx.domain, _ending_with_fail(record.text))
            if q == "+":
                findings.append(self.fail(f"'{all_term.text}' authorises every server on the internet to send as "
                                          "this domain.", observed=all_term.text, expected="-all", remediation=fixed,
                                          evidence=evidence))
            elif q == "?":
                findings.append(self.warn("'?all' makes the record say nothing about unlisted senders.",
                                          observed=all_term.text, expected="-all", remediation=fixed,
                                          evidence=evidence))
            elif q == "~":
                findings.append(self.info("The record ends with '~all' (soft fail); use '-all' once every sender is "
                                          "listed.", observed=all_term.text, expected="-all", evidence=evidence))
        elif record.modifier("redirect") is None:
            findings.append(self.warn("The record has no 'all' term: unlisted senders get 'neutral'.",
                                      observed=record.text, expected="... -all",
                                      remediation=txt_record(ctx.domain, _ending_with_fail(record.text)),
                                      evidence=evidence))
        for term in record.directives:
            if term.name == "ptr":
                findings.append(self.warn(f"'{term.text}' uses the deprecated ptr mechanism.", observed=term.text,
                                          evidence=evidence))
            elif term.qualifier == "+" and (
                    (term.name == "ip4" and term.cidr4 is not None and term.cidr4 < BROAD_IPV4)
                    or (term.name == "ip6" and term.cidr6 is not None and term.cidr6 < BROAD_IPV6)):
                findings.append(self.warn(f"'{term.text}' authorises a very large address range.",
                                          observed=term.text, evidence=evidence))
        return findings or [self.passed("The record ends with -all and uses no risky terms.", observed=record.text,
                                        evidence=evidence)]


def _ending_with_fail(text: str) -> str:
    """The record with its ``all`` term (or, without one, its end) made ``-all`` (RFC 7208 §5.1)."""
    terms = [t for t in text.split() if t.lstrip("+-~?").lower() != "all"]
    return " ".join([*terms, "-all"])


class SpfMicrosoft365(SpfCheck):
    """Microsoft 365's servers are authorised by SPF.

    Mail sent from Exchange Online leaves from Microsoft's servers, which the cloud's
    include authorises: ``include:spf.protection.outlook.com`` (worldwide, GCC),
    ``include:spf.protection.office365.us`` (GCC High, DoD) or
    ``include:spf.protection.partner.outlook.cn`` (21Vianet). dnsaudit checks that the
    include is reachable from the record and then evaluates SPF for a sample of the
    addresses Microsoft's include lists: each must really get ``pass`` (an earlier
    ``-ip4`` or an ``all`` before the include would defeat it). Before migration the
    include is not needed yet (information only), except where the input lists relay or
    direct-send devices (``relay_ips``): their mail leaves from Microsoft's servers once
    they send through Microsoft 365, so the include must be added before cutover (warning).

    Fix: add the cloud's include before the ``all`` term (remediation shows the record).
    """

    id = "spf.microsoft365"
    severity = Severity.HIGH
    references = (RFC, M365_SPF)
    SAMPLES = 6

    async def judge(self, ctx: CheckContext, record: SpfRecord, answer: DnsAnswer) -> list[Finding]:
        include = ctx.cloud.spf_include
        tree = await ctx.shared(tree_key(ctx.domain), lambda: build_tree(ctx.dns, ctx.domain))
        evidence = tuple(e for node in tree.walk() for e in node.evidence)
        microsoft = tree.find(include)
        if microsoft is None:
            if ctx.entry.phase is Phase.PRE_MIGRATION:
                if ctx.entry.relay_ips:
                    return [self.warn(
                        f"include:{include} is not in the record yet, and relay/direct-send devices are listed: "
                        "mail they send through Microsoft 365 leaves from Microsoft's servers, so the include must "
                        "be added before cutover (before the devices send through Microsoft 365), or that mail "
                        "fails SPF.", observed=record.text, expected=f"include:{include}",
                        remediation=txt_record(ctx.domain, with_terms(record.text, [], include)), evidence=evidence)]
                return [self.info(f"include:{include} is not in the record yet (needed once mailboxes move).",
                                  observed=record.text, evidence=evidence)]
            failed = next((n for n in tree.walk() if n.domain == include and n.status is NodeStatus.TEMPERROR), None)
            if failed is not None:
                return [self.error(f"Could not test Microsoft's include: {failed.reason}.", _reason(failed),
                                   evidence=evidence)]
            return [self.fail(f"The record does not include {include}: mail sent from Microsoft 365 fails SPF.",
                              observed=record.text, expected=f"include:{include}",
                              remediation=txt_record(ctx.domain, with_terms(record.text, [], include)),
                              evidence=evidence)]
        samples = _sample_addresses(microsoft, self.SAMPLES)
        if not samples:
            return [self.passed(f"The record includes {include}.", observed=record.text, evidence=evidence)]
        evaluator = SpfEvaluator(ctx.dns)
        results = [(ip, await evaluator.check_host(ip, ctx.domain)) for ip in samples]
        bad = [(ip, r) for ip, r in results if r.result != PASS]
        if any(r.result == "temperror" for _, r in bad):
            ip, r = next((ip, r) for ip, r in bad if r.result == "temperror")
            return [self.error(f"Could not test SPF for Microsoft's {ip}: {r.reason}.", ErrorReason.DNS_ERROR,
                               evidence=evidence)]
        if bad:
            shown = "; ".join(f"{ip} gets {r.result} ({r.mechanism})" for ip, r in bad)
            return [self.fail(f"The record includes {include}, but Microsoft's servers do not all pass: {shown}.",
                              observed=record.text, expected="pass for Microsoft's addresses", evidence=evidence)]
        return [self.passed(f"The record includes {include} and Microsoft's addresses pass "
                            f"({len(samples)} sampled).", observed=record.text, evidence=evidence)]


def _sample_addresses(node: SpfNode, count: int) -> list[str]:
    """One address inside each of the first ``count`` ranges Microsoft's include lists."""
    return [_inside(net) for net in node.networks()[:count]]


@functools.lru_cache(maxsize=4096)
def _inside(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """The first host of ``net`` (its only address for a /32 or /128), as text: worked out
    once per run, since every domain that includes Microsoft samples the same ranges."""
    return str(net.network_address + (1 if net.num_addresses > 1 else 0))
