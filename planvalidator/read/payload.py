"""The Excel add-in's payload → "sheet name → rows", the input of the one reading core.

xlwings' Office.js client (and its VBA client, RunRemotePython) sends the workbook as JSON:

    {"client": "Office.js", "version": "0.37.8",
     "book": {"name": "plan.xlsx", "active_sheet_index": 0, "selection": "A1", ...},
     "names": [...],
     "sheets": [{"name": "Measures", "values": [[...], ...], "notes": [{"address": "B4"}],
                 "notes_supported": true, "used_range_address": "A1:U13", ...}, ...]}

Every sheet of the workbook is listed; only the sheets the client was told to `include` carry
their values (the others have `"values": [[]]`). `values` is Office.js' `Range.values` of
A1 through the last cell holding a value, so `values[r][c]` is the cell at row r+1, column
c+1 — the same layout as the .xlsx reader's rows. Office.js encodes cells as:

- an empty cell as ``""``;
- a number as a JSON number, text as a string, TRUE/FALSE as a boolean;
- an error value as its text (``"#DIV/0!"``, ``"#N/A"``, ...);
- a number shown with a date or time format as the ISO text that JavaScript's
  ``Date.toISOString()`` gives for it, always ``YYYY-MM-DDTHH:MM:SS.sssZ``.

xlwings turns such strings back into values only when a range is read (``rng.value``), and its
pattern is wider than what the client writes: a text cell that merely looks like an ISO date
without the ``Z`` (``2027-08-15T10:00:00``) makes that read raise. So the add-in never reads
ranges: it takes the raw values from the payload and converts exactly what the client
produces, the way the .xlsx reader reports the same cells (dates at midnight as dates, error
values as CellError, empty cells as None). Text that only resembles a date stays text.

Two things can't be told apart in a payload, where the .xlsx reader can: a text cell typed as
``#N/A`` reads as an error, and a text cell typed exactly like ``2027-08-15T00:00:00.000Z``
reads as a date. Neither occurs in a filled-in plan.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from itertools import chain

from ..errors import PayloadError
from .xlsx import MAX_CELL_TEXT, MAX_COLUMNS, MAX_ROWS, MAX_SHEETS, CellError, finite_or_text

__all__ = ["PayloadError", "ERROR_VALUES", "cell_value", "sheet_rows", "plan_sheets",
           "hidden_sheets", "check_payload", "Limits"]

# What Office.js and the VBA client send for an error value (Excel's error literals).
ERROR_VALUES = frozenset({
    "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
    "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#UNKNOWN!", "#BUSY!",
    "#EXTERNAL!", "#PYTHON!", "#DATA!",
})

# Exactly what Date.toISOString() writes (and the VBA client's "yyyy-mm-ddTHH:mm:ss.000Z").
_CLIENT_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z")
_EXCEL_EPOCH = dt.date(1899, 12, 30)   # serial 0: a time of day without a date


class Limits:
    """Bounds on a payload, checked before anything else looks at it: by default the file
    reader's (xlsx.py) for sheets, rows and columns, so both doors take the same workbooks;
    fewer cells, since a payload arrives as JSON held whole in memory."""

    def __init__(self, max_sheets: int = MAX_SHEETS, max_rows: int = MAX_ROWS,
                 max_columns: int = MAX_COLUMNS, max_cells: int = 1_000_000,
                 max_text: int = MAX_CELL_TEXT):
        self.max_sheets = max_sheets
        self.max_rows = max_rows
        self.max_columns = max_columns
        self.max_cells = max_cells
        self.max_text = max_text


def cell_value(value):
    """One cell as the client sent it → the value the .xlsx reader gives for that cell
    (numbers as floats, as calamine gives them)."""
    kind = type(value)   # the common cases first: plain text and finite numbers
    if kind is str and value and not value[0].isdigit() and value[0] != "#":
        return value
    if kind is float and math.isfinite(value):
        return value
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:   # an integer past float's range (309 digits) is infinite
            return finite_or_text(math.inf if value > 0 else -math.inf)
    if isinstance(value, float):
        return finite_or_text(value)   # JSON's 1e999 parses as inf
    if isinstance(value, str):
        if value in ERROR_VALUES:
            return CellError(value)
        m = _CLIENT_DATE.fullmatch(value)
        if m:
            try:
                stamp = dt.datetime(*(int(g) for g in m.groups()[:6]),
                                    microsecond=int(m.group(7)) * 1000)
            except ValueError:
                return value   # 2027-02-30T...: not a date the client could have written
            if stamp.date() == _EXCEL_EPOCH:
                return stamp.time()
            if stamp.time() == dt.time():
                return stamp.date()
            return stamp
    return value


def sheet_rows(values: list) -> list[list]:
    """A sheet's `values` matrix → rows of cell values (an empty sheet → [])."""
    rows = [[cell_value(v) for v in row] for row in values]
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    return rows


def plan_sheets(api: dict, wanted) -> tuple[list[str], dict[str, list[list]]]:
    """(all sheet names in workbook order, {name: rows}) for the sheets whose names match
    `wanted` (compared with name.strip().casefold()) — the same shape as xlsx.read_xlsx
    returns, so the result goes straight into read.plan.read_plan. The client must have been
    told to include these sheets (the add-in's ribbon and task pane do); an excluded sheet
    arrives as `[[]]`, which reads as an empty sheet."""
    keys = {w.strip().casefold() for w in wanted}
    names = [s["name"] for s in api["sheets"]]
    sheets = {s["name"]: sheet_rows(s["values"]) for s in api["sheets"]
              if s["name"].strip().casefold() in keys}
    return names, sheets


def hidden_sheets(api: dict) -> dict[str, str]:
    """Sheet name → "hidden" or "veryHidden" for each sheet Excel does not show (Office.js'
    `Worksheet.visibility`; a client that sends none, like the VBA one, shows every sheet) —
    what xlsx.read_book gives for a file, for read.plan.read_plan."""
    states = {"hidden": "hidden", "veryhidden": "veryHidden"}
    return {s["name"]: states[v.casefold()] for s in api["sheets"]
            if isinstance(v := s.get("visibility"), str) and v.casefold() in states}


# ---- the shape of a request, checked once at the door ------------------------------------------

_SCALARS = frozenset({str, int, float, bool, type(None)})


def check_payload(data, limits: Limits) -> dict:
    """Check that `data` (parsed JSON) is a workbook as the add-in sends it, within `limits`.
    Returns it; raises PayloadError with a plain sentence otherwise."""
    if not isinstance(data, dict):
        raise PayloadError("The request is not a workbook sent by the Excel add-in.")
    for key, kind in (("client", str), ("book", dict), ("sheets", list)):
        if not isinstance(data.get(key), kind):
            raise PayloadError(f"The request is not a workbook sent by the Excel add-in "
                               f"('{key}' is missing or wrong).")
    book = data["book"]
    if not isinstance(book.get("name"), str) or not isinstance(book.get("active_sheet_index"), int):
        raise PayloadError("The request is not a workbook sent by the Excel add-in "
                           "(its workbook name or active sheet is missing).")
    if not isinstance(data.get("names", []), list):
        raise PayloadError("The request is not a workbook sent by the Excel add-in "
                           "('names' is wrong).")
    data.setdefault("names", [])
    data.setdefault("version", "")
    sheets = data["sheets"]
    if not sheets:
        raise PayloadError("The workbook sent has no sheets.")
    if len(sheets) > limits.max_sheets:
        raise PayloadError(f"The workbook has {len(sheets):,} sheets, more than a plan workbook "
                           f"may have ({limits.max_sheets}).")
    if not 0 <= book["active_sheet_index"] < len(sheets):
        raise PayloadError("The request is not a workbook sent by the Excel add-in "
                           "(its active sheet does not exist).")
    cells = 0
    for sheet in sheets:
        if not isinstance(sheet, dict) or not isinstance(sheet.get("name"), str):
            raise PayloadError("The request is not a workbook sent by the Excel add-in "
                               "(a sheet has no name).")
        name = sheet["name"]
        values = sheet.get("values")
        if not isinstance(values, list) or not set(map(type, values)) <= {list}:
            raise PayloadError(f"The values of sheet '{name[:40]}' are not a table of cells.")
        if len(values) > limits.max_rows or max(map(len, values), default=0) > limits.max_columns:
            raise PayloadError(
                f"Sheet '{name[:40]}' uses more than {limits.max_rows:,} rows or "
                f"{limits.max_columns} columns, more than a plan sheet may use; delete the "
                "unused rows and columns and try again.")
        cells += sum(map(len, values)) + values.count([])   # an empty row costs memory too
        if cells > limits.max_cells:
            raise PayloadError(f"The workbook holds more than {limits.max_cells:,} cells, far "
                               "more than a plan workbook; send the plan sheets only.")
        # each check one pass over the sheet's cells in C: this runs for every request
        flat = list(chain.from_iterable(values))
        kinds = set(map(type, flat))   # json.loads gives these exact types, no subclasses
        if not kinds <= _SCALARS:
            raise PayloadError(f"Sheet '{name[:40]}' holds a cell that is not a value.")
        if str in kinds and max(map(len, filter(str.__instancecheck__, flat))) > limits.max_text:
            raise PayloadError(f"Sheet '{name[:40]}' holds a cell with more text than "
                               "Excel allows in a cell.")
        notes = sheet.get("notes", [])
        if notes is None:
            sheet["notes"] = notes = []
        if not isinstance(notes, list) or not all(
                isinstance(n, dict) and isinstance(n.get("address"), str) for n in notes):
            raise PayloadError(f"The notes of sheet '{name[:40]}' are not a list of cells.")
        for key, default in (("pictures", []), ("shapes", []), ("charts", []), ("tables", []),
                             ("print_area", None)):
            sheet.setdefault(key, default)
        for key in ("pictures", "shapes", "charts", "tables"):
            if not isinstance(sheet[key], list):
                raise PayloadError(f"The request is not a workbook sent by the Excel add-in "
                                   f"('{key}' of sheet '{name[:40]}' is wrong).")
    return data
