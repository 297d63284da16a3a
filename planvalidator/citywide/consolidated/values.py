"""The sheets of plan values: Measures and Services (every accepted plan's rows) and Changes
(what sync changed). Big sheets: their rows are written by output/bigsheet.py, each cell taking
the style of a prototype row — its number format, and on Measures and Services the fill of the
worst finding on the cell it came from, so that no invalid value is published unmarked."""

from __future__ import annotations

from ...a1 import first_cell
from ...findings import ERROR, SEVERITY_ORDER, WARNING
from ...output.bigsheet import BLANK, BigSheet
from ...read.plan import TableData
from ...rules.status import computed_status
from ...schema.loader import Schema
from ..merge import Submission
from .layout import (CENTS, CHANGES_HEADER, DOLLARS, DOLLARS_UNIT, FRACTION, FRACTIONAL_TYPES,
                     PERCENT, PERCENT_UNIT, PLAIN_UNIT, SEVERITY_FILLS, WHOLE,
                     header, is_fraction, number_format, plain_value, plain_values, table)

COMPUTED_STATUS = "Computed Status"  # Measures: status from actual, target and direction
AGENCY_LABELS = ["Agency Code", "Agency Name", "Fiscal Year"]
AGENCY_WIDTHS = [10, 30, 8]
MARKED = (None, ERROR, WARNING)   # a cell's fill: none, or its worst finding's severity


def _variant(unit: int, mark: str | None, fraction: bool) -> int:
    """The prototype row of a cell: its row's unit (plain, percent, dollars) × its mark × a
    fraction."""
    return (unit * len(MARKED) + MARKED.index(mark)) * 2 + int(fraction)


def _prototypes(ws, first: int, columns, unit_rows: bool) -> int:
    """Style the prototype rows under the header (one per _variant); the number of variants."""
    kinds = (PLAIN_UNIT, PERCENT_UNIT, DOLLARS_UNIT) if unit_rows else (PLAIN_UNIT,)
    for unit in kinds:
        for mark in MARKED:
            for fraction in (False, True):
                row = 2 + _variant(unit, mark, fraction)
                for c, column in enumerate(columns, start=first):
                    cell = ws.cell(row, c)
                    fmt = number_format(column.type, 0.5 if fraction else 0, unit)
                    if fmt:
                        cell.number_format = fmt
                    if mark:
                        cell.fill = SEVERITY_FILLS[mark]
    return len(kinds) * len(MARKED) * 2


def cell_marks(sub: Submission, data: TableData) -> dict[tuple[int, str], str]:
    """(row index, column key) → the worst severity of the findings on that cell of the plan.
    A finding lands on the column its label names (else the one its cell is in) and on the row
    its cell is on, unless it names a measure ID that is not that row's: then on that
    measure's row. In a plan laid out anew (Plan.renumbered: read back from a consolidated
    workbook, whose Measures sheet puts three agency columns first and has no blank rows, or
    built by sync) a finding without a measure ID lands on its row only if the row holds the
    value it was found in, else on the one row of its column that does; on no row if none or
    several do."""
    index = {row: i for i, row in enumerate(data.rows)}
    key_at = {col + 1: key for key, col in data.columns.items()}
    key_of = {c.label: c.key for c in data.table.columns if c.key in data.columns}
    ids = data.values.get("measure_id")
    row_of_id: dict = {}
    for i, mid in enumerate(ids or ()):
        row_of_id[mid] = None if mid in row_of_id else i   # a duplicated ID names no one row
    renumbered = sub.plan is not None and sub.plan.renumbered
    marks: dict[tuple[int, str], str] = {}
    for f in sub.report.findings:
        at = first_cell(f.cell) if f.sheet == data.sheet and f.severity in SEVERITY_FILLS else None
        if at is None:
            continue
        i, key = index.get(at[0]), key_of.get(f.column) or key_at.get(at[1])
        if key is None:
            continue
        if f.measure_id and ids and (i is None or ids[i] != f.measure_id):
            i = row_of_id.get(f.measure_id)
        elif renumbered and not f.measure_id:
            i = _row_holding(data.raw.get(key, []), i, f.value)
        if i is None:
            continue
        if (i, key) not in marks or SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[marks[i, key]]:
            marks[i, key] = f.severity
    return marks


def _row_holding(column: list, i: int | None, value) -> int | None:
    """Row i if the column holds `value` there, else the one row that does (None: no such
    row, or several)."""
    if i is not None and i < len(column) and column[i] == value:
        return i
    rows = [r for r, v in enumerate(column) if v == value]
    return rows[0] if len(rows) == 1 else None


def _rows(sheet: BigSheet, sub: Submission, data: TableData, columns, extra=None,
          unit_of=None) -> None:
    """Add `sub`'s rows of `data` to `sheet`, each cell with its number format and mark:
    column by column, as the plan holds its values (a city's plans have ~150,000 cells)."""
    n = len(data.rows)
    units = unit_of or [PLAIN_UNIT] * n
    plain = {unit: _variant(unit, None, False) for unit in set(units)}
    fraction = {unit: _variant(unit, None, True) for unit in set(units)}
    row_variants = [plain[unit] for unit in units]
    marks: dict[str, dict[int, str]] = {}
    for (i, key), severity in cell_marks(sub, data).items():
        marks.setdefault(key, {})[i] = severity
    values, variants = [], []
    for column in columns:
        col = plain_values(data.values.get(column.key, [None] * n))
        cells = ([fraction[u] if is_fraction(v) else p
                  for u, p, v in zip(units, row_variants, col)]
                 if column.type in FRACTIONAL_TYPES else row_variants)
        if column.key in marks:
            col, cells = list(col), list(cells)
            for i, severity in marks[column.key].items():
                cells[i] = _variant(units[i], severity, is_fraction(col[i]))
                if col[i] is None:
                    col[i] = BLANK   # a blank with a finding: an empty cell with its fill
        values.append(col)
        variants.append(cells)
    agency = [[sub.agency] * n, [sub.agency_name] * n, [sub.fiscal_year] * n]
    extra = [extra] if extra is not None else []
    sheet.extend(agency + values + extra,
                 [row_variants] * len(agency) + variants + [row_variants] * len(extra))


def measures(wb, subs: list[Submission], schema: Schema) -> BigSheet:
    ws = wb.create_sheet("Measures")
    columns = schema.measures.columns
    labels = AGENCY_LABELS + [c.label for c in columns] + [COMPUTED_STATUS]
    header(ws, labels, AGENCY_WIDTHS + [c.width or 12 for c in columns] + [11], freeze="B2")
    variants = _prototypes(ws, len(AGENCY_LABELS) + 1, columns, unit_rows=True)
    sheet = BigSheet(ws, width=len(labels), variants=variants)
    for sub, computed in zip(subs, computed_status([s.plan for s in subs])):
        m = sub.plan.measures
        units = m.values.get("unit", [None] * len(m.rows))
        kinds = {unit: unit_kind(sub.plan.schema, unit) for unit in set(units)}
        _rows(sheet, sub, m, columns, extra=[c or None for c in computed],
              unit_of=[kinds[unit] for unit in units])
    table(ws, "Measures", len(labels), sheet.height)
    return sheet


def services(wb, subs: list[Submission], schema: Schema) -> BigSheet:
    ws = wb.create_sheet("Services")
    columns = schema.services.columns
    labels = AGENCY_LABELS + [c.label for c in columns]
    header(ws, labels, AGENCY_WIDTHS + [c.width or 12 for c in columns], freeze="B2")
    variants = _prototypes(ws, len(AGENCY_LABELS) + 1, columns, unit_rows=False)
    sheet = BigSheet(ws, width=len(labels), variants=variants)
    for sub in subs:
        _rows(sheet, sub, sub.plan.services, columns)
    table(ws, "Services", len(labels), sheet.height)
    return sheet


def unit_kind(schema: Schema, unit) -> int:
    """How a measure of this unit shows its values: as percents, dollars, or plain numbers."""
    return {schema.roles.percent_unit: PERCENT_UNIT,
            schema.roles.dollars_unit: DOLLARS_UNIT}.get(unit, PLAIN_UNIT)


# Changes: Old and New shown in their field's format; a prototype row per format.
CHANGE_FORMATS = (None, PERCENT, WHOLE, FRACTION, DOLLARS, "0", CENTS)


def changes(wb, rows: list[list], subs: list[Submission], schema: Schema) -> BigSheet:
    """Every change sync made to the plan, oldest first (earlier syncs' rows carried forward).
    Old and New are shown as Excel shows them on a plan: by the field's type, and a measure's
    values by its unit (percents, dollars)."""
    ws = wb.create_sheet("Changes")
    header(ws, CHANGES_HEADER, [10, 14, 24, 30, 30, 40], freeze="B2")
    for v, fmt in enumerate(CHANGE_FORMATS[1:], start=1):
        for c in (4, 5):
            ws.cell(2 + v, c).number_format = fmt
    ctype = {c.label: c.type for t in (schema.measures, schema.services) for c in t.columns}
    unit_of = {(s.agency, mid): unit_kind(s.plan.schema, unit) for s in subs
               for mid, unit in zip(s.plan.measures.values.get("measure_id", []),
                                    s.plan.measures.values.get("unit", []))}
    sheet = BigSheet(ws, width=len(CHANGES_HEADER), variants=len(CHANGE_FORMATS))
    for row in rows:
        agency, mid, field = row[:3]
        own = {}
        for c in (3, 4):
            if isinstance(row[c], (int, float)) and not isinstance(row[c], bool):
                fmt = number_format(ctype.get(field), row[c], unit_of.get((agency, mid), PLAIN_UNIT))
                own[c] = CHANGE_FORMATS.index(fmt) if fmt in CHANGE_FORMATS else 0
        sheet.rows.append(([plain_value(v) for v in row], 0, own))
    table(ws, "Changes", len(CHANGES_HEADER), len(rows))
    return sheet
