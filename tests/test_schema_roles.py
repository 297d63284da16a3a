"""The YAML owns every value the rules use: rename a role-bearing value in the YAML (its list
and its role) and the rule still fires on a plan that uses the new spelling; rename it in the
list alone and the schema is refused, naming the key, by the loader and by `schema check`."""

import shutil
from pathlib import Path

import openpyxl
import pytest
import yaml
from click.testing import CliRunner

from planvalidator.cli import main
from planvalidator.citywide.consolidated.write import write_consolidated
from planvalidator.citywide.merge import merge
from planvalidator.output.templates import build_workbook
from planvalidator.rules.checks import RULES
from planvalidator.rules.rule import filled
from planvalidator.rules.validate import validate_workbook
from planvalidator.schema.loader import MISSING_CODES, SchemaError, load_schema
from plans import SERVICES, fill_template, measure, sheets

ROOT = Path(__file__).resolve().parent.parent
MIDYEAR = {"Plan Stage": "Mid-Year Update"}


def _swap(node, old, new):
    if isinstance(node, dict):
        return {_swap(k, old, new): _swap(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_swap(v, old, new) for v in node]
    return new if node == old else node


def schema_file(tmp_path, edit) -> Path:
    """A copy of schemas/ whose fy2028.yaml is edit(doc)."""
    folder = tmp_path / "schemas"
    shutil.copytree(ROOT / "schemas", folder)
    path = folder / "fy2028.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(edit(doc), sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path


def renamed(tmp_path, old, new):
    """The FY2028 schema with the value `old` spelled `new` everywhere in its YAML."""
    return load_schema(path=schema_file(tmp_path, lambda doc: _swap(doc, old, new)))


def plan_path(tmp_path, schema, measures, services=SERVICES, agency=None) -> Path:
    """A real .xlsx: BCFD's template built from `schema`, filled with the plan."""
    wb = build_workbook(schema, "BCFD")
    fill_template(wb, sheets(measures, services, agency, schema=schema))
    path = tmp_path / "plan.xlsx"
    wb.save(path)
    return path


def validated(tmp_path, schema, measures, **kw):
    report = validate_workbook(plan_path(tmp_path, schema, measures, **kw), schema=schema)
    return [(f.sheet, f.cell, f.code) for f in report.findings], report


# --- statuses ----------------------------------------------------------------------------

def test_renamed_off_track_still_needs_an_explanation(tmp_path):
    schema = renamed(tmp_path, "Off Track", "Off track")
    found, report = validated(tmp_path, schema, [
        measure(midyear_actual=10, status="Off track"),
        measure("BCFD-602-01", 602, midyear_actual=70, status="On Track")], agency=MIDYEAR)
    assert found == [("Measures", "T4", "missing-status-explanation")]
    assert "while Status is Off track" in report.findings[0].message


def test_renamed_at_risk_still_needs_an_explanation(tmp_path):
    schema = renamed(tmp_path, "At Risk", "At risk")
    found, _ = validated(tmp_path, schema, [
        measure(midyear_actual=57, status="At risk"),          # 57 of the half-year 60
        measure("BCFD-602-01", 602, midyear_actual=70, status="On Track")], agency=MIDYEAR)
    assert found == [("Measures", "T4", "missing-status-explanation")]


def test_renamed_on_track_is_still_judged_against_the_actual(tmp_path):
    schema = renamed(tmp_path, "On Track", "On track")
    found, report = validated(tmp_path, schema, [
        measure(midyear_actual=10, status="On track"),
        measure("BCFD-602-01", 602, midyear_actual=70, status="On track")], agency=MIDYEAR)
    assert found == [("Measures", "S4", "status-inconsistent")]
    assert report.findings[0].message.endswith("looks Off Track.")


def test_renamed_no_data_still_waives_actuals_and_is_judged(tmp_path):
    schema = renamed(tmp_path, "No Data", "No data")
    found, _ = validated(tmp_path, schema, [
        measure(midyear_actual=None, status="No data", status_explanation="System down"),
        measure("BCFD-602-01", 602, midyear_actual=70, status="No data",
                status_explanation="Late")], agency=MIDYEAR)
    assert found == [("Measures", "S5", "status-inconsistent")]


def test_computed_status_in_the_consolidated_plan_uses_the_new_spelling(tmp_path):
    schema = renamed(tmp_path, "Off Track", "Off track")
    path = plan_path(tmp_path, schema, [
        measure(midyear_actual=10, status="Off track", status_explanation="Staffing"),
        measure("BCFD-602-01", 602, midyear_actual=70, status="On Track")], agency=MIDYEAR)
    out = tmp_path / "city.xlsx"
    write_consolidated(merge([path], schema=schema), out)
    ws = openpyxl.load_workbook(out)["Measures"]
    assert [ws.cell(r, ws.max_column).value for r in range(1, 4)] == [
        "Computed Status", "Off track", "On Track"]


# --- directions --------------------------------------------------------------------------

@pytest.mark.parametrize("old, new, target", [("Increase", "Up", 100), ("Decrease", "Down", 130)])
def test_renamed_direction_still_compares_the_target_with_the_baseline(tmp_path, old, new, target):
    schema = renamed(tmp_path, old, new)
    found, _ = validated(tmp_path, schema, [     # the last actual is 110
        measure(direction=new, target=target),
        measure("BCFD-602-01", 602, direction="Up" if old == "Increase" else "Increase")])
    assert found == [("Measures", "M4", "target-below-baseline")]


def test_renamed_maintain_still_allows_drift_both_ways(tmp_path):
    schema = renamed(tmp_path, "Maintain", "Hold")
    # 125 against 100: far above a target to hold is Off Track (as Increase it would be On Track)
    found, _ = validated(tmp_path, schema, [
        measure(unit="Score", direction="Hold", target=100, midyear_actual=125, status="On Track"),
        measure("BCFD-602-01", 602, midyear_actual=70, status="On Track")], agency=MIDYEAR)
    assert found == [("Measures", "S4", "status-inconsistent")]


# --- stages ------------------------------------------------------------------------------

def test_renamed_plan_stage_is_still_not_a_reporting_stage(tmp_path):
    schema = renamed(tmp_path, "Plan", "Proposal")
    found, report = validated(tmp_path, schema, [
        measure(status="Off Track"), measure("BCFD-602-01", 602)],
        agency={"Plan Stage": "Proposal"})
    assert report.stage == "Proposal" and found == []


def test_renamed_midyear_stage_still_requires_midyear_actuals(tmp_path):
    schema = renamed(tmp_path, "Mid-Year Update", "Mid-year update")
    found, report = validated(tmp_path, schema, [
        measure(midyear_actual=None, status="No Data"),
        measure("BCFD-602-01", 602, midyear_actual=70, status="On Track")],
        agency={"Plan Stage": "Mid-year update"})
    assert found == [("Measures", "Q4", "missing-midyear-actual")]
    assert "a Mid-year update reports" in report.findings[0].message


def test_renamed_yearend_stage_still_requires_yearend_actuals(tmp_path):
    schema = renamed(tmp_path, "Year-End Update", "Year-end update")
    found, report = validated(tmp_path, schema, [
        measure(midyear_actual=70, yearend_actual=None, status="No Data"),
        measure("BCFD-602-01", 602, midyear_actual=30, yearend_actual=130, status="On Track")],
        agency={"Plan Stage": "Year-end update"})
    # 602-01: the year-end actual (130), not the mid-year one (30), is judged: On Track
    assert found == [("Measures", "R4", "missing-yearend-actual")]
    assert "a Year-end update reports" in report.findings[0].message



def test_validate_stage_is_spelled_as_the_schema_spells_it(tmp_path):
    """validate --stage was a fixed list of the bundled spellings: a renamed stage could not be
    asked for, and any other was refused in click's words, not with the schema's stages."""
    path = schema_file(tmp_path, lambda doc: _swap(doc, "Mid-Year Update", "Mid-year update"))
    plan = plan_path(tmp_path, load_schema(path=path), [
        measure(midyear_actual=None, status="No Data"),
        measure("BCFD-602-01", 602, midyear_actual=70, status="On Track")])
    for chosen in (["--schema", path], ["--schemas", path.parent]):   # one schema; each plan's
        def validate(stage):
            return CliRunner().invoke(main, ["validate", *map(str, chosen), "--stage", stage,
                                             str(plan)])
        result = validate("Mid-year update")
        assert result.exit_code == 1 and "missing-midyear-actual" in result.output, result.output
        assert validate("Mid-Year Update").output == (
            "Error: --stage Mid-Year Update: the FY2028 stages are Plan, Mid-year update, "
            "Year-End Update.\n")
        assert validate("Mid-Year Update").exit_code == 2

# --- units and measure types ---------------------------------------------------------------

def test_renamed_percent_unit_still_bounds_percents(tmp_path):
    schema = renamed(tmp_path, "Percent", "Pct")
    found, report = validated(tmp_path, schema, [
        measure(unit="Pct", actual_y3=None, actual_y2=None, target_y1=None, midyear_y1=None,
                target=85),
        measure("BCFD-602-01", 602)])
    assert found == [("Measures", "M4", "percent-out-of-range")]
    assert "in a Pct measure" in report.findings[0].message
    rules = build_workbook(schema)["Measures"].conditional_formatting
    assert {f for cf in rules for r in cf.rules for f in r.formula} == {'$E4="Pct"'}


def test_renamed_cumulative_unit_is_still_halved_at_midyear(tmp_path):
    schema = renamed(tmp_path, "Count", "Tally")
    # 70 against half of 120 is On Track, so Off Track contradicts it
    found, _ = validated(tmp_path, schema, [
        measure(unit="Tally", midyear_actual=70, status="Off Track", status_explanation="?"),
        measure("BCFD-602-01", 602, unit="Tally", midyear_actual=70, status="On Track")],
        agency=MIDYEAR)
    assert found == [("Measures", "S4", "status-inconsistent")]


@pytest.mark.parametrize("old, new", [("Outcome", "Result"), ("Effectiveness", "Effect")])
def test_renamed_outcome_type_still_counts_as_outcome(tmp_path, old, new):
    schema = renamed(tmp_path, old, new)
    found, report = validated(tmp_path, schema, [
        measure(measure_type=new), measure("BCFD-602-01", 602, measure_type="Output")])
    assert found == [("Services", "A5", "no-outcome-measure")]   # 609 has its `new` measure
    assert new in report.findings[0].message


def test_renamed_yes_still_marks_key_measures(tmp_path):
    schema = renamed(tmp_path, "Yes", "Y")
    path = plan_path(tmp_path, schema, [
        measure(key_measure="Y", equity_focus=None),
        measure("BCFD-602-01", 602, key_measure="No", equity_focus=None)],
        agency={"Head Approval": "Y"})
    out = tmp_path / "city.xlsx"
    cons = merge([path], schema=schema)
    assert cons.accepted[0].report.findings == []
    write_consolidated(cons, out)
    summary = openpyxl.load_workbook(out)["Summary"]
    assert (summary["G2"].value, summary["G3"].value) == ("Key Measures", 1)   # under the title


def test_measure_id_pattern_and_parts_come_from_the_yaml(tmp_path):
    def dotted(doc):
        doc["roles"]["measure_id_pattern"] = r"[A-Z]{2,6}\.\d{3}\.\d{2}"
        doc["roles"]["measure_id_parts"] = r"(?P<agency>[A-Z]+)\.(?P<service>\d+)\.\d+"
        return doc
    schema = load_schema(path=schema_file(tmp_path, dotted))
    found, _ = validated(tmp_path, schema, [
        measure("BCFD.609.01"), measure("BCFD-602-01", 602), measure("DOT.602.02", 602),
        measure("BCFD.609.02", 602)])
    assert found == [("Measures", "A5", "bad-measure-id"),     # the old form
                     ("Measures", "A6", "agency-mismatch"),    # DOT in a BCFD plan
                     ("Measures", "A7", "bad-measure-id")]     # names service 609, not 602


# --- a role left dangling is refused -----------------------------------------------------

DANGLING = [
    ("statuses", "On Track", "roles.status.on_track"),
    ("statuses", "At Risk", "roles.status.at_risk"),
    ("statuses", "Off Track", "roles.status.off_track"),
    ("statuses", "No Data", "roles.status.no_data"),
    ("directions", "Increase", "roles.direction.increase"),
    ("directions", "Decrease", "roles.direction.decrease"),
    ("directions", "Maintain", "roles.direction.maintain"),
    ("stages", "Plan", "roles.stage.plan"),
    ("stages", "Mid-Year Update", "roles.stage.midyear"),
    ("stages", "Year-End Update", "roles.stage.yearend"),
    ("units", "Percent", "roles.percent_unit"),
    ("units", "Count", "roles.cumulative_units"),
    ("units", "Dollars", "roles.dollars_unit"),   # the first role that names it
    ("units", "Hours", "roles.cumulative_units"),
    ("measure_types", "Outcome", "roles.outcome_types"),
    ("measure_types", "Effectiveness", "roles.outcome_types"),
    ("yes_no", "Yes", "roles.key_measure"),
]


@pytest.mark.parametrize("list_name, value, key", DANGLING)
def test_a_value_renamed_in_its_list_alone_is_refused(tmp_path, list_name, value, key):
    def list_only(doc):
        doc["lists"][list_name] = [value.swapcase() if v == value else v
                                   for v in doc["lists"][list_name]]
        return doc
    path = schema_file(tmp_path, list_only)
    with pytest.raises(SchemaError) as refused:
        load_schema(path=path)
    assert str(refused.value).startswith(f"fy2028.yaml: {key} is '{value}', which is not in "
                                         f"lists.{list_name} (")
    result = CliRunner().invoke(main, ["schema", "check", str(path)])
    assert result.exit_code == 2 and key in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("edit, says", [
    (lambda roles: roles.pop("percent_unit"), "roles is missing the key 'percent_unit'"),
    (lambda roles: roles["status"].pop("no_data"), "roles.status is missing the key 'no_data'"),
    (lambda roles: roles.update(measure_id_pattern="[A-Z"),
     "roles.measure_id_pattern is not a valid regular expression"),
    (lambda roles: roles.update(measure_id_parts=r"([A-Z]+)-(\d+)-\d+"),
     "roles.measure_id_parts must have the groups"),
    (lambda roles: roles.update(stage={"plan": "Plan", "midyear": "Year-End Update",
                                       "yearend": "Mid-Year Update"}),
     "roles.stage must name the stages in the order of lists.stages"),
])
def test_a_missing_or_malformed_role_is_refused(tmp_path, edit, says):
    def apply(doc):
        edit(doc["roles"])
        return doc
    path = schema_file(tmp_path, apply)
    with pytest.raises(SchemaError, match="^fy2028.yaml: ") as refused:
        load_schema(path=path)
    assert says in str(refused.value)
    result = CliRunner().invoke(main, ["schema", "check", str(path)])
    assert result.exit_code == 2 and says in result.output


def test_the_loader_accepts_exactly_the_missing_codes_of_the_rules():
    assert set(MISSING_CODES) == {r.code for r in RULES if r.check is filled}
