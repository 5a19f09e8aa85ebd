"""The check API: what a plugin author subclasses.

A check is a class with metadata as class attributes and one coroutine, ``run``. Its
docstring is its user documentation: the first line is the title, the rest says why the
record matters, what good looks like and how to fix it; reports and ``dnsaudit checks``
show it verbatim. Checks report facts and a status per fact; they never compute scores.

    class MxPresent(Check):
        \"\"\"The domain publishes MX records.

        Without MX, senders fall back to the domain's A record (RFC 5321 §5.1)...\"\"\"
        id = "mx.present"
        area = "mx"
        severity = Severity.HIGH
        references = ("RFC 5321 §5.1",)

        async def run(self, ctx):
            answer = await ctx.dns.query(ctx.domain, "MX")
            ...
            return [self.passed("MX records are published", observed=...)]

Register it as an entry point in the ``dnsaudit.checks`` group, named by its id.
"""

from __future__ import annotations

import abc
import asyncio
import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict, TypeVar

from dnsaudit.findings import made_finding
from dnsaudit.mail.microsoft import CloudProfile, profile
from dnsaudit.model import DomainEntry, ErrorReason, Evidence, Finding, Severity, Status
from dnsaudit.net.dns import DnsAnswer
from dnsaudit.net.protocols import Resolver, Tls, Web
from dnsaudit.results_read import evidence_from_line

if TYPE_CHECKING:
    from dnsaudit.policy import Expectation, Waiver

__all__ = ["Check", "CheckContext", "ExpectedFields", "Fields", "Resolver", "Settings", "Tls", "Web", "txt_record",
           "txt_value", "zone_record"]

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """Run-wide options that checks may read (never globals)."""

    check_timeout: float = 30.0
    allow_private: bool = False  # connect to non-public addresses that DNS returns
    https_port: int = 443
    http_port: int = 80
    smtp_port: int = 25
    # The run's domains per organisation (mail.microsoft.accepted_domains): tls.relay matches a
    # connector certificate against the domains of the entry's own tenant or client only.
    accepted_domains: Mapping[str, frozenset[str]] = field(default_factory=dict)
    input_dir: str = "."  # relative certificate paths in the input are read from here
    no_probes_reason: str = "--no-probes"  # why web/tls are None: "--no-probes" or "--offline"
    # The policy file's [[expect]] tables; policy.expectations reads them.
    expectations: tuple[Expectation, ...] = ()
    # Its [[waiver]] tables and the date they are judged on: the runner applies them to the
    # findings before scoring (dnsaudit.policy.waivers); checks never see them.
    waivers: tuple[Waiver, ...] = ()
    waiver_date: dt.date | None = None


@dataclass
class CheckContext:
    """Everything a check may use: its domain's row, the shared clients, the settings.

    The clients are protocols (``Resolver``, ``Web``, ``Tls``): the run passes its real ones,
    a test passes the fakes of ``dnsaudit.testing``. ``web`` and ``tls`` are None when the run
    makes no HTTP(S)/TLS connections (then checks that need them report ``skip``).
    """

    entry: DomainEntry
    dns: Resolver
    settings: Settings = field(default_factory=Settings)
    web: Web | None = None
    tls: Tls | None = None
    live: Resolver | None = None  # with --zone --compare-live: the resolver without the planned zones
    _shared: dict[Hashable, asyncio.Future[Any]] = field(default_factory=dict, repr=False)

    async def shared(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """Single-flight memo for this domain's checks (its SPF include tree, say): the first
        asker computes ``compute()``, the others await the same result, and it is let go with
        the domain."""
        task = self._shared.get(key)
        if task is None:
            task = self._shared[key] = asyncio.ensure_future(compute())
        result: T = await asyncio.shield(task)
        return result

    def no_probes(self) -> str:
        """The skip message of a check that needs network probes this run does not make."""
        return f"Not probed: this run makes no HTTP, TLS or SMTP connections ({self.settings.no_probes_reason})."

    @property
    def domain(self) -> str:
        return self.entry.domain

    @property
    def cloud(self) -> CloudProfile:
        return profile(self.entry.cloud)


class Fields(TypedDict, total=False):
    """What several findings of one check share, built once and handed on as ``**fields``:
    ``fields: Fields = dict(observed=..., evidence=...)``. A misspelt key is a type error
    there, as a misspelt keyword is at the call; ``expected`` and ``remediation`` stay
    keywords of each call (a type checker refuses a key that a call could get twice)."""

    observed: str
    evidence: Sequence[Evidence | str]


class ExpectedFields(Fields, total=False):
    """``Fields`` with the ``expected`` value too, when every finding of the check expects the same."""

    expected: str


# What a run can opt in to, for checks that run only then (``Check.opt_in``).
OPT_IN_CONDITIONS = {
    "compare-live": "--compare-live: the planned zones (--zone) are compared with live DNS",
    "expectations": "the policy file has [[expect]] tables",
}


class Check(abc.ABC):
    """Base class of every check. Subclasses set the metadata and implement ``run``."""

    id: ClassVar[str] = ""
    area: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.MEDIUM
    references: ClassVar[tuple[str, ...]] = ()
    version: ClassVar[str] = "1"  # bump when the logic changes, so drift can tell why
    # A gate runs before the domain's other checks; when it fails, those that set
    # ``requires_existing_domain`` are skipped with ``gate_skip_message`` (domain.exists).
    gates_domain: ClassVar[bool] = False
    gate_skip_message: ClassVar[str] = "Skipped: the domain does not exist."
    requires_existing_domain: ClassVar[bool] = True  # skipped when a gate of the domain fails
    # Left out of a run unless the run meets this condition, one of OPT_IN_CONDITIONS (zone.changes
    # needs --compare-live); "" runs whenever the check is selected. The core knows conditions, not checks.
    opt_in: ClassVar[str] = ""

    @abc.abstractmethod
    async def run(self, ctx: CheckContext) -> list[Finding]:
        """Gather the facts for ``ctx.domain`` and return one finding per fact."""

    # -- metadata --------------------------------------------------------------------

    @classmethod
    def title(cls) -> str:
        return (inspect.getdoc(cls) or "").strip().splitlines()[0] if cls.__doc__ else ""

    @classmethod
    def documentation(cls) -> str:
        """Everything after the title line of the docstring."""
        doc = inspect.getdoc(cls) or ""
        return doc.partition("\n")[2].strip()

    # -- building findings -----------------------------------------------------------
    # Every field is a keyword, so a misspelt one (``remedation=``) is an error for the
    # type checker and a TypeError at the call, in the plugin author's own test.

    def finding(self, status: Status, message: str, *, observed: str = "", expected: str = "",
                remediation: str = "", evidence: Sequence[Evidence | str] = (), severity: Severity | None = None,
                reason: ErrorReason | None = None) -> Finding:
        """A finding of this check; ``severity`` defaults to the check's.

        ``evidence`` holds what the verdict rests on: ``answer.evidence()`` for a DNS answer,
        ``Evidence.note(text)`` for anything else. A string (``describe()``, as plugins wrote
        before Evidence) is read as the line it is (``results_read.evidence_from_line``)."""
        return made_finding(self.id, self.area, self.severity if severity is None else severity, status, message,
                            observed, expected, remediation,
                            tuple(e if isinstance(e, Evidence) else evidence_from_line(e) for e in evidence), reason)

    def passed(self, message: str, *, observed: str = "", expected: str = "", remediation: str = "",
               evidence: Sequence[Evidence | str] = (), severity: Severity | None = None) -> Finding:
        return self.finding(Status.PASS, message, observed=observed, expected=expected, remediation=remediation,
                            evidence=evidence, severity=severity)

    def info(self, message: str, *, observed: str = "", expected: str = "", remediation: str = "",
             evidence: Sequence[Evidence | str] = (), severity: Severity | None = None) -> Finding:
        return self.finding(Status.INFO, message, observed=observed, expected=expected, remediation=remediation,
                            evidence=evidence, severity=severity)

    def warn(self, message: str, *, observed: str = "", expected: str = "", remediation: str = "",
             evidence: Sequence[Evidence | str] = (), severity: Severity | None = None) -> Finding:
        return self.finding(Status.WARN, message, observed=observed, expected=expected, remediation=remediation,
                            evidence=evidence, severity=severity)

    def fail(self, message: str, *, observed: str = "", expected: str = "", remediation: str = "",
             evidence: Sequence[Evidence | str] = (), severity: Severity | None = None) -> Finding:
        return self.finding(Status.FAIL, message, observed=observed, expected=expected, remediation=remediation,
                            evidence=evidence, severity=severity)

    def skip(self, message: str, *, observed: str = "", expected: str = "", remediation: str = "",
             evidence: Sequence[Evidence | str] = (), severity: Severity | None = None) -> Finding:
        return self.finding(Status.SKIP, message, observed=observed, expected=expected, remediation=remediation,
                            evidence=evidence, severity=severity)

    def error(self, message: str, reason: ErrorReason, *, observed: str = "", expected: str = "",
              remediation: str = "", evidence: Sequence[Evidence | str] = (),
              severity: Severity | None = None) -> Finding:
        """Could not test: ``reason`` says why (timeout, servfail, ...), never a pass or "missing"."""
        return self.finding(Status.ERROR, message, observed=observed, expected=expected, remediation=remediation,
                            evidence=evidence, severity=severity, reason=reason)

    def could_not_test(self, answer: DnsAnswer, what: str, *, observed: str = "", expected: str = "",
                       remediation: str = "") -> Finding:
        """The error finding for a DNS question that got no usable answer."""
        detail = f" ({answer.detail})" if answer.detail else ""
        return self.error(
            f"Could not test {what}: the DNS query for {answer.name} {answer.rdtype} "
            f"{answer.outcome.phrase}{detail}.",
            answer.outcome.error_reason,
            observed=observed, expected=expected, remediation=remediation,
            evidence=(answer.evidence(),),
        )


def zone_record(owner: str, rdtype: str, value: str, ttl: int = 3600) -> str:
    """A record in zone-file syntax, ready to paste: ``owner. 3600 IN TYPE value``."""
    owner = owner if owner.endswith(".") else owner + "."
    return f"{owner} {ttl} IN {rdtype} {value}"


def txt_value(text: str) -> str:
    """A TXT value in zone-file syntax: quoted, escaped, split into strings of at most 255 octets."""
    escaped = []
    chunk = ""
    for char in text:
        if len((chunk + char).encode("utf-8")) > 255:
            escaped.append(chunk)
            chunk = ""
        chunk += char
    escaped.append(chunk)
    return " ".join('"' + c.replace("\\", "\\\\").replace('"', '\\"') + '"' for c in escaped if c or len(escaped) == 1)


def txt_record(owner: str, text: str, ttl: int = 3600) -> str:
    return zone_record(owner, "TXT", txt_value(text), ttl)
