"""reports.spreadsheet.Cells.encode, the workbook's rows rendered ahead: its memos change
nothing in what a cell says, however many texts go through them."""

from __future__ import annotations

import enum

from dnsaudit.reports.spreadsheet import Cells

WIDTHS = [12.0, 30.0, 50.0]


class Word(str, enum.Enum):
    EMPTY = ""
    FORMULA = "=cmd"


def fresh_encoding(row: list) -> str:
    """One row through a new Cells: no memo has seen any of its texts."""
    return Cells(WIDTHS, wrap=True, mono=(3,)).encode([row])


def test_a_memo_gives_what_a_fresh_renderer_gives_past_its_clearing_points():
    cells = Cells(WIDTHS, wrap=True, mono=(3,))
    rows = [[f"client {n % 7}", f"message {n}: " + "word " * (n % 40), f"v=spf1 include:{n}.example -all"]
            for n in range(10_000)]  # more distinct texts per column than the memo keeps (4,096)
    for row in rows[:5000] + rows[:200] + rows[9000:]:
        assert cells.encode([row]) == fresh_encoding(row)


def test_values_that_are_not_plain_text_are_encoded_as_before_the_memo():
    cells = Cells(WIDTHS, wrap=False)
    empty_and_none = cells.encode([[None, "", Word.EMPTY]])
    assert empty_and_none == "\x01!!"  # a row (one line high with or without its first column) with no cell written
    assert cells.encode([[True, 3, 2.5]]).count("<v>") == 2 and "Yes" in cells.encode([[True]])
    assert "nan" in cells.encode([[float("nan")]])
    assert cells.encode([[Word.FORMULA]]) == cells.encode([[str(Word.FORMULA)]])  # as str() gives it
    assert cells.encode([iter(["a", "b", "c", "d"])]) == cells.encode([["a", "b", "c"]])  # past the columns: dropped


def test_encoded_rows_land_as_appended_rows_with_or_without_the_first_column(tmp_path):
    """A sheet writes an encoded row as it writes the row's values; one that leaves out the
    first column (a client's own workbook) as it writes the values without it."""
    import zipfile

    from dnsaudit.reports.spreadsheet import Workbook

    rows = [["Acme", "contoso.com", "x\n" * 3, 7], ["", "fabrikam.com", "=1+1", None], ["Acme " * 30, "", "", 2.5]]
    path = tmp_path / "book.xlsx"
    with open(path, "wb") as handle:
        book = Workbook(handle, title="T")
        for name, widths, skip in (("appended", WIDTHS + [8.0], 0), ("encoded", WIDTHS + [8.0], 0),
                                   ("short", WIDTHS[1:] + [8.0], 0), ("encoded short", WIDTHS[1:] + [8.0], 1)):
            sheet = book.sheet(name, widths, header=None, wrap=True)
            if name == "appended":
                for values in rows:
                    sheet.append(values)
            elif name == "short":
                for values in rows:
                    sheet.append(values[1:])
            else:
                sheet.append_encoded(Cells(WIDTHS + [8.0], wrap=True).encode(rows), skip)
        book.close()
    with zipfile.ZipFile(path) as archive:
        data = {n: archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet")}
    sheets = [data[f"xl/worksheets/sheet{n}.xml"].split("<sheetData>")[1].split("</sheetData>")[0] for n in (1, 2, 3, 4)]
    assert sheets[0] == sheets[1] and sheets[2] == sheets[3] and 'r="A2"' in sheets[3] and "ht=" in sheets[0]
