"""Making untrusted text (DNS, HTTP, certificate contents, input cells) safe to show.

Every string a remote party or an input file controls passes one of two functions before
a person sees it:

* ``printable`` for the terminal (summary table, drift, diff, error lines): newlines and
  tabs become spaces and every other control character (C0, DEL, C1: CR, ESC sequences,
  OSC title changes, BEL), bidirectional override, lone surrogate and non-character is
  shown as ``<U+XXXX>``, so a TXT record cannot move the cursor, recolour the screen, retitle
  the window or hide the "regressed" line, and ``print`` never fails on an unencodable
  character.
* ``report_text`` for the files (workbook, report.html, findings.csv): NUL, ESC and the
  other C0/C1 controls except tab, newline and CR are dropped, lone surrogates and the
  non-characters U+FFFE/U+FFFF become U+FFFD (so the text is XML 1.0 legal: the ``Char``
  production of XML 1.0 section 2.2 excludes exactly these), bidirectional controls
  (Unicode UAX #9: U+202A-U+202E, U+2066-U+2069, U+200E, U+200F, U+061C) are shown as
  ``<U+202E>`` so that a record cannot reorder what a reader sees, and the text is capped
  (``cap``) with the cut marked.

HTML escaping and spreadsheet-formula neutralisation stay with their report writers.

``readable_time`` is how people see a run's time (``2 Dec 2026 01:23 UTC``) in the page, the
workbook and on the terminal; results.json, drift.json and the CSV files keep ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import re

BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
# XML 1.0 section 2.2 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_NOT_XML = "\ud800-\udfff\ufffe\uffff"
_TERMINAL = re.compile(f"[\x00-\x1f\x7f-\x9f{BIDI}{_NOT_XML}]")
_DROPPED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_REPLACED = re.compile(f"[{_NOT_XML}]")
_SHOWN = re.compile(f"[{BIDI}]")

FIELD_LIMIT = 10_000  # characters of one value in report.html and findings.csv


def _code(match: re.Match[str]) -> str:
    return f"<U+{ord(match.group()):04X}>"


def printable(text: str, limit: int = 500) -> str:
    """One terminal line: controls shown as ``<U+XXXX>``, newlines and tabs as spaces, cut to
    ``limit`` characters (marked with "…")."""
    text = _TERMINAL.sub(_code, text.replace("\n", " ").replace("\t", " "))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cap(text: str, limit: int = FIELD_LIMIT) -> str:
    """``text`` cut to about ``limit`` characters, the cut marked with the original length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… {len(text):,} characters, cut"


def report_text(text: str, limit: int = FIELD_LIMIT, *, shown: str = "<U+{:04X}>") -> str:
    """A value for a report file: no control characters, valid XML 1.0, bidi controls visible
    (as ``shown``: already escaped HTML passes ``&lt;U+{:04X}&gt;``), capped."""
    if not text.isascii() or not text.isprintable():  # the common case (plain text) is left alone
        text = _DROPPED.sub("", text)
        text = _REPLACED.sub("\ufffd", text)
        text = _SHOWN.sub(lambda m: shown.format(ord(m.group())), text)
    return cap(text, limit)


def plural(count: int, noun: str) -> str:
    """``1 domain``, ``2 domains``: a count with its noun, for lines people read."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def readable_time(iso: str) -> str:
    """An ISO 8601 time as people read it, in UTC: ``2026-12-02T01:23:45.123456+00:00`` ->
    ``2 Dec 2026 01:23 UTC`` (English month names, whatever the locale: the reports are in
    English). Text that is not such a time is returned as it is."""
    try:
        when = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return f"{when.day} {_MONTHS[when.month - 1]} {when.year} {when.hour:02d}:{when.minute:02d} UTC"


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
