"""Marks that always clear, a task pane that tells the truth (issue 11 items 5 and 6), and
bounded marks (issue 10 item 7).

The workbook cases run xlwings-server's real Office.js client under Node against the fake Excel
(tests/js, see test_officejs_client.py), which refuses what Excel refuses: a structure password,
a second note on a cell. The bounds are checked on the actions xlwings' own `Book(json=...)`
collects for a payload as the client sends it (tests/officejs.py), and over HTTP.
"""

from __future__ import annotations

import time
from zoneinfo import ZoneInfo

import httpx
import openpyxl
import pytest

import officejs
from plans import measure, plan_file, sheets
from planvalidator.citywide.store import list_submissions
from planvalidator.rules.validate import validate_workbook
from test_officejs_client import (BCFD, DPW, FILLS, TOKENS, VALIDATION, all_notes, node,  # noqa: F401
                                  plan_fills, run_client, server, sheet, workbook_spec)

PASSWORD_REFUSAL = ("The workbook's structure is protected with a password, so the Validation "
                    "sheet can't be {}. Nothing was changed. Unprotect it (Review > Protect "
                    "Workbook) and try again.")


def calls(step: dict) -> list[str]:
    return [r["path"] for r in step["requests"] if "custom-scripts-call" in r["path"]]


def ours(notes: dict) -> dict:
    return {key: text for key, text in notes.items() if text.startswith("Performance Plan check")}


# ---- a password on the workbook's structure ---------------------------------------------------------

def test_a_structure_password_refuses_validate_before_a_cell_changes(node, server, tmp_path):
    spec = {**workbook_spec(DPW), "structurePassword": "s3cret"}
    assert spec["structureProtected"]
    result = run_client(node, server, tmp_path, spec, ["ribbon:pv-validate", "pane:validate"],
                        token=TOKENS["DPW"])
    before = result["page"]["workbook"]
    for step in result["steps"]:
        assert step["workbook"] == before          # no fill, no note, no sheet
        assert calls(step) == []                   # refused before the workbook was sent
        assert step["pane"]["status"] == "Not checked: " + PASSWORD_REFUSAL.format("added")
        assert "text-danger" in step["pane"]["statusClass"]
    ribbon, pane = result["steps"]
    [alert] = ribbon["dialogs"]                    # the ribbon's pane may be hidden: an alert too
    assert (alert["title"], alert["prompt"]) == ("Error", PASSWORD_REFUSAL.format("added"))
    assert pane["dialogs"] == []


def test_a_structure_password_set_after_validate_refuses_clear_and_keeps_every_mark(
        node, server, tmp_path):
    result = run_client(node, server, tmp_path, workbook_spec(DPW),
                        ["ribbon:pv-validate", "protect:s3cret", "pane:clear_highlights"],
                        token=TOKENS["DPW"])
    validated, _, refused = result["steps"]
    assert sheet(validated, VALIDATION) is not None and plan_fills(validated)
    assert refused["workbook"] == {**validated["workbook"], "structureProtected": True}
    assert refused["pane"]["status"] == "Not cleared: " + PASSWORD_REFUSAL.format("removed")
    assert calls(refused) == []


# ---- our marks without the Validation sheet -------------------------------------------------------------

def test_our_notes_and_fills_are_known_after_the_validation_sheet_is_deleted(node, server, tmp_path):
    """The analyst deletes the Validation sheet, fixes M10 (empty) and validates again: M10's
    note and fill go, the other notes are updated rather than kept as the agency's; Clear then
    removes every mark."""
    report = validate_workbook(DPW)
    assert [f.message for f in report.findings if f.cell == "M10"][0].endswith("is empty: "
                                                                               "every measure needs a target.")
    wb = openpyxl.load_workbook(DPW)
    wb["Measures"]["M10"] = 500
    wb.save(tmp_path / DPW.name)
    fixed = validate_workbook(tmp_path / DPW.name)
    result = run_client(node, server, tmp_path, workbook_spec(DPW),
                        ["ribbon:pv-validate", f"delete:{VALIDATION}", "type:Measures!M10=500",
                         "ribbon:pv-validate", f"delete:{VALIDATION}", "ribbon:pv-clear"],
                        token=TOKENS["DPW"])
    _, _, _, second, _, cleared = result["steps"]
    assert [s["errors"] for s in result["steps"]] == [[]] * 6
    assert plan_fills(second) == {(f.sheet, f.cell): FILLS[f.severity] for f in fixed.findings}
    notes = all_notes(second)
    assert set(notes) == {(f.sheet, f.cell) for f in fixed.findings}
    assert "every measure needs a target" not in notes[("Measures", "M10")]   # not stale
    for f in fixed.findings:    # one note per cell, saying what is wrong now
        assert notes[(f.sheet, f.cell)] == \
            f"Performance Plan check (planvalidator):\n[{f.severity}] {f.message}\nFix: {f.hint}"
    assert [row[2] for row in sheet(second, VALIDATION)["values"][4:] if row[0]] == \
        [f.cell for f in fixed.findings]
    # Clear, with the Validation sheet deleted again: our notes and fills still go.
    assert all_notes(cleared) == {} and plan_fills(cleared) == {}
    assert cleared["pane"]["status"] == "Highlights cleared."


def test_an_agency_note_that_quotes_ours_is_still_the_agencys(node, server, tmp_path):
    quoted = "Checked with the budget office.\nPerformance Plan check (planvalidator):\n[error] x"
    spec = workbook_spec(DPW, notes={("Measures", "M6"): quoted})
    result = run_client(node, server, tmp_path, spec, ["ribbon:pv-validate", "ribbon:pv-clear"],
                        token=TOKENS["DPW"])
    validated, cleared = result["steps"]
    assert all_notes(validated)[("Measures", "M6")] == quoted
    assert all_notes(cleared) == {("Measures", "M6"): quoted}


# ---- an agency's own sheet named Validation ----------------------------------------------------------

def test_an_agencys_own_validation_sheet_is_never_overwritten_or_deleted(node, server, tmp_path):
    spec = workbook_spec(DPW)
    own = {"name": "validation", "visibility": "Visible", "values": [["Who checked what"],
                                                                       ["Ana", "targets"]],
           "numberFormats": {}, "protection": {}, "notes": {}, "fills": {}}
    spec["sheets"].append(own)
    result = run_client(node, server, tmp_path, spec,
                        ["ribbon:pv-validate", "ribbon:pv-clear", "ribbon:pv-submit"],
                        token=TOKENS["DPW"])
    before = result["page"]["workbook"]
    refusal = ("The workbook already has a sheet named 'validation' that the Performance Plan "
               "add-in did not write. Rename it, then try again.")
    for step, word in zip(result["steps"], ("checked", "cleared", "submitted")):
        assert step["workbook"] == before
        assert step["pane"]["status"] == f"Not {word}: {refusal}"
        assert [(d["title"], d["prompt"]) for d in step["dialogs"]] == [("Error", refusal)]


# ---- the status line after refusals; error bars; findings; times ----------------------------------

def test_after_each_refusal_the_status_line_says_what_happened(node, server, tmp_path):
    wide = workbook_spec(DPW)
    measures = next(s for s in wide["sheets"] if s["name"] == "Measures")
    measures["values"][0] = measures["values"][0] + [""] * 210 + ["stray"]
    cases = [
        ("", workbook_spec(DPW), "pane:validate", "Not checked: This request has no token."),  # 401
        ("not-a-known-token-at-all", workbook_spec(DPW), "pane:validate",
         "Not checked: The token was not accepted."),                                          # 401
        (TOKENS["DPW"], workbook_spec(BCFD), "pane:submit",
         "Not submitted: Your token belongs to DPW; it can't submit the plan of BCFD."),       # 403
        (TOKENS["DPW"], wide, "pane:validate",
         "Not checked: Sheet 'Measures' uses more than 20,000 rows or 200 columns"),           # 400
    ]
    for i, (token, spec, step, status) in enumerate(cases):
        folder = tmp_path / str(i)
        folder.mkdir()
        [state] = run_client(node, server, folder, spec, [step], token=token)["steps"]
        assert state["pane"]["status"].startswith(status), state["pane"]["status"]
        assert state["pane"]["globalError"] is None     # said once, on the status line
        assert state["dialogs"] == []


def test_an_old_error_is_cleared_by_the_next_success(node, server, tmp_path):
    result = run_client(node, server, tmp_path, workbook_spec(DPW),
                        ["pane:validate", f"token:{TOKENS['DPW']}", "pane:validate"])
    refused, _, validated = result["steps"]
    assert refused["pane"]["status"].startswith("Not checked: This request has no token.")
    assert validated["pane"]["status"] == \
        "4 errors, 0 warnings, 0 info findings. Choose one to go to its cell."
    assert "text-danger" not in validated["pane"]["statusClass"]
    assert validated["pane"]["globalError"] is None


def test_each_finding_says_its_location_once_and_keeps_ids_and_numbers_whole(node, server, tmp_path):
    report = validate_workbook(DPW)
    [step] = run_client(node, server, tmp_path, workbook_spec(DPW), ["ribbon:pv-validate"],
                        token=TOKENS["DPW"])["steps"]
    shown = step["pane"]["findings"]
    assert [i["where"] for i in shown] == [f"{f.sheet}!{f.cell}" for f in report.findings]
    for item, f in zip(shown, report.findings):
        assert item["text"].count(f"{f.sheet}!{f.cell}") == 1, item["text"]
        assert f.measure_id in item["unbroken"]
    assert "2028" in shown[0]["unbroken"]


def test_the_receipt_shows_local_time_without_microseconds(node, server, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    result = run_client(node, server, tmp_path, workbook_spec(BCFD),
                        [f"token:{TOKENS['BCFD']}", "pane:submit"])
    receipt = result["steps"][1]["pane"]["receipt"]["lines"]
    stored = max(list_submissions(server.store), key=lambda s: s.submitted_at)
    local = stored.submitted_at.astimezone(ZoneInfo("America/New_York"))
    assert receipt[1] == (f"Received: {local:%b} {local.day}, {local.year}, "
                          f"{local.hour % 12 or 12}:{local:%M:%S} {local:%p} {local:%Z}")


def test_without_notes_the_alert_says_where_the_explanations_are(node, server, tmp_path):
    [step] = run_client(node, server, tmp_path, workbook_spec(DPW), ["ribbon:pv-validate"],
                        token=TOKENS["DPW"], excel_api="1.17")["steps"]
    [alert] = step["dialogs"]
    assert "with a note" not in alert["prompt"]
    assert alert["prompt"].endswith("This Excel can't show notes, so how to fix each one is on "
                                    "the Validation sheet and in the task pane.")


# ---- bounded marks (issue 10 item 7) ---------------------------------------------------------------------

def many_findings(path, count: int):
    """A plan with at least `count` findings, each on its own cell (targets that are
    placeholders, key-measure and equity answers that are not choices)."""
    rows = [measure(f"BCFD-609-{i:02d}", 609, target="N/A", key_measure="Y", equity_focus="Maybe")
            for i in range(1, count // 3 + 2)]
    return plan_file(path, sheets(rows))


def colored_cells(actions: list[dict]) -> int:
    return sum(a["row_count"] * a["column_count"] for a in actions
               if a["func"] in ("setRangeColors", "setRangeColor"))


@pytest.fixture
def book_of(monkeypatch):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw
    return lambda payload: xw.Book(json=payload)


def test_validate_of_a_plan_with_more_than_10000_findings_answers(server, tmp_path, monkeypatch):
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    path = many_findings(tmp_path / "many.xlsx", 10_500)
    from planvalidator.addin.scripts import INCLUDE
    answer = httpx.post(server.url + "/xlwings/custom-scripts-call/validate",
                        content=officejs.body(path, INCLUDE), timeout=120,
                        headers={"Authorization": TOKENS["BCFD"],
                                 "Content-Type": "application/json"})
    assert answer.status_code == 200, answer.text[:300]
    actions = answer.json()["actions"]
    listing = [row for a in actions if a["func"] == "setValues" for row in a["values"]]
    # a report's bounds (bounds.py): MAX_FINDINGS listed, the rest counted in one line
    from planvalidator.findings import MAX_FINDINGS
    assert sum(row[0] == "error" for row in listing) == MAX_FINDINGS
    assert any("too-many-findings" in map(str, row) for row in listing), listing[-3:]
    assert all(a["row_count"] * a["column_count"] <= 10_000 for a in actions
               if a["func"] == "setRangeColors")


def test_marks_read_back_from_the_validation_sheet_are_bounded(book_of, tmp_path):
    """Recorded marks at rows 1 and 1,048,576 (Excel's last) of one column: the second is
    outside the sheet the client sent, so it is not trusted, and nothing repaints the rows
    between (before: 20,000 cells repainted, and a 1,048,576-row loop per column)."""
    from planvalidator.addin.scripts import INCLUDE, Session
    payload = officejs.payload(DPW, INCLUDE)
    marks = [["Measures", "M1", "#ffc7ce", None], ["Measures", "M1048576", "#ffc7ce", None],
             ["Measures", "M9999999", "#ffc7ce", None], ["Measures", "A2", "#ffc7ce", None]]
    rows = [["Validation of x"], [""], [""],
            [""] * 9 + ["planvalidator marks (do not edit)", "Cell", "Fill", "Note"]]
    rows += [[""] * 9 + m[:3] + [""] for m in marks]
    payload["sheets"].append({**payload["sheets"][0], "name": VALIDATION, "values": rows,
                              "notes": []})
    book = book_of(payload)
    start = time.monotonic()
    Session(book).apply_marks([])
    actions = book.json()["actions"]
    assert time.monotonic() - start < 5
    assert colored_cells(actions) <= 200
    cleared = {(a["start_row"], a["start_column"]) for a in actions if a["func"] == "setRangeColors"}
    assert {(0, 12), (1, 0)} <= cleared      # M1 and A2, inside the sheet: cleared


def test_the_notes_check_is_not_quadratic(book_of, tmp_path):
    """3,000 failing cells on a sheet that already holds 40,000 of the agency's notes (xlwings'
    own note look-up scans them all for each note: minutes)."""
    from planvalidator.addin.scripts import INCLUDE, Session
    path = many_findings(tmp_path / "many.xlsx", 3_000)
    payload = officejs.payload(path, INCLUDE)
    measures = next(s for s in payload["sheets"] if s["name"] == "Measures")
    measures["notes"] = [{"address": f"{col}{row}"} for col in "ABCDEFGHIJKLMNOPQRST"
                         for row in range(4000, 6000)]
    book = book_of(payload)
    session = Session(book)
    report = session.validate()
    from planvalidator.findings import MAX_FINDINGS
    assert len(report.findings) > MAX_FINDINGS   # the report's bound (bounds.py) is reached
    start = time.monotonic()
    session.annotate(report)
    assert time.monotonic() - start < 20
