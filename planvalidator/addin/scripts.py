"""The Excel add-in's commands: Validate, Submit and Clear highlights.

Each is an xlwings script (`@script`): xlwings-server builds an `xw.Book` from the workbook the
Excel client sends and returns what the script did to it as a list of actions that the client
replays in Excel. The scripts contain no rules: a Session (session.py) reads the payload with the
same reading core as the CLI (payload.plan_sheets → read_plan → validate_plan) and marks the
workbook; what the marks are and how they are cleared is described there.
"""

from __future__ import annotations

import xlwings as xw
from xlwings.server import script
from xlwings_server.models import CurrentUser

from ..citywide.store import StoreError, local_time, store_submission
from ..findings import INFO, Report
from ..output.marks import plural, summary
from ..rules.validate import validate_plan
from .config import OFFICE, Forbidden, Unavailable, runtime
from .session import INCLUDE, Session


# ---- the three commands ----------------------------------------------------------------------

@script(include=INCLUDE)
def validate(book: xw.Book, our_notes: list | None = None):
    """Validate: mark the findings in the workbook and list them."""
    session = Session(book, our_notes)
    report = session.validate()
    session.unlock_structure(adding=True)
    session.show("validate", report)
    session.annotate(report)
    book.app.alert(_counts_sentence(report, bool(session.notes)), title="Validate", buttons="ok",
                   mode="critical" if report.errors else "info")


@script(include=INCLUDE)
def submit(book: xw.Book, current_user: CurrentUser, our_notes: list | None = None):
    """Submit: validate; refuse with the findings when there are errors, else store the plan
    and answer with a receipt."""
    session = Session(book, our_notes)
    plan = session.read()
    who = current_user.id or ""
    if who != OFFICE and plan.agency_code and plan.agency_code != who:
        raise Forbidden(f"Your token belongs to {who}; it can't submit the plan of "
                        f"{plan.agency_code}. Ask the performance office for the right token.")
    report = validate_plan(plan)
    session.unlock_structure(adding=True)
    if report.errors:
        session.show("submit", report)
        session.annotate(report)
        book.app.alert(f"Not submitted: {_counts_sentence(report, bool(session.notes))} Fix "
                       "the errors and submit again.", title="Submit", buttons="ok",
                       mode="critical")
        return
    if who != OFFICE and plan.agency_code != who:
        raise Forbidden(f"Your token belongs to {who}; this plan names no agency.")
    session.annotate(report)   # warnings and notes; before storing, so a failure stores nothing
    # the plan as the agency made it: without our Validation sheet, so the fingerprint of the
    # same plan does not depend on whether it was validated before
    names = [n for n in session.names if n != session.validation]
    try:
        receipt = store_submission(runtime().store, names, session.sheets, {
            "agency": plan.agency_code, "fiscal_year": plan.schema.fiscal_year,
            "stage": plan.stage, "template_version": report.template_version,
            "schema_id": plan.identity.get("schema_id", ""), "workbook": book.name,
            "hidden": {n: state for n, state in session.hidden.items() if n in names},
            "submitted_by": who, "client": session.client,
            "client_version": str(book.api.get("version", "")),
            "findings": {"errors": report.errors, "warnings": report.warnings,
                         "infos": report.count(INFO)},
        })
    except StoreError as e:
        raise Unavailable(f"The plan was not submitted: {e}") from None
    session.show("submit", report, receipt=receipt.as_dict())
    received = local_time(receipt.submitted_at, runtime().config.timezone)
    remain = f" {plural(report.warnings, 'warning')} remain for you to review."
    book.app.alert(
        f"Submitted: the FY{receipt.fiscal_year} plan of {receipt.agency} was received at "
        f"{received}. Its fingerprint (SHA-256) is "
        f"{receipt.sha256[:16]}…{receipt.sha256[-8:]}; keep it as your receipt."
        + (remain if report.warnings else ""), title="Submit", buttons="ok", mode="info")


@script(include=INCLUDE)
def clear_highlights(book: xw.Book, our_notes: list | None = None):
    """Clear highlights: remove our fills, our notes and the Validation sheet."""
    session = Session(book, our_notes)
    session.unlock_structure(adding=False)
    session.show("clear", None)
    session.apply_marks([])
    session.delete_validation_sheet()
    session.relock_structure()


def _counts_sentence(report: Report, notes: bool) -> str:
    """The alert after Validate; promises notes only where this Excel can show them."""
    if not report.findings:
        return "The plan passed every check."
    if notes:
        return (f"{summary(report)} Failing cells are red (errors) or amber (warnings) with a "
                "note saying how to fix them; the Validation sheet and the task pane list every "
                "finding.")
    return (f"{summary(report)} Failing cells are red (errors) or amber (warnings). This Excel "
            "can't show notes, so how to fix each one is on the Validation sheet and in the "
            "task pane.")


__all__ = ["validate", "submit", "clear_highlights", "INCLUDE", "Session"]
