"""The consolidated workbook agrees with itself and is fit to publish (issue 9, items 4 and 5):
one count of measures without a target, superseded submissions' findings marked, Sources'
result = Summary's status, invalid values marked in Measures; the Summary's title and Total
row, headers that fit, the first column frozen, the plan's name in the document properties,
named fonts, number formats without a trailing ".", and Changes shown as Excel shows values.

Everything is read back from the written workbook with openpyxl and compared with literal
values.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from planvalidator.cli import main
from plans import DOT_MIDYEAR, OPI_YEAREND, fy2027_plans, measure, plan_file, sheets

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FY2028 = sorted(EXAMPLES.glob("*fy2028*.xlsx"))
RED, AMBER = "00FFC7CE", "00FFEB9C"
WIDE = ("Measures", "Services", "Findings", "Sources")


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("agrees") / "citywide-fy2028.xlsx"
    result = run("merge", *FY2028, "-o", out)
    assert result.exit_code == 1, result.output   # the examples hold errors on purpose
    return out


def book(path):
    return openpyxl.load_workbook(path)


def fill(cell) -> str | None:
    return cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None


def by_agency(ws, header_row: int, column: str) -> dict:
    labels = [c.value for c in ws[header_row]]
    c = labels.index(column)
    return {row[0]: row[c] for row in ws.iter_rows(min_row=header_row + 1, values_only=True)
            if row[0]}


# --- item 4: the workbook agrees with itself ----------------------------------------------

def test_one_count_of_measures_without_a_target(city, tmp_path):
    data = json.loads(run("merge", *FY2028, "-o", tmp_path / "c.xlsx", "--format", "json").output)
    assert {a["agency"]: a["missing_targets"] for a in data["agencies"]} == {
        "BCFD": 0, "BCHD": 1, "BCRP": 0, "BPD": 0, "DHCD": 8, "DPW": 4, "MOCFS": 0}
    assert data["totals"]["missing_targets"] == 13
    wb = book(city)
    # DHCD's outdated template has no FY2028 Target column: all 8 of its measures lack one;
    # BCHD's 'about 40' is no number; DPW has N/A, TBD and two empty targets.
    assert by_agency(wb["Summary"], 2, "Missing Targets") == {
        "BCFD": 0, "BCHD": 1, "BCRP": 0, "BPD": 0, "DHCD": 8, "DPW": 4, "MOCFS": 0, "Total": 13}
    pillar = list(wb["By Pillar"].iter_rows(values_only=True))
    assert pillar[0][-1] == "Without Target" and pillar[-1][0] == "Total"
    assert pillar[-1][-1] == 13


def test_sources_result_is_summarys_status(city):
    wb = book(city)
    status = {row[12]: row[13] for row in wb["Summary"].iter_rows(min_row=3, values_only=True)
              if row[12]}
    result = {row[0]: row[8] for row in wb["Sources"].iter_rows(min_row=2, values_only=True)}
    assert result == status == {
        "bcfd-plan-fy2028-clean.xlsx": "Accepted",
        "bchd-plan-fy2028-percent-as-text.xlsx": "Needs revision",
        "bcrp-plan-fy2028-duplicate-ids.xlsx": "Needs revision",
        "bpd-plan-fy2028-not-in-list.xlsx": "Needs revision",
        "dhcd-plan-fy2028-outdated-template.xlsx": "Needs revision",
        "dpw-plan-fy2028-missing-targets.xlsx": "Needs revision",
        "mocfs-plan-fy2028-unknown-service.xlsx": "Needs revision"}


def test_superseded_submissions_findings_say_so(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    old = shutil.copy(EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx", src / "dpw-first.xlsx")
    new = shutil.copy(EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx", src / "dpw-second.xlsx")
    os.utime(old, (1_800_000_000, 1_800_000_000))   # same typed date: received first
    os.utime(new, (1_800_086_400, 1_800_086_400))
    out = tmp_path / "c.xlsx"
    assert run("merge", src, "-o", out).exit_code == 1
    findings = list(book(out)["Findings"].iter_rows(values_only=True))
    assert findings[0][-1] == "Submission"
    assert [(r[1], r[4], r[-1]) for r in findings[1:]] == [
        ("dpw-first.xlsx", "placeholder-target", "Superseded"),
        ("dpw-first.xlsx", "placeholder-target", "Superseded"),
        ("dpw-first.xlsx", "missing-target", "Superseded"),
        ("dpw-first.xlsx", "missing-target", "Superseded"),
        ("dpw-second.xlsx", "placeholder-target", "Accepted"),
        ("dpw-second.xlsx", "placeholder-target", "Accepted"),
        ("dpw-second.xlsx", "missing-target", "Accepted"),
        ("dpw-second.xlsx", "missing-target", "Accepted")]
    sources = {r[0]: r[8] for r in book(out)["Sources"].iter_rows(min_row=2, values_only=True)}
    assert sources == {"dpw-first.xlsx": "Superseded", "dpw-second.xlsx": "Needs revision"}


def test_cells_with_findings_are_marked_in_measures_and_services(city):
    wb = book(city)
    marked = {}
    for sheet, key in (("Measures", 3), ("Services", 3)):
        ws = wb[sheet]
        labels = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if fill(cell):
                    marked[sheet, row[key].value, labels[cell.column - 1]] = (
                        cell.value, fill(cell), cell.number_format)
    assert marked == {
        ("Measures", "BCHD-305-01", "FY2028 Target"): (85, RED, "0.0%"),  # shown as 8500.0%
        ("Measures", "BCHD-308-03", "FY2028 Target"): ("about 40", RED, "#,##0"),
        ("Measures", "BCRP-648-02", "Measure ID"): ("BCRP-648-02", RED, "General"),
        ("Measures", "BCRP648-3", "Measure ID"): ("BCRP648-3", RED, "General"),
        ("Measures", "BPD-622-01", "Key Measure"): ("Y", RED, "General"),
        ("Measures", "BPD-623-01", "Measure Type"): ("Outcomes", RED, "General"),
        ("Measures", "BPD-635-02", "Reporting Frequency"): ("Yearly", RED, "General"),
        ("Measures", "DPW-661-03", "FY2028 Target"): ("N/A", RED, "#,##0"),
        ("Measures", "DPW-663-03", "FY2028 Target"): ("TBD", RED, "0.0%"),
        ("Measures", "DPW-663-04", "FY2028 Target"): (None, RED, "#,##0"),   # empty, marked
        ("Measures", "DPW-671-01", "FY2028 Target"): (None, RED, "#,##0"),
        ("Measures", "MOCFS-741-01", "Service Number"): (741, RED, "0"),
        ("Services", 385, "Service Number"): (385, RED, "0"),
    }
    # the duplicate ID is marked on both its rows; a clean plan has no mark at all
    ids = [r[3] for r in wb["Measures"].iter_rows(min_row=2) if fill(r[3])]
    assert [c.value for c in ids] == ["BCRP-648-02", "BCRP-648-02", "BCRP648-3"]


def test_a_warning_marks_its_cell_amber_and_an_error_beats_a_warning(tmp_path):
    plan_file(tmp_path / "bcfd.xlsx", sheets([
        measure("BCFD-609-01", 609, target=0),                  # zero-target: a warning
        measure("BCFD-602-01", 602, target=-5)]))               # negative-value: an error
    out = tmp_path / "out" / "c.xlsx"
    out.parent.mkdir()
    run("merge", tmp_path / "bcfd.xlsx", "-o", out)
    ws = book(out)["Measures"]
    target = [c.value for c in ws[1]].index("FY2028 Target")
    assert [(r[3].value, r[target].value, fill(r[target])) for r in ws.iter_rows(min_row=2)] == [
        ("BCFD-609-01", 0, AMBER), ("BCFD-602-01", -5, RED)]


# --- item 5: fit to hand to the Mayor ------------------------------------------------------

def test_summary_title_total_and_headers_that_fit(city):
    ws = book(city)["Summary"]
    assert ws["A1"].value == ("FY2028 Citywide Performance Plan — Summary of the agencies' "
                              "plans, 2000-01-01")
    assert ws["A1"].font.b and ws["A1"].font.name == "Calibri"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[-1] == ("Total", None, None, None, 23, 64, 32, 13, 18, 0, None, None, None, None)
    assert ws.cell(len(rows), 1).font.b
    assert ws.tables["Summary"].ref == "A2:N9"   # the Total row is not a data row
    # every header word fits its column, and the row is tall enough for the wrapped labels
    assert ws.row_dimensions[2].height == 30
    for cell in ws[2]:
        width = ws.column_dimensions[cell.column_letter].width
        assert max(len(w) for w in cell.value.split()) + 2 <= width, cell.value
        assert cell.alignment.wrap_text


def test_summary_title_date_is_the_merge_time_with_timestamp(tmp_path):
    out = tmp_path / "c.xlsx"
    run("merge", FY2028[0], "-o", out, "--timestamp")
    title = book(out)["Summary"]["A1"].value
    created = book(out).properties.created.date().isoformat()
    assert title == ("FY2028 Citywide Performance Plan — Summary of the agencies' plans, "
                     f"{created}")
    assert created != "2000-01-01"


def test_first_column_frozen_on_wide_sheets(city):
    wb = book(city)
    assert {name: wb[name].freeze_panes for name in WIDE + ("Summary",)} == {
        "Measures": "B2", "Services": "B2", "Findings": "B2", "Sources": "B2", "Summary": "B3"}


def test_document_properties_name_the_plan(city):
    props = book(city).properties
    assert (props.title, props.creator, props.lastModifiedBy) == (
        "FY2028 Citywide Performance Plan", "planvalidator", "planvalidator")


def test_every_font_we_set_is_named(city):
    wb = book(city)
    unnamed = [(ws.title, c.coordinate) for ws in wb for row in ws.iter_rows() for c in row
               if c.has_style and c.font.name != "Calibri"]
    assert unnamed == []


def test_whole_numbers_have_no_trailing_point(city, tmp_path):
    ws = book(city)["Measures"]
    labels = [c.value for c in ws[1]]
    formats = {}
    for row in ws.iter_rows(min_row=2):
        if row[3].value in ("BCFD-602-03", "BCFD-614-02"):
            for c in ("FY2026 Actual", "FY2028 Target"):
                cell = row[labels.index(c)]
                formats[row[3].value, c] = (cell.value, cell.number_format)
    assert formats == {("BCFD-602-03", "FY2026 Actual"): (12310, "#,##0"),
                       ("BCFD-602-03", "FY2028 Target"): (12300, "#,##0"),
                       ("BCFD-614-02", "FY2026 Actual"): (1.2, "#,##0.0##"),
                       ("BCFD-614-02", "FY2028 Target"): (1, "#,##0")}   # not "1."
    # as LibreOffice shows them: each sheet as CSV, cells as shown (UTF-8, all sheets)
    profile = tmp_path / ".lo-profile"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,"
                    "true,false,false,-1", "--outdir", str(tmp_path), str(city)],
                   check=True, capture_output=True, timeout=180)
    shown = (tmp_path / f"{city.stem}-Measures.csv").read_text(encoding="utf-8")
    rows = {row[3]: row[11:16] for row in csv.reader(io.StringIO(shown))}
    assert rows["BCFD-614-02"] == ["1.3", "1.2", "1.1", "1.15", "1"]
    assert rows["BCFD-602-03"] == ["11,840", "12,310", "12,000", "6,090", "12,300"]
    assert rows["BCHD-305-01"] == ["72.0%", "79.0%", "85.0%", "81.0%", "8500.0%"]  # marked red


def test_changes_are_shown_as_excel_shows_values(tmp_path):
    city = tmp_path / "citywide-fy2027.xlsx"
    assert run("merge", fy2027_plans(tmp_path / "plans"), "-o", city).exit_code == 0
    out = tmp_path / "midyear.xlsx"
    assert run("sync", city, DOT_MIDYEAR, "-o", out).exit_code == 0
    ws = book(out)["Changes"]
    assert ws.freeze_panes == "B2"
    shown = {(r[1].value, r[2].value): (r[4].value, r[4].number_format)
             for r in ws.iter_rows(min_row=2) if isinstance(r[4].value, (int, float))}
    assert shown == {
        ("DOT-683-01", "Mid-Year Actual"): (0.91, "0.0%"),   # a Percent measure: 91.0%
        ("DOT-683-02", "Mid-Year Actual"): (13620, "#,##0"),
        ("DOT-683-03", "Mid-Year Actual"): (62, "#,##0"),
        ("DOT-683-04", "Mid-Year Actual"): (1.8, "#,##0.0##"),
        ("DOT-684-01", "Mid-Year Actual"): (0.9, "0.0%"),
        ("DOT-684-02", "Mid-Year Actual"): (96, "#,##0"),
        ("DOT-697-01", "Mid-Year Actual"): (19, "#,##0"),
        ("DOT-697-02", "Mid-Year Actual"): (77, "#,##0"),
        ("DOT-697-03", "Mid-Year Actual"): (0.7, "0.0%"),
        ("DOT-500-01", "Mid-Year Actual"): (0.86, "0.0%"),
        ("DOT-500-02", "Mid-Year Actual"): (3600, "#,##0")}


def test_dollar_measures_are_shown_as_dollars(tmp_path):
    """A measure whose unit is the schema's dollars unit (OPI-125-02, savings) shows its values
    as $ on Measures and on Changes, as a Percent measure shows them as %."""
    city = tmp_path / "citywide-fy2027.xlsx"
    assert run("merge", fy2027_plans(tmp_path / "plans"), "-o", city).exit_code == 0
    out = tmp_path / "yearend.xlsx"
    assert run("sync", city, OPI_YEAREND, "-o", out).exit_code == 0
    ws = book(out)["Measures"]
    labels = [c.value for c in ws[1]]
    target = labels.index("FY2027 Target")
    shown = {r[3].value: (r[target].value, r[target].number_format)
             for r in ws.iter_rows(min_row=2) if r[0].value == "OPI"}
    assert shown["OPI-125-02"] == (2_200_000, '"$"#,##0')     # Dollars
    assert shown["OPI-125-03"] == (0.8, "0.0%")               # Percent
    assert shown["OPI-125-01"] == (14, "#,##0")               # Count
    changes = {(r[1].value, r[2].value): (r[4].value, r[4].number_format)
               for r in book(out)["Changes"].iter_rows(min_row=2)}
    assert changes["OPI-125-02", "Year-End Actual"] == (2_350_000, '"$"#,##0')
    assert changes["OPI-125-03", "Year-End Actual"] == (0.81, "0.0%")
