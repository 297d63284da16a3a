"""The consolidated citywide plan workbook: Summary, Measures, Services, Findings, By Pillar,
Dashboard, Changes (after a sync) and Sources, written once, atomically and deterministically.

Each sheet is laid out with openpyxl (submissions.py: Summary, Findings, Sources; values.py:
Measures, Services, Changes; By Pillar and Dashboard here); the big ones get their rows from
output/bigsheet.py, which is ~20× faster per cell. layout.py holds what they share.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference

from ..merge import Consolidation, Submission
from ..targets import without_target
from ...output.atomic import save_workbook
from ...schema.loader import Schema, load_schema
from ...output.bigsheet import splice
from . import submissions, values
from .layout import BOLD, TITLE_FONT, header as _header, write_row as _write_row
from .submissions import SUMMARY_HEADER_ROW, source_rows

__all__ = ["write_consolidated", "source_rows"]   # source_rows: sync.py's import
CREATOR = "planvalidator"


def write_consolidated(cons: Consolidation, out, reject_errors: bool = False,
                       timestamp: dt.datetime | None = None) -> None:
    wb = Workbook()
    wb.remove(wb.active)
    accepted = cons.accepted
    in_measures = [s for s in accepted if not (reject_errors and s.report.errors)]
    schemas = _schemas(accepted)
    years = [s.fiscal_year for s in schemas]
    submissions.summary(wb, accepted, years, timestamp)
    measures = values.measures(wb, in_measures, schemas)
    services = values.services(wb, accepted, schemas)
    findings = submissions.findings(wb, cons)
    _by_pillar(wb, in_measures, schemas)
    _dashboard(wb, in_measures, summary_rows=len(accepted), types=len(_measure_types(schemas)))
    big = [measures, services, findings]
    if cons.changes is not None:
        big.append(values.changes(wb, cons.changes, accepted, schemas))
    submissions.sources(wb, cons)
    wb.active = 0
    wb.properties.title = submissions.plan_title(years)
    wb.properties.creator = wb.properties.lastModifiedBy = CREATOR
    save_workbook(wb, out, timestamp=timestamp, transform=splice(big))


def _schemas(accepted: list[Submission]) -> list[Schema]:
    seen: dict[int, Schema] = {}
    for s in accepted:
        seen.setdefault(s.plan.schema.fiscal_year, s.plan.schema)
    return [seen[y] for y in sorted(seen)]


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
        for svc, mtype, missing in zip(m.values.get("service_number", []),
                                       m.values.get("measure_type", []), without_target(plan)):
            pillar = pillar_of.get(svc) or "(unknown pillar)"
            counts[pillar, mtype] += 1
            counts[pillar, "no target" if missing else "target"] += 1
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
        cell.font = BOLD


def _dashboard(wb, in_measures, summary_rows: int, types: int) -> None:
    """Native Excel charts, stacked down column A (one page wide when printed); the status
    counts they need sit to the right, from column M. `types`: how many measure types By
    Pillar counts (its columns B onwards)."""
    ws = wb.create_sheet("Dashboard")
    ws["A1"] = "Citywide performance plan — dashboard"
    ws["A1"].font = TITLE_FONT
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    row = 3

    def place(chart, height_cm):
        nonlocal row
        chart.height, chart.width = height_cm, 18
        ws.add_chart(chart, f"A{row}")
        row += int(height_cm / 0.5) + 3   # ~0.5 cm a row

    n = max(summary_rows, 1)
    summary, top = wb["Summary"], SUMMARY_HEADER_ROW
    per_agency = BarChart()
    per_agency.type, per_agency.title = "bar", "Measures and missing targets by agency"
    per_agency.y_axis.title = "Measures"
    for col in (6, 8):  # Measures, Missing Targets
        per_agency.add_data(Reference(summary, min_col=col, min_row=top, max_row=top + n),
                            titles_from_data=True)
    per_agency.set_categories(Reference(summary, min_col=1, min_row=top + 1, max_row=top + n))
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
        ws.cell(3, col, "Status of measures by agency").font = BOLD
        statuses = reporting[0].plan.schema.roles.statuses
        for c, status in enumerate(("Agency",) + statuses):
            ws.cell(4, col + c, status).font = BOLD
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
