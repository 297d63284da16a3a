"""What a command does to the workbook: a Session reads the plan the client sent, validates it
with the library, and renders the Report's marks (output/marks.py, the same marks
`validate --annotate` writes) with xlwings' Book API:

- every failing cell is filled red (error) or amber (warning) and gets a note with the findings
  and how to fix them (Office.js notes need ExcelApi 1.18; a cell that already has the agency's
  own note keeps it and gets no second one; our own note from an earlier run is updated);
- the *Validation* sheet lists every finding with a link to its cell; a second Validate rewrites
  it in place;
- the task pane gets the findings (a client callback, `planvalidatorShow`), and an alert gives
  the counts.

What we colored and noted is remembered on the Validation sheet itself (hidden columns J:M),
so Clear highlights removes exactly our fills, our notes and the Validation sheet, and the next
Validate clears marks that no longer apply. Each note we write starts with NOTE_MARK, so our
notes (and the fills under them) are known as ours even when the Validation sheet was deleted.
A recorded mark is trusted only inside the sheet's cells the client sent, and fills are sent
in short runs, so a doctored record can't make Excel repaint millions of cells. A cell we
colored loses its fill when cleared (the client does not send cell formats, so a fill the
agency had put on a failing cell is not known); fonts, borders and number formats are never
touched.

A structure change (adding or deleting the Validation sheet) is the first action a command
sends: when the workbook's structure has a password, the task pane refuses before sending
(main.js) and, from any other client, the unlock fails before a cell is changed.

Values are never read through xlwings' ranges (`rng.value`): its date conversion raises on text
that looks like an ISO date without "Z". payload.py reads the raw values instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import xlwings as xw

from ..a1 import first_cell
from ..findings import Report
from ..output.marks import (COLUMNS, HEADER_FILL, HEADER_ROW, HEADER_TEXT, NO_FINDINGS,
                            SUMMARY_ROW, TITLE_ROW, CellMark, Marks, marks, note_fill)
from ..output.marks import SHEET as VALIDATION_SHEET
from ..read.payload import hidden_sheets, plan_sheets, sheet_rows
from ..read.plan import read_plan
from ..schema.loader import IDENTITY_SHEET, available_years, load_schema
from .config import Conflict, Unavailable
from ..rules.validate import validate_plan
from ..safetext import formula_safe

WIDTHS = (60, 80, 50, 150, 90, 430, 330)              # the Validation sheet's columns, in points
MARKS_COLUMN = 10                                      # J: sheet, K: cell, L: fill, M: note
MARKS_HEADER = ("planvalidator marks (do not edit)", "Cell", "Fill", "Note")
MAX_SET_COLORS = 10_000                                # cells per set_colors action (client limit)
MAX_GAP = 50             # unmarked rows a set_colors run may span before a new run starts
MAX_NEW_NOTES = 200      # each note is one action for Excel to replay; the rest are listed anyway
CLIENT_CALLBACK = "planvalidatorShow"                  # task pane: show findings / receipt
UNLOCK, RELOCK = "planvalidatorUnlockStructure", "planvalidatorRelockStructure"


def _plan_sheet_names() -> list[str]:
    names = []
    for year in available_years():
        for table in load_schema(year).tables:
            if table.sheet not in names:
                names.append(table.sheet)
    return names + [IDENTITY_SHEET]


PLAN_SHEETS = _plan_sheet_names()
INCLUDE = PLAN_SHEETS + [VALIDATION_SHEET]   # what the client sends: plan sheets and our own


@dataclass(frozen=True)
class Mark:
    sheet: str
    cell: str          # A1, no $
    fill: str = ""     # the color we put on it ("" none)
    note: bool = False  # we wrote its note


class Session:
    """The workbook as sent (raw payload values) and the xw.Book that collects the actions.
    `our_notes`: [[sheet, cell, text], ...], the notes that start with NOTE_MARK as the task
    pane read them (the client sends where notes are, not their text)."""

    def __init__(self, book: xw.Book, our_notes: list | None = None):
        if book.app.books.active.impl is not book.impl:
            # xlwings' remote App sends app-level actions (the alert, the task pane callback)
            # to the book opened last, so a script must have its process's only open book:
            # a worker (workers.py) runs one script at a time and closes its book after it.
            # Should that ever break, refuse rather than answer with another request's alert.
            raise Unavailable("The server is busy; try again in a moment.")
        self.book = book
        api = book.api
        self.client = api.get("client", "")
        self.officejs = self.client == "Office.js"
        self.names, self.sheets = plan_sheets(api, PLAN_SHEETS)
        self.hidden = hidden_sheets(api)
        self.sheet_apis = {s["name"]: s for s in api["sheets"]}
        self.validation = next((s["name"] for s in api["sheets"]
                                if s["name"].strip().casefold() == VALIDATION_SHEET.casefold()),
                               None)
        if self.validation and not _ours(self.sheet_apis[self.validation]):
            raise Conflict(f"The workbook already has a sheet named '{self.validation}' that the "
                           "Performance Plan add-in did not write. Rename it, then try again.")
        # Notes are known only where the client can read them (Office.js, ExcelApi 1.18).
        self.notes = {name: {_cell(n["address"]) for n in sheet.get("notes") or []}
                      for name, sheet in self.sheet_apis.items()
                      if self.officejs and sheet.get("notes_supported") is True}
        recorded = {(m.sheet, m.cell): m for m in _read_marks(api, self.validation)
                    if self._within(m)}
        noted = {(m.sheet, m.cell): m for m in _our_notes(our_notes, self.notes)}
        self.marks = list({**recorded, **noted}.values())
        self.new_notes = 0
        self.unlocked = False
        self._worksheets: dict[str, xw.Sheet] = {}

    def _cell(self, sheet: str, cell: str) -> xw.Range:
        """A cell's range: the sheet looked up once (xlwings finds a sheet by name in a scan),
        the A1 address parsed by ours (xlwings' parser also tries names and tables)."""
        ws = self._worksheets.get(sheet)
        if ws is None:
            ws = self._worksheets[sheet] = self.book.sheets[sheet]
        return ws.range(first_cell(cell))

    def _within(self, mark: Mark) -> bool:
        """Whether a recorded mark lies in the cells the client sent of its sheet."""
        sheet = self.sheet_apis.get(mark.sheet)
        if sheet is None:
            return False
        row, col = first_cell(mark.cell)
        rows = sheet.get("values") or []
        return row <= max(len(rows), HEADER_ROW) and col <= max((len(r) for r in rows), default=0)

    def read(self):
        return read_plan(self.names, self.sheets, source=self.book.name, hidden=self.hidden)

    def validate(self) -> Report:
        return validate_plan(self.read())

    # -- the task pane --------------------------------------------------------------------------

    def show(self, command: str, report: Report | None, receipt: dict | None = None) -> None:
        """Hand the findings (and receipt) to the task pane; only the Office.js client has one."""
        if not self.officejs:
            return
        data = {"command": command, "workbook": self.book.name, "receipt": receipt,
                "report": report.as_dict() if report else None}
        self.book.app.macro(CLIENT_CALLBACK)(data)

    # -- the workbook's structure: unlocked before any change, relocked at the end --------------

    def unlock_structure(self, adding: bool) -> None:
        """Before changing anything: the Validation sheet will be added (`adding`, when it is
        not there) or deleted (when it is)."""
        if self.officejs and (self.validation is None) == adding:
            self.book.app.macro(UNLOCK)()
            self.unlocked = True

    def relock_structure(self) -> None:
        if self.unlocked:
            self.book.app.macro(RELOCK)()
            self.unlocked = False

    # -- marks: fills and notes on the failing cells ----------------------------------------------

    def annotate(self, report: Report) -> None:
        # The client sends no merged blocks: a finding's own cell carries its mark.
        found = marks(report, self.book.name, {name: () for name in self.sheet_apis})
        self.write_validation_sheet(found, self.apply_marks(found.cells))
        self.relock_structure()

    def apply_marks(self, cells: list[CellMark]) -> list[Mark]:
        """Mark `cells` and undo earlier marks that no longer apply; returns the new marks."""
        before = {(m.sheet, m.cell): m for m in self.marks}
        new: list[Mark] = []
        colors: dict[str, dict[tuple[int, int], str | None]] = {}
        for (sheet, cell), old in before.items():
            if old.fill:
                colors.setdefault(sheet, {})[first_cell(cell)] = None
        for mark in cells:
            sheet, cell, fill = mark.sheet, mark.cell, _rgb(mark.fill)
            if fill:
                colors.setdefault(sheet, {})[first_cell(cell)] = fill
            note = self._note(sheet, cell, mark.note, before.get((sheet, cell)))
            new.append(Mark(sheet, cell, fill, note))
        targeted = {(m.sheet, m.cell) for m in new}
        for (sheet, cell), old in before.items():
            if old.note and (sheet, cell) not in targeted and self._has_note(sheet, cell):
                _note_action(self._cell(sheet, cell), "deleteNote")
        for sheet, cells in colors.items():
            self._color(sheet, cells)
        return new

    def _notes_supported(self, sheet: str) -> bool:
        return sheet in self.notes

    def _has_note(self, sheet: str, cell: str) -> bool:
        return cell in self.notes.get(sheet, ())

    def _note(self, sheet: str, cell: str, text: str, before: Mark | None) -> bool:
        """Write our note on the cell; False when it can't carry one (no notes in this Excel,
        or the agency's own note is there)."""
        if not self._notes_supported(sheet):
            return False
        rng = self._cell(sheet, cell)
        if self._has_note(sheet, cell):
            if before is None or not before.note:
                return False   # the agency's own note: keep it, the finding is listed anyway
            _note_action(rng, "setNoteText", text)
            return True
        if self.new_notes >= MAX_NEW_NOTES:
            return False
        self.new_notes += 1
        _note_action(rng, "addNote", text)
        return True

    def _color(self, sheet: str, cells: dict[tuple[int, int], str | None]) -> None:
        ws = self.book.sheets[sheet]
        if not self.officejs:   # the VBA client: one action per cell; it can't remove a fill
            for (row, col), color in sorted(cells.items()):
                ws.range((row, col)).color = color or "#ffffff"
            return
        # One set_colors per run of nearby marks in a column ("..." keeps a cell's fill): few
        # actions for Excel to replay, each at most MAX_GAP unmarked cells per mark.
        by_column: dict[int, dict[int, str | None]] = {}
        for (row, col), color in cells.items():
            by_column.setdefault(col, {})[row] = color
        for col, rows in sorted(by_column.items()):
            for first, last in _runs(sorted(rows)):
                _set_colors(ws.range((first, col), (last, col)),
                            [[rows.get(r, ...)] for r in range(first, last + 1)])

    # -- the Validation sheet ---------------------------------------------------------------------

    def write_validation_sheet(self, found: Marks, recorded: list[Mark]) -> None:
        if self.validation:
            ws = self.book.sheets[self.validation]
            ws.clear()
        else:
            ws = self.book.sheets.add(VALIDATION_SHEET)
            self.validation = ws.name
        width = MARKS_COLUMN + len(MARKS_HEADER) - 1
        rows = [[""] * width for _ in range(HEADER_ROW + max(len(found.rows), 1, len(recorded)))]
        rows[TITLE_ROW - 1][0] = _text(found.title)
        rows[SUMMARY_ROW - 1][0] = _text(found.summary)
        rows[HEADER_ROW - 1][:len(COLUMNS)] = list(COLUMNS)
        for i, line in enumerate(found.rows):
            values = [_text(v) for v in line.values]
            if line.target:
                values[COLUMNS.index("Cell")] = _link(*line.target)
            rows[HEADER_ROW + i][:len(COLUMNS)] = values
        if not found.rows:
            rows[HEADER_ROW][0] = NO_FINDINGS
        rows[HEADER_ROW - 1][MARKS_COLUMN - 1:] = list(MARKS_HEADER)
        for i, m in enumerate(recorded):
            rows[HEADER_ROW + i][MARKS_COLUMN - 1:] = [
                _text(m.sheet), m.cell, m.fill, "note" if m.note else ""]
        # raw: every value is already text ("" empty), as xlwings' conversion would make it,
        # which costs a pandas check per cell
        ws.range((1, 1), (len(rows), width)).raw_value = rows
        ws.range((HEADER_ROW, 1), (HEADER_ROW, len(COLUMNS))).color = _rgb(HEADER_FILL)
        if not self.officejs:
            return
        header = ws.range((HEADER_ROW, 1), (HEADER_ROW, len(COLUMNS)))
        header.font.bold = True
        header.font.color = _rgb(HEADER_TEXT)
        ws.range((TITLE_ROW, 1)).font.bold = True
        ws.range((TITLE_ROW, 1)).font.size = 14
        for col, points in enumerate(WIDTHS, start=1):
            ws.range((HEADER_ROW, col)).column_width = points
        if found.rows:
            last = HEADER_ROW + len(found.rows)
            ws.range((HEADER_ROW + 1, 6), (last, 7)).wrap_text = True
            for start in range(0, len(found.rows), MAX_SET_COLORS):
                lines = found.rows[start:start + MAX_SET_COLORS]
                top = HEADER_ROW + 1 + start
                _set_colors(ws.range((top, 1), (top + len(lines) - 1, 1)),
                            [[_rgb(line.fill) or None] for line in lines])
        ws.range((1, MARKS_COLUMN), (1, MARKS_COLUMN + len(MARKS_HEADER) - 1)).columns.hidden = True

    def delete_validation_sheet(self) -> None:
        if not self.validation:
            return
        self.book.sheets[self.validation].delete()
        self.validation = None


# ---- helpers ------------------------------------------------------------------------------------

def _ours(sheet_api: dict) -> bool:
    """Whether a sheet named Validation may be rewritten: the add-in wrote it (its title says
    so), or it is empty."""
    rows = sheet_rows(sheet_api.get("values") or [])
    if not any(v is not None for row in rows for v in row):
        return True
    first = rows[0][0] if rows and rows[0] else None
    return isinstance(first, str) and first.startswith("Validation of ")


def _read_marks(api: dict, validation: str | None) -> list[Mark]:
    """Our marks as recorded on the Validation sheet (columns J:M below the marks header)."""
    if validation is None:
        return []
    sheet = next(s for s in api["sheets"] if s["name"] == validation)
    rows = sheet_rows(sheet["values"])
    c = MARKS_COLUMN - 1
    start = next((r for r, row in enumerate(rows)
                  if len(row) > c and row[c] == MARKS_HEADER[0]), None)
    if start is None:
        return []
    recorded = []
    for row in rows[start + 1:]:
        sheet_name, cell, fill, note = (list(row[c:c + 4]) + [None] * 4)[:4]
        if not isinstance(sheet_name, str) or not isinstance(cell, str):
            break
        cell = cell.replace("$", "").upper()
        if not _is_cell(cell):
            continue   # not a cell: the sheet was edited
        recorded.append(Mark(sheet_name, cell, fill if isinstance(fill, str) else "",
                             note == "note"))
    return recorded


def _our_notes(sent, notes: dict[str, set[str]]) -> list[Mark]:
    """Our marks as our notes show them (NOTE_MARK), whatever the Validation sheet says: the
    notes the task pane sent that are on a cell the payload says has a note."""
    found = []
    for item in sent if isinstance(sent, list) else []:
        if not (isinstance(item, list) and len(item) == 3
                and all(isinstance(x, str) for x in item)):
            continue
        sheet, cell, text = item[0], _cell(item[1]), item[2]
        fill = note_fill(text)
        if fill is not None and cell in notes.get(sheet, ()) and _is_cell(cell):
            found.append(Mark(sheet, cell, _rgb(fill), True))
    return found


def _note_action(rng: xw.Range, func: str, *text: str) -> None:
    """The action xlwings' Range.add_note / Note.text / Note.delete send for `rng`'s note,
    without their look-up: they find a cell's note by scanning every note of the sheet, so a
    sheet with 20,000 notes made each of our notes cost a scan. Session.notes already knows
    which cells have one."""
    rng.impl.append_json_action(func=func, args=[rng.address, *text])


def _set_colors(rng: xw.Range, colors: list[list]) -> None:
    """The action Range.set_colors sends, without its check of every cell of the matrix (ours
    hold only '#rrggbb', None and ..., within MAX_SET_COLORS): that check was a third of
    the cost of marking a plan."""
    rng.impl.set_colors(colors)


def _is_cell(cell: str) -> bool:
    return re.fullmatch(r"[A-Z]{1,3}\d{1,7}", cell) is not None and first_cell(cell) is not None


def _cell(address: str) -> str:
    """'Measures!$M$6' or '$M$6' → 'M6'."""
    return address.rsplit("!", 1)[-1].replace("$", "").upper()


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Sorted rows → (first, last) runs: a new run after MAX_GAP unmarked rows or at the
    set_colors limit."""
    runs: list[tuple[int, int]] = []
    for row in rows:
        if runs and row - runs[-1][1] <= MAX_GAP + 1 and row - runs[-1][0] < MAX_SET_COLORS:
            runs[-1] = (runs[-1][0], row)
        else:
            runs.append((row, row))
    return runs


def _rgb(fill: str) -> str:
    """'FFC7CE' as xlwings takes a colour: '#ffc7ce' ('' stays '')."""
    return "#" + fill.lower() if fill else ""


def _text(value) -> str:
    """A value written as text, never as a formula (safetext.formula_safe); "" for none."""
    if value is None or value == "":
        return ""
    return formula_safe(str(value), typed=True)


def _link(sheet: str, cell: str) -> str:
    """=HYPERLINK to a cell of this workbook (works in Excel on Windows, Mac and the web)."""
    target = "#'" + sheet.replace("'", "''") + "'!" + cell
    return '=HYPERLINK("' + target.replace('"', '""') + '","' + cell + '")'
