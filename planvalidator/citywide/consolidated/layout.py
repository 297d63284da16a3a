"""What every sheet of the consolidated workbook shares: column labels (the reader finds its
columns by them), fonts, fills, number formats, the header row and the Excel table."""

from __future__ import annotations

import datetime as dt
import math
from types import NoneType

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from ...findings import ERROR, WARNING
from ...output.marks import FILLS, HEADER_FILL as HEADER_RGB, HEADER_TEXT
from ...read.xlsx import CellError
from ...safetext import MAX_CELL_TEXT, cell_text

# A font name on every Font we set: without one, LibreOffice falls back to a serif.
FONT_NAME = "Calibri"
HEADER_FILL = PatternFill("solid", fgColor=HEADER_RGB)
HEADER_FONT = Font(name=FONT_NAME, bold=True, color=HEADER_TEXT)
BOLD = Font(name=FONT_NAME, bold=True)
TITLE_FONT = Font(name=FONT_NAME, bold=True, size=14)
SEVERITY_FILLS = {s: PatternFill("solid", fgColor=FILLS[s]) for s in (ERROR, WARNING)}

# Number formats by column type. Whole numbers and fractions get formats of their own: Excel
# shows 12 as "12." under "#,##0.##", and no single format both groups thousands and drops
# the decimals of a whole number.
WHOLE, FRACTION, PERCENT = "#,##0", "#,##0.0##", "0.0%"
DOLLARS, CENTS = '"$"#,##0', '"$"#,##0.00'
PLAIN_UNIT, PERCENT_UNIT, DOLLARS_UNIT = 0, 1, 2   # how a measure's unit shows its values
NUMBER_FORMATS = {"integer": "0", "dollars": DOLLARS, "date": "yyyy-mm-dd"}
FRACTIONAL_TYPES = ("number", "measure")

SUMMARY_HEADER = ["Agency Code", "Agency Name", "Fiscal Year", "Stage", "Services", "Measures",
                  "Key Measures", "Missing Targets", "Errors", "Warnings", "Template Version",
                  "Submission Date", "Source File", "Status"]
FINDINGS_HEADER = ["Agency", "Source File", "Location", "Severity", "Code", "Measure ID",
                   "Column", "Value", "Message", "How to Fix"]
SUBMISSION = "Submission"   # Findings: Accepted / Superseded / Unreadable (not read back)
SOURCES_HEADER = ["File", "SHA-256", "Size (bytes)", "Agency", "Fiscal Year", "Stage",
                  "Template Version", "Submission Date", "Result", "Superseded By", "Reason"]
CHANGES_HEADER = ["Agency", "Measure ID", "Field", "Old", "New", "Source File"]
TOTAL = "Total"   # Summary's last row, under its table
LINE_HEIGHT = 15  # points a line of 11-point text takes


def number_format(ctype: str | None, value=None, unit: int = PLAIN_UNIT) -> str | None:
    """The format a value of a column of type `ctype` is shown with (None: as it is); a
    measure's value also by its unit (PERCENT_UNIT, DOLLARS_UNIT)."""
    if unit == PERCENT_UNIT and ctype == "measure":
        return PERCENT
    if unit == DOLLARS_UNIT and ctype == "measure":
        return CENTS if is_fraction(value) else DOLLARS
    if ctype in FRACTIONAL_TYPES:
        return FRACTION if is_fraction(value) else WHOLE
    return NUMBER_FORMATS.get(ctype)


def is_fraction(value) -> bool:
    return type(value) is float and math.isfinite(value) and not value.is_integer()


def write_row(ws, row: int, values: list) -> None:
    """Write `values` on `row`; text is always text (openpyxl would store '=...' from a
    submission as a formula). Callers count rows: ws.max_row scans every cell."""
    for c, value in enumerate(values, start=1):
        cell = ws.cell(row, c, value)
        if cell.data_type == "f":
            cell.data_type = "s"


def header(ws, labels: list[str], widths: list[int] | None = None, row: int = 1,
           freeze: str | None = None) -> None:
    """The header row: wrapped, each column at least as wide as the longest word of its label,
    and tall enough for the lines the labels wrap to (Excel does not grow it by itself)."""
    lines = 1
    for c, label in enumerate(labels, start=1):
        cell = ws.cell(row, c, label)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = widths[c - 1] if widths else max(10, min(40, len(label) + 4))
        width = max(width, max(len(word) for word in label.split()) + 2)
        ws.column_dimensions[get_column_letter(c)].width = width
        lines = max(lines, wrapped_lines(label, width - 2))
    ws.row_dimensions[row].height = LINE_HEIGHT * lines
    ws.freeze_panes = freeze or f"A{row + 1}"


def wrapped_lines(text: str, width: int) -> int:
    """How many lines `text` takes wrapped at word boundaries to `width` characters."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines


def table(ws, name: str, width: int, rows: int, header_row: int = 1) -> None:
    ref = f"A{header_row}:{get_column_letter(width)}{header_row + max(rows, 1)}"
    t = Table(displayName=name, ref=ref)
    t.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    # Name the columns from the header row here: openpyxl would otherwise create every cell of
    # the table's range to find them (~50,000 for a city's Measures sheet, half a second).
    t._initialise_columns()
    for column, cell in zip(t.tableColumns, ws[header_row]):
        column.name = str(cell.value)
    ws.add_table(t)


def plain_value(v):
    """A plan value as the consolidated workbook holds it."""
    kind = type(v)   # the common kinds first
    if kind is str:
        return v if len(v) <= MAX_CELL_TEXT else cell_text(v)
    if v is None or kind is float or kind is int:
        return v
    if isinstance(v, CellError):
        return v.text or f"={v.formula}"  # written as text by bigsheet
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return cell_text(v)   # a submission's over-long cell, cut to what a cell may hold


_KEPT = {str, int, float, bool, NoneType}   # what plain_value keeps as it is (text: if short)


def plain_values(values: list) -> list:
    """plain_value of each of a column's values: the column itself when none changes, as in a
    plan of text within a cell's limit, numbers and blanks."""
    kinds = set(map(type, values))
    texts = (values if kinds == {str} else
             [v for v in values if type(v) is str] if str in kinds else [])
    if kinds <= _KEPT and max(map(len, texts), default=0) <= MAX_CELL_TEXT:
        return values
    return [plain_value(v) for v in values]
