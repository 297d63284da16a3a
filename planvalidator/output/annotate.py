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
from pathlib import Path

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.hyperlink import Hyperlink

from ..errors import RefusedInput
from ..findings import ERROR, INFO, SEVERITY_ORDER, WARNING, Finding, Report
from .atomic import save_workbook

SHEET = "Validation"
AUTHOR = "planvalidator"
SEPARATOR = "---- planvalidator ----"   # between an agency's own note and ours

FILLS = {ERROR: "FFC7CE", WARNING: "FFEB9C"}           # Excel's light red / light amber
SEVERITY_COLORS = {**FILLS, INFO: "DDEBF7"}              # the Severity column also shows notes
COLUMNS = (("Severity", 10), ("Sheet", 14), ("Cell", 9), ("Code", 26), ("Measure", 15),
           ("Message", 80), ("How to fix", 60))
TITLE_ROW, SUMMARY_ROW, HEADER_ROW = 1, 2, 4

TITLE_FONT = Font(bold=True, size=14)
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")

# Note size in pixels (what openpyxl writes to the VML), for Excel's 9 pt Tahoma note font.
NOTE_MIN_WIDTH, NOTE_MAX_WIDTH = 220, 420
NOTE_CHAR_WIDTH, NOTE_LINE_HEIGHT, NOTE_PADDING = 6.5, 15, 14


def annotate_workbook(source: Path, report: Report, out: Path) -> None:
    """Write a copy of `source` with the findings marked; `source` is never modified."""
    source, out = Path(source), Path(out)
    if _same_file(source, out):
        raise RefusedInput(f"The annotated copy must be written to another file than {source.name}; "
                         f"choose a different output name.")
    wb = openpyxl.load_workbook(source, keep_vba=False)
    _remove_previous_annotation(wb)

    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f in report.findings:
        target = _target(wb, f)
        if target is not None:
            by_cell.setdefault(target, []).append(f)
    for (sheet, coordinate), found in by_cell.items():
        _mark(wb[sheet][coordinate], found)

    _validation_sheet(wb, report, source.name)
    save_workbook(wb, out)


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)   # hard links, case-insensitive file systems
    except OSError:
        return False


# ---- marking cells ----------------------------------------------------------------------------

def _target(wb, f: Finding) -> tuple[str, str] | None:
    """(sheet, coordinate) of the cell that carries the finding's mark, or None (listed only)."""
    if not f.cell or f.sheet not in wb.sheetnames:
        return None
    ws = wb[f.sheet]
    if not hasattr(ws, "merged_cells"):   # a chart sheet
        return None
    try:
        min_col, min_row, _, _ = range_boundaries(f.cell)
    except (ValueError, TypeError):
        return None
    if min_col is None or min_row is None:   # a whole row or column
        return None
    cell = ws.cell(min_row, min_col)
    if isinstance(cell, MergedCell):   # the note and fill go on the merged block's first cell
        for merged in ws.merged_cells.ranges:
            if cell.coordinate in merged:
                return f.sheet, f"{get_column_letter(merged.min_col)}{merged.min_row}"
    return f.sheet, cell.coordinate


def _mark(cell, found: list[Finding]) -> None:
    worst = min((f.severity for f in found), key=lambda s: SEVERITY_ORDER.get(s, 9))
    if worst in FILLS:
        cell.fill = PatternFill("solid", fgColor=FILLS[worst])
    ours = "\n\n".join(_clean(f"[{f.severity}] {f.message}\nFix: {f.hint}") for f in found)
    earlier = cell.comment
    text = f"{earlier.text.rstrip()}\n{SEPARATOR}\n{ours}" if earlier and earlier.text.strip() else ours
    cell.comment = _note(text, AUTHOR)


def _note(text: str, author: str) -> Comment:
    """A note sized so its text shows without scrolling."""
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

def _validation_sheet(wb, report: Report, file_name: str) -> None:
    ws = wb.create_sheet(SHEET, 0)
    ws["A1"] = _clean(f"Validation of {file_name}")
    ws["A1"].font = TITLE_FONT
    ws["A2"] = _summary(report)
    for col, (label, width) in enumerate(COLUMNS, start=1):
        head = ws.cell(HEADER_ROW, col, label)
        head.font, head.fill, head.alignment = HEADER_FONT, HEADER_FILL, TOP
        ws.column_dimensions[get_column_letter(col)].width = width

    row = HEADER_ROW
    for row, f in enumerate(report.findings, start=HEADER_ROW + 1):
        values = (f.severity, f.sheet, f.cell, f.code, f.measure_id, f.message, f.hint)
        for col, value in enumerate(values, start=1):
            _text(ws.cell(row, col), value).alignment = WRAP_TOP if col >= 6 else TOP
        if f.severity in SEVERITY_COLORS:
            ws.cell(row, 1).fill = PatternFill("solid", fgColor=SEVERITY_COLORS[f.severity])
        if _target(wb, f) is not None:
            link = ws.cell(row, 3)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=_location(f))
            link.style = "Hyperlink"
            link.alignment = TOP
    if not report.findings:
        ws.cell(HEADER_ROW + 1, 1, "No findings: the plan passed every check.")

    last = get_column_letter(len(COLUMNS))
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{max(row, HEADER_ROW + 1)}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    for other in wb.worksheets:   # only one selected tab, or Excel opens with the sheets grouped
        other.sheet_view.tabSelected = other is ws
    wb.active = 0
    if wb.views:
        wb.views[0].firstSheet = 0


def _summary(report: Report) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'' if count == 1 else 's'}"
    counts = (f"{n(report.errors, 'error')}, {n(report.warnings, 'warning')}, "
              f"{n(report.count(INFO), 'note')}")
    about = [f"Agency {report.agency}" if report.agency else "",
             f"FY{report.fiscal_year}" if report.fiscal_year else "",
             f"stage {report.stage}" if report.stage else ""]
    about = [a for a in about if a]
    return _clean(f"{counts}." + (f" ({', '.join(about)})" if about else ""))


def _location(f: Finding) -> str:
    return f"{quote_sheetname(f.sheet)}!{f.cell}"


def _text(cell, value: str):
    """Write text as shown: text that starts with '=' stays text, never a formula."""
    if value:
        cell.value = _clean(str(value))
        cell.data_type = "s"
    return cell


def _clean(text: str) -> str:
    """Without the control characters that an .xlsx file cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", text)
