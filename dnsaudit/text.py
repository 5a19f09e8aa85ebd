"""Making untrusted text (DNS, HTTP, certificate contents) safe to show.

Everything a remote party controls is capped in size and stripped of control characters
before it reaches a terminal, so a TXT record cannot move the cursor, recolour the screen
or hide a line. (HTML escaping and spreadsheet-formula neutralisation belong to their
report writers.)
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str, limit: int = 500) -> str:
    """Control characters shown as '?', newlines and tabs as spaces, cut to ``limit`` characters."""
    text = _CONTROL.sub("?", text.replace("\n", " ").replace("\t", " "))
    return text if len(text) <= limit else text[: limit - 1] + "…"
