"""Reading: sheet name → 2-D list of cell values → a Plan that keeps every value's position.

The core never opens a file itself: the .xlsx reader (xlsx.py) and the Excel add-in payload both
produce "sheet name → rows", so there is one implementation of everything after that. Header
rows are found by label, values are normalized to their column's type, and whenever the tool
had to interpret a value it says so with a `value-interpreted` finding.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import NoneType

from ..a1 import address
from ..findings import Finding, finding
from ..schema.loader import IDENTITY_SHEET, NUMERIC_TYPES, Column, Schema, SchemaError, Table, load_schema
from .xlsx import CellError, read_book

HEADER_SEARCH_ROWS = 30


@dataclass
class TableData:
    """One table sheet as found: where each column is, and each row's normalized values."""

    table: Table
    sheet: str = ""                                   # actual sheet name ("" when missing)
    header_row: int = 0
    columns: dict[str, int] = field(default_factory=dict)   # key → 0-based column index
    rows: list[int] = field(default_factory=list)           # Excel row number of each data row
    values: dict[str, list] = field(default_factory=dict)   # key → normalized value per row
    raw: dict[str, list] = field(default_factory=dict)      # key → value as found per row
    unparsed: set[tuple[str, int]] = field(default_factory=set)  # (key, row index) not readable as its type
    field_rows: dict[str, int] = field(default_factory=dict)  # Agency sheet: key → its own row

    def row_of(self, key: str, i: int) -> int:
        return self.field_rows[key] if self.field_rows else self.rows[i]

    def address(self, key: str, i: int) -> str:
        return address(self.row_of(key, i), self.columns[key] + 1)


@dataclass
class Plan:
    source: str
    schema: Schema
    stage: str
    agency: TableData
    services: TableData
    measures: TableData
    identity: dict[str, str]
    findings: list[Finding]
    # The measures frame's columns (rules/frames.py) as validation built them, which the
    # computed status reads instead of building the frame again. Set by validation only: a
    # copy made with dataclasses.replace (other values) starts without them.
    measure_columns: dict | None = field(default=None, init=False, repr=False, compare=False)
    # Laid out anew (read back from a consolidated workbook, or built by sync from rows): its
    # rows are numbered from the template's first data row, not as in the file its findings
    # were found in, where rows may have been blank or the header elsewhere.
    renumbered: bool = field(default=False, compare=False)

    def field(self, key: str):
        values = self.agency.values.get(key)
        return values[0] if values else None

    @property
    def agency_code(self) -> str:
        code = self.field("agency_code")
        return code if isinstance(code, str) else ""


@lru_cache(maxsize=8192)  # the header search meets the same texts in every workbook
def norm_label(text) -> str:
    return re.sub(r"\s+", " ", str(text)).strip().casefold() if text is not None else ""


def read_workbook(path: str | Path, schema: Schema | None = None, stage: str | None = None) -> Plan:
    """Read a plan workbook from disk. Raises UnreadableWorkbook for unsafe or broken files."""
    path = Path(path)
    book = read_book(path, wanted=_wanted_sheets(schema))
    return read_plan(book.names, book.sheets, source=path.name, schema=schema, stage=stage,
                     hidden=book.hidden)


def _wanted_sheets(schema: Schema | None) -> list[str]:
    schema = schema or load_schema()
    return [t.sheet for t in schema.tables] + [IDENTITY_SHEET]


def read_plan(sheet_names: list[str], sheets: dict[str, list[list]], source: str,
              schema: Schema | None = None, stage: str | None = None,
              hidden: dict[str, str] | None = None) -> Plan:
    """Turn "sheet name → rows" into a Plan, choosing the schema from the workbook's fiscal year.
    `hidden`: sheet name → "hidden" or "veryHidden" for the sheets Excel does not show."""
    hidden = hidden or {}
    by_name = _shown_first(sheets, hidden)
    identity = _identity(sheets.get(by_name.get(IDENTITY_SHEET.casefold(), ""), []))
    findings: list[Finding] = []
    if schema is None:
        schema = _schema_for(identity, sheets, by_name)
    for table in schema.tables:
        findings.extend(_shadows(table.sheet, sheets, hidden, by_name))
    agency = _read_fields(schema, schema.agency, sheets, by_name, findings)
    plan_stage = stage or _stage_of(agency, schema)
    services = _read_table(schema, schema.services, sheets, by_name, findings)
    measures = _read_table(schema, schema.measures, sheets, by_name, findings)
    return Plan(source=source, schema=schema, stage=plan_stage, agency=agency, services=services,
                measures=measures, identity=identity, findings=findings)


def _shown_first(sheets: dict, hidden: dict[str, str]) -> dict[str, str]:
    """Folded name → the sheet read for it: of the sheets whose names match once case and
    surrounding spaces are ignored, the first one Excel shows (else the first)."""
    by_name: dict[str, str] = {}
    for name in sheets:
        key = name.strip().casefold()
        if key not in by_name or (by_name[key] in hidden and name not in hidden):
            by_name[key] = name
    return by_name


def _shadows(sheet: str, sheets: dict, hidden: dict[str, str], by_name) -> list[Finding]:
    """What a person would not see of a plan sheet: other sheets matching its name (an error
    naming them all) and hidden ones (a warning each)."""
    key = sheet.casefold()
    matching = [n for n in sheets if n.strip().casefold() == key]
    out = []
    if len(matching) > 1:
        read = by_name[key]
        others = " and ".join(f"'{n}'" + (f" ({_STATE[hidden[n]]})" if n in hidden else "")
                              for n in matching if n != read)
        out.append(finding("duplicate-sheet", {"sheet": sheet, "read": read, "others": others,
                                               "count": len(matching)}, sheet=read))
    for n in matching:
        if n in hidden:
            out.append(finding("hidden-sheet", {"sheet": n, "variant": hidden[n]}, sheet=n))
    return out


_STATE = {"hidden": "hidden", "veryHidden": "very hidden"}


def _identity(rows: list[list]) -> dict[str, str]:
    out = {}
    for row in rows:
        if len(row) >= 2 and isinstance(row[0], str) and row[1] is not None:
            value = row[1]
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            out[row[0].strip()] = str(value).strip()
    return out


def _schema_for(identity, sheets, by_name) -> Schema:
    """The schema of the fiscal year the plan is for: the Agency sheet's Fiscal Year, else the
    template's own, else the latest. (An old template filled in for a new year is then judged
    against the new year's schema and reported as outdated.)"""
    latest = load_schema()
    probe = TableData(latest.agency)
    _locate_fields(latest.agency, sheets.get(by_name.get(latest.agency.sheet.casefold(), ""), []), probe)
    for year in (probe.raw.get("fiscal_year", [None])[0], identity.get("fiscal_year")):
        try:
            return load_schema(int(float(year)))
        except (TypeError, ValueError, SchemaError):
            continue
    return latest


def _stage_of(agency: TableData, schema: Schema) -> str:
    stage = agency.values.get("stage", [None])[0]
    return stage if stage in schema.stages else schema.stages[0]


def _read_fields(schema: Schema, table: Table, sheets, by_name, findings) -> TableData:
    """The Agency sheet: a Field | Value list, found by the field labels in any row."""
    data = _found(table, by_name, findings)
    if not data.sheet:
        return data
    name = data.sheet
    _locate_fields(table, sheets[name], data)
    for column in table.columns:
        if column.key not in data.columns:
            findings.append(finding(
                "missing-column", {"variant": "field", "sheet": name, "label": column.label},
                sheet=name, column=column.label))
            continue
        _normalize_column(schema, data, column, findings)
    return data


def _locate_fields(table: Table, rows: list[list], data: TableData) -> None:
    labels = {norm_label(c.label): c for c in table.columns}
    # The fields form one plan "row", but each field sits on its own Excel row.
    data.rows = [0]
    for r, row in enumerate(rows):
        for c, value in enumerate(row[:4]):
            column = labels.get(norm_label(value)) if isinstance(value, str) else None
            if column and column.key not in data.columns:
                data.columns[column.key] = c + 1
                data.field_rows[column.key] = r + 1
                data.raw[column.key] = [row[c + 1] if c + 1 < len(row) else None]
                break


def _found(table: Table, by_name, findings) -> TableData:
    """An empty TableData on the table's sheet; no sheet name (and a finding) when it's missing."""
    data = TableData(table)
    name = by_name.get(table.sheet.casefold())
    if name is None:
        findings.append(_missing_sheet(table.sheet))
    else:
        data.sheet = name
    return data


def _read_table(schema: Schema, table: Table, sheets, by_name, findings) -> TableData:
    data = _found(table, by_name, findings)
    if not data.sheet:
        return data
    name = data.sheet
    rows = sheets[name]
    labels = {norm_label(c.label): c.key for c in table.columns}
    best, best_hits = None, 0
    for r, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        texts = [v for v in row if isinstance(v, str)]
        if len(texts) <= best_hits:
            continue   # too few texts to beat the best row (every data row, once it is found)
        hits = sum(1 for v in texts if norm_label(v) in labels)
        if hits > best_hits:
            best, best_hits = r, hits
    if best is None or best_hits < 2:
        findings.append(finding("missing-column", {"variant": "header", "sheet": name},
                                sheet=name))
        return data
    data.header_row = best + 1
    for c, value in enumerate(rows[best]):
        key = labels.get(norm_label(value)) if isinstance(value, str) else None
        if key and key not in data.columns:
            data.columns[key] = c
    width = max(data.columns.values()) + 1
    for r in range(best + 1, len(rows)):
        cells = rows[r][:width]
        if has_data(cells):
            data.rows.append(r + 1)
    by_column = _transposed([rows[r - 1] for r in data.rows], width)
    for column in table.columns:
        c = data.columns.get(column.key)
        if c is None:
            findings.append(finding(
                "missing-column", {"sheet": name, "label": column.label,
                                   "header_row": data.header_row},
                sheet=name, row=data.header_row, column=column.label))
            continue
        data.raw[column.key] = list(by_column[c]) if by_column else []
        _normalize_column(schema, data, column, findings)
    return data


def has_data(cells) -> bool:
    """Whether a row's cells hold anything: an empty row (None or "" in every cell) is no row
    of its table."""
    return cells.count(None) + cells.count("") < len(cells)


def _transposed(rows: list[list], width: int) -> list[tuple]:
    """The first `width` columns of rows (short rows padded with None)."""
    padded = [row if len(row) >= width else [*row, *[None] * (width - len(row))] for row in rows]
    return list(zip(*(row[:width] for row in padded)))


def _missing_sheet(sheet: str) -> Finding:
    return finding("missing-sheet", {"sheet": sheet}, sheet=sheet)


# --- normalization -------------------------------------------------------------------------

def _normalize_column(schema: Schema, data: TableData, column: Column, findings) -> None:
    choices = {v.casefold(): v for v in schema.lists[column.list]} if column.list else None
    raws = data.raw[column.key]
    kinds = set(map(type, raws))
    # the common columns whole (most plans): numbers only, or plain text only
    if kinds <= {NoneType, float} and column.type in NUMERIC_TYPES:
        if column.type != "integer":
            data.values[column.key] = list(raws)
            return
        if all(v is None or _whole(v) for v in raws):
            data.values[column.key] = [v if v is None else int(v) for v in raws]
            return
    if kinds <= {NoneType, str} and column.type == "text":
        if choices:   # a list's few values, each looked up once
            chosen = {v: choices.get(t.casefold(), t) if (t := v.strip()) else None
                      for v in set(raws) if v is not None}
            chosen[None] = None
            data.values[column.key] = [chosen[v] for v in raws]
        else:
            data.values[column.key] = [v.strip() or None if v is not None else None for v in raws]
        return
    ids = data.values.get("measure_id") if data.table.name == "measures" else None
    text, numeric, integer = column.type == "text", column.type in NUMERIC_TYPES, column.type == "integer"
    out = []
    for i, raw in enumerate(raws):
        # the common cases inline: an empty cell, a number, plain text
        if raw is None:
            out.append(None)
            continue
        kind = type(raw)
        if kind is float and numeric and not (integer and not _whole(raw)):
            out.append(int(raw) if integer else raw)
            continue
        if kind is str and text and (stripped := raw.strip()):
            out.append(choices.get(stripped.casefold(), stripped) if choices else stripped)
            continue
        value, note, ok = _normalize(raw, column.type, choices)
        if not ok:
            data.unparsed.add((column.key, i))
        if note:
            cell = data.address(column.key, i)
            measure_id = ids[i] if ids and isinstance(ids[i], str) else ""
            subject = f"{column.label} of measure {measure_id}" if measure_id else column.label
            findings.append(finding(
                "value-interpreted",
                {"location": f"{data.sheet}!{cell}", "subject": subject, **note},
                sheet=data.sheet, cell=cell, row=data.row_of(column.key, i),
                column=column.label, measure_id=measure_id, value=raw))
        out.append(value)
    data.values[column.key] = out


# Whole numbers a float holds exactly: past them a value is no count or service number (and
# no 64-bit integer the checks could hold).
_WHOLE_LIMIT = 2 ** 53


def _whole(number) -> bool:
    return abs(number) < _WHOLE_LIMIT and float(number).is_integer()


_NUMBER = re.compile(r"^[-+]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")


def _normalize(raw, ctype: str, choices):
    """(value, note, readable): the value in its column's type, the facts of a value-interpreted
    note when the tool had to interpret it, and False when it can't be read as that type (the
    value is then the text)."""
    if raw is None or isinstance(raw, CellError):
        return raw, None, True
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None, None, True
    if ctype == "text":
        if isinstance(raw, str):
            return (choices.get(text.casefold(), text) if choices else text), None, True
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, (dt.datetime, dt.date)):
            return raw.isoformat()[:10], None, True
        return str(raw), None, True
    if ctype in NUMERIC_TYPES:
        if isinstance(raw, (bool, dt.date, dt.time, dt.timedelta)):   # a duration too
            return str(raw), None, False
        if isinstance(raw, (int, float)):
            if ctype == "integer":
                if _whole(raw):
                    return int(raw), None, True
                # an int past what the checks hold (a payload's JSON has any size): its digits
                return (str(raw) if isinstance(raw, int) else raw), None, False
            try:
                return float(raw), None, True
            except OverflowError:   # an int past any float (a payload's JSON): its digits
                return str(raw), None, False
        number = _parse_number(text, percent_ok=ctype == "measure")
        if number is None or (ctype == "integer" and not _whole(number)):
            return text, None, False
        if ctype == "integer":
            number = int(number)
        note = {"variant": "percent" if text.endswith("%") else "number", "text": text,
                "number": number, "percent": number * 100}
        return number, note, True
    if ctype == "date":
        if isinstance(raw, dt.datetime):
            return raw.date(), None, True
        if isinstance(raw, dt.date):
            return raw, None, True
        if isinstance(raw, str):
            date = _parse_date(text)
            if date:
                return date, {"variant": "date", "text": text, "date": date.isoformat()}, True
        return (text if isinstance(raw, str) else raw), None, False
    raise AssertionError(ctype)


def _parse_number(text: str, percent_ok: bool) -> float | None:
    scale = 1.0
    if text.endswith("%") and percent_ok:
        text, scale = text[:-1].strip(), 0.01
    text = text.lstrip("$").replace(" ", "")
    if not text or not _NUMBER.match(text) or text in "+-.":
        return None
    number = round(float(text.replace(",", "")) * scale, 12)
    return number if math.isfinite(number) else None   # 400 digits: past any float


def _parse_date(text: str) -> dt.date | None:
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%B %d, %Y", "%b %d, %Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
