"""Sync: agencies' Mid-Year and Year-End updates → the consolidated plan, by measure ID.

The consolidated plan is read back (consolidated/read.py); the update files are read,
validated and superseded exactly as merge does it (merge.merge, with the same calls as
`validate`); then each agency's latest update is applied to the agency's approved rows:

- the actuals, the status and its explanation (SYNCED) take the update's value wherever the
  update has a readable one; an empty cell in an update changes nothing;
- targets are locked once the plan is approved: a different target is a `target-changed` error
  and the approved target stays, unless the office accepts target changes;
- a measure the update adds is `measure-added`, one it lacks `measure-removed`: errors, and
  nothing changes, unless the office accepts them.

Every value changed is a Change (agency, measure, field, old, new, source file), listed on the
Changes sheet after those of earlier syncs; the Sources sheet keeps its rows and gains the
update files. The workbook is written again by consolidated.write_consolidated, atomically;
the inputs are never touched. Syncing the same files again changes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import SyncError
from ..bounds import bounded
from .consolidated.submissions import source_rows
from .consolidated.read import Citywide, Row, plan_from_rows, read_consolidated, rows_by_key
from ..findings import Finding, finding
from . import store
from .merge import Consolidation, Submission, merge
from ..read.sources import collect
from ..read.plan import Plan
from ..schema.loader import Schema
from ..read.xlsx import CellError

SYNCED = ("midyear_actual", "yearend_actual", "status", "status_explanation")
LOCKED = ("target",)
SYNC_CODES = ("target-changed", "measure-added", "measure-removed")


@dataclass(frozen=True)
class Change:
    agency: str
    measure_id: str
    field: str          # the column label, or "Measure" / "Service" for a row added or removed
    old: object
    new: object
    source: str         # the update file

    def __post_init__(self):  # whole numbers as they read back from the workbook
        for name in ("old", "new"):
            value = getattr(self, name)
            if isinstance(value, float) and value.is_integer():
                object.__setattr__(self, name, int(value))

    def row(self) -> list:
        return [self.agency, self.measure_id, self.field, self.old, self.new, self.source]

    def as_dict(self) -> dict:
        return {"agency": self.agency, "measure_id": self.measure_id, "field": self.field,
                "old": _jsonable(self.old), "new": _jsonable(self.new), "source": self.source}


@dataclass
class SyncResult:
    citywide: Citywide              # the consolidated plan as it was
    updates: Consolidation          # the update files as read, validated and superseded
    changes: list[Change]           # what this sync changed
    consolidation: Consolidation    # what to write

    @property
    def applied(self) -> list[Submission]:
        return self.updates.accepted

    @property
    def not_updated(self) -> list[str]:
        updated = {s.agency for s in self.applied}
        return [code for code in self.citywide.agencies if code not in updated]


def sync_files(consolidated: str | Path, specs: Iterable[str | Path], out: Path,
               schema: Schema | None = None, accept_target_changes: bool = False,
               accept_added: bool = False, accept_removed: bool = False, jobs: int = 1,
               progress: Callable | None = None, store_dir: Path | None = None) -> SyncResult:
    """Read the consolidated plan and the updates (files, folders or globs, and/or the
    submission store's updates of the plan's fiscal year) and apply them.
    Raises SyncError, MergeError (no update files found) or ConsolidatedError."""
    consolidated = Path(consolidated).resolve()
    specs = list(specs)
    found = collect(specs) if specs or store_dir is None else None
    paths = sorted(found.paths) if found else []
    not_read = found.not_read if found else []   # named in the output, never skipped silently
    city = None
    if store_dir is not None:
        city = read_consolidated(consolidated, schema)
        taken, others = _store_updates(store_dir, city.schema)
        paths += taken
        not_read = not_read + others
    if consolidated in paths:
        raise SyncError(f"{consolidated.name} is the consolidated plan; it cannot also be an "
                        f"update.")
    if out.resolve() in paths or out.resolve() == consolidated:
        raise SyncError(f"The output {out} is one of the inputs; choose another file name "
                        f"(the consolidated plan is never changed in place).")
    city = city or read_consolidated(consolidated, schema)
    updates = merge(paths, schema=city.schema, jobs=jobs, progress=progress)
    updates.not_read = not_read
    _check_updates(city, updates)
    return sync(city, updates, accept_target_changes, accept_added, accept_removed)


def _store_updates(store_dir: Path, schema: Schema) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The store's Mid-Year and Year-End Updates of the plan's fiscal year (only those), and
    its other submissions, each with why it is not read."""
    try:
        taken, others = store.chosen(store_dir, schema.fiscal_year, tuple(schema.stages[1:]),
                                     "sync")
    except store.StoreError as e:
        raise SyncError(str(e)) from None
    if not taken:
        raise SyncError(f"The submission store {store_dir} holds no FY{schema.fiscal_year} "
                        f"{' or '.join(schema.stages[1:])}.")
    return [s.path.resolve() for s in taken], others


def _check_updates(city: Citywide, updates: Consolidation) -> None:
    """Refuse files that are not this plan's updates: another fiscal year, a Plan, an agency
    without an approved plan."""
    year, problems = city.schema.fiscal_year, []
    for sub in updates.accepted:
        plan = sub.plan
        stated = plan.field("fiscal_year")
        if not isinstance(stated, int):
            made_for = plan.identity.get("fiscal_year", "")
            stated = int(made_for) if made_for.isdigit() else year
        if stated != year:
            problems.append(f"{sub.name} is for fiscal year {stated}; {city.path.name} is the "
                            f"FY{year} plan.")
        elif plan.stage == city.schema.stages[0]:
            problems.append(f"{sub.name} is a {plan.stage}, not an update (see its Plan Stage); "
                            f"sync applies {' and '.join(city.schema.stages[1:])}s. To replace "
                            f"an approved plan, merge the plans again.")
        elif not sub.agency:
            problems.append(f"{sub.name} names no agency (its Agency Code is empty).")
        elif sub.agency not in city.agencies:
            problems.append(f"{sub.name} is an update from {sub.agency}, but {city.path.name} has "
                            f"no {sub.agency} plan; merge the agency's plan first.")
    if problems:
        raise SyncError("\n".join(problems))


def sync(city: Citywide, updates: Consolidation, accept_target_changes: bool = False,
         accept_added: bool = False, accept_removed: bool = False) -> SyncResult:
    """Apply each agency's accepted update to its approved rows; the rest is carried as it was."""
    approved = city.agencies
    changes: list[Change] = []
    for upd in updates.accepted:
        plan, changed, found = apply_update(approved[upd.agency].plan, upd.plan, upd.name,
                                            accept_target_changes, accept_added, accept_removed)
        upd.plan = plan
        upd.report = replace(upd.report, findings=bounded(upd.report.findings + found))
        changes += changed
    replaced = {s.agency for s in updates.accepted}
    fresh = {(s.name, s.sha256) for s in updates.submissions}
    fresh_names = {s.name for s in updates.submissions}
    carried = [s for s in city.submissions
               if not (s.plan is not None and s.agency in replaced)
               and (s.name, s.sha256) not in fresh
               and not (not s.sha256 and s.name in fresh_names)]
    listed = {(row[0], row[1]) for row in city.sources}
    new_sources = [row for row in source_rows(updates.submissions)
                   if (row[0], row[1]) not in listed]
    cons = Consolidation(submissions=carried + updates.submissions,
                         sources=city.sources + new_sources,
                         changes=city.changes + [c.row() for c in changes])
    return SyncResult(citywide=city, updates=updates, changes=changes, consolidation=cons)


def apply_update(base: Plan, update: Plan, source: str, accept_target_changes: bool = False,
                 accept_added: bool = False, accept_removed: bool = False
                 ) -> tuple[Plan, list[Change], list[Finding]]:
    """The approved plan with the update applied, the changes made, and the sync findings
    (located in the update workbook)."""
    schema, agency = base.schema, base.agency_code
    measures = rows_by_key(base.measures)
    services = rows_by_key(base.services)
    u = update.measures
    changes: list[Change] = []
    found: list[Finding] = []
    if "measure_id" in u.columns:   # else validation says the column is missing; nothing to match
        _apply_measures(schema, agency, measures, services, update, source, changes, found,
                        accept_target_changes, accept_added, accept_removed)
    dated = ("submission_date", 0) not in update.agency.unparsed   # a date, or none
    fields = Row({"agency_code": agency, "agency_name": base.field("agency_name"),
                  "fiscal_year": schema.fiscal_year, "stage": update.stage,
                  "submission_date": update.field("submission_date")},
                 unread=() if dated else ["submission_date"])
    plan = plan_from_rows(schema, fields, services, measures, source=update.source,
                          stage=update.stage)
    return plan, changes, found


def _apply_measures(schema, agency, measures, services, update: Plan, source, changes, found,
                    accept_target_changes, accept_added, accept_removed) -> None:
    u, year = update.measures, schema.fiscal_year
    label = {c.key: c.label for c in schema.measures.columns}
    n = len(u.rows)
    column = {key: u.values.get(key) or [None] * n for key in label}   # the update's, by key
    tracked = [(key, column[key]) for key in label if key in LOCKED + SYNCED]
    index = {r["measure_id"]: r for r in measures if isinstance(r["measure_id"], str)}
    seen: set[str] = set()

    def readable(key, i, value):
        return (value is not None and not isinstance(value, CellError)
                and (key, i) not in u.unparsed)

    for i, mid in enumerate(column["measure_id"]):
        if not isinstance(mid, str) or mid in seen:
            continue   # no ID, or a duplicate: validation reports it
        seen.add(mid)
        old = index.get(mid)
        if old is None:
            if accept_added:
                row = Row({k: (v[i] if readable(k, i, v[i]) else None) for k, v in column.items()})
                measures.append(row)
                changes.append(Change(agency, mid, "Measure", None, row.get("measure_name"),
                                      source))
                _add_service(schema, agency, services, update, row.get("service_number"), mid,
                             source, changes)
            else:
                found.append(finding(
                    "measure-added", {"location": f"{u.sheet}!{u.address('measure_id', i)}",
                                      "measure_id": mid, "year": year},
                    sheet=u.sheet, cell=u.address("measure_id", i), row=u.rows[i],
                    column=label["measure_id"], measure_id=mid, value=mid))
            continue
        for key, values in tracked:
            value = values[i]
            if not readable(key, i, value) or _same(old.get(key), value):
                continue
            if key in LOCKED and not accept_target_changes:
                cell = u.address(key, i)
                found.append(finding(
                    "target-changed", {"location": f"{u.sheet}!{cell}", "label": label[key],
                                       "measure_id": mid, "shown": _shown(value),
                                       "approved": _shown(old.get(key)),
                                       "explanation": label["status_explanation"]},
                    sheet=u.sheet, cell=cell, row=u.rows[i], column=label[key],
                    measure_id=mid, value=_shown(value)))
                continue
            changes.append(Change(agency, mid, label[key], old.get(key), value, source))
            old[key] = value
            old.unread.discard(key)
    for old in list(measures):
        mid = old["measure_id"]
        if not isinstance(mid, str) or mid in seen or mid not in index:
            continue
        if accept_removed:
            measures.remove(old)
            changes.append(Change(agency, mid, "Measure", old.get("measure_name"), None, source))
        else:
            found.append(finding(
                "measure-removed", {"measure_id": mid, "year": year, "sheet": u.sheet,
                                    "name": old.get("measure_name")},
                sheet=u.sheet, measure_id=mid, value=mid))


def _add_service(schema, agency, services, update: Plan, number, mid, source, changes) -> None:
    """An accepted new measure brings its service along when the plan lacks it."""
    if number is None or any(s.get("service_number") == number for s in services):
        return
    for row in rows_by_key(update.services):
        if row.get("service_number") == number:
            services.append(row)
            changes.append(Change(agency, mid, "Service", None,
                                  f"{number} {row.get('service_name') or ''}".strip(), source))
            return


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def _shown(v):
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return "(empty)" if v is None else v


def _jsonable(v):
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    return str(v)
