"""The Excel add-in end to end: xlwings-server's real Office.js client, run by Node.js.

`planvalidator serve` runs on 127.0.0.1. tests/js/run_client.mjs loads the task pane page the
server serves and runs its scripts the way Excel's browser runs them: xlwings-server's client
(custom-scripts/index.js and its modules, from the installed xlwings-server package) and
planvalidator's main.js and ribbon.js (from planvalidator/addin/files/static). Only Excel itself
is a stand-in: tests/js/fake_excel.mjs, an in-memory workbook behind the Office.js object
model, which keeps Office.js' load/sync rules and refuses what Excel refuses (test at the end).

The fake workbook starts with an example workbook's values; the harness clicks the ribbon (or
the task pane) and reports the workbook, the task pane and the alerts after each click.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import openpyxl
import pytest
import xlwings_server

from planvalidator.addin.server import PROJECT_DIR
from serving import running
from planvalidator.citywide.store import list_submissions, read_submission
from planvalidator.rules.validate import validate_workbook
from planvalidator.read.xlsx import CellError, read_xlsx

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
HARNESS = HERE / "js" / "run_client.mjs"
XLWINGS_STATIC = Path(xlwings_server.__file__).resolve().parent / "static"
PROJECT_STATIC = PROJECT_DIR / "static"

DPW = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"     # four errors
BCFD = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"             # no findings
TOKENS = {"DPW": "dpw-token-" + "d" * 20, "BCFD": "bcfd-token-" + "b" * 20}
OFFICE = "office-token-" + "o" * 24
FILLS = {"error": "#ffc7ce", "warning": "#ffeb9c"}          # what Validate colors cells with
VALIDATION = "Validation"


# ---- Node.js and the server ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def node() -> str:
    exe = shutil.which("node")
    if exe is None:
        pytest.fail("These tests need Node.js 18.19 or later (Debian: apt-get install -y nodejs).")
    version = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout.strip()
    if tuple(int(x) for x in re.findall(r"\d+", version)[:2]) < (18, 19):
        pytest.fail(f"These tests need Node.js 18.19 or later; {exe} is {version}.")
    return exe


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`planvalidator serve` with a DPW, a BCFD and an office token and a fresh store."""
    home = tmp_path_factory.mktemp("officejs")
    with running(home, TOKENS, OFFICE) as url:
        yield type("Server", (), {"url": url, "store": home / "submissions", "home": home})


# ---- the fake workbook, from an example file ------------------------------------------------------

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
VISIBILITY = {"visible": "Visible", "hidden": "Hidden", "veryHidden": "VeryHidden"}


def workbook_spec(path: Path, *, notes=None, fills=None) -> dict:
    """The workbook as Excel holds it: values (read with the validator's reader), dates as
    serial numbers with their number format, each sheet's visibility and protection, the
    workbook's structure protection. `notes` and `fills` ({(sheet, cell): ...}) add the
    agency's own."""
    names, sheets = read_xlsx(path)
    wb = openpyxl.load_workbook(path)
    spec = {"name": path.name, "activeSheet": wb.index(wb.active),
            "structureProtected": bool(wb.security and wb.security.lockStructure), "sheets": []}
    for ws in wb.worksheets:
        values, formats = [], {}
        for r, row in enumerate(sheets[ws.title]):
            out = []
            for c, v in enumerate(row):
                if v is None:
                    v = ""
                elif isinstance(v, CellError):
                    v = v.text
                elif isinstance(v, (dt.date, dt.datetime)):
                    cell = ws.cell(r + 1, c + 1)
                    formats[cell.coordinate] = cell.number_format
                    moment = v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time())
                    v = (moment - EXCEL_EPOCH) / dt.timedelta(days=1)
                out.append(v)
            values.append(out)
        p = ws.protection
        spec["sheets"].append({
            "name": ws.title, "visibility": VISIBILITY[ws.sheet_state], "values": values,
            "numberFormats": formats,
            "protection": {"protected": bool(p.sheet), "allowFormatCells": not p.formatCells,
                           "allowFormatColumns": not p.formatColumns,
                           "allowEditObjects": not p.objects},
            "notes": {cell: text for (sheet, cell), text in (notes or {}).items() if sheet == ws.title},
            "fills": {cell: color for (sheet, cell), color in (fills or {}).items() if sheet == ws.title},
        })
    return spec


def run_client(node, server, tmp_path, spec, steps, *, token="", excel_api="1.18") -> dict:
    wb, out = tmp_path / "workbook.json", tmp_path / "result.json"
    wb.write_text(json.dumps(spec), encoding="utf-8")
    proc = subprocess.run(
        [node, str(HARNESS), "--server", server.url, "--xlwings-static", str(XLWINGS_STATIC),
         "--project-static", str(PROJECT_STATIC), "--workbook", str(wb), "--token", token,
         "--steps", ",".join(steps), "--excel-api", excel_api, "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    result = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    if proc.returncode != 0:
        pytest.fail(f"run_client.mjs failed: {result.get('fatal')}\n{proc.stderr}\n"
                    f"console.error: {result.get('errors')}")
    assert result["page"]["errors"] == [], result["page"]["errors"]
    return result


# ---- reading the fake workbook ----------------------------------------------------------------------

def sheet(state: dict, name: str) -> dict | None:
    found = [s for s in state["workbook"]["sheets"] if s["name"] == name]
    assert len(found) <= 1
    return found[0] if found else None


def plan_fills(state: dict) -> dict:
    """{(sheet, cell): color} on every sheet but the Validation sheet."""
    return {(s["name"], cell): color.lower() for s in state["workbook"]["sheets"]
            if s["name"] != VALIDATION for cell, color in s["fills"].items()}


def all_notes(state: dict) -> dict:
    return {(s["name"], cell): note["content"] for s in state["workbook"]["sheets"]
            for cell, note in s["notes"].items()}


def listed(state: dict) -> list[tuple]:
    """The Validation sheet's findings: (severity, sheet, cell, code) from row 5 on."""
    rows = sheet(state, VALIDATION)["values"][4:]
    return [tuple(row[:4]) for row in rows if row[0] in ("error", "warning", "info")]


def values_of(state: dict) -> dict:
    return {s["name"]: s["values"] for s in state["workbook"]["sheets"]}


# ---- the page --------------------------------------------------------------------------------------

def test_the_page_runs_xlwings_servers_client_and_our_scripts(node, server, tmp_path):
    result = run_client(node, server, tmp_path, workbook_spec(BCFD), [])
    loaded = {entry["url"]: entry for entry in result["loaded"]}
    assert loaded["/static/js/custom-scripts/index.js"]["from"] == "xlwings-server"
    assert loaded["/static/js/main.js"]["from"] == "project"
    assert loaded["/static/js/ribbon.js"]["from"] == "project"
    # What ran is exactly what the server serves Excel at those addresses.
    for url, entry in loaded.items():
        if entry["kind"] != "office.js":
            assert httpx.get(server.url + url).content == Path(entry["file"]).read_bytes(), url
    # Every ribbon button of the manifest has its function, and the server's actions their callbacks.
    manifest = ET.fromstring(httpx.get(server.url + "/manifest.xml").content)
    ids = sorted(e.text for e in manifest.iter() if e.tag.endswith("FunctionName"))
    assert ids == ["pv-clear", "pv-get-plan", "pv-submit", "pv-validate"]
    assert result["page"]["ribbonFunctions"] == ids
    assert sorted(result["page"]["callbacks"]) == [
        "planvalidatorFetched", "planvalidatorProtectSheets", "planvalidatorRelockStructure",
        "planvalidatorShow", "planvalidatorUnlockStructure", "planvalidatorUnprotectSheets"]
    assert result["page"]["pane"]["status"] == "Click Validate to check the plan."


# ---- Validate, Validate again, Clear highlights ---------------------------------------------------------

AGENCY_NOTES = {("Measures", "B5"): "Agency: service 661 is under review.",
                ("Measures", "M9"): "Agency: target set after the budget hearing."}
AGENCY_FILLS = {("Measures", "B5"): "#c6efce"}


def test_validate_marks_the_findings_and_clear_removes_only_ours(node, server, tmp_path):
    report = validate_workbook(DPW)
    assert report.errors == 4
    result = run_client(node, server, tmp_path,
                        workbook_spec(DPW, notes=AGENCY_NOTES, fills=AGENCY_FILLS),
                        ["ribbon:pv-validate", "ribbon:pv-validate", "ribbon:pv-clear"],
                        token=TOKENS["DPW"])
    before = result["page"]
    first, second, cleared = result["steps"]
    assert [step["errors"] for step in result["steps"]] == [[], [], []]

    # Validate: each failing cell filled with its severity's color, exactly those cells.
    expected_fills = {(f.sheet, f.cell): FILLS[f.severity] for f in report.findings}
    assert plan_fills(first) == {**AGENCY_FILLS, **expected_fills}
    # ... with a note saying what is wrong and how to fix it, except where the agency has its own.
    notes = all_notes(first)
    for f in report.findings:
        if (f.sheet, f.cell) in AGENCY_NOTES:
            assert notes[(f.sheet, f.cell)] == AGENCY_NOTES[(f.sheet, f.cell)]
        else:
            assert f"[{f.severity}] {f.message}\nFix: {f.hint}" in notes[(f.sheet, f.cell)]
    assert set(notes) == {(f.sheet, f.cell) for f in report.findings} | set(AGENCY_NOTES)
    # ... the Validation sheet lists every finding, after the plan's sheets ...
    validation = sheet(first, VALIDATION)
    assert validation["position"] == len(before["workbook"]["sheets"])
    assert validation["values"][0][0] == f"Validation of {DPW.name}"
    assert validation["values"][1][0].startswith("4 errors, 0 warnings, 0 info findings.")
    assert listed(first) == [(f.severity, f.sheet, f.cell, f.code) for f in report.findings]
    assert validation["formulas"]["C5"] == '=HYPERLINK("#\'Measures\'!M6","M6")'
    # ... the template's structure protection is back on, the analyst is told, the pane lists all.
    assert first["workbook"]["structureProtected"] is True
    [alert] = first["dialogs"]
    assert (alert["title"], alert["mode"]) == ("Validate", "critical")
    assert alert["prompt"].startswith("4 errors, 0 warnings, 0 info findings. (Agency DPW, FY2028, stage Plan)")
    assert first["pane"]["status"] == "4 errors, 0 warnings, 0 info findings. Choose one to go to its cell."
    assert [(i["severity"], i["where"]) for i in first["pane"]["findings"]] == \
        [(f.severity, f"{f.sheet}!{f.cell}") for f in report.findings]
    assert [(r["path"], r["status"], r["authorization"]) for r in first["requests"]
            if "custom-scripts-call" in r["path"]] == \
        [("/xlwings/custom-scripts-call/validate", 200, TOKENS["DPW"])]

    # Validate again: the Validation sheet is rewritten in place, the marks are the same.
    assert [s["name"] for s in second["workbook"]["sheets"]] == \
        [s["name"] for s in first["workbook"]["sheets"]]
    assert sheet(second, VALIDATION)["values"] == validation["values"]
    assert plan_fills(second) == plan_fills(first)
    assert all_notes(second) == notes

    # Clear highlights: our fills, notes and sheet are gone; the agency's are as they were.
    assert sheet(cleared, VALIDATION) is None
    assert plan_fills(cleared) == AGENCY_FILLS
    assert all_notes(cleared) == AGENCY_NOTES
    assert values_of(cleared) == values_of(before)
    assert cleared["workbook"]["structureProtected"] is True
    assert cleared["pane"] == {**cleared["pane"], "status": "Highlights cleared.", "findings": []}
    assert cleared["dialogs"] == []


WORST = {"error": 0, "warning": 1, "info": 2}


@pytest.mark.parametrize("name", [p.name for p in sorted(EXAMPLES.glob("*.xlsx"))
                                  if validate_workbook(p).findings])
def test_every_example_is_marked_at_exactly_its_findings(node, server, tmp_path, name):
    report = validate_workbook(EXAMPLES / name)
    result = run_client(node, server, tmp_path, workbook_spec(EXAMPLES / name),
                        ["ribbon:pv-validate"], token=OFFICE)
    [step] = result["steps"]
    assert step["errors"] == []
    worst = {}
    for f in report.findings:
        if f.cell:
            worst[(f.sheet, f.cell)] = min(worst.get((f.sheet, f.cell), "info"), f.severity,
                                           key=WORST.get)
    assert plan_fills(step) == {cell: FILLS[s] for cell, s in worst.items() if s in FILLS}
    assert set(all_notes(step)) == set(worst)
    assert listed(step) == [(f.severity, f.sheet, f.cell, f.code) for f in report.findings]


def test_a_clean_plan_validated_from_the_task_pane_then_submitted(node, server, tmp_path):
    assert validate_workbook(BCFD).findings == []
    result = run_client(node, server, tmp_path, workbook_spec(BCFD),
                        [f"token:{TOKENS['BCFD']}", "pane:validate", "ribbon:pv-submit",
                         "ribbon:pv-clear"])
    saved, validated, submitted, cleared = result["steps"]
    assert [step["errors"] for step in result["steps"]] == [[], [], [], []]
    assert saved["storedToken"] == TOKENS["BCFD"]
    assert saved["pane"]["tokenStatus"] == "Saved on this computer."

    assert plan_fills(validated) == {} and all_notes(validated) == {}
    validation = sheet(validated, VALIDATION)["values"]
    assert validation[1][0].startswith("0 errors, 0 warnings, 0 info findings. (Agency BCFD, FY2028")
    assert validation[4][0] == "No findings: the plan passed every check."
    [alert] = validated["dialogs"]
    assert (alert["title"], alert["mode"], alert["prompt"]) == \
        ("Validate", "info", "The plan passed every check.")
    assert validated["pane"]["status"] == "The plan passed every check."

    [stored] = list_submissions(server.store)
    names, sheets, meta = read_submission(stored.path)
    assert (meta["agency"], meta["submitted_by"], meta["client"]) == ("BCFD", "BCFD", "Office.js")
    receipt = submitted["pane"]["receipt"]
    assert not receipt["hidden"] and "alert-success" in receipt["className"]
    assert receipt["lines"][0] == "Submitted: FY2028 plan of BCFD"
    assert receipt["lines"][2] == f"Fingerprint (SHA-256): {stored.sha256}"
    [alert] = submitted["dialogs"]
    assert alert["title"] == "Submit" and alert["prompt"].startswith("Submitted: the FY2028 plan of BCFD")
    assert len([s for s in submitted["workbook"]["sheets"] if s["name"] == VALIDATION]) == 1

    assert sheet(cleared, VALIDATION) is None
    assert values_of(cleared) == values_of({"workbook": result["page"]["workbook"]})


def test_the_findings_in_the_pane_take_the_analyst_to_the_cell(node, server, tmp_path):
    result = run_client(node, server, tmp_path, workbook_spec(DPW),
                        ["ribbon:pv-validate", "finding:2"], token=TOKENS["DPW"])
    third = validate_workbook(DPW).findings[2]
    assert result["steps"][1]["workbook"]["selection"] == f"{third.sheet}!{third.cell}"
    assert result["steps"][1]["errors"] == []


def test_without_notes_in_this_excel_the_cells_are_still_colored(node, server, tmp_path):
    report = validate_workbook(DPW)
    result = run_client(node, server, tmp_path, workbook_spec(DPW),
                        ["ribbon:pv-validate", "ribbon:pv-clear"], token=TOKENS["DPW"],
                        excel_api="1.17")   # notes need ExcelApi 1.18
    validated, cleared = result["steps"]
    assert [step["errors"] for step in result["steps"]] == [[], []]
    assert plan_fills(validated) == {(f.sheet, f.cell): FILLS[f.severity] for f in report.findings}
    assert all_notes(validated) == {}
    assert listed(validated) == [(f.severity, f.sheet, f.cell, f.code) for f in report.findings]
    assert plan_fills(cleared) == {} and sheet(cleared, VALIDATION) is None


@pytest.mark.parametrize("token, message", [
    ("", "This request has no token. Enter your agency's token in the Performance Plan task "
         "pane; the performance office gives you one."),
    ("not-a-known-token-at-all", "The token was not accepted. Check the token in the Performance "
                                 "Plan task pane, or ask the performance office for a new one."),
])
def test_without_a_good_token_the_analyst_is_told_what_to_do(node, server, tmp_path, token, message):
    result = run_client(node, server, tmp_path, workbook_spec(DPW), ["ribbon:pv-validate"],
                        token=token)
    [step] = result["steps"]
    [alert] = step["dialogs"]
    assert (alert["title"], alert["prompt"]) == ("Error", message)
    assert values_of(step) == values_of({"workbook": result["page"]["workbook"]})
    assert plan_fills(step) == {} and sheet(step, VALIDATION) is None
    # The alert itself is a page of the server's.
    assert httpx.get(server.url + alert["url"]).status_code == 200


def test_the_fake_excel_refuses_what_excel_refuses(node):
    proc = subprocess.run([node, str(HERE / "js" / "check_fake.mjs")], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)
    assert {name: outcome for name, outcome in results.items() if outcome != "ok"} == {}
    assert len(results) >= 15
