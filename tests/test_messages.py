"""Every finding's message is worded by its catalogue entry (catalogue.CATALOGUE) from the facts
its finder supplies: the rules, the reader, the template check, merge and sync."""

import re
import string

from plans import SCHEMA, measure, plan_file, sheets

from planvalidator.citywide.merge import merge
from planvalidator.citywide.sync import apply_update
from planvalidator.findings import CATALOGUE, COLUMN_CAP
from planvalidator.read.plan import read_plan
from planvalidator.read.xlsx import CellError
from planvalidator.rules.validate import validate_files, validate_plan

PERCENT = dict(unit="Percent", actual_y3=0.5, actual_y2=0.6, target_y1=0.7, midyear_y1=0.6)
SERVICES = [(609, "EMS", "Building Public Safety", 1, ""),
            (602, "Fire Suppression", "Building Public Safety", 1, ""),
            (999, "Made up", "Building Public Safety", 1, ""),
            (610, "Outreach", "Building Public Safety", 1, "")]


def validated(data, **kw):
    return validate_plan(read_plan(list(data), data, source="test.xlsx", **kw)).findings


def with_identity(data, **identity):
    return dict(data, _planvalidator=[[k, v] for k, v in identity.items()])


def cell_plan():
    return sheets([
        measure("BCFD-609-01", measure_type="Outcomes"),
        measure("BCFD609-2", target=85, **PERCENT),
        measure("BCFD-609-03", target=1.5, **PERCENT),
        measure("BCFD-602-01", 602, target="about 40", actual_y2=-3),
        measure("BCFD-602-01", 602, key_measure=None, target="TBD",
                data_source=CellError("#DIV/0!", "1/0")),
        measure("BCFD-602-02", 602, measure_name=CellError("", "A1&B1"), target=0),
        measure("BCFD-602-03", 602, target=None, actual_y2="1,200"),
        measure("BCFD-602-04", 602, **dict(PERCENT, actual_y2="60%")),
    ], agency={"Approval Date": "next week", "Submission Date": "08/15/2027"})


def midyear(**fields):
    return measure(**{"midyear_actual": 70, "status": "On Track", **fields})


def all_findings(tmp_path):
    """Findings of real failing plans, together giving every message template."""
    found = validated(cell_plan())
    found += validated(sheets([measure("BCFD-609-01", 609), measure("BCFD-611-01", 611),
                               measure("DOT-602-01", 602),
                               measure("BCFD-609-02", 602, measure_type="Output")],
                              services=SERVICES))
    found += validated(sheets([measure("BCFD-609-01"),
                               measure("BCFD-602-01", 602, measure_type="Output")]))
    found += validated(sheets([
        midyear(mid="BCFD-609-01", midyear_actual=None),                  # no actual, On Track
        midyear(mid="BCFD-609-02", midyear_actual=10, status="Off Track"),
        midyear(mid="BCFD-602-01", svc=602, midyear_actual=10, status="On Track",
                status_explanation="Winter"),                              # half the target
        midyear(mid="BCFD-602-02", svc=602, midyear_actual=0.1, target=0.9,
                **PERCENT)],                                               # a percent: whole
        agency={"Plan Stage": "Mid-Year Update"}))
    found += validated(sheets(), stage="Year-End Update")
    found += validated(sheets([measure(measure_name="x" * 32_768)]))   # over Excel's limit
    # structure: sheets, columns, rows of the Agency sheet, the header row, the template
    data = sheets()
    del data["Services"]
    data["Measures"][2][12] = "Target"
    data["Agency"][7][0] = "Prepared"
    found += validated(data)
    data = sheets()
    data["Services"][2] = [None]
    found += validated(data)
    found += validated(with_identity(sheets(), template_version="2028.0", agency="DOT"))
    found += validated(with_identity(sheets(), fiscal_year="2027"))
    found += validated(sheets(agency={"Fiscal Year": 2027}), schema=SCHEMA)
    # sheets a person does not see: a very hidden second Measures sheet, a hidden Services sheet
    found += validated(dict(sheets(), **{"Measures ": sheets()["Measures"]}),
                       hidden={"Measures ": "veryHidden", "Services": "hidden"})
    # a report's bounds: 101 rows wrong in 11 columns (more-findings, too-many-findings)
    wrong = dict(svc=999, measure_type="?", unit="?", direction="?", frequency="?",
                 actual_y3="x", actual_y2=-5, target_y1="x", target=0, key_measure="?")
    found += validated(sheets([measure("BCFD609-1", **wrong)] * (COLUMN_CAP + 1)))
    # an unreadable file, a measure ID two agencies use, an update against the approved plan
    (tmp_path / "minutes.xlsx").write_text("not a workbook")
    [report] = validate_files([tmp_path / "minutes.xlsx"])
    found += report.findings
    dot = sheets([measure("BCFD-609-01", 683)],
                 services=[(683, "Street Management", "Equitable Neighborhood Development", 1, "")],
                 agency={"Agency Code": "DOT", "Agency Name": "Department of Transportation"})
    merged = merge([plan_file(tmp_path / "bcfd.xlsx"),
                    plan_file(tmp_path / "dot.xlsx", dot, agency="DOT")])
    found += [f for s in merged.submissions for f in s.report.findings]
    approved = read_plan(list(sheets()), sheets(), source="approved.xlsx")
    update = sheets([measure("BCFD-609-01", target=999), measure("BCFD-609-05")],
                    agency={"Plan Stage": "Mid-Year Update"})
    found += apply_update(approved, read_plan(list(update), update, source="update.xlsx"),
                          "update.xlsx")[2]
    return found


def pattern(template: str) -> re.Pattern:
    """The messages a template words: its text, with anything in place of each field."""
    parts = [re.escape(text) + ("" if field is None else ".+?")
             for text, field, _, _ in string.Formatter().parse(template)]
    return re.compile("".join(parts))


def test_every_template_is_worded_from_the_facts_of_a_real_finding(tmp_path):
    found = all_findings(tmp_path)
    missing = []
    for code, entry in CATALOGUE.items():
        messages = [f.message for f in found if f.code == code]
        hints = [f.hint for f in found if f.code == code]
        for kind, templates, texts in (("message", entry.messages, messages),
                                       ("hint", entry.hints, hints)):
            for variant, template in templates.items():
                if not any(pattern(template).fullmatch(t) for t in texts):
                    missing.append((code, kind, variant))
    assert missing == []


def test_real_messages_read_as_before(tmp_path):
    """A few messages in full, as the analyst reads them."""
    found = {(f.code, f.cell): (f.message, f.hint) for f in all_findings(tmp_path)}
    messages = {
        ("percent-out-of-range", "M5"):
            "Measures!M5 (FY2028 Target of measure BCFD609-2) holds 85 in a Percent measure; "
            "percents run from 0% to 100% — did you mean 85%?",
        ("formula-error", "C9"):
            "Measures!C9 (Measure Name of measure BCFD-602-02) holds the formula =A1&B1 with no "
            "saved result (the workbook was not recalculated and saved in Excel).",
        ("value-interpreted", "J11"):
            "Measures!J11 (FY2026 Actual of measure BCFD-602-04): the text '60%' was read as 60% "
            "(stored as 0.6).",
        ("status-inconsistent", "S4"):
            "Measures!S4: measure BCFD-609-01 is marked 'On Track', but it has no actual to "
            "report, so its status is No Data.",
    }
    assert {key: found[key][0] for key in messages} == messages
    assert found["target-changed", "M4"] == (
        "Measures!M4 (FY2028 Target of measure BCFD-609-01) holds 999, but the approved plan's "
        "target is 120; targets are locked once the plan is approved.",
        "Restore the approved target 120 and explain the difference in Status Explanation; the "
        "performance office decides on target changes.")


def test_the_catalogue_is_the_one_source_of_every_message(tmp_path, monkeypatch):
    """Edit a template in the catalogue: the findings of the rules, the reader and sync say it."""
    monkeypatch.setitem(CATALOGUE["missing-target"].messages, "", "{location}: no target yet.")
    monkeypatch.setitem(CATALOGUE["missing-sheet"].messages, "", "Where is {sheet}?")
    monkeypatch.setitem(CATALOGUE["measure-added"].messages, "", "New: {measure_id}.")
    monkeypatch.setitem(CATALOGUE["status-inconsistent"].messages, "prorated",
                        "{measure_id}: {actual:g} of {target:g}, {expected}.")
    data = sheets([measure("BCFD-609-01", target=None), measure("BCFD-602-01", 602)])
    del data["Services"]
    assert [f.message for f in validated(data)] == [
        "Measures!M4: no target yet.", "Where is Services?"]
    update = sheets([midyear(mid="BCFD-609-01", midyear_actual=None, target=None),
                     midyear(mid="BCFD-602-01", svc=602, midyear_actual=10)],
                    agency={"Plan Stage": "Mid-Year Update"})
    assert "BCFD-602-01: 10 of 60, Off Track." in [f.message for f in validated(update)]
    approved = read_plan(list(sheets()), sheets(), source="approved.xlsx")
    update = sheets([measure("BCFD-609-01"), measure("BCFD-602-01", 602),
                     measure("BCFD-609-05")])
    _, _, found = apply_update(approved, read_plan(list(update), update, source="u.xlsx"), "u.xlsx")
    assert [f.message for f in found] == ["New: BCFD-609-05."]


def test_a_missing_number_reads_none():
    """The format spec words a missing number, for every template that shows one."""
    entry = CATALOGUE["status-inconsistent"]
    assert entry.message(location="Measures!S4", measure_id="X-1-01", shown="On Track",
                         actual=float("nan"), target=None, direction="increase",
                         expected="Off Track") == (
        "Measures!S4: measure X-1-01 is marked On Track, but its actual none against the target "
        "none for a measure meant to increase looks Off Track.")
