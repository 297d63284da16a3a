"""Roll forward: next year's plan templates, pre-filled from this year's consolidated plan.

Each agency's template for fiscal year Y is the usual one (templates.build_workbook) with:

- the services of its FY(Y-1) plan that the FY(Y) catalog still has, named and placed in their
  pillar as the new catalog says, with their descriptions (budgets start empty: a new year's);
- its measures on those services, with their IDs and what describes them (CARRIED);
- the history columns shifted one year: a dated FY(Y) column takes the FY(Y-1) plan's column
  for the same year and figure, found by label — "FY2027 Target" is last year's "FY2027
  Target", "FY2027 Mid-Year Actual" last year's "Mid-Year Actual" — so the schema YAML alone
  decides what moves where. A year the FY(Y-1) plan has no figure for stays empty;
- the FY(Y) target, its rationale, the actuals, status, explanations and notes empty.

Services the new catalog no longer has are left out with their measures and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UnknownAgency
from .consolidated.read import ConsolidatedError, read_consolidated, rows_by_key
from ..output.atomic import save_workbook
from ..schema.loader import Column, Schema
from ..output.templates import FIRST_DATA_ROW, build_workbook, template_name

CARRIED = ("measure_id", "service_number", "measure_name", "measure_type", "unit", "direction",
           "frequency", "data_source", "key_measure", "equity_focus")
SERVICE_CARRIED = ("service_number", "description")   # name and pillar: the new catalog's
_DATED = re.compile(r"^FY(\d{4}) ")


@dataclass(frozen=True)
class Dropped:
    """A service of last year's plan that the new catalog no longer has."""
    agency: str
    service: int
    name: str
    measures: tuple[str, ...]


@dataclass
class RollForward:
    paths: list[Path] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)
    without_plan: list[str] = field(default_factory=list)   # catalog templates: no plan to copy
    not_in_catalog: list[str] = field(default_factory=list)  # plan agencies the catalog lacks


def dated_label(column: Column, year: int) -> str:
    """A measure column's label with its year: "FY2027 Target" stays, "Mid-Year Actual" of the
    FY2027 plan is "FY2027 Mid-Year Actual"."""
    return column.label if _DATED.match(column.label) else f"FY{year} {column.label}"


def history_map(old: Schema, new: Schema) -> dict[str, str]:
    """New measure column key → the old plan's column key holding the same year's figure."""
    old_by_label = {dated_label(c, old.fiscal_year): c.key for c in old.measures.columns
                    if c.type == "measure"}
    out = {}
    for c in new.measures.columns:
        m = _DATED.match(c.label)
        if c.type == "measure" and m and int(m.group(1)) < new.fiscal_year:
            if c.label in old_by_label:
                out[c.key] = old_by_label[c.label]
    return out


def roll_forward(consolidated: str | Path, schema: Schema, out_dir: str | Path,
                 agencies: list[str] | None = None, all_agencies: bool = False) -> RollForward:
    """Write FY(schema) templates pre-filled from the FY(schema - 1) consolidated plan: for the
    agencies given, every catalog agency (all_agencies), or else every agency of the plan.
    Raises ConsolidatedError, or ValueError for an agency code the new catalog lacks."""
    city = read_consolidated(consolidated)
    old = city.schema
    if schema.fiscal_year != old.fiscal_year + 1:
        raise ConsolidatedError(
            f"{city.path.name} is the FY{old.fiscal_year} plan: it rolls forward to "
            f"FY{old.fiscal_year + 1}, not FY{schema.fiscal_year}.")
    plans = {code: sub.plan for code, sub in city.agencies.items()}
    result = RollForward()
    if agencies:
        codes = [str(a).strip().upper() for a in agencies]
        unknown = [c for c in codes if c not in schema.agencies]
        if unknown:
            raise UnknownAgency(f"Unknown agency code '{unknown[0]}'. Valid codes for "
                                f"FY{schema.fiscal_year}: {', '.join(sorted(schema.agencies))}.")
    elif all_agencies:
        codes = list(schema.agencies)
    else:
        codes = [c for c in plans if c in schema.agencies]
        result.not_in_catalog = [c for c in plans if c not in schema.agencies]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    history = history_map(old, schema)
    for code in codes:
        wb = build_workbook(schema, code)
        if code in plans:
            result.dropped += _fill(wb, schema, code, plans[code], history)
        else:
            result.without_plan.append(code)
        path = out_dir / template_name(schema, code)
        save_workbook(wb, path)
        result.paths.append(path)
    return result


def rolled_rows(schema: Schema, code: str, plan, history: dict[str, str]
                ) -> tuple[list[dict], list[dict], list[Dropped]]:
    """Last year's `plan` of agency `code` as this year's rows: (services, measures, the
    services dropped from the catalog). Each row maps column keys to values; the template
    (`template build --from`) and the add-in's Get my plan both fill from these."""
    catalog = schema.agencies[code].services
    services = rows_by_key(plan.services)
    measures = rows_by_key(plan.measures)
    kept = [s for s in services if s["service_number"] in catalog]
    dropped = [Dropped(code, s["service_number"], str(s.get("service_name") or ""),
                       tuple(m["measure_id"] for m in measures
                             if m["service_number"] == s["service_number"]))
               for s in services if s["service_number"] not in catalog]
    gone = {d.service for d in dropped}
    new_services = [{k: s.get(k) for k in SERVICE_CARRIED} | {
        "service_name": catalog[s["service_number"]].name,
        "pillar": catalog[s["service_number"]].pillar} for s in kept]
    new_measures = [{k: m.get(k) for k in CARRIED} | {new: m.get(old) for new, old in history.items()}
                    for m in measures if m["service_number"] not in gone]
    return new_services, new_measures, dropped


def _fill(wb, schema: Schema, code: str, plan, history: dict[str, str]) -> list[Dropped]:
    services, measures, dropped = rolled_rows(schema, code, plan, history)
    ws = wb[schema.services.sheet]
    for row in ws.iter_rows(min_row=FIRST_DATA_ROW):   # the catalog's services, pre-filled
        for cell in row:
            cell.value = None
    for table, rows in ((schema.services, services), (schema.measures, measures)):
        ws = wb[table.sheet]
        for r, values in enumerate(rows, start=FIRST_DATA_ROW):
            for c, key in enumerate(table.keys, start=1):
                _put(ws.cell(r, c), values.get(key))
    return dropped


def _put(cell, value) -> None:
    """A value into a template cell: whole numbers as int, text always as text (openpyxl would
    store '=...' from a submission as a formula)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    cell.value = value
    if isinstance(value, str) and cell.data_type == "f":
        cell.data_type = "s"
