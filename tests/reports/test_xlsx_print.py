"""The workbook as a spreadsheet user prints it: LibreOffice converts it to PDF, and the
pages are read back (poppler): every domain of the Summary is on paper, each sheet is one
page wide, and the text stays legible (8 pt or more)."""

from __future__ import annotations

import itertools
import re
import shutil
import statistics
import subprocess

import openpyxl
import pytest

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT = shutil.which("pdftotext")
if SOFFICE is None or PDFTOTEXT is None:
    raise RuntimeError("libreoffice-calc or poppler-utils is missing: the test command (bash tests/run) installs them")
# poppler's word box is the font's ascent + descent: 1.22 em for Carlito (Calibri's metrics).
LINE_BOX = 1.221


@pytest.fixture(scope="module")
def pdf(out_dir, tmp_path_factory):
    work = tmp_path_factory.mktemp("print")
    subprocess.run([SOFFICE, f"-env:UserInstallation=file://{work}/profile", "--headless", "--convert-to", "pdf",
                    "--outdir", str(work), str(out_dir / "report.xlsx")], check=True, capture_output=True,
                   timeout=240)
    path = work / "report.pdf"
    assert path.stat().st_size > 10_000
    return path


def pages(pdf) -> list[list[tuple[float, float, float, float, str]]]:
    """Each page's words with their boxes."""
    html = subprocess.run([PDFTOTEXT, "-bbox", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    result = []
    for page in html.split("<page ")[1:]:
        result.append([(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', page)])
    return result


def test_the_pdf_holds_every_domain_of_the_summary(pdf, out_dir):
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    summary = openpyxl.load_workbook(out_dir / "report.xlsx")["Summary"]
    domains = [row[1] for row in summary.iter_rows(min_row=2, values_only=True)]
    assert len(domains) > 20
    flat = re.sub(r"\s+", "", text)
    missing = [d for d in domains if re.sub(r"\s+", "", d) not in flat]
    assert missing == []


def test_pages_are_landscape_numbered_and_legible(pdf):
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height  # landscape
    all_pages = pages(pdf)
    total = len(all_pages)
    for number, words in enumerate(all_pages, 1):
        text = " ".join(w[4] for w in words)
        assert f"Page {number} of {total}" in text
        size = statistics.median(w[3] - w[1] for w in words) / LINE_BOX
        assert size >= 7.9, f"page {number}: text at {size:.1f} pt"
        assert max(w[2] for w in words) <= width  # nothing past the right edge


def test_wrapped_cells_do_not_overlap_the_next_row(pdf):
    """A multi-line cell (the fix, the first problem) gets the row height it needs: no two
    words on a page are drawn over each other."""
    for number, words in enumerate(pages(pdf), 1):
        boxes = sorted(words, key=lambda w: (w[0], w[1]))
        for a, b in itertools.pairwise(boxes):
            overlap_x = min(a[2], b[2]) - max(a[0], b[0])
            overlap_y = min(a[3], b[3]) - max(a[1], b[1])
            # lines of one wrapped cell touch (line spacing < the font's box); text drawn over
            # another row's text overlaps by more than half a line
            half = min(a[3] - a[1], b[3] - b[1]) / 2
            assert not (overlap_x > 2 and overlap_y > half), f"page {number}: {a[4]!r} over {b[4]!r}"


@pytest.mark.parametrize("text, chars, lines", [
    ("short", 10, 1),
    ("two words here", 9, 2),  # 'two words' / 'here'
    ("x" * 65, 32, 3),  # a word longer than the line is broken where the line ends
    # LibreOffice breaks a word that does not fit after its hyphens: 'relay-nospf-' then the rest, 4 lines
    ("relay-nospf.test. 3600 IN MX 0 relay-nospf-test.mail.protection.outlook.com.", 32, 4),
    ("a-b c", 3, 2),  # 'a-b' fits whole; a hyphen is a break only where needed
])
def test_row_heights_count_the_lines_a_spreadsheet_wraps_to(text, chars, lines):
    from dnsaudit.reports.spreadsheet import _lines

    assert _lines(text, chars) == lines
