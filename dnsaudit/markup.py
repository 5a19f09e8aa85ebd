"""The light reStructuredText of check docstrings, rendered for each medium from one place.

A check's docstring is its user documentation (``Check.documentation``) and uses two bits
of RST inline markup: ````literal```` for records, names and values, and ``*emphasis*``.
The terminal and the workbook get plain text (the markup characters dropped, the words
kept); the HTML page gets ``<code>`` and ``<em>``, everything else escaped. Paragraphs are
separated by blank lines; within one, line breaks are only the source's wrapping.
"""

from __future__ import annotations

import html
import re

# ``literal`` (RST inline literal), or `interpreted text` treated the same way
_LITERAL = re.compile(r"``(.+?)``|(?<![`\w])`([^`\n]+)`(?![`\w])")
# *emphasis*: starts after a space/punctuation, no space just inside the stars (RST's rule)
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])")


def _spans(text: str) -> list[tuple[bool, str]]:
    """The text cut into (is literal, piece), so that nothing inside a literal is markup."""
    pieces: list[tuple[bool, str]] = []
    at = 0
    for match in _LITERAL.finditer(text):
        pieces.append((False, text[at:match.start()]))
        pieces.append((True, match.group(1) if match.group(1) is not None else match.group(2)))
        at = match.end()
    pieces.append((False, text[at:]))
    return pieces


def doc_text(doc: str) -> str:
    """Plain text for a terminal or a spreadsheet cell: the markup dropped, the layout kept."""
    return "".join(piece if literal else _EMPHASIS.sub(r"\1", piece) for literal, piece in _spans(doc))


def doc_html(doc: str) -> str:
    """HTML (escaped, safe to insert as is): one ``<p>`` per paragraph, ``<code>`` and ``<em>``."""
    paragraphs = [p for p in re.split(r"\n\s*\n", doc.strip()) if p.strip()]
    return "".join(f"<p>{_inline_html(' '.join(p.split()))}</p>" for p in paragraphs)


def _inline_html(text: str) -> str:
    out = []
    for literal, piece in _spans(text):
        if literal:
            out.append(f"<code>{html.escape(piece)}</code>")
        else:
            out.append(_EMPHASIS.sub(lambda m: f"<em>{m.group(1)}</em>", html.escape(piece)))
    return "".join(out)
