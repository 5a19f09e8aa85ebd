"""A small streaming .xlsx writer: text, numbers, a few fixed styles, nothing else.

One module of ~430 lines, because ``Sheet`` and ``Workbook`` write one zip stream together (a
sheet reads the book's styles, title and conditional fills; the book writes each sheet's parts
and relations): apart, each would reach into the other's private state. The chart is apart.

Why not openpyxl for writing: even in write-only mode openpyxl spends ~17 µs per cell, and a
workbook of 10,000 domains has ~1.7 million cells, so the workbook alone took 37 s of a
run that must finish in 60 s; the same sheets written here take about a tenth of that.
openpyxl stays the reader (input sheets, and the tests read every workbook back with it).

What it writes, and all it can write: sheets of rows whose cells are text (always inline
strings, so nothing in a cell is ever a formula, and no shared-string table grows in
memory), numbers or empty; a bold header row with a fill (or with its text turned
upright, for narrow columns); wrapped or plain body cells, monospace ones for records to
copy; a first cell merged across columns; ``quotePrefix`` on text a spreadsheet would take
for a formula when somebody edits it; frozen header, auto-filter, column widths, tab
colours, conditional fills on a column and one native bar chart per sheet
(``reports.spreadsheet_chart``). Every sheet prints landscape with its header row repeated,
the sheet's name and page numbers in the footer, and fitted to the page width only when the
columns are narrow enough (``PRINT_WIDTH``) for the text to stay at 8 pt or more; the
writers choose widths within it and wrap long text instead. Rows go straight into the zip
stream, so memory does not grow with the number of rows.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

from dnsaudit.reports.view import FORMULA_START, spreadsheet_text

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
COMPRESSION_LEVEL = 3
LINE_HEIGHT = 15  # points, one line of Calibri 11
MAX_ROW_HEIGHT = 409  # Excel's limit
CHARS_PER_WIDTH = 1.1  # characters of running text per unit of column width, a little cautious
MONO_CHARS_PER_WIDTH = 0.87  # Consolas 10 is wider than Calibri 11; its stand-ins (Noto Sans Mono) wider still
# Landscape Letter/A4 less 0.5" margins is ~720 pt; a width unit is ~5.25 pt of Calibri 11; at
# the scale that keeps 11 pt text at 8 pt (0.727) that is ~188 units, less a margin for the
# way each program rounds: wider sheets are not shrunk.
PRINT_WIDTH = 180

# Cell styles (indexes into cellXfs below).
PLAIN, HEADER, WRAP, TEXT, TEXT_WRAP, BOLD, MONO, MONO_TEXT, TITLE, UPRIGHT = range(10)
_CELL_XFS = [
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>',
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment vertical="center" wrapText="1"/></xf>',
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
    '<alignment horizontal="left" vertical="top" wrapText="1"/></xf>',
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/>',
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>',
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>',
    '<xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" quotePrefix="1" applyFont="1" applyAlignment="1">'
    '<alignment vertical="top" wrapText="1"/></xf>',
    '<xf numFmtId="0" fontId="4" fillId="0" borderId="0" xfId="0" applyFont="1"/>',
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1" applyAlignment="1">'
    '<alignment horizontal="center" vertical="bottom" textRotation="90"/></xf>',
]
_MONO_OF = {WRAP: MONO, PLAIN: MONO, TEXT: MONO_TEXT, TEXT_WRAP: MONO_TEXT}


def escape(text: str) -> str:
    """XML text and attribute escaping (most cells need none: checked first, as it is cheaper)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    return text


def column_letter(index: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


class Cells:
    """How the body cells of a table's columns are rendered: the text per line of each
    column (for the height of wrapped rows), the monospace ones, wrapping; each distinct
    text of a column is rendered once (a bounded memo: statuses, checks and clients repeat).

    A ``Sheet`` renders its rows with one. So do the workbook's rows rendered ahead
    (``reports.prerender``): ``encode`` gives a table's rows as text that names each cell by
    its column, which ``Sheet.append_encoded`` places, leaving out the first columns of a
    sheet that leaves them out (a client's own workbook has no Client column): a cell reads
    the same in either, as its column's width and font go with it.
    """

    def __init__(self, widths: list[float], *, wrap: bool, mono: tuple[int, ...] = ()) -> None:
        self.chars = [max(1, int(w * CHARS_PER_WIDTH)) for w in widths]  # text per line, about
        self.mono = {i - 1 for i in mono}  # 1-based columns of records to copy: monospace
        for i in self.mono:
            self.chars[i] = max(1, int(widths[i] * MONO_CHARS_PER_WIDTH))
        self.wrap = wrap
        self._texts: dict[tuple[int, str], tuple[str, int]] = {}  # (column, text) -> cell after r="..", lines
        # encode()'s memo, one per column: text -> the cell's XML from its reference on (the row
        # number's place marked) and the lines it takes
        self._encoded: list[dict[str, tuple[str, int]]] = [{} for _ in widths]
        self._refs = [f'<c r="{_LETTERS[column]}{PLACE}"' for column in range(len(widths))]

    def body(self, column: int, text: str) -> tuple[str, int]:
        """A body text cell of the default style: its XML after the reference, and its lines."""
        known = self._texts.get((column, text))
        if known is None:
            plain, quoted = (WRAP, TEXT_WRAP) if self.wrap else (PLAIN, TEXT)
            known = self.text_cell(text, column, self.chars[column], None, plain, quoted, self.wrap)
            if len(self._texts) >= 4096:
                self._texts.clear()
            self._texts[(column, text)] = known
        return known

    def text_cell(self, text: str, column: int, chars: int, style: int | None, plain: int, quoted: int,
                  wrapped: bool) -> tuple[str, int]:
        """A text cell's XML after its reference, and the lines it takes when wrapped."""
        value = spreadsheet_text(text)  # no XML-illegal characters, capped length
        lines = 1
        if wrapped and (len(value) > chars or "\n" in value):
            lines = sum(_lines(part, chars) for part in value.split("\n"))
        s = quoted if value.startswith(FORMULA_START) else plain
        if column in self.mono and style is None:
            s = _MONO_OF.get(s, s)
        return f'{_s(s)} t="inlineStr"><is><t xml:space="preserve">{escape(value)}</t></is></c>', lines

    def encode(self, rows: list[list]) -> str:
        """``rows`` of the default style as text for ``Sheet.append_encoded``: each row
        ``ROW``, then the lines it takes with and without its first column (a character each,
        from 32), then its cells as the sheet writes them, each cell's reference holding
        ``PLACE`` where its row number goes (the row is known only where the rows land). A
        sheet with every column writes a row with one ``str.replace``; one without the first
        (a client's own workbook has no Client column) drops that cell and moves the
        references one column left. The marks are control characters no cell holds
        (``spreadsheet_text`` drops them)."""
        plain = WRAP if self.wrap else PLAIN
        out = []
        append = out.append
        refs, memos, columns = self._refs, self._encoded, len(self.chars)
        # Most cells are text seen before (statuses, check names, the same messages): one
        # dictionary lookup each. callgrind, the report phase of 300 synthetic domains in one
        # process: bench/README.md, fourth and sixth rounds.
        for values in rows:
            cells = []
            add = cells.append
            first = rest = 1  # the lines of the first column's cell, and of the others
            for column, value in enumerate(values):
                if column == columns:  # values beyond the table's columns are not shown
                    break
                if value.__class__ is str:
                    if not value:
                        continue
                    memo = memos[column]
                    known = memo.get(value)
                    if known is None:
                        body, lines = self.body(column, value)
                        known = (refs[column] + body, min(lines, 1000))
                        if len(memo) >= 4096:
                            memo.clear()
                        memo[value] = known
                    cell, lines = known
                elif value is None or value == "":  # as Sheet.append: an empty cell is not written
                    continue
                else:
                    if isinstance(value, bool):
                        value = "Yes" if value else "No"
                    if isinstance(value, (int, float)) and math.isfinite(value):
                        cell, lines = f"{refs[column]}{_s(plain)}><v>{value!r}</v></c>", 1
                    else:
                        body, lines = self.body(column, str(value))
                        cell, lines = refs[column] + body, min(lines, 1000)
                add(cell)
                if column == 0:
                    first = lines
                elif lines > rest:
                    rest = lines
            append(ROW)
            append(chr(32 + max(first, rest)))
            append(chr(32 + rest))
            append("".join(cells))
        return "".join(out)


ROW, PLACE = "\x01", "\x04"  # the marks of Cells.encode: a row, where its number goes (xlsx.SHEETS is \x03)
_FIRST_CELL = f'<c r="A{PLACE}"'
_REFERENCE = re.compile(f'<c r="([A-Z]+){PLACE}"')


@dataclass
class _SheetInfo:
    name: str
    headers: list[str] = field(default_factory=list)
    tab_colour: str = ""


class Sheet:
    """Rows for one sheet, streamed into the workbook's zip archive as they are added."""

    def __init__(self, book: Workbook, index: int, name: str, widths: list[float], *, header: list[str] | None,
                 wrap: bool, tab_colour: str, spooled: bool = False, mono: tuple[int, ...] = (),
                 upright_header: bool = False) -> None:
        self._book = book
        self._index = index
        self.name = name
        self._wrap = wrap
        self._columns = len(widths)
        self._cells = Cells(widths, wrap=wrap, mono=mono)
        self._chars = self._cells.chars
        self._merges: list[str] = []
        self.chart = None  # a spreadsheet_chart.BarChart, drawn on this sheet
        self._fits = sum(widths) <= PRINT_WIDTH
        self._rows = 0
        self._colour_rules: list[tuple[int, dict[str, str]]] = []
        self._filter = header is not None
        self.part = f"xl/worksheets/sheet{index}.xml"
        self._stream = tempfile.TemporaryFile() if spooled else book._zip.open(self.part, "w")  # noqa: SIM115 - closed by close()
        self.spooled = spooled
        self.closed = False
        self._pending: list[str] = []
        pr = f'<tabColor rgb="FF{tab_colour}"/>' if tab_colour else ""
        if self._fits:
            pr += '<pageSetUpPr fitToPage="1"/>'
        if header is not None:
            view = ('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                    'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                    '</sheetView></sheetViews>')
        else:
            view = '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        self._write(f'{XML_HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{REL}">'
                    + (f"<sheetPr>{pr}</sheetPr>" if pr else "")
                    + f'{view}<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "")
                    + "<sheetData>")
        if header is not None:
            self.append(header, style=UPRIGHT if upright_header else HEADER,
                        height=6 * max(map(len, header)) + 8 if upright_header else None)

    @property
    def rows(self) -> int:
        """Rows written so far (the next row is ``rows + 1``)."""
        return self._rows

    def colour_column(self, column: int, colours: dict[str, str]) -> None:
        """Fill cells of ``column`` (1-based) whose value equals a key with its colour (a conditional
        format, so colours follow the values when people sort or edit)."""
        self._colour_rules.append((column, colours))

    def append(self, values: list, style: int | None = None, *, span: int = 1, height: float | None = None) -> None:
        """One row: str (always stored as text), int/float, None or "" (empty); a bool is
        "Yes"/"No". ``span`` > 1 merges the first cell across that many columns (wrapped)."""
        self._rows += 1
        row = self._rows
        plain = style if style is not None else WRAP if self._wrap or span > 1 else PLAIN
        quoted = style if style is not None else TEXT_WRAP if self._wrap or span > 1 else TEXT
        wrapped = style in (HEADER, WRAP) or (style is None and (self._wrap or span > 1))
        lines = 1
        cells = []
        for column, (letter, chars, value) in enumerate(zip(_LETTERS, self._chars, values)):
            if value is None or value == "":
                continue
            if column == 0 and span > 1:
                chars = sum(self._chars[:span])
            if isinstance(value, bool):
                value = "Yes" if value else "No"
            if isinstance(value, (int, float)) and math.isfinite(value):
                cells.append(f'<c r="{letter}{row}"{_s(plain)}><v>{value!r}</v></c>')
                continue
            if style is None and span == 1:
                known = self._cells.body(column, str(value))
            else:
                known = self._cells.text_cell(str(value), column, chars, style, plain, quoted, wrapped)
            cells.append(f'<c r="{letter}{row}"{known[0]}')
            lines = max(lines, known[1])
        if span > 1:
            self._merges.append(f"A{row}:{column_letter(span)}{row}")
        # Excel fits wrapped rows itself, LibreOffice does not: a height from the text's length
        # (not marked custom, so Excel still refits a row when it is edited).
        if height is None and lines > 1:
            height = LINE_HEIGHT * lines
        ht = f' ht="{min(MAX_ROW_HEIGHT, height)}"' if height else ""
        custom = ' customHeight="1"' if height and style == UPRIGHT else ""
        self._pending.append(f'<row r="{row}"{ht}{custom}>{"".join(cells)}</row>')
        if len(self._pending) >= 256:
            self._flush()

    def append_encoded(self, text: str, skip: int = 0) -> None:
        """The rows of ``Cells.encode`` (for this sheet's columns, or with ``skip`` 1 for a
        sheet that leaves out the first of them), as ``append`` writes them."""
        if skip not in (0, 1):
            raise ValueError("a sheet of encoded rows leaves out its first column or none")
        for encoded in text.split(ROW)[1:]:
            self._rows += 1
            row = self._rows
            lines = ord(encoded[skip]) - 32
            cells = encoded[2:]
            if skip:
                if cells.startswith(_FIRST_CELL):  # text is escaped: a cell's "</c>" is its end
                    cells = cells[cells.index("</c>") + 4:]
                cells = _REFERENCE.sub(_one_column_left, cells)
            ht = f' ht="{min(MAX_ROW_HEIGHT, LINE_HEIGHT * lines)}"' if lines > 1 else ""
            self._pending.append(f'<row r="{row}"{ht}>{cells.replace(PLACE, str(row))}</row>')
            if len(self._pending) >= 256:
                self._flush()

    def close(self) -> None:
        self._flush()
        last = f"{column_letter(max(self._columns, 1))}{max(self._rows, 1)}"
        tail = ["</sheetData>"]
        if self._filter:
            tail.append(f'<autoFilter ref="A1:{last}"/>')
        if self._merges:
            tail.append(f'<mergeCells count="{len(self._merges)}">'
                        + "".join(f'<mergeCell ref="{m}"/>' for m in self._merges) + "</mergeCells>")
        priority = 0
        for column, colours in self._colour_rules:
            if self._rows < 2:
                break
            letter = column_letter(column)
            rules = []
            for value, colour in colours.items():
                priority += 1
                rules.append(f'<cfRule type="cellIs" dxfId="{self._book._dxf(colour)}" priority="{priority}" '
                             f'operator="equal"><formula>"{escape(value)}"</formula></cfRule>')
            tail.append(f'<conditionalFormatting sqref="{letter}2:{letter}{self._rows}">{"".join(rules)}'
                        "</conditionalFormatting>")
        tail.append('<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>')
        fit = ' fitToWidth="1" fitToHeight="0"' if self._fits else ""
        tail.append(f'<pageSetup orientation="landscape"{fit}/>')
        title = escape(spreadsheet_text(self._book._title[:100]).replace("&", "&&"))  # && is a literal & there
        tail.append(f"<headerFooter>{f'<oddHeader>&amp;L{title}</oddHeader>' if title else ''}"
                    "<oddFooter>&amp;L&amp;A&amp;RPage &amp;P of &amp;N</oddFooter></headerFooter>")
        if self.chart is not None:
            tail.append('<drawing r:id="rId1"/>')
        tail.append("</worksheet>")
        self._write("".join(tail))
        self.closed = True
        if self.spooled:  # the workbook copies it into the archive when it closes
            self._stream.seek(0)
        else:
            self._stream.close()

    def copy_into(self, archive: zipfile.ZipFile) -> None:
        """A spooled sheet's XML into the archive (after ``close``)."""
        with archive.open(self.part, "w") as target:
            shutil.copyfileobj(self._stream, target, 1 << 20)
        self._stream.close()

    def _flush(self) -> None:
        if self._pending:
            self._write("".join(self._pending))
            self._pending.clear()

    def _write(self, text: str) -> None:
        self._stream.write(text.encode("utf-8", "replace"))  # a lone surrogate must not stop the report


def _lines(text: str, chars: int) -> int:
    """Lines ``text`` takes when wrapped ``chars`` wide, as LibreOffice and Excel wrap: at
    spaces, and a word that does not fit on the line after its hyphens (``relay-nospf-`` /
    ``test.mail...``), a piece longer than a line broken where the line ends."""
    if len(text) <= chars:
        return 1
    lines, used = 1, 0  # used: characters on the current line
    for word in text.split(" "):
        gap = 1 if used else 0
        if used + gap + len(word) <= chars:
            used += gap + len(word)
            continue
        for k, piece in enumerate(_HYPHENATED.findall(word) if "-" in word else (word,)):
            gap = 1 if used and k == 0 else 0
            if used + gap + len(piece) <= chars:
                used += gap + len(piece)
                continue
            if used:
                lines += 1
            lines += (len(piece) - 1) // chars
            used = (len(piece) - 1) % chars + 1
    return lines


_HYPHENATED = re.compile(r"[^-]*-|[^-]+")  # a word's pieces, each with the hyphen that ends it


_LETTERS = [column_letter(i) for i in range(1, 16385)]  # every column a sheet can have
_LEFT = {letter: _LETTERS[n - 1] for n, letter in enumerate(_LETTERS) if n}  # B -> A, AA -> Z


def _one_column_left(reference: re.Match[str]) -> str:
    return f'<c r="{_LEFT[reference.group(1)]}{PLACE}"'


def _s(style: int) -> str:
    return f' s="{style}"' if style else ""


class Workbook:
    """Sheets are written one after the other (adding a sheet closes the one before), except
    ``spooled`` ones, which collect their rows in a temporary file while later sheets are
    written (two sheets filled in one pass over the domains), and join the archive at the end."""

    def __init__(self, handle: BinaryIO, *, title: str = "", creator: str = "") -> None:
        self._zip = zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESSION_LEVEL)
        self._title, self._creator = title, creator
        self._sheets: list[tuple[str, bool]] = []  # name, has a header row
        self._title_columns: dict[str, int] = {}  # sheet name -> columns repeated on each printed page
        self._dxfs: list[str] = []
        self._open: Sheet | None = None
        self._spooled: list[Sheet] = []
        self._all: list[Sheet] = []

    def sheet(self, name: str, widths: list[float], *, header: list[str] | None = None, wrap: bool = False,
              tab_colour: str = "", spooled: bool = False, mono: tuple[int, ...] = (),
              upright_header: bool = False, title_columns: int = 0) -> Sheet:
        """A new sheet; with ``header``, a frozen, filtered, printable table under that header row.
        ``title_columns``: how many columns on the left each printed page repeats (a sheet too
        wide for one page keeps saying which row is which)."""
        if not spooled and self._open is not None and not self._open.closed:
            self._open.close()  # the archive takes one entry at a time
        self._sheets.append((name, header is not None))
        if title_columns:
            self._title_columns[name] = title_columns
        sheet = Sheet(self, len(self._sheets), name, widths, header=header, wrap=wrap, tab_colour=tab_colour,
                      spooled=spooled, mono=mono, upright_header=upright_header)
        self._all.append(sheet)
        if spooled:
            self._spooled.append(sheet)
        else:
            self._open = sheet
        return sheet

    def _dxf(self, colour: str) -> int:
        dxf = f'<dxf><fill><patternFill patternType="solid"><bgColor rgb="FF{colour}"/></patternFill></fill></dxf>'
        if dxf not in self._dxfs:
            self._dxfs.append(dxf)
        return self._dxfs.index(dxf)

    def close(self, active: int = 0) -> None:
        if self._open is not None and not self._open.closed:
            self._open.close()
        self._open = None
        for sheet in self._spooled:
            if not sheet.closed:
                sheet.close()
            sheet.copy_into(self._zip)
        count = len(self._sheets)
        charts = self._write_charts()
        sheets = "".join(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                         for i, (name, _) in enumerate(self._sheets, 1))
        names = []
        for i, (name, table) in enumerate(self._sheets):
            if table:
                quoted = "'" + escape(name).replace("'", "''") + "'"
                columns = self._title_columns.get(name, 0)
                left = f"{quoted}!$A:${column_letter(columns)}," if columns else ""
                names.append(f'<definedName name="_xlnm.Print_Titles" localSheetId="{i}">{left}{quoted}!$1:$1'
                             '</definedName>')
        write = self._zip.writestr
        write("xl/workbook.xml", f'{XML_HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><bookViews><workbookView '
              f'activeTab="{active}"/></bookViews><sheets>{sheets}</sheets>'
              + (f"<definedNames>{''.join(names)}</definedNames>" if names else "") + "</workbook>")
        rels = "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                       for i in range(1, count + 1))
        write("xl/_rels/workbook.xml.rels", f'{XML_HEAD}<Relationships xmlns="{PKG_REL}">{rels}'
              f'<Relationship Id="rId{count + 1}" Type="{REL}/styles" Target="styles.xml"/></Relationships>')
        write("xl/styles.xml", self._styles())
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        write("docProps/core.xml", f'{XML_HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/'
              '2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org'
              '/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
              f"<dc:title>{escape(self._title)}</dc:title><dc:creator>{escape(self._creator)}</dc:creator>"
              f'<dcterms:created xsi:type="dcterms:W3CDTF">{now}</dcterms:created>'
              f'<dcterms:modified xsi:type="dcterms:W3CDTF">{now}</dcterms:modified></cp:coreProperties>')
        write("docProps/app.xml", f'{XML_HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
              'extended-properties"><Application>dnsaudit</Application></Properties>')
        write("_rels/.rels", f'{XML_HEAD}<Relationships xmlns="{PKG_REL}">'
              f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/>'
              f'<Relationship Id="rId2" Type="{PKG_REL}/metadata/core-properties" Target="docProps/core.xml"/>'
              f'<Relationship Id="rId3" Type="{REL}/extended-properties" Target="docProps/app.xml"/></Relationships>')
        kinds = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        overrides = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{kinds}.worksheet+xml"/>'
                            for i in range(1, count + 1))
        drawing = "application/vnd.openxmlformats-officedocument.drawing"
        overrides += "".join(f'<Override PartName="/xl/drawings/drawing{n}.xml" ContentType="{drawing}+xml"/>'
                             f'<Override PartName="/xl/charts/chart{n}.xml" ContentType="{drawing}ml.chart+xml"/>'
                             for n in range(1, charts + 1))
        write("[Content_Types].xml", f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/'
              'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
              'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
              f'<Override PartName="/xl/workbook.xml" ContentType="{kinds}.sheet.main+xml"/>{overrides}'
              f'<Override PartName="/xl/styles.xml" ContentType="{kinds}.styles+xml"/>'
              '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
              'core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/'
              'vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>')
        self._zip.close()

    def _write_charts(self) -> int:
        """Each sheet's chart as a drawing and a chart part, linked from the sheet; their number."""
        from dnsaudit.reports.spreadsheet_chart import chart_xml, drawing_xml

        n = 0
        for sheet in self._all:
            if sheet.chart is None:
                continue
            n += 1
            write = self._zip.writestr
            write(f"xl/worksheets/_rels/sheet{sheet._index}.xml.rels", f'{XML_HEAD}<Relationships xmlns="{PKG_REL}">'
                  f'<Relationship Id="rId1" Type="{REL}/drawing" Target="../drawings/drawing{n}.xml"/></Relationships>')
            write(f"xl/drawings/drawing{n}.xml", drawing_xml(sheet.chart))
            write(f"xl/drawings/_rels/drawing{n}.xml.rels", f'{XML_HEAD}<Relationships xmlns="{PKG_REL}">'
                  f'<Relationship Id="rId1" Type="{REL}/chart" Target="../charts/chart{n}.xml"/></Relationships>')
            write(f"xl/charts/chart{n}.xml", chart_xml(sheet.chart))
        return n

    def _styles(self) -> str:
        font = '<sz val="11"/><name val="Calibri"/><family val="2"/>'
        return (f'{XML_HEAD}<styleSheet xmlns="{MAIN}">'
                f'<fonts count="5"><font>{font}</font><font><b/><sz val="11"/><color rgb="FFFFFFFF"/>'
                f'<name val="Calibri"/><family val="2"/></font><font><b/>{font}</font>'
                '<font><sz val="10"/><name val="Consolas"/><family val="3"/></font>'
                '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>'
                '<fills count="3"><fill><patternFill patternType="none"/></fill><fill>'
                '<patternFill patternType="gray125"/></fill>'
                '<fill><patternFill patternType="solid"><fgColor rgb="FF1F4E78"/><bgColor indexed="64"/>'
                '</patternFill></fill></fills>'
                '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
                '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
                f'<cellXfs count="{len(_CELL_XFS)}">{"".join(_CELL_XFS)}</cellXfs>'
                '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
                f'<dxfs count="{len(self._dxfs)}">{"".join(self._dxfs)}</dxfs></styleSheet>')
