"""The schema as pandera users write it: one `DataFrameSchema` per sheet, a `Column` per header.

`table_schemas` compiles the YAML's Agency, Services and Measures tables into schemas over
"wide" frames, one column per header label ("Measure ID", "FY2028 Target"): dtype, `nullable`
for the cells required at the stage, and pandera's built-in checks (`isin`, `str_matches`,
`ge`, `ne`, `unique`). That is what `planvalidator schema export` writes, so an analyst can
validate `pd.read_excel(...)` with pandera alone.

`plan_schemas` adds the rules that need the rest of the plan: the built-ins whose values come
from the other sheets (listed services, the agency's catalog) and the checks registered here
for rules pandera has no built-in for (a measure ID naming its agency and service, targets
against baselines, statuses against actuals, percents, actuals waived by an explained No Data).
Where a rule family module (cell, targets, plan, reporting) has the rule's check, the one here
is a thin adapter calling it, so the rule keeps one home. `plan_frames` turns a read Plan into
the wide frames, indexed by the plan's row index so every failure case maps back to the cell
the reader recorded.

The engine stays validate.py's fast path over long frames (it is faster). `plan_schemas`,
`plan_frames` and the adapters are the reference it is held to: only
tests/test_pandera_schemas.py runs them, to prove that both give the same findings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .cell import percent_range
from .frames import table_of
from .plan import id_matches_agency, id_matches_service
from .reporting import status_consistent
from .targets import target_vs_baseline
from ..read.plan import Plan, TableData
from ..read.xlsx import CellError
from ..schema.loader import Column, Schema, SchemaError, Table

DTYPES = {"text": str, "integer": "Int64", "number": float, "dollars": float, "measure": float,
          "date": "datetime64[ns]"}

# Codes the pandera schemas yield. The others are not DataFrame rules: the reader's
# (missing-sheet, missing-column, value-interpreted, unreadable-workbook, and reading each cell
# as its column's type: not-a-number, not-a-date, formula-error, placeholder-target, see
# plan_frames), the template's identity (template-outdated, and agency-mismatch on the Agency
# sheet) and the ones across submissions (measure-id-collision, target-changed, ...).
COVERED = frozenset({
    "required-missing", "missing-target", "missing-midyear-actual", "missing-yearend-actual",
    "not-in-list", "negative-value", "percent-out-of-range", "bad-measure-id",
    "duplicate-measure-id", "zero-target", "unknown-service", "agency-mismatch",
    "target-below-baseline", "missing-status-explanation", "status-inconsistent",
    "service-not-in-catalog", "service-without-measures", "no-outcome-measure"})


@dataclass(frozen=True)
class TableSchema:
    """A table's pandera schema and the finding code of each of its checks."""
    table: Table
    schema: object                       # pa.DataFrameSchema
    codes: dict   # (label, check number or "not_nullable") → code; label None: a frame check
    lands_on: tuple[str, ...] = ()       # per frame check: the column its finding points at

    def findings(self, failure_cases: pd.DataFrame) -> set[tuple[str, int, str]]:
        """(column label, row index, code) of each failure case; a case that is no rule's
        (a missing column, a wrong dtype) raises KeyError: the frame is not the plan's."""
        out = set()
        for case in failure_cases.itertuples():
            if case.check == "field_uniqueness":
                out.add((case.column, int(case.index), "duplicate-measure-id"))
            elif case.check == "not_nullable":
                out.add((case.column, int(case.index), self.codes[case.column, "not_nullable"]))
            elif case.schema_context == "DataFrameSchema" and pd.notna(case.check_number):
                n = int(case.check_number)
                out.add((self.lands_on[n], int(case.index), self.codes[None, n]))
            elif case.schema_context == "Column" and pd.notna(case.check_number):
                out.add((case.column, int(case.index),
                         self.codes[case.column, int(case.check_number)]))
            else:
                raise KeyError(f"{case.column}: {case.check} is no rule's")
        return out


def table_schemas(schema: Schema, stage: str | None = None) -> dict[str, TableSchema]:
    """Each table's schema at a plan stage (default: the first), with built-in checks only."""
    import pandera.pandas as pa
    stage = stage or schema.roles.plan
    out = {}
    for table in schema.tables:
        columns, codes = {}, {}
        for column in table.columns:
            pairs = _builtin_checks(schema, column)
            required = schema.required_at(column, stage) and not column.waived_by_no_data
            columns[column.label] = pa.Column(
                DTYPES[column.type], checks=[c for c, _ in pairs] or None, nullable=not required,
                unique="unique" in column.checks, coerce=True)
            codes.update({(column.label, n): code for n, (_, code) in enumerate(pairs)})
            codes[column.label, "not_nullable"] = column.missing_code
        out[table.name] = TableSchema(table, pa.DataFrameSchema(
            columns, name=f"FY{schema.fiscal_year} {table.sheet}"), codes)
    return out


def export(schema: Schema, table: str, fmt: str, stage: str | None, header_row: int) -> str:
    """One table's schema in pandera's own YAML (`to_yaml`) or script (`to_script`) form, with
    built-in checks only: pandera alone loads and runs it. The script form needs black
    (pandera formats it with black; ImportError otherwise)."""
    if stage is not None and stage not in schema.stages:
        raise SchemaError(f"There is no stage '{stage}' in {schema.path.name} "
                          f"(stages: {', '.join(schema.stages)}).")
    stage = stage or schema.roles.plan
    t = table_schemas(schema, stage)[table]
    read = (f'pd.read_excel(path, sheet_name="{t.table.sheet}", header={header_row - 1}, '
            f'index_col=0).T' if t.table.name == "agency" else
            f'pd.read_excel(path, sheet_name="{t.table.sheet}", header={header_row - 1})')
    about = [f"The {t.table.sheet} sheet of a FY{schema.fiscal_year} plan at stage {stage}, as a "
             "pandera schema", "(written by planvalidator schema export). Validate a sheet with:",
             f"  schema.validate({read}, lazy=True)",
             "Rules that need other sheets or several columns (unknown services, a measure ID's",
             "agency and service, targets against baselines, percents, statuses, actuals waived",
             "by an explained No Data) are planvalidator's: planvalidator validate runs them."]
    if fmt == "yaml":
        return "".join(f"# {line}\n" for line in about) + t.schema.to_yaml()
    # pandera's script imports from the top-level module, which pandera now warns about
    script = t.schema.to_script().replace("from pandera import ", "from pandera.pandas import ", 1)
    return '"""' + "\n".join(about) + '\n"""\n\n' + script


def _builtin_checks(schema: Schema, column: Column) -> list:
    import pandera.pandas as pa
    pairs = []
    if column.list:
        pairs.append((pa.Check.isin(list(schema.lists[column.list])), "not-in-list"))
    if "measure_id_format" in column.checks:
        pairs.append((pa.Check.str_matches(rf"(?:{schema.roles.measure_id_pattern})\Z"), "bad-measure-id"))
    if "non_negative" in column.checks:
        pairs.append((pa.Check.ge(0), "negative-value"))
    if "real_target" in column.checks:
        pairs.append((pa.Check.ne(0), "zero-target"))
    return pairs


def plan_schemas(plan: Plan) -> dict[str, TableSchema]:
    """The table schemas for one plan: its stage, the columns it has, and the rules that need
    its other sheets (as built-in checks where pandera has them)."""
    import pandera.pandas as pa
    register()
    schema, stage = plan.schema, plan.stage
    roles = schema.roles
    base = table_schemas(schema, stage)
    label = {t.name: {c.key: c.label for c in t.columns} for t in schema.tables}
    column_checks = {name: {} for name in base}    # table → label → [(check, code)]
    frame_checks = {name: [] for name in base}     # table → [(check, code, lands on)]

    def on(table, key, check, code):
        column_checks[table].setdefault(label[table][key], []).append((check, code))

    def across(table, key, check, code):
        frame_checks[table].append((check, code, label[table][key]))

    m = label["measures"]
    # measures
    if "service_number" in plan.services.columns:
        on("measures", "service_number", pa.Check.isin(sorted(_ints(plan.services, "service_number"))),
           "unknown-service")
    if plan.agency_code:
        on("measures", "measure_id", pa.Check.id_names_agency(agency=plan.agency_code,
                                                             parts=roles.measure_id_parts),
           "agency-mismatch")
    across("measures", "measure_id", pa.Check.id_names_service(
        measure_id=m["measure_id"], service=m["service_number"], parts=roles.measure_id_parts),
        "bad-measure-id")
    across("measures", "target", pa.Check.target_not_below_baseline(
        target=m["target"], baselines=[m["actual_y2"], m["actual_y3"]],
        direction=m["direction"], rationale=m["target_rationale"],
        directions=list(roles.directions)), "target-below-baseline")
    for column in schema.measures.columns:
        if column.type == "measure":
            across("measures", column.key, pa.Check.percent_within_range(
                column=column.label, unit=m["unit"], percent=roles.percent_unit), "percent-out-of-range")
        if column.waived_by_no_data and schema.required_at(column, stage):
            across("measures", column.key, pa.Check.filled_unless_no_data(
                column=column.label, status=m["status"], explanation=m["status_explanation"],
                no_data=roles.no_data), column.missing_code)
    if stage != roles.plan:
        year_end = stage == roles.yearend
        across("measures", "status_explanation", pa.Check.explains_status(
            status=m["status"], explanation=m["status_explanation"], statuses=[roles.at_risk, roles.off_track]),
            "missing-status-explanation")
        across("measures", "status", pa.Check.status_matches_actual(
            status=m["status"], actual=m["yearend_actual" if year_end else "midyear_actual"],
            target=m["target"], direction=m["direction"], unit=m["unit"],
            halved_units=[] if year_end else list(roles.cumulative_units),
            at_risk_within=schema.at_risk_within, statuses=list(roles.statuses),
            directions=list(roles.directions)), "status-inconsistent")
    # services
    agency = schema.agencies.get(plan.agency_code)
    if agency:
        on("services", "service_number", pa.Check.isin(sorted(agency.services)),
           "service-not-in-catalog")
    measured = _measured(plan)
    on("services", "service_number", pa.Check.isin(sorted(measured)), "service-without-measures")
    on("services", "service_number", pa.Check.notin(
        sorted(n for n, types in measured.items() if not set(types) & set(roles.outcome_types))),
        "no-outcome-measure")

    out = {}
    for name, base_table in base.items():
        data = table_of(plan, name)
        present = [c.label for c in data.table.columns if c.key in data.values]
        codes = {k: v for k, v in base_table.codes.items() if k[0] in present}
        columns = {}
        for lbl in present:
            col = base_table.schema.columns[lbl]
            extra = column_checks[name].get(lbl, [])
            codes.update({(lbl, len(col.checks) + n): code for n, (_, code) in enumerate(extra)})
            columns[lbl] = col.set_checks(col.checks + [c for c, _ in extra]) if extra else col
        for n, (check, code, _) in enumerate(frame_checks[name]):
            check.ignore_na = False      # the cell a finding lands on is often the empty one
            codes[None, n] = code
        out[name] = TableSchema(base_table.table, pa.DataFrameSchema(
            columns, checks=[c for c, _, _ in frame_checks[name]], name=base_table.schema.name),
            codes, tuple(lands for _, _, lands in frame_checks[name]))
    return out


def _ints(data: TableData, key: str) -> set[int]:
    return {v for v in data.values.get(key, []) if type(v) is int and v}


def _measured(plan: Plan) -> dict[int, list]:
    """Service number → the types of its measures."""
    m = plan.measures
    out: dict[int, list] = {}
    for svc, mtype in zip(m.values.get("service_number", []),
                          m.values.get("measure_type", [None] * len(m.rows))):
        if type(svc) is int:
            out.setdefault(svc, []).append(mtype)
    return out


# --- a plan as wide frames ------------------------------------------------------------------

def plan_frames(plan: Plan) -> dict[str, pd.DataFrame]:
    """Each table of the plan as one wide frame: a column per header label, a row per plan row
    (the Agency sheet's Field | Value list is one row), typed as `table_schemas` says.

    A cell the reader could not read as its column's type (text in a number or date column, a
    placeholder target, a formula error) is left empty here: it holds no value of that type.
    The reader's type findings report those cells (see COVERED)."""
    return {name: _frame(table_of(plan, name)) for name in ("agency", "services", "measures")}


def unreadable(data: TableData) -> set[tuple[str, int]]:
    """(key, row index) of the cells plan_frames leaves empty although they hold something."""
    return set(data.unparsed) | {(key, i) for key, values in data.values.items()
                                 for i, v in enumerate(values) if type(v) is CellError}


def _frame(data: TableData) -> pd.DataFrame:
    skip = unreadable(data)
    columns = {}
    for column in data.table.columns:
        values = data.values.get(column.key)
        if values is None:
            continue
        values = [None if (column.key, i) in skip else v for i, v in enumerate(values)]
        columns[column.label] = _typed(column.type, values)
    return pd.DataFrame(columns, index=pd.RangeIndex(len(data.rows)))


def _typed(ctype: str, values: list) -> pd.Series:
    if ctype == "text":
        return pd.Series(values, dtype=object)
    if ctype == "integer":
        return pd.Series(pd.array(values, dtype="Int64"))
    if ctype == "date":
        return pd.Series(pd.to_datetime(values), dtype="datetime64[ns]")
    return pd.Series([float(v) if v is not None else math.nan for v in values], dtype=float)


# --- the checks pandera has no built-in for -------------------------------------------------
# Each takes the wide frame (or a column) and the labels it reads, turns them into the columns
# of the fast path's frames and asks the fast path's check: one implementation of each rule.

def _get(df: pd.DataFrame, label: str) -> pd.Series:
    """A column, or an empty one when the sheet lacks it (as the fast path reads it)."""
    return df[label] if label in df.columns else pd.Series(None, index=df.index, dtype=object)


def _numbers(df, label) -> np.ndarray:
    return pd.to_numeric(_get(df, label), errors="coerce").to_numpy(dtype=float, na_value=math.nan)


def _texts(df, label) -> np.ndarray:
    return np.array([v if isinstance(v, str) else "" for v in _get(df, label)], dtype=object)


def _filled(df, label) -> np.ndarray:
    return _get(df, label).notna().to_numpy()


def _id_parts(ids: pd.Series, parts: str) -> tuple[np.ndarray, np.ndarray]:
    """The agency and service named by each measure ID ("", 0 when it is not in the form)."""
    match = re.compile(parts).fullmatch
    matches = [match(v) if isinstance(v, str) else None for v in ids]
    return (np.array([mt["agency"] if mt else "" for mt in matches], dtype=object),
            np.array([int(mt["service"]) if mt else 0 for mt in matches], dtype=np.int64))


def id_names_agency(ids: pd.Series, *, agency, parts):
    named, _ = _id_parts(ids, parts)
    frame = pd.DataFrame({"id_agency": named, "agency_code": agency}, index=ids.index)
    return id_matches_agency(frame)


def id_names_service(df, *, measure_id, service, parts):
    _, named = _id_parts(_get(df, measure_id), parts)
    svc = np.nan_to_num(_numbers(df, service)).astype(np.int64)
    frame = pd.DataFrame({"id_service": named, "service_number": svc}, index=df.index)
    return id_matches_service(frame)


def target_not_below_baseline(df, *, target, baselines, direction, rationale, directions):
    baseline = np.full(len(df), math.nan)
    for label in reversed(baselines):     # the first baseline that is filled
        numbers = _numbers(df, label)
        baseline = np.where(np.isnan(numbers), baseline, numbers)
    frame = pd.DataFrame({"direction": _texts(df, direction), "target": _numbers(df, target),
                          "baseline": baseline, "has_rationale": _filled(df, rationale)},
                         index=df.index)
    return target_vs_baseline(frame, directions=directions)


def percent_within_range(df, *, column, unit, percent):
    frame = pd.DataFrame({"is_percent": _texts(df, unit) == percent,
                          "number": _numbers(df, column)}, index=df.index)
    return percent_range(frame)


def filled_unless_no_data(df, *, column, status, explanation, no_data):
    waived = (_texts(df, status) == no_data) & _filled(df, explanation)
    return pd.Series(_filled(df, column) | waived, index=df.index)


def explains_status(df, *, status, explanation, statuses):
    unexplained = np.isin(_texts(df, status), list(statuses)) & ~_filled(df, explanation)
    return pd.Series(~unexplained, index=df.index)


def status_matches_actual(df, *, status, actual, target, direction, unit, halved_units,
                          at_risk_within, statuses, directions):
    frame = pd.DataFrame({"status": _texts(df, status), "actual": _numbers(df, actual),
                          "target": _numbers(df, target), "direction": _texts(df, direction),
                          "prorate": np.isin(_texts(df, unit), list(halved_units))},
                         index=df.index)
    return status_consistent(frame, at_risk_within=at_risk_within, statuses=statuses,
                             directions=directions)


_CHECKS = [
    (id_names_agency, ["agency", "parts"]),
    (id_names_service, ["measure_id", "service", "parts"]),
    (target_not_below_baseline, ["target", "baselines", "direction", "rationale", "directions"]),
    (percent_within_range, ["column", "unit", "percent"]),
    (filled_unless_no_data, ["column", "status", "explanation", "no_data"]),
    (explains_status, ["status", "explanation", "statuses"]),
    (status_matches_actual, ["status", "actual", "target", "direction", "unit", "halved_units",
                             "at_risk_within", "statuses", "directions"]),
]
_registered = False


def register() -> None:
    """Register the checks once (pandera keeps a global registry)."""
    global _registered
    if _registered:
        return
    from pandera import extensions
    _registered = True
    for fn, statistics in _CHECKS:
        extensions.register_check_method(statistics=statistics)(fn)
