"""One marks model, rendered twice.

The fills, notes and Validation-sheet rows of the annotated copy (openpyxl, `validate
--annotate`) equal what the add-in's Validate does to the same workbook (the xlwings actions it
returns), for every example. Each side is read back from what it produced: the annotated .xlsx,
and the actions as Excel would replay them.
"""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

import officejs
from planvalidator.findings import Finding, Report
from planvalidator.output.annotate import annotate_workbook
from planvalidator.output.marks import NOTE_MARK, CellMark, marks, note_fill
from planvalidator.rules.validate import validate_workbook

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ALL = sorted(p.name for p in EXAMPLES.glob("*.xlsx"))
PLAN_SHEETS = ("Agency", "Services", "Measures")


# ---- the model itself -----------------------------------------------------------------------------

def f(severity, sheet, cell, message="m", code="c"):
    return Finding(code=code, severity=severity, sheet=sheet, cell=cell, message=message, hint="h")


def test_one_mark_per_cell_with_the_worst_fill_and_every_note():
    report = Report("plan.xlsx", [f("warning", "Measures", "M6", "late"),
                                  f("error", "Measures", "M6", "empty"),
                                  f("info", "Measures", "B9", "fyi")])
    found = marks(report, "plan.xlsx", {"Measures": []})
    assert found.cells == [   # in the report's order
        CellMark("Measures", "B9", "", NOTE_MARK + "\n[info] fyi\nFix: h"),
        CellMark("Measures", "M6", "FFC7CE",
                 NOTE_MARK + "\n[warning] late\nFix: h\n\n[error] empty\nFix: h"),
    ]
    assert [(r.finding.cell, r.fill, r.target) for r in found.rows] == [
        ("B9", "DDEBF7", ("Measures", "B9")),
        ("M6", "FFEB9C", ("Measures", "M6")),
        ("M6", "FFC7CE", ("Measures", "M6"))]
    assert found.title == "Validation of plan.xlsx"
    assert found.summary == "1 error, 1 warning, 1 info finding."


def test_our_notes_are_known_by_their_first_line_and_tell_the_fill_they_came_with():
    report = Report("plan.xlsx", [f("warning", "Measures", "M6", "late"),
                                  f("error", "Measures", "M6", "empty [warning] no"),
                                  f("warning", "Measures", "M7"), f("info", "Measures", "B9")])
    notes = {m.cell: m.note for m in marks(report, "plan.xlsx", {"Measures": []}).cells}
    assert [note_fill(notes[c]) for c in ("M6", "M7", "B9")] == ["FFC7CE", "FFEB9C", ""]
    # An agency's own note is not ours, even when it quotes ours further down.
    assert note_fill("[error] M6 is empty\nFix: h") is None
    assert note_fill("Checked by Ana.\n" + notes["M6"]) is None


def test_a_merged_block_is_marked_on_its_first_cell_and_sheetless_findings_are_listed_only():
    report = Report("plan.xlsx", [f("error", "Agency", "C3"), f("error", "Agency", "$D$7:E9"),
                                  f("error", "Agency", ""), f("error", "Chart", "A1"),
                                  f("error", "Agency", "7:7")])
    found = marks(report, "plan.xlsx", {"Agency": [(2, 2, 4, 5)]})   # B2:E4
    assert [(m.sheet, m.cell) for m in found.cells] == [("Agency", "D7"), ("Agency", "B2")]
    assert [(r.finding.cell, r.target) for r in found.rows] == [   # in the report's order
        ("$D$7:E9", ("Agency", "D7")), ("", None), ("7:7", None), ("C3", ("Agency", "B2")),
        ("A1", None)]


# ---- the two renderers agree, for every example -------------------------------------------------

def annotated(path: Path, out: Path) -> tuple[dict, list]:
    """(sheet, cell) → (fill, note) of our marks, and the Validation sheet's rows, as the
    annotated copy carries them."""
    annotate_workbook(path, validate_workbook(path), out)
    wb = openpyxl.load_workbook(out)
    cells = {}
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.comment is not None and c.comment.author == "planvalidator":
                    fill = c.fill.fgColor.rgb[-6:].lower() if c.fill.fill_type == "solid" else None
                    cells[(ws.title, c.coordinate)] = (fill, c.comment.text)
    rows = []
    for r in wb["Validation"].iter_rows():
        values = [c.value for c in r[:7]] + [None] * (7 - len(r))
        fill = r[0].fill.fgColor.rgb[-6:].lower() if r[0].fill.fill_type == "solid" else None
        link = r[2].hyperlink.location if len(r) > 2 and r[2].hyperlink else None
        if link:
            sheet, cell = link.rsplit("!", 1)
            link = (sheet.strip("'").replace("''", "'"), cell)
        rows.append((values, fill, link))
    return cells, rows


def from_addin(path: Path, monkeypatch) -> tuple[dict, list]:
    """The same, from the actions the add-in's Validate returns for the workbook."""
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw
    from planvalidator.addin.session import INCLUDE, Session

    payload = officejs.payload(path, INCLUDE)
    book = xw.Book(json=payload)
    session = Session(book)
    session.annotate(session.validate())
    actions = book.json()["actions"]
    book.close()

    names = [s["name"] for s in payload["sheets"]]
    for a in actions:
        if a["func"] == "addSheet":
            names.insert(a["args"][0], a["args"][1])
    colors, notes, values = {}, {}, []
    for a in actions:
        sheet = names[a["sheet_position"]] if a["sheet_position"] is not None else None
        if a["func"] == "setRangeColors":
            for r, line in enumerate(a["args"][0]):
                for c, color in enumerate(line):
                    if color != "keep":
                        colors[(sheet, a["start_row"] + r + 1, a["start_column"] + c + 1)] = color
        elif a["func"] == "setRangeColor":
            for r in range(a["row_count"]):
                for c in range(a["column_count"]):
                    colors[(sheet, a["start_row"] + r + 1, a["start_column"] + c + 1)] = a["args"][0]
        elif a["func"] == "addNote":
            notes[(sheet, a["args"][0].replace("$", ""))] = a["args"][1]
        elif a["func"] == "setValues" and sheet == "Validation":
            values = a["values"]
    fills = {(sheet, f"{openpyxl.utils.get_column_letter(col)}{row}"): color.lstrip("#")
             for (sheet, row, col), color in colors.items() if sheet != "Validation" and color}
    severity_fills = {row: color.lstrip("#") for (sheet, row, col), color in colors.items()
                      if sheet == "Validation" and col == 1 and color}
    cells = {key: (fills.get(key), text) for key, text in notes.items()}
    assert set(fills) <= set(notes)
    rows = []
    for i, line in enumerate(values, start=1):
        line = [None if v == "" else v for v in line[:7]]
        link = None
        m = re.fullmatch(r'=HYPERLINK\("#\'(.*)\'!([A-Z]+[0-9]+)","[A-Z]+[0-9]+"\)', line[2] or "")
        if m:
            link = (m.group(1).replace("''", "'"), m.group(2))
            line[2] = m.group(2)
        line = [v[1:] if isinstance(v, str) and v.startswith("'") else v for v in line]
        rows.append((line, severity_fills.get(i), link))
    return cells, rows


@pytest.mark.parametrize("name", ALL)
def test_the_addin_marks_what_the_annotated_copy_carries(name, tmp_path, monkeypatch):
    file_cells, file_rows = annotated(EXAMPLES / name, tmp_path / name)
    addin_cells, addin_rows = from_addin(EXAMPLES / name, monkeypatch)
    assert addin_cells == file_cells
    assert addin_rows == file_rows[:len(addin_rows)]
    assert all(values == [None] * 7 for values, _, _ in file_rows[len(addin_rows):])


def test_the_marks_of_one_example(tmp_path):
    cells, rows = annotated(EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx", tmp_path / "a.xlsx")
    assert sorted((sheet, cell, fill) for (sheet, cell), (fill, _) in cells.items()) == [
        ("Measures", "M10", "ffc7ce"), ("Measures", "M11", "ffc7ce"),
        ("Measures", "M6", "ffc7ce"), ("Measures", "M9", "ffc7ce")]
    assert rows[1][0][0] == "4 errors, 0 warnings, 0 info findings. (Agency DPW, FY2028, stage Plan)"
    assert [(v[1], v[2], fill, link) for v, fill, link in rows[4:8]] == [
        ("Measures", "M6", "ffc7ce", ("Measures", "M6")),
        ("Measures", "M9", "ffc7ce", ("Measures", "M9")),
        ("Measures", "M10", "ffc7ce", ("Measures", "M10")),
        ("Measures", "M11", "ffc7ce", ("Measures", "M11"))]
