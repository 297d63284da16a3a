"""The example workbooks in examples/: what the tool says about each, cell by cell.

The examples are documentation and test input at once. Each test below is the list of
(sheet, cell, code) an agency would see for one example, in report order; examples/README.md
explains the mistakes planted in each, and examples/build.py (which writes them) marks each
one with "# mistake:".
"""

from __future__ import annotations

import doctest
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvalidator.cli import main as cli
from planvalidator.rules.validate import validate_workbook
from plans import load_build

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CLEAN = ["bcfd-plan-fy2028-clean.xlsx", "fy2027/dot-midyear-fy2027-clean.xlsx",
         "fy2027/opi-yearend-fy2027-clean.xlsx"]


def findings(name: str) -> list[tuple[str, str, str]]:
    report = validate_workbook(EXAMPLES / name)
    return [(f.sheet, f.cell, f.code) for f in report.findings]


# ---- the clean ones ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", CLEAN)
def test_clean_example_has_no_findings(name):
    report = validate_workbook(EXAMPLES / name)
    assert (report.errors, report.warnings) == (0, 0)
    assert findings(name) == []


def test_clean_examples_cover_every_stage():
    stages = {validate_workbook(EXAMPLES / name).stage for name in CLEAN}
    assert stages == {"Plan", "Mid-Year Update", "Year-End Update"}


# ---- one kind of mistake each -----------------------------------------------------------------

def test_missing_and_placeholder_targets():
    assert findings("dpw-plan-fy2028-missing-targets.xlsx") == [
        ("Measures", "M6", "placeholder-target"),    # DPW-661-03 'N/A'
        ("Measures", "M9", "placeholder-target"),    # DPW-663-03 'TBD'
        ("Measures", "M10", "missing-target"),       # DPW-663-04 empty
        ("Measures", "M11", "missing-target"),       # DPW-671-01 empty
    ]


def test_percents_and_numbers_typed_as_text():
    assert findings("bchd-plan-fy2028-percent-as-text.xlsx") == [
        ("Measures", "M4", "percent-out-of-range"),  # 85 in a Percent measure
        ("Measures", "M7", "value-interpreted"),     # the text '85%', read as 0.85 (info)
        ("Measures", "M8", "not-a-number"),          # 'about 40'
    ]


def test_text_percent_is_only_a_note():
    report = validate_workbook(EXAMPLES / "bchd-plan-fy2028-percent-as-text.xlsx")
    [note] = [f for f in report.findings if f.code == "value-interpreted"]
    assert (note.severity, note.value) == ("info", "85%")
    assert (report.errors, report.warnings) == (2, 0)


def test_values_outside_the_dropdowns():
    assert findings("bpd-plan-fy2028-not-in-list.xlsx") == [
        ("Measures", "O4", "not-in-list"),           # Key Measure 'Y'
        ("Measures", "D7", "not-in-list"),           # Measure Type 'Outcomes'
        ("Measures", "G11", "not-in-list"),          # Reporting Frequency 'Yearly'
    ]


def test_unknown_and_uncatalogued_services():
    assert findings("mocfs-plan-fy2028-unknown-service.xlsx") == [
        ("Measures", "B11", "unknown-service"),      # MOCFS-741-01: 741 is not on Services
        ("Services", "A7", "service-not-in-catalog"),  # 385 is not in the FY2028 catalog
    ]


def test_duplicate_and_malformed_measure_ids():
    assert findings("bcrp-plan-fy2028-duplicate-ids.xlsx") == [
        ("Measures", "A7", "duplicate-measure-id"),  # BCRP-648-02 ...
        ("Measures", "A8", "duplicate-measure-id"),  # ... copied without renumbering
        ("Measures", "A9", "bad-measure-id"),        # 'BCRP648-3'
    ]


def test_unfinished_midyear_update():
    assert findings("fy2027/dot-midyear-fy2027-missing-actuals.xlsx") == [
        ("Measures", "Q5", "missing-midyear-actual"),       # DOT-683-02: no actual ...
        ("Measures", "S5", "required-missing"),             # ... and no status
        ("Measures", "T6", "missing-status-explanation"),   # DOT-683-03: Off Track, unexplained
        ("Measures", "Q9", "missing-midyear-actual"),       # DOT-684-02: no actual ...
        ("Measures", "S9", "status-inconsistent"),          # ... yet On Track
        ("Measures", "S12", "status-inconsistent"),         # DOT-697-03: On Track at 0.70 of 0.85
        # DOT-500-02 (row 14) has no actual but Status No Data with an explanation: fine.
    ]


def test_last_years_template():
    # The plan says Fiscal Year 2028 on its Agency sheet, so it is judged by the FY2028 schema;
    # its FY2027 header row lacks the FY2028 year columns.
    assert findings("dhcd-plan-fy2028-outdated-template.xlsx") == [
        ("Agency", "B6", "template-outdated"),        # made from the FY2027 template
        ("Measures", "", "missing-column"),           # FY2026 Actual
        ("Measures", "", "missing-column"),           # FY2027 Mid-Year Actual
        ("Measures", "", "missing-column"),           # FY2028 Target
    ]


def test_last_years_template_names_the_missing_columns():
    report = validate_workbook(EXAMPLES / "dhcd-plan-fy2028-outdated-template.xlsx")
    assert [f.column for f in report.findings if f.code == "missing-column"] == [
        "FY2026 Actual", "FY2027 Mid-Year Actual", "FY2028 Target"]
    assert (report.fiscal_year, report.template_version) == (2028, "2027.2")


# ---- all of them ------------------------------------------------------------------------------

WHAT_EACH_IS = {  # file: (agency, fiscal year, stage, errors, warnings)
    "bcfd-plan-fy2028-clean.xlsx": ("BCFD", 2028, "Plan", 0, 0),
    "fy2027/dot-midyear-fy2027-clean.xlsx": ("DOT", 2027, "Mid-Year Update", 0, 0),
    "fy2027/opi-yearend-fy2027-clean.xlsx": ("OPI", 2027, "Year-End Update", 0, 0),
    "dpw-plan-fy2028-missing-targets.xlsx": ("DPW", 2028, "Plan", 4, 0),
    "bchd-plan-fy2028-percent-as-text.xlsx": ("BCHD", 2028, "Plan", 2, 0),
    "bpd-plan-fy2028-not-in-list.xlsx": ("BPD", 2028, "Plan", 3, 0),
    "mocfs-plan-fy2028-unknown-service.xlsx": ("MOCFS", 2028, "Plan", 2, 0),
    "bcrp-plan-fy2028-duplicate-ids.xlsx": ("BCRP", 2028, "Plan", 3, 0),
    "fy2027/dot-midyear-fy2027-missing-actuals.xlsx": ("DOT", 2027, "Mid-Year Update", 4, 2),
    "dhcd-plan-fy2028-outdated-template.xlsx": ("DHCD", 2028, "Plan", 4, 0),
}


def test_every_example_is_covered():
    assert sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.xlsx")) \
        == sorted(WHAT_EACH_IS)


@pytest.mark.parametrize("name", sorted(WHAT_EACH_IS))
def test_example_report_and_exit_code(name):
    report = validate_workbook(EXAMPLES / name)
    assert (report.agency, report.fiscal_year, report.stage, report.errors,
            report.warnings) == WHAT_EACH_IS[name]
    result = CliRunner().invoke(cli, ["validate", str(EXAMPLES / name)])
    assert result.exit_code == (1 if report.errors else 0), result.output


def test_build_reproduces_the_committed_examples(tmp_path):
    subprocess.run([sys.executable, str(EXAMPLES / "build.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    built = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.xlsx"))
    assert built == sorted(WHAT_EACH_IS)
    stale = [name for name in built if (tmp_path / name).read_bytes()
             != (EXAMPLES / name).read_bytes()]
    assert stale == [], f"run `python examples/build.py` and commit the result: {stale}"


# ---- examples/README.md -----------------------------------------------------------------------

def test_readme_shows_the_real_output():
    build = load_build()
    text = build.README.read_text(encoding="utf-8")
    assert build.readme_with_output(text) == text, (
        "examples/README.md shows outdated output: run `python examples/build.py --readme`")


def test_readme_python_session(monkeypatch):
    monkeypatch.chdir(EXAMPLES.parent)
    result = doctest.testfile(str(EXAMPLES / "README.md"), module_relative=False,
                              optionflags=doctest.ELLIPSIS)
    assert (result.failed, result.attempted > 0) == (0, True)
