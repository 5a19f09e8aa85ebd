"""DMARC (RFC 7489): the records of an answer, their tags, and the organisational domain."""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

from dnsaudit.mail.spf_record import txt_strings
from dnsaudit.net.dns import DnsAnswer

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

POLICIES = ("none", "quarantine", "reject")
STRENGTH = {"none": 0, "quarantine": 1, "reject": 2}


@functools.lru_cache(maxsize=1)
def _public_suffixes() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList  # checkdmarc's dependency; loaded once

    return PublicSuffixList()


def organisational_domain(domain: str) -> str:
    """RFC 7489 §3.2: the registrable domain (public suffix plus one label)."""
    return _public_suffixes().privatesuffix(domain) or domain


def parse_dmarc(text: str) -> tuple[dict[str, str], list[str]]:
    """Tags of a DMARC record (lower-case names) and the syntax problems found."""
    problems = []
    tags: dict[str, str] = {}
    parts = [p.strip() for p in text.split(";")]
    for index, part in enumerate(parts):
        if not part:
            continue
        name, sep, value = part.partition("=")
        name, value = name.strip().lower(), value.strip()
        if not sep or not re.match(r"^[a-z]+$", name):
            problems.append(f"'{part}' is not a tag=value pair")
            continue
        if index == 0 and (name != "v" or value != "DMARC1"):
            problems.append("the record must start with v=DMARC1")
        if name in tags:
            problems.append(f"tag '{name}' appears twice")
            continue
        tags[name] = value
    return tags, problems


def dmarc_records(answer: DnsAnswer) -> list[str]:
    """The answer's TXT records that are DMARC records (RFC 7489 §6.6.3 step 3)."""
    return [t for t, _ in txt_strings(answer) if t.strip().lower().startswith("v=dmarc1")] if answer.ok else []
