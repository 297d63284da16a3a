"""Templates: built from the schema, committed in step with it, written atomically and deterministically."""

from __future__ import annotations

import os
import zipfile
from datetime import datetime

import openpyxl
from openpyxl.utils import get_column_letter
import pytest

from planvalidator.errors import UnknownAgency
from planvalidator.output.atomic import save_workbook
from planvalidator.schema.loader import IDENTITY_SHEET, available_years, load_schema
from planvalidator.output.templates import (FIRST_DATA_ROW, HEADER_ROW, LAST_DATA_ROW, TEMPLATE_DIR,
                                     build_templates, build_workbook, template_name)

SCHEMA = load_schema(2028)


@pytest.fixture(scope="module")
def blank(tmp_path_factory):
    [path] = build_templates(SCHEMA, None, tmp_path_factory.mktemp("blank"))
    return openpyxl.load_workbook(path)


@pytest.fixture(scope="module")
def bcfd(tmp_path_factory):
    [path] = build_templates(SCHEMA, ["BCFD"], tmp_path_factory.mktemp("bcfd"))
    assert path.name == "plan-fy2028-BCFD.xlsx"
    return openpyxl.load_workbook(path)


@pytest.mark.parametrize("year", available_years())
def test_committed_template_matches_schema(year, tmp_path):
    schema = load_schema(year)
    [fresh] = build_templates(schema, None, tmp_path)
    committed = TEMPLATE_DIR / template_name(schema)
    assert committed.exists(), f"{committed.name} is missing: run `python -m planvalidator.output.templates`"
    assert committed.read_bytes() == fresh.read_bytes(), (
        f"{committed} is out of date with schemas/fy{year}.yaml: "
        f"run `python -m planvalidator.output.templates` and commit the result")


def test_sheets_in_order_with_hidden_identity(blank):
    assert blank.sheetnames[:5] == ["Instructions", "Agency", "Services", "Measures", IDENTITY_SHEET]
    assert blank[IDENTITY_SHEET].sheet_state in ("hidden", "veryHidden")
    identity = {k: v for k, v in blank[IDENTITY_SHEET].iter_rows(values_only=True)}
    assert identity == {"schema_id": "baltimore-performance-plan", "fiscal_year": 2028,
                        "template_version": "2028.1", "agency": None}


def test_header_rows_carry_schema_labels(blank):
    for table in (SCHEMA.services, SCHEMA.measures):
        ws = blank[table.sheet]
        assert [c.value for c in ws[HEADER_ROW]] == [c.label for c in table.columns]
    agency = blank[SCHEMA.agency.sheet]
    assert [agency.cell(HEADER_ROW, 1).value, agency.cell(HEADER_ROW, 2).value] == ["Field", "Value"]
    labels = [agency.cell(FIRST_DATA_ROW + i, 1).value for i in range(len(SCHEMA.agency.columns))]
    assert labels == [c.label for c in SCHEMA.agency.columns]
    assert blank["Measures"]["M3"].value == "FY2028 Target"
    assert blank["Measures"].freeze_panes == "B4"


def _list_values(wb, dv) -> list[str]:
    formula = dv.formula1
    if formula.startswith('"'):
        return formula.strip('"').split(",")
    sheet, ref = formula.rsplit("!", 1)
    cells = wb[sheet.strip("'")][ref.replace("$", "")]
    return [row[0].value for row in cells]


def _dropdowns(wb, sheet) -> dict[str, list[str]]:
    return {str(dv.sqref): _list_values(wb, dv) for dv in wb[sheet].data_validations.dataValidation
            if dv.type == "list"}


def test_every_closed_list_has_a_dropdown(blank):
    for table in (SCHEMA.services, SCHEMA.measures):
        expected = {f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_DATA_ROW}": list(SCHEMA.lists[c.list])
                    for letter, c in zip(_letters(), table.columns) if c.list}
        assert _dropdowns(blank, table.sheet) == expected
    expected = {f"B{FIRST_DATA_ROW + i}": list(SCHEMA.lists[c.list])
                for i, c in enumerate(SCHEMA.agency.columns) if c.list}
    assert _dropdowns(blank, SCHEMA.agency.sheet) == expected
    assert _dropdowns(blank, "Services")["C4:C504"][0] == "Building Public Safety"
    dv = blank["Measures"].data_validations.dataValidation[0]
    assert dv.showErrorMessage and dv.error


def _letters():
    return (openpyxl.utils.get_column_letter(i) for i in range(1, 100))


def test_inputs_unlocked_and_sheets_protected_without_password(blank):
    for table in (SCHEMA.services, SCHEMA.measures):
        ws = blank[table.sheet]
        for col in range(1, len(table.columns) + 1):
            assert ws.cell(HEADER_ROW, col).protection.locked
            # input cells take their column's style (Excel gives new cells the column style)
            assert not ws.column_dimensions[get_column_letter(col)].protection.locked
    agency = blank["Agency"]
    for row in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(SCHEMA.agency.columns)):
        assert agency.cell(row, 1).protection.locked and not agency.cell(row, 2).protection.locked
    for ws in blank.worksheets:
        assert ws.protection.sheet and not ws.protection.password, ws.title
        assert not ws.protection.formatCells and not ws.protection.sort
    assert blank.security.lockStructure and not blank.security.workbookPassword


def test_number_formats_and_percent_rows(blank):
    services, measures = blank["Services"], blank["Measures"]
    assert services.column_dimensions["A"].number_format == "0"
    assert services.column_dimensions["D"].number_format == '"$"#,##0'
    assert blank["Agency"]["B13"].number_format == "yyyy-mm-dd"  # Approval Date
    rules = {str(cf.sqref): (rule.formula, rule.dxf.numFmt.formatCode)
             for cf in measures.conditional_formatting for rule in cf.rules}
    assert rules == {"I4:M504": (['$E4="Percent"'], "0%"), "Q4:R504": (['$E4="Percent"'], "0%")}


def test_blank_template_prefills_only_year_and_stage(blank):
    values = {blank["Agency"].cell(r, 1).value: blank["Agency"].cell(r, 2).value
              for r in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(SCHEMA.agency.columns))}
    assert {k: v for k, v in values.items() if v is not None} == {"Fiscal Year": 2028,
                                                                   "Plan Stage": "Plan"}
    assert blank["Services"]["A4"].value is None and blank["Measures"]["A4"].value is None


def test_agency_template_prefills_its_catalog_services(bcfd):
    agency = bcfd["Agency"]
    assert [agency[f"B{r}"].value for r in range(4, 8)] == [
        "BCFD", "Baltimore City Fire Department", 2028, "Plan"]
    rows = [r[:3] for r in bcfd["Services"].iter_rows(min_row=FIRST_DATA_ROW, values_only=True)
            if r[0] is not None]
    assert rows[:3] == [(600, "Administration - Fire", "Building Public Safety"),
                        (602, "Fire Suppression and Emergency Rescue", "Building Public Safety"),
                        (609, "Emergency Medical Services", "Building Public Safety")]
    assert rows == [(s.number, s.name, s.pillar)
                    for _, s in sorted(SCHEMA.agencies["BCFD"].services.items())]
    identity = dict(bcfd[IDENTITY_SHEET].iter_rows(values_only=True))
    assert identity["agency"] == "BCFD"


def test_unknown_agency_is_a_plain_error(tmp_path):
    with pytest.raises(UnknownAgency, match=r"Unknown agency code 'XYZ'.*BCFD"):
        build_templates(SCHEMA, ["BCFD", "XYZ"], tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing written before the check
    with pytest.raises(UnknownAgency, match="XYZ"):
        build_workbook(SCHEMA, "XYZ")


def test_save_is_deterministic(tmp_path):
    wb = build_workbook(SCHEMA, "DOT")
    save_workbook(wb, tmp_path / "a.xlsx")
    save_workbook(wb, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    save_workbook(wb, tmp_path / "c.xlsx", timestamp=datetime(2027, 7, 1, 9, 30))
    with zipfile.ZipFile(tmp_path / "c.xlsx") as z:
        assert "2027-07-01T09:30:00Z" in z.read("docProps/core.xml").decode()
        assert z.namelist()[0] == "[Content_Types].xml"
        assert {i.date_time for i in z.infolist()} == {(2027, 7, 1, 9, 30, 0)}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.xlsx", "b.xlsx", "c.xlsx"]


def test_failed_save_leaves_existing_file_and_no_temp_files(tmp_path, monkeypatch):
    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"the approved plan")

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space"):
        save_workbook(build_workbook(SCHEMA), target)
    assert target.read_bytes() == b"the approved plan"
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xlsx"]


def test_save_into_missing_folder_fails_cleanly(tmp_path):
    with pytest.raises(FileNotFoundError):
        save_workbook(build_workbook(SCHEMA), tmp_path / "nowhere" / "plan.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_a_template_outdated_by_its_version_alone(tmp_path):
    """A plan filled into an earlier version of this year's template (same fiscal year, version
    2028.0 in the hidden identity sheet) is flagged at the Fiscal Year cell the analyst sees."""
    from plans import plan_file
    from planvalidator.rules.validate import validate_workbook
    path = plan_file(tmp_path / "bcfd.xlsx")
    wb = openpyxl.load_workbook(path)
    [version] = [value for key, value in wb[IDENTITY_SHEET].iter_rows(max_col=2)
                 if key.value == "template_version"]
    assert (version.value, SCHEMA.template_version) == ("2028.1", "2028.1")
    version.value = "2028.0"
    wb.save(path)
    report = validate_workbook(path)
    assert [(f.sheet, f.cell, f.code, f.value) for f in report.findings] == [
        ("Agency", "B6", "template-outdated", "2028.0")]
    [f] = report.findings
    assert f.message == ("This workbook was made from template version 2028.0; the current "
                         "template is version 2028.1.")
    assert report.template_version == "2028.0"
