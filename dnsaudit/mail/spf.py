"""SPF (RFC 7208) evaluation: ``check_host()`` on the run's resolver.

One module of ~310 lines, because ``check_host()`` is one recursive algorithm (RFC 7208 §4-§6)
whose steps share one request's state (its lookup and void budgets) and the run's answers;
the record parser and the macros are apart.

No well-kept asynchronous SPF library exists, and a relay IP's verdict has to be exact, so
this module implements the RFC on the run's shared DnsClient: every TXT, A, MX or PTR
question is asked once per run, whichever domain needs it first, and a DNS failure is
``temperror`` (never a pass, never "no record").

    evaluator = SpfEvaluator(dns)
    result = await evaluator.check_host("203.0.113.25", "contoso.com", "postmaster@contoso.com")
    result.result        -> "pass"
    result.decided_by    -> ("include:relay.contoso.com", "ip4:203.0.113.0/24")

Section numbers in comments refer to RFC 7208. The record parser is dnsaudit.mail.spf_record,
macro expansion dnsaudit.mail.spf_macro, the include tree the checks show dnsaudit.mail.spf_tree.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import ipaddress
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from dnsaudit.evidence import Evidence
from dnsaudit.mail.spf_macro import SpfRequest, expand
from dnsaudit.mail.spf_record import (
    FAIL,
    LOOKUP_LIMIT,
    MAX_DOMAIN,
    MX_ADDRESS_LIMIT,
    NEUTRAL,
    NONE,
    PASS,
    PERMERROR,
    PTR_NAME_LIMIT,
    QUALIFIERS,
    SOFTFAIL,
    TEMPERROR,
    VOID_LIMIT,
    SpfRecord,
    SpfSyntaxError,
    Term,
    check_macro_string,
    is_spf,
    network,
    parse_record,
    txt_strings,
)
from dnsaudit.net.dns import DnsAnswer, Outcome
from dnsaudit.net.protocols import Resolver


class _Abort(Exception):
    """Stops evaluation with a final result (permerror or temperror)."""

    def __init__(self, result: str, reason: str) -> None:
        super().__init__(reason)
        self.result = result
        self.reason = reason


@dataclass(frozen=True)
class SpfResult:
    """The outcome of check_host() and how it came about."""

    result: str
    domain: str
    reason: str = ""  # for errors and none: why
    decided_by: tuple[str, ...] = ()  # include/redirect path, then the matching term
    explanation: str = ""  # the exp= text on a fail, expanded
    lookups: int = 0
    voids: int = 0
    trace: tuple[Evidence, ...] = ()  # DNS answers used (and remarks), for evidence

    @property
    def mechanism(self) -> str:
        return " > ".join(self.decided_by) if self.decided_by else "(no term matched: default)"


class RecordStatus(enum.StrEnum):
    """What looking up a domain's SPF record (§4.5) found; the values are the §2.6 result names."""

    OK = "ok"  # one record, parsed
    NONE = "none"  # no SPF record
    PERMERROR = "permerror"  # several records, or one that does not parse
    TEMPERROR = "temperror"  # the TXT lookup failed (timeout, SERVFAIL)


@dataclass(frozen=True)
class RecordLookup:
    """A domain's SPF record (§4.5), or why there is none: ``status`` is OK with ``record``
    set, else NONE/PERMERROR/TEMPERROR with ``reason``."""

    status: RecordStatus
    answer: DnsAnswer  # the TXT answer it came from
    record: SpfRecord | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class _Subtree:
    """What check_host() of an include or redirect target found for one address, kept for
    the rest of the run (``SpfEvaluator._check``): its result, with ``decided_by`` after the
    path that led there when ``under_path``, and what it added to the request."""

    result: SpfResult
    under_path: bool
    lookups: int
    voids: int
    trace: tuple[Evidence, ...]
    answers: tuple[DnsAnswer, ...]  # the DNS answers it read: it stands while the resolver holds each


# Per resolver (so per run's answers): (target domain, address) -> _Subtree, least recently
# used first. Thousands of domains include the same few providers (spf.protection.outlook.com
# above all), and spf.microsoft365 evaluates six of Microsoft's addresses for each of them:
# without this, every domain walked Microsoft's include six times (~1.7 % of the workers' CPU in
# the benchmark, py-spy).
_SUBTREES: weakref.WeakKeyDictionary[Resolver, dict[tuple[str, object], _Subtree]] = weakref.WeakKeyDictionary()
SUBTREE_MEMO_LIMIT = 20_000  # entries per resolver; past it the least recently used goes


def _subtree_memo(dns: Resolver) -> dict[tuple[str, object], _Subtree] | None:
    """The memo of ``dns``; None (no memo) for a resolver that cannot tell whether it still
    holds an answer (``DnsClient.holds``: a plugin's fake) or takes no weak reference."""
    if _holds(dns) is None:
        return None
    try:
        return _SUBTREES.setdefault(dns, {})
    except TypeError:
        return None


def _holds(dns: Resolver) -> Callable[[DnsAnswer], bool] | None:
    """``dns.holds`` where the resolver has it (``DnsClient``), else None."""
    holds = getattr(dns, "holds", None)
    return holds if callable(holds) else None


def _never(answer: DnsAnswer) -> bool:
    return False


class SpfEvaluator:
    """check_host() on the run's DnsClient. One instance can serve many evaluations."""

    def __init__(self, dns: Resolver) -> None:
        self.dns = dns
        # Each domain's record as read for this evaluator: a check that evaluates several
        # addresses (spf.microsoft365 samples six) reads the same TXT answers each time.
        self._records: dict[str, RecordLookup] = {}
        self._subtrees = _subtree_memo(dns)
        self._holds = _holds(dns) or _never

    async def record(self, domain: str) -> RecordLookup:
        """The domain's SPF record, or why there is none (none, permerror, temperror)."""
        found = self._records.get(domain)
        if found is None:
            found = self._records[domain] = await self._read_record(domain)
        return found

    async def _read_record(self, domain: str) -> RecordLookup:
        answer = await self.dns.query(domain, "TXT")
        if answer.outcome.is_failure:
            return RecordLookup(RecordStatus.TEMPERROR, answer,
                                reason=f"the TXT lookup for {domain} {answer.outcome.phrase}")
        texts = [text for text, _ in txt_strings(answer) if is_spf(text)] if answer.ok else []
        if not texts:
            return RecordLookup(RecordStatus.NONE, answer, reason=f"{domain} has no SPF record")
        if len(texts) > 1:
            return RecordLookup(RecordStatus.PERMERROR, answer, reason=f"{domain} has {len(texts)} SPF records")
        try:
            return RecordLookup(RecordStatus.OK, answer, parse_record(texts[0]))
        except SpfSyntaxError as exc:
            return RecordLookup(RecordStatus.PERMERROR, answer,
                                reason=f"syntax error in the SPF record of {domain}: {exc}")

    async def check_host(self, ip: str, domain: str, sender: str | None = None, helo: str | None = None) -> SpfResult:
        """§4: the SPF result for a message from ``ip`` with MAIL FROM ``sender`` for ``domain``."""
        address = _client_address(ip)
        domain = domain.rstrip(".").lower()
        sender = sender or f"postmaster@{domain}"
        if sender.startswith("@"):
            sender = "postmaster" + sender
        req = SpfRequest(address, sender, helo or domain)
        result = await self._check(req, domain, ())
        return SpfResult(result.result, domain, result.reason, result.decided_by, result.explanation,
                         req.lookups, req.voids, tuple(req.trace))

    async def _check(self, req: SpfRequest, domain: str, path: tuple[str, ...]) -> SpfResult:
        """check_host() of ``domain`` inside the request; an include or redirect target's
        outcome for this address comes from the run's memo when it can.

        What an include or redirect target gives depends on the address, the DNS answers it
        reads and the request's counters only through the limits of §4.6.4, unless a macro
        (§7) brings in the sender, the HELO name or the domain. So a subtree that expanded no
        macro-string, ended in no temperror and stayed within the limits is replayed, counters
        and evidence included, while the resolver still holds every answer it read (an
        evicted one would be asked again, and might differ) and wherever its lookups and voids
        still fit under the limits from where the request stands; else it is evaluated."""
        memo = self._subtrees
        if not path or memo is None:  # the request's own domain: nothing another domain shares
            return await self._evaluate_domain(req, domain, path)
        key = (domain, req.ip)
        known = memo.pop(key, None)
        if known is not None and all(map(self._holds, known.answers)):
            memo[key] = known  # most recently used: evicted last
            if req.lookups + known.lookups <= LOOKUP_LIMIT and req.voids + known.voids <= VOID_LIMIT:
                req.lookups += known.lookups
                req.voids += known.voids
                req.trace.extend(known.trace)
                req.answers.extend(known.answers)
                result = known.result
                return dataclasses.replace(result, decided_by=path + result.decided_by) if known.under_path else result
        lookups, voids, macros, traced, used = req.lookups, req.voids, req.macros, len(req.trace), len(req.answers)
        result = await self._evaluate_domain(req, domain, path)
        if (req.macros == macros and result.result != TEMPERROR and req.lookups <= LOOKUP_LIMIT
                and req.voids <= VOID_LIMIT):
            under_path = result.decided_by[:len(path)] == path
            kept = dataclasses.replace(result, decided_by=result.decided_by[len(path):]) if under_path else result
            memo.pop(key, None)
            while len(memo) >= SUBTREE_MEMO_LIMIT:
                del memo[next(iter(memo))]
            memo[key] = _Subtree(kept, under_path, req.lookups - lookups, req.voids - voids,
                                 tuple(req.trace[traced:]), tuple(req.answers[used:]))
        return result

    async def _evaluate_domain(self, req: SpfRequest, domain: str, path: tuple[str, ...]) -> SpfResult:
        if not _valid_domain(domain):
            return SpfResult(NONE, domain, f"'{domain}' is not a valid domain name")
        found = await self.record(domain)
        req.answers.append(found.answer)
        req.trace.append(found.answer.evidence())
        if found.record is None:
            return SpfResult(found.status.value, domain, found.reason)
        try:
            return await self._evaluate(req, domain, found.record, path)
        except _Abort as abort:
            return SpfResult(abort.result, domain, abort.reason, path)

    async def _evaluate(self, req: SpfRequest, domain: str, record: SpfRecord, path: tuple[str, ...]) -> SpfResult:
        for term in record.directives:
            if term.counts_lookup:
                self._count(req, term)
            if await self._matches(req, domain, term, path):
                result = QUALIFIERS[term.qualifier]
                explanation, exp = "", record.modifier("exp")
                if result == FAIL and exp is not None:
                    explanation = await self._explanation(req, domain, exp)
                decided = req.matched_inside if term.name == "include" else path + (term.text,)
                return SpfResult(result, domain, "", decided, explanation)
        redirect = record.modifier("redirect")
        if redirect is not None and record.all_term is None:  # §6.1: ignored when "all" is present
            self._count(req, redirect)
            target = await self._target(req, domain, redirect.argument)
            redirected = await self._check(req, target, path + (redirect.text,))
            if redirected.result == NONE:  # §6.1: a redirect to a domain without SPF is permerror
                return SpfResult(PERMERROR, domain, f"redirect to {target}, which has no SPF record",
                                 path + (redirect.text,))
            return redirected
        return SpfResult(NEUTRAL, domain, "no term matched", path)

    def _count(self, req: SpfRequest, term: Term) -> None:
        req.lookups += 1
        if req.lookups > LOOKUP_LIMIT:
            raise _Abort(PERMERROR, f"more than {LOOKUP_LIMIT} DNS lookups (reached at '{term.text}')")

    def _void(self, req: SpfRequest, answer: DnsAnswer) -> None:
        if answer.outcome in (Outcome.NXDOMAIN, Outcome.NODATA):
            req.voids += 1
            if req.voids > VOID_LIMIT:
                raise _Abort(PERMERROR, f"more than {VOID_LIMIT} void DNS lookups (at {answer.name})")

    async def _query(self, req: SpfRequest, name: str, rdtype: str, *, void: bool = True,
                     temperror: bool = True) -> DnsAnswer:
        answer = await self.dns.query(name, rdtype)
        req.answers.append(answer)
        req.trace.append(answer.evidence())
        if answer.outcome.is_failure and temperror:
            raise _Abort(TEMPERROR, f"the {rdtype} lookup for {name} {answer.outcome.phrase}")
        if void:
            self._void(req, answer)
        return answer

    async def _target(self, req: SpfRequest, domain: str, spec: str | None) -> str:
        if spec is None:
            return domain
        # Not checked here: a target that is not a valid name is no syntax error (§4.8); the
        # mechanisms treat it as a lookup that finds nothing, include and redirect as check_host
        # of a malformed domain (§4.3: "none").
        return (await expand(spec, domain, req, self._validated_name)).rstrip(".").lower()

    async def _matches(self, req: SpfRequest, domain: str, term: Term, path: tuple[str, ...]) -> bool:
        name, ip = term.name, req.ip
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            if (name == "ip4") != (ip.version == 4):
                return False
            length = term.cidr4 if name == "ip4" else term.cidr6
            return ip in network(term.argument, length)
        target = await self._target(req, domain, term.argument)
        if name != "include" and not _valid_domain(target):
            req.trace.append(Evidence.note(f"{term.text}: the target '{target}' is not a valid domain name; "
                                           "no lookup, no match"))
            return False
        if name == "include":
            result = await self._check(req, target, path + (term.text,))
            if result.result == PASS:
                req.matched_inside = result.decided_by
                return True
            if result.result in (FAIL, SOFTFAIL, NEUTRAL):
                return False
            if result.result == TEMPERROR:
                raise _Abort(TEMPERROR, result.reason)
            raise _Abort(PERMERROR, f"include:{target} gives {result.result}"
                         + (f" ({result.reason})" if result.reason else ""))
        if name == "a":
            return await self._address_match(req, target, term)
        if name == "mx":
            mx = await self._query(req, target, "MX")
            if len(mx.records) > MX_ADDRESS_LIMIT:
                raise _Abort(PERMERROR, f"mx:{target} has more than {MX_ADDRESS_LIMIT} MX records")
            for record in mx.mx():
                host = record.exchange
                if host and await self._address_match(req, host, term):
                    return True
            return False
        if name == "exists":
            answer = await self._query(req, target, "A")  # §5.7: always A, even for IPv6 clients
            return answer.ok
        if name == "ptr":
            validated = await self._validated_names(req)
            return any(n == target or n.endswith("." + target) for n in validated)
        raise _Abort(PERMERROR, f"unknown mechanism {name}")  # pragma: no cover - parse_record rejects it

    async def _address_match(self, req: SpfRequest, host: str, term: Term) -> bool:
        rdtype = "A" if req.ip.version == 4 else "AAAA"
        length = (term.cidr4 if term.cidr4 is not None else 32) if req.ip.version == 4 else (
            term.cidr6 if term.cidr6 is not None else 128)
        answer = await self._query(req, host, rdtype)
        return any(req.ip in network(address, length) for address in answer.addresses())

    async def _validated_names(self, req: SpfRequest) -> list[str]:
        """§5.5: PTR names of the client that resolve back to it (errors mean no names)."""
        reverse = req.ip.reverse_pointer
        answer = await self._query(req, reverse, "PTR", temperror=False)
        if not answer.ok:
            return []
        names = []
        rdtype = "A" if req.ip.version == 4 else "AAAA"
        for name in answer.names(given_order=True)[:PTR_NAME_LIMIT]:  # the first ten as the server gave them
            forward = await self._query(req, name, rdtype, void=False, temperror=False)
            if any(ipaddress.ip_address(a) == req.ip for a in forward.addresses()):
                names.append(name)
        return names

    async def _validated_name(self, req: SpfRequest, domain: str) -> str:
        """§7.3 %{p}: a validated name, preferring one in ``domain``; "unknown" if none."""
        try:
            names = await self._validated_names(req)
        except _Abort:
            return "unknown"
        for name in names:
            if name == domain or name.endswith("." + domain):
                return name
        return names[0] if names else "unknown"

    async def _explanation(self, req: SpfRequest, domain: str, exp: Term) -> str:
        """§6.2: the explanation for a fail; any problem just means no explanation."""
        try:
            target = await self._target(req, domain, exp.argument)
            if not _valid_domain(target):
                return ""
            answer = await self.dns.query(target, "TXT")
        except _Abort:
            return ""
        req.answers.append(answer)
        texts = txt_strings(answer) if answer.ok else []
        if len(texts) != 1:
            return ""
        try:
            check_macro_string(texts[0][0].replace(" ", "%_"), lambda m: ValueError(m), allow_exp_letters=True)
        except ValueError:
            return ""
        return await expand(texts[0][0], domain, req, self._validated_name, exp=True)


@functools.lru_cache(maxsize=4096)
def _client_address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The client address of a request (§4.1); an IPv4-mapped IPv6 address is its IPv4
    address. Parsed once per run: spf.microsoft365 evaluates the same six for every domain."""
    address = ipaddress.ip_address(ip)
    if address.version == 6 and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _valid_domain(domain: str) -> bool:
    """§4.3: a multi-label name, labels of 1 to 63 octets, of visible ASCII (a space from ``%_``,
    a backslash or a non-ASCII character makes a name no query can be built for)."""
    labels = domain.rstrip(".").split(".")
    return (
        len(labels) >= 2
        and len(domain.rstrip(".")) <= MAX_DOMAIN
        and all(0 < len(label) <= 63 for label in labels)
        and all(0x21 <= ord(c) <= 0x7E and c != "\\" for c in domain)
    )
