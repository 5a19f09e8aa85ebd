"""Reading an .xlsx input: which sheet holds the domains, and what a formula cell says.

People keep the domain list on a sheet that is not the first ("Summary" first, "Domains"
second), and fill columns with formulas (``=VLOOKUP(...)`` for the client). A formula cell
is read by the value Excel saved with it; a file written by a script that never ran in
Excel has no saved value, and then the cell is a FormulaCell, so that the row can say so
instead of carrying an empty value that looks like a real one.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dnsaudit.input_rows import FormulaCell, InputError, RawInput, Row
from dnsaudit.model import InputIssue, IssueLevel

PROBE_ROWS = 100  # rows read from the other sheets to see whether one has a domain column


def xlsx_rows(data: bytes, path: Path, sheet: str | None, has_domains: Callable[[list[Row]], bool],
              expanded_limit: int | None = None) -> RawInput:
    """The rows of the sheet named by --sheet (any case), or of the first sheet with domains.

    A workbook whose parts unpack to more than ``expanded_limit`` bytes (a zip bomb: 4 MB
    that unpack to gigabytes) is refused before openpyxl reads it. The sizes the zip
    directory declares are a true bound: Python's zipfile stops reading a member there.
    """
    import openpyxl  # imported here: CSV users never pay for it

    if expanded_limit is not None:
        _refuse_bombs(data, path, expanded_limit)

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
        raise InputError(f"cannot open {path} as an Excel workbook: {exc}") from None
    try:
        names = book.sheetnames
        if not names:
            raise InputError(f"{path} has no sheets")
        if sheet is not None:
            return RawInput(_sheet_rows(book, data, _named(names, sheet, path)))
        rows = _sheet_rows(book, data, names[0])
        if has_domains(rows) or len(names) == 1:
            return RawInput(rows)
        others = [n for n in names[1:] if has_domains(_sheet_rows(book, data, n, limit=PROBE_ROWS))]
        if len(others) > 1:
            listed = ", ".join(repr(n) for n in others)
            raise InputError(f"the first sheet {names[0]!r} of {path} has no domain column; the sheets "
                             f"{listed} have one: choose with --sheet")
        if not others:
            return RawInput(rows)  # the first sheet's own "no domain column" error says the rest
        issue = InputIssue(0, IssueLevel.WARNING, f"the first sheet {names[0]!r} has no domain column; "
                           f"reading sheet {others[0]!r} (choose another with --sheet)")
        return RawInput(_sheet_rows(book, data, others[0]), [issue])
    finally:
        book.close()


def _refuse_bombs(data: bytes, path: Path, limit: int) -> None:
    from dnsaudit.files import megabytes

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, EOFError):
        return  # openpyxl says what is wrong with it
    if expanded > limit:
        raise InputError(f"cannot read the input: {path} unpacks to {megabytes(expanded)}, more than the limit of "
                         f"{megabytes(limit)} for a workbook (raise it with --max-input-mb)")


def _named(names: list[str], wanted: str, path: Path) -> str:
    """--sheet by its exact name, else without regard to case (Excel itself ignores case)."""
    if wanted in names:
        return wanted
    matches = [n for n in names if n.casefold() == wanted.strip().casefold()]
    if len(matches) == 1:
        return matches[0]
    raise InputError(f"{path} has no sheet {wanted!r} (sheets: {', '.join(names)})")


def _sheet_rows(book: Any, data: bytes, name: str, limit: int | None = None) -> list[Row]:  # Any: see pyproject
    """Every row of one sheet as text; formula cells by their saved values (a second read)."""
    rows: list[Row] = []
    formulas: dict[tuple[int, int], str] = {}
    sheet = book[name]
    if not hasattr(sheet, "iter_rows"):
        return rows  # a chart sheet: no cells
    for number, cells in enumerate(sheet.iter_rows(max_row=limit), start=1):
        texts = []
        for column, cell in enumerate(cells):
            value = getattr(cell, "value", None)
            if getattr(cell, "data_type", None) == "f":
                formulas[number, column] = str(getattr(value, "text", value))
            texts.append("" if value is None else _cell_text(value))
        rows.append((number, texts))
    if formulas:
        _saved_values(rows, formulas, data, name, limit)
    return rows


def _saved_values(rows: list[Row], formulas: dict[tuple[int, int], str], data: bytes, name: str,
                  limit: int | None) -> None:
    """Replace formula texts by the values Excel saved with them, or by FormulaCell."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        saved = dict(enumerate(book[name].iter_rows(max_row=limit, values_only=True), start=1))
    finally:
        book.close()
    for (number, column), formula in formulas.items():
        values = saved.get(number, ())
        value = values[column] if column < len(values) else None
        texts = rows[number - 1][1]
        texts[column] = FormulaCell(formula) if value is None else _cell_text(value)


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
