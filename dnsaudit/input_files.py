"""Reading an input file into rows of cells: the encoding, the delimiter, the workbook.

This module knows bytes and cells, not what a column means (that is dnsaudit.inputs): a
row here is (the row or line number people see in their editor, the cells as text).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

from dnsaudit.files import FileMissing, FileRefused, read_capped
from dnsaudit.input_rows import InputError, RawInput, Row
from dnsaudit.input_workbook import xlsx_rows
from dnsaudit.model import InputIssue, IssueLevel

MAX_INPUT_BYTES = 100_000_000  # --max-input-mb
XLSX_EXPANSION = 8  # a workbook's parts may unpack to this many times the input limit
def read_rows(path: Path, sheet: str | None = None,
              has_domains: Callable[[list[Row]], bool] = lambda rows: True,
              max_bytes: int = MAX_INPUT_BYTES) -> RawInput:
    """The rows of a CSV or .xlsx file. Raises InputError when the file is unusable.

    ``has_domains`` tells whether a workbook sheet's rows hold a domain column; it picks the
    sheet when the first one has none (dnsaudit.inputs knows the column names, not this module).
    Only a regular file of at most ``max_bytes`` is read (a FIFO would hang the run, a link to
    ``/dev/zero`` fill the memory), and a workbook may expand to ``XLSX_EXPANSION`` times that.
    The whole file is held in memory, and reading the rows takes about 20 bytes per input
    byte (a 20 MB CSV of 432,099 domains peaked at 410 MB): the default limit keeps that near 2 GB.
    """
    try:
        data = read_capped(path, max_bytes)
    except FileMissing:
        raise InputError(f"input file not found: {path}") from None
    except FileRefused as exc:
        hint = " (raise it with --max-input-mb)" if "limit" in str(exc) else ""
        raise InputError(f"cannot read the input: {exc}{hint}") from None
    kind = _kind(data)
    if kind == "xlsx":

        return xlsx_rows(data, path, sheet, has_domains, expanded_limit=max_bytes * XLSX_EXPANSION)
    if kind == "xls":
        raise InputError(f"{path} is an old binary Excel (.xls) file; save it as .xlsx or CSV")
    if kind == "ods":
        raise InputError(f"{path} is an OpenDocument spreadsheet; save it as .xlsx or CSV")
    if kind:
        raise InputError(f"{path} is not a CSV or Excel file (it looks like {kind})")
    if sheet:
        raise InputError("--sheet applies to .xlsx input only")
    return csv_rows(decode(data, path))


# Formats people pick by mistake ("the export", "the attachment"), by their first bytes.
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"\xd0\xcf\x11\xe0", "xls"),  # OLE2 compound file: Excel 97-2003 (or another Office 97 file)
)


def _kind(data: bytes) -> str:
    """'' for text, 'xlsx', 'xls', 'ods', or what the file looks like when it is no input at all."""
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(data)
    return next((kind for magic, kind in _MAGIC if data.startswith(magic)), "")


def _zip_kind(data: bytes) -> str:
    """A zip is an .xlsx only when it holds a workbook part (ECMA-376 part 1, 12.3.23)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            mimetype = archive.read("mimetype")[:100] if "mimetype" in names else b""
    except (zipfile.BadZipFile, OSError, EOFError):
        return "xlsx"  # a damaged workbook: openpyxl says what is wrong with it
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    if any(n.startswith("word/") for n in names):
        return "a Word document"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint file"
    return "a zip archive"


def decode(data: bytes, path: Path | str = "input") -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 (with or without BOM) or cp1252.

    Without a BOM, UTF-16 is recognised by its NUL bytes all falling on one side of each
    pair (ASCII-range text); NULs on both sides are binary data, not text, and so is a
    text whose first characters are mostly control, unassigned or private-use characters.
    """
    if data.startswith(codecs.BOM_UTF8):
        text = data[3:].decode("utf-8", errors="replace")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = data.decode("utf-16", errors="replace")
    else:
        sample = data[:4096]
        even_nuls, odd_nuls = sample[0::2].count(b"\x00"), sample[1::2].count(b"\x00")
        if len(sample) >= 4 and min(even_nuls, odd_nuls) <= len(sample) // 100 < max(even_nuls, odd_nuls) \
                and max(even_nuls, odd_nuls) >= len(sample) // 4:
            text = data.decode("utf-16-le" if odd_nuls > even_nuls else "utf-16-be", errors="replace")
        elif b"\x00" in sample:
            raise InputError(f"{path} is not a CSV or Excel file (it holds binary data)")
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = data.decode("cp1252", errors="replace")
    if _looks_binary(text[:4096]):
        raise InputError(f"{path} is not a CSV or Excel file (it holds binary data)")
    return text


def _looks_binary(sample: str) -> bool:
    """More than 1 in 50 characters that no text holds: controls, unassigned, surrogates, private use."""
    odd = sum(1 for c in sample if c not in "\t\r\n" and (c == "\ufffd" or unicodedata.category(c) in _NOT_TEXT))
    return odd * 50 > len(sample)


_NOT_TEXT = {"Cc", "Cs", "Co", "Cn"}
SEP_HINT = re.compile(r'\A"?sep=(.)"?\r?\n', re.IGNORECASE)  # Excel's delimiter line, e.g. "sep=;"
FIELD_CAP = 10 * 1024 * 1024  # characters in one CSV field; past it the row is reported, the rest read


def csv_rows(text: str) -> RawInput:
    """(line number where the record starts, cells) for every record of a CSV text.

    A first line ``sep=;`` (Excel writes it, and honours it when opening) names the delimiter
    and is not a row. A field over FIELD_CAP characters costs its row (an error with the line
    number), not the file; a quote left open makes the rest of the file one field, and the
    error says so.
    """
    result = RawInput()
    first_line = 1
    hint = SEP_HINT.match(text)
    if hint:
        delimiter = hint[1]
        text, first_line = text[hint.end():], 2
    else:
        first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
        delimiter = _delimiter(first)
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter)
    previous_cap = csv.field_size_limit(FIELD_CAP)
    try:
        while True:
            start = first_line + lines.count
            lines.record.clear()
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                if "field larger than field limit" not in str(exc):
                    raise InputError(f"cannot parse the CSV near line {start}: {exc}") from None
                result.issues.append(InputIssue(start, IssueLevel.ERROR, _oversized(lines, start, first_line)))
                continue
            result.rows.append((start, cells))
    finally:
        csv.field_size_limit(previous_cap)
    return result


def _oversized(lines: _Lines, start: int, first_line: int) -> str:
    """Skip the rest of an oversized record and describe it."""
    quotes = sum(line.count('"') for line in lines.record)
    while quotes % 2:  # the reader stopped inside a quoted field: its other lines are not rows
        try:
            quotes += next(lines).count('"')
        except StopIteration:
            break
    end = first_line + lines.count - 1
    where = f" (lines {start}-{end}: a quote left open?)" if end > start else ""
    return f"a cell is larger than {FIELD_CAP // (1024 * 1024)} MiB{where}; row not audited"


class _Lines:
    """The CSV text's lines, counted, with the lines of the record being read kept."""

    def __init__(self, text: str) -> None:
        self._lines = io.StringIO(text, newline="")
        self.count = 0
        self.record: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self._lines.readline()
        if not line:
            raise StopIteration
        self.count += 1
        self.record.append(line)
        return line


def _delimiter(line: str) -> str:
    outside, quoted = [], False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted:
            outside.append(char)
    counts = {d: outside.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","
