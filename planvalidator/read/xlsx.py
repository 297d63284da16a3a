"""Reading .xlsx workbooks safely: every submission is untrusted.

`read_xlsx` returns cell values for the sheets asked for and raises `UnreadableWorkbook`, with a
message written for an agency analyst, for anything that is not a safe, plausible plan workbook.

Values come from python-calamine (fast), but calamine aborts the whole process, uncatchably, on
some inputs: a sheet whose cells span a huge range (A1 and XFD1048576 in a 2 KB file), a zip
bomb, or a shared-strings part that announces billions of strings. So the file is checked
first, with limits on everything that costs memory or time:

1. The header: an OLE file is an encrypted workbook or a legacy .xls; anything else that is not
   a zip is not a workbook. The file size is capped.
2. The zip directory is parsed here, strictly (no zip64, no overlapping or duplicate members,
   deflate or stored only), and every member is inflated here while counting the bytes, since
   declared sizes can lie: the total and the compression ratio are capped.
3. Macro-enabled workbooks, binary workbooks, XML with a DOCTYPE, and workbooks with too many
   sheets are refused. Part names are resolved the way calamine resolves them.
4. Each sheet asked for is scanned for its real used range, from the cell references (not the
   `<dimension>` element, which can lie), and refused when it exceeds the caps. The same scan
   finds error cells and formulas with no saved value, which calamine returns as ''. For what
   Excel, LibreOffice and openpyxl write, a few regex searches prove the range is within the
   caps; anything unusual is parsed with expat, following calamine's own rules for placing
   cells (the last r attribute, or counting when there is none; cells without content are
   dropped).

Only then does calamine see the bytes, the very bytes that were checked (not the path again).

The parts, by job: zipguard.py (1-3), sheetscan.py (4), calamine.py (the values). They share
the limits, the errors and the messages defined here.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Iterable

from ..a1 import address

from ..errors import UnreadableWorkbook
from ..safetext import MAX_CELL_TEXT   # one limit for both doors, and for what we write

__all__ = ["CellError", "Limits", "OUTPUT", "PLAN", "SheetValues", "UnreadableWorkbook",
           "read_book", "read_xlsx", "finite_or_text", "MAX_CELL_TEXT"]

# Limits. A plan workbook is ~50 KB, a consolidated citywide one a few MB.
MAX_FILE_BYTES = 20 * 2**20
MAX_MEMBERS = 10_000            # zip members (parts)
MAX_INFLATED_BYTES = 100 * 2**20  # all parts together, counted while inflating
MAX_RATIO = 100                 # inflated : compressed, for members larger than RATIO_FLOOR
RATIO_FLOOR = 2**20
MAX_SHEETS = 250
MAX_ROWS = 20_000               # per sheet, from the real used range
MAX_COLUMNS = 200
MAX_CELLS = 4_000_000           # rows x columns, summed over the sheets returned
MAX_SHARED_STRINGS = 1_000_000  # the announced count calamine reserves memory for
MAX_ERROR_CELLS = 100_000       # error cells and formulas without a saved value, per sheet
MAX_EXACT_SCAN_BYTES = 25 * 2**20  # sheet XML too unusual for the quick scan is parsed, slowly
SHARED_STRINGS = "xl/sharedStrings.xml"   # where Excel and LibreOffice put them


@dataclass(frozen=True)
class Limits:
    """The caps that depend on whose workbook it is (the others hold for every file)."""

    file_bytes: int = MAX_FILE_BYTES
    inflated_bytes: int = MAX_INFLATED_BYTES
    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cells: int = MAX_CELLS
    shared_strings: int = MAX_SHARED_STRINGS
    exact_scan_bytes: int = MAX_EXACT_SCAN_BYTES


PLAN = Limits()   # an agency's plan workbook
# The office's own outputs (the consolidated plan): sized for Excel's own row limit, far beyond
# a city of 60 agencies x 400 measures and their findings (a 20,790-measure consolidated plan
# measured 1.4 MB, 20 MB inflated); still read by the same guarded path.
OUTPUT = Limits(file_bytes=200 * 2**20, inflated_bytes=2 * 2**30, rows=1_048_576,
                cells=16_000_000, shared_strings=8_000_000, exact_scan_bytes=512 * 2**20)


@dataclass
class SheetValues:
    """What read_book returns: every sheet name in workbook order, the values of the sheets
    asked for, and which sheets are hidden ("hidden" or "veryHidden")."""

    names: list[str]
    sheets: dict[str, list[list]]
    hidden: dict[str, str]


@dataclass(frozen=True)
class CellError:
    """A cell that shows an error in Excel, or a formula with no saved value."""

    text: str          # the error as Excel shows it: "#DIV/0!", "#N/A", ...; "" when a formula has no saved value
    formula: str = ""  # the formula text without "=", when the cell had one


def finite_or_text(value):
    """A cell's value as every later step may take it: the one place, for the .xlsx reader and
    the add-in's payload alike, that decides what is a number. A float that is not finite (a
    saved <v>NaN</v> or <v>inf</v>, 1e309, JSON's 1e999) is no number any output can hold, so
    it becomes the text it stands for, which the rules then report as not-a-number or
    not-a-date at its cell."""
    if type(value) is float and not math.isfinite(value):
        return "NaN" if value != value else ("-inf" if value < 0 else "inf")
    return value


def read_xlsx(path, wanted: Iterable[str] | None = None,
              limits: Limits = PLAN) -> tuple[list[str], dict[str, list[list]]]:
    """(names, sheets) of read_book."""
    book = read_book(path, wanted, limits)
    return book.names, book.sheets


def read_book(path, wanted: Iterable[str] | None = None, limits: Limits = PLAN) -> SheetValues:
    """Return (all sheet names in workbook order, {sheet name: rows}) for the sheets whose names
    match `wanted` (compared with name.strip().casefold(); None = all sheets). rows is a list of
    rows, each a list of cell values: None for an empty cell, str, int/float, bool,
    datetime.datetime/date/time (datetime.timedelta for a duration format), or CellError.
    rows[r][c] is the cell at row r+1, column c+1; rows are padded to the same length.
    Trailing empty rows/columns may be dropped.
    Raises UnreadableWorkbook for anything that is not a safe, plausible plan workbook."""
    # The parts import the limits and errors from this module, so they are imported here.
    from .calamine import long_shared, odd_cells, read_values
    from .sheetscan import Beyond, TooMuch, scan_sheet
    from .zipguard import Book, check_header, read_file, read_zip_directory

    fname = os.path.basename(os.fspath(path)) or "The file"
    data = read_file(path, fname, limits)
    check_header(data, fname)
    members = read_zip_directory(data, fname)
    book = Book(data, members, fname, limits)
    names, parts = book.structure()
    if wanted is None:
        chosen = list(names)
    else:
        if isinstance(wanted, str):
            wanted = [wanted]
        keys = {w.strip().casefold() for w in wanted}
        chosen = [n for n in names if n.strip().casefold() in keys]
    strings = {SHARED_STRINGS} if book.find(SHARED_STRINGS) else set()
    sheet_xml = book.inflate_all(keep={parts[n] for n in chosen} | strings)

    scans = {}
    for n in chosen:
        try:
            scans[n] = scan_sheet(sheet_xml[parts[n]], fname, limits)
        except Beyond as far:
            row, col = far.args   # 0-based
            raise UnreadableWorkbook(
                f"Sheet '{n}' in {fname} has a cell at {address(row + 1, col + 1)}, beyond what a "
                f"plan sheet may use ({limits.rows:,} rows and {limits.columns} columns); delete the rows "
                "and columns below and to the right of the plan, save and try again.") from None
        except TooMuch:
            raise UnreadableWorkbook(
                f"Sheet '{n}' in {fname} holds far more than a plan sheet (huge or with very many "
                "formulas that have no saved value); send the plan as an Excel Workbook (.xlsx) "
                "saved from Excel.") from None
    shared = long_shared(sheet_xml.pop(SHARED_STRINGS, b""))
    odd = {n: odd_cells(sheet_xml[parts[n]], shared) for n in chosen}
    return SheetValues(names, read_values(data, fname, names, scans, limits, odd), book.hidden)


# ---------------------------------------------------------------------------------------------
# Messages

def damaged(fname: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"{fname} is damaged or incomplete and cannot be opened; "
        "save it again from Excel as an Excel Workbook (.xlsx) and try again.")


def not_excel(fname: str, what: str = "") -> UnreadableWorkbook:
    what = what or "not an Excel workbook"
    return UnreadableWorkbook(
        f"{fname} is {what}; save the plan from Excel as an Excel Workbook (.xlsx) and try again.")


def too_big(fname: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"{fname} expands to far more data than a plan workbook holds, so it was not opened; "
        "save the plan from Excel as an Excel Workbook (.xlsx) and try again.")


def macros(fname: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"{fname} contains macros, which are not accepted; save it as an Excel Workbook (.xlsx), "
        "not a macro-enabled workbook (.xlsm), and try again.")
