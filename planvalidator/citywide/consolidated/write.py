"""The consolidated citywide plan workbook: Summary, Measures, Services, Findings, By Pillar,
Dashboard, Changes (after a sync) and Sources, written once, atomically and deterministically.

Small sheets are written with openpyxl; the three big ones (Measures, Services, Findings) get
their rows from output/bigsheet.py, which is ~20× faster per cell.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from ...findings import ERROR, WARNING
from ..merge import Consolidation, Submission
from .dashboard import by_pillar, dashboard, plan_title
from ...output.atomic import save_workbook
from ...schema.loader import Schema
from ...output.bigsheet import BigSheet, splice
from ...output.printing import set_up_printing
from ...read.xlsx import CellError
from ...rules.status import computed_status

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
SEVERITY_FILLS = {ERROR: PatternFill("solid", fgColor="FFC7CE"),
                  WARNING: PatternFill("solid", fgColor="FFEB9C")}
NUMBER_FORMATS = {"integer": "0", "dollars": '"$"#,##0', "number": "#,##0.##",
                  "measure": "#,##0.##", "date": "yyyy-mm-dd"}

SUMMARY_HEADER = ["Agency Code", "Agency Name", "Fiscal Year", "Stage", "Services", "Measures",
                  "Key Measures", "Missing Targets", "Errors", "Warnings", "Template Version",
                  "Submission Date", "Source File", "Status"]
FINDINGS_HEADER = ["Agency", "Source File", "Location", "Severity", "Code", "Measure ID",
                   "Column", "Value", "Message", "How to Fix"]
SOURCES_HEADER = ["File", "SHA-256", "Size (bytes)", "Agency", "Fiscal Year", "Stage",
                  "Template Version", "Submission Date", "Result", "Superseded By", "Reason"]
CHANGES_HEADER = ["Agency", "Measure ID", "Field", "Old", "New", "Source File"]
COMPUTED_STATUS = "Computed Status"  # Measures: status from actual, target and direction


def _write_row(ws, row: int, values: list) -> None:
    """Write `values` on `row`; text is always text (openpyxl would store '=...' from a
    submission as a formula). Callers count rows: ws.max_row scans every cell."""
    for c, value in enumerate(values, start=1):
        cell = ws.cell(row, c, value)
        if cell.data_type == "f":
            cell.data_type = "s"


def write_consolidated(cons: Consolidation, out: Path, reject_errors: bool = False,
                       timestamp: dt.datetime | None = None) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    accepted = cons.accepted
    in_measures = [s for s in accepted if not (reject_errors and s.report.errors)]
    schemas = _schemas(accepted)
    _summary(wb, accepted)
    measures = _measures(wb, in_measures, schemas)
    services = _services(wb, accepted, schemas)
    findings = _findings(wb, cons)
    by_pillar(wb, in_measures, schemas, _header)
    dashboard(wb, in_measures, schemas, _missing_targets)
    big = [measures, services, findings]
    if cons.changes is not None:
        big.append(_changes(wb, cons.changes))
    _sources(wb, cons)
    for ws in wb.worksheets:
        set_up_printing(ws, plan_title(accepted))
    wb.active = 0
    save_workbook(wb, out, timestamp=timestamp, transform=splice(big))


# --- helpers ------------------------------------------------------------------------------

def _schemas(accepted: list[Submission]) -> list[Schema]:
    seen: dict[int, Schema] = {}
    for s in accepted:
        seen.setdefault(s.plan.schema.fiscal_year, s.plan.schema)
    return [seen[y] for y in sorted(seen)]


def _header(ws, labels: list[str], widths: list[int] | None = None) -> None:
    ws.append(labels)
    for c, label in enumerate(labels, start=1):
        cell = ws.cell(1, c)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = (widths[c - 1] if widths else
                                                            max(10, min(40, len(label) + 4)))
    ws.freeze_panes = "A2"


def _table(ws, name: str, width: int, rows: int) -> None:
    ref = f"A1:{get_column_letter(width)}{max(rows, 1) + 1}"
    table = Table(displayName=name, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    # Name the columns from the header row here: openpyxl would otherwise create every cell of
    # the table's range to find them (~50,000 for a city's Measures sheet, half a second).
    table._initialise_columns()
    for column, cell in zip(table.tableColumns, ws[1]):
        column.name = str(cell.value)
    ws.add_table(table)


def _value(v):
    """A plan value as the consolidated workbook holds it."""
    if isinstance(v, CellError):
        return v.text or f"={v.formula}"  # written as text by bigsheet
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    return v


def _generic_label(label_template: str) -> str:
    return re.sub(r"\{(Y[+-]?\d*)\}", r"(\1)", label_template)


def _measure_labels(schemas: list[Schema]) -> list[str]:
    """Concrete labels (FY2028 Target) when all plans share a year; else generic (FY(Y) Target)."""
    if len(schemas) == 1:
        return [c.label for c in schemas[0].measures.columns]
    labels = []
    first = schemas[0]
    for column in first.measures.columns:
        years = {str(s.fiscal_year + d) for s in schemas for d in range(-5, 2)}
        label = column.label
        for year in sorted(years, reverse=True):
            label = label.replace(f"FY{year}", "FY{Y%+d}" % (int(year) - first.fiscal_year))
        labels.append(_generic_label(label.replace("{Y+0}", "{Y}")))
    return labels


# --- sheets -------------------------------------------------------------------------------

def _summary(wb, accepted: list[Submission]) -> None:
    ws = wb.create_sheet("Summary")
    _header(ws, SUMMARY_HEADER, [12, 40, 10, 16, 9, 9, 9, 10, 8, 9, 10, 12, 40, 15])
    for row, sub in enumerate(accepted, start=2):
        r, plan = sub.report, sub.plan
        key = plan.measures.values.get("key_measure", [])
        _write_row(ws, row, [sub.agency, sub.agency_name, sub.fiscal_year, sub.stage,
                             len(plan.services.rows), len(plan.measures.rows),
                             key.count(plan.schema.roles.key_measure), _missing_targets(sub),
                             r.errors, r.warnings, sub.template_version, sub.submission_date,
                             sub.name, "Needs revision" if r.errors else "Accepted"])
        ws.cell(row, 12).number_format = "yyyy-mm-dd"
        if r.errors:
            ws.cell(row, 14).fill = SEVERITY_FILLS[ERROR]
    _table(ws, "Summary", len(SUMMARY_HEADER), len(accepted))


def _missing_targets(sub: Submission) -> int:
    return sum(1 for f in sub.report.findings if f.code in ("missing-target", "placeholder-target"))


def _measures(wb, subs: list[Submission], schemas: list[Schema]) -> BigSheet:
    ws = wb.create_sheet("Measures")
    columns = schemas[0].measures.columns if schemas else ()
    labels = (["Agency Code", "Agency Name", "Fiscal Year"] + _measure_labels(schemas)
              + [COMPUTED_STATUS])
    _header(ws, labels, [10, 30, 8] + [c.width or 12 for c in columns] + [11])
    # prototype rows: 2 = plain, 3 = a Percent measure (values shown as %)
    for variant, percent in ((2, False), (3, True)):
        for c, column in enumerate(columns, start=4):
            fmt = "0.0%" if percent and column.type == "measure" else NUMBER_FORMATS.get(column.type)
            if fmt:
                ws.cell(variant, c).number_format = fmt
    sheet = BigSheet(ws, width=len(labels), variants=2)
    for sub, computed in zip(subs, computed_status([s.plan for s in subs])):
        m = sub.plan.measures
        cols = [m.values.get(c.key, [None] * len(m.rows)) for c in columns]
        units = m.values.get("unit", [None] * len(m.rows))
        percent_unit = sub.plan.schema.roles.percent_unit
        for i in range(len(m.rows)):
            sheet.rows.append(([sub.agency, sub.agency_name, sub.fiscal_year]
                               + [_value(col[i]) for col in cols] + [computed[i] or None],
                               int(units[i] == percent_unit)))
    _table(ws, "Measures", len(labels), len(sheet.rows))
    return sheet


def _services(wb, subs: list[Submission], schemas: list[Schema]) -> BigSheet:
    ws = wb.create_sheet("Services")
    columns = schemas[0].services.columns if schemas else ()
    labels = ["Agency Code", "Agency Name", "Fiscal Year"] + [c.label for c in columns]
    _header(ws, labels, [10, 30, 8] + [c.width or 12 for c in columns])
    for c, column in enumerate(columns, start=4):
        if column.type in NUMBER_FORMATS:
            ws.cell(2, c).number_format = NUMBER_FORMATS[column.type]
    sheet = BigSheet(ws, width=len(labels))
    for sub in subs:
        s = sub.plan.services
        cols = [s.values.get(c.key, [None] * len(s.rows)) for c in columns]
        for i in range(len(s.rows)):
            sheet.rows.append(([sub.agency, sub.agency_name, sub.fiscal_year]
                               + [_value(col[i]) for col in cols], 0))
    _table(ws, "Services", len(labels), len(sheet.rows))
    return sheet


def _findings(wb, cons: Consolidation) -> BigSheet:
    ws = wb.create_sheet("Findings")
    _header(ws, FINDINGS_HEADER, [10, 36, 26, 9, 24, 14, 22, 16, 80, 60])
    sheet = BigSheet(ws, width=len(FINDINGS_HEADER))
    for sub in sorted(cons.submissions, key=lambda s: (s.agency, s.name)):
        for f in sub.report.findings:
            where = f"{sub.agency or sub.name} › {f.location}" if f.location else sub.name
            sheet.rows.append(([sub.agency, sub.name, where, f.severity, f.code, f.measure_id,
                                f.column, _value(f.value), f.message, f.hint], 0))
    _table(ws, "Findings", len(FINDINGS_HEADER), len(sheet.rows))
    return sheet


def source_rows(subs: list[Submission]) -> list[list]:
    """The Sources rows of these submissions, by file name."""
    rows = []
    for sub in sorted(subs, key=lambda s: s.name):
        reason = sub.report.findings[0].message if not sub.readable else ""
        row = [sub.name, sub.sha256, sub.size, sub.agency, sub.fiscal_year, sub.stage,
               sub.template_version, sub.submission_date, sub.result, sub.superseded_by, reason]
        rows.append([None if v == "" else v for v in row])   # empty cells, not empty text
    return rows


def _sources(wb, cons: Consolidation) -> None:
    ws = wb.create_sheet("Sources")
    _header(ws, SOURCES_HEADER, [40, 66, 12, 10, 10, 16, 10, 12, 12, 40, 60])
    rows = cons.sources if cons.sources is not None else source_rows(cons.submissions)
    for r, row in enumerate(rows, start=2):
        _write_row(ws, r, row)
        ws.cell(r, 8).number_format = "yyyy-mm-dd"
    _table(ws, "Sources", len(SOURCES_HEADER), len(rows))


def _changes(wb, rows: list[list]) -> BigSheet:
    """Every change sync made to the plan, oldest first (earlier syncs' rows carried forward)."""
    ws = wb.create_sheet("Changes")
    _header(ws, CHANGES_HEADER, [10, 14, 24, 30, 30, 40])
    sheet = BigSheet(ws, width=len(CHANGES_HEADER))
    sheet.rows = [([_value(v) for v in row], 0) for row in rows]
    _table(ws, "Changes", len(CHANGES_HEADER), len(rows))
    return sheet
