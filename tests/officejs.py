"""What xlwings' Office.js client sends for a workbook, built from an .xlsx file.

`payload(path, include=...)` reproduces `getBookData` in xlwings-server's client
(xlwings_server/static/js/custom-scripts/index.js, 1.20) for a workbook opened in Excel:

- every worksheet is listed, in workbook order, with its visibility; sheets not in `include`
  carry `"values": [[]]` and no used range;
- an included sheet carries Office.js `Range.values` of A1 through the last cell of its
  values-only used range (`getUsedRangeOrNullObject(true)`): empty cells as "", numbers as
  JSON numbers (JavaScript writes 2028, not 2028.0), text, booleans, error values as their text;
- a number with a date or time format goes through `convertDateValues`:
  `new Date(Math.round((serial - 25569) * 86400 * 1000)).toISOString()`;
- notes are listed by address only (ExcelApi 1.18), and the request carries the token in the
  Authorization header (`runPython({auth})`).

It reads the file with openpyxl, a different reader from the one the validator uses (calamine),
so a test that compares the two paths does not compare a reader with itself.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter

XLWINGS_VERSION = "0.37.8"     # settings.xlwings_version: the installed xlwings
VISIBILITY = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}
EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def _iso(moment: dt.datetime) -> str:
    """Date.toISOString() of the serial Excel stores for `moment` (millisecond precision)."""
    serial = (moment - EXCEL_EPOCH) / dt.timedelta(days=1)
    ms = round((serial - 25569) * 86400 * 1000)
    stamp = dt.datetime(1970, 1, 1) + dt.timedelta(milliseconds=ms)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def office_value(value):
    """One cell as Office.js Range.values (after convertDateValues) holds it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return _iso(value)
    if isinstance(value, dt.date):
        return _iso(dt.datetime.combine(value, dt.time()))
    if isinstance(value, dt.time):
        return _iso(dt.datetime.combine(EXCEL_EPOCH.date(), value))
    if isinstance(value, dt.timedelta):
        return _iso(EXCEL_EPOCH + value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)   # JSON.stringify(2028) is "2028"
    return value


def sheet_entry(ws, included: bool) -> dict:
    cells = [(c.row, c.column) for row in ws.iter_rows() for c in row if c.value is not None]
    entry = {
        "name": ws.title,
        "visibility": VISIBILITY[ws.sheet_state],
        "show_gridlines": bool(ws.sheet_view.showGridLines),
        "print_area": None,
        "notes": [],
        "notes_supported": True,
        "used_range_address": None,
        "used_range_row_count": 0,
        "used_range_column_count": 0,
        "values": [[]],
        "pictures": [],
        "shapes": [],
        "charts": [],
        "tables": [],
        "pivot_tables": [],
    }
    if not included:
        return entry
    entry["notes"] = [{"address": c.coordinate} for row in ws.iter_rows() for c in row
                      if c.comment is not None]
    if not cells:
        entry["values"] = [[""]]   # an empty sheet: the values of A1
        return entry
    top, left = min(r for r, _ in cells), min(c for _, c in cells)
    bottom, right = max(r for r, _ in cells), max(c for _, c in cells)
    first, last = f"{get_column_letter(left)}{top}", f"{get_column_letter(right)}{bottom}"
    entry["used_range_address"] = first if first == last else f"{first}:{last}"
    entry["used_range_row_count"] = bottom - top + 1
    entry["used_range_column_count"] = right - left + 1
    entry["values"] = [[office_value(ws.cell(r, c).value) for c in range(1, right + 1)]
                       for r in range(1, bottom + 1)]
    return entry


def payload(path, include=None, *, values=None) -> dict:
    """The JSON body that runPython posts for the workbook at `path`. `include` is the list of
    sheet names to send (None: all). `values` replaces cells first: {(sheet, "A1"): value}."""
    path = Path(path)
    wb = openpyxl.load_workbook(path, data_only=True)
    for (sheet, address), value in (values or {}).items():
        wb[sheet][address].value = value
    return {
        "client": "Office.js",
        "version": XLWINGS_VERSION,
        "book": {"name": path.name, "active_sheet_index": wb.index(wb.active),
                 "selection": "A1", "calculation": "Automatic"},
        "sheets": [sheet_entry(ws, include is None or ws.title in include) for ws in wb.worksheets],
        "names": [],
    }


def body(path, include=None, **kw) -> bytes:
    return json.dumps(payload(path, include, **kw), allow_nan=False).encode("utf-8")
