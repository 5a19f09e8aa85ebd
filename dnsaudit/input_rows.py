"""What reading an input file produces: rows of cells, and the errors of reading.

Its own module so that the CSV reader (``input_files``) and the workbook reader
(``input_workbook``) share these types without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

from dnsaudit.model import InputIssue

Row = tuple[int, list[str]]  # (row or line number as people see it, the cells as text)


class InputError(Exception):
    """The input cannot be used at all; the message is one line for the user."""


class FormulaCell(str):
    """A workbook formula cell without a saved value: empty text that remembers its formula."""

    formula: str

    def __new__(cls, formula: str) -> Self:
        cell = super().__new__(cls, "")
        cell.formula = formula
        return cell


@dataclass
class RawInput:
    rows: list[Row] = field(default_factory=list)
    issues: list[InputIssue] = field(default_factory=list)  # rows lost in reading, the sheet chosen
