"""Open data: Measures, Services and Summary as CSV with a Frictionless datapackage.json whose
Table Schemas (types, enums, required) come from our schema.

Only plans without errors are published (measures and services); plans that need revision
appear in summary.csv alone. Validation guarantees what the Table Schemas declare, so
`frictionless validate datapackage.json` passes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from ..schema.loader import Column
from .atomic import write_atomic

FRICTIONLESS_TYPES = {"text": "string", "integer": "integer", "number": "number",
                      "dollars": "number", "measure": "number", "date": "date"}
FORMULA_START = ("=", "+", "-", "@")


def csv_text(value) -> str:
    """A cell for CSV: text that a spreadsheet would evaluate gets a leading apostrophe
    (numbers, including negative ones, stay numbers)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    if isinstance(value, str) and text.startswith(FORMULA_START):
        return "'" + text
    return text


def table_field(column: Column, schema) -> dict:
    """A schema column as a Frictionless Table Schema field: type, enum, required, minimum,
    pattern, unique — all of which validation guarantees for a plan without errors."""
    field = {"name": column.key, "title": column.label,
             "type": FRICTIONLESS_TYPES[column.type]}
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


AGENCY_FIELDS = [
    {"name": "agency_code", "title": "Agency Code", "type": "string", "constraints": {"required": True}},
    {"name": "agency_name", "title": "Agency Name", "type": "string"},
    {"name": "fiscal_year", "title": "Fiscal Year", "type": "integer"},
]


def write_datapackage(cons, out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    accepted = cons.accepted
    published = [s for s in accepted if not s.report.errors]
    schema = accepted[0].plan.schema if accepted else None
    resources = []
    for name, table in (("measures", "measures"), ("services", "services")):
        columns = getattr(schema, table).columns if schema else ()
        rows = []
        for sub in published:
            data = getattr(sub.plan, table)
            for i in range(len(data.rows)):
                rows.append([sub.agency, sub.agency_name, sub.fiscal_year] +
                            [_cell(data.values.get(c.key, [None] * len(data.rows))[i], c)
                             for c in columns])
        fields = AGENCY_FIELDS + [table_field(c, schema) for c in columns]
        _write(out_dir / f"{name}.csv", [f["name"] for f in fields], rows)
        resources.append(_resource(name, fields))
    summary_fields = [
        {"name": "agency_code", "type": "string", "constraints": {"required": True}},
        {"name": "agency_name", "type": "string"}, {"name": "fiscal_year", "type": "integer"},
        {"name": "stage", "type": "string"}, {"name": "services", "type": "integer"},
        {"name": "measures", "type": "integer"}, {"name": "errors", "type": "integer"},
        {"name": "warnings", "type": "integer"},
        {"name": "status", "type": "string",
         "constraints": {"enum": ["Accepted", "Needs revision"]}}]
    _write(out_dir / "summary.csv", [f["name"] for f in summary_fields], [
        [s.agency, s.agency_name, s.fiscal_year, s.stage, len(s.plan.services.rows),
         len(s.plan.measures.rows), s.report.errors, s.report.warnings,
         "Needs revision" if s.report.errors else "Accepted"] for s in accepted])
    resources.append(_resource("summary", summary_fields))
    package = {"name": "citywide-performance-plan", "title": "Citywide performance plan",
               "resources": resources}
    write_atomic(out_dir / "datapackage.json", json.dumps(package, indent=2).encode())


def _cell(value, column: Column):
    """Values that don't fit the column's type (an agency's typo) are left empty in open data."""
    kind = FRICTIONLESS_TYPES[column.type]
    if kind in ("number", "integer") and not (isinstance(value, (int, float))
                                              and not isinstance(value, bool)):
        return None
    if kind == "date" and not hasattr(value, "isoformat"):
        return None
    if kind == "string" and value is not None and not isinstance(value, str):
        return str(value)
    return value


def _resource(name: str, fields: list[dict]) -> dict:
    return {"name": name, "path": f"{name}.csv", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "schema": {"fields": fields}}


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_text(v) for v in row] for row in rows)
    write_atomic(path, buf.getvalue().encode("utf-8"))
