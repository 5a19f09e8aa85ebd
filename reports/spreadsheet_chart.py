"""A native bar chart for ``reports.spreadsheet``: the DrawingML parts of one chart on a sheet.

One series of numbers with a category per bar, each bar in its own colour, values shown
on the bars. The chart refers to the cells it shows (so it follows an edit in Excel or
LibreOffice) and carries a cache of their values (so a reader that does not recalculate
still draws it). Parts and their order follow ECMA-376 Part 1, §21.2 (charts) and §20.5
(spreadsheet drawings).
"""

from __future__ import annotations

from dataclasses import dataclass

C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


@dataclass(frozen=True)
class BarChart:
    title: str
    sheet: str  # the sheet holding the cells
    first_row: int  # 1-based rows of the categories (column A) and values (column B)
    labels: tuple[str, ...]
    values: tuple[int, ...]
    colours: tuple[str, ...]  # RRGGBB per bar
    anchor: tuple[int, int, int, int]  # from column, from row, to column, to row (0-based, cells)
    to_offset: int = 0  # EMU into the "to" column (so the chart need not reach into one more column)
    label_column: str = "A"
    value_column: str = "B"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def chart_xml(chart: BarChart) -> str:
    last = chart.first_row + len(chart.labels) - 1
    sheet = "'" + chart.sheet.replace("'", "''") + "'"
    cats = f"{sheet}!${chart.label_column}${chart.first_row}:${chart.label_column}${last}"
    vals = f"{sheet}!${chart.value_column}${chart.first_row}:${chart.value_column}${last}"
    count = len(chart.labels)
    points = "".join(f'<c:dPt><c:idx val="{i}"/><c:invertIfNegative val="0"/><c:bubble3D val="0"/><c:spPr>'
                     f'<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill></c:spPr></c:dPt>'
                     for i, colour in enumerate(chart.colours))
    str_pts = "".join(f'<c:pt idx="{i}"><c:v>{_esc(label)}</c:v></c:pt>' for i, label in enumerate(chart.labels))
    num_pts = "".join(f'<c:pt idx="{i}"><c:v>{value}</c:v></c:pt>' for i, value in enumerate(chart.values))
    title = (f'<c:title><c:tx><c:rich><a:bodyPr/><a:p><a:pPr><a:defRPr sz="1200" b="1"/></a:pPr><a:r>'
             f'<a:rPr lang="en-GB" sz="1200" b="1"/><a:t>{_esc(chart.title)}</a:t></a:r></a:p></c:rich></c:tx>'
             '<c:overlay val="0"/></c:title>')
    labels = ('<c:dLbls><c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
              '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>')
    return (f'{HEAD}<c:chartSpace xmlns:c="{C}" xmlns:a="{A}" xmlns:r="{R}"><c:roundedCorners val="0"/><c:chart>'
            f'{title}<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/><c:barChart><c:barDir val="bar"/>'
            '<c:grouping val="clustered"/><c:varyColors val="0"/><c:ser><c:idx val="0"/><c:order val="0"/>'
            f'<c:tx><c:v>Domains</c:v></c:tx><c:invertIfNegative val="0"/>{points}{labels}'
            f'<c:cat><c:strRef><c:f>{_esc(cats)}</c:f><c:strCache><c:ptCount val="{count}"/>{str_pts}</c:strCache>'
            f'</c:strRef></c:cat><c:val><c:numRef><c:f>{_esc(vals)}</c:f><c:numCache><c:formatCode>General'
            f'</c:formatCode><c:ptCount val="{count}"/>{num_pts}</c:numCache></c:numRef></c:val></c:ser>'
            '<c:gapWidth val="50"/><c:axId val="100"/><c:axId val="200"/></c:barChart>'
            '<c:catAx><c:axId val="100"/><c:scaling><c:orientation val="maxMin"/></c:scaling><c:delete val="0"/>'
            '<c:axPos val="l"/><c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="none"/>'
            '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="200"/>'
            '<c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/>'
            '<c:noMultiLvlLbl val="0"/></c:catAx>'
            '<c:valAx><c:axId val="200"/><c:scaling><c:orientation val="minMax"/><c:min val="0"/></c:scaling>'
            '<c:delete val="1"/><c:axPos val="t"/><c:numFmt formatCode="0" sourceLinked="0"/>'
            '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
            '<c:crossAx val="100"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
            '</c:plotArea><c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>')


def drawing_xml(chart: BarChart) -> str:
    c1, r1, c2, r2 = chart.anchor
    return (f'{HEAD}<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}"><xdr:twoCellAnchor editAs="oneCell">'
            f'<xdr:from><xdr:col>{c1}</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>{r1}</xdr:row><xdr:rowOff>0'
            f'</xdr:rowOff></xdr:from><xdr:to><xdr:col>{c2}</xdr:col><xdr:colOff>{chart.to_offset}</xdr:colOff><xdr:row>{r2}'
            '</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to><xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
            f'<xdr:cNvPr id="2" name="{_esc(chart.title)}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
            '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic><a:graphicData '
            f'uri="{C}"><c:chart xmlns:c="{C}" xmlns:r="{R}" r:id="rId1"/></a:graphicData></a:graphic>'
            '</xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor></xdr:wsDr>')
