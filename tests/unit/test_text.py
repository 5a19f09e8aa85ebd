"""The one sanitiser for terminals and the one for report files (dnsaudit.text)."""

from __future__ import annotations

from dnsaudit.text import FIELD_LIMIT, cap, printable, readable_time, report_text


def test_printable_shows_every_control_and_bidi_character_as_a_code():
    text = "a\x1b[2K\rb\x07\x9b\u202e\ud800\ufffe\tc\nd"
    assert printable(text) == "a<U+001B>[2K<U+000D>b<U+0007><U+009B><U+202E><U+D800><U+FFFE> c d"
    printable("\ud800").encode("ascii")  # a lone surrogate cannot make print() fail


def test_report_text_drops_controls_keeps_xml_legal_and_shows_bidi():
    assert report_text("a\x00b\x1bc\x7f\x85d\te\nf\rg") == "abcd\te\nf\rg"
    assert report_text("x\ud800\udfff\ufffe\uffffy") == "x\ufffd\ufffd\ufffd\ufffdy"
    assert report_text("\u202egnp.exe \u2066x\u2069") == "<U+202E>gnp.exe <U+2066>x<U+2069>"
    assert report_text("\u202e", shown="&lt;U+{:04X}&gt;") == "&lt;U+202E&gt;"
    assert report_text("plain ascii") == "plain ascii"


def test_cap_marks_the_cut_with_the_original_length():
    assert cap("short") == "short"
    cut = report_text("x" * 1_048_576)
    assert cut.startswith("x" * FIELD_LIMIT) and cut.endswith("… 1,048,576 characters, cut")
    assert len(cut) < FIELD_LIMIT + 40


def test_times_read_as_people_write_them_in_utc():
    assert readable_time("2026-12-02T01:23:45.123456+00:00") == "2 Dec 2026 01:23 UTC"
    assert readable_time("2026-12-02T01:23:45+02:00") == "1 Dec 2026 23:23 UTC"  # another offset: converted
    assert readable_time("not a time") == "not a time" and readable_time("") == ""
