"""Annotating: a copy of the plan workbook with every finding marked where it is.

Cells with an error turn red, cells with a warning amber; each marked cell gets a note listing
its findings and how to fix them. A "Validation" sheet, placed first, lists every finding with a
link to its cell. The source workbook is never modified: the copy is written with
output.save_workbook (atomic, deterministic).

Annotating an annotated copy gives the same marks, not doubled ones: our earlier notes, fills
and Validation sheet are removed first, and an agency's own note on a cell is kept.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.hyperlink import Hyperlink

from ..errors import RefusedInput
from ..findings import Report
from ..read.xlsx import finite_or_text
from ..safetext import cell_text
from .atomic import save_workbook
from .printing import set_up_printing
from .marks import (COLUMNS, FILLS, HEADER_FILL, HEADER_ROW, HEADER_TEXT, NO_FINDINGS, SHEET,
                    SUMMARY_ROW, TITLE_ROW, CellMark, Marks, marks)

AUTHOR = "planvalidator"
SEPARATOR = "---- planvalidator ----"   # between an agency's own note and ours
WIDTHS = (10, 14, 9, 26, 15, 80, 60)    # of the Validation sheet's columns, in characters

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True, color=HEADER_TEXT)
HEADER_PATTERN = PatternFill("solid", fgColor=HEADER_FILL)
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")

# openpyxl rewrites every cell of the copy (~0.1 ms a cell): a copy is made of sheets up to this
# much XML (a 400-measure plan has ~250 KB; 1 MB of the shortest cells is ~4 s), so annotating
# stays within seconds; a plan at the reader's row cap is refused in one sentence.
MAX_SHEET_XML = 2**20

# Note size in pixels (what openpyxl writes to the VML), for Excel's 9 pt Tahoma note font.
NOTE_MIN_WIDTH, NOTE_MAX_WIDTH = 220, 420
NOTE_CHAR_WIDTH, NOTE_LINE_HEIGHT, NOTE_PADDING = 6.5, 15, 14


def annotate_workbook(source: Path, report: Report, out: Path) -> None:
    """Write a copy of `source` with the findings marked; `source` is never modified."""
    source, out = Path(source), Path(out)
    if _same_file(source, out):
        raise RefusedInput(f"The annotated copy must be written to another file than {source.name}; "
                         f"choose a different output name.")
    _refuse_large(source)
    wb = _load(source)
    _remove_previous_annotation(wb)
    sheets = {ws.title: [(m.min_row, m.min_col, m.max_row, m.max_col)
                         for m in ws.merged_cells.ranges] for ws in wb.worksheets}
    found = marks(report, source.name, sheets)
    for mark in found.cells:
        _mark(wb[mark.sheet][mark.cell], mark)
    _validation_sheet(wb, found)
    save_workbook(wb, out)


def _load(source: Path):
    """The workbook as openpyxl reads it, which is stricter than the guarded read validate
    uses: what it refuses (raw control characters, NaN saved as a number) is refused in our
    words. A number that is no finite number is kept as its text, as validate read it."""
    try:
        wb = openpyxl.load_workbook(source, keep_vba=False)
    except OSError:
        raise
    except Exception:   # openpyxl's and its XML parser's errors, whatever their type
        raise RefusedInput(
            f"An annotated copy of {source.name} cannot be made: it holds characters or numbers "
            "that Excel never saves; save it again from Excel as an Excel Workbook (.xlsx) and "
            "annotate that copy.") from None
    for ws in wb.worksheets:
        for cell in getattr(ws, "_cells", {}).values():
            if type(cell.value) is float:
                cell.value = finite_or_text(cell.value)
    return wb


def _refuse_large(source: Path) -> None:
    """Refuse, before openpyxl reads it, a workbook whose sheets are too large to rewrite in
    seconds. The sizes are those the guarded read of validate checked while inflating."""
    with zipfile.ZipFile(source) as z:
        size = sum(i.file_size for i in z.infolist() if i.filename.startswith("xl/worksheets/"))
    if size > MAX_SHEET_XML:
        raise RefusedInput(
            f"{source.name} is too large to annotate ({size / 2**20:.1f} MB of sheets; an "
            f"annotated copy is made of plans up to {MAX_SHEET_XML / 2**20:.0f} MB): run "
            "validate without --annotate to list its findings.")


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)   # hard links, case-insensitive file systems
    except OSError:
        return False


# ---- marking cells ----------------------------------------------------------------------------

def _mark(cell, mark: CellMark) -> None:
    if mark.fill:
        cell.fill = PatternFill("solid", fgColor=mark.fill)
    ours = _clean(mark.note)
    earlier = cell.comment
    text = f"{earlier.text.rstrip()}\n{SEPARATOR}\n{ours}" if earlier and earlier.text.strip() else ours
    cell.comment = _note(text, AUTHOR)


def _note(text: str, author: str) -> Comment:
    """A note sized so its text shows without scrolling."""
    text = _clean(text)
    longest = max((len(line) for line in text.splitlines()), default=0)
    width = min(NOTE_MAX_WIDTH, max(NOTE_MIN_WIDTH, longest * NOTE_CHAR_WIDTH + NOTE_PADDING))
    per_line = max(1, int(0.9 * (width - NOTE_PADDING) / NOTE_CHAR_WIDTH))   # words wrap early
    lines = sum(max(1, math.ceil(len(line) / per_line)) for line in text.splitlines())
    height = lines * NOTE_LINE_HEIGHT + NOTE_PADDING
    return Comment(text, author, height=round(height), width=round(width))


def _remove_previous_annotation(wb) -> None:
    """Undo an earlier annotate_workbook: our notes and fills go, the agency's notes stay."""
    for name in [n for n in wb.sheetnames if n.casefold() == SHEET.casefold()]:
        wb.remove(wb[name])
    for ws in wb.worksheets:
        for cell in list(getattr(ws, "_cells", {}).values()):
            note = cell.comment
            if note is None:
                continue
            if f"\n{SEPARATOR}\n" in note.text:
                kept = note.text.split(f"\n{SEPARATOR}\n", 1)[0]
                cell.comment = _note(kept, note.author or "")
            elif note.author == AUTHOR:
                cell.comment = None
            else:
                continue
            fill = cell.fill
            if (fill.fill_type == "solid" and isinstance(fill.fgColor.rgb, str)
                    and fill.fgColor.rgb[-6:].upper() in FILLS.values()):
                cell.fill = PatternFill()


# ---- the Validation sheet ---------------------------------------------------------------------

def _validation_sheet(wb, found: Marks) -> None:
    ws = wb.create_sheet(SHEET, 0)
    ws.cell(TITLE_ROW, 1, _clean(found.title)).font = TITLE_FONT
    ws.cell(SUMMARY_ROW, 1, _clean(found.summary))
    for col, (label, width) in enumerate(zip(COLUMNS, WIDTHS), start=1):
        head = ws.cell(HEADER_ROW, col, label)
        head.font, head.fill, head.alignment = HEADER_FONT, HEADER_PATTERN, TOP
        ws.column_dimensions[get_column_letter(col)].width = width

    row = HEADER_ROW
    for row, line in enumerate(found.rows, start=HEADER_ROW + 1):
        for col, value in enumerate(line.values, start=1):
            _text(ws.cell(row, col), value).alignment = WRAP_TOP if col >= 6 else TOP
        if line.fill:
            ws.cell(row, 1).fill = PatternFill("solid", fgColor=line.fill)
        if line.target is not None:
            f = line.finding
            link = ws.cell(row, 3)
            link.hyperlink = Hyperlink(ref=link.coordinate,
                                       location=f"{quote_sheetname(f.sheet)}!{f.cell}")
            link.style = "Hyperlink"
            link.alignment = TOP
    if not found.rows:
        ws.cell(HEADER_ROW + 1, 1, NO_FINDINGS)

    last = get_column_letter(len(COLUMNS))
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{max(row, HEADER_ROW + 1)}"
    set_up_printing(ws, found.title)

    for other in wb.worksheets:   # only one selected tab, or Excel opens with the sheets grouped
        other.sheet_view.tabSelected = other is ws
    wb.active = 0
    if wb.views:
        wb.views[0].firstSheet = 0


def _text(cell, value: str):
    """Write text as shown: text that starts with '=' stays text, never a formula."""
    if value:
        cell.value = _clean(str(value))
        cell.data_type = "s"
    return cell


def _clean(text: str) -> str:
    """Without the control characters that an .xlsx file cannot hold, and no longer than a
    cell may be."""
    return cell_text(ILLEGAL_CHARACTERS_RE.sub("", text))
