"""Open data: Measures, Services and Summary as CSV with a Frictionless datapackage.json whose
Table Schemas (types, enums, required) come from our schema.

Only plans without errors are published (measures and services); plans that need revision
appear in summary.csv alone. Validation guarantees what the Table Schemas declare, so
`frictionless validate datapackage.json` passes. Field names and titles are for the public and
name fiscal years (`fy2025_actual`, "FY2025 Actual"), so a package holds one fiscal year: the
latest of the plans; plans of other years are left out of it (none in a one-year merge).
The city's name in the package title is the first word of the schema_id.
Files are readable by everyone (write_atomic's 0o644): they are published.

The package is written whole into a temporary folder and swapped in (atomic.StagedFolder), so
its files always come from one run; datapackage.json records the SHA-256 of each CSV and of
the consolidated workbook it was made with, so that a reader can check they belong together.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from ..errors import MergeError, SchemaError
from ..safetext import formula_safe
from ..schema.loader import Column
from .atomic import FIXED_TIMESTAMP, StagedFolder, write_atomic

FRICTIONLESS_TYPES = {"text": "string", "integer": "integer", "number": "number",
                      "dollars": "number", "measure": "number", "date": "date"}
YEAR = re.compile(r"\b(FY)?\d{4}\b")
ACCEPTED, NEEDS_REVISION = "Accepted", "Needs revision"   # also on the workbook's Summary
# Public-domain dedication: anyone may reuse the data without conditions, as with the
# city's other open data; the README names it.
LICENCE = {"name": "ODC-PDDL-1.0", "path": "https://opendatacommons.org/licenses/pddl/1-0/",
           "title": "Open Data Commons Public Domain Dedication and License v1.0"}
DESCRIPTION = ("The performance plans {city}'s agencies submitted for fiscal year {year}: the "
               "services each agency delivers, the measures it reports on them with their "
               "targets and actuals, and whether the performance office accepted each plan. "
               "Measures and services are published for accepted plans only.")
# (table, title, description) of the resources taken from the plans' sheets
TABLES = (
    ("measures", "Performance measures, FY{year}",
     "One row per performance measure of each accepted FY{year} plan: what is measured and how, "
     "the results of earlier years, the target for FY{year} and the actuals reported so far."),
    ("services", "Services, FY{year}",
     "One row per service of each accepted FY{year} plan: its number and name in the budget, "
     "its pillar of the Mayor's Action Plan, its budget and what it does."),
)
AGENCY_FIELDS = [
    {"name": "agency_code", "title": "Agency Code", "type": "string", "constraints": {"required": True}},
    {"name": "agency_name", "title": "Agency Name", "type": "string"},
    {"name": "fiscal_year", "title": "Fiscal Year", "type": "integer"},
]
SUMMARY_TITLE = "Agency plans, FY{year}"
SUMMARY_DESCRIPTION = ("One row per agency that submitted a plan: its stage, how many services "
                       "and measures it holds, and whether the performance office accepted it "
                       "or asked for a revision.")
SUMMARY_FIELDS = AGENCY_FIELDS + [
    {"name": "stage", "title": "Plan Stage", "type": "string"},
    {"name": "service_count", "title": "Number of Services", "type": "integer"},
    {"name": "measure_count", "title": "Number of Measures", "type": "integer"},
    {"name": "review_status", "title": "Review Status", "type": "string",
     "description": "Accepted, or Needs revision when the plan has errors to correct.",
     "constraints": {"enum": [ACCEPTED, NEEDS_REVISION]}},
]


def csv_text(value) -> str:
    """A cell for CSV: text that a spreadsheet would evaluate gets a leading apostrophe
    (numbers, including negative ones, stay numbers)."""
    if type(value) is str:   # the common case first: called for every cell published
        return formula_safe(value)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return formula_safe(text) if isinstance(value, str) else text


def table_field(column: Column, schema) -> dict:
    """A schema column as a Frictionless Table Schema field named for the public (`fy2025_actual`,
    "FY2025 Actual"): type, enum, required, minimum, pattern, unique — all of which validation
    guarantees for a plan without errors."""
    title = public_title(column, schema.fiscal_year)
    field = {"name": public_name(title), "title": title, "type": FRICTIONLESS_TYPES[column.type]}
    constraints = {}
    if column.required is True:
        constraints["required"] = True
    if column.list:
        constraints["enum"] = list(schema.lists[column.list])
    if "non_negative" in column.checks:
        constraints["minimum"] = 0
    if "measure_id_format" in column.checks:
        constraints["pattern"] = schema.roles.measure_id_pattern
    if "unique" in column.checks:
        constraints["unique"] = True
    if constraints:
        field["constraints"] = constraints
    return field


def public_title(column: Column, fiscal_year: int) -> str:
    """The column's label; a measure value whose label names no year ("Mid-Year Actual") is of
    the plan's own year, which the public can't guess from the file: it is named."""
    if column.type == "measure" and not YEAR.search(column.label):
        return f"FY{fiscal_year} {column.label}"
    return column.label


def public_name(title: str) -> str:
    """"FY2025 Actual" → fy2025_actual, "Budget ($)" → budget."""
    return re.sub(r"[^a-z0-9]+", "_", title.lower()).strip("_")


def write_datapackage(cons, out_dir: Path, source: Path | None = None,
                      created: datetime | None = None, source_sha256: str | None = None) -> None:
    """The open data of `cons` in `out_dir`, replacing the folder's files all at once.
    `source`: the consolidated workbook (named with its SHA-256 in the package's sources: the
    given `source_sha256`, else the file's); `created`: the merge's document time (None: the
    fixed one, so that the same inputs give the same bytes)."""
    accepted = cons.accepted
    if not accepted:
        raise MergeError("There is no plan to publish as open data.")
    # A package has one set of field names, and they name fiscal years: it holds one year.
    schema = max((s.plan.schema for s in accepted), key=lambda s: s.fiscal_year)
    year = schema.fiscal_year
    plans = [s for s in accepted if s.fiscal_year == year]
    published = [s for s in plans if not s.report.errors]
    tables = []
    for table, title, description in TABLES:
        columns = getattr(schema, table).columns
        fields = AGENCY_FIELDS + [table_field(c, schema) for c in columns]
        if len({f["name"] for f in fields}) < len(fields):
            raise SchemaError(f"{schema.path}: two {table} columns have labels that give the "
                              f"same open-data field name; make the labels distinct.")
        kinds = [FRICTIONLESS_TYPES[c.type] for c in columns]
        rows = []
        for sub in published:
            data = getattr(sub.plan, table)
            blank = [None] * len(data.rows)
            cells = [[_cell(v, kind) for v in data.values.get(c.key, blank)]
                     for c, kind in zip(columns, kinds)]
            agency = [sub.agency, sub.agency_name, sub.fiscal_year]
            rows += (agency + list(row) for row in zip(*cells))
        tables.append((table, title.format(year=year), description.format(year=year), fields,
                       rows))
    tables.append(("summary", SUMMARY_TITLE.format(year=year), SUMMARY_DESCRIPTION, SUMMARY_FIELDS,
                   [[s.agency, s.agency_name, s.fiscal_year, s.stage, len(s.plan.services.rows),
                     len(s.plan.measures.rows), NEEDS_REVISION if s.report.errors else ACCEPTED]
                    for s in plans]))
    folder = StagedFolder(out_dir)
    try:
        _write_package(folder.tmp, tables, schema, year, source, created, source_sha256)
        folder.commit()
    finally:
        folder.discard()


def _write_package(out_dir: Path, tables, schema, year, source, created, source_sha256) -> None:
    hashes = {}
    for name, _title, _description, fields, rows in tables:
        hashes[name] = _write(out_dir / f"{name}.csv", [f["name"] for f in fields], rows)
    when = created.astimezone(timezone.utc) if created else FIXED_TIMESTAMP
    city = schema.schema_id.split("-")[0].capitalize()
    package = {
        "name": f"{schema.schema_id}-fy{year}",
        "title": f"{city} FY{year} agency performance plans",
        "description": DESCRIPTION.format(city=city, year=year),
        "licenses": [LICENCE],
        "created": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "contributors": [{"title": f"{city} performance office", "email": schema.contact,
                          "role": "publisher"}],
    }
    if source is not None:
        package["sources"] = [{"title": source.name, "path": source.name,
                               "sha256": source_sha256
                               or hashlib.sha256(source.read_bytes()).hexdigest()}]
    package["resources"] = [dict(_resource(*table[:4]), hash=f"sha256:{hashes[table[0]]}")
                            for table in tables]
    write_atomic(out_dir / "datapackage.json", json.dumps(package, indent=2).encode())


def _cell(value, kind: str):
    """Values that don't fit the column's type (its Frictionless `kind`: an agency's typo) are
    left empty in open data."""
    if kind in ("number", "integer") and not (isinstance(value, (int, float))
                                              and not isinstance(value, bool)):
        return None
    if kind == "date" and not hasattr(value, "isoformat"):
        return None
    if kind == "string" and value is not None and not isinstance(value, str):
        return str(value)
    return value


def _resource(name: str, title: str, description: str, fields: list[dict]) -> dict:
    return {"name": name, "path": f"{name}.csv", "title": title, "description": description,
            "format": "csv", "mediatype": "text/csv", "encoding": "utf-8",
            "schema": {"fields": fields}}


def _write(path: Path, header: list[str], rows: list[list]) -> str:
    """Write a CSV; its SHA-256."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_text(v) for v in row] for row in rows)
    data = buf.getvalue().encode("utf-8")
    write_atomic(path, data)
    return hashlib.sha256(data).hexdigest()
