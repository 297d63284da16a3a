"""The rows bigsheet writes into a big sheet, read back with openpyxl: every kind of value a
consolidated plan holds, each cell with the style of its variant, and the same rows given row
by row (Findings, Changes) or column by column (Measures, Services) giving the same bytes."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
from openpyxl import Workbook
from openpyxl.styles import PatternFill

from planvalidator.output.atomic import workbook_bytes
from planvalidator.output.bigsheet import BLANK, BigSheet, splice

FILL = "FFFFC7CE"
# value written → value read back (None: no value)
EDGES = [("a & b < c > d", "a & b < c > d"),
         ("  both ends  ", "  both ends  "),
         ("bell\x07 and nul\x00 end", "bell and nul end"),
         ("tab\tand\nnewline", "tab\tand\nnewline"),
         ("=SUM(A1:A2)", "=SUM(A1:A2)"),
         ("", ""),
         (True, True),
         (False, False),
         (dt.date(2026, 1, 5), "2026-01-05"),
         (None, None),
         (float("nan"), None),
         (12.5, 12.5),
         (-0.0, 0),
         (7, 7)]


def _workbook(fill: bool):
    """A sheet with a header and two prototype rows: variant 0 plain, variant 1 with 0.00 and a
    fill."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Rows"
    ws.append(["Value", "Plain", "Marked"])
    for c in range(1, 4):
        ws.cell(3, c).number_format = "0.00"
        if fill:
            ws.cell(3, c).fill = PatternFill("solid", fgColor=FILL)
    return wb, ws


def _by_rows():
    wb, ws = _workbook(fill=True)
    sheet = BigSheet(ws, width=3, variants=2)
    for value, _ in EDGES:   # the third cell marked (variant 1), a blank one too
        sheet.rows.append(([value, "plain", None], 0, {2: 1}))
    sheet.rows.append(([1.5, None, 2], 1))   # a whole row in variant 1, its None unwritten
    return wb, sheet


def _by_columns():
    wb, ws = _workbook(fill=True)
    sheet = BigSheet(ws, width=3, variants=2)
    n = len(EDGES)
    sheet.extend([[value for value, _ in EDGES], ["plain"] * n, [BLANK] * n],
                 [[0] * n, [0] * n, [1] * n])
    sheet.extend([[1.5], [None], [2]], [[1], [1], [1]])
    return wb, sheet


def _saved(wb, sheet) -> bytes:
    return workbook_bytes(wb, transform=splice([sheet]))


def test_every_kind_of_value_reads_back():
    wb, sheet = _by_rows()
    ws = openpyxl.load_workbook(io.BytesIO(_saved(wb, sheet)))["Rows"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == [read for _, read in EDGES] + [1.5]
    assert ws["A5"].data_type == "s"   # text starting with "=": never a formula
    assert [row[1:] for row in rows] == [("plain", None)] * len(EDGES) + [(None, 2)]
    last = len(EDGES) + 2
    assert ws.dimensions == f"A1:C{last}"


def test_each_cell_takes_its_variants_style():
    wb, sheet = _by_rows()
    ws = openpyxl.load_workbook(io.BytesIO(_saved(wb, sheet)))["Rows"]
    last = len(EDGES) + 2
    marked = [ws.cell(r, 3) for r in range(2, last)]   # blank, yet written with its fill
    assert {(c.value, c.fill.fgColor.rgb, c.number_format) for c in marked} == {
        (None, FILL, "0.00")}
    assert (ws.cell(2, 1).fill.fgColor.rgb, ws.cell(2, 1).number_format) != (FILL, "0.00")
    assert (ws.cell(last, 1).fill.fgColor.rgb, ws.cell(last, 1).number_format) == (FILL, "0.00")
    assert ws.cell(last, 2).has_style is False   # None in a row of variant 1: no cell


def test_rows_given_by_column_are_the_rows_given_by_row():
    assert _saved(*_by_columns()) == _saved(*_by_rows())
