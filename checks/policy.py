"""Checks of the decisions written in the policy file (dnsaudit.toml)."""

from __future__ import annotations

import asyncio
from fnmatch import fnmatchcase

from dnsaudit.check import Check, CheckContext, ExpectedFields
from dnsaudit.mail.dmarc import POLICIES, STRENGTH, dmarc_records, organisational_domain, parse_dmarc
from dnsaudit.mail.mx import mail_hosts, mx_hosts
from dnsaudit.mail.spf_tree import NodeStatus, SpfNode, build_tree, tree_key
from dnsaudit.model import ErrorReason, Evidence, Finding, Severity
from dnsaudit.policy.expectations import Expectation, applicable


class PolicyExpectations(Check):
    """The domain meets the expectations its client's policy file sets.

    An ``[[expect]]`` table in ``dnsaudit.toml`` records what a client decided, for the
    client or for a domain pattern: the filtering gateway that must be in front of
    Microsoft (``gateway``, an MX host suffix), SPF includes that must be in the domain's
    SPF include tree (``spf-include``) or must not be (``spf-forbid``), and the weakest
    DMARC policy accepted (``dmarc-minimum``). Each finding quotes the table it checks, so
    whoever reads the report knows whose decision it was. ``cloud`` and ``phase`` (and
    ``gateway``) also fill the input columns a row left empty; a value in the row wins,
    and a row that differs from its client's table is reported for information.

    Runs only when the policy file has ``[[expect]]`` tables.

    Fix: change the record the finding names, or the table, whichever is wrong.
    """

    id = "policy.expectations"
    area = "policy"
    severity = Severity.MEDIUM
    references = ("RFC 5321 §5.1", "RFC 7208 §5.2", "RFC 7489 §6.3")
    opt_in = "expectations"  # only when the policy file has [[expect]] tables

    async def run(self, ctx: CheckContext) -> list[Finding]:
        entry = ctx.entry
        tables = applicable(ctx.settings.expectations, entry.domain, entry.display_name, entry.client)
        if not tables:
            return [self.skip("No [[expect]] table of the policy file names this domain or its client.")]
        findings: list[Finding] = []
        for table in tables:
            parts = [self._row_differs(ctx, table, column) for column in ("cloud", "phase")]
            if table.gateway:
                parts.append(self._gateway(ctx, table))
            if table.spf_include or table.spf_forbid:
                parts.append(self._spf(ctx, table))
            if table.dmarc_minimum:
                parts.append(self._dmarc(ctx, table))
            for part in await asyncio.gather(*(p for p in parts)):
                findings.extend(part)
        return findings or [self.passed("The [[expect]] tables that name this domain set nothing to check in DNS.",
                                        expected="; ".join(t.quote() for t in tables))]

    async def _row_differs(self, ctx: CheckContext, table: Expectation, column: str) -> list[Finding]:
        wanted, actual, quoted = getattr(table, column), getattr(ctx.entry, column).value, table.quote(column)
        if not wanted or wanted == actual:
            return []
        return [self.info(f"The input says {column} {actual}; {quoted} expects {wanted}. The row wins.",
                          observed=actual, expected=wanted)]

    async def _gateway(self, ctx: CheckContext, table: Expectation) -> list[Finding]:
        own, quoted = ctx.entry.gateway, table.quote("gateway")
        if own and set(_suffixes(own)) != set(_suffixes(table.gateway)):
            return [self.info(f"Gateway {table.gateway} of {quoted} is not checked: this domain's gateway "
                              f"column (or a table naming the domain) says {own}.", observed=own,
                              expected=table.gateway)]
        answer = await ctx.dns.query(ctx.domain, "MX")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, f"the gateway {table.gateway} that {quoted} expects")]
        hosts = mail_hosts(mx_hosts(answer) if answer.ok else [])
        fields: ExpectedFields = dict(observed=", ".join(m.record for m in hosts) or "(no MX)", expected=quoted,
                      evidence=(answer.evidence(),))
        if not hosts:
            return [self.fail(f"No MX host, so mail does not arrive through {table.gateway} as {quoted} "
                              "expects.", **fields)]
        best = min(m.preference for m in hosts)
        first = [m for m in hosts if m.preference == best]
        outside = [m.host for m in first if not any(_under(m.host, s) for s in _suffixes(table.gateway))]
        if outside:
            return [self.fail(f"Mail goes first to {', '.join(outside)}, not through the gateway {table.gateway} "
                              f"that {quoted} expects.", **fields)]
        return [self.passed(f"Mail arrives through {table.gateway}, as {quoted} expects.", **fields)]

    async def _spf(self, ctx: CheckContext, table: Expectation) -> list[Finding]:
        quoted = table.quote("spf-include", "spf-forbid")
        tree: SpfNode = await ctx.shared(tree_key(ctx.domain), lambda: build_tree(ctx.dns, ctx.domain))
        if tree.status is NodeStatus.TEMPERROR:
            return [self.error(f"Could not test the SPF includes that {quoted} names: the SPF record could "
                               f"not be read ({tree.reason}).", tree.error_reason or ErrorReason.DNS_ERROR,
                               evidence=tuple(tree.evidence))]
        included = [n.domain for n in tree.walk() if n is not tree]
        unread = [n.domain for n in tree.walk() if n.status is NodeStatus.TEMPERROR and n is not tree]
        evidence = tuple(line for n in tree.walk() for line in n.evidence)
        fields: ExpectedFields = dict(observed=", ".join(included) or "(no include)", expected=quoted,
                                      evidence=evidence)
        if tree.status is NodeStatus.NONE and table.spf_include:
            return [self.fail(f"No SPF record, so none of {', '.join(table.spf_include)} is included as "
                              f"{quoted} requires.", **fields)]
        findings = []
        for pattern in table.spf_include:
            found = [d for d in included if fnmatchcase(d, pattern)]
            if found:
                findings.append(self.passed(f"SPF includes {found[0]}, as {quoted} requires.", **fields))
            elif unread:
                findings.append(self._unread(ctx, tree, pattern, table, unread))
            else:
                findings.append(self.fail(f"SPF does not include {pattern}, which {quoted} requires.",
                                          **fields))
        for pattern in table.spf_forbid:
            found = [d for d in included if fnmatchcase(d, pattern)]
            if found:
                findings.append(self.fail(f"SPF includes {found[0]}, which {quoted} forbids.", **fields))
            elif unread:
                findings.append(self._unread(ctx, tree, pattern, table, unread))
            else:
                findings.append(self.passed(f"SPF does not include {pattern}, as {quoted} requires.",
                                            **fields))
        return findings

    def _unread(self, ctx: CheckContext, tree: SpfNode, pattern: str, table: Expectation,
                unread: list[str]) -> Finding:
        node = next(n for n in tree.walk() if n.status is NodeStatus.TEMPERROR and n is not tree)
        quoted = table.quote("spf-include", "spf-forbid")
        return self.error(f"Could not test whether SPF includes {pattern} ({quoted}): the included record "
                          f"of {', '.join(unread)} could not be read.", node.error_reason or ErrorReason.DNS_ERROR,
                          evidence=tuple(node.evidence))

    async def _dmarc(self, ctx: CheckContext, table: Expectation) -> list[Finding]:
        minimum, quoted = table.dmarc_minimum, table.quote("dmarc-minimum")
        answer = await ctx.dns.query(f"_dmarc.{ctx.domain}", "TXT")
        if answer.outcome.is_failure:
            return [self.could_not_test(answer, f"the DMARC policy that {quoted} expects")]
        evidence: tuple[Evidence, ...] = (answer.evidence(),)
        records, inherited = dmarc_records(answer), False
        org = organisational_domain(ctx.domain)
        if not records and org != ctx.domain:  # RFC 7489 §6.6.3: the organisational domain's record applies
            parent = await ctx.dns.query(f"_dmarc.{org}", "TXT")
            if parent.outcome.is_failure:
                return [self.could_not_test(parent, f"the DMARC policy of {org} that {quoted} expects")]
            records, evidence, inherited = dmarc_records(parent), evidence + (parent.evidence(),), True
        fields: ExpectedFields = dict(observed=" | ".join(records) or "(none)", expected=quoted, evidence=evidence)
        if len(records) != 1:
            what = "No DMARC record" if not records else f"{len(records)} DMARC records (receivers ignore them all)"
            return [self.fail(f"{what}: the policy is weaker than p={minimum}, which {quoted} requires.",
                              **fields)]
        tags, _ = parse_dmarc(records[0])
        policy = (tags.get("sp", "") if inherited and tags.get("sp") else tags.get("p", "")).lower()
        if policy not in POLICIES:
            return [self.fail(f"The DMARC record has no valid policy (p={tags.get('p', '')}); {quoted} "
                              f"requires at least p={minimum}.", **fields)]
        source = f" (from {org})" if inherited else ""
        if STRENGTH[policy] < STRENGTH[minimum]:
            return [self.fail(f"DMARC policy {policy}{source} is weaker than {minimum}, which {quoted} "
                              "requires.", **fields)]
        return [self.passed(f"DMARC policy {policy}{source} is at least {minimum}, as {quoted} requires.",
                            **fields)]


def _suffixes(text: str) -> list[str]:
    return [s.strip().lower().rstrip(".") for s in text.replace(";", " ").replace(",", " ").split() if s.strip()]


def _under(host: str, suffix: str) -> bool:
    return host == suffix or host.endswith("." + suffix)
