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
    assert empty_and_none == "\x01"  # a row with no cell written
    assert cells.encode([[True, 3, 2.5]]).count("<v>") == 2 and "Yes" in cells.encode([[True]])
    assert "nan" in cells.encode([[float("nan")]])
    assert cells.encode([[Word.FORMULA]]) == cells.encode([[str(Word.FORMULA)]])  # as str() gives it
    assert cells.encode([iter(["a", "b", "c", "d"])]) == cells.encode([["a", "b", "c"]])  # past the columns: dropped
