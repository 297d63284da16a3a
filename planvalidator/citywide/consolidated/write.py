"""The consolidated citywide plan workbook: Summary, Measures, Services, Findings, By Pillar,
Dashboard, Changes (after a sync) and Sources, written once, atomically and deterministically.

Small sheets are written with openpyxl; the three big ones (Measures, Services, Findings) get
their rows from output/bigsheet.py, which is ~20× faster per cell.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.table import Table, TableStyleInfo

from ...findings import ERROR, WARNING
from ..merge import Consolidation, Submission
from ...output.atomic import save_workbook
from ...schema.loader import Schema, load_schema
from ...output.bigsheet import BigSheet, splice
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
    _by_pillar(wb, in_measures, schemas)
    _dashboard(wb, in_measures, summary_rows=len(accepted), types=len(_measure_types(schemas)))
    big = [measures, services, findings]
    if cons.changes is not None:
        big.append(_changes(wb, cons.changes))
    _sources(wb, cons)
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


def _measure_types(schemas: list[Schema]) -> tuple[str, ...]:
    """The measure types of the plans' schemas, newest first in its order (the default
    schema's when no plan was accepted, so the sheet keeps its columns)."""
    types: dict[str, None] = {}
    for schema in reversed(schemas or [load_schema()]):
        types |= dict.fromkeys(schema.lists["measure_types"])
    return tuple(types)


def _by_pillar(wb, subs: list[Submission], schemas: list[Schema]) -> None:
    ws = wb.create_sheet("By Pillar")
    pillars = subs[0].plan.schema.lists["pillars"] if subs else ()
    types = _measure_types(schemas)
    header = ["Pillar", *types, "Measures", "With Target", "Without Target"]
    _header(ws, header, [42, 10, 11, 14, 10, 10, 12, 14])
    counts: Counter = Counter()
    for sub in subs:
        plan = sub.plan
        pillar_of = dict(zip(plan.services.values.get("service_number", []),
                             plan.services.values.get("pillar", [])))
        m = plan.measures
        for svc, mtype, target in zip(m.values.get("service_number", []),
                                      m.values.get("measure_type", []),
                                      m.values.get("target", [None] * len(m.rows))):
            pillar = pillar_of.get(svc) or "(unknown pillar)"
            counts[pillar, mtype] += 1
            counts[pillar, "target" if isinstance(target, (int, float)) else "no target"] += 1
    extra = sorted({p for p, _ in counts} - set(pillars))
    for row, pillar in enumerate([*pillars, *extra], start=2):
        by_type = [counts[pillar, t] for t in types]
        with_target = counts[pillar, "target"]
        total = with_target + counts[pillar, "no target"]
        _write_row(ws, row, [pillar, *by_type, total, with_target, total - with_target])
    totals = [sum(ws.cell(r, c).value for r in range(2, ws.max_row + 1))
              for c in range(2, len(header) + 1)]
    ws.append(["Total", *totals])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)


def _dashboard(wb, in_measures, summary_rows: int, types: int) -> None:
    """Native Excel charts, stacked down column A (one page wide when printed); the status
    counts they need sit to the right, from column M. `types`: how many measure types By
    Pillar counts (its columns B onwards)."""
    ws = wb.create_sheet("Dashboard")
    ws["A1"] = "Citywide performance plan — dashboard"
    ws["A1"].font = Font(bold=True, size=14)
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    row = 3

    def place(chart, height_cm):
        nonlocal row
        chart.height, chart.width = height_cm, 18
        ws.add_chart(chart, f"A{row}")
        row += int(height_cm / 0.5) + 3   # ~0.5 cm a row

    n = max(summary_rows, 1)
    summary = wb["Summary"]
    per_agency = BarChart()
    per_agency.type, per_agency.title = "bar", "Measures and missing targets by agency"
    per_agency.y_axis.title = "Measures"
    for col in (6, 8):  # Measures, Missing Targets
        per_agency.add_data(Reference(summary, min_col=col, min_row=1, max_row=n + 1),
                            titles_from_data=True)
    per_agency.set_categories(Reference(summary, min_col=1, min_row=2, max_row=n + 1))
    place(per_agency, max(9, 0.8 * n + 3))

    pillar = wb["By Pillar"]
    total_row = pillar.max_row
    by_type = BarChart()
    by_type.title, by_type.y_axis.title, by_type.legend = "Measures by type", "Measures", None
    by_type.add_data(Reference(pillar, min_col=2, max_col=1 + types, min_row=total_row,
                               max_row=total_row), from_rows=True, titles_from_data=False)
    by_type.set_categories(Reference(pillar, min_col=2, max_col=1 + types, min_row=1, max_row=1))
    place(by_type, 7.5)

    reporting = [s for s in in_measures if s.stage != s.plan.schema.stages[0]]
    if reporting:
        col = 13
        ws.cell(3, col, "Status of measures by agency").font = Font(bold=True)
        statuses = reporting[0].plan.schema.roles.statuses
        for c, status in enumerate(("Agency",) + statuses):
            ws.cell(4, col + c, status).font = Font(bold=True)
        for r, sub in enumerate(reporting, start=5):
            counts = Counter(sub.plan.measures.values.get("status", []))
            ws.cell(r, col, sub.agency).data_type = "s"
            for c, status in enumerate(statuses, start=1):
                ws.cell(r, col + c, counts[status])
        last = 4 + len(reporting)
        status = BarChart()
        status.type, status.grouping, status.overlap = "bar", "stacked", 100
        status.title = "Status at mid-year / year-end by agency"
        status.add_data(Reference(ws, min_col=col + 1, max_col=col + len(statuses), min_row=4,
                                  max_row=last),
                        titles_from_data=True)
        status.set_categories(Reference(ws, min_col=col, min_row=5, max_row=last))
        place(status, max(7.5, 0.5 * len(reporting) + 3))


def source_rows(subs: list[Submission]) -> list[list]:
    """The Sources rows of these submissions, by file name."""
    rows = []
    for sub in sorted(subs, key=lambda s: s.name):
        reason = sub.report.findings[0].message if not sub.readable else sub.superseded_why
        row = [sub.name, sub.sha256, sub.size, sub.agency, sub.fiscal_year, sub.stage,
               sub.template_version, sub.submission_date, sub.result, sub.superseded_by, reason]
        rows.append([None if v == "" else v for v in row])   # empty cells, not empty text
    return rows


def _sources(wb, cons: Consolidation) -> None:
    ws = wb.create_sheet("Sources")
    _header(ws, SOURCES_HEADER, [40, 66, 12, 10, 10, 16, 10, 12, 12, 40, 60])
    rows = cons.sources if cons.sources is not None else sorted(
        source_rows(cons.submissions) + [[p.name] + [None] * 7 + ["Not read", None, why]
                                         for p, why in cons.not_read], key=lambda r: r[0])
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
