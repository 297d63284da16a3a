"""Plan templates: the workbook agencies fill, built from the schema alone.

Layout of every table sheet: row 1 a title, row 2 a one-line instruction, row 3 the header row
(labels from the schema), data from row 4. Closed lists become dropdowns; input cells are
unlocked and the sheets protected without a password, so only headers and titles are guarded.

Regenerate the committed blank templates with `python -m planvalidator.output.templates`.
"""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.formatting.rule import Rule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.styles.differential import DifferentialStyle
from openpyxl.styles.numbers import NumberFormat
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation

from ..errors import UnknownAgency
from .atomic import save_workbook
from .printing import set_up_printing
from ..schema.loader import (IDENTITY_SHEET, Column, Schema, Table, available_years, load_schema,
                             packaged_folder)

TEMPLATE_DIR = packaged_folder("templates")   # the committed blank templates
TITLE_ROW, INSTRUCTION_ROW, HEADER_ROW, FIRST_DATA_ROW = 1, 2, 3, 4
DATA_ROWS = 500
LAST_DATA_ROW = FIRST_DATA_ROW + DATA_ROWS
LISTS_SHEET = "_lists"
# Lists from the service catalog change every cycle and grow long: always kept on LISTS_SHEET.
CATALOG_LISTS = ("pillars", "agencies")
INLINE_LIST_MAX = 200  # Excel allows 255 characters in an inline list

NUMBER_FORMATS = {"dollars": '"$"#,##0', "integer": "0", "date": "yyyy-mm-dd"}
UNLOCKED = Protection(locked=False)
TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True, color="595959")
BOLD = Font(bold=True)
THIN = Side(style="thin", color="808080")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center")
WRAP_TOP = Alignment(wrap_text=True, vertical="top")
REQUIRED_HEADER = (Font(bold=True, color="FFFFFF"), PatternFill("solid", fgColor="1F4E78"))
OPTIONAL_HEADER = (Font(bold=True), PatternFill("solid", fgColor="DDEBF7"))


def template_name(schema: Schema, agency: str | None = None) -> str:
    year = schema.fiscal_year
    return f"plan-fy{year}-{agency}.xlsx" if agency else f"plan-template-fy{year}.xlsx"


def build_templates(schema: Schema, agencies: list[str] | None, out_dir) -> list[Path]:
    """Write one template per agency (or one blank template when agencies is None)."""
    codes = [_agency_code(schema, a) for a in agencies] if agencies is not None else [None]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for code in codes:
        path = out_dir / template_name(schema, code)
        save_workbook(build_workbook(schema, code), path)
        paths.append(path)
    return paths


def build_workbook(schema: Schema, agency: str | None = None) -> Workbook:
    """The plan workbook for one fiscal year, blank or pre-filled for one agency."""
    code = _agency_code(schema, agency) if agency is not None else None
    wb = Workbook()
    _instructions(wb.active, schema)
    lists = _ListSheet(schema)
    _agency_sheet(wb.create_sheet(schema.agency.sheet), schema, code, lists)
    for table in (schema.services, schema.measures):
        _table_sheet(wb.create_sheet(table.sheet), schema, table, lists)
    if code:
        _prefill_services(wb[schema.services.sheet], schema, code)
    _identity_sheet(wb.create_sheet(IDENTITY_SHEET), schema, code)
    lists.write(wb.create_sheet(LISTS_SHEET))
    wb.security = WorkbookProtection(lockStructure=True)
    wb.properties.creator = "planvalidator"
    wb.properties.title = f"FY{schema.fiscal_year} Performance Plan" + (f" — {code}" if code else "")
    for ws in wb.worksheets:
        if ws.sheet_state == "visible":
            set_up_printing(ws, wb.properties.title)
    wb.active = 0
    return wb


def _agency_code(schema: Schema, agency: str) -> str:
    code = str(agency).strip().upper()
    if code not in schema.agencies:
        raise UnknownAgency(f"Unknown agency code '{agency}'. Valid codes for "
                            f"FY{schema.fiscal_year}: {', '.join(sorted(schema.agencies))}.")
    return code


# ---- sheets ---------------------------------------------------------------------------------

def _instructions(ws, schema: Schema) -> None:
    year, agency, services, measures = (schema.fiscal_year, schema.agency, schema.services,
                                        schema.measures)
    roles = schema.roles
    label = {c.key: c.label for t in schema.tables for c in t.columns}
    picks = [c.label for c in measures.columns if c.list]
    picks = ", ".join(picks[:-1]) + f" and {picks[-1]}" if len(picks) > 1 else "".join(picks)
    rows: list[tuple[str, str] | str] = [
        ("Fiscal year", f"FY{year}: July 1, {year - 1} to June 30, {year}"),
        ("Template version", schema.template_version),
        ("Questions", schema.contact),
        "How to fill the plan",
        ("1", f"On the {agency.sheet} sheet, fill in column B. Required fields are in bold. "
              f"Pick {label['agency_code']} and {label['stage']} from the dropdowns."),
        ("2", f"On the {services.sheet} sheet, list each budget service you report on, one per "
              f"row: {label['service_number']}, {label['service_name']} and its Mayor's Action "
              f"Plan {label['pillar']} (from the dropdown). Agency templates come with the "
              f"services of the city's catalog already filled in."),
        ("3", f"On the {measures.sheet} sheet, add one row per measure. The {label['measure_id']} "
              f"is your agency code, the service number and a two-digit number, e.g. BCFD-609-03; "
              f"its {measures.column('service_number').label} must be on the {services.sheet} sheet."),
        ("4", f"Pick {picks} from the dropdowns."),
        ("5", f"Enter the {label['target']} of every measure as a number, never TBD or N/A. "
              f"If it is less ambitious than the last actual, say why in "
              f"{label['target_rationale']}."),
        ("6", f"For the mid-year and year-end updates, change {label['stage']}, fill in "
              f"{label['midyear_actual']} or {label['yearend_actual']} and {label['status']}, and "
              f"explain every {roles.at_risk} or {roles.off_track} in "
              f"{label['status_explanation']}."),
        ("7", "Do not rename sheets or change the header rows (row 3). Dark headers mark required "
              "columns."),
        "How to check the plan",
        ("1", "In Excel, click Validate in the Performance Plan group of the ribbon. Cells with a "
              "problem turn red with a note saying how to fix them, and the Validation sheet lists "
              "every finding."),
        ("2", "Fix every error, click Validate again, then click Submit to send the plan."),
        ("3", "Without the add-in, the performance office checks the file with the command "
              "planvalidator validate FILE."),
        "Measure types",
        *[(t, schema.descriptions.get("measure_types", {}).get(t, ""))
          for t in schema.lists["measure_types"]],
        "Entering numbers",
        (roles.percent_unit, f"Type a percentage as 85% (Excel stores it as 0.85). Measures whose "
                             f"Unit is {roles.percent_unit} are shown as percentages."),
        ("Other units", "Type plain numbers: 1250, 3.5, 42000. No text such as \"approx.\" or "
                        "\"TBD\"."),
    ]
    ws.title = "Instructions"
    ws["A1"] = f"FY{year} Performance Plan — Instructions"
    ws["A1"].font = TITLE_FONT
    row = 3
    for item in rows:
        if isinstance(item, str):  # a section heading
            row += 1
            ws.cell(row, 1, item).font = Font(bold=True, size=12)
        else:
            ws.cell(row, 1, item[0]).font = BOLD
            ws.cell(row, 1).alignment = WRAP_TOP
            ws.cell(row, 2, item[1]).alignment = WRAP_TOP
            ws.row_dimensions[row].height = 15 * max(1, math.ceil(len(item[1]) / 95))
        row += 1
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 100
    _protect(ws)


def _agency_sheet(ws, schema: Schema, code: str | None, lists: _ListSheet) -> None:
    table = schema.agency
    _title(ws, schema, table, "Fill in column B. Required fields are in bold.")
    for col, text in ((1, "Field"), (2, "Value")):
        _header(ws.cell(HEADER_ROW, col, text), required=True)
    prefill = {"fiscal_year": schema.fiscal_year, "stage": schema.stages[0]}
    if code:
        prefill |= {"agency_code": code, "agency_name": schema.agencies[code].name}
    for row, column in enumerate(table.columns, start=FIRST_DATA_ROW):
        field = ws.cell(row, 1, column.label)
        field.border = BORDER
        if _required(schema, column):
            field.font = BOLD
        value = ws.cell(row, 2, prefill.get(column.key))
        value.border = BORDER
        _input(value, column)
        if column.list:
            _dropdown(ws, schema, column, value.coordinate, lists)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 48
    ws.freeze_panes = f"A{FIRST_DATA_ROW}"
    _protect(ws)


def _table_sheet(ws, schema: Schema, table: Table, lists: _ListSheet) -> None:
    if table.name == "measures":
        note = (f"One row per measure. Dark headers mark required columns; every measure needs "
                f"its {table.column('target').label}. Type a {schema.roles.percent_unit} as 85%.")
    else:
        note = "One row per budget service. Dark headers mark required columns."
    _title(ws, schema, table, note)
    lines = 1
    for i, column in enumerate(table.columns, start=1):
        letter = get_column_letter(i)
        width = column.width or max(12, min(40, len(column.label) + 2))
        ws.column_dimensions[letter].width = width
        lines = max(lines, math.ceil(len(column.label) / max(width - 2, 1)))
        _header(ws.cell(HEADER_ROW, i, column.label), _required(schema, column))
        # Input formatting goes on the column, not on 500 empty cells: Excel gives a new cell
        # its column's style, and readers don't wade through thousands of empty styled cells.
        _input(ws.column_dimensions[letter], column)
        if column.list:
            _dropdown(ws, schema, column, f"{letter}{FIRST_DATA_ROW}:{letter}{LAST_DATA_ROW}", lists)
    ws.row_dimensions[HEADER_ROW].height = 15 * lines + 3
    last = get_column_letter(len(table.columns))
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{LAST_DATA_ROW}"
    ws.freeze_panes = f"{'B' if table.name == 'measures' else 'A'}{FIRST_DATA_ROW}"
    if table.name == "measures":
        _percent_format(ws, schema, table)
    _protect(ws)


def _prefill_services(ws, schema: Schema, code: str) -> None:
    keys = schema.services.keys
    for row, number in enumerate(sorted(schema.agencies[code].services), start=FIRST_DATA_ROW):
        service = schema.agencies[code].services[number]
        for key, value in (("service_number", service.number), ("service_name", service.name),
                           ("pillar", service.pillar)):
            ws.cell(row, keys.index(key) + 1, value)


def _identity_sheet(ws, schema: Schema, code: str | None) -> None:
    for row, (key, value) in enumerate((("schema_id", schema.schema_id),
                                        ("fiscal_year", schema.fiscal_year),
                                        ("template_version", schema.template_version),
                                        ("agency", code)), start=1):
        ws.cell(row, 1, key)
        ws.cell(row, 2, value)
    ws.sheet_state = "veryHidden"
    _protect(ws)


class _ListSheet:
    """Long lists (and the catalog's) live on a hidden sheet; the rest are inline."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.columns: dict[str, str] = {}  # list name -> column letter on LISTS_SHEET

    def formula(self, name: str) -> str:
        values = self.schema.lists[name]
        joined = ",".join(values)
        if (name not in CATALOG_LISTS and len(joined) <= INLINE_LIST_MAX
                and not any("," in v or '"' in v for v in values)):
            return f'"{joined}"'
        letter = self.columns.setdefault(name, get_column_letter(len(self.columns) + 1))
        return (f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(values) + 1}")

    def write(self, ws) -> None:
        for name, letter in self.columns.items():
            ws[f"{letter}1"] = name
            for row, value in enumerate(self.schema.lists[name], start=2):
                ws[f"{letter}{row}"] = value
        ws.sheet_state = "hidden"
        _protect(ws)


# ---- cells ----------------------------------------------------------------------------------

def _title(ws, schema: Schema, table: Table, instruction: str) -> None:
    ws.cell(TITLE_ROW, 1, f"FY{schema.fiscal_year} Performance Plan — {table.sheet}").font = TITLE_FONT
    ws.cell(INSTRUCTION_ROW, 1, instruction).font = NOTE_FONT


def _header(cell, required: bool) -> None:
    cell.font, cell.fill = REQUIRED_HEADER if required else OPTIONAL_HEADER
    cell.alignment = HEADER_ALIGN
    cell.border = BORDER


def _input(cell, column: Column) -> None:
    """An input cell (or column): unlocked, with the column type's number format."""
    cell.protection = UNLOCKED
    if column.type in NUMBER_FORMATS:
        cell.number_format = NUMBER_FORMATS[column.type]


def _required(schema: Schema, column: Column) -> bool:
    return schema.required_at(column, schema.stages[0])


def _dropdown(ws, schema: Schema, column: Column, ref: str, lists: _ListSheet) -> None:
    dv = DataValidation(type="list", formula1=lists.formula(column.list), allow_blank=True,
                        showErrorMessage=True, showInputMessage=True,
                        errorTitle="Not in the list", promptTitle=column.label[:32],
                        error=f"That is not a valid {column.label}. Pick one from the dropdown list.",
                        prompt="Pick a value from the dropdown list.")
    dv.add(ref)
    ws.add_data_validation(dv)


def _percent_format(ws, schema: Schema, table: Table) -> None:
    """Measure cells show as percentages on rows whose Unit is Percent, else General."""
    percent_unit = schema.roles.percent_unit
    unit = get_column_letter(table.keys.index("unit") + 1)
    percent = DifferentialStyle(numFmt=NumberFormat(numFmtId=9, formatCode="0%"))
    for start, end in _runs([i for i, c in enumerate(table.columns, 1) if c.type == "measure"]):
        rule = Rule(type="expression", dxf=percent,
                    formula=[f'${unit}{FIRST_DATA_ROW}="{percent_unit}"'])
        ws.conditional_formatting.add(f"{get_column_letter(start)}{FIRST_DATA_ROW}:"
                                      f"{get_column_letter(end)}{LAST_DATA_ROW}", rule)


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """[9, 10, 11, 17, 18] -> [(9, 11), (17, 18)]"""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return [(a, b) for a, b in runs]


def _protect(ws) -> None:
    """Protect the sheet without a password; formatting, sorting and filtering stay allowed."""
    p = ws.protection
    p.sheet = True
    p.formatCells = p.formatColumns = p.formatRows = False
    p.insertRows = p.deleteRows = p.sort = p.autoFilter = False


if __name__ == "__main__":
    for year in available_years():
        for path in build_templates(load_schema(year), None, TEMPLATE_DIR):
            print(path)
