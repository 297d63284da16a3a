"""Validation: plans → findings. The one path that the CLI, the add-in and merge all call.

The schema YAML is compiled into three pandera DataFrameSchemas (cells, measures, services)
whose checks are those of the rule records (checks.RULES). Pandera runs them lazily over
frames that may hold many plans at once; one adapter turns its failure cases into findings at
the cells the reader recorded, worded by the code's catalogue entry from the rule's facts.
Structure rules (template identity) are plain Python: they are about the workbook, not its
data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import checks
from ..bounds import bounded, more_findings
from ..findings import COLUMN_CAP, Finding, Report, finding
from .frames import Frame, cells_frame, measures_frame, services_frame, table_of
from .rule import CELLS, MEASURES, SERVICES, Context, Rule, checking
from ..read.plan import Plan, read_workbook
from ..schema.loader import IDENTITY_SHEET, Schema, load_schema
from ..read.xlsx import CellError, UnreadableWorkbook


@dataclass(frozen=True)
class Checks:
    """One frame's pandera schema, each of its checks' rule and pandera backend."""
    schema: object                 # pandera.DataFrameSchema
    rules: tuple[Rule, ...]
    backends: tuple


@dataclass(frozen=True)
class Compiled:
    cells: Checks
    measures: Checks
    services: Checks


@lru_cache(maxsize=8)
def compile_schema(schema: Schema) -> Compiled:
    """The schema's rules as pandera schemas, each check paired with the rule it belongs to."""
    import pandas as pd
    import pandera.pandas as pa
    checks.register()

    def build(frame):
        rules = tuple(r for r in checks.RULES if r.frame == frame and r.applies(schema))
        pandera_checks = [getattr(pa.Check, r.check.__name__)(**r.params(schema)) for r in rules]
        for check in pandera_checks:
            check.ignore_na = False
        return Checks(pa.DataFrameSchema(checks=pandera_checks), rules,
                      tuple(c.get_backend(pd.DataFrame())(c) for c in pandera_checks))

    return Compiled(build(CELLS), build(MEASURES), build(SERVICES))


def _failures(checked: Checks, frame: Frame) -> list[tuple[int, np.ndarray]]:
    """(check number, failing frame rows) of every failing check (lazily: none stops early).

    The schema's checks run through pandera's check backend (`preprocess` and `apply`) and we
    read their boolean output. `DataFrameSchema.validate`, and the backend's `postprocess`,
    would go on to copy every failing row out of the frame as failure cases (~1.5 ms per
    failing check) and format a report text, all of which this adapter would throw away. A
    check that crashes raises: that is our bug, never a finding."""
    failures = []
    with checking(frame):
        for number, backend in enumerate(checked.backends):
            passed = backend.apply(backend.preprocess(frame.df, None))
            if passed is True:
                continue
            passed = np.full(len(frame.df), passed) if isinstance(passed, bool) else (
                passed.to_numpy())
            if not passed.all():
                failures.append((number, np.flatnonzero(~passed)))
    return failures


def _by_column(frame: Frame, rows: np.ndarray, cell_rule: bool):
    """The failing rows split by the plan and column they land on, in frame order: (the
    first's frame row, rows). A cell rule's rows land on their own column, a row rule's on
    one column per plan."""
    groups = frame.columns["column_of" if cell_rule else "plan"]
    ids = groups[rows]
    for g in np.unique(ids):
        at = rows[ids == g]
        yield at[0], at


def validate_plans(plans: list[Plan]) -> list[Report]:
    """Validate many plans with one pandera pass per frame; one Report per plan, in order."""
    found: list[list[Finding]] = [list(p.findings) + _structure(p) for p in plans]
    by_schema: dict[Schema, list[int]] = {}
    for n, plan in enumerate(plans):
        by_schema.setdefault(plan.schema, []).append(n)
    # Failures beyond COLUMN_CAP of one code in one column are counted, not worded: a plan at
    # the reader's caps can fail on 400,000 cells, and wording one costs ~0.1 ms.
    counts: Counter = Counter()   # (plan, code, table, key) → failures so far
    first_left_out: dict[tuple, int] = {}
    for schema, members in by_schema.items():
        group = [plans[n] for n in members]
        compiled = compile_schema(schema)
        measures = measures_frame(group)
        _keep_measure_columns(group, measures)
        for frame, checked, row_table in (
                (cells_frame(group), compiled.cells, None),
                (measures, compiled.measures, "measures"),
                (services_frame(group), compiled.services, "services")):
            failures = _failures(checked, frame)
            if not failures:
                continue
            plan_of, i_of = frame.columns["plan"], frame.columns["i"]
            arrays = frame.columns if row_table else {}
            for check_number, rows in failures:
                rule = checked.rules[check_number]
                for n0, at_rows in _by_column(frame, rows, row_table is None):
                    p = plan_of[n0]
                    if row_table is None:   # a cell rule: the failing cell itself
                        table, key = frame.columns["table"][n0], frame.columns["key"][n0]
                    else:
                        table, key = row_table, rule.lands_on
                    at = (members[p], rule.code, table, key)
                    room = max(0, COLUMN_CAP - counts[at])
                    counts[at] += len(at_rows)
                    for n in at_rows[:room]:
                        row = {k: a[n] for k, a in arrays.items()} if row_table else None
                        found[at[0]].append(_finding(group[p], rule, table, key, int(i_of[n]),
                                                     row))
                    if len(at_rows) > room:
                        first_left_out.setdefault(at, int(i_of[at_rows[room]]))
    for at, i in first_left_out.items():
        found[at[0]].append(_more(plans[at[0]], *at[1:], i, counts[at] - COLUMN_CAP))
    return [Report(source=p.source, findings=bounded(f), agency=p.agency_code,
                   fiscal_year=p.schema.fiscal_year, stage=p.stage,
                   template_version=p.identity.get("template_version", ""))
            for p, f in zip(plans, found)]


def _keep_measure_columns(group: list[Plan], frame: Frame) -> None:
    """Each plan's rows of the measures frame (consecutive), copied: a view would keep the
    whole group's frame alive as long as one plan of it is."""
    ends = np.searchsorted(frame.columns["plan"], np.arange(len(group) + 1))
    for p, plan in enumerate(group):
        plan.measure_columns = {k: a[ends[p]:ends[p + 1]].copy()
                                for k, a in frame.columns.items()}


def validate_plan(plan: Plan) -> Report:
    return validate_plans([plan])[0]


def validate_workbook(path: str | Path, fiscal_year: int | None = None,
                      stage: str | None = None, schema: Schema | None = None) -> Report:
    """Read and validate one workbook, with `schema`, else the fiscal year's, else the
    workbook's own. Raises UnreadableWorkbook when it can't be read."""
    if schema is None and fiscal_year:
        schema = load_schema(fiscal_year)
    return validate_plan(read_workbook(path, schema=schema, stage=stage))


def validate_files(paths, schema: Schema | None = None, stage: str | None = None,
                   progress=None) -> list[Report]:
    """Validate many workbooks, one Report each in order; one that can't be read gets a
    Report holding a single `unreadable-workbook` finding. `progress(items, label)` may wrap
    the reading loop (a progress bar). `schema` None: each workbook's fiscal year decides."""
    paths = [Path(p) for p in paths]
    plans: dict[int, Plan] = {}
    reports: dict[int, Report] = {}
    items = progress(list(enumerate(paths)), "Reading") if progress else enumerate(paths)
    with items if hasattr(items, "__enter__") else nullcontext(items) as items:
        for n, path in items:
            try:
                plans[n] = read_workbook(path, schema=schema, stage=stage)
            except UnreadableWorkbook as e:
                reports[n] = unreadable_report(path, e)
    reports.update(zip(plans, validate_plans(list(plans.values()))))
    return [reports[n] for n in range(len(paths))]


def unreadable_report(path: Path, error: Exception) -> Report:
    return Report(source=Path(path).name, findings=[finding(
        "unreadable-workbook", {"reason": str(error)}, sheet="", value=Path(path).name)])


# --- one failing row → one finding -------------------------------------------------------

def _finding(plan: Plan, rule: Rule, table: str, key: str, i: int, row=None) -> Finding:
    """The finding for one failing cell; `row` is the failing row of a row rule's frame."""
    data = table_of(plan, table)
    column = data.table.column(key)
    raw = data.raw[key][i] if key in data.raw else None
    measure_id = ""
    if table == "measures" and "measure_id" in data.values:
        mid = data.values["measure_id"][i]
        measure_id = mid if isinstance(mid, str) else ""
    cell = data.address(key, i) if key in data.columns else ""
    ctx = Context(location=f"{data.sheet}!{cell}", label=column.label, value=_shown(raw),
                  measure_id=measure_id if key != "measure_id" else "",
                  extra=rule.facts(plan, data, column, i, row))
    return finding(rule.code, ctx.fields(), sheet=data.sheet, cell=cell,
                   row=data.row_of(key, i) if cell else 0, column=column.label,
                   measure_id=measure_id, value=_shown(raw))


def _more(plan: Plan, code: str, table: str, key: str, i: int, count: int) -> Finding:
    """The summary of `count` findings of `code` in a column, the first left out at row i."""
    data = table_of(plan, table)
    cell = data.address(key, i) if key in data.columns else ""
    return more_findings(code, count, sheet=data.sheet, column=data.table.column(key).label,
                         cell=cell, row=data.row_of(key, i) if cell else 0)


def _shown(raw):
    """The value as found, for messages and JSON (whole numbers without a trailing .0)."""
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, CellError):
        return raw.text or f"={raw.formula}"
    if isinstance(raw, (dt.date, dt.time)):
        return raw.isoformat()
    return raw


# --- structure: is this the right template? ------------------------------------------------

def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split("."))
    except ValueError:
        return ()


def _structure(plan: Plan) -> list[Finding]:
    schema, out = plan.schema, []
    ident, a = plan.identity, plan.agency
    # Findings about the template point at the Fiscal Year cell, which the analyst can see
    # (the identity sheet is hidden); without it, at the identity sheet.
    at_year = (dict(sheet=a.sheet, cell=a.address("fiscal_year", 0), row=a.row_of("fiscal_year", 0),
                    column=a.table.column("fiscal_year").label)
               if "fiscal_year" in a.columns else dict(sheet=IDENTITY_SHEET))
    year = plan.field("fiscal_year")
    version, made_for = ident.get("template_version", ""), ident.get("fiscal_year", "")
    outdated = None   # (variant, value): the first of the three ways a template is old
    if isinstance(year, int) and year != schema.fiscal_year:
        outdated = ("year", year)
    elif made_for and made_for != str(schema.fiscal_year):
        outdated = ("made-for", made_for)
    elif version and _version(version) < _version(schema.template_version):
        outdated = ("version", version)
    if outdated:
        variant, value = outdated
        out.append(finding("template-outdated", {
            "variant": variant, "year": year, "made_for": made_for, "version": version,
            "collected": schema.fiscal_year, "current": schema.template_version},
            **at_year, value=value))
    owner = ident.get("agency", "")
    if owner and plan.agency_code and owner != plan.agency_code:
        out.append(finding(
            "agency-mismatch", {"variant": "template", "owner": owner, "agency": plan.agency_code},
            sheet=a.sheet, cell=a.address("agency_code", 0), row=a.row_of("agency_code", 0),
            column=a.table.column("agency_code").label, value=plan.agency_code))
    return out
