"""Reading a consolidated citywide plan back: each agency's rows → its Plan, with the one reader.

The consolidated workbook (consolidated/write.py) is ours, but it is still a file from disk, so
it is read with the safe reader (xlsx.read_xlsx), with the caps of our own outputs (xlsx.OUTPUT:
a whole city's plans and findings), not those of one agency's plan sheet. Its Measures and
Services sheets carry the schema's labels for its fiscal year: each agency's rows are put back
into the template's layout (title, note, header, data) and handed to read.plan.read_plan, which
finds the columns by label as it does in any plan workbook — there is no second reader.
Summary, Findings, Sources and Changes come back as the merge's Submissions and Reports, so
that sync can write the workbook again and rollforward can build next year's templates from it.
Sync's updated plans are built from values read already (plan_from_rows), as read_plan would.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from ...errors import ConsolidatedError
from .layout import CHANGES_HEADER, FINDINGS_HEADER, SOURCES_HEADER, SUMMARY_HEADER, TOTAL
from ...findings import Finding, Report, finding
from ..merge import Submission
from ...read.plan import (Plan, TableData, has_data, norm_label,  # labels matched as plans' are
                          read_plan)
from ...schema.loader import Schema, SchemaError, load_schema
from ...read.xlsx import OUTPUT, UnreadableWorkbook, read_xlsx

SHEETS = ("Summary", "Measures", "Services", "Findings", "Sources", "Changes")
AGENCY_COLUMNS = ("Agency Code", "Agency Name", "Fiscal Year")
HEADER_WITHIN = 5   # rows a sheet's header may sit under (Summary has a title above it)


@dataclass
class Citywide:
    """A consolidated plan as read back."""

    path: Path
    schema: Schema
    submissions: list[Submission]     # each agency's current one (plan rebuilt), then the others
    sources: list[list] = field(default_factory=list)   # the Sources rows, as found
    changes: list[list] = field(default_factory=list)   # the Changes rows (none before a sync)

    @property
    def agencies(self) -> dict[str, Submission]:
        """Agency code → its current submission, whose plan holds the agency's rows."""
        return {s.agency: s for s in self.submissions if s.plan is not None}


HEADER_ROW = 3   # template_sheets: a title, a note, the header (Agency: Field | Value), data


def template_sheets(schema: Schema, fields: dict, services: tuple[list, list[list]],
                    measures: tuple[list, list[list]]) -> dict[str, list[list]]:
    """A plan as "sheet name → rows" in the template's layout (title, note, header on row 3,
    data from row 4) from Agency fields by schema key and (header, rows) of each table."""
    agency = [[schema.agency.sheet], [None], ["Field", "Value"]] + [
        [c.label, fields[c.key]] for c in schema.agency.columns if c.key in fields]
    out = {schema.agency.sheet: agency}
    for table, (header, rows) in ((schema.services, services), (schema.measures, measures)):
        out[table.sheet] = [[table.sheet], [None], list(header)] + [list(r) for r in rows]
    return out


class Row(dict):
    """A table's row by schema key, naming the keys of its values that are not readable as
    their column's type (the reader's TableData.unparsed)."""

    __slots__ = ("unread",)

    def __init__(self, values=(), unread=()):
        super().__init__(values)
        self.unread = set(unread)


def rows_by_key(data: TableData) -> list[Row]:
    """A table's rows as {schema key: value}, in sheet order, each naming its unreadable values."""
    keys = [c.key for c in data.table.columns]
    n = len(data.rows)
    columns = [data.values.get(k) or [None] * n for k in keys]
    unread: dict[int, list[str]] = {}
    for key, i in data.unparsed:
        unread.setdefault(i, []).append(key)
    return [Row(zip(keys, values), unread.get(i, ()))
            for i, values in enumerate(zip(*columns))] if n else []


def plan_from_rows(schema: Schema, fields: dict, services: list[dict], measures: list[dict],
                   source: str, stage: str) -> Plan:
    """A Plan from rows by schema key whose values a plan of `schema` read already (a Row names
    those not readable as their column's type; `fields`, the Agency sheet's, may be a Row too):
    the Plan read_plan makes of them in the template's layout (template_sheets), built without
    reading them again, which would give each value back as it is, with no finding. A test
    (tests/test_cycle.py) proves the two equal. Its rows are laid out anew (Plan.renumbered)."""
    sheet, findings = schema.agency.sheet, []
    agency = TableData(schema.agency, sheet=sheet, rows=[0])
    for column in schema.agency.columns:
        if column.key not in fields:
            findings.append(finding("missing-column", {"variant": "field", "sheet": sheet,
                                                       "label": column.label},
                                    sheet=sheet, column=column.label))
            continue
        agency.columns[column.key] = 1
        agency.field_rows[column.key] = HEADER_ROW + 1 + len(agency.field_rows)
        agency.raw[column.key] = [fields[column.key]]
        agency.values[column.key] = [fields[column.key]]
    agency.unparsed = {(key, 0) for key in getattr(fields, "unread", ())}
    return Plan(source=source, schema=schema, stage=stage, agency=agency,
                services=_table(schema.services, services),
                measures=_table(schema.measures, measures), identity={}, findings=findings,
                renumbered=True)


def _table(table, rows: list[dict]) -> TableData:
    """plan_from_rows' table: the header on HEADER_ROW, the rows under it, empty ones left out
    (as read_plan leaves them out)."""
    data = TableData(table, sheet=table.sheet, header_row=HEADER_ROW,
                     columns={c.key: i for i, c in enumerate(table.columns)})
    kept, unread = [], []
    for n, row in enumerate(rows):
        cells = tuple(map(row.get, data.columns))
        if has_data(cells):
            data.rows.append(HEADER_ROW + 1 + n)
            kept.append(cells)
            unread.append(getattr(row, "unread", ()))
    for key, column in zip(data.columns, zip(*kept) if kept else [()] * len(data.columns)):
        data.raw[key], data.values[key] = list(column), list(column)
    data.unparsed = {(key, i) for i, keys in enumerate(unread) for key in keys}
    return data


def read_consolidated(path: str | Path, schema: Schema | None = None) -> Citywide:
    """Read a consolidated plan written by `planvalidator merge` (or `sync`) for one fiscal year.
    Raises ConsolidatedError with a plain message when it is not one."""
    path = Path(path)
    try:
        names, sheets = read_xlsx(path, wanted=SHEETS, limits=OUTPUT)
    except UnreadableWorkbook as e:
        raise ConsolidatedError(str(e)) from None
    except OSError as e:
        raise ConsolidatedError(f"{path}: {e.strerror or e}") from None
    by_name = {n.strip().casefold(): n for n in sheets}
    missing = [n for n in SHEETS[:3] if n.casefold() not in by_name]
    if missing:
        raise ConsolidatedError(
            f"{path.name} is not a consolidated plan written by planvalidator merge: it has no "
            f"{' or '.join(missing)} sheet.")

    def sheet(name):
        return sheets.get(by_name.get(name.casefold(), ""), [])

    summary = [r for r in _records(sheet("Summary"), SUMMARY_HEADER, "Summary", path)
               if not (r["Agency Code"] == TOTAL and r["Agency Name"] is None)]   # its Total row
    if not summary:
        raise ConsolidatedError(f"{path.name} holds no agency plans (its Summary sheet is empty).")
    years = {r["Fiscal Year"] for r in summary}   # any cell types: sorted only as text
    if len(years) > 1 or not isinstance(next(iter(years)), int):
        shown = " and ".join(sorted(map(str, years)))
        raise ConsolidatedError(
            f"{path.name} holds plans of fiscal years {shown}. Sync, roll forward and diff work on "
            f"one fiscal year's consolidated plan: merge each fiscal year's plans into a "
            f"workbook of its own.")
    year = years.pop()
    try:
        schema = schema or load_schema(year)
    except SchemaError as e:
        raise ConsolidatedError(str(e)) from None
    if schema.fiscal_year != year:
        raise ConsolidatedError(f"{path.name} is the FY{year} plan, but the schema given is for "
                                f"FY{schema.fiscal_year}.")

    measures = _by_agency(sheet("Measures"), "Measures", path)
    services = _by_agency(sheet("Services"), "Services", path)
    sources = [_plain_row(r, len(SOURCES_HEADER)) for r in
               _records(sheet("Sources"), SOURCES_HEADER, "Sources", path, as_rows=True)]
    changes = ([_plain_row(r, len(CHANGES_HEADER)) for r in
                _records(sheet("Changes"), CHANGES_HEADER, "Changes", path, as_rows=True)]
               if "changes" in by_name else [])
    reports = _reports(_records(sheet("Findings"), FINDINGS_HEADER, "Findings", path))
    source_of = {row[0]: row for row in sources}   # file name → its (last) Sources row

    current, seen = [], set()
    for r in summary:
        code, file = r["Agency Code"], r["Source File"]
        if not isinstance(code, str) or not code:
            raise ConsolidatedError(f"{path.name}: a Summary row has no Agency Code.")
        m_header, m_rows = measures[0], measures[1].get(code, [])
        s_header, s_rows = services[0], services[1].get(code, [])
        if isinstance(r["Measures"], int) and r["Measures"] != len(m_rows):
            raise ConsolidatedError(
                f"{path.name} lists {r['Measures']} measures for {code} on its Summary sheet but "
                f"holds {len(m_rows)} on its Measures sheet (was it merged with --reject-errors?). "
                f"Sync and roll forward need every agency's measures: merge again without "
                f"--reject-errors.")
        fields = {"agency_code": code, "agency_name": r["Agency Name"], "fiscal_year": year,
                  "stage": r["Stage"], "submission_date": r["Submission Date"]}
        layout = template_sheets(schema, fields, (s_header, s_rows), (m_header, m_rows))
        plan = read_plan(list(layout), layout, source=f"{path.name} › {code}", schema=schema,
                         stage=r["Stage"])
        plan.renumbered = True
        _check_columns(plan, path)
        row = source_of.get(file, [None] * len(SOURCES_HEADER))
        key = (code, str(file))
        seen.add(key)
        current.append(Submission(
            path=Path(str(file)), sha256=row[1] or "", size=row[2] or 0, mtime=0.0, plan=plan,
            report=reports.get(key) or Report(source=str(file)), agency=code,
            agency_name=r["Agency Name"] or "", fiscal_year=year, stage=r["Stage"] or "",
            template_version=str(r["Template Version"] or ""),
            submission_date=r["Submission Date"]))
    others = []
    for (code, file), report in reports.items():   # superseded and unreadable files' findings
        if (code, file) in seen:
            continue
        row = source_of.get(file, [None] * len(SOURCES_HEADER))
        others.append(Submission(
            path=Path(file), sha256=row[1] or "", size=row[2] or 0, mtime=0.0, report=report,
            superseded_by=row[9] or "(a later submission)", agency=code,
            fiscal_year=row[4], stage=row[5] or "", template_version=str(row[6] or ""),
            submission_date=row[7]))
    return Citywide(path=path, schema=schema, submissions=current + others, sources=sources,
                    changes=changes)


# --- helpers ------------------------------------------------------------------------------

def _plain(v):
    """A value as the consolidated workbook was given it: whole numbers as int, dates as date."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v.date()
    return v


def _plain_row(row: list, width: int) -> list:
    return [_plain(v) for v in (list(row) + [None] * width)[:width]]


def _records(rows: list[list], header: list[str], sheet: str, path: Path, as_rows=False):
    """Rows under a header row with these labels (row 1, or under a title: the first row
    that starts with the first label): dicts by label (or lists in header order)."""
    if not rows:
        return []
    top = next((r for r, row in enumerate(rows[:HEADER_WITHIN])
                if row and norm_label(row[0]) == norm_label(header[0])), 0)
    found = {norm_label(v): c for c, v in enumerate(rows[top]) if isinstance(v, str)}
    lacking = [h for h in header if norm_label(h) not in found]
    if lacking:
        raise ConsolidatedError(f"{path.name}: the {sheet} sheet has no column '{lacking[0]}'.")
    index = [found[norm_label(h)] for h in header]
    out = []
    for row in rows[top + 1:]:
        if not any(v is not None and v != "" for v in row):
            continue
        values = [_plain(row[c]) if c < len(row) else None for c in index]
        out.append(values if as_rows else dict(zip(header, values)))
    return out


def _by_agency(rows: list[list], sheet: str, path: Path) -> tuple[list, dict[str, list[list]]]:
    """(header, agency code → its rows) of the Measures or Services sheet."""
    if not rows:
        raise ConsolidatedError(f"{path.name}: the {sheet} sheet is empty.")
    header = rows[0]
    found = {norm_label(v): c for c, v in enumerate(header) if isinstance(v, str)}
    if norm_label(AGENCY_COLUMNS[0]) not in found:
        raise ConsolidatedError(f"{path.name}: the {sheet} sheet has no column 'Agency Code'.")
    c = found[norm_label(AGENCY_COLUMNS[0])]
    groups: dict[str, list[list]] = {}
    for row in rows[1:]:
        code = row[c] if c < len(row) else None
        if isinstance(code, str) and code:
            groups.setdefault(code, []).append(row)
    return header, groups


def _check_columns(plan: Plan, path: Path) -> None:
    for f in plan.findings:
        if f.code in ("missing-column", "missing-sheet") and f.sheet != plan.schema.agency.sheet:
            raise ConsolidatedError(
                f"{path.name}: the {f.sheet} sheet has no column '{f.column}' of the "
                f"FY{plan.schema.fiscal_year} schema." if f.column else f"{path.name}: {f.message}")


def _reports(records: list[dict]) -> dict[tuple[str, str], Report]:
    """The Findings sheet → a Report per (agency, source file), findings in sheet order."""
    found: dict[tuple[str, str], list[Finding]] = {}
    for r in records:
        agency, file = r["Agency"] or "", str(r["Source File"] or "")
        location = str(r["Location"] or "")
        prefix = f"{agency or file} › "
        location = location[len(prefix):] if location.startswith(prefix) else (
            "" if location == file else location)
        sheet, _, cell = location.partition("!")
        digits = re.search(r"\d+", cell)
        found.setdefault((agency, file), []).append(Finding(
            code=str(r["Code"]), severity=str(r["Severity"]), sheet=sheet, cell=cell,
            row=int(digits.group()) if digits else 0, column=r["Column"] or "",
            measure_id=r["Measure ID"] or "", value=r["Value"], message=r["Message"] or "",
            hint=r["How to Fix"] or ""))
    return {key: Report(source=key[1], findings=findings, agency=key[0])
            for key, findings in found.items()}
