"""The domain's SPF TXT records (RFC 7208 §4.5) and the edited record a remediation proposes."""

from __future__ import annotations

from dnsaudit.mail.spf_record import is_spf, txt_strings
from dnsaudit.net.dns import DnsAnswer


def spf_texts(answer: DnsAnswer) -> list[tuple[str, tuple[str, ...]]]:
    return [(text, parts) for text, parts in txt_strings(answer) if is_spf(text)] if answer.ok else []


def with_terms(record: str | None, add_first: list[str], ms_include: str | None = None) -> str:
    """The record with terms added: new ip4/ip6 terms first, Microsoft's include before 'all'."""
    if record is None:
        return " ".join(["v=spf1", *add_first, *([f"include:{ms_include}"] if ms_include else []), "-all"])
    terms = record.split()[1:]
    if ms_include:
        at = next((i for i, t in enumerate(terms) if t.lstrip("+-~?").lower() == "all"
                   or t.lower().startswith("redirect=")), len(terms))
        terms.insert(at, f"include:{ms_include}")
    return " ".join(["v=spf1", *add_first, *terms])
