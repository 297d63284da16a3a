"""The pandera schemas a pandera user reads (rules/tables.py) find what the engine finds.

For every example and for small plans covering every code the cell and plan rules emit,
`schema.validate(frame, lazy=True)` runs per sheet; each row of its `failure_cases` (column,
index, check) maps to (sheet, cell, code) through the plan's recorded positions, and that set
is the engine's findings (validate.py's fast path) restricted to the codes the schemas cover
(tables.COVERED; structure rules such as missing-sheet and template-outdated are about the
workbook, not its data, and are no DataFrame rules).

One genuine difference, proven exactly rather than ignored: a cell the reader cannot read as
its column's type (text in a number column, a placeholder target, a formula error) holds no
value of that type, so the typed frame has it empty. The reader reports it (not-a-number,
placeholder-target, ...); pandera, seeing an empty cell, reports it only when the column is
required, with the column's missing code.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pandas as pd
import pandera.errors
import pandera.pandas as pa
import pytest
from click.testing import CliRunner

from plans import measure, sheets
from planvalidator.cli import main
from planvalidator.read.plan import Plan, read_plan, read_workbook
from planvalidator.read.xlsx import CellError
from planvalidator.rules.tables import COVERED, plan_frames, plan_schemas, table_schemas, unreadable
from planvalidator.findings import Report
from planvalidator.rules.validate import validate_plan, validate_workbook
from planvalidator.schema.loader import load_schema

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.xlsx"))
TYPE_CODES = {"not-a-number", "not-a-date", "formula-error", "placeholder-target"}


def pandera_findings(plan: Plan) -> set[tuple[str, str, str]]:
    """(sheet, cell, code) of every failure case of the plan's pandera schemas."""
    out = set()
    frames = plan_frames(plan)
    for name, table in plan_schemas(plan).items():
        data = getattr(plan, name)
        key = {c.label: c.key for c in data.table.columns}
        try:
            table.schema.validate(frames[name], lazy=True)
        except pandera.errors.SchemaErrors as err:
            out |= {(data.sheet, data.address(key[label], i), code)
                    for label, i, code in table.findings(err.failure_cases)}
    return out


def engine_findings(plan: Plan, report: Report) -> set[tuple[str, str, str]]:
    # agency-mismatch on the Agency sheet compares the Agency Code with the template's hidden
    # identity sheet: a structure rule (the measure ID's agency-mismatch is a DataFrame rule)
    return {(f.sheet, f.cell, f.code) for f in report.findings
            if f.code in COVERED and not (f.code == "agency-mismatch" and f.sheet == plan.agency.sheet)}


def unreadable_cells(plan: Plan) -> dict[tuple[str, str], str]:
    """(sheet, cell) → the missing code of its column, for the cells plan_frames leaves empty."""
    return {(data.sheet, data.address(key, i)): data.table.column(key).missing_code
            for data in (plan.agency, plan.services, plan.measures)
            for key, i in unreadable(data)}


def assert_same(plan: Plan, report: Report) -> None:
    got, expected = pandera_findings(plan), engine_findings(plan, report)
    empty_to_pandera = unreadable_cells(plan)
    # what pandera finds beyond the engine: only "required" at cells the reader couldn't read ...
    assert {f for f in got - expected if empty_to_pandera.get(f[:2]) != f[2]} == set()
    assert got >= expected
    # ... and those are exactly the cells of the reader's type findings
    typed = {(f.sheet, f.cell) for f in report.findings if f.code in TYPE_CODES}
    assert typed == set(empty_to_pandera)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example(path):
    assert_same(read_workbook(path), validate_workbook(path))


def midyear(**fields):
    return measure(**{"midyear_actual": 70, "status": "On Track", **fields})


MIDYEAR = {"Plan Stage": "Mid-Year Update"}

# The plans of test_rules.py, and a few more so that every covered code and every type code
# the reader gives appears at least once (checked by test_the_cases_cover_every_code).
CASES = {
    "valid": (sheets(), {}),
    "targets": (sheets([measure("BCFD-609-01", target=None), measure("BCFD-609-02", target="TBD"),
                        measure("BCFD-602-01", 602, target=" n/a "),
                        measure("BCFD-602-02", 602, target=0)]), {}),
    "baselines": (sheets([measure("BCFD-609-01", target=100),
                          measure("BCFD-609-02", target=100, target_rationale="Staffing"),
                          measure("BCFD-602-01", 602, direction="Decrease", target=120),
                          measure("BCFD-602-02", 602, direction="Decrease", target=100),
                          measure("BCFD-602-03", 602, actual_y2=None, actual_y3=130)]), {}),
    "cells": (sheets([
        measure("BCFD-609-01", measure_type="Outcomes", frequency="Yearly"),
        measure("BCFD609-2", unit="Percent", actual_y3=0.5, actual_y2=0.6, target_y1=0.7,
                midyear_y1=0.6, target=85),
        measure("BCFD-602-01", 602, target="about 40", actual_y2=-3),
        measure("BCFD-602-01", 602, key_measure=None)]), {}),
    "percent as text": (sheets([measure(unit="Percent", actual_y3=0.5, actual_y2=0.6,
                                        target_y1=0.7, midyear_y1=0.6, target="85%"),
                                measure("BCFD-602-01", 602)]), {}),
    "plan rules": (sheets([measure("BCFD-609-01", 609), measure("BCFD-611-01", 611),
                           measure("DOT-602-01", 602), measure("BCFD-609-02", 602, measure_type="Output")],
                          services=[(609, "EMS", "Building Public Safety", 1, ""),
                                    (602, "Fire Suppression", "Building Public Safety", 1, ""),
                                    (999, "Made up", "Building Public Safety", 1, ""),
                                    (610, "Outreach", "Building Public Safety", 1, "")]), {}),
    "outputs only": (sheets([measure("BCFD-609-01", 609),
                             measure("BCFD-602-01", 602, measure_type="Output")]), {}),
    "mid-year": (sheets([midyear(mid="BCFD-609-01", midyear_actual=None, status=None),
                         midyear(mid="BCFD-609-02", midyear_actual=10, status="Off Track"),
                         midyear(mid="BCFD-602-01", svc=602, midyear_actual=10, status="On Track",
                                 status_explanation="Winter"),
                         midyear(mid="BCFD-602-02", svc=602),
                         midyear(mid="BCFD-602-03", svc=602, midyear_actual=None, status="No Data",
                                 status_explanation="Survey not run"),
                         midyear(mid="BCFD-602-04", svc=602, midyear_actual=None, status="No Data"),
                         midyear(mid="BCFD-602-05", svc=602, midyear_actual=65, status="No Data",
                                 status_explanation="Late")],
                        agency=MIDYEAR), {}),
    "year-end": (sheets([midyear(mid="BCFD-609-01", yearend_actual=150, status="Off Track",
                                 status_explanation="Too good"),
                         midyear(mid="BCFD-609-02", yearend_actual=None),
                         midyear(mid="BCFD-602-01", svc=602, unit="Days", direction="Decrease",
                                 midyear_actual=200, yearend_actual=100, status="On Track"),
                         midyear(mid="BCFD-602-02", svc=602, yearend_actual=50, status="At Risk")],
                        agency={"Plan Stage": "Year-End Update"}), {}),
    "stage overridden": (sheets([measure("BCFD-609-01"), measure("BCFD-602-01", 602)]),
                         {"stage": "Year-End Update"}),
    "structure": (sheets(), {}),   # Services sheet removed, target header renamed: see below
    "headers below inserted rows": (sheets([measure("BCFD-609-01", target=None),
                                            measure("BCFD-602-01", 602)], rows_above=3), {}),
    "agency and services": (sheets(
        [measure("BCFD-609-01", target=CellError("#DIV/0!", "1/0"),
                 measure_name=CellError("#N/A")),
         measure("BCFD-602-01", "602x"), measure(None, 602, direction="Sideways")],
        services=[(609, "EMS", "Nowhere", -5, ""), (None, None, "Building Public Safety", "lots", "")],
        agency={"Agency Code": "XYZ", "Agency Name": None, "Fiscal Year": 2028,
                "Plan Stage": "plan", "Head Approval": "Maybe", "Approval Date": "2027-02-30",
                "Submission Date": "8/15/2027"}), {}),
}
del CASES["structure"][0]["Services"]
CASES["structure"][0]["Measures"][2][12] = "Target"
CASES["headers below inserted rows"][0]["Measures"][5][2] = "  measure\nNAME "


def case_plan(name: str) -> Plan:
    data, options = CASES[name]
    return read_plan(list(data), data, source="test.xlsx", **options)


@pytest.mark.parametrize("name", CASES)
def test_every_rule_plan(name):
    plan = case_plan(name)
    assert_same(plan, validate_plan(plan))


def test_the_cases_cover_every_code():
    found = {f.code for name in CASES for f in validate_plan(case_plan(name)).findings}
    assert COVERED | TYPE_CODES <= found


def test_a_measures_frame_with_known_mistakes():
    """By hand: what pandera says about a small Measures frame, the way a pandera user sees it."""
    schema = table_schemas(load_schema(2028))["measures"].schema
    good = measure()
    labels = {c.key: c.label for c in load_schema(2028).measures.columns}
    rows = [dict(good), dict(good, measure_id="BCFD-609-02", unit="Percentage", target=-1),
            dict(good, measure_id="bcfd-609-1", target=0), dict(good, measure_id="BCFD-609-02",
                                                                 target=None)]
    frame = pd.DataFrame([{label: row.get(k) for k, label in labels.items()} for row in rows])
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        schema.validate(frame, lazy=True)
    cases = err.value.failure_cases
    assert sorted(zip(cases["column"], cases["index"].astype(int), cases["check"],
                      map(str, cases["failure_case"]))) == [
        ("FY2028 Target", 1, "greater_than_or_equal_to(0)", "-1.0"),
        ("FY2028 Target", 2, "not_equal_to(0)", "0.0"),
        ("FY2028 Target", 3, "not_nullable", "nan"),
        ("Measure ID", 1, "field_uniqueness", "BCFD-609-02"),
        ("Measure ID", 2, r"str_matches('(?:[A-Z]{2,6}-\d{3}-\d{2})\Z')", "bcfd-609-1"),
        ("Measure ID", 3, "field_uniqueness", "BCFD-609-02"),
        ("Unit", 1, "isin(['Count', 'Percent', 'Dollars', 'Days', 'Hours', 'Minutes', 'Rate', "
                    "'Score'])", "Percentage"),
    ]


# --- planvalidator schema export: pandera alone loads and runs it ---------------------------

def export(tmp_path, *args) -> Path:
    out = tmp_path / "schema.out"
    result = CliRunner().invoke(main, ["schema", "export", "--fiscal-year", *args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    return out


def yaml_schema(tmp_path, *args):
    return pa.DataFrameSchema.from_yaml(export(tmp_path, *args, "--format", "yaml"))


def script_schema(tmp_path, *args):
    namespace = {}
    exec(export(tmp_path, *args, "--format", "python").read_text(encoding="utf-8"), namespace)
    return namespace["schema"]


def read_sheet(name: str, sheet: str) -> pd.DataFrame:
    path = EXAMPLES[0].parent / name
    if sheet == "Agency":   # a Field | Value list: one row, a column per field
        return pd.read_excel(path, sheet_name=sheet, header=2, index_col=0, engine="openpyxl").T
    return pd.read_excel(path, sheet_name=sheet, header=2, engine="openpyxl")


def failures(schema, frame) -> list[tuple]:
    with pytest.raises(pandera.errors.SchemaErrors) as err:
        schema.validate(frame, lazy=True)
    cases = err.value.failure_cases
    rows = zip(cases["column"], cases["index"], cases["check"],
               [None if pd.isna(v) else v for v in cases["failure_case"]])
    return sorted(rows, key=lambda case: (case[0], str(case[1]), case[2]))


@pytest.mark.parametrize("load", [yaml_schema, script_schema])
@pytest.mark.parametrize("example, args", [
    ("bcfd-plan-fy2028-clean.xlsx", ["2028"]),
    ("fy2027/dot-midyear-fy2027-clean.xlsx", ["2027", "--stage", "Mid-Year Update"]),
    ("fy2027/opi-yearend-fy2027-clean.xlsx", ["2027", "--stage", "Year-End Update"])])
def test_the_export_passes_the_clean_examples(tmp_path, load, example, args):
    for table, sheet in (("measures", "Measures"), ("services", "Services"), ("agency", "Agency")):
        schema = load(tmp_path, *args, "--table", table)
        schema.validate(read_sheet(example, sheet), lazy=True)


@pytest.mark.parametrize("load", [yaml_schema, script_schema])
def test_the_export_fails_the_mistakes(tmp_path, load):
    schema = load(tmp_path, "2028")
    lists = load_schema(2028).lists
    assert failures(schema, read_sheet("bpd-plan-fy2028-not-in-list.xlsx", "Measures")) == [
        ("Key Measure", 0, f"isin({list(lists['yes_no'])})", "Y"),
        ("Measure Type", 3, f"isin({list(lists['measure_types'])})", "Outcomes"),
        ("Reporting Frequency", 7, f"isin({list(lists['frequencies'])})", "Yearly"),
    ]
    assert failures(schema, read_sheet("bcrp-plan-fy2028-duplicate-ids.xlsx", "Measures")) == [
        ("Measure ID", 3, "field_uniqueness", "BCRP-648-02"),
        ("Measure ID", 4, "field_uniqueness", "BCRP-648-02"),
        ("Measure ID", 5, r"str_matches('(?:[A-Z]{2,6}-\d{3}-\d{2})\Z')", "BCRP648-3"),
    ]
    # a placeholder target is text in a number column: pandera says it can't be a number
    cases = failures(schema, read_sheet("dpw-plan-fy2028-missing-targets.xlsx", "Measures"))
    assert [c for c in cases if c[2] in ("coerce_dtype('float64')", "not_nullable")] == [
        ("FY2028 Target", 2, "not_nullable", None),
        ("FY2028 Target", 5, "coerce_dtype('float64')", "TBD"),
        ("FY2028 Target", 6, "not_nullable", None),
        ("FY2028 Target", 7, "not_nullable", None),
    ]


def test_export_refuses_bad_input():
    result = CliRunner().invoke(main, ["schema", "export", "--fiscal-year", "2028", "--stage", "Final"])
    assert result.exit_code == 2
    assert "There is no stage 'Final'" in result.output
    result = CliRunner().invoke(main, ["schema", "export", "--fiscal-year", "1999"])
    assert result.exit_code == 2
    assert "There is no schema for fiscal year 1999" in result.output


def test_export_to_a_folder_that_does_not_exist_is_a_plain_message(tmp_path):
    """Written through write_atomic, it says what write_atomic says of every output."""
    target = tmp_path / "missing" / "measures.yaml"
    result = CliRunner().invoke(main, ["schema", "export", "-y", "2028", "-o", str(target)])
    assert result.exit_code == 2
    assert result.output == (f"Error: Cannot write {target}: the folder {target.parent} does "
                             f"not exist.\n")


def test_export_reads_the_schemas_folder_it_is_given(tmp_path):
    """`schema export` had no --schemas: the office's own schemas could not be exported."""
    folder = tmp_path / "schemas"
    shutil.copytree(EXAMPLES[0].parent.parent / "schemas", folder)
    yaml = folder / "fy2028.yaml"
    yaml.write_text(yaml.read_text(encoding="utf-8").replace(
        'label: "FY{Y} Target"', 'label: "Target for FY{Y}"'), encoding="utf-8")
    out = tmp_path / "measures.yaml"
    result = CliRunner().invoke(main, ["schema", "export", "-y", "2028", "--schemas", str(folder),
                                       "-o", str(out)])
    assert result.exit_code == 0, result.output
    columns = pa.DataFrameSchema.from_yaml(out).columns
    assert "Target for FY2028" in columns and "FY2028 Target" not in columns
    assert sorted(p.name for p in tmp_path.iterdir()) == ["measures.yaml", "schemas"]


def test_the_python_form_without_black_is_a_plain_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "black", None)     # as if black were not installed
    result = CliRunner().invoke(main, ["schema", "export", "--fiscal-year", "2028",
                                       "--format", "python"])
    assert result.exit_code == 2
    assert "The python format needs black" in result.output
