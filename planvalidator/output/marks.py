"""The marks of a report: which cells get which fill and note, and the rows of the Validation
sheet, computed once here and rendered twice: into a copy of the workbook by openpyxl
(annotate.py, `validate --annotate`) and as xlwings actions by the Excel add-in (addin/scripts.py).

Texts are as the findings say them; each renderer makes them safe for its medium (an .xlsx file
can't hold control characters; Excel reads a leading = as a formula).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..a1 import address, first_cell
from ..findings import ERROR, INFO, SEVERITY_ORDER, WARNING, Finding, Report

SHEET = "Validation"
FILLS = {ERROR: "FFC7CE", WARNING: "FFEB9C"}           # Excel's light red / light amber
SEVERITY_FILLS = {**FILLS, INFO: "DDEBF7"}              # the Severity column also shows info
HEADER_FILL, HEADER_TEXT = "1F4E78", "FFFFFF"         # the header row: fill and text colours
COLUMNS = ("Severity", "Sheet", "Cell", "Code", "Measure", "Message", "How to fix")
TITLE_ROW, SUMMARY_ROW, HEADER_ROW = 1, 2, 4
NO_FINDINGS = "No findings: the plan passed every check."
# The first line of every note we write: how a note is known to be ours without the Validation
# sheet's record (the sheet deleted, or never written because a later step failed).
NOTE_MARK = "Performance Plan check (planvalidator):"

# A merged block, as (min_row, min_col, max_row, max_col): its first cell carries the mark.
Merged = tuple[int, int, int, int]


@dataclass(frozen=True)
class CellMark:
    sheet: str
    cell: str      # A1, no $
    fill: str      # RRGGBB of the worst finding's severity; "" when it has none (notes only)
    note: str      # each finding on the cell and how to fix it


@dataclass(frozen=True)
class Row:
    """One finding on the Validation sheet."""
    finding: Finding
    fill: str                         # the Severity cell's RRGGBB ("" none)
    target: tuple[str, str] | None    # (sheet, cell) of its mark, which the Cell column links to

    @property
    def values(self) -> tuple[str, ...]:
        f = self.finding
        return (f.severity, f.sheet, f.cell, f.code, f.measure_id, f.message, f.hint)


@dataclass(frozen=True)
class Marks:
    title: str
    summary: str
    cells: list[CellMark]
    rows: list[Row]


def marks(report: Report, file_name: str, sheets: Mapping[str, Sequence[Merged]]) -> Marks:
    """The marks of `report` on a workbook named `file_name` whose worksheets are `sheets`
    (name → its merged blocks). A finding on no cell, or on a sheet not there, is listed only."""
    targets = [_target(f, sheets) for f in report.findings]
    by_cell: dict[tuple[str, str], list[Finding]] = {}
    for f, target in zip(report.findings, targets):
        if target is not None:
            by_cell.setdefault(target, []).append(f)
    cells = [CellMark(sheet, cell, FILLS.get(_worst(found), ""), _note(found))
             for (sheet, cell), found in by_cell.items()]
    rows = [Row(f, SEVERITY_FILLS.get(f.severity, ""), target)
            for f, target in zip(report.findings, targets)]
    return Marks(f"Validation of {file_name}", summary(report), cells, rows)


def summary(report: Report) -> str:
    """'2 errors, 1 warning, 0 info findings. (Agency DOT, FY2028, stage plan)'"""
    about = ", ".join(a for a in (f"Agency {report.agency}" if report.agency else "",
                                  f"FY{report.fiscal_year}" if report.fiscal_year else "",
                                  f"stage {report.stage}" if report.stage else "") if a)
    return (f"{plural(report.errors, 'error')}, {plural(report.warnings, 'warning')}, "
            f"{plural(report.count(INFO), 'info finding')}." + (f" ({about})" if about else ""))


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _target(f: Finding, sheets: Mapping[str, Sequence[Merged]]) -> tuple[str, str] | None:
    if not f.cell or f.sheet not in sheets:
        return None
    first = first_cell(f.cell)
    if first is None:
        return None
    row, col = first
    for min_row, min_col, max_row, max_col in sheets[f.sheet]:
        if min_row <= row <= max_row and min_col <= col <= max_col:
            row, col = min_row, min_col
            break
    return f.sheet, address(row, col)


def _worst(found: list[Finding]) -> str:
    return min((f.severity for f in found), key=lambda s: SEVERITY_ORDER.get(s, 9))


def _note(found: list[Finding]) -> str:
    return NOTE_MARK + "\n" + "\n\n".join(f"[{f.severity}] {f.message}\nFix: {f.hint}"
                                           for f in found)


def note_fill(text: str) -> str | None:
    """The fill we gave the cell that carries our note `text` (its worst severity's; "" for
    info only); None when the note is not ours."""
    if not text.startswith(NOTE_MARK):
        return None
    found = {s for s in SEVERITY_ORDER if f"\n[{s}] " in text}
    worst = min(found, key=SEVERITY_ORDER.get, default="")
    return FILLS.get(worst, "")
