"""Small plans in the template's layout (title, note, header on row 3, data from row 4), as
"sheet name → rows", the form both the .xlsx reader and the add-in payload produce."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from planvalidator.output.atomic import save_workbook
from planvalidator.read.plan import read_plan
from planvalidator.schema.loader import load_schema
from planvalidator.rules.validate import validate_plan

SCHEMA = load_schema(2028)
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DOT_MIDYEAR = EXAMPLES / "fy2027/dot-midyear-fy2027-clean.xlsx"
OPI_YEAREND = EXAMPLES / "fy2027/opi-yearend-fy2027-clean.xlsx"

AGENCY = {"Agency Code": "BCFD", "Agency Name": "Baltimore City Fire Department",
          "Fiscal Year": 2028, "Plan Stage": "Plan", "Prepared By": "Dana Reyes",
          "Email": "dana.reyes@baltimorecity.gov", "Phone": "410-396-0000",
          "Agency Head": "James Wallace", "Head Approval": "Yes", "Approval Date": None,
          "Submission Date": None}

SERVICES = [(609, "Emergency Medical Services", "Building Public Safety", 52_000_000, "EMS"),
            (602, "Fire Suppression and Emergency Rescue", "Building Public Safety", 120_000_000, "")]


def measure(mid="BCFD-609-01", svc=609, **fields) -> dict:
    """A valid measure row; override any field by its schema key."""
    row = {"measure_id": mid, "service_number": svc, "measure_name": "EMS responses",
           "measure_type": "Outcome", "unit": "Count", "direction": "Increase",
           "frequency": "Quarterly", "data_source": "CAD", "actual_y3": 100, "actual_y2": 110,
           "target_y1": 115, "midyear_y1": 60, "target": 120, "key_measure": "Yes",
           "equity_focus": "No"}
    row.update(fields)
    return row


def sheets(measures=None, services=SERVICES, agency=None, rows_above=0, schema=SCHEMA):
    agency_values = dict(AGENCY, **(agency or {}))
    pad = [[None]] * rows_above
    agency_rows = pad + [["Agency"], [None], ["Field", "Value"]] + [
        [label, value] for label, value in agency_values.items()]
    service_rows = pad + [["Services"], [None], [c.label for c in schema.services.columns]] + [
        list(s) for s in services]
    if measures is None:
        measures = [measure("BCFD-609-01", 609), measure("BCFD-602-01", 602)]
    keys = schema.measures.keys
    measure_rows = pad + [["Measures"], [None], [c.label for c in schema.measures.columns]] + [
        [m.get(k) for k in keys] for m in measures]
    return {"Agency": agency_rows, "Services": service_rows, "Measures": measure_rows}


def findings(data: dict, **kw) -> list[tuple[str, str, str]]:
    """(sheet, cell, code) of every finding, in report order."""
    plan = read_plan(list(data), data, source="test.xlsx", **kw)
    return [(f.sheet, f.cell, f.code) for f in validate_plan(plan).findings]


def fill_template(wb, data: dict) -> None:
    """Write a plan given as sheets(...) into a template workbook: Agency values by label,
    Services and Measures rows from row 4 (the rows the template pre-filled are cleared)."""
    agency = wb["Agency"]
    values = {row[0]: row[1] for row in data["Agency"][3:]}
    for (label_cell, value_cell) in agency.iter_rows(min_row=4, max_col=2):
        if label_cell.value in values:
            value_cell.value = values[label_cell.value]
    for name in ("Services", "Measures"):
        ws = wb[name]
        for row in ws.iter_rows(min_row=4):
            for cell in row:
                cell.value = None
        for r, row in enumerate(data[name][3:], start=4):
            for c, value in enumerate(row, start=1):
                ws.cell(r, c).value = value


def plan_file(path, data: dict | None = None, agency: str = "BCFD"):
    """A real .xlsx: the agency's template from the schema, filled with `data`."""
    from planvalidator.output.templates import build_workbook
    wb = build_workbook(SCHEMA, agency)
    fill_template(wb, data or sheets())
    wb.save(path)
    return path


def load_build():
    """examples/build.py as a module: the data the bundled examples are built from."""
    path = Path(__file__).resolve().parent.parent / "examples" / "build.py"
    spec = importlib.util.spec_from_file_location("examples_build", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # its dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def fy2027_plans(folder: Path) -> Path:
    """The FY2027 Plan-stage submissions of BCFD, DOT and OPI, as agencies sent them in spring
    2026 (examples/build.py --cycle writes the same for docs/cycle.md)."""
    b = load_build()
    folder.mkdir(parents=True, exist_ok=True)
    for plan in b.CYCLE["submissions/fy2027"]:
        save_workbook(b.build(plan), folder / plan.file)
    return folder


def mixed_years(path: Path) -> Path:
    """A consolidated plan holding plans of fiscal years 2027 and 2028, as an older
    planvalidator wrote one (a merge takes one year now): the bundled FY2028 examples merged,
    the first agency's row on Summary made FY2027."""
    import openpyxl
    from planvalidator.citywide.consolidated.write import write_consolidated
    from planvalidator.citywide.merge import merge
    write_consolidated(merge(sorted(EXAMPLES.glob("*.xlsx")), one_plan=True), path)
    wb = openpyxl.load_workbook(path)
    ws = wb["Summary"]
    header = [c.value for c in ws[2]]
    ws.cell(3, header.index("Fiscal Year") + 1, 2027)
    wb.save(path)
    return path
