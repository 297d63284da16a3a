"""The budget cycle on the bundled examples: FY2027 plans → merge → mid-year sync → roll forward
to FY2028 → filled → validate → merge; and sync's changes, locks and idempotence cell by cell.

The FY2027 plans are the examples' own agencies at the Plan stage: the DOT and OPI data of
examples/build.py with the actuals, statuses and explanations cleared, and the Fire Department
with one more service, 608 Emergency Management, which the FY2028 catalog dropped. The updates
are the examples themselves (dot-midyear-fy2027-clean.xlsx, opi-yearend-fy2027-clean.xlsx).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from libreoffice import convert
from planvalidator.cli import main
from planvalidator.citywide.consolidated.read import (Row, plan_from_rows, read_consolidated,
                                                      rows_by_key, template_sheets)
from planvalidator.read.plan import read_plan
from planvalidator.schema.loader import load_schema
from planvalidator.citywide.sync import apply_update
from planvalidator.rules.validate import validate_workbook
from plans import (DOT_MIDYEAR, OPI_YEAREND, SCHEMA, SERVICES, fy2027_plans, measure,
                   mixed_years, sheets)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DOT_UNFINISHED = EXAMPLES / "fy2027/dot-midyear-fy2027-missing-actuals.xlsx"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(path, sheet):
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def citywide(tmp_path_factory) -> Path:
    """FY2027 plans → merge: the approved consolidated FY2027 plan."""
    work = tmp_path_factory.mktemp("fy2027")
    out = work / "citywide-fy2027.xlsx"
    result = run("merge", fy2027_plans(work / "plans"), "-o", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def midyear(citywide, tmp_path_factory) -> tuple[Path, str]:
    """The consolidated plan after the DOT mid-year update was synced."""
    out = tmp_path_factory.mktemp("midyear") / "citywide-fy2027-midyear.xlsx"
    result = run("sync", citywide, DOT_MIDYEAR, "-o", out)
    assert result.exit_code == 0, result.output
    return out, result.output


SOURCE = "dot-midyear-fy2027-clean.xlsx"
DOT_CHANGES = [   # (agency, measure, field, old, new, source file), in plan order
    ("DOT", "DOT-683-01", "Mid-Year Actual", None, 0.91, SOURCE),
    ("DOT", "DOT-683-01", "Status", None, "On Track", SOURCE),
    ("DOT", "DOT-683-02", "Mid-Year Actual", None, 13620, SOURCE),
    ("DOT", "DOT-683-02", "Status", None, "At Risk", SOURCE),
    ("DOT", "DOT-683-02", "Status Explanation", None, "Two paving crews were assigned to snow "
     "response in January; they return to pothole repair in March.", SOURCE),
    ("DOT", "DOT-683-03", "Mid-Year Actual", None, 62, SOURCE),
    ("DOT", "DOT-683-03", "Status", None, "Off Track", SOURCE),
    ("DOT", "DOT-683-03", "Status Explanation", None, "The resurfacing contract was awarded in "
     "November, two months late; most paving happens April to June.", SOURCE),
    ("DOT", "DOT-683-04", "Mid-Year Actual", None, 1.8, SOURCE),
    ("DOT", "DOT-683-04", "Status", None, "On Track", SOURCE),
    ("DOT", "DOT-684-01", "Mid-Year Actual", None, 0.9, SOURCE),
    ("DOT", "DOT-684-01", "Status", None, "At Risk", SOURCE),
    ("DOT", "DOT-684-01", "Status Explanation", None, "Back-ordered signal controllers delayed "
     "14 repairs; the parts arrived in December.", SOURCE),
    ("DOT", "DOT-684-02", "Mid-Year Actual", None, 96, SOURCE),
    ("DOT", "DOT-684-02", "Status", None, "On Track", SOURCE),
    ("DOT", "DOT-697-01", "Mid-Year Actual", None, 19, SOURCE),
    ("DOT", "DOT-697-01", "Status", None, "On Track", SOURCE),
    ("DOT", "DOT-697-02", "Mid-Year Actual", None, 77, SOURCE),
    ("DOT", "DOT-697-02", "Status", None, "On Track", SOURCE),
    ("DOT", "DOT-697-03", "Mid-Year Actual", None, 0.7, SOURCE),
    ("DOT", "DOT-697-03", "Status", None, "Off Track", SOURCE),
    ("DOT", "DOT-697-03", "Status Explanation", None, "Two traffic engineer positions were "
     "vacant until November; assessments resume with a consultant in February.", SOURCE),
    ("DOT", "DOT-500-01", "Mid-Year Actual", None, 0.86, SOURCE),
    ("DOT", "DOT-500-01", "Status", None, "On Track", SOURCE),
    ("DOT", "DOT-500-02", "Mid-Year Actual", None, 3600, SOURCE),
    ("DOT", "DOT-500-02", "Status", None, "On Track", SOURCE),
]


# ---- sync ---------------------------------------------------------------------------------

def test_midyear_sync_holds_the_actuals_and_lists_exactly_the_changes(citywide, midyear):
    out, output = midyear
    assert rows(out, "Changes") == [("Agency", "Measure ID", "Field", "Old", "New", "Source File")
                                    ] + DOT_CHANGES
    measures = rows(out, "Measures")
    header = measures[0]
    col = {label: header.index(label) for label in
           ("Measure ID", "FY2027 Target", "Mid-Year Actual", "Status", "Computed Status")}
    dot = [tuple(r[col[k]] for k in col) for r in measures[1:] if r[0] == "DOT"]
    assert dot == [   # the approved targets, the synced actuals; the status computed agrees
        ("DOT-683-01", 0.9, 0.91, "On Track", "On Track"),
        ("DOT-683-02", 30000, 13620, "At Risk", "At Risk"),
        ("DOT-683-03", 200, 62, "Off Track", "Off Track"),
        ("DOT-683-04", 2, 1.8, "On Track", "On Track"),
        ("DOT-684-01", 0.94, 0.9, "At Risk", "At Risk"),
        ("DOT-684-02", 180, 96, "On Track", "On Track"),
        ("DOT-697-01", 42, 19, "On Track", "On Track"),
        ("DOT-697-02", 150, 77, "On Track", "On Track"),
        ("DOT-697-03", 0.85, 0.7, "Off Track", "Off Track"),
        ("DOT-500-01", 0.85, 0.86, "On Track", "On Track"),
        ("DOT-500-02", 7000, 3600, "On Track", "On Track"),
    ]
    # Everything the update didn't touch keeps its value: the other agencies' rows, DOT's
    # other columns, the services.
    before, after = rows(citywide, "Measures"), measures
    untouched = [c for c, label in enumerate(header)
                 if label not in ("Mid-Year Actual", "Status", "Status Explanation",
                                  "Computed Status")]
    assert [[r[c] for c in untouched] for r in after] == [[r[c] for c in untouched] for r in before]
    assert [r for r in after if r[0] != "DOT"] == [r for r in before if r[0] != "DOT"]
    assert rows(out, "Services") == rows(citywide, "Services")
    summary = {r[0]: r for r in rows(out, "Summary")[1:]}
    assert summary["DOT"][3:] == ("Mid-Year Update", 4, 11, 6, 0, 0, 0, "2027.2",
                                  dt.datetime(2027, 2, 4), SOURCE, "Accepted")
    assert summary["BCFD"][3] == summary["OPI"][3] == "Plan"
    sources = rows(out, "Sources")
    assert [r[0] for r in sources[1:]] == [r[0] for r in rows(citywide, "Sources")[1:]] + [SOURCE]
    assert sources[-1][1] == sha(DOT_MIDYEAR) and sources[-1][8] == "Accepted"
    assert output.splitlines() == [
        "Agency  Stage            Changes  Errors  Warnings  Update",
        "DOT     Mid-Year Update       26       0         0  dot-midyear-fy2027-clean.xlsx",
        "Total                         26       0         0",
        "Not updated: BCFD, OPI",
        f"Wrote {out} (every finding is on its Findings sheet, every change on Changes)",
    ]


def test_a_second_sync_with_the_same_files_changes_nothing(midyear, tmp_path):
    out, _ = midyear
    again = tmp_path / "again.xlsx"
    result = run("sync", out, DOT_MIDYEAR, "-o", again)
    assert result.exit_code == 0, result.output
    assert "Total                          0" in result.output
    assert again.read_bytes() == out.read_bytes()


def test_year_end_sync_appends_its_changes_after_the_mid_year_ones(midyear, tmp_path):
    out, _ = midyear
    yearend = tmp_path / "citywide-fy2027-yearend.xlsx"
    result = run("sync", out, OPI_YEAREND, "-o", yearend)
    assert result.exit_code == 0, result.output
    src = "opi-yearend-fy2027-clean.xlsx"
    opi = [(m, f, o, n) for a, m, f, o, n, s in rows(yearend, "Changes")[1 + len(DOT_CHANGES):]
           if a == "OPI" and s == src]
    assert rows(yearend, "Changes")[1:1 + len(DOT_CHANGES)] == DOT_CHANGES
    assert len(rows(yearend, "Changes")) == 1 + len(DOT_CHANGES) + len(opi)
    assert opi == [
        ("OPI-125-01", "Mid-Year Actual", None, 6), ("OPI-125-01", "Year-End Actual", None, 12),
        ("OPI-125-01", "Status", None, "Off Track"),
        ("OPI-125-01", "Status Explanation", None, "Two projects with DPW were paused while the "
         "new billing system went live; both restart in FY2028."),
        ("OPI-125-02", "Mid-Year Actual", None, 900000),
        ("OPI-125-02", "Year-End Actual", None, 2350000), ("OPI-125-02", "Status", None, "On Track"),
        ("OPI-125-03", "Mid-Year Actual", None, 0.77), ("OPI-125-03", "Year-End Actual", None, 0.81),
        ("OPI-125-03", "Status", None, "On Track"),
        ("OPI-347-01", "Mid-Year Actual", None, 66), ("OPI-347-01", "Year-End Actual", None, 134),
        ("OPI-347-01", "Status", None, "On Track"),
        ("OPI-347-02", "Mid-Year Actual", None, 0.81), ("OPI-347-02", "Year-End Actual", None, 0.83),
        ("OPI-347-02", "Status", None, "At Risk"),
        ("OPI-347-02", "Status Explanation", None, "Actions assigned to agencies with vacant "
         "analyst positions ran late; follow-ups now go to the deputy chief of staff."),
        ("OPI-347-03", "Mid-Year Actual", None, 38), ("OPI-347-03", "Year-End Actual", None, 46),
        ("OPI-347-03", "Status", None, "On Track"),
        ("OPI-347-04", "Mid-Year Actual", None, 0.78), ("OPI-347-04", "Year-End Actual", None, 0.91),
        ("OPI-347-04", "Status", None, "On Track"),
        ("OPI-347-05", "Mid-Year Actual", None, 6), ("OPI-347-05", "Year-End Actual", None, 4),
        ("OPI-347-05", "Status", None, "On Track"),
    ]
    summary = {r[0]: r[3] for r in rows(yearend, "Summary")[2:-1]}   # title, header; Total
    assert summary == {"BCFD": "Plan", "DOT": "Mid-Year Update", "OPI": "Year-End Update"}


def _edited_update(src: Path, dst: Path, edit) -> Path:
    """A copy of an update workbook with `edit(Measures sheet)` applied, saved by openpyxl."""
    wb = openpyxl.load_workbook(src)
    edit(wb["Measures"])
    wb.save(dst)
    return dst


def test_a_changed_target_is_caught_and_the_approved_one_kept(citywide, tmp_path):
    def lower_target(ws):
        assert (ws["A6"].value, ws["M6"].value) == ("DOT-683-03", 200)
        ws["M6"] = 180
    update = _edited_update(DOT_MIDYEAR, tmp_path / "dot-midyear-new-target.xlsx", lower_target)
    before = {p: sha(p) for p in (citywide, update)}
    out = tmp_path / "synced.xlsx"
    result = run("sync", citywide, update, "-o", out, "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.output)
    assert [(f["agency"], f["sheet"], f["cell"], f["code"], f["measure_id"], f["value"])
            for f in data["sync_findings"]] == [
        ("DOT", "Measures", "M6", "target-changed", "DOT-683-03", 180)]
    assert data["sync_findings"][0]["message"] == (
        "Measures!M6 (FY2027 Target of measure DOT-683-03) holds 180, but the approved plan's "
        "target is 200; targets are locked once the plan is approved.")
    assert data["totals"] == {"changes": 26, "errors": 1, "warnings": 0}
    target = rows(out, "Measures")[0].index("FY2027 Target")
    assert [r[target] for r in rows(out, "Measures") if r[3] == "DOT-683-03"] == [200]
    assert ("DOT", "DOT › Measures!M6", "error", "target-changed") in [
        r[0:1] + r[2:5] for r in rows(out, "Findings")[1:]]
    assert {p: sha(p) for p in before} == before   # the inputs are untouched

    accepted = tmp_path / "accepted.xlsx"
    result = run("sync", citywide, update, "-o", accepted, "--accept-target-changes")
    assert result.exit_code == 0, result.output
    assert [r[target] for r in rows(accepted, "Measures") if r[3] == "DOT-683-03"] == [180]
    assert ("DOT", "DOT-683-03", "FY2027 Target", 200, 180, update.name) in rows(accepted, "Changes")


def test_measures_added_and_removed(citywide, tmp_path):
    def swap(ws):   # DOT-500-02 (row 14) dropped; a new measure in its place
        assert ws["A14"].value == "DOT-500-02"
        ws["A14"] = "DOT-500-03"
        ws["C14"] = "Streetlight outages reported through 311"
        ws["M14"] = 12000
    update = _edited_update(DOT_MIDYEAR, tmp_path / "dot-midyear-swapped.xlsx", swap)
    out = tmp_path / "synced.xlsx"
    result = run("sync", citywide, update, "-o", out)
    assert result.exit_code == 1
    assert [line.split()[:3] for line in result.output.splitlines() if line.startswith("  ")] == [
        ["error", "DOT", "›"], ["error", "DOT", "›"]]
    assert "  error   DOT › Measures!A14  measure-added    Measures!A14 holds measure DOT-500-03, " \
           "which is not in the approved FY2027 plan." in result.output
    assert "  error   DOT › Measures      measure-removed  Measure DOT-500-02 of the approved " \
           "FY2027 plan ('Streetlights converted to LED') is missing from the Measures sheet." \
           in result.output
    ids = [r[3] for r in rows(out, "Measures") if r[0] == "DOT"]
    assert "DOT-500-02" in ids and "DOT-500-03" not in ids

    both = tmp_path / "both.xlsx"
    result = run("sync", citywide, update, "-o", both, "--accept-added-measures",
                 "--accept-removed-measures")
    assert result.exit_code == 0, result.output
    ids = [r[3] for r in rows(both, "Measures") if r[0] == "DOT"]
    assert "DOT-500-02" not in ids and ids[-1] == "DOT-500-03"
    changes = [r[1:5] for r in rows(both, "Changes")[1:] if r[2] == "Measure"]
    assert changes == [("DOT-500-03", "Measure", None, "Streetlight outages reported through 311"),
                       ("DOT-500-02", "Measure", "Streetlights converted to LED", None)]


def test_an_empty_cell_in_an_update_changes_nothing():
    base = read_plan(*_layout(sheets([measure(midyear_actual=60, status="On Track"),
                                      measure("BCFD-602-01", 602)])))
    update = read_plan(*_layout(sheets(
        [measure(midyear_actual=None, status="On Track", status_explanation="Data due in March."),
         measure("BCFD-602-01", 602, midyear_actual="about 40", status="No Data")],
        agency={"Plan Stage": "Mid-Year Update"})))
    plan, changes, found = apply_update(base, update, "update.xlsx")
    assert [(c.measure_id, c.field, c.old, c.new) for c in changes] == [
        ("BCFD-609-01", "Status Explanation", None, "Data due in March."),
        ("BCFD-602-01", "Status", None, "No Data")]   # 'about 40' is not a number: not taken
    assert found == []
    assert plan.measures.values["midyear_actual"] == [60, None]
    assert plan.stage == "Mid-Year Update"


def test_the_synced_plan_is_the_one_read_plan_makes_of_its_rows_in_the_template_layout():
    """plan_from_rows builds the synced plan without reading its values a second time: it is
    the Plan read_plan makes of the same rows laid out as the template lays them out, with the
    values not readable as their column's type, an empty row and the Agency fields it lacks."""
    base = read_plan(*_layout(sheets([measure(midyear_actual="soon", target="TBD"),
                                      measure("BCFD-602-01", 602)])))
    update = read_plan(*_layout(sheets(
        [measure(midyear_actual=50, target="TBD"),
         measure("BCFD-655-01", 655, midyear_actual="n/a", status="On Track")],
        services=SERVICES + [(655, "Fire Prevention", "Building Public Safety", "lots", "")],
        agency={"Plan Stage": "Mid-Year Update", "Submission Date": "in March"})))
    plan, changes, _ = apply_update(base, update, "update.xlsx", accept_added=True,
                                    accept_removed=True)
    assert [(c.measure_id, c.field) for c in changes] == [
        ("BCFD-609-01", "Mid-Year Actual"), ("BCFD-655-01", "Measure"),
        ("BCFD-655-01", "Service"), ("BCFD-602-01", "Measure")]
    assert sorted(plan.measures.unparsed) == [("target", 0)]   # 'soon' gave way to 50
    assert plan.services.unparsed == {("budget", 2)}
    assert plan.agency.unparsed == {("submission_date", 0)}

    fields = Row({k: v[0] for k, v in plan.agency.values.items()},
                 [k for k, _ in plan.agency.unparsed])
    services = rows_by_key(plan.services)
    measures = rows_by_key(plan.measures)
    measures.insert(1, Row())   # an empty row, which the reader leaves out
    s_cols, m_cols = SCHEMA.services.columns, SCHEMA.measures.columns
    laid_out = template_sheets(
        SCHEMA, fields,
        ([c.label for c in s_cols], [[r.get(c.key) for c in s_cols] for r in services]),
        ([c.label for c in m_cols], [[r.get(c.key) for c in m_cols] for r in measures]))
    read = read_plan(list(laid_out), laid_out, source="update.xlsx", schema=SCHEMA,
                     stage=plan.stage)
    built = plan_from_rows(SCHEMA, fields, services, measures, "update.xlsx", plan.stage)
    assert built == read
    assert built.measures.rows == [4, 6]
    assert (built.agency, built.services) == (plan.agency, plan.services)


def _layout(data):
    return list(data), data, "plan.xlsx", SCHEMA


def test_the_latest_update_of_an_agency_wins(citywide, tmp_path):
    out = tmp_path / "synced.xlsx"
    result = run("sync", citywide, DOT_UNFINISHED, DOT_MIDYEAR, "-o", out)
    assert result.exit_code == 0, result.output
    assert ("Superseded: dot-midyear-fy2027-missing-actuals.xlsx (DOT) by "
            "dot-midyear-fy2027-clean.xlsx") in result.output
    assert rows(out, "Changes")[1:] == DOT_CHANGES
    superseded = [r for r in rows(out, "Sources") if r[0] == DOT_UNFINISHED.name]
    assert superseded[0][8:10] == ("Superseded", SOURCE)
    again = tmp_path / "again.xlsx"
    assert run("sync", out, DOT_UNFINISHED, DOT_MIDYEAR, "-o", again).exit_code == 0
    assert again.read_bytes() == out.read_bytes()


def test_an_update_with_errors_is_applied_and_its_findings_listed(citywide, tmp_path):
    out = tmp_path / "synced.xlsx"
    result = run("sync", citywide, DOT_UNFINISHED, "-o", out)
    assert result.exit_code == 1
    assert result.output.splitlines()[1] == (
        "DOT     Mid-Year Update       20       4         2  dot-midyear-fy2027-missing-actuals.xlsx")
    codes = [(r[2], r[4]) for r in rows(out, "Findings")[1:] if r[0] == "DOT"]
    assert codes == [(f"DOT › {f.location}", f.code)
                     for f in validate_workbook(DOT_UNFINISHED).findings]


def test_sync_refuses_what_is_not_an_update_of_this_plan(citywide, tmp_path):
    out = tmp_path / "out.xlsx"
    plan = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"
    result = run("sync", citywide, plan, "-o", out)
    assert result.exit_code == 2
    assert "bcfd-plan-fy2028-clean.xlsx is for fiscal year 2028; citywide-fy2027.xlsx is the " \
           "FY2027 plan." in result.output
    fy2027_plan = fy2027_plans(tmp_path / "plans") / "dot-plan-fy2027.xlsx"
    result = run("sync", citywide, fy2027_plan, "-o", out)
    assert result.exit_code == 2 and "dot-plan-fy2027.xlsx is a Plan, not an update" in result.output
    result = run("sync", citywide, DOT_MIDYEAR, "-o", citywide)
    assert result.exit_code == 2 and "is one of the inputs" in result.output
    mixed = mixed_years(tmp_path / "mixed.xlsx")   # as an older planvalidator wrote one
    result = run("sync", mixed, DOT_MIDYEAR, "-o", out)
    assert result.exit_code == 2
    assert "mixed.xlsx holds plans of fiscal years 2027 and 2028" in result.output
    result = run("sync", DOT_MIDYEAR, OPI_YEAREND, "-o", out)
    assert result.exit_code == 2 and "is not a consolidated plan" in result.output
    assert not out.exists()


def test_an_unreadable_update_is_left_out_by_name(citywide, tmp_path):
    junk = tmp_path / "minutes.xlsx"
    junk.write_text("not a workbook")
    out = tmp_path / "out.xlsx"
    result = run("sync", citywide, DOT_MIDYEAR, junk, "-o", out)
    assert result.exit_code == 2   # README: an unreadable input is exit 2 in sync too
    assert "Left out, unreadable: minutes.xlsx" in result.output
    assert [r[8] for r in rows(out, "Sources") if r[0] == "minutes.xlsx"] == ["Unreadable"]
    assert rows(out, "Changes")[1:] == DOT_CHANGES
    again = tmp_path / "again.xlsx"   # its findings and its Sources row carried, not doubled
    assert run("sync", out, DOT_MIDYEAR, junk, "-o", again).exit_code == 2
    assert again.read_bytes() == out.read_bytes()


def test_libreoffice_resaved_files_sync_the_same(citywide, midyear, tmp_path):
    """A consolidated plan and an update re-saved by LibreOffice give the same result."""
    out, _ = midyear
    city = convert(citywide, tmp_path / "lo-city")
    update = convert(DOT_MIDYEAR, tmp_path / "lo-update")
    synced = tmp_path / "synced.xlsx"
    result = run("sync", city, update, "-o", synced)
    assert result.exit_code == 0, result.output
    assert rows(synced, "Changes") == rows(out, "Changes")
    assert rows(synced, "Measures") == rows(out, "Measures")
    assert run("diff", out, synced, "--exit-code").exit_code == 0


# ---- roll forward -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rolled(midyear, tmp_path_factory) -> tuple[Path, str]:
    out, _ = midyear
    folder = tmp_path_factory.mktemp("fy2028")
    result = run("template", "build", "--fiscal-year", 2028, "--from", out, "-o", folder)
    assert result.exit_code == 0, result.output
    return folder, result.output


def test_roll_forward_prefills_next_years_templates(rolled):
    folder, output = rolled
    assert output.splitlines() == [
        str(folder / "plan-fy2028-BCFD.xlsx"), str(folder / "plan-fy2028-DOT.xlsx"),
        str(folder / "plan-fy2028-OPI.xlsx"),
        "Left out: BCFD service 608 Emergency Management (not in the FY2028 catalog), with its "
        "measures BCFD-608-01, BCFD-608-02"]
    dot = folder / "plan-fy2028-DOT.xlsx"
    services = [r[:5] for r in rows(dot, "Services")[3:] if r[0] is not None]
    assert services == [   # in the plan's order; names and pillars from the FY2028 catalog;
        (500, "Street Lighting", "Building Public Safety", None,   # a new year's budget
         "Operation and maintenance of about 79,000 streetlights."),
        (683, "Street Management", "Equitable Neighborhood Development", None,
         "Pothole repair, resurfacing and maintenance of City streets, alleys and footways."),
        (684, "Traffic Management", "Equitable Neighborhood Development", None,
         "Traffic signals, signs and markings, and signal timing."),
        (697, "Traffic Safety", "Building Public Safety", None,
         "Traffic-calming, school-zone safety and the Complete Streets safety program.")]
    measures = rows(dot, "Measures")
    assert measures[2][8:13] == ("FY2025 Actual", "FY2026 Actual", "FY2027 Target",
                                 "FY2027 Mid-Year Actual", "FY2028 Target")
    # FY2025 actual carried; no FY2026 actual in an FY2027 plan; the FY2027 target and mid-year
    # actual move into the prior-year columns; the FY2028 target and everything after it empty
    assert measures[4] == (
        "DOT-683-02", 683, "Potholes repaired", "Output", "Count", "Increase", "Monthly",
        "311 service requests (CSR)", 28940, None, 30000, 13620, None, None, "No", "No",
        None, None, None, None, None)
    assert [r[0] for r in measures[3:] if r[0]] == [
        "DOT-683-01", "DOT-683-02", "DOT-683-03", "DOT-683-04", "DOT-684-01", "DOT-684-02",
        "DOT-697-01", "DOT-697-02", "DOT-697-03", "DOT-500-01", "DOT-500-02"]
    bcfd = rows(folder / "plan-fy2028-BCFD.xlsx", "Measures")
    assert not [r for r in bcfd if r[0] and str(r[0]).startswith("BCFD-608")]
    assert [r[0] for r in rows(folder / "plan-fy2028-BCFD.xlsx", "Services")[3:] if r[0]] == [
        602, 609, 611, 614]


def test_rolled_forward_templates_open_in_libreoffice_and_need_only_targets(rolled, tmp_path):
    folder, _ = rolled
    expected = {"BCFD": 11, "DOT": 11, "OPI": 8}
    for code, count in expected.items():
        resaved = convert(folder / f"plan-fy2028-{code}.xlsx", tmp_path / code)
        report = validate_workbook(resaved)
        assert (report.agency, report.fiscal_year, report.stage) == (code, 2028, "Plan")
        assert [(f.sheet, f.cell, f.code) for f in report.findings] == [
            ("Agency", "B8", "required-missing"), ("Agency", "B9", "required-missing"),
            ("Agency", "B11", "required-missing")] + [
            ("Measures", f"M{row}", "missing-target") for row in range(4, 4 + count)]


def test_the_full_cycle_fy2027_plans_to_fy2028_merge(midyear, rolled, tmp_path):
    """The rolled-forward templates, filled in as agencies would, validate and merge clean."""
    folder, _ = rolled
    filled = tmp_path / "fy2028-plans"
    filled.mkdir()
    for path in sorted(folder.glob("*.xlsx")):
        wb = openpyxl.load_workbook(path)
        agency = wb["Agency"]
        for row in agency.iter_rows(min_row=4, max_col=2):
            label, value = row
            value.value = {"Prepared By": "Analyst", "Email": "analyst@baltimorecity.gov",
                           "Agency Head": "Director", "Head Approval": "Yes",
                           "Submission Date": dt.date(2027, 4, 14)}.get(label.value, value.value)
        ws = wb["Measures"]
        for r in range(4, ws.max_row + 1):
            last_target = ws.cell(r, 11).value   # FY2027 Target
            if ws.cell(r, 1).value:
                ws.cell(r, 13).value = last_target   # the FY2028 target: hold the line
        wb.save(filled / path.name)
        report = validate_workbook(filled / path.name)
        assert (report.errors, report.warnings) == (0, 0), [f.message for f in report.findings]
    out = tmp_path / "citywide-fy2028.xlsx"
    result = run("merge", filled, "-o", out)
    assert result.exit_code == 0, result.output
    summary = [r[:6] + r[8:10] for r in rows(out, "Summary")[2:-1]]   # title, header; Total
    assert summary == [
        ("BCFD", "Baltimore City Fire Department", 2028, "Plan", 4, 11, 0, 0),
        ("DOT", "Department of Transportation", 2028, "Plan", 4, 11, 0, 0),
        ("OPI", "Mayor's Office of Performance and Innovation", 2028, "Plan", 2, 8, 0, 0)]
    # the FY2028 plan against the FY2027 one: the same measures but BCFD's 608 ones
    diff = run("diff", midyear[0], out, "--format", "json")
    assert diff.exit_code == 0
    data = json.loads(diff.output)
    assert (data["old_fiscal_year"], data["new_fiscal_year"]) == (2027, 2028)
    assert [(d["agency"], d["measure_id"], d["change"]) for d in data["differences"]
            if d["change"] != "changed"] == [("BCFD", "BCFD-608-01", "removed"),
                                             ("BCFD", "BCFD-608-02", "removed")]


def test_roll_forward_agencies_and_errors(midyear, tmp_path):
    out, _ = midyear
    result = run("template", "build", "-y", 2028, "--from", out, "--agency", "DOT",
                 "--agency", "BPD", "-o", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[2] == ("BPD: no FY2027 plan to roll forward; its template "
                                             "is pre-filled from the FY2028 catalog only")
    result = run("template", "build", "-y", 2029, "--from", out, "-o", tmp_path)
    assert result.exit_code == 2   # no FY2029 schema
    result = run("template", "build", "-y", 2027, "--from", out, "-o", tmp_path)
    assert result.exit_code == 2 and "rolls forward to FY2028, not FY2027" in result.output
    result = run("template", "build", "-y", 2028, "--from", out, "--agency", "XYZ", "-o", tmp_path)
    assert result.exit_code == 2 and "XYZ" in result.output


def test_consolidated_plan_reads_back_into_the_same_plans(citywide):
    city = read_consolidated(citywide)
    assert city.schema is load_schema(2027)
    assert list(city.agencies) == ["BCFD", "DOT", "OPI"]
    dot = city.agencies["DOT"]
    assert (dot.name, dot.stage, dot.template_version, dot.submission_date) == (
        "dot-plan-fy2027.xlsx", "Plan", "2027.2", dt.date(2026, 4, 15))
    original = validate_workbook(citywide.parent / "plans" / "dot-plan-fy2027.xlsx")
    assert original.findings == [] and dot.report.findings == []
    assert dot.plan.measures.values["target"][:3] == [0.9, 30000, 200]


def test_history_moves_by_label():
    from planvalidator.citywide.rollforward import history_map
    assert history_map(load_schema(2027), load_schema(2028)) == {
        "actual_y3": "actual_y2",      # FY2025 Actual
        "target_y1": "target",         # FY2027 Target
        "midyear_y1": "midyear_actual"}  # FY2027 Mid-Year Actual (FY2026 Actual: not in FY2027)


def test_text_that_looks_like_a_formula_stays_text(citywide, tmp_path):
    wb = openpyxl.load_workbook(citywide)
    name = wb["Measures"]["F2"]   # BCFD-602-01's Measure Name
    name.value, name.data_type = '=HYPERLINK("http://x","click")', "s"
    plan = tmp_path / "citywide.xlsx"
    wb.save(plan)
    result = run("template", "build", "-y", 2028, "--from", plan, "--agency", "BCFD",
                 "-o", tmp_path / "out")
    assert result.exit_code == 0, result.output
    cell = openpyxl.load_workbook(tmp_path / "out" / "plan-fy2028-BCFD.xlsx")["Measures"]["C4"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://x","click")', "s")


def _marked(path, sheet="Measures") -> list[tuple]:
    """The consolidated sheet's filled cells: (agency, its row's ID, column, value), the ID
    being the Measure ID on Measures and the Service Number on Services."""
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[1]]
    at = header.index("Measure ID" if sheet == "Measures" else "Service Number")
    return [(row[0].value, row[at].value, header[c.column - 1], c.value)
            for row in ws.iter_rows(min_row=2) for c in row if c.fill.fill_type == "solid"]


def test_a_finding_stays_on_its_cell_when_another_agency_is_synced(tmp_path):
    """BCFD's target 'abc' and its second service's budget 'lots' are filled on the
    consolidated plan. After DOT's mid-year sync, BCFD was read back from the workbook, whose
    Measures sheet puts three agency columns first, and whose Services sheet has no blank row
    (BCFD's plan has one above its services): the target's fill moved three columns left, onto
    BCFD-602-01's FY2025 Actual, and the budget's to the next service's row (a finding without
    a measure ID is placed by its row, which read back is another)."""
    plans = fy2027_plans(tmp_path / "plans")
    bcfd = next(plans.glob("bcfd*"))
    wb = openpyxl.load_workbook(bcfd)
    ws = wb["Measures"]
    ws.cell(4, [c.value for c in ws[3]].index("FY2027 Target") + 1).value = "abc"
    ws = wb["Services"]
    ws.insert_rows(4)
    ws.cell(6, [c.value for c in ws[3]].index("Budget ($)") + 1).value = "lots"
    wb.save(bcfd)
    merged, synced = tmp_path / "city.xlsx", tmp_path / "mid.xlsx"
    assert run("merge", plans, "-o", merged).exit_code == 1
    assert run("sync", merged, DOT_MIDYEAR, "-o", synced).exit_code == 0
    for path in (merged, synced):
        assert _marked(path) == [("BCFD", "BCFD-602-01", "FY2027 Target", "abc")], path
        assert _marked(path, "Services") == [("BCFD", 609, "Budget ($)", "lots")], path
