"""Issue 10, items 3, 5 and 6: only finite numbers are numbers, text from a cell is data in
every output, and annotate reads what validate reads. Each plan is a real template built by
code (tests/hostile_plans.py), with the hostile part planted in its XML."""

from __future__ import annotations

import json
import subprocess
import sys

import openpyxl
import pytest

import hostile_plans as hostile
import officejs
from plans import EXAMPLES
from serving import INCLUDE, TOKENS, actions, auth, shown
from planvalidator.read.payload import plan_sheets
from planvalidator.read.plan import read_plan
from planvalidator.rules.validate import validate_plan, validate_workbook

RAW = ("\x1b", "\u202e", "\u2066", "\x07", "\x00")   # never printed as they are


def cli(*args):
    return subprocess.run([sys.executable, "-m", "planvalidator", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def strict_json(text: str):
    """JSON as the standard has it: NaN, Infinity and -Infinity are not JSON."""
    def refuse(constant):
        raise AssertionError(f"{constant} in JSON output")
    return json.loads(text, parse_constant=refuse)


def found(path) -> set[tuple[str, str]]:
    return {(f"{f.sheet}!{f.cell}", f.code) for f in validate_workbook(path).findings}


def test_nan_and_infinite_numbers_are_not_numbers(tmp_path):
    path = hostile.nan_and_inf_numbers(tmp_path / "plan.xlsx")
    assert found(path) == {("Measures!I4", "not-a-number"), ("Measures!J4", "not-a-number"),
                           ("Measures!K4", "not-a-number"), ("Measures!M4", "not-a-number")}
    run = cli("validate", "--format", "json", path)
    assert run.returncode == 1, run.stderr
    shown = {f["cell"]: f["value"] for f in strict_json(run.stdout)["findings"]}
    assert shown == {"I4": "-INF", "J4": "inf", "K4": "1e309", "M4": "NaN"}   # as saved


def test_a_target_of_400_digits_is_not_a_number_and_is_quoted_short(tmp_path):
    path = hostile.digits_309(tmp_path / "plan.xlsx")
    report = validate_workbook(path)
    assert [(f.cell, f.code) for f in report.findings] == [("M4", "not-a-number")]
    quoted = report.findings[0].message.split("'")[1]
    assert len(quoted) == 100 and quoted.endswith("…")
    run = cli("validate", "--format", "json", path)
    strict_json(run.stdout)
    assert run.returncode == 1


def test_nan_and_negative_date_serials_are_not_dates(tmp_path):
    path = hostile.nan_and_negative_dates(tmp_path / "plan.xlsx")
    assert found(path) == {("Agency!B13", "not-a-date"), ("Agency!B14", "not-a-date")}


@pytest.mark.parametrize("sent_as, shown", [("1e999", "inf"), ("-" + "9" * 400, "-inf")])
def test_the_payloads_1e999_is_not_a_number(sent_as, shown):
    """JSON's 1e999 parses as an infinite float, a 400-digit integer as an int no float holds:
    both are a target no output can hold."""
    payload = officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx")
    measures = next(s for s in payload["sheets"] if s["name"] == "Measures")
    measures["values"][3][12] = 777001.5          # M4, the FY2028 target
    body = json.dumps(payload).replace("777001.5", sent_as)
    sent = json.loads(body)   # as the server parses the request
    names, sheets = plan_sheets(sent, ["Agency", "Services", "Measures", "_planvalidator"])
    report = validate_plan(read_plan(names, sheets, source="plan.xlsx"))
    assert [(f.location, f.code, f.value) for f in report.findings] == [
        ("Measures!M4", "not-a-number", shown)]
    strict_json(report.to_json())


def test_the_addins_submit_of_1e999_answers_with_the_finding(server):
    payload = officejs.payload(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", INCLUDE)
    measures = next(s for s in payload["sheets"] if s["name"] == "Measures")
    measures["values"][3][12] = 777001.5
    body = json.dumps(payload).replace("777001.5", "1e999").encode()
    response = server.post("/xlwings/custom-scripts-call/submit", content=body,
                           headers=auth(TOKENS["BCFD"]))
    data = shown(actions(response))   # 200, not 503
    assert data["receipt"] is None
    assert [(f["cell"], f["code"], f["value"]) for f in data["report"]["findings"]] == [
        ("M4", "not-a-number", "inf")]


def test_control_characters_and_bidi_never_reach_the_terminal_raw(tmp_path):
    path = hostile.control_characters(tmp_path / "plan.xlsx")
    run = cli("validate", path)
    assert run.returncode == 1, run.stderr
    assert not [c for c in RAW if c in run.stdout]
    lines = run.stdout.splitlines()
    assert len(lines) == 2 and "forged-line" not in lines[-1].split("  ")[1:3]   # no forged line
    assert "BCFD\\x1b[2J\\x1b[31m\\n  error" in lines[1]

    run = cli("validate", "--format", "json", path)
    assert not [c for c in RAW + ("\n  error   Measures!A9",) if c in run.stdout]
    assert "\\u001b[2J" in run.stdout
    finding = strict_json(run.stdout)["findings"][0]
    assert finding["value"] == "BCFD" + hostile.ESCAPES + hostile.FORGED   # the data, intact


def test_bidi_overrides_are_escaped_in_json(tmp_path):
    from planvalidator.findings import Report, finding
    report = Report("plan.xlsx", [finding("not-a-number", {
        "location": "Measures!M4", "subject": "target", "shown": f"'{hostile.BIDI}'"},
        sheet="Measures", cell="M4", value=hostile.BIDI)])
    text = report.to_json()
    assert "\\u202e" in text and "\\u2066" in text and "\u202e" not in text
    assert strict_json(text)["findings"][0]["value"] == hostile.BIDI


def test_a_cell_over_excels_limit_is_a_finding_at_the_cell(tmp_path):
    path = hostile.long_cell(tmp_path / "plan.xlsx")
    report = validate_workbook(path)
    assert [(f.location, f.code) for f in report.findings] == [("Measures!C4", "text-too-long")]
    assert "39,999 characters" in report.findings[0].message
    out = tmp_path / "annotated.xlsx"
    run = cli("validate", "--annotate", out, path)
    assert run.returncode == 1, run.stderr
    assert longest_cell(out, "Validation") <= 32_767
    city = tmp_path / "citywide.xlsx"
    run = cli("merge", path, "-o", city)
    assert run.returncode == 1, run.stderr
    assert longest_cell(city) == 32_767   # the name, on Measures, and the Findings value


def longest_cell(path, only: str = "") -> int:
    wb = openpyxl.load_workbook(path)
    return max(len(str(c.value)) for ws in wb if ws.title == (only or ws.title)
               for row in ws.iter_rows() for c in row if c.value is not None)


@pytest.mark.parametrize("build", [hostile.nan_and_inf_numbers, hostile.nan_and_negative_dates,
                                   hostile.control_characters])
def test_annotate_refuses_in_one_plain_sentence_what_it_cannot_copy(build, tmp_path):
    path = build(tmp_path / "plan.xlsx")
    before = path.read_bytes()
    run = cli("validate", "--annotate", tmp_path / "out.xlsx", path)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr and run.stdout == ""   # never "N errors" then a refusal
    assert run.stderr.strip().startswith("Error: An annotated copy of plan.xlsx cannot be made")
    assert len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.xlsx").exists() and path.read_bytes() == before


def test_annotate_of_a_plan_whose_unread_sheet_has_a_doctype_is_copied_or_refused_plainly(
        tmp_path):
    path = hostile.doctype_elsewhere(tmp_path / "plan.xlsx")
    assert found(path) == set()   # validate does not read that sheet
    run = cli("validate", "--annotate", tmp_path / "out.xlsx", path)
    assert "Traceback" not in run.stderr and "Entit" not in run.stderr
    if run.returncode == 2:
        assert run.stdout == "" and len(run.stderr.strip().splitlines()) == 1
        assert run.stderr.startswith("Error: An annotated copy of plan.xlsx cannot be made")
    else:
        assert run.returncode == 0
        assert "Validation" in openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames
