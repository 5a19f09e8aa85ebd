"""dnsaudit.markup: check docstrings as plain text (terminal, workbook) and as HTML."""

from __future__ import annotations

from dnsaudit.markup import doc_html, doc_text
from dnsaudit.registry import load_checks

DOC = """A null MX (``0 .``, RFC 7505) is a *judgement* call; ``*.contoso.com`` and 2*3*4 stay.

Fix: delete ``0 .`` <now>."""


def test_plain_text_drops_the_markup_and_keeps_the_words():
    assert doc_text(DOC) == ("A null MX (0 ., RFC 7505) is a judgement call; *.contoso.com and 2*3*4 stay.\n\n"
                             "Fix: delete 0 . <now>.")


def test_html_has_code_emphasis_paragraphs_and_escapes_the_rest():
    assert doc_html(DOC) == ("<p>A null MX (<code>0 .</code>, RFC 7505) is a <em>judgement</em> call; "
                             "<code>*.contoso.com</code> and 2*3*4 stay.</p><p>Fix: delete <code>0 .</code> &lt;now&gt;.</p>")
    assert doc_html("``<script>`` *<b>*") == "<p><code>&lt;script&gt;</code> <em>&lt;b&gt;</em></p>"


def test_no_built_in_check_documentation_keeps_markup_in_plain_text():
    for cls in load_checks().checks:
        text = doc_text(cls.documentation())
        assert "``" not in text and "*judgement*" not in text, cls.id
