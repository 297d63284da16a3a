"""diff: measure-level differences between two plans or two consolidated plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvalidator.cli import main
from planvalidator.citywide.diff import diff_files
from plans import mixed_years

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
UNFINISHED = EXAMPLES / "fy2027/dot-midyear-fy2027-missing-actuals.xlsx"
CLEAN = EXAMPLES / "fy2027/dot-midyear-fy2027-clean.xlsx"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_two_versions_of_an_update():
    result = run("diff", UNFINISHED, CLEAN)
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        "dot-midyear-fy2027-missing-actuals.xlsx → dot-midyear-fy2027-clean.xlsx (FY2027): "
        "10 values changed in 5 measures, 0 added, 0 removed",
        "  DOT  DOT-500-02  Mid-Year Actual     (empty) → 3600",
        "  DOT  DOT-500-02  Status              No Data → On Track",
        "  DOT  DOT-500-02  Status Explanation  The LED contractor's December report is late; "
        "the count will be in the third-quarter update. → (empty)",
        "  DOT  DOT-683-02  Mid-Year Actual     (empty) → 13620",
        "  DOT  DOT-683-02  Status              (empty) → At Risk",
        "  DOT  DOT-683-02  Status Explanation  (empty) → Two paving crews were assigned to snow "
        "response in January; they return to pothole repair in March.",
        "  DOT  DOT-683-03  Status Explanation  (empty) → The resurfacing contract was awarded in "
        "November, two months late; most paving happens April to June.",
        "  DOT  DOT-684-02  Mid-Year Actual     (empty) → 96",
        "  DOT  DOT-697-03  Status              On Track → Off Track",
        "  DOT  DOT-697-03  Status Explanation  (empty) → Two traffic engineer positions were "
        "vacant until November; assessments resume with a consultant in February.",
    ]


def test_json_equals_the_library_diff():
    result = run("diff", "--format", "json", UNFINISHED, CLEAN)
    data = json.loads(result.output)
    assert data == diff_files(UNFINISHED, CLEAN).as_dict()
    assert data["summary"] == {"changed_values": 10, "changed_measures": 5, "added": 0,
                               "removed": 0}
    assert data["differences"][0] == {"agency": "DOT", "measure_id": "DOT-500-02",
                                      "change": "changed", "field": "Mid-Year Actual",
                                      "key": "midyear_actual", "old": None, "new": 3600}


def test_exit_code_option():
    assert run("diff", CLEAN, CLEAN, "--exit-code").exit_code == 0
    assert run("diff", UNFINISHED, CLEAN, "--exit-code").exit_code == 1
    assert run("diff", UNFINISHED, CLEAN).exit_code == 0


def test_measures_added_and_removed_between_years():
    diff = diff_files(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", CLEAN)
    assert (diff.old_year, diff.new_year) == (2028, 2027)
    assert (diff.count("added"), diff.count("removed"), diff.count("changed")) == (11, 11, 0)
    assert {d.agency for d in diff.differences if d.change == "added"} == {"DOT"}


def test_a_plan_against_a_consolidated_plan_compares_that_agency(tmp_path):
    city = tmp_path / "citywide.xlsx"
    assert run("merge", CLEAN, "-o", city).exit_code == 0
    result = run("diff", city, UNFINISHED)
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        "citywide.xlsx → dot-midyear-fy2027-missing-actuals.xlsx (FY2027): 10 values changed in "
        "5 measures, 0 added, 0 removed")
    assert run("diff", city, city, "--exit-code").exit_code == 0


@pytest.mark.parametrize("bad", ["junk", "mixed"])
def test_unreadable_or_mixed_inputs_exit_2(tmp_path, bad):
    path = tmp_path / f"{bad}.xlsx"
    if bad == "junk":
        path.write_text("not a workbook")
    else:   # as an older planvalidator wrote one
        mixed_years(path)
    result = run("diff", path, CLEAN)
    assert result.exit_code == 2
    assert "Traceback" not in result.output and path.name in result.output
