"""Each rule family on small plans: the exact (sheet, cell, code) it yields."""

from plans import findings, measure, sheets


def test_a_valid_plan_has_no_findings():
    assert findings(sheets()) == []


def test_missing_and_placeholder_targets_land_on_the_target_cell():
    data = sheets([measure("BCFD-609-01", target=None), measure("BCFD-609-02", target="TBD"),
                   measure("BCFD-602-01", 602, target=" n/a "), measure("BCFD-602-02", 602, target=0)])
    assert findings(data) == [
        ("Measures", "M4", "missing-target"),
        ("Measures", "M5", "placeholder-target"),
        ("Measures", "M6", "placeholder-target"),
        ("Measures", "M7", "target-below-baseline"),
        ("Measures", "M7", "zero-target"),
    ]


def test_target_below_baseline_respects_direction_and_rationale():
    data = sheets([measure("BCFD-609-01", target=100),                       # Increase, 100 < 110
                   measure("BCFD-609-02", target=100, target_rationale="Staffing"),
                   measure("BCFD-602-01", 602, direction="Decrease", target=120),  # 120 > 110
                   measure("BCFD-602-02", 602, direction="Decrease", target=100)])
    assert findings(data) == [("Measures", "M4", "target-below-baseline"),
                              ("Measures", "M6", "target-below-baseline")]


def test_cell_rules():
    data = sheets([
        measure("BCFD-609-01", measure_type="Outcomes", frequency="Yearly"),
        measure("BCFD609-2", unit="Percent", actual_y3=0.5, actual_y2=0.6, target_y1=0.7,
                midyear_y1=0.6, target=85),
        measure("BCFD-602-01", 602, target="about 40", actual_y2=-3),
        measure("BCFD-602-01", 602, key_measure=None),
    ])
    assert findings(data) == [
        ("Measures", "D4", "not-in-list"),
        ("Measures", "G4", "not-in-list"),
        ("Measures", "A5", "bad-measure-id"),
        ("Measures", "M5", "percent-out-of-range"),
        ("Measures", "A6", "duplicate-measure-id"),
        ("Measures", "J6", "negative-value"),
        ("Measures", "M6", "not-a-number"),
        ("Measures", "A7", "duplicate-measure-id"),
        ("Measures", "O7", "required-missing"),
    ]


def test_percent_typed_as_text_is_read_and_noted():
    data = sheets([measure(unit="Percent", actual_y3=0.5, actual_y2=0.6, target_y1=0.7,
                           midyear_y1=0.6, target="85%"),
                   measure("BCFD-602-01", 602)])
    assert findings(data) == [("Measures", "M4", "value-interpreted")]


def test_plan_rules():
    data = sheets([measure("BCFD-609-01", 609), measure("BCFD-611-01", 611),
                   measure("DOT-602-01", 602), measure("BCFD-609-02", 602, measure_type="Output")],
                  services=[(609, "EMS", "Building Public Safety", 1, ""),
                            (602, "Fire Suppression", "Building Public Safety", 1, ""),
                            (999, "Made up", "Building Public Safety", 1, ""),
                            (610, "Outreach", "Building Public Safety", 1, "")])
    assert findings(data) == [
        ("Measures", "B5", "unknown-service"),
        ("Measures", "A6", "agency-mismatch"),
        ("Measures", "A7", "bad-measure-id"),
        ("Services", "A6", "service-not-in-catalog"),
        ("Services", "A6", "service-without-measures"),
        ("Services", "A7", "service-without-measures"),
    ]


def test_service_with_only_output_measures_warns():
    data = sheets([measure("BCFD-609-01", 609),
                   measure("BCFD-602-01", 602, measure_type="Output")])
    assert findings(data) == [("Services", "A5", "no-outcome-measure")]


def midyear(**fields):
    return measure(**{"midyear_actual": 70, "status": "On Track", **fields})


def test_midyear_update_needs_actuals_and_explanations():
    data = sheets([midyear(mid="BCFD-609-01", midyear_actual=None, status=None),
                   midyear(mid="BCFD-609-02", midyear_actual=10, status="Off Track"),
                   midyear(mid="BCFD-602-01", svc=602, midyear_actual=10, status="On Track",
                           status_explanation="Winter"),
                   midyear(mid="BCFD-602-02", svc=602)],
                  agency={"Plan Stage": "Mid-Year Update"})
    assert findings(data) == [
        ("Measures", "Q4", "missing-midyear-actual"),
        ("Measures", "S4", "required-missing"),
        ("Measures", "T5", "missing-status-explanation"),
        ("Measures", "S6", "status-inconsistent"),
    ]


def test_stage_can_be_overridden():
    data = sheets([measure("BCFD-609-01"), measure("BCFD-602-01", 602)])
    assert findings(data, stage="Year-End Update") == [
        ("Measures", "Q4", "missing-midyear-actual"), ("Measures", "R4", "missing-yearend-actual"),
        ("Measures", "S4", "required-missing"),
        ("Measures", "Q5", "missing-midyear-actual"), ("Measures", "R5", "missing-yearend-actual"),
        ("Measures", "S5", "required-missing"),
    ]


def test_structure_findings():
    data = sheets()
    del data["Services"]
    data["Measures"][2][12] = "Target"     # the FY2028 Target header renamed
    assert findings(data) == [("Measures", "", "missing-column"), ("Services", "", "missing-sheet")]


def test_headers_are_found_by_label_below_inserted_rows():
    data = sheets([measure("BCFD-609-01", target=None), measure("BCFD-602-01", 602)], rows_above=3)
    header = data["Measures"][5]
    header[2] = "  measure\nNAME "             # case, spacing and a line break
    assert findings(data) == [("Measures", "M7", "missing-target")]


def test_every_rule_is_catalogued_and_every_data_code_has_a_rule():
    from planvalidator.findings import CATALOGUE
    from planvalidator.rules.checks import RULES
    ruled = {r.code for r in RULES}
    assert ruled <= set(CATALOGUE)
    # the rest are found by the reader, the template check, merge and sync, or bound a report
    assert set(CATALOGUE) - ruled == {
        "unreadable-workbook", "missing-sheet", "missing-column", "template-outdated",
        "value-interpreted", "measure-id-collision", "target-changed", "measure-added",
        "measure-removed", "duplicate-sheet", "hidden-sheet", "more-findings",
        "too-many-findings"}
