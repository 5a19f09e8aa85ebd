"""Reading an input file into rows of cells: the encoding, the delimiter, the workbook.

This module knows bytes and cells, not what a column means (that is dnsaudit.inputs): a
row here is (the row or line number people see in their editor, the cells as text).
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path


class InputError(Exception):
    """The input cannot be used at all; the message is one line for the user."""


def read_rows(path: Path, sheet: str | None = None) -> list[tuple[int, list[str]]]:
    """The rows of a CSV or .xlsx file. Raises InputError when the file is unusable."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"input file not found: {path}") from None
    except IsADirectoryError:
        raise InputError(f"input is a folder, not a file: {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data.startswith(b"PK\x03\x04"):
        return xlsx_rows(data, path, sheet)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path} is an old binary Excel (.xls) file; save it as .xlsx or CSV")
    else:
        if sheet:
            raise InputError("--sheet applies to .xlsx input only")
        return csv_rows(decode(data, path))


def decode(data: bytes, path: Path | str = "input") -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 (with or without BOM) or cp1252."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace")
    sample = data[:4096]
    if len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 4:
        odd_nuls = sample[1::2].count(b"\x00")
        return data.decode("utf-16-le" if odd_nuls > len(sample) // 4 else "utf-16-be", errors="replace")
    if b"\x00" in sample:
        raise InputError(f"{path} looks like a binary file, not CSV or .xlsx")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def csv_rows(text: str) -> list[tuple[int, list[str]]]:
    """(line number where the record starts, cells) for every record of a CSV text."""
    lines = text.splitlines()
    first = next((ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#")), "")
    delimiter = _delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, line = [], 1
    try:
        for cells in reader:
            rows.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"cannot parse the CSV near line {reader.line_num}: {exc}") from None
    return rows


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


def xlsx_rows(data: bytes, path: Path, sheet: str | None) -> list[tuple[int, list[str]]]:
    import openpyxl  # imported here: CSV users never pay for it

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InputError(f"cannot open {path} as an Excel workbook: {exc}") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise InputError(f"{path} has no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
        ws = book[sheet] if sheet else book.worksheets[0]
        rows = []
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            rows.append((number, ["" if v is None else _cell_text(v) for v in values]))
        return rows
    finally:
        book.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
