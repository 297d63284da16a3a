"""The add-in both ways: Get my plan, and the agency's own submissions.

Get my plan (an xlwings script, like Validate) fills the open workbook — made from the current
template — with the agency's latest plan for the template's fiscal year from the submission
store: the Agency fields, the services, the measures and their targets. Only plans that passed
Submit are in the store, so the latest stored one is the latest accepted. Where each value goes
is found in the open workbook by the same reader that validates it (header labels, not fixed
positions); rows the workbook had below are emptied.

- The stage: a Mid-Year or Year-End Update chosen on the Agency sheet stays; otherwise (the
  template's "Plan") the stage after the stored plan's — an approved Plan comes back as the
  Mid-Year Update to report, a Mid-Year Update as the Year-End Update.
- In an update the targets arrive locked (the target cells are locked and the sheet protected,
  as the templates protect it: without a password). Sync still compares every target with the
  approved plan (`target-changed`), whatever happened to the lock.
- No plan of the year yet, but one of last year: its measures rolled forward with the rules of
  `template build --from` (rollforward.rolled_rows), as a Plan to set targets in.
- The agency is the token's; the office token takes the Agency Code typed in the workbook.

The submissions list and the download of a stored copy are plain JSON routes beside
xlwings-server's (`GET /planvalidator/submissions`, `GET /planvalidator/submissions/<file>`),
behind the same token check; times are shown in the city's time zone (config `timezone`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import xlwings as xw
from xlwings.server import script
from xlwings_server.models import CurrentUser

from ..a1 import column_letter
from ..citywide.consolidated.read import rows_by_key
from ..citywide.rollforward import history_map, rolled_rows
from ..citywide.store import (StoreError, StoredSubmission, list_submissions, local_time,
                              read_submission)
from ..read.payload import plan_sheets
from ..read.plan import Plan, TableData, read_plan
from ..read.xlsx import CellError
from ..schema.loader import Schema
from .session import INCLUDE, PLAN_SHEETS, _text
from .config import OFFICE, BadRequest, Forbidden, NotFound, Unavailable, runtime

FETCHED_CALLBACK = "planvalidatorFetched"             # task pane: what Get my plan filled in
UNPROTECT, PROTECT = "planvalidatorUnprotectSheets", "planvalidatorProtectSheets"
IDENTITY_FIELDS = ("agency_code", "agency_name", "prepared_by", "email", "phone", "agency_head")
EXCEL_EPOCH = dt.date(1899, 12, 30)


@dataclass
class Found:
    """The plan to fill in: its rows, where it came from, and the stage it is filled in for."""
    fields: dict
    services: list[dict]
    measures: list[dict]
    stage: str
    source: StoredSubmission
    rolled_forward: bool = False


@script(include=INCLUDE)
def get_my_plan(book: xw.Book, current_user: CurrentUser):
    """Get my plan: fill the workbook with the agency's latest accepted plan of its year."""
    api = book.api
    officejs = api.get("client", "") == "Office.js"
    names, sheets = plan_sheets(api, PLAN_SHEETS)
    here = read_plan(names, sheets, source=book.name)
    if any(f.code == "missing-sheet" for f in here.findings):
        raise BadRequest("Get my plan fills a workbook made from the plan template; open the "
                         f"FY{here.schema.fiscal_year} template and try again.")
    agency = _agency(current_user.id or "", here)
    found = latest_plan(runtime().store, agency, here.schema, here.stage)
    tables = [(here.services, found.services), (here.measures, found.measures)]
    sheet_names = [here.agency.sheet] + [t.sheet for t, _ in tables]
    if officejs:
        book.app.macro(UNPROTECT)({"sheets": sheet_names})
    fields = found.fields | {"fiscal_year": here.schema.fiscal_year, "stage": found.stage}
    for key, value in fields.items():
        if key in here.agency.columns:
            _put(book, here.agency.sheet, here.agency.row_of(key, 0),
                 here.agency.columns[key] + 1, [[value]])
    for table, rows in tables:
        _fill_table(book, table, rows)
    locked = found.stage != here.schema.stages[0]
    if officejs:
        book.app.macro(PROTECT)({"sheets": sheet_names, **_target_cells(here, found, locked)})
        book.app.macro(FETCHED_CALLBACK)(_summary(found, agency, here.schema, locked))
    book.app.alert(_sentence(found, agency, here.schema, locked), title="Get my plan",
                   buttons="ok", mode="info")


def _agency(who: str, here: Plan) -> str:
    if who == OFFICE:
        if not here.agency_code:
            raise BadRequest("With the office token, choose the agency's code in Agency Code on "
                             "the Agency sheet, then click Get my plan again.")
        return here.agency_code
    if here.agency_code and here.agency_code != who:
        raise Forbidden(f"Your token belongs to {who}; this workbook is the plan of "
                        f"{here.agency_code}. Open your agency's template.")
    return who


def latest_plan(store_dir: Path, agency: str, schema: Schema, stage_here: str) -> Found:
    """The agency's latest submission of the year (or last year's, rolled forward)."""
    try:
        subs = [s for s in list_submissions(store_dir) if s.agency == agency] \
            if Path(store_dir).is_dir() else []
        year = schema.fiscal_year
        this_year = [s for s in subs if s.fiscal_year == year]
        last_year = [s for s in subs if s.fiscal_year == year - 1]
        source = (this_year or last_year or [None])[-1]
        if source is None:
            raise NotFound(f"The performance office has no plan of {agency} for FY{year} or "
                           f"FY{year - 1} on this server yet.")
        names, sheets, _ = read_submission(source.path)
    except StoreError as e:
        raise Unavailable(f"Your plan could not be read from the server: {e}") from None
    if this_year:
        plan = read_plan(names, sheets, source=source.path.name, schema=schema)
        return Found(fields=_identity(plan) | _empty(schema), services=rows_by_key(plan.services),
                     measures=rows_by_key(plan.measures), source=source,
                     stage=_stage(schema.stages, stage_here, plan.stage))
    if agency not in schema.agencies:
        raise NotFound(f"{agency} is not in the FY{year} service catalog, so its FY{year - 1} "
                       "plan can't be rolled forward; ask the performance office.")
    old = read_plan(names, sheets, source=source.path.name)
    services, measures, _ = rolled_rows(schema, agency, old, history_map(old.schema, schema))
    return Found(fields=_identity(old), services=services, measures=measures,
                 stage=schema.stages[0], source=source, rolled_forward=True)


def _stage(stages: tuple[str, ...], chosen: str, stored: str) -> str:
    """An update chosen in the workbook stays; else the stage after the stored plan's."""
    if chosen != stages[0]:
        return chosen
    after = stages.index(stored) + 1 if stored in stages else 1
    return stages[min(after, len(stages) - 1)]


def _identity(plan: Plan) -> dict:
    return {key: plan.field(key) for key in IDENTITY_FIELDS}


def _empty(schema: Schema) -> dict:
    """The Agency fields that belong to each submission (approval, dates): left to fill."""
    return {c.key: None for c in schema.agency.columns
            if c.key not in IDENTITY_FIELDS + ("fiscal_year", "stage")}


def _fill_table(book: xw.Book, table: TableData, rows: list[dict]) -> None:
    """The rows under the table's header, one column at a time (the agency's own columns
    beside ours are left alone); rows the workbook had below are emptied."""
    top = table.header_row + 1
    height = max(len(rows), (max(table.rows) - table.header_row) if table.rows else 0)
    if not height:
        return
    for key, c in table.columns.items():
        column = [[row.get(key)] for row in rows] + [[None]] * (height - len(rows))
        _put(book, table.sheet, top, c + 1, column)


def _put(book: xw.Book, sheet: str, row: int, col: int, block: list[list]) -> None:
    values = [[_cell(v) for v in line] for line in block]
    book.sheets[sheet].range((row, col), (row + len(values) - 1, col)).value = values


def _cell(value):
    """A stored value as the client writes it into a cell."""
    if value is None or isinstance(value, CellError):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return (value - EXCEL_EPOCH).days   # the template's date format shows it as a date
    if isinstance(value, str):
        return _text(value)
    return value


def _target_cells(here: Plan, found: Found, locked: bool) -> dict:
    """The target column's cells of the filled rows: locked in an update, open in a Plan."""
    table = here.measures
    if "target" not in table.columns or not found.measures:
        return {"locked": [], "unlocked": []}
    top = table.header_row + 1
    column = column_letter(table.columns["target"] + 1)
    cells = [f"{column}{top}:{column}{top + len(found.measures) - 1}"]
    return {"locked": cells if locked else [], "unlocked": [] if locked else cells,
            "sheet": table.sheet}


def _summary(found: Found, agency: str, schema: Schema, locked: bool) -> dict:
    src = found.source
    return {"agency": agency, "fiscal_year": schema.fiscal_year, "stage": found.stage,
            "measures": len(found.measures), "services": len(found.services),
            "targets_locked": locked, "rolled_forward": found.rolled_forward,
            "from": {"file": src.path.name, "fiscal_year": src.fiscal_year, "stage": src.stage,
                     "received": local_time(src.submitted_at, runtime().config.timezone),
                     "sha256": src.sha256}}


def _sentence(found: Found, agency: str, schema: Schema, locked: bool) -> str:
    src = found.source
    received = local_time(src.submitted_at, runtime().config.timezone)
    if found.rolled_forward:
        return (f"The FY{schema.fiscal_year} plan of {agency} is filled in with the "
                f"{len(found.measures)} measures of its FY{src.fiscal_year} plan (received "
                f"{received}), rolled forward: set each measure's FY{schema.fiscal_year} target.")
    return (f"The FY{schema.fiscal_year} plan of {agency} (received {received}) is filled in "
            f"for the {found.stage}: {len(found.services)} services, {len(found.measures)} "
            "measures." + (" Targets are locked; fill in the actuals." if locked else ""))


# ---- the agency's submissions: JSON routes beside xlwings-server's ---------------------------------

def add_routes(app) -> None:
    """GET /planvalidator/submissions and /planvalidator/submissions/<file> (behind the token)."""
    from fastapi import Depends
    from fastapi.responses import Response
    from xlwings_server import dependencies as dep
    from xlwings_server.models import User

    @app.get("/planvalidator/submissions")
    def submissions(fiscal_year: int | None = None, agency: str = "",
                          user: User = Depends(dep.authenticate)) -> dict:
        code = _whose(user.id, agency)
        return {"agency": code, "fiscal_year": fiscal_year,
                "timezone": runtime().config.timezone,
                "submissions": [_listed(s) for s in _of(code, fiscal_year)]}

    @app.get("/planvalidator/submissions/{name}")
    def download(name: str, user: User = Depends(dep.authenticate)) -> Response:
        found = [s for s in _of(None, None) if s.path.name == name
                 and user.id in (OFFICE, s.agency)]   # another agency's: as if not there
        if not found:
            raise NotFound("There is no such submission of your agency on this server.")
        return Response(found[0].path.read_bytes(), media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="{name}"'})


def _whose(who: str, asked: str) -> str:
    asked = asked.strip().upper()
    if who == OFFICE:
        if not asked:
            raise BadRequest("With the office token, name the agency (agency=CODE).")
        return asked
    if asked and asked != who:
        raise Forbidden(f"Your token belongs to {who}; it can't see the submissions of {asked}.")
    return who


def _of(agency: str | None, year: int | None) -> list[StoredSubmission]:
    store_dir = runtime().store
    try:
        subs = list_submissions(store_dir) if store_dir.is_dir() else []
    except StoreError as e:
        raise Unavailable(str(e)) from None
    return [s for s in subs if (agency is None or s.agency == agency)
            and (year is None or s.fiscal_year == year)]


def _listed(sub: StoredSubmission) -> dict:
    """One line of the list: the stored copy is read, so its fingerprint is checked too."""
    try:
        meta = read_submission(sub.path)[2]
        problem = ""
    except StoreError as e:
        meta, problem = {}, str(e)
    errors = (meta.get("findings") or {}).get("errors")
    return {"file": sub.path.name, "fiscal_year": sub.fiscal_year, "stage": sub.stage,
            "received": local_time(sub.submitted_at, runtime().config.timezone),
            "sha256": sub.sha256, "accepted": not problem and errors == 0,
            "intact": not problem, "problem": problem, "findings": meta.get("findings")}


__all__ = ["get_my_plan", "latest_plan", "add_routes"]
