"""The consolidated plan's By Pillar sheet and its Dashboard of native Excel charts.

The Dashboard keeps the numbers its charts draw beside them (from column DATA_COLUMN, outside
the print area), so it does not depend on the layout of the other sheets. Charts are stacked
down the page, each at most AGENCIES_PER_CHART agencies tall so that a city of 60 agencies
still prints with readable bars, and a page break goes before a chart that would not fit on
the current page.
"""

from __future__ import annotations

import math
from collections import Counter

from openpyxl.chart import BarChart, Reference
from openpyxl.chart.series import SeriesLabel
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from ...schema.loader import Schema
from ..merge import Submission
from ..targets import missing_targets, without_target
from .layout import BOLD, TITLE_FONT, header
from .submissions import plan_title

# Status colours by role (names come from schema.roles): what each status means at a glance.
STATUS_COLOURS = {"on_track": "2E7D32", "at_risk": "FFB000", "off_track": "C62828",
                  "no_data": "9E9E9E"}
MEASURES_COLOUR, MISSING_COLOUR = "1F4E78", "7030A0"

AGENCIES_PER_CHART = 22
# Rows and columns get explicit sizes (Excel's and LibreOffice's defaults differ), so that the
# charts, sized in cm, land where the page breaks expect them.
ROW_PT, COLUMN_WIDTH = 15, 10  # a 15 pt row is 0.53 cm; a column of 10 characters 1.98 cm
ROW_CM = ROW_PT * 2.54 / 72
PRINT_COLUMNS = 13             # A:M, 25.8 cm: a landscape Letter page inside the margins
CHART_WIDTH_CM = 24
BAR_CM, CHART_FRAME_CM = 0.5, 3.5
ROWS_PER_PAGE = 34             # 7.3 in of a landscape Letter page inside the margins
DATA_COLUMN = PRINT_COLUMNS + 2   # the charts' numbers, outside the print area


def by_pillar(wb, subs: list[Submission], schema: Schema) -> None:
    """Measures per pillar and type, with and without a target (targets.py's definition)."""
    ws = wb.create_sheet("By Pillar")
    pillars = subs[0].plan.schema.lists["pillars"] if subs else ()
    types = schema.lists["measure_types"]
    labels = ["Pillar", *types, "Measures", "With Target", "Without Target"]
    header(ws, labels, [42] + [12] * len(types) + [10, 12, 14])
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
    rows = []
    for pillar in [*pillars, *extra]:
        with_target = counts[pillar, "target"]
        total = with_target + counts[pillar, "no target"]
        rows.append([pillar, *(counts[pillar, t] for t in types), total, with_target,
                     total - with_target])
    for row in rows:
        ws.append(row)
    ws.append(["Total", *(sum(column) for column in zip(*(r[1:] for r in rows)))]
              if rows else ["Total", *[0] * (len(labels) - 1)])
    for cell in ws[ws.max_row]:
        cell.font = BOLD


def dashboard(wb, subs: list[Submission], schema: Schema) -> None:
    """Charts of `subs` (the plans in Measures), agencies alphabetical from the top; By Pillar
    must exist (the measures-by-type chart draws its Total row)."""
    ws = wb.create_sheet("Dashboard")
    ws.sheet_format.defaultRowHeight, ws.sheet_format.customHeight = ROW_PT, True
    for c in range(1, PRINT_COLUMNS + 1):
        ws.column_dimensions[get_column_letter(c)].width = COLUMN_WIDTH
    subs = sorted(subs, key=lambda s: (s.agency or "", s.name))
    stages = _stages(subs, schema)
    ws["A1"] = (f"{plan_title(schema.fiscal_year)} — Dashboard"
                + (f" ({stages})" if stages else ""))
    ws["A1"].font = TITLE_FONT
    ws["A2"] = (f"{len(subs)} agencies, {sum(len(s.plan.measures.rows) for s in subs):,} "
                f"measures. Agencies in alphabetical order from the top.")
    page = _Pages(ws, first_row=4)
    data = _Data(ws)

    reporting = [s for s in subs if s.stage != s.plan.schema.stages[0]]
    if reporting:
        roles = reporting[0].plan.schema.roles
        block = data.block("Status of measures by agency", ["Agency", *roles.statuses],
                           [[_label(s), *_status_counts(s, roles.statuses)] for s in reporting])
        colour_of = {getattr(roles, role): colour for role, colour in STATUS_COLOURS.items()}
        colours = [colour_of[status] for status in roles.statuses]
        page.bars(block, "Status of measures by agency", colours, stacked=True)

    block = data.block("Measures by agency", ["Agency", "Measures"],
                       [[_label(s), len(s.plan.measures.rows)] for s in subs])
    page.bars(block, "Measures by agency", [MEASURES_COLOUR])

    missing = [[_label(s), n] for s in subs if (n := missing_targets(s.plan))]
    if missing:
        block = data.block("Measures without a target", ["Agency", "Missing Targets"], missing)
        page.bars(block, "Measures without a target (agencies with none are not shown)",
                  [MISSING_COLOUR])
    else:
        page.note("Every measure has a target.")

    pillar = wb["By Pillar"]
    types = len(schema.lists["measure_types"])
    chart = BarChart()
    chart.title, chart.legend = "Measures by type", None
    _visible_axes(chart)
    chart.add_data(Reference(pillar, min_col=2, max_col=1 + types, min_row=pillar.max_row),
                   from_rows=True, titles_from_data=False)
    chart.set_categories(Reference(pillar, min_col=2, max_col=1 + types, min_row=1, max_row=1))
    chart.series[0].graphicalProperties.solidFill = MEASURES_COLOUR
    page.place(chart, 8)
    ws.print_area = f"A1:{get_column_letter(PRINT_COLUMNS)}{page.row}"


def _label(sub: Submission) -> str:
    return sub.agency or sub.name


def _stages(subs: list[Submission], schema: Schema) -> str:
    order = schema.stages
    present = {s.stage for s in subs if s.stage}
    return ", ".join([st for st in order if st in present] + sorted(present - set(order)))


def _status_counts(sub: Submission, statuses: tuple[str, ...]) -> list[int]:
    counts = Counter(sub.plan.measures.values.get("status", []))
    return [counts[s] for s in statuses]


class _Data:
    """Blocks of chart numbers side by side from DATA_COLUMN, each headed by its title."""

    def __init__(self, ws):
        self.ws, self.column = ws, DATA_COLUMN

    def block(self, title: str, header: list[str], rows: list[list]) -> tuple:
        ws, col = self.ws, self.column
        ws.cell(3, col, title).font = BOLD
        for c, label in enumerate(header):
            ws.cell(4, col + c, label).font = BOLD
        for r, row in enumerate(rows, start=5):
            for c, value in enumerate(row):
                cell = ws.cell(r, col + c, value)
                if isinstance(value, str):
                    cell.data_type = "s"   # an agency code is text, even one starting with "="
        self.column += len(header) + 1
        return ws, col, len(header) - 1, len(rows)


class _Pages:
    """Places charts down column A, breaking pages so that no chart is cut in two."""

    def __init__(self, ws, first_row: int):
        self.ws, self.row, self.page_top = ws, first_row, 1

    def place(self, chart, height_cm: float) -> None:
        rows = math.ceil(height_cm / ROW_CM) + 1
        if self.row + rows > self.page_top + ROWS_PER_PAGE and self.row > self.page_top:
            self.ws.row_breaks.append(Break(id=self.row - 1))
            self.page_top = self.row
        chart.height, chart.width = height_cm, CHART_WIDTH_CM
        self.ws.add_chart(chart, f"A{self.row}")
        self.row += rows

    def note(self, text: str) -> None:
        self.ws.cell(self.row, 1, text)
        self.row += 2

    def bars(self, block: tuple, title: str, colours: list[str], stacked: bool = False) -> None:
        """Horizontal bars of a data block, AGENCIES_PER_CHART agencies a chart, all on one
        scale; one series per value column, coloured in order."""
        ws, col, series, count = block
        if not count:
            self.note(f"{title}: no plan to show.")
            return
        top = max(sum(ws.cell(r, col + c).value for c in range(1, series + 1)) if stacked
                  else max(ws.cell(r, col + c).value for c in range(1, series + 1))
                  for r in range(5, 5 + count))
        step = _step(top)
        chunks = math.ceil(count / AGENCIES_PER_CHART)
        size = math.ceil(count / chunks)   # 60 agencies: 3 charts of 20, not 22 + 22 + 16
        for i in range(chunks):
            first = 5 + i * size
            last = min(first + size, 5 + count) - 1
            chart = BarChart()
            chart.type = "bar"
            chart.title = title if chunks == 1 else (
                f"{title}: {ws.cell(first, col).value} to {ws.cell(last, col).value}")
            if stacked:
                chart.grouping, chart.overlap = "stacked", 100
            else:
                chart.legend = None if series == 1 else chart.legend
            for c, colour in enumerate(colours, start=1):
                chart.add_data(Reference(ws, min_col=col + c, min_row=first, max_row=last),
                               titles_from_data=False)
                bars = chart.series[-1]
                bars.tx = SeriesLabel(v=ws.cell(4, col + c).value)
                bars.graphicalProperties.solidFill = colour
                bars.graphicalProperties.line.solidFill = colour
            chart.set_categories(Reference(ws, min_col=col, min_row=first, max_row=last))
            _visible_axes(chart)
            chart.x_axis.scaling.orientation = "maxMin"   # first agency at the top
            chart.y_axis.crosses = "max"                  # and the value axis at the bottom
            chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, step * math.ceil(top / step)
            chart.y_axis.majorUnit = step
            chart.y_axis.number_format = "0"
            chart.gapWidth = 40
            self.place(chart, (last - first + 1) * BAR_CM + CHART_FRAME_CM)


def _visible_axes(chart) -> None:
    """openpyxl ≥ 3.1 marks axes deleted unless told otherwise; Excel then draws none."""
    chart.x_axis.delete = chart.y_axis.delete = False


def _step(top: int) -> int:
    """A round tick step giving 4-10 ticks up to `top` (at least 1: counts are whole)."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if top <= step * 10:
            return step
    return 10 ** len(str(top)) // 10
