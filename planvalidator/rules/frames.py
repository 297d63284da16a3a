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
from dataclasses import dataclass
from itertools import repeat
from types import NoneType

import numpy as np
import pandas as pd

from ..read.plan import Plan, TableData
from ..schema.loader import COLUMN_CHECKS, NUMERIC_TYPES
from ..read.xlsx import CellError

NAN = math.nan
_KINDS = {NoneType: 0, str: 1, float: 2, int: 3, CellError: 4}   # any other type: len(_KINDS)


def _int(v) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) else 0


def _column(values, dtype) -> np.ndarray:
    return np.fromiter(values, dtype=dtype, count=len(values))


@dataclass(frozen=True)
class Frame:
    """A check frame and the numpy columns it was built from, which the checks read (taking a
    column back out of pandas costs ~15 µs, and a frame's checks ask for some many times)."""
    df: pd.DataFrame
    columns: dict[str, np.ndarray]


def _frame(columns: dict[str, np.ndarray]) -> Frame:
    """numpy columns → a frame, as they are. `DataFrame(dict)` would check and convert each
    column again (~25 µs each: a frame costs more than its checks) and, in pandas 3, infer a
    str dtype for the text (None → NaN); pandas' own constructor from arrays does neither.
    tests/test_frames.py checks the result equals the frame pandas builds from plain lists."""
    index = pd.RangeIndex(len(next(iter(columns.values()))))
    return Frame(pd.DataFrame._from_arrays(list(columns.values()), columns=list(columns),
                                           index=index, verify_integrity=False), columns)


def _rows_to_columns(rows: list[tuple], names, dtypes: dict) -> dict[str, np.ndarray]:
    columns = zip(*rows) if rows else [()] * len(names)
    return {k: _column(v, dtypes.get(k, object)) for k, v in zip(names, columns)}


# c_<check>: whether the cell's column names the check in the YAML's `checks:`
_FLAGS = tuple(f"c_{name}" for name in COLUMN_CHECKS)
_CELL_COLUMNS = ("plan", "table", "key", "column_of", "i", "ctype", "numeric", "number", "text",
                 "has_text", "blank", "error", "unparsed", "required", "missing_code", "list_no",
                 *_FLAGS, "is_percent")
_CELL_TYPES = {"plan": np.int64, "column_of": np.int64, "i": np.int64, "numeric": bool,
               "number": float, "has_text": bool, "blank": bool, "error": bool, "unparsed": bool,
               "required": bool, "is_percent": bool, "list_no": np.int64,
               **dict.fromkeys(_FLAGS, bool)}


# one value per column of a table, repeated for its cells; list_no: the column's list as its
# position in the schema's lists (-1: none)
_PER_COLUMN = ("plan", "table", "key", "ctype", "numeric", "missing_code", "list_no", *_FLAGS)


def cells_frame(plans: list[Plan]) -> Frame:
    """The cells frame. Every cell's value goes into one flat array, column after column, and
    the per-cell columns are numpy operations over it: a Python pass per cell and column costs
    ~40 ns × 8 columns × every cell."""
    per_column: list[tuple] = []      # one _PER_COLUMN record per column of a table
    values: list = []                 # every cell's normalized value, column after column
    required: list = []               # per cell
    counts: list[int] = []
    unparsed: list[int] = []          # positions in `values` of cells not readable as their type
    percent: list[int] = []           # ... of measure cells in a row whose unit is percent
    for p, plan in enumerate(plans):
        list_no = {name: n for n, name in enumerate(plan.schema.lists)}
        units = plan.measures.values.get("unit")
        percent_rows = ([i for i, u in enumerate(units) if u == plan.schema.roles.percent_unit]
                        if units else [])
        no_data = _explained_no_data(plan)
        for data in (plan.agency, plan.services, plan.measures):
            n = len(data.rows)
            not_read: dict[str, list[int]] = {}
            for key, i in data.unparsed:
                not_read.setdefault(key, []).append(i)
            for column in data.table.columns:
                column_values = data.values.get(column.key)
                if column_values is None:
                    continue
                start = len(values)
                values += column_values
                counts.append(n)
                per_column.append((p, data.table.name, column.key, column.type,
                                   column.type in NUMERIC_TYPES, column.missing_code,
                                   list_no[column.list] if column.list else -1,
                                   *(name in column.checks for name in COLUMN_CHECKS)))
                unparsed += (start + i for i in not_read.get(column.key, ()))
                needed = plan.schema.required_at(column, plan.stage)
                required += ([needed and not waived for waived in no_data]
                             if column.waived_by_no_data and data is plan.measures
                             else [needed] * n)
                if column.type == "measure" and data is plan.measures:
                    percent += (start + i for i in percent_rows)
    counts = np.array(counts, dtype=np.int64)
    columns = {k: np.repeat(_column(v, _CELL_TYPES.get(k, object)), counts)
               for k, v in zip(_PER_COLUMN, zip(*per_column) if per_column
                               else [()] * len(_PER_COLUMN))}
    columns["column_of"] = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    columns["i"] = np.arange(len(values), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts,
                                                                        counts)
    cells = np.empty(len(values), object)
    cells[:] = values
    # normalized values are None, str, int, float, date or CellError (exact types), numbered
    # by _KINDS: comparing small integers costs nothing, comparing types a Python call each
    kinds = np.fromiter(map(_KINDS.get, map(type, values), repeat(len(_KINDS))), np.int8,
                        len(values))
    columns["has_text"] = is_text = kinds == _KINDS[str]
    columns["text"] = np.where(is_text, cells, None)
    columns["blank"] = kinds == _KINDS[NoneType]
    columns["error"] = kinds == _KINDS[CellError]
    number = columns["numeric"] & ((kinds == _KINDS[float]) | (kinds == _KINDS[int]))
    columns["number"] = np.full(len(values), NAN)
    columns["number"][number] = cells[number].astype(float)
    columns["unparsed"] = _flags(len(values), unparsed)
    columns["required"] = _column(required, bool)
    columns["is_percent"] = _flags(len(values), percent)
    return _frame({k: columns[k] for k in _CELL_COLUMNS})


def _flags(n: int, at) -> np.ndarray:
    out = np.zeros(n, bool)
    out[np.fromiter(at, np.int64)] = True
    return out


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


def measures_frame(plans: list[Plan]) -> Frame:
    parts = []
    for p, plan in enumerate(plans):
        m = plan.measures
        n = len(m.rows)
        listed = {v for v in plan.services.values.get("service_number", []) if _int(v)}
        services_known = "service_number" in plan.services.columns  # else nothing to compare
        roles = plan.schema.roles
        reporting = plan.stage != roles.plan
        year_end = plan.stage == roles.yearend
        id_parts = re.compile(roles.measure_id_parts).fullmatch

        def get(key):  # a missing column reads as empty
            return m.values.get(key) or [None] * n
        matches = [id_parts(v) if type(v) is str else None for v in get("measure_id")]
        services = [_int(v) for v in get("service_number")]
        baseline = _numbers(get("actual_y2"))
        baseline = np.where(np.isnan(baseline), _numbers(get("actual_y3")), baseline)
        parts.append({
            "plan": np.full(n, p, np.int64), "i": np.arange(n, dtype=np.int64),
            "agency_code": [plan.agency_code] * n, "service_number": services,
            "service_listed": [s in listed or not services_known for s in services],
            "id_agency": [x["agency"] if x else "" for x in matches],
            "id_service": [int(x["service"]) if x else 0 for x in matches],
            "measure_type": _texts(get("measure_type")), "direction": _texts(get("direction")),
            "target": _numbers(get("target")), "baseline": baseline,
            "has_rationale": [v is not None for v in get("target_rationale")],
            "status": _texts(get("status")) if reporting else [""] * n,
            "has_explanation": [v is not None for v in get("status_explanation")],
            "actual": _numbers(get("yearend_actual" if year_end else "midyear_actual")),
            "prorate": ([u in roles.cumulative_units for u in get("unit")]
                        if reporting and not year_end else [False] * n)})
    return _frame({k: _joined([part[k] for part in parts], _MEASURE_TYPES.get(k, object))
                   for k in _MEASURE_COLUMNS})


def _joined(pieces: list, dtype) -> np.ndarray:
    """The plans' pieces (lists or arrays) of one column → one array."""
    if len(pieces) == 1:   # one plan (validate, the add-in): no copy
        return np.asarray(pieces[0], dtype=dtype)
    if not pieces:
        return np.empty(0, dtype)
    return np.concatenate([np.asarray(piece, dtype=dtype) for piece in pieces])


def _numbers(values) -> np.ndarray:
    return np.fromiter((float(v) if type(v) in (int, float) else NAN for v in values), float,
                       len(values))


def _texts(values) -> list:
    return [v if type(v) is str else "" for v in values]


_SERVICE_COLUMNS = ("plan", "i", "agency_code", "agency_known", "service_number",
                    "measure_count", "outcome_count")
_SERVICE_TYPES = {"plan": np.int64, "i": np.int64, "agency_known": bool,
                  "service_number": np.int64, "measure_count": np.int64,
                  "outcome_count": np.int64}


def services_frame(plans: list[Plan]) -> Frame:
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
