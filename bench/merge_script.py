"""The peer for the merge benchmark: the plain script a competent analyst would write to merge
the agencies' plan workbooks without planvalidator.

    python bench/merge_script.py FOLDER OUT.xlsx

For each FOLDER/*.xlsx: python-calamine reads the Agency, Services and Measures sheets (header
in row 3, data from row 4); the Measures rows become a pandas DataFrame, validated with a
straightforward pandera DataFrameSchema (dtypes with coercion, the dropdown lists with isin,
nullable=False for required columns, ge(0) for numbers, unique Measure IDs, str_matches for
their format; lazy=True, SchemaErrors caught and its failure_cases collected). Then one openpyxl
workbook (normal mode) is written: Summary (one row per agency with counts), Measures (every
row of every agency) and Findings (every failure case). It prints one line: agencies, measures,
failure cases.

It deliberately does nothing planvalidator-specific (no import of it, no schema YAML): lists
and labels are written out for FY2028, as an analyst would.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pandera.pandas as pa
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

HEADER_ROW = 3  # 1-based; data starts on the next row
MEASURE_TYPES = ["Output", "Efficiency", "Effectiveness", "Outcome"]
UNITS = ["Count", "Percent", "Dollars", "Days", "Hours", "Minutes", "Rate", "Score"]
DIRECTIONS = ["Increase", "Decrease", "Maintain"]
FREQUENCIES = ["Monthly", "Quarterly", "Semi-Annually", "Annually"]
STATUSES = ["On Track", "At Risk", "Off Track", "No Data"]
YES_NO = ["Yes", "No"]


def text(required=False, isin=None, **kw):
    checks = [pa.Check.isin(isin)] if isin else []
    return pa.Column(str, checks=checks, nullable=not required, coerce=True, **kw)


def number(required=False):
    return pa.Column(float, checks=[pa.Check.ge(0)], nullable=not required, coerce=True)


MEASURES = pa.DataFrameSchema({
    "Measure ID": pa.Column(str, checks=[pa.Check.str_matches(r"[A-Z]{2,6}-\d{3}-\d{2}")],
                            nullable=False, unique=True, coerce=True),
    "Service Number": pa.Column("Int64", nullable=False, coerce=True),
    "Measure Name": text(required=True),
    "Measure Type": text(required=True, isin=MEASURE_TYPES),
    "Unit": text(required=True, isin=UNITS),
    "Desired Direction": text(required=True, isin=DIRECTIONS),
    "Reporting Frequency": text(required=True, isin=FREQUENCIES),
    "Data Source": text(required=True),
    "FY2025 Actual": number(),
    "FY2026 Actual": number(),
    "FY2027 Target": number(),
    "FY2027 Mid-Year Actual": number(),
    "FY2028 Target": number(required=True),
    "Target Rationale": text(),
    "Key Measure": text(required=True, isin=YES_NO),
    "Equity Focus": text(isin=YES_NO),
    "Mid-Year Actual": number(),
    "Year-End Actual": number(),
    "Status": text(isin=STATUSES),
    "Status Explanation": text(),
    "Notes": text(),
})


def read_table(wb: CalamineWorkbook, sheet: str) -> pd.DataFrame:
    rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    header = rows[HEADER_ROW - 1]
    data = [[None if v == "" else v for v in row] for row in rows[HEADER_ROW:]
            if any(v != "" for v in row)]
    return pd.DataFrame(data, columns=header)


def read_fields(wb: CalamineWorkbook, sheet: str) -> dict:
    rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return {row[0]: row[1] for row in rows[HEADER_ROW:] if len(row) > 1 and row[0] != ""}


def main(folder: str, out: str) -> int:
    summary, measures, findings = [], [], []
    for path in sorted(Path(folder).glob("*.xlsx")):
        wb = CalamineWorkbook.from_path(str(path))
        agency = read_fields(wb, "Agency")
        services = read_table(wb, "Services")
        frame = read_table(wb, "Measures")
        code = agency.get("Agency Code")
        try:
            MEASURES.validate(frame, lazy=True)
            failures = pd.DataFrame()
        except pa.errors.SchemaErrors as e:
            failures = e.failure_cases
        frame.insert(0, "Agency Code", code)
        measures.append(frame)
        summary.append([code, agency.get("Agency Name"), path.name, len(services), len(frame),
                        int((frame["Key Measure"] == "Yes").sum()),
                        int(frame["FY2028 Target"].isna().sum()), len(failures)])
        for case in failures.itertuples(index=False):
            row = "" if pd.isna(case.index) else int(case.index) + HEADER_ROW + 1
            findings.append([code, path.name, row, case.column, case.check,
                             None if pd.isna(case.failure_case) else str(case.failure_case)])

    book = Workbook()
    ws = book.active
    ws.title = "Summary"
    ws.append(["Agency Code", "Agency Name", "Source File", "Services", "Measures",
               "Key Measures", "Missing Targets", "Failure Cases"])
    for row in summary:
        ws.append(row)
    ws = book.create_sheet("Measures")
    everything = pd.concat(measures, ignore_index=True)
    ws.append(list(everything.columns))
    for row in everything.itertuples(index=False):
        ws.append([None if v is None or (isinstance(v, float) and v != v) else v for v in row])
    ws = book.create_sheet("Findings")
    ws.append(["Agency Code", "Source File", "Row", "Column", "Check", "Value"])
    for row in findings:
        ws.append(row)
    book.save(out)
    print(f"{len(summary)} agencies, {len(everything)} measures, {len(findings)} failure cases")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    sys.exit(main(sys.argv[1], sys.argv[2]))
