"""Open data a portal accepts (issue 9, item 6): `merge --datapackage` writes CSVs and a
datapackage.json that others can read, with field names and titles the public understands,
package metadata, and only the fields meant for publication."""

import csv
import hashlib
import json
import stat

from click.testing import CliRunner

from planvalidator.cli import main
from plans import measure, plan_file, sheets

DOT = {"Agency Code": "DOT", "Agency Name": "Department of Transportation"}
DOT_SERVICES = [(683, "Street Management", "Equitable Neighborhood Development", 9_000_000, "")]


def merged(tmp_path, *extra):
    """BCFD's clean plan and DOT's plan with an error (a negative target), merged."""
    plan_file(tmp_path / "bcfd.xlsx", sheets([measure("BCFD-609-01", 609, midyear_actual=61)]))
    plan_file(tmp_path / "dot.xlsx", sheets([measure("DOT-683-01", 683, target=-5)],
                                            services=DOT_SERVICES, agency=DOT), agency="DOT")
    out = tmp_path / "out" / "citywide.xlsx"
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "bcfd.xlsx"),
                                       str(tmp_path / "dot.xlsx"), "-o", str(out),
                                       "--datapackage", str(tmp_path / "open"), *extra])
    assert result.exit_code == 1, result.output    # DOT's plan has an error
    return out, tmp_path / "open"


def table(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_field_names_and_titles_name_the_fiscal_years(tmp_path):
    _, package_dir = merged(tmp_path)
    measures = table(package_dir / "measures.csv")
    assert measures[0] == [
        "agency_code", "agency_name", "fiscal_year", "measure_id", "service_number",
        "measure_name", "measure_type", "unit", "desired_direction", "reporting_frequency",
        "data_source", "fy2025_actual", "fy2026_actual", "fy2027_target",
        "fy2027_mid_year_actual", "fy2028_target", "target_rationale", "key_measure",
        "equity_focus", "fy2028_mid_year_actual", "fy2028_year_end_actual", "status",
        "status_explanation", "notes"]
    assert measures[1:] == [[
        "BCFD", "Baltimore City Fire Department", "2028", "BCFD-609-01", "609", "EMS responses",
        "Outcome", "Count", "Increase", "Quarterly", "CAD", "100", "110", "115", "60", "120", "",
        "Yes", "No", "61", "", "", "", ""]]
    package = json.loads((package_dir / "datapackage.json").read_text())
    resources = {r["name"]: r for r in package["resources"]}
    titles = {f["name"]: f["title"] for f in resources["measures"]["schema"]["fields"]}
    assert titles["fy2025_actual"] == "FY2025 Actual"
    assert titles["fy2028_mid_year_actual"] == "FY2028 Mid-Year Actual"
    assert [(r["title"], r["description"]) for r in package["resources"]] == [
        ("Performance measures, FY2028",
         "One row per performance measure of each accepted FY2028 plan: what is measured and "
         "how, the results of earlier years, the target for FY2028 and the actuals reported so "
         "far."),
        ("Services, FY2028",
         "One row per service of each accepted FY2028 plan: its number and name in the budget, "
         "its pillar of the Mayor's Action Plan, its budget and what it does."),
        ("Agency plans, FY2028",
         "One row per agency that submitted a plan: its stage, how many services and measures "
         "it holds, and whether the performance office accepted it or asked for a revision.")]
    assert table(package_dir / "services.csv")[0] == [
        "agency_code", "agency_name", "fiscal_year", "service_number", "service_name", "pillar",
        "budget", "service_description"]


def test_summary_publishes_no_internal_counts(tmp_path):
    _, package_dir = merged(tmp_path)
    assert table(package_dir / "summary.csv") == [
        ["agency_code", "agency_name", "fiscal_year", "stage", "service_count", "measure_count",
         "review_status"],
        ["BCFD", "Baltimore City Fire Department", "2028", "Plan", "2", "1", "Accepted"],
        ["DOT", "Department of Transportation", "2028", "Plan", "1", "1", "Needs revision"]]


def test_package_metadata_names_the_plan_its_licence_and_its_source(tmp_path):
    out, package_dir = merged(tmp_path)
    package = json.loads((package_dir / "datapackage.json").read_text())
    assert {k: v for k, v in package.items() if k != "resources"} == {
        "name": "baltimore-performance-plan-fy2028",
        "title": "Baltimore FY2028 agency performance plans",
        "description": "The performance plans Baltimore's agencies submitted for fiscal year "
                       "2028: the services each agency delivers, the measures it reports on "
                       "them with their targets and actuals, and whether the performance office "
                       "accepted each plan. Measures and services are published for accepted "
                       "plans only.",
        "licenses": [{"name": "ODC-PDDL-1.0",
                      "path": "https://opendatacommons.org/licenses/pddl/1-0/",
                      "title": "Open Data Commons Public Domain Dedication and License v1.0"}],
        "created": "2000-01-01T00:00:00Z",
        "contributors": [{"title": "Baltimore performance office",
                          "email": "performance@baltimorecity.gov", "role": "publisher"}],
        "sources": [{"title": "citywide.xlsx", "path": "citywide.xlsx",
                     "sha256": hashlib.sha256(out.read_bytes()).hexdigest()}],
    }


def test_created_is_the_merge_time_with_timestamp(tmp_path):
    _, package_dir = merged(tmp_path, "--timestamp")
    created = json.loads((package_dir / "datapackage.json").read_text())["created"]
    assert created != "2000-01-01T00:00:00Z" and created.endswith("Z")


def test_files_are_readable_by_others_and_the_package_validates(tmp_path):
    _, package_dir = merged(tmp_path)
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in package_dir.iterdir()}
    assert modes == {"datapackage.json": 0o644, "measures.csv": 0o644, "services.csv": 0o644,
                     "summary.csv": 0o644}
    from frictionless import validate
    report = validate(str(package_dir / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type", "note"])
