"""The Excel add-in backend, over HTTP, as Excel talks to it.

A real server (`planvalidator serve`, i.e. xlwings-server with our scripts) runs on 127.0.0.1 in
a subprocess. The tests POST what xlwings' Office.js client posts (tests/officejs.py builds it
from the example workbooks) and read the actions that come back: the findings they carry must
be exactly what `validate` says about the file. Nothing of ours is mocked; the only stand-in is
`replay`, which applies the returned actions to the payload the way Excel would, so that a
second click can be sent.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openpyxl
import pytest
from click.testing import CliRunner

import officejs
from serving import INCLUDE, MAX_BODY, OFFICE, TOKENS, actions, auth, call, free_port, shown
from planvalidator.cli import main as cli
from planvalidator.read.payload import plan_sheets
from planvalidator.citywide.store import list_submissions, read_submission
from planvalidator.rules.validate import validate_workbook
from planvalidator.read.xlsx import read_xlsx

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
ALL = sorted(p.name for p in EXAMPLES.glob("*.xlsx"))
PLAN_SHEETS = INCLUDE[:-1]


def stored(server) -> list:
    return list_submissions(server.store) if server.store.exists() else []


# ---- replaying actions the way Excel applies them (only what the payload shows) --------------------

def replay(payload: dict, acts: list[dict]) -> dict:
    """The payload Excel would send next, after applying `acts`: sheets added and deleted,
    values written, notes added and deleted (fills are not part of the payload)."""
    payload = json.loads(json.dumps(payload))
    sheets = payload["sheets"]
    for a in acts:
        func, pos = a["func"], a["sheet_position"]
        if func == "addSheet":
            sheets.insert(a["args"][0], officejs.sheet_entry(openpyxl.Workbook().active, True)
                          | {"name": a["args"][1]})
        elif func == "sheetDelete":
            del sheets[pos]
        elif func == "sheetClear":
            sheets[pos]["values"] = [[""]]
        elif func == "setValues":
            values = sheets[pos]["values"]
            r0, c0 = a["start_row"], a["start_column"]
            for r, row in enumerate(a["values"]):
                while len(values) <= r0 + r:
                    values.append([""] * len(values[0]))
                for c, v in enumerate(row):
                    for line in values:
                        line.extend([""] * (c0 + c + 1 - len(line)))
                    values[r0 + r][c0 + c] = "" if v is None else v
        elif func == "addNote":
            sheets[pos]["notes"].append({"address": a["args"][0].replace("$", "")})
        elif func == "deleteNote":
            sheets[pos]["notes"] = [n for n in sheets[pos]["notes"]
                                    if n["address"] != a["args"][0].replace("$", "")]
    return payload


def validation_rows(payload: dict) -> list[list]:
    [sheet] = [s for s in payload["sheets"] if s["name"] == "Validation"]
    return sheet["values"]


# ---- the add-in is served ------------------------------------------------------------------------

def test_serves_the_manifest_task_pane_and_client(server):
    manifest = server.get("/manifest.xml").text
    for label in ("Performance Plan", "Validate", "Submit", "Clear highlights"):
        assert f'DefaultValue="{label}"' in manifest
    for function in ("pv-validate", "pv-submit", "pv-clear"):
        assert f"<FunctionName>{function}</FunctionName>" in manifest
    assert f'<SourceLocation DefaultValue="{server.base_url}/taskpane.html" />' in manifest
    pane = server.get("/taskpane.html")
    assert pane.status_code == 200
    for script in ("validate", "submit", "clear_highlights"):
        assert f'data-pv-script="{script}"' in pane.text
    assert "/static/js/custom-scripts/index.js" in pane.text   # xlwings' own client
    assert "registerCallback(planvalidatorShow)" in server.get("/static/js/main.js").text
    assert 'associate("pv-validate"' in server.get("/static/js/ribbon.js").text
    assert server.get("/static/js/custom-scripts/index.js").status_code == 200
    alert = server.get("/xlwings/alert", params={"prompt": "4 errors", "title": "Validate",
                                                 "buttons": "ok", "mode": "info", "callback": ""})
    assert alert.status_code == 200 and "4 errors" in alert.text
    meta = {m["function_name"]: m for m in server.get("/xlwings/custom-scripts-meta.json").json()}
    assert sorted(meta) == ["clear_highlights", "get_my_plan", "submit", "validate"]
    assert all(m["include"] == ",".join(INCLUDE) for m in meta.values())


# ---- Validate: the same findings as the CLI, for every example -------------------------------------

@pytest.mark.parametrize("name", ALL)
def test_validate_carries_the_findings_of_validate(server, name):
    path = EXAMPLES / name
    expected = validate_workbook(path)
    acts = actions(call(server, "validate", officejs.payload(path, INCLUDE)))

    # the task pane gets the report itself
    assert shown(acts)["report"] == expected.as_dict()

    # the Validation sheet lists the same findings, with links to their cells
    after = replay(officejs.payload(path, INCLUDE), acts)
    rows = validation_rows(after)
    assert rows[3][:7] == ["Severity", "Sheet", "Cell", "Code", "Measure", "Message", "How to fix"]
    listed = [tuple(r[:7]) for r in rows[4:4 + len(expected.findings)]]
    assert [(s, sh, code, msg.lstrip("'"), hint) for s, sh, _, code, _, msg, hint in listed] == [
        (f.severity, f.sheet, f.code, f.message, f.hint) for f in expected.findings]
    for (_, sheet, cell, *_), f in zip(listed, expected.findings):
        if f.cell and sheet in {"Agency", "Services", "Measures"}:
            assert cell == f'=HYPERLINK("#\'{f.sheet}\'!{f.cell}","{f.cell}")'
    if not expected.findings:
        assert rows[4][0] == "No findings: the plan passed every check."

    # failing cells are filled and noted; the alert gives the counts
    marked = {(f.sheet, f.cell) for f in expected.findings if f.cell and f.sheet in PLAN_SHEETS}
    noted = {(after["sheets"][a["sheet_position"]]["name"], a["args"][0].replace("$", ""))
             for a in acts if a["func"] == "addNote"}
    assert noted == marked
    filled = filled_cells(acts, after)
    assert filled == {(f.sheet, f.cell): FILL[f.severity] for f in expected.findings
                      if (f.sheet, f.cell) in marked and f.severity in FILL}
    [alert] = [a for a in acts if a["func"] == "alert"]
    assert alert["args"][1] == "Validate"
    assert alert["args"][3] == ("critical" if expected.errors else "info")


FILL = {"error": "#ffc7ce", "warning": "#ffeb9c"}


def filled_cells(acts, payload) -> dict:
    """(sheet, cell) → color from the setRangeColors actions on the plan sheets."""
    from openpyxl.utils import get_column_letter
    out = {}
    for a in acts:
        if a["func"] != "setRangeColors":
            continue
        sheet = payload["sheets"][a["sheet_position"]]["name"] if a["sheet_position"] < len(
            payload["sheets"]) else None
        if sheet not in PLAN_SHEETS:
            continue
        for r, row in enumerate(a["args"][0]):
            for c, color in enumerate(row):
                if color != "keep":
                    out[(sheet, f"{get_column_letter(a['start_column'] + c + 1)}"
                                f"{a['start_row'] + r + 1}")] = color
    return out


def test_payload_reads_as_the_file_reads():
    """The add-in's reading of the payload equals the .xlsx reader's, value for value and type
    for type, for every example."""
    for name in ALL:
        _, from_file = read_xlsx(EXAMPLES / name, wanted=PLAN_SHEETS)
        _, from_payload = plan_sheets(officejs.payload(EXAMPLES / name, INCLUDE), PLAN_SHEETS)
        typed = lambda sheets: {k: [[(type(v), v) for v in row] for row in rows]  # noqa: E731
                                for k, rows in sheets.items()}
        assert typed(from_payload) == typed(from_file), name


def test_text_that_looks_like_an_iso_date_is_read_raw(server, tmp_path, monkeypatch):
    """xlwings' own range reading raises on such text; the add-in reads raw values."""
    edits = {("Measures", "U5"): "2027-08-15T10:00:00", ("Measures", "H6"): "2027-08-15T10:00:00+05:00"}
    source = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"
    payload = officejs.payload(source, INCLUDE, values=edits)

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    import xlwings as xw
    book = xw.Book(json=json.loads(json.dumps(payload)))
    with pytest.raises(ValueError):
        book.sheets["Measures"]["U5"].value   # the trap
    book.close()

    edited = tmp_path / source.name
    wb = openpyxl.load_workbook(source)
    for (sheet, cell), value in edits.items():
        wb[sheet][cell].value = value
    wb.save(edited)
    acts = actions(call(server, "validate", payload))
    assert shown(acts)["report"]["findings"] == validate_workbook(edited).as_dict()["findings"]


def test_dates_and_error_values_arrive_as_the_file_has_them(server):
    source = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"
    edits = {("Measures", "M5"): "#DIV/0!", ("Agency", "B13"): "2027-02-30"}
    payload = officejs.payload(source, INCLUDE, values=edits)
    report = shown(actions(call(server, "validate", payload)))["report"]
    codes = {(f["cell"], f["code"]) for f in report["findings"]}
    assert ("M5", "formula-error") in codes
    assert ("B13", "not-a-date") in codes


# ---- a second click, and Clear highlights ---------------------------------------------------------

def test_second_validate_rewrites_the_validation_sheet_in_place(server):
    path = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
    first = actions(call(server, "validate", officejs.payload(path, INCLUDE)))
    after_first = replay(officejs.payload(path, INCLUDE), first)
    assert [a["func"] for a in first].count("addSheet") == 1

    second = actions(call(server, "validate", after_first))
    funcs = [a["func"] for a in second]
    assert "addSheet" not in funcs and "addNote" not in funcs   # nothing duplicated
    assert funcs.count("sheetClear") == 1
    assert sorted(a["args"][0] for a in second if a["func"] == "setNoteText") == [
        "$M$10", "$M$11", "$M$6", "$M$9"]                      # our notes are updated
    after_second = replay(after_first, second)
    assert [s["name"] for s in after_second["sheets"]].count("Validation") == 1
    assert validation_rows(after_second)[:9] == validation_rows(after_first)[:9]


def test_fixed_cells_lose_their_marks(server):
    path = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
    fixed = replay(officejs.payload(path, INCLUDE),
                   actions(call(server, "validate", officejs.payload(path, INCLUDE))))
    fixed["sheets"][3]["values"][5][12] = 0.9          # Measures!M6: the analyst enters a target
    acts = actions(call(server, "validate", fixed))
    assert [a["args"][0] for a in acts if a["func"] == "deleteNote"] == ["$M$6"]
    assert filled_cells(acts, fixed)[("Measures", "M6")] is None   # our fill removed
    assert len(shown(acts)["report"]["findings"]) == 3


def test_clear_highlights_removes_only_our_marks(server):
    path = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
    before = officejs.payload(path, INCLUDE)
    measures = next(s for s in before["sheets"] if s["name"] == "Measures")
    measures["notes"] = [{"address": "M9"}, {"address": "C4"}]   # the agency's own notes
    validated = actions(call(server, "validate", before))
    assert "$M$9" not in [a["args"][0] for a in validated if a["func"] == "addNote"]
    after = replay(before, validated)

    cleared = actions(call(server, "clear_highlights", after))
    assert sorted(a["args"][0] for a in cleared if a["func"] == "deleteNote") == [
        "$M$10", "$M$11", "$M$6"]                               # not M9, not C4
    assert filled_cells(cleared, after) == {
        ("Measures", c): None for c in ("M6", "M9", "M10", "M11")}
    assert [a["sheet_position"] for a in cleared if a["func"] == "sheetDelete"] == [
        len(after["sheets"]) - 1]
    assert shown(cleared)["report"] is None
    final = replay(after, cleared)
    assert "Validation" not in [s["name"] for s in final["sheets"]]
    assert {n["address"] for n in final["sheets"][3]["notes"]} == {"M9", "C4"}


def test_without_note_support_there_are_no_notes(server):
    path = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
    payload = officejs.payload(path, INCLUDE)
    for sheet in payload["sheets"]:
        sheet["notes_supported"] = False      # Excel without ExcelApi 1.18
    acts = actions(call(server, "validate", payload))
    assert not [a for a in acts if "Note" in a["func"]]
    assert len(shown(acts)["report"]["findings"]) == 4


def test_the_vba_client_gets_what_it_can_replay(server):
    path = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
    payload = officejs.payload(path, INCLUDE)
    payload["client"] = "VBA"
    for sheet in payload["sheets"]:
        for key in ("notes", "notes_supported", "visibility", "show_gridlines", "pivot_tables"):
            sheet.pop(key, None)
    acts = actions(call(server, "validate", payload))
    vba = {"setValues", "setRangeColor", "addSheet", "sheetClear", "sheetDelete", "alert"}
    assert {a["func"] for a in acts} <= vba
    assert sorted((a["start_row"] + 1, a["args"][0]) for a in acts
                  if a["func"] == "setRangeColor" and a["sheet_position"] == 3) == [
        (6, "#ffc7ce"), (9, "#ffc7ce"), (10, "#ffc7ce"), (11, "#ffc7ce")]


# ---- Submit ---------------------------------------------------------------------------------------

def test_submit_stores_the_plan_and_answers_with_a_receipt(server):
    path = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"
    before = {s.path for s in stored(server)}
    acts = actions(call(server, "submit", officejs.payload(path, INCLUDE), TOKENS["BCFD"]))
    receipt = shown(acts)["receipt"]
    [new] = [s for s in stored(server) if s.path not in before]
    assert (receipt["agency"], receipt["fiscal_year"], receipt["sha256"], receipt["file"]) == (
        "BCFD", 2028, new.sha256, new.path.name)
    names, sheets, meta = read_submission(new.path)
    file_names, from_file = read_xlsx(path, wanted=PLAN_SHEETS)
    assert names == file_names and sheets == from_file        # the same sheets as the .xlsx
    assert {k: meta[k] for k in ("agency", "fiscal_year", "stage", "submitted_by", "client")} == {
        "agency": "BCFD", "fiscal_year": 2028, "stage": "Plan", "submitted_by": "BCFD",
        "client": "Office.js"}
    [alert] = [a for a in acts if a["func"] == "alert"]
    assert alert["args"][0].startswith("Submitted: the FY2028 plan of BCFD")
    assert receipt["sha256"][:16] in alert["args"][0]


def test_the_fingerprint_ignores_our_validation_sheet(server):
    path = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"
    first = officejs.payload(path, INCLUDE)
    validated = replay(first, actions(call(server, "validate", first, TOKENS["BCFD"])))
    assert any(s["name"] == "Validation" for s in validated["sheets"])
    receipts = [shown(actions(call(server, "submit", p, TOKENS["BCFD"])))["receipt"]
                for p in (first, validated)]
    assert receipts[0]["sha256"] == receipts[1]["sha256"]


def test_submit_twice_keeps_both(server):
    path = EXAMPLES / "fy2027/opi-yearend-fy2027-clean.xlsx"
    for _ in range(2):
        actions(call(server, "submit", officejs.payload(path, INCLUDE), TOKENS["OPI"]))
    opi = [s for s in stored(server) if s.agency == "OPI"]
    assert len(opi) == 2 and opi[0].sha256 == opi[1].sha256 and opi[0].path != opi[1].path


def test_submit_with_errors_is_refused_with_the_findings(server):
    path = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
    before = stored(server)
    acts = actions(call(server, "submit", officejs.payload(path, INCLUDE), TOKENS["DPW"]))
    assert stored(server) == before
    data = shown(acts)
    assert data["receipt"] is None
    assert data["report"] == validate_workbook(path).as_dict()
    [alert] = [a for a in acts if a["func"] == "alert"]
    assert alert["args"][0].startswith("Not submitted: 4 errors")
    assert alert["args"][3] == "critical"


def test_the_office_may_submit_any_agencys_plan(server):
    path = EXAMPLES / "fy2027/dot-midyear-fy2027-clean.xlsx"
    acts = actions(call(server, "submit", officejs.payload(path, INCLUDE), OFFICE))
    receipt = shown(acts)["receipt"]
    assert receipt["agency"] == "DOT"
    assert read_submission(server.store / receipt["file"])[2]["submitted_by"] == "office"


# ---- auth and limits: each refusal is a 4xx with a message, and nothing is stored ----------------

def refusals(server):
    good = officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", INCLUDE)
    body = json.dumps(good).encode()
    url = "/xlwings/custom-scripts-call/"
    many_sheets = dict(good, sheets=[dict(good["sheets"][0], name=f"S{i}") for i in range(300)])
    tall = json.loads(body)
    tall["sheets"][3]["values"] = [[""]] * 20_001
    wide = json.loads(body)
    wide["sheets"] = [dict(wide["sheets"][0], name=f"S{i}", values=[[]] * 20_000) for i in range(11)]
    return {
        "no token": (url + "submit", {}, body, 401),
        "wrong token": (url + "submit", auth("not-a-token-" + "z" * 20), body, 401),
        "another agency's plan": (url + "submit", auth(TOKENS["DPW"]), body, 403),
        "oversize body": (url + "submit", auth(TOKENS["BCFD"]), b" " * (MAX_BODY + 1), 413),
        "malformed JSON": (url + "submit", auth(TOKENS["BCFD"]), body[:-7], 400),
        "not a workbook": (url + "submit", auth(TOKENS["BCFD"]), b'{"client": 1}', 400),
        "JSON constants": (url + "submit", auth(TOKENS["BCFD"]), b'{"client": NaN}', 400),
        "too many sheets": (url + "validate", auth(TOKENS["BCFD"]), json.dumps(many_sheets).encode(), 400),
        "too many rows": (url + "validate", auth(TOKENS["BCFD"]), json.dumps(tall).encode(), 400),
        "too many cells": (url + "validate", auth(TOKENS["BCFD"]), json.dumps(wide).encode(), 400),
        "empty body": (url + "submit", auth(TOKENS["BCFD"]), b"", 400),
        "unknown command": (url + "os", auth(TOKENS["BCFD"]), body, 404),
    }


REFUSALS = ["no token", "wrong token", "another agency's plan", "oversize body",
            "malformed JSON", "not a workbook", "JSON constants", "too many sheets",
            "too many rows", "too many cells", "empty body", "unknown command"]


@pytest.mark.parametrize("case", REFUSALS)
def test_each_refusal_gets_its_4xx_and_a_message(server, case):
    before = stored(server)
    path, headers, body, status = refusals(server)[case]
    response = server.post(path, headers=headers, content=body)
    assert response.status_code == status, response.text
    message = response.json()["detail"]
    assert message and "Traceback" not in message and "{" not in message
    assert stored(server) == before
    assert server.get("/").status_code == 200


def test_an_oversize_body_without_a_declared_size_is_refused(server):
    before = stored(server)

    def chunks():
        for _ in range(MAX_BODY // 2**16 + 2):
            yield b" " * 2**16
    response = server.post("/xlwings/custom-scripts-call/submit", headers=auth(TOKENS["BCFD"]),
                           content=chunks())
    assert response.status_code == 413
    assert stored(server) == before


def test_a_thousand_bad_requests_in_a_row(server):
    before = stored(server)
    heavy = {"oversize body", "too many sheets", "too many rows", "too many cells"}  # tested above
    cases = [c for name, c in refusals(server).items() if name not in heavy]
    statuses = []
    for i in range(1000):
        path, headers, body, status = cases[i % len(cases)]
        statuses.append((server.post(path, headers=headers, content=body).status_code, status))
    assert all(got == want for got, want in statuses)
    assert stored(server) == before
    ok = call(server, "validate", officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", INCLUDE))
    assert ok.status_code == 200
    assert b"Traceback" not in server.log.read_bytes()


def test_bearer_tokens_are_accepted_too(server):
    payload = officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", INCLUDE)
    response = call(server, "validate", payload, token="Bearer " + TOKENS["BCFD"])
    assert response.status_code == 200


# ---- the serve command ----------------------------------------------------------------------------

def test_serve_needs_a_license_choice(tmp_path):
    result = CliRunner(env={"XLWINGS_LICENSE_KEY": None}).invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "XLWINGS_LICENSE_KEY=noncommercial" in result.output
    assert "government" in result.output


@pytest.mark.parametrize("text, complaint", [
    ('tokens:\n  "short": DOT\n', "too short"),
    ('tokens:\n  "long-enough-token-123456": NOPE\n', "no known agency"),
    ('tokenz: {}\n', "unknown key"),
    ('tokens:\n  "sha256:abc": DOT\n', "not a SHA-256"),
    ('limits:\n  max_body_bytes: -1\n', "limits.max_body_bytes"),
    ("processes: 0\n", "processes must be a positive number"),
    ("time_limit: fast\n", "time_limit must be a positive number"),
    ("time_limit: true\n", "time_limit must be a positive number"),
])
def test_serve_refuses_a_wrong_config(tmp_path, text, complaint):
    config = tmp_path / "addin.yaml"
    config.write_text(text, encoding="utf-8")
    result = CliRunner(env={"XLWINGS_LICENSE_KEY": "noncommercial"}).invoke(
        cli, ["serve", "--config", str(config)])
    assert result.exit_code == 2
    assert complaint in result.output


def test_serve_speaks_https_with_the_configured_certificate(tmp_path):
    """Office loads add-ins over HTTPS only: the manifest then names https:// URLs."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(tmp_path / "key.pem"), "-out", str(tmp_path / "cert.pem"), "-days", "2",
                    "-subj", "/CN=localhost"], check=True, capture_output=True)
    config = tmp_path / "addin.yaml"
    config.write_text(f'tokens:\n  "{OFFICE}": office\ntls:\n  certfile: cert.pem\n'
                      "  keyfile: key.pem\n", encoding="utf-8")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "planvalidator", "serve", "--port", str(port), "--config",
         str(config), "--store", str(tmp_path / "store")], cwd=tmp_path,
        env={**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                manifest = httpx.get(f"https://localhost:{port}/manifest.xml",
                                     verify=ssl.create_default_context(cafile=tmp_path / "cert.pem"),
                                     timeout=2)
                break
            except (httpx.TransportError, ssl.SSLError):
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.3)
        assert f'DefaultValue="https://localhost:{port}/taskpane.html"' in manifest.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_hashed_tokens_and_constant_time_lookup(tmp_path):
    import hashlib
    from planvalidator.addin.config import load_config
    path = tmp_path / "addin.yaml"
    path.write_text(f'tokens:\n  "sha256:{hashlib.sha256(b"a-secret-token-0001").hexdigest()}": DOT\n'
                    '  "another-secret-0002": office\n', encoding="utf-8")
    config = load_config(path)
    assert "a-secret-token-0001" not in str(config.tokens)   # only digests are kept
    assert config.principal("a-secret-token-0001") == "DOT"
    assert config.principal("another-secret-0002") == "office"
    assert config.principal("a-secret-token-0002") is None
    assert config.principal("") is None


# ---- licensing: the core never imports xlwings ----------------------------------------------------

def test_the_core_does_not_import_xlwings():
    """Every module but the add-in's scripts (which xlwings-server loads) imports without
    xlwings: templates, validate, merge and the rest need no xlwings licence."""
    code = ("import importlib, pkgutil, sys\n"
            "import planvalidator\n"
            "for m in pkgutil.iter_modules(planvalidator.__path__):\n"
            "    if m.name not in ('addin', '__main__'):\n"
            "        importlib.import_module('planvalidator.' + m.name)\n"
            "from planvalidator.cli import main\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('xlwings', 'xlwings_server'))\n"
            "print(bad)\nsys.exit(1 if bad else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_formula_looking_text_is_written_back_as_text(server):
    """Text an analyst typed that Excel would read as a formula comes back in the Validation
    sheet and the notes as text (a leading apostrophe); the only formulas written are the
    add-in's own links to cells of the plan."""
    link = '=HYPERLINK("http://evil.example","click")'
    payload = officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", INCLUDE)
    measures = next(s for s in payload["sheets"] if s["name"] == "Measures")
    measures["values"][3][0] = link         # A4, the measure ID
    measures["values"][4][3] = "=1+1"       # D5, the Measure Type
    acts = actions(call(server, "validate", payload))
    rows = validation_rows(replay(payload, acts))
    assert [r[:7] for r in rows[4:6]] == [
        ["error", "Measures", '=HYPERLINK("#\'Measures\'!A4","A4")', "bad-measure-id",
         "'" + link,
         "Measures!A4 holds the measure ID '=HYPERLINK(\"http://evil.example\",\"click\")', which "
         "is not in the form AGENCY-SERVICE-NN (for example BCFD-609-03).",
         "Write the ID like BCFD-609-03."],
        ["error", "Measures", '=HYPERLINK("#\'Measures\'!D5","D5")', "not-in-list", "BCFD-602-02",
         "Measures!D5 (Measure Type of measure BCFD-602-02) holds '=1+1', which is not one of "
         "the choices: Output, Efficiency, Effectiveness, Outcome.",
         "Pick one of the choices from the dropdown."]]
    assert len(rows) == 6                   # those two findings and no other
    assert not [a for a in acts if "ormula" in a["func"]]
    notes = [a["args"][1] for a in acts if a["func"] in ("addNote", "setNoteText")]
    assert [n.split("\n")[1][:19] for n in notes] == ["[error] Measures!A4", "[error] Measures!D5"]
    written = [v for a in acts if a["func"] == "setValues" for row in a["values"] for v in row]
    formulas = [v for v in written + notes
                if isinstance(v, str) and v.startswith(("=", "+", "-", "@"))]
    assert formulas == ['=HYPERLINK("#\'Measures\'!A4","A4")', '=HYPERLINK("#\'Measures\'!D5","D5")']


def test_an_oversize_cell_is_refused_and_nothing_is_stored(server):
    """Excel holds at most 32,767 characters in a cell: one more is not a workbook Excel sent."""
    before = stored(server)
    payload = officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", INCLUDE)
    measures = next(s for s in payload["sheets"] if s["name"] == "Measures")
    measures["values"][3][2] = "x" * 32_767          # C4, the measure name: as long as Excel allows
    assert call(server, "validate", payload, TOKENS["BCFD"]).status_code == 200
    measures["values"][3][2] = "x" * 32_768
    response = call(server, "submit", payload, TOKENS["BCFD"])
    assert response.status_code == 400, response.text
    assert response.json()["detail"] == (
        "Sheet 'Measures' holds a cell with more text than Excel allows in a cell.")
    assert stored(server) == before


def test_a_validation_sheet_of_the_agencys_own_is_left_alone(server):
    payload = officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", INCLUDE)
    payload["sheets"].append(dict(payload["sheets"][0], name="Validation",
                                  values=[["Our own checklist"], ["call the director"]]))
    for script in ("validate", "clear_highlights"):
        response = call(server, script, payload)
        assert response.status_code == 409
        assert "already has a sheet named 'Validation'" in response.json()["detail"]


def test_notes_are_capped_and_every_finding_is_still_listed(server, tmp_path):
    from plans import measure, plan_file, sheets
    rows = [measure(f"BCFD-{svc}-{n:02d}", svc, target=None, measure_name=None)
            for svc in (609, 602) for n in range(1, 76)]
    path = plan_file(tmp_path / "bcfd-many-mistakes.xlsx", sheets(measures=rows))
    acts = actions(call(server, "validate", officejs.payload(path, INCLUDE)))
    expected = validate_workbook(path)
    assert shown(acts)["report"] == expected.as_dict()
    assert len([a for a in acts if a["func"] == "addNote"]) == 200
    marked = {(f.sheet, f.cell) for f in expected.findings if f.cell and f.severity == "error"}
    assert len(marked) == 300
    assert set(filled_cells(acts, replay(officejs.payload(path, INCLUDE), acts))) == marked
    assert len([a for a in acts if a["func"] == "setRangeColors"]) < 10


def test_concurrent_requests_each_get_their_own_answer(server):
    """16 analysts at once, each with another workbook: every answer carries its own findings
    (xlwings routes app-level actions to the book it opened last, so this would cross wires if
    a script yielded to another request halfway)."""
    from concurrent.futures import ThreadPoolExecutor
    names = ALL * 2
    expected = {name: validate_workbook(EXAMPLES / name).as_dict() for name in ALL}
    bodies = {name: officejs.body(EXAMPLES / name, INCLUDE) for name in ALL}

    def one(name):
        with httpx.Client(base_url=str(server.base_url), timeout=60) as client:
            response = client.post("/xlwings/custom-scripts-call/validate", headers=auth(OFFICE),
                                   content=bodies[name])
        acts = actions(response)
        return name, shown(acts)["report"], [a for a in acts if a["func"] == "alert"]

    with ThreadPoolExecutor(16) as pool:
        for name, report, alerts in pool.map(one, names):
            assert report == expected[name]
            assert len(alerts) == 1
