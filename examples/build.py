"""Build the example plan workbooks in examples/ from the data below.

    python examples/build.py              # rewrite every example in examples/
    python examples/build.py --out DIR    # write them to DIR instead
    python examples/build.py --readme     # rerun the commands shown in examples/README.md
                                          # and paste their output there
    python examples/build.py --cycle DIR  # the FY2027 plans and updates of docs/cycle.md

Each example is a real Baltimore agency with its real catalog services, filled in as an agency
analyst would fill the template: the clean ones pass validation, the others carry the mistakes
agencies really make (each marked "# mistake:" where it is planted). The names of people,
e-mail addresses and phone numbers are made up; every number is made up but believable.

The workbooks are built with the template builder (planvalidator.output.templates.build_workbook) for
the schema year of the plan and saved with planvalidator.output.atomic.save_workbook, so the same data
always gives byte-identical files: tests/test_examples.py checks that the committed files are
what this script writes.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import re
import shlex
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from planvalidator.output.atomic import save_workbook
from planvalidator.schema.loader import load_schema
from planvalidator.output.templates import FIRST_DATA_ROW, build_workbook

HERE = Path(__file__).resolve().parent


# ---- what a plan holds ------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    """One row of the Measures sheet; the field names are the schema keys."""

    measure_id: str
    service_number: int
    measure_name: str
    measure_type: str
    unit: str
    direction: str
    frequency: str
    data_source: str
    actual_y3: object = None        # FY{Y-3} Actual
    actual_y2: object = None        # FY{Y-2} Actual
    target_y1: object = None        # FY{Y-1} Target
    midyear_y1: object = None       # FY{Y-1} Mid-Year Actual
    target: object = None           # FY{Y} Target
    target_rationale: str | None = None
    key_measure: str = "Yes"
    equity_focus: str = "No"
    midyear_actual: object = None
    yearend_actual: object = None
    status: str | None = None
    status_explanation: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class Service:
    number: int
    budget: int
    description: str
    name: str | None = None         # None: the catalog's name
    pillar: str | None = None       # None: the catalog's pillar


@dataclass(frozen=True)
class Example:
    file: str
    template_year: int              # the schema (template) the workbook is built from
    agency: str
    fields: dict                    # Agency sheet: schema key -> value (code and name pre-filled)
    services: list[Service]
    measures: list[Measure]
    about: str = ""


def changed(measures: list[Measure], changes: dict[str, dict]) -> list[Measure]:
    """The same measures with some fields changed, by measure ID."""
    return [replace(m, **changes.get(m.measure_id, {})) for m in measures]


def fields(fiscal_year, stage, prepared_by, email, phone, head, approved, submitted):
    return {"fiscal_year": fiscal_year, "stage": stage, "prepared_by": prepared_by,
            "email": email, "phone": phone, "agency_head": head, "head_approval": "Yes",
            "approval_date": approved, "submission_date": submitted}


# ---- BCFD: FY2028 plan ------------------------------------------------------------------------

CAD = "CAD (Computer-Aided Dispatch)"

BCFD_PLAN = Example(
    file="bcfd-plan-fy2028-clean.xlsx", template_year=2028, agency="BCFD",
    about="Fire Department, FY2028 Plan: targets set for four services. Clean.",
    fields=fields(2028, "Plan", "Dana Reyes", "dana.reyes@baltimorecity.gov", "410-396-5680",
                  "Marcus Holloway", dt.date(2027, 4, 9), dt.date(2027, 4, 14)),
    services=[
        Service(602, 152_418_000, "Fire suppression, technical rescue and hazardous-materials "
                                  "response from 41 firehouses, around the clock."),
        Service(609, 61_275_000, "Advanced and basic life support and ambulance transport for "
                                 "911 medical calls."),
        Service(611, 5_902_000, "Fire code inspections, plan review and permits for businesses "
                                "and multi-family housing."),
        Service(614, 11_340_000, "Answering and dispatching 911 fire and medical calls."),
    ],
    measures=[
        Measure("BCFD-602-01", 602, "Percent of structure fire responses with the first engine "
                "on scene within 5 minutes 20 seconds", "Effectiveness", "Percent", "Increase",
                "Monthly", CAD, 0.81, 0.83, 0.90, 0.84, 0.90),
        Measure("BCFD-602-02", 602, "Percent of structure fires confined to the room of origin",
                "Outcome", "Percent", "Increase", "Quarterly", "NFIRS incident reports",
                0.68, 0.71, 0.75, 0.72, 0.75, key_measure="No"),
        Measure("BCFD-602-03", 602, "Fire and rescue incidents responded to", "Output", "Count",
                "Maintain", "Monthly", CAD, 11_840, 12_310, 12_000, 6_090, 12_300,
                target_rationale="Demand-driven: forecast from the three-year trend.",
                key_measure="No"),
        Measure("BCFD-609-01", 609, "Percent of EMS responses within 9 minutes", "Effectiveness",
                "Percent", "Increase", "Monthly", CAD, 0.78, 0.82, 0.88, 0.84, 0.90,
                equity_focus="Yes",
                notes="Reported by council district on the CitiStat dashboard."),
        Measure("BCFD-609-02", 609, "Average EMS response time", "Efficiency", "Minutes",
                "Decrease", "Monthly", CAD, 8.9, 8.4, 8.0, 8.1, 7.9),
        Measure("BCFD-609-03", 609, "EMS incidents responded to", "Output", "Count", "Maintain",
                "Monthly", CAD, 168_400, 171_950, 170_000, 86_020, 172_000, key_measure="No"),
        Measure("BCFD-609-04", 609, "Percent of cardiac arrest patients with a pulse on arrival "
                "at the hospital", "Outcome", "Percent", "Increase", "Quarterly",
                "CARES cardiac arrest registry", 0.24, 0.26, 0.28, 0.27, 0.29),
        Measure("BCFD-611-01", 611, "Fire code inspections completed", "Output", "Count",
                "Increase", "Monthly", "Fire Prevention Bureau inspection system",
                9_120, 9_840, 10_500, 5_010, 10_500, key_measure="No"),
        Measure("BCFD-611-02", 611, "Percent of high-hazard occupancies inspected within the "
                "year", "Effectiveness", "Percent", "Increase", "Quarterly",
                "Fire Prevention Bureau inspection system", 0.74, 0.81, 0.90, 0.43, 0.92,
                equity_focus="Yes"),
        Measure("BCFD-614-01", 614, "Percent of 911 fire and EMS calls dispatched within "
                "60 seconds", "Effectiveness", "Percent", "Increase", "Monthly", CAD,
                0.86, 0.89, 0.90, 0.90, 0.92),
        Measure("BCFD-614-02", 614, "Average call processing time", "Efficiency", "Minutes",
                "Decrease", "Monthly", CAD, 1.3, 1.2, 1.1, 1.15, 1.0, key_measure="No"),
    ])


# ---- DOT: FY2027 mid-year update ---------------------------------------------------------------

CSR = "311 service requests (CSR)"

DOT_MEASURES = [
    # Mid-year actuals of counts are judged against half the annual target.
    Measure("DOT-683-01", 683, "Percent of potholes repaired within 48 hours", "Effectiveness",
            "Percent", "Increase", "Monthly", CSR, 0.79, 0.84, 0.90, 0.86, 0.90, equity_focus="Yes",
            midyear_actual=0.91, status="On Track"),
    Measure("DOT-683-02", 683, "Potholes repaired", "Output", "Count", "Increase", "Monthly", CSR,
            31_250, 28_940, 30_000, 15_210, 30_000, key_measure="No",
            midyear_actual=13_620, status="At Risk",
            status_explanation="Two paving crews were assigned to snow response in January; "
                               "they return to pothole repair in March."),
    Measure("DOT-683-03", 683, "Lane miles resurfaced", "Output", "Count", "Increase",
            "Semi-Annually", "DOT paving program records", 152, 168, 180, 71, 200,
            midyear_actual=62, status="Off Track",
            status_explanation="The resurfacing contract was awarded in November, two months "
                               "late; most paving happens April to June."),
    Measure("DOT-683-04", 683, "Average days to close a pothole service request", "Efficiency",
            "Days", "Decrease", "Monthly", CSR, 3.4, 2.6, 2.0, 2.3, 2.0, key_measure="No",
            midyear_actual=1.8, status="On Track"),
    Measure("DOT-684-01", 684, "Percent of traffic signal malfunctions repaired within "
            "24 hours", "Effectiveness", "Percent", "Increase", "Monthly",
            "Traffic signal work orders", 0.88, 0.91, 0.93, 0.92, 0.94,
            midyear_actual=0.90, status="At Risk",
            status_explanation="Back-ordered signal controllers delayed 14 repairs; the parts "
                               "arrived in December."),
    Measure("DOT-684-02", 684, "Traffic signals retimed", "Output", "Count", "Increase",
            "Quarterly", "Traffic signal work orders", 140, 162, 175, 88, 180, key_measure="No",
            midyear_actual=96, status="On Track"),
    Measure("DOT-697-01", 697, "Traffic fatalities on City streets", "Outcome", "Count",
            "Decrease", "Quarterly", "Maryland State Police crash data (ACRS)", 59, 51, 45, 24, 42,
            equity_focus="Yes", midyear_actual=19, status="On Track"),
    Measure("DOT-697-02", 697, "Speed humps and other traffic-calming devices installed",
            "Output", "Count", "Increase", "Quarterly", "DOT Traffic Safety project log",
            96, 121, 130, 58, 150, key_measure="No", equity_focus="Yes",
            midyear_actual=77, status="On Track"),
    Measure("DOT-697-03", 697, "Percent of school zones with a completed safety assessment",
            "Effectiveness", "Percent", "Increase", "Quarterly", "DOT Traffic Safety project log",
            0.42, 0.61, 0.75, 0.68, 0.85, midyear_actual=0.70, status="Off Track",
            status_explanation="Two traffic engineer positions were vacant until November; "
                               "assessments resume with a consultant in February."),
    Measure("DOT-500-01", 500, "Percent of streetlight outages repaired within 3 business days",
            "Effectiveness", "Percent", "Increase", "Monthly", CSR, 0.71, 0.78, 0.85, 0.80, 0.85,
            equity_focus="Yes", midyear_actual=0.86, status="On Track"),
    Measure("DOT-500-02", 500, "Streetlights converted to LED", "Output", "Count", "Increase",
            "Quarterly", "Street lighting asset inventory", 4_200, 6_100, 6_500, 3_050, 7_000,
            key_measure="No", midyear_actual=3_600, status="On Track"),
]

DOT_SERVICES = [
    Service(500, 19_880_000, "Operation and maintenance of about 79,000 streetlights."),
    Service(683, 27_415_000, "Pothole repair, resurfacing and maintenance of City streets, "
                             "alleys and footways."),
    Service(684, 14_060_000, "Traffic signals, signs and markings, and signal timing."),
    Service(697, 9_730_000, "Traffic-calming, school-zone safety and the Complete Streets "
                            "safety program."),
]

DOT_MIDYEAR = Example(
    file="fy2027/dot-midyear-fy2027-clean.xlsx", template_year=2027, agency="DOT",
    about="Transportation, FY2027 Mid-Year Update: mid-year actuals and statuses, every At Risk "
          "and Off Track explained. Clean.",
    fields=fields(2027, "Mid-Year Update", "Kevin Osei", "kevin.osei@baltimorecity.gov",
                  "410-396-6802", "Renee Castillo", dt.date(2027, 2, 3), dt.date(2027, 2, 4)),
    services=DOT_SERVICES, measures=DOT_MEASURES)

DOT_MISSING_ACTUALS = Example(
    file="fy2027/dot-midyear-fy2027-missing-actuals.xlsx", template_year=2027, agency="DOT",
    about="The same DOT mid-year update sent before it was finished (and superseded by the clean "
          "one, submitted later): actuals left out, an Off "
          "Track without explanation, a status that contradicts the numbers.",
    fields=fields(2027, "Mid-Year Update", "Kevin Osei", "kevin.osei@baltimorecity.gov",
                  "410-396-6802", "Renee Castillo", dt.date(2027, 1, 27), dt.date(2027, 1, 29)),
    services=DOT_SERVICES,
    measures=changed(DOT_MEASURES, {
        # mistake: no mid-year actual and no status
        "DOT-683-02": {"midyear_actual": None, "status": None, "status_explanation": None},
        # mistake: Off Track, but no explanation
        "DOT-683-03": {"status_explanation": None},
        # mistake: no mid-year actual, the status copied from last year
        "DOT-684-02": {"midyear_actual": None},
        # mistake: On Track although 0.70 is far short of the 0.85 target
        "DOT-697-03": {"status": "On Track", "status_explanation": None},
        # no mid-year actual, but the status says No Data and explains why
        "DOT-500-02": {"midyear_actual": None, "status": "No Data",
                       "status_explanation": "The LED contractor's December report is late; "
                                             "the count will be in the third-quarter update."},
    }))


# ---- OPI: FY2027 year-end update ---------------------------------------------------------------

OPI_YEAREND = Example(
    file="fy2027/opi-yearend-fy2027-clean.xlsx", template_year=2027, agency="OPI",
    about="Performance and Innovation, FY2027 Year-End Update: mid-year and year-end actuals "
          "and statuses. Clean.",
    fields=fields(2027, "Year-End Update", "Priya Natarajan", "priya.natarajan@baltimorecity.gov",
                  "410-396-4418", "Jonathan Blake", dt.date(2027, 8, 10), dt.date(2027, 8, 13)),
    services=[
        Service(125, 3_145_000, "Mayor's Office of Performance and Innovation: process "
                                "improvement and innovation projects with agencies."),
        Service(347, 1_980_000, "CitiStat: data-driven performance sessions with agencies and "
                                "the citywide performance plans."),
    ],
    measures=[
        Measure("OPI-125-01", 125, "Innovation projects completed", "Output", "Count", "Increase",
                "Quarterly", "OPI project portfolio", 9, 11, 12, 5, 14, key_measure="No",
                midyear_actual=6, yearend_actual=12, status="Off Track",
                status_explanation="Two projects with DPW were paused while the new billing "
                                   "system went live; both restart in FY2028."),
        Measure("OPI-125-02", 125, "Estimated annual savings from process improvement projects",
                "Outcome", "Dollars", "Increase", "Annually",
                "OPI project portfolio, reviewed by the Bureau of the Budget",
                1_250_000, 1_840_000, 2_000_000, 760_000, 2_200_000,
                midyear_actual=900_000, yearend_actual=2_350_000, status="On Track"),
        Measure("OPI-125-03", 125, "Percent of Mayor's Action Plan milestones met on time",
                "Effectiveness", "Percent", "Increase", "Quarterly", "Mayor's Action Plan tracker",
                None, 0.68, 0.75, 0.71, 0.80, midyear_actual=0.77, yearend_actual=0.81,
                status="On Track", notes="New measure in FY2026; no FY2024 actual."),
        Measure("OPI-347-01", 347, "CitiStat and AgencyStat sessions held", "Output", "Count",
                "Increase", "Monthly", "CitiStat session log", 118, 126, 130, 64, 130,
                key_measure="No", midyear_actual=66, yearend_actual=134, status="On Track"),
        Measure("OPI-347-02", 347, "Percent of CitiStat follow-up actions completed by the due "
                "date", "Effectiveness", "Percent", "Increase", "Quarterly",
                "CitiStat action tracker", 0.71, 0.76, 0.80, 0.78, 0.85,
                midyear_actual=0.81, yearend_actual=0.83, status="At Risk",
                status_explanation="Actions assigned to agencies with vacant analyst positions "
                                   "ran late; follow-ups now go to the deputy chief of staff."),
        Measure("OPI-347-03", 347, "Agencies with a published performance plan", "Outcome",
                "Count", "Increase", "Annually", "Open Baltimore performance portal",
                22, 31, 40, 36, 45, equity_focus="No",
                midyear_actual=38, yearend_actual=46, status="On Track"),
        Measure("OPI-347-04", 347, "Percent of performance measures with a year-end actual "
                "reported on time", "Effectiveness", "Percent", "Increase", "Annually",
                "Citywide performance plan workbook", 0.64, 0.72, 0.80, 0.70, 0.90,
                key_measure="No", midyear_actual=0.78, yearend_actual=0.91, status="On Track"),
        Measure("OPI-347-05", 347, "Average days from month end to CitiStat dashboard refresh",
                "Efficiency", "Days", "Decrease", "Monthly", "CitiStat dashboard refresh log",
                12, 9, 7, 7, 5, key_measure="No",
                midyear_actual=6, yearend_actual=4, status="On Track"),
    ])


# ---- DPW: missing and placeholder targets ------------------------------------------------------

DPW_MISSING_TARGETS = Example(
    file="dpw-plan-fy2028-missing-targets.xlsx", template_year=2028, agency="DPW",
    about="Public Works, FY2028 Plan sent with targets still to be decided: two left empty, "
          "one 'TBD', one 'N/A'.",
    fields=fields(2028, "Plan", "Tanya Brooks", "tanya.brooks@baltimorecity.gov", "410-396-3310",
                  "Gregory Ames", dt.date(2027, 4, 12), dt.date(2027, 4, 15)),
    services=[
        Service(661, 18_730_000, "Mechanical street sweeping, alley cleaning and illegal "
                                 "dumping removal."),
        Service(663, 39_560_000, "Weekly household trash and recycling collection."),
        Service(671, 141_200_000, "Drinking water treatment and distribution for the City and "
                                  "the region."),
    ],
    measures=[
        Measure("DPW-661-01", 661, "Miles of streets mechanically swept", "Output", "Count",
                "Increase", "Monthly", "Street sweeper GPS logs", 58_200, 61_400, 62_000,
                31_700, 63_000, key_measure="No"),
        Measure("DPW-661-02", 661, "Percent of illegal dumping service requests closed within "
                "5 business days", "Effectiveness", "Percent", "Increase", "Monthly", CSR,
                0.71, 0.78, 0.85, 0.81, 0.85, equity_focus="Yes"),
        # mistake: a placeholder for a new measure's target
        Measure("DPW-661-03", 661, "Average cleanliness rating of surveyed blocks (1 = clean, "
                "4 = very littered)", "Outcome", "Score", "Decrease", "Quarterly",
                "DPW block cleanliness survey", target="N/A", equity_focus="Yes",
                notes="New survey starting July 2027."),
        Measure("DPW-663-01", 663, "Tons of recycling collected", "Output", "Count", "Increase",
                "Monthly", "DPW scale house records", 24_650, 25_980, 27_000, 13_200, 28_000),
        Measure("DPW-663-02", 663, "Percent of household trash pickups completed on the "
                "scheduled day", "Effectiveness", "Percent", "Increase", "Monthly",
                "DPW route completion reports", 0.962, 0.978, 0.99, 0.985, 0.99),
        # mistake: the target is still to be decided
        Measure("DPW-663-03", 663, "Percent of residential waste diverted from the landfill",
                "Outcome", "Percent", "Increase", "Annually", "DPW scale house records",
                0.19, 0.21, 0.24, 0.22, "TBD", key_measure="No"),
        # mistake: no target
        Measure("DPW-663-04", 663, "Missed pickup complaints per 10,000 households", "Efficiency",
                "Rate", "Decrease", "Monthly", CSR, 14.2, 11.8, 10.0, 10.9, None,
                key_measure="No"),
        # mistake: no target
        Measure("DPW-671-01", 671, "Water main breaks", "Outcome", "Count", "Decrease",
                "Monthly", "Water maintenance work orders", 1_020, 940, 900, 455, None),
        Measure("DPW-671-02", 671, "Percent of water quality samples meeting Safe Drinking "
                "Water Act standards", "Effectiveness", "Percent", "Maintain", "Monthly",
                "Water quality laboratory", 1.0, 1.0, 1.0, 1.0, 1.0),
        Measure("DPW-671-03", 671, "Average hours to repair a water main break", "Efficiency",
                "Hours", "Decrease", "Monthly", "Water maintenance work orders",
                14.2, 12.8, 12.0, 12.4, 12.0, key_measure="No"),
    ])


# ---- BCHD: percents and numbers typed as text --------------------------------------------------

BCHD_PERCENT_AS_TEXT = Example(
    file="bchd-plan-fy2028-percent-as-text.xlsx", template_year=2028, agency="BCHD",
    about="Health Department, FY2028 Plan with numbers typed the way people say them: '85%' "
          "as text, 85 in a Percent measure, 'about 40'.",
    fields=fields(2028, "Plan", "Alicia Mendez", "alicia.mendez@baltimorecity.gov",
                  "410-396-4390", "Nadia Okafor", dt.date(2027, 4, 8), dt.date(2027, 4, 11)),
    services=[
        Service(305, 6_415_000, "Lead poisoning prevention and healthy-homes inspections."),
        Service(308, 24_870_000, "B'more for Healthy Babies, home visiting and maternal health "
                                 "programs."),
        Service(717, 4_580_000, "Food service, pool and environmental health inspections."),
    ],
    measures=[
        # mistake: 85 in a Percent measure, meant as 85%
        Measure("BCHD-305-01", 305, "Percent of children with elevated blood lead levels whose "
                "home was inspected within 10 days", "Effectiveness", "Percent", "Increase",
                "Quarterly", "Healthy Homes case management system", 0.72, 0.79, 0.85, 0.81, 85,
                equity_focus="Yes"),
        Measure("BCHD-305-02", 305, "Homes made lead-safe", "Output", "Count", "Increase",
                "Quarterly", "Healthy Homes case management system", 118, 142, 150, 70, 160,
                key_measure="No", equity_focus="Yes"),
        Measure("BCHD-308-01", 308, "Infant mortality rate per 1,000 live births", "Outcome",
                "Rate", "Decrease", "Annually", "Maryland Vital Statistics Administration",
                8.1, 7.6, 7.0, None, 6.8, equity_focus="Yes"),
        # mistake: the percent typed as the text '85%' (read as 0.85, with a note)
        Measure("BCHD-308-02", 308, "Percent of home-visiting clients enrolled in the first "
                "trimester", "Effectiveness", "Percent", "Increase", "Quarterly",
                "Home visiting data system", 0.74, 0.78, 0.82, 0.80, "85%", key_measure="No"),
        # mistake: a number typed with words
        Measure("BCHD-308-03", 308, "Community baby showers and family health events held",
                "Output", "Count", "Increase", "Quarterly", "B'more for Healthy Babies event log",
                31, 36, 38, 19, "about 40", key_measure="No"),
        Measure("BCHD-717-01", 717, "Food service facility inspections completed", "Output",
                "Count", "Increase", "Monthly", "Environmental health inspection system",
                8_950, 9_420, 9_600, 4_790, 9_800, key_measure="No"),
        Measure("BCHD-717-02", 717, "Percent of high-risk food facilities inspected at the "
                "required frequency", "Effectiveness", "Percent", "Increase", "Quarterly",
                "Environmental health inspection system", 0.82, 0.87, 0.90, 0.88, 0.92),
        Measure("BCHD-717-03", 717, "Average days to respond to a food-borne illness complaint",
                "Efficiency", "Days", "Decrease", "Monthly", CSR, 2.4, 2.1, 2.0, 1.9, 1.8,
                key_measure="No"),
    ])


# ---- BPD: values outside the dropdown lists ----------------------------------------------------

BPD_NOT_IN_LIST = Example(
    file="bpd-plan-fy2028-not-in-list.xlsx", template_year=2028, agency="BPD",
    about="Police Department, FY2028 Plan with values typed over the dropdowns: 'Outcomes', "
          "'Yearly', 'Y'.",
    fields=fields(2028, "Plan", "Michael Tran", "michael.tran@baltimorepolice.org",
                  "410-396-2012", "Alan Whitfield", dt.date(2027, 4, 13), dt.date(2027, 4, 16)),
    services=[
        Service(622, 168_940_000, "Patrol officers in nine districts answering calls for "
                                  "service."),
        Service(623, 61_310_000, "Homicide, shooting and other criminal investigations."),
        Service(635, 14_225_000, "Recruiting, the police academy and in-service training."),
    ],
    measures=[
        # mistake: 'Y' instead of Yes
        Measure("BPD-622-01", 622, "Average response time to Priority 1 calls", "Efficiency",
                "Minutes", "Decrease", "Monthly", CAD, 10.8, 10.1, 9.5, 9.7, 9.0, key_measure="Y"),
        Measure("BPD-622-02", 622, "Percent of Priority 1 calls with an officer on scene within "
                "10 minutes", "Effectiveness", "Percent", "Increase", "Monthly", CAD,
                0.55, 0.59, 0.65, 0.61, 0.65, equity_focus="Yes"),
        Measure("BPD-622-03", 622, "Calls for service handled by patrol", "Output", "Count",
                "Maintain", "Monthly", CAD, 812_000, 798_500, 800_000, 401_200, 800_000,
                key_measure="No"),
        # mistake: 'Outcomes' is not one of the four measure types
        Measure("BPD-623-01", 623, "Homicide clearance rate", "Outcomes", "Percent", "Increase",
                "Quarterly", "BPD records management system", 0.42, 0.51, 0.55, 0.58, 0.60),
        Measure("BPD-623-02", 623, "Non-fatal shooting clearance rate", "Outcome", "Percent",
                "Increase", "Quarterly", "BPD records management system",
                0.31, 0.37, 0.40, 0.39, 0.42, equity_focus="Yes"),
        Measure("BPD-623-03", 623, "Cases assigned to detectives", "Output", "Count", "Maintain",
                "Monthly", "BPD records management system", 21_400, 20_850, 21_000, 10_300,
                21_000, key_measure="No"),
        Measure("BPD-635-01", 635, "Sworn officers hired", "Output", "Count", "Increase",
                "Quarterly", "BPD Human Resources", 161, 214, 250, 118, 260),
        # mistake: 'Yearly' instead of Annually
        Measure("BPD-635-02", 635, "Percent of recruits who graduate from the academy",
                "Effectiveness", "Percent", "Increase", "Yearly", "Education and Training "
                "Section", 0.71, 0.74, 0.78, 0.76, 0.80, key_measure="No"),
    ])


# ---- MOCFS: a service that is not on the Services sheet, one that is not in the catalog ---------

MOCFS_UNKNOWN_SERVICE = Example(
    file="mocfs-plan-fy2028-unknown-service.xlsx", template_year=2028, agency="MOCFS",
    about="Children and Family Success, FY2028 Plan: a measure for service 741, which the "
          "Services sheet does not list, and service 385, which is not in the FY2028 catalog.",
    fields=fields(2028, "Plan", "Jasmine Carter", "jasmine.carter@baltimorecity.gov",
                  "410-396-7715", "Olivia Grant", dt.date(2027, 4, 7), dt.date(2027, 4, 10)),
    services=[
        Service(604, 4_870_000, "Before- and after-school care for children in City schools."),
        Service(605, 32_640_000, "Head Start early education for three- and four-year-olds."),
        Service(754, 3_915_000, "Free summer meals for children at recreation centers, schools "
                                "and camps."),
        # mistake: last year's grants service, no longer in the catalog
        Service(385, 1_250_000, "Grants to community organizations serving families.",
                name="Health and Welfare Grants", pillar="Prioritizing Youth"),
    ],
    measures=[
        Measure("MOCFS-604-01", 604, "Children served in before- and after-care programs",
                "Output", "Count", "Increase", "Quarterly", "Program enrollment records",
                2_100, 2_350, 2_500, 2_410, 2_600, key_measure="No"),
        Measure("MOCFS-604-02", 604, "Percent of parents rating before- and after-care good or "
                "excellent", "Outcome", "Percent", "Increase", "Semi-Annually",
                "Parent survey", 0.86, 0.89, 0.90, 0.91, 0.92),
        Measure("MOCFS-605-01", 605, "Children enrolled in Head Start", "Output", "Count",
                "Increase", "Monthly", "Head Start enrollment system (ChildPlus)",
                1_420, 1_510, 1_600, 1_540, 1_600, key_measure="No"),
        Measure("MOCFS-605-02", 605, "Percent of Head Start children meeting kindergarten "
                "readiness benchmarks", "Outcome", "Percent", "Increase", "Semi-Annually",
                "Teaching Strategies GOLD assessments", 0.58, 0.62, 0.66, None, 0.68,
                equity_focus="Yes"),
        Measure("MOCFS-605-03", 605, "Average daily attendance rate in Head Start",
                "Effectiveness", "Percent", "Increase", "Monthly",
                "Head Start enrollment system (ChildPlus)", 0.81, 0.84, 0.87, 0.85, 0.88,
                key_measure="No"),
        Measure("MOCFS-754-01", 754, "Meals served to children in the summer", "Output", "Count",
                "Increase", "Annually", "Summer Food Service Program claims",
                1_150_000, 1_230_000, 1_250_000, None, 1_300_000, key_measure="No"),
        Measure("MOCFS-754-02", 754, "Percent of eligible children reached by summer meals",
                "Outcome", "Percent", "Increase", "Annually", "Summer Food Service Program claims",
                0.31, 0.34, 0.36, None, 0.38, equity_focus="Yes"),
        # mistake: service 741 is not on the Services sheet
        Measure("MOCFS-741-01", 741, "Households receiving energy assistance at Community Action "
                "Partnership centers", "Output", "Count", "Increase", "Quarterly",
                "Maryland Office of Home Energy Programs", 19_800, 21_400, 22_000, 9_800, 22_500,
                equity_focus="Yes"),
        Measure("MOCFS-385-01", 385, "Community grants awarded", "Output", "Count", "Increase",
                "Annually", "MOCFS grants management system", 38, 42, 45, None, 45,
                key_measure="No"),
        Measure("MOCFS-385-02", 385, "Percent of grantees meeting their performance goals",
                "Outcome", "Percent", "Increase", "Annually", "MOCFS grants management system",
                0.76, 0.80, 0.85, None, 0.85, key_measure="No"),
    ])


# ---- BCRP: duplicate and malformed measure IDs -------------------------------------------------

BCRP_DUPLICATE_IDS = Example(
    file="bcrp-plan-fy2028-duplicate-ids.xlsx", template_year=2028, agency="BCRP",
    about="Recreation and Parks, FY2028 Plan: a row copied without renumbering its ID, and an "
          "ID typed without its hyphens.",
    fields=fields(2028, "Plan", "Derrick Lawson", "derrick.lawson@baltimorecity.gov",
                  "410-396-7900", "Carla Jimenez", dt.date(2027, 4, 6), dt.date(2027, 4, 9)),
    services=[
        Service(645, 6_710_000, "Outdoor pools, splash pads and learn-to-swim programs."),
        Service(648, 17_450_000, "Programs at 44 community recreation centers."),
        Service(654, 5_380_000, "Tree planting, pruning and removal on streets and in parks."),
    ],
    measures=[
        Measure("BCRP-645-01", 645, "Pool and splash pad visits", "Output", "Count", "Increase",
                "Monthly", "Aquatics attendance counts", 188_000, 201_500, 205_000, 198_400,
                210_000, key_measure="No"),
        Measure("BCRP-645-02", 645, "Percent of learn-to-swim participants who pass the Level 2 "
                "swim test", "Outcome", "Percent", "Increase", "Annually",
                "Aquatics program records", 0.61, 0.66, 0.70, 0.68, 0.72, equity_focus="Yes"),
        Measure("BCRP-648-01", 648, "Recreation center visits", "Output", "Count", "Increase",
                "Monthly", "Recreation center check-in system", 1_020_000, 1_105_000, 1_150_000,
                560_000, 1_180_000, key_measure="No"),
        Measure("BCRP-648-02", 648, "Percent of recreation centers open 60 or more hours a week",
                "Effectiveness", "Percent", "Increase", "Quarterly", "Recreation center schedules",
                0.55, 0.64, 0.75, 0.70, 0.80, equity_focus="Yes"),
        # mistake: copied from the row above, ID not renumbered
        Measure("BCRP-648-02", 648, "Youth enrolled in recreation center programs", "Output",
                "Count", "Increase", "Quarterly", "Recreation center check-in system",
                8_900, 9_650, 10_000, 6_120, 10_500, key_measure="No", equity_focus="Yes"),
        # mistake: the ID typed without hyphens and with a one-digit sequence
        Measure("BCRP648-3", 648, "Percent of youth participants rating programs good or "
                "excellent", "Outcome", "Percent", "Increase", "Annually", "Youth program survey",
                0.81, 0.84, 0.85, None, 0.86, key_measure="No"),
        Measure("BCRP-654-01", 654, "Trees planted", "Output", "Count", "Increase", "Semi-Annually",
                "Forestry work order system", 5_800, 6_450, 7_000, 2_900, 7_500),
        Measure("BCRP-654-02", 654, "Tree canopy coverage of the City", "Outcome", "Percent",
                "Increase", "Annually", "Urban Tree Canopy assessment", 0.28, 0.28, 0.29, None,
                0.29, equity_focus="Yes"),
        Measure("BCRP-654-03", 654, "Average days to complete a tree service request",
                "Efficiency", "Days", "Decrease", "Monthly", CSR, 94, 71, 60, 65, 55,
                key_measure="No"),
    ])


# ---- DHCD: last year's template ---------------------------------------------------------------

DHCD_OUTDATED_TEMPLATE = Example(
    # mistake: built from the FY2027 template, with Fiscal Year changed to 2028 by hand. Its
    # columns still say FY2024 Actual ... FY2027 Target; the analyst filled them by position
    # with FY2025 and FY2026 actuals, FY2027 target and mid-year actual, and FY2028 targets.
    file="dhcd-plan-fy2028-outdated-template.xlsx", template_year=2027, agency="DHCD",
    about="Housing and Community Development, FY2028 Plan typed into last year's FY2027 "
          "template: Fiscal Year changed to 2028, the year columns left as they were.",
    fields=fields(2028, "Plan", "Brian Kowalski", "brian.kowalski@baltimorecity.gov",
                  "410-396-3023", "Sharon Ellis", dt.date(2027, 4, 12), dt.date(2027, 4, 14)),
    services=[
        Service(742, 3_860_000, "Homebuyer incentives, counseling and Vacants to Value "
                                "homeownership grants."),
        Service(745, 16_920_000, "Inspections and enforcement of the housing code, including "
                                 "vacant building notices."),
        Service(749, 9_440_000, "Acquiring, holding and selling City-owned vacant property."),
    ],
    measures=[
        Measure("DHCD-742-01", 742, "Homebuyer incentive grants awarded", "Output", "Count",
                "Increase", "Quarterly", "DHCD homeownership incentive database",
                412, 455, 470, 231, 480, key_measure="No", equity_focus="Yes"),
        Measure("DHCD-742-02", 742, "Percent of incentive recipients still owner-occupants after "
                "five years", "Outcome", "Percent", "Increase", "Annually",
                "SDAT property records", 0.88, 0.90, 0.90, None, 0.91),
        Measure("DHCD-745-01", 745, "Housing code inspections completed", "Output", "Count",
                "Increase", "Monthly", "CHAMPS code enforcement system",
                61_500, 64_200, 65_000, 32_800, 66_000, key_measure="No"),
        Measure("DHCD-745-02", 745, "Percent of serious housing code complaints inspected "
                "within 3 days", "Effectiveness", "Percent", "Increase", "Monthly",
                "CHAMPS code enforcement system", 0.83, 0.87, 0.90, 0.88, 0.92,
                equity_focus="Yes"),
        Measure("DHCD-745-03", 745, "Vacant buildings", "Outcome", "Count", "Decrease",
                "Quarterly", "CHAMPS code enforcement system", 13_850, 13_200, 12_500, 12_900,
                12_000, equity_focus="Yes"),
        Measure("DHCD-749-01", 749, "City-owned properties sold for redevelopment", "Output",
                "Count", "Increase", "Quarterly", "DHCD land resources database",
                260, 315, 350, 150, 380, key_measure="No"),
        Measure("DHCD-749-02", 749, "Average days from application to sale of a City-owned "
                "property", "Efficiency", "Days", "Decrease", "Quarterly",
                "DHCD land resources database", 410, 352, 300, 318, 280),
        Measure("DHCD-749-03", 749, "Percent of properties sold that are rehabilitated and "
                "occupied within two years", "Outcome", "Percent", "Increase", "Annually",
                "DHCD land resources database; permits", 0.47, 0.52, 0.55, None, 0.58),
    ])


EXAMPLES = [BCFD_PLAN, DOT_MIDYEAR, OPI_YEAREND, DPW_MISSING_TARGETS, BCHD_PERCENT_AS_TEXT,
            BPD_NOT_IN_LIST, MOCFS_UNKNOWN_SERVICE, BCRP_DUPLICATE_IDS, DOT_MISSING_ACTUALS,
            DHCD_OUTDATED_TEMPLATE]


# ---- filling the template ----------------------------------------------------------------------

def build(example: Example):
    """The filled workbook of one example."""
    schema = load_schema(example.template_year)
    wb = build_workbook(schema, example.agency)
    catalog = schema.agencies[example.agency].services

    agency = wb[schema.agency.sheet]
    for row, column in enumerate(schema.agency.columns, start=FIRST_DATA_ROW):
        if column.key in example.fields:
            agency.cell(row, 2, example.fields[column.key])

    services = wb[schema.services.sheet]
    keys = schema.services.keys
    prefilled = len(catalog)
    for n in range(max(prefilled, len(example.services))):   # the services reported on, only
        row = FIRST_DATA_ROW + n
        s = example.services[n] if n < len(example.services) else None
        values = {} if s is None else {
            "service_number": s.number,
            "service_name": s.name or catalog[s.number].name,
            "pillar": s.pillar or catalog[s.number].pillar,
            "budget": s.budget, "description": s.description}
        for c, key in enumerate(keys, start=1):
            services.cell(row, c).value = values.get(key)   # None clears a pre-filled cell

    measures = wb[schema.measures.sheet]
    keys = schema.measures.keys
    measure_keys = {c.key for c in schema.measures.columns if c.type == "measure"}
    for row, m in enumerate(example.measures, start=FIRST_DATA_ROW):
        for c, key in enumerate(keys, start=1):
            value = getattr(m, key)
            cell = measures.cell(row, c, value)
            if m.unit == "Percent" and key in measure_keys and isinstance(value, float):
                # as Excel stores a percent typed as 85%: the fraction, with a percent format
                cell.number_format = "0%" if round(value * 100, 6).is_integer() else "0.0%"
    return wb


# ---- the inputs of docs/cycle.md ----------------------------------------------------------------

def as_fy2027_plan(example: Example, file: str, prepared_by: str, submitted: dt.date,
                   services=(), measures=()) -> Example:
    """An FY2027 update example as the agency sent it at the Plan stage in spring 2026: the
    same services and measures (plus `services` and `measures`), actuals and statuses empty."""
    cleared = [replace(m, midyear_actual=None, yearend_actual=None, status=None,
                       status_explanation=None) for m in example.measures]
    plan_fields = dict(example.fields, fiscal_year=2027, stage="Plan", prepared_by=prepared_by,
                       approval_date=submitted - dt.timedelta(days=3), submission_date=submitted)
    return replace(example, file=file, template_year=2027, fields=plan_fields,
                   services=example.services + list(services), measures=cleared + list(measures))


# The Fire Department's FY2027 plan has one more service, which the FY2028 catalog dropped.
BCFD_EMERGENCY_MANAGEMENT = Service(608, 2_480_000, "Emergency operations center and citywide "
                                                    "preparedness.")
BCFD_EMERGENCY_MEASURES = [
    Measure("BCFD-608-01", 608, "Percent of emergency operations center activations with an "
            "after-action review within 30 days", "Effectiveness", "Percent", "Increase",
            "Quarterly", "OEM after-action log", 0.70, 0.75, 0.80, 0.78, 0.85),
    Measure("BCFD-608-02", 608, "Residents trained in emergency preparedness", "Output", "Count",
            "Increase", "Quarterly", "OEM training roster", 2_100, 2_400, 2_500, 1_300, 2_700,
            key_measure="No"),
]

# folder -> the workbooks in it, as docs/cycle.md lays them out
CYCLE = {
    "submissions/fy2027": [
        as_fy2027_plan(BCFD_PLAN, "bcfd-plan-fy2027.xlsx", "Dana Reyes", dt.date(2026, 4, 13),
                       [BCFD_EMERGENCY_MANAGEMENT], BCFD_EMERGENCY_MEASURES),
        as_fy2027_plan(DOT_MIDYEAR, "dot-plan-fy2027.xlsx", "Kevin Osei", dt.date(2026, 4, 15)),
        as_fy2027_plan(OPI_YEAREND, "opi-plan-fy2027.xlsx", "Priya Natarajan",
                       dt.date(2026, 4, 10)),
    ],
    "updates/midyear": [DOT_MIDYEAR],
    # the same update with a changed target: DOT-683-03's approved 200 became 180
    "updates/midyear-v2": [replace(DOT_MIDYEAR, file="dot-midyear-fy2027-v2.xlsx",
                                   measures=changed(DOT_MEASURES, {"DOT-683-03": {"target": 180}}))],
    "updates/yearend": [OPI_YEAREND],
}


def write_cycle(folder: Path) -> list[Path]:
    """The FY2027 plans and updates docs/cycle.md works with, written under `folder`."""
    written = []
    for sub, examples in CYCLE.items():
        (folder / sub).mkdir(parents=True, exist_ok=True)
        for example in examples:
            path = folder / sub / Path(example.file).name   # the FY2027 updates live in fy2027/ here
            save_workbook(build(example), path)
            written.append(path)
    return written


# ---- the README's console blocks ------------------------------------------------------------

README = HERE / "README.md"
CONSOLE_BLOCK = re.compile(r"^```console\n(.*?)^```$", re.M | re.S)


def run_command(command: str) -> str:
    """The stdout of one `planvalidator ...` command line, run as in the repository root
    (examples/ is reachable, any file it writes lands in a scratch folder)."""
    from click.testing import CliRunner

    from planvalidator.cli import main as cli

    args = shlex.split(command)
    assert args[0] == "planvalidator", command
    with tempfile.TemporaryDirectory() as scratch, contextlib.chdir(scratch):
        os.symlink(HERE, "examples")
        return CliRunner().invoke(cli, args[1:]).stdout


def readme_with_output(text: str) -> str:
    """README text with every ```console block's output replaced by a fresh run of its
    `$ planvalidator ...` lines."""
    def block(match):
        commands = [line[2:] for line in match.group(1).splitlines() if line.startswith("$ ")]
        body = "".join(f"$ {c}\n{run_command(c)}" for c in commands)
        return f"```console\n{body}```"
    return CONSOLE_BLOCK.sub(block, text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=HERE, metavar="DIR",
                        help="folder to write the examples to (default: examples/)")
    parser.add_argument("--readme", action="store_true",
                        help="rerun the commands in examples/README.md and paste their output")
    parser.add_argument("--cycle", type=Path, metavar="DIR",
                        help="write the FY2027 plans and updates docs/cycle.md uses into DIR")
    args = parser.parse_args(argv)
    if args.cycle:
        for path in write_cycle(args.cycle):
            print(path)
        return
    if args.readme:
        README.write_text(readme_with_output(README.read_text(encoding="utf-8")), encoding="utf-8")
        print(README)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    for example in EXAMPLES:
        path = args.out / example.file
        path.parent.mkdir(exist_ok=True)   # fy2027/: a merge of examples/ takes one year's plans
        save_workbook(build(example), path)
        print(path)


if __name__ == "__main__":
    main()
