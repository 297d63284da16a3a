"""A template from `template build`, filled by the test, validated as written by openpyxl and
as re-saved by LibreOffice: the same findings either way."""

from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from libreoffice import convert
from planvalidator.cli import main
from planvalidator.rules.validate import validate_workbook
from plans import fill_template, measure, sheets


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("templates")
    result = CliRunner().invoke(main, ["template", "build", "--fiscal-year", "2028",
                                       "--agency", "BCFD", "-o", str(out)])
    assert result.exit_code == 0, result.output
    return Path(result.output.strip())


def filled(template: Path, data: dict, path: Path) -> Path:
    wb = openpyxl.load_workbook(template)
    fill_template(wb, data)
    wb.save(path)
    return path


def located(report):
    return [(f.sheet, f.cell, f.code, f.message) for f in report.findings]


PLANTED = sheets([
    measure("BCFD-609-01", target=None),
    measure("BCFD-609-02", unit="Percent", actual_y3=0.7, actual_y2=0.75, target_y1=0.8,
            midyear_y1=0.78, target="85%"),
    measure("BCFD-609-03", measure_type="Outcomes", target="TBD"),
    measure("BCFD-602-01", 602, target="about 40"),
    measure("BCFD-602-01", 602, service_number=611, target=-5),
])


def test_filled_template_is_clean_and_stays_clean_through_libreoffice(template, tmp_path):
    path = filled(template, sheets(), tmp_path / "plan.xlsx")
    assert validate_workbook(path).findings == []
    resaved = convert(path, tmp_path / "lo")
    assert validate_workbook(resaved).findings == []


def test_planted_mistakes_give_the_same_findings_after_libreoffice(template, tmp_path):
    path = filled(template, PLANTED, tmp_path / "plan.xlsx")
    report = validate_workbook(path)
    assert [(s, c, code) for s, c, code, _ in located(report)] == [
        ("Measures", "M4", "missing-target"),
        ("Measures", "M5", "value-interpreted"),
        ("Measures", "D6", "not-in-list"),
        ("Measures", "M6", "placeholder-target"),
        ("Measures", "A7", "duplicate-measure-id"),
        ("Measures", "M7", "not-a-number"),
        ("Measures", "A8", "bad-measure-id"),
        ("Measures", "A8", "duplicate-measure-id"),
        ("Measures", "B8", "unknown-service"),
        ("Measures", "M8", "negative-value"),
        ("Measures", "M8", "target-below-baseline"),
    ]
    resaved = convert(path, tmp_path / "lo")
    assert located(validate_workbook(resaved)) == located(report)


def test_formula_errors_are_found_in_both_writers(template, tmp_path):
    data = sheets()
    data["Measures"][3][12] = "=1/0"          # no cached value from openpyxl; #DIV/0! from LibreOffice
    path = filled(template, data, tmp_path / "plan.xlsx")
    assert [(f.cell, f.code) for f in validate_workbook(path).findings] == [("M4", "formula-error")]
    resaved = validate_workbook(convert(path, tmp_path / "lo"))
    assert [(f.cell, f.code, f.value) for f in resaved.findings] == [("M4", "formula-error", "#DIV/0!")]
