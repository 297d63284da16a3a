"""Cells and sheets the reader meets rarely, each with what a person expects of it: found by a
read-only review of the faster reader (session 5), built here with code."""

from __future__ import annotations

import re
import shutil

import openpyxl

from planvalidator.read.plan import read_plan
from planvalidator.rules.validate import validate_plan, validate_workbook
from planvalidator.schema.loader import SCHEMA_DIR, load_schema
from plans import EXAMPLES, SCHEMA, measure, plan_file, sheets


def codes_at(report) -> set[tuple[str, str]]:
    return {(f.code, f.cell) for f in report.findings}


def test_a_row_repeating_every_label_above_the_header_is_not_the_header(tmp_path):
    """Row 2 (the note) repeats every label; the header, row 3, has one more label cell: row 3
    is the header and the plan is clean."""
    path = plan_file(tmp_path / "bcfd.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Measures"]
    for c, column in enumerate(SCHEMA.measures.columns, start=1):
        ws.cell(2, c).value = column.label
    ws.cell(3, len(SCHEMA.measures.columns) + 1).value = "Notes"
    wb.save(path)
    report = validate_workbook(path)
    assert report.findings == []


def test_a_duration_in_a_number_column_is_not_a_number(tmp_path):
    """1.5 formatted [h]:mm:ss shows 36:00:00 in Excel: not a target, reported at its cell
    (it was a traceback)."""
    path = plan_file(tmp_path / "bcfd.xlsx")
    wb = openpyxl.load_workbook(path)
    target = wb["Measures"].cell(4, SCHEMA.measures.keys.index("target") + 1)
    target.value, target.number_format = 1.5, "[h]:mm:ss"
    wb.save(path)
    assert ("not-a-number", target.coordinate) in codes_at(validate_workbook(path))


def test_a_service_number_past_what_a_float_counts_exactly_is_not_a_number(tmp_path):
    """1e20 as a Service Number: no whole number a plan can use (it was an OverflowError)."""
    path = plan_file(tmp_path / "bcfd.xlsx", sheets([measure("BCFD-609-01", 1e20)]))
    found = codes_at(validate_workbook(path))
    assert ("not-a-number", "B4") in found


def test_a_schema_folder_may_link_to_a_schema_kept_elsewhere(tmp_path, monkeypatch):
    """fy2028.yaml a symlink to the office's kept copy, whose catalog sits beside it."""
    kept, office = tmp_path / "kept", tmp_path / "office"
    kept.mkdir(), office.mkdir()
    for name in ("fy2028.yaml", "catalog-fy2028.yaml"):
        shutil.copy(SCHEMA_DIR / name, kept / name)
    (office / "fy2028.yaml").symlink_to(kept / "fy2028.yaml")
    monkeypatch.setenv("PLANVALIDATOR_SCHEMAS", str(office))
    assert load_schema(2028).fiscal_year == 2028
    assert validate_workbook(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx").findings == []


def test_a_schema_link_pointed_at_another_copy_is_read_from_there(tmp_path, monkeypatch):
    """The office keeps two copies of the FY2028 schema and points fy2028.yaml at one, then at
    the other (template version 2028.1, then 2028.2): the schema read follows the link, though
    load_schema remembers where a path led."""
    office = tmp_path / "office"
    office.mkdir()
    for version in ("2028.1", "2028.2"):
        kept = tmp_path / version
        kept.mkdir()
        shutil.copy(SCHEMA_DIR / "catalog-fy2028.yaml", kept)
        text = (SCHEMA_DIR / "fy2028.yaml").read_text()
        (kept / "fy2028.yaml").write_text(re.sub(r"(?m)^template_version: .*$",
                                                 f'template_version: "{version}"', text))
    monkeypatch.setenv("PLANVALIDATOR_SCHEMAS", str(office))
    for version in ("2028.1", "2028.2"):
        (office / "fy2028.yaml").unlink(missing_ok=True)
        (office / "fy2028.yaml").symlink_to(tmp_path / version / "fy2028.yaml")
        assert load_schema(2028).template_version == version


def test_rows_may_be_tuples_of_any_length():
    """read_plan takes the rows it is given as sequences: tuples, short ones too (trailing
    empty cells left off, as a payload may send them)."""
    data = sheets([measure(), measure("BCFD-609-02", data_source=None, equity_focus=None)])
    as_tuples = {name: [tuple(_trimmed(row)) for row in rows] for name, rows in data.items()}
    lists = validate_plan(read_plan(list(data), data, source="lists"))
    tuples = validate_plan(read_plan(list(as_tuples), as_tuples, source="tuples"))
    assert [f.as_dict() for f in tuples.findings] == [f.as_dict() for f in lists.findings]


def _trimmed(row: list) -> list:
    while row and row[-1] is None:
        row = row[:-1]
    return row


def test_text_too_long_for_a_cell_is_found_wherever_it_starts():
    """A text one character longer than a cell may hold (32,768) is found whatever its offset
    in the sheet's XML: the quick look for it searches stretches of 16,384 bytes for a tag, and
    such a text covers one whole stretch wherever it starts. One character shorter is no
    finding at any offset."""
    from planvalidator.read.calamine import odd_cells
    cell = b'<c r="B4" t="inlineStr"><is><t>'
    for before in (0, 1, 16_383, 16_384, 16_385, 20_000, 32_767, 40_000):
        for length, found in ((32_768, True), (32_767, False)):
            xml = (b"<worksheet><sheetData>" + b'<row r="1">' + b"<c/>" * (before // 4)
                   + b'</row><row r="4">' + cell + b"x" * length + b"</t></is></c></row>"
                   + b"</sheetData></worksheet>")
            assert odd_cells(xml, {}) == ({(3, 1): "x" * length} if found else {}), (before, length)


def test_integers_past_any_cell_given_from_python_are_not_numbers_at_their_cells():
    """read_plan takes rows from Python too, where an int has any size (the add-in's payload
    makes floats of them first). -2**70 as a service number and 10**400 as a target are
    not-a-number at their cells, as text there would be; they raised OverflowError."""
    data = sheets([measure("BCFD-609-01", -(2 ** 70)),
                   measure("BCFD-602-01", 602, target=10 ** 400)])
    report = validate_plan(read_plan(list(data), data, source="py"))
    found = {(f.code, f.cell) for f in report.findings}
    assert {("not-a-number", "B4"), ("not-a-number", "M5")} <= found
