"""Plans → the three frames the checks run on, for one plan or many at once.

- cells: one row per cell of the Agency, Services and Measures tables (`column_of` numbers
  the plans' columns), with what the rules need to judge it (its type, whether it is required
  at the plan's stage, its list, ...);
- measures: one row per measure, with the service and agency facts joined in;
- services: one row per service, with its measure counts.

Every frame has `plan` (position in the list of plans) and `i` (row within its table), so a
failing row maps straight back to the sheet and cell the reader recorded. Columns are plain
numpy arrays for the checks' speed: text is "" when absent (the cells frame keeps None),
numbers NaN, service numbers 0.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from ..read.plan import Plan, TableData
from ..schema.loader import COLUMN_CHECKS, NUMERIC_TYPES
from ..read.xlsx import CellError

NAN = math.nan


def _number(v) -> float:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else NAN


def _text(v) -> str:
    return v if isinstance(v, str) else ""


def _int(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _column(values, dtype) -> np.ndarray:
    return np.fromiter(values, dtype=dtype, count=len(values))


def _frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """numpy columns → a frame. Text goes in as object Series on a shared index: a bare object
    array would cost pandas 3's per-column string inference and become its str dtype (None
    → NaN); Series without the index would be aligned one by one."""
    index = pd.RangeIndex(len(next(iter(columns.values()))))
    return pd.DataFrame({k: pd.Series(v, index=index, dtype=object, copy=False)
                         if v.dtype == object else v for k, v in columns.items()}, copy=False)


def _rows_to_columns(rows: list[tuple], names, dtypes: dict) -> dict[str, np.ndarray]:
    columns = zip(*rows) if rows else [()] * len(names)
    return {k: _column(v, dtypes.get(k, object)) for k, v in zip(names, columns)}


# c_<check>: whether the cell's column names the check in the YAML's `checks:`
_FLAGS = tuple(f"c_{name}" for name in COLUMN_CHECKS)
_CELL_COLUMNS = ("plan", "table", "key", "column_of", "i", "ctype", "numeric", "number", "text",
                 "blank", "error", "unparsed", "required", "missing_code", "pair", *_FLAGS,
                 "is_percent")
_CELL_TYPES = {"plan": np.int64, "column_of": np.int64, "i": np.int64, "numeric": bool,
               "number": float, "blank": bool, "error": bool, "unparsed": bool, "required": bool,
               "is_percent": bool, **dict.fromkeys(_FLAGS, bool)}


# one value per column of a table (repeated for its cells at the end), or one per cell
_PER_COLUMN = ("plan", "table", "key", "ctype", "numeric", "missing_code", *_FLAGS)
_PER_CELL = ("number", "text", "blank", "error", "unparsed", "required", "pair", "is_percent")


def cells_frame(plans: list[Plan]) -> pd.DataFrame:
    per_column = {k: [] for k in _PER_COLUMN}
    cells = {k: [] for k in _PER_CELL}
    counts = []
    for p, plan in enumerate(plans):
        units = plan.measures.values.get("unit")
        percent_unit = plan.schema.roles.percent_unit
        no_data = _explained_no_data(plan)
        for data in (plan.agency, plan.services, plan.measures):
            n = len(data.rows)
            for column in data.table.columns:
                values = data.values.get(column.key)
                if values is None:
                    continue
                counts.append(n)
                numeric = column.type in NUMERIC_TYPES
                for key, value in (("plan", p), ("table", data.table.name), ("key", column.key),
                                   ("ctype", column.type), ("numeric", numeric),
                                   ("missing_code", column.missing_code)):
                    per_column[key].append(value)
                for name in COLUMN_CHECKS:
                    per_column[f"c_{name}"].append(name in column.checks)
                # normalized values are None, str, int, float, date or CellError (exact types)
                cells["number"] += ([float(v) if type(v) in (int, float) else NAN for v in values]
                                    if numeric else [NAN] * n)
                cells["text"] += [v if type(v) is str else None for v in values]
                cells["blank"] += [v is None for v in values]
                cells["error"] += [type(v) is CellError for v in values]
                cells["unparsed"] += ([(column.key, i) in data.unparsed for i in range(n)]
                                      if data.unparsed else [False] * n)
                required = plan.schema.required_at(column, plan.stage)
                cells["required"] += ([required and not waived for waived in no_data]
                                      if column.waived_by_no_data and data is plan.measures
                                      else [required] * n)
                cells["pair"] += ([f"{column.list}\x1f{v}" if type(v) is str else "" for v in values]
                                  if column.list else [""] * n)
                percent = column.type == "measure" and data is plan.measures and units
                cells["is_percent"] += [u == percent_unit for u in units] if percent else [False] * n
    counts = np.array(counts, dtype=np.int64)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    columns = {k: np.repeat(_column(v, _CELL_TYPES.get(k, object)), counts)
               for k, v in per_column.items()}
    columns["i"] = np.arange(len(starts), dtype=np.int64) - starts
    columns["column_of"] = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    columns.update((k, _column(v, _CELL_TYPES.get(k, object))) for k, v in cells.items())
    return _frame({k: columns[k] for k in _CELL_COLUMNS})


def _explained_no_data(plan: Plan) -> list[bool]:
    """Per measure: Status is No Data and Status Explanation says why."""
    m = plan.measures
    status = m.values.get("status") or [None] * len(m.rows)
    explanation = m.values.get("status_explanation") or [None] * len(m.rows)
    no_data = plan.schema.roles.no_data
    return [s == no_data and e is not None for s, e in zip(status, explanation)]


_MEASURE_COLUMNS = ("plan", "i", "agency_code", "service_number", "service_listed", "id_agency",
                    "id_service", "measure_type", "direction", "target", "baseline",
                    "has_rationale", "status", "has_explanation", "actual", "prorate")
_MEASURE_TYPES = {"plan": np.int64, "i": np.int64, "service_number": np.int64,
                  "service_listed": bool, "id_service": np.int64, "target": float,
                  "baseline": float, "has_rationale": bool, "has_explanation": bool,
                  "actual": float, "prorate": bool}


def measures_frame(plans: list[Plan]) -> pd.DataFrame:
    rows = []
    for p, plan in enumerate(plans):
        m = plan.measures
        n = len(m.rows)
        listed = {v for v in plan.services.values.get("service_number", []) if _int(v)}
        services_known = "service_number" in plan.services.columns  # else nothing to compare
        roles = plan.schema.roles
        reporting = plan.stage != roles.plan
        year_end = plan.stage == roles.yearend
        id_parts = re.compile(roles.measure_id_parts).fullmatch
        agency = plan.agency_code

        def get(key):  # a missing column reads as empty
            return m.values.get(key) or [None] * n
        ids, services, units = get("measure_id"), get("service_number"), get("unit")
        targets, a2, a3 = get("target"), get("actual_y2"), get("actual_y3")
        mids, ends = get("midyear_actual"), get("yearend_actual")
        rationale, explanation = get("target_rationale"), get("status_explanation")
        types, directions, statuses = get("measure_type"), get("direction"), get("status")
        for i in range(n):
            match = id_parts(ids[i]) if isinstance(ids[i], str) else None
            svc = _int(services[i])
            baseline = _number(a2[i])
            if math.isnan(baseline):
                baseline = _number(a3[i])
            rows.append((
                p, i, agency, svc, svc in listed or not services_known,
                match["agency"] if match else "", int(match["service"]) if match else 0,
                _text(types[i]), _text(directions[i]), _number(targets[i]), baseline,
                rationale[i] is not None, _text(statuses[i]) if reporting else "",
                explanation[i] is not None, _number(ends[i] if year_end else mids[i]),
                reporting and not year_end and units[i] in roles.cumulative_units))
    return _frame(_rows_to_columns(rows, _MEASURE_COLUMNS, _MEASURE_TYPES))


_SERVICE_COLUMNS = ("plan", "i", "agency_code", "agency_known", "service_number",
                    "measure_count", "outcome_count")
_SERVICE_TYPES = {"plan": np.int64, "i": np.int64, "agency_known": bool,
                  "service_number": np.int64, "measure_count": np.int64,
                  "outcome_count": np.int64}


def services_frame(plans: list[Plan]) -> pd.DataFrame:
    rows = []
    for p, plan in enumerate(plans):
        s, m = plan.services, plan.measures
        measured: dict[int, list[str]] = {}
        for svc, mtype in zip(m.values.get("service_number", []),
                              m.values.get("measure_type", [None] * len(m.rows))):
            measured.setdefault(svc, []).append(mtype)
        agency = plan.agency_code
        known = agency in plan.schema.agencies
        outcome_types = plan.schema.roles.outcome_types
        for i, svc in enumerate(s.values.get("service_number", [])):
            types = measured.get(svc, []) if _int(svc) else []
            rows.append((p, i, agency, known, _int(svc), len(types),
                         sum(t in outcome_types for t in types)))
    return _frame(_rows_to_columns(rows, _SERVICE_COLUMNS, _SERVICE_TYPES))


def table_of(plan: Plan, name: str) -> TableData:
    return {"agency": plan.agency, "services": plan.services, "measures": plan.measures}[name]
