"""Per-client expectations: decisions a client made once, checked on each of its domains.

An ``[[expect]]`` table names a client or a domain pattern and any of: the filtering
gateway expected in front of Microsoft (an MX host suffix), SPF includes that must be
present or must not be, a minimum DMARC policy, the cloud and the phase. Two uses:

* the gateway, cloud and phase fill the input columns a row left empty (what the
  ``gateway``/``cloud``/``phase`` columns do for one row, once for a whole client); a value
  in the row always wins;
* the check ``policy.expectations`` verifies the DNS facts against them and quotes the
  expectation a domain breaks.

When several tables apply to a domain, one naming the domain beats one naming its
client, and among equals the later one in the file wins (for the input defaults); the
check verifies every table that applies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dnsaudit.policy.match import client_matches, domain_matches

DMARC_POLICIES = ("none", "quarantine", "reject")
DEFAULTED_COLUMNS = ("cloud", "phase", "gateway")


@dataclass(frozen=True)
class Expectation:
    source: str  # "dnsaudit.toml, expect 1"
    client: str = ""
    domain: str = ""  # a domain pattern (see dnsaudit.policy.match)
    gateway: str = ""  # MX host suffix of the gateway in front of Microsoft ("mimecast.com")
    spf_include: tuple[str, ...] = ()  # include targets (names or globs) that must be in the SPF tree
    spf_forbid: tuple[str, ...] = ()  # ... that must not be
    dmarc_minimum: str = ""  # none | quarantine | reject
    cloud: str = ""  # a dnsaudit.model.Cloud value, or empty
    phase: str = ""  # a dnsaudit.model.Phase value, or empty

    def applies(self, domain: str, display_name: str, client: str) -> bool:
        if self.domain and not domain_matches(self.domain, domain, display_name):
            return False
        if self.client and not client_matches(self.client, client):
            return False
        return bool(self.domain or self.client)

    @property
    def specificity(self) -> int:
        return 1 if self.domain else 0

    def quote(self, *keys: str) -> str:
        """The table as written, for a finding: whom it names and ``keys`` (all keys when none given)."""
        values: dict[str, str | list[str]] = {"client": self.client, "domain": self.domain, "gateway": self.gateway,
                  "spf-include": list(self.spf_include), "spf-forbid": list(self.spf_forbid),
                  "dmarc-minimum": self.dmarc_minimum, "cloud": self.cloud, "phase": self.phase}
        shown = ("client", "domain", *keys) if keys else tuple(values)
        parts = [f"{key} = {_toml(values[key])}" for key in shown if values[key]]
        return f"[[expect]] {', '.join(parts)} ({self.source})"


def _toml(value: str | list[str]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def applicable(expectations: Sequence[Expectation], domain: str, display_name: str = "",
               client: str = "") -> list[Expectation]:
    """The tables that apply to a domain, least specific first (client tables, then domain tables)."""
    found = [e for e in expectations if e.applies(domain, display_name, client)]
    return sorted(found, key=lambda e: e.specificity)  # stable: file order among equals


def input_defaults(expectations: Sequence[Expectation], domain: str, display_name: str = "",
                   client: str = "") -> dict[str, str]:
    """Values for the ``cloud``, ``phase`` and ``gateway`` columns a row left empty."""
    values: dict[str, str] = {}
    for expectation in applicable(expectations, domain, display_name, client):
        for column in DEFAULTED_COLUMNS:
            if getattr(expectation, column):
                values[column] = getattr(expectation, column)
    return values
