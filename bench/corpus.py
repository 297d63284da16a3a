"""A seeded corpus of FY2028 agency plan workbooks for the benchmarks.

    python bench/corpus.py [--out bench/corpus] [--seed 2028]

For each size (25, 120 and 400 measures) it writes one valid plan and one "bad" plan in which
~10% of the measure rows carry a typical mistake (empty target, "TBD", a measure type that is
not in the list, "about 40" in a number column, a duplicate Measure ID, a service that is not
on the Services sheet). Every workbook is the real template (templates.build_workbook) filled
with realistic values, saved with output.save_workbook, so the same seed gives the same bytes.
It then validates each file: a valid one must have no errors and no warnings.

`make_plan(schema, agency, n_measures, bad_fraction, rng)` builds one such workbook in memory
for other benchmarks (e.g. a whole-city merge).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
from collections import Counter
from pathlib import Path

from openpyxl import Workbook

from planvalidator.output.atomic import save_workbook
from planvalidator.schema.loader import Schema, load_schema
from planvalidator.output.templates import FIRST_DATA_ROW, build_workbook

FISCAL_YEAR = 2028
SIZES = (25, 120, 400)
AGENCY_FOR_SIZE = {25: "DPW", 120: "BCHD", 400: "BPD"}  # 12, 17 and 14 catalog services
BAD_FRACTION = 0.10
MISTAKES = ("empty-target", "tbd-target", "bad-type", "text-number", "duplicate-id",
            "unknown-service")

# (type, unit, direction, name) — each a measure a performance office would accept; {s} is the
# service name. Directions are what the measure's wording implies.
KINDS = {
    "Output": [
        ("Count", "Increase", "Number of {s} requests completed"),
        ("Count", "Increase", "Number of residents served by {s}"),
        ("Count", "Increase", "Number of {s} inspections conducted"),
        ("Count", "Maintain", "Number of {s} community events held"),
        ("Dollars", "Increase", "Grant dollars leveraged for {s}"),
        ("Hours", "Increase", "Staff hours of {s} delivered"),
    ],
    "Efficiency": [
        ("Days", "Decrease", "Average days to complete a {s} request"),
        ("Days", "Decrease", "Median days to close {s} service requests"),
        ("Minutes", "Decrease", "Average response time for {s}"),
        ("Hours", "Decrease", "Average staff hours per {s} case"),
        ("Dollars", "Decrease", "Cost per unit of {s} delivered"),
        ("Rate", "Increase", "{s} cases handled per FTE per month"),
    ],
    "Effectiveness": [
        ("Percent", "Increase", "% of {s} requests completed within the service standard"),
        ("Percent", "Increase", "% of {s} work passing quality review"),
        ("Score", "Increase", "Average customer satisfaction score for {s}"),
        ("Rate", "Decrease", "Errors per 1,000 {s} transactions"),
        ("Percent", "Maintain", "% of {s} staff positions filled"),
    ],
    "Outcome": [
        ("Percent", "Increase", "% of residents satisfied with {s}"),
        ("Percent", "Increase", "% of participants better off after {s}"),
        ("Rate", "Decrease", "Repeat incidents per 1,000 residents ({s})"),
        ("Score", "Increase", "Neighborhood condition score ({s})"),
        ("Count", "Increase", "Number of residents reporting improved outcomes from {s}"),
    ],
}
TYPE_WEIGHTS = {"Output": 4, "Efficiency": 3, "Effectiveness": 3, "Outcome": 2}
# unit → (low, high, decimals) of a plausible last actual
MAGNITUDE = {"Count": (50, 50_000, 0), "Dollars": (10_000, 5_000_000, 0), "Days": (2, 60, 1),
             "Minutes": (3, 30, 1), "Hours": (1, 40, 1), "Rate": (0.5, 50, 2),
             "Score": (50, 95, 1), "Percent": (0.40, 0.95, 3)}
DATA_SOURCES = ("CitiStat database", "311 CSR system", "Workday", "Agency case management system",
                "Annual resident survey", "Program records", "CAD dispatch data", "Finance ledger")
FREQUENCIES = ("Monthly", "Quarterly", "Semi-Annually", "Annually")
RATIONALES = ("Continues the multi-year improvement trend.",
              "Reflects added staff funded in the FY2028 budget.",
              "Aligned with the Mayor's Action Plan goal.",
              "Based on the national benchmark for comparable cities.")
PEOPLE = ("Jordan Ellis", "Morgan Reyes", "Taylor Brooks", "Casey Nguyen", "Avery Johnson",
          "Riley Carter", "Quinn Thompson", "Jamie Patel")


def make_plan(schema: Schema, agency: str, n_measures: int, bad_fraction: float,
              rng: random.Random) -> Workbook:
    """An agency's filled plan workbook for schema.fiscal_year at the Plan stage.

    With bad_fraction 0 it validates with no errors and no warnings. Otherwise
    round(n_measures * bad_fraction) measure rows (never a service's only Outcome or
    Effectiveness measure) each get one typical mistake, cycling through MISTAKES.
    """
    catalog = schema.agencies[agency]
    numbers = sorted(catalog.services)
    # Two or more measures per service; an agency with fewer measures reports on fewer services.
    numbers = numbers[:max(1, min(len(numbers), n_measures // 2))]
    if n_measures > 99 * len(numbers):
        raise ValueError(f"{agency} has {len(numbers)} services: at most {99 * len(numbers)} "
                         f"measures fit two-digit measure numbers.")
    wb = build_workbook(schema, agency)
    _fill_agency(wb[schema.agency.sheet], schema, agency, rng)
    _fill_services(wb[schema.services.sheet], schema, agency, numbers, rng)
    rows = _measures(schema, agency, numbers, n_measures, rng)
    if bad_fraction > 0:
        _spoil(rows, agency, numbers, round(n_measures * bad_fraction), rng)
    ws = wb[schema.measures.sheet]
    keys = schema.measures.keys
    for r, row in enumerate(rows, start=FIRST_DATA_ROW):
        for key, value in row.items():
            if value is not None and key in keys:
                ws.cell(r, keys.index(key) + 1, value)
    return wb


def _fill_agency(ws, schema: Schema, agency: str, rng: random.Random) -> None:
    prepared, head = rng.sample(PEOPLE, 2)
    approved = dt.date(schema.fiscal_year - 1, 5, rng.randint(1, 20))
    values = {
        "agency_code": agency, "agency_name": schema.agencies[agency].name,
        "fiscal_year": schema.fiscal_year, "stage": schema.stages[0],
        "prepared_by": prepared,
        "email": f"{prepared.split()[0].lower()}.{prepared.split()[1].lower()}@baltimorecity.gov",
        "phone": f"410-396-{rng.randint(1000, 9999)}", "agency_head": head,
        "head_approval": "Yes", "approval_date": approved,
        "submission_date": approved + dt.timedelta(days=rng.randint(3, 20)),
    }
    for row, column in enumerate(schema.agency.columns, start=FIRST_DATA_ROW):
        ws.cell(row, 2, values.get(column.key))


def _fill_services(ws, schema: Schema, agency: str, numbers: list[int],
                   rng: random.Random) -> None:
    keys = schema.services.keys
    services = schema.agencies[agency].services
    for r in range(FIRST_DATA_ROW, FIRST_DATA_ROW + len(services)):  # clear the pre-fill
        for c in range(1, len(keys) + 1):
            ws.cell(r, c).value = None
    for r, number in enumerate(numbers, start=FIRST_DATA_ROW):
        service = services[number]
        for key, value in (("service_number", number), ("service_name", service.name),
                           ("pillar", service.pillar),
                           ("budget", rng.randrange(250_000, 60_000_000, 1000)),
                           ("description", f"{service.name}: delivered by {agency} staff citywide.")):
            ws.cell(r, keys.index(key) + 1, value)


def _measures(schema: Schema, agency: str, numbers: list[int], n: int,
              rng: random.Random) -> list[dict]:
    per, extra = divmod(n, len(numbers))
    rows = []
    for s, number in enumerate(numbers):
        name = schema.agencies[agency].services[number].name
        for k in range(per + (s < extra)):
            if k == 0:  # every service has an Outcome or Effectiveness measure
                mtype = rng.choice(("Outcome", "Effectiveness"))
            else:
                mtype = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()))[0]
            row = _measure(mtype, name, rng)
            row |= {"measure_id": f"{agency}-{number}-{k + 1:02d}", "service_number": number,
                    "_first": k == 0}
            rows.append(row)
    return rows


def _measure(mtype: str, service: str, rng: random.Random) -> dict:
    unit, direction, name = rng.choice(KINDS[mtype])
    low, high, places = MAGNITUDE[unit]
    baseline = _round(rng.uniform(low, high), places)
    sign = {"Increase": 1, "Decrease": -1, "Maintain": 0}[direction]
    # An improving trend: FY-3 → FY-2 (the baseline) → the new target, never less ambitious.
    y3 = _round(baseline * (1 - sign * rng.uniform(0, 0.08)), places)
    target = _round(baseline * (1 + sign * rng.uniform(0.01, 0.10)), places)
    if unit == "Percent":
        y3, target = min(y3, 1.0), min(target, 1.0)
    if direction == "Increase":
        target = max(target, baseline)
    elif direction == "Decrease":
        target = min(target, baseline)
    target_y1 = _round(baseline * rng.uniform(0.95, 1.05), places)
    midyear_y1 = _round(target_y1 * rng.uniform(0.4, 0.6) if unit in ("Count", "Dollars", "Hours")
                        else baseline * rng.uniform(0.95, 1.05), places)
    if unit == "Percent":
        target_y1, midyear_y1 = min(target_y1, 1.0), min(midyear_y1, 1.0)
    return {
        "measure_name": name.format(s=service), "measure_type": mtype, "unit": unit,
        "direction": direction, "frequency": rng.choice(FREQUENCIES),
        "data_source": rng.choice(DATA_SOURCES),
        "actual_y3": y3 if rng.random() > 0.1 else None,  # some measures are newer
        "actual_y2": baseline, "target_y1": target_y1,
        "midyear_y1": midyear_y1 if rng.random() > 0.2 else None,
        "target": target,
        "target_rationale": rng.choice(RATIONALES) if rng.random() < 0.3 else None,
        "key_measure": "Yes" if rng.random() < 0.3 else "No",
        "equity_focus": "Yes" if rng.random() < 0.25 else "No",
        "notes": "Definition revised in FY2027." if rng.random() < 0.05 else None,
    }


def _round(x: float, places: int):
    return int(round(x)) if places == 0 else round(x, places)


def _spoil(rows: list[dict], agency: str, numbers: list[int], count: int,
           rng: random.Random) -> None:
    """Give `count` rows one typical mistake each (a row may only be spoiled once)."""
    candidates = [i for i, row in enumerate(rows) if not row["_first"]]
    chosen = sorted(rng.sample(candidates, min(count, len(candidates))))
    order = list(MISTAKES)
    rng.shuffle(order)
    unlisted = [n for n in range(100, 1000) if n not in numbers]
    ids = [row["measure_id"] for row in rows]  # before any is spoiled
    for n, i in enumerate(chosen):
        row, mistake = rows[i], order[n % len(order)]
        if mistake == "empty-target":
            row["target"] = None
        elif mistake == "tbd-target":
            row["target"] = "TBD"
        elif mistake == "bad-type":
            row["measure_type"] = rng.choice(("Input", "Quality", "Outputs", "KPI"))
        elif mistake == "text-number":
            row[rng.choice(("actual_y2", "target_y1"))] = "about 40"
            row["actual_y3"] = None  # keeps the row free of a second, unrelated finding
        elif mistake == "duplicate-id":
            row["measure_id"] = ids[i - 1]  # same service: never the first row
        elif mistake == "unknown-service":
            number = rng.choice(unlisted)
            row["service_number"] = number
            row["measure_id"] = f"{agency}-{number}-{rng.randint(1, 99):02d}"
        row["_mistake"] = mistake


def build_corpus(out: Path, seed: int) -> list[dict]:
    """Write the corpus and a manifest.json describing it; return the manifest."""
    schema = load_schema(FISCAL_YEAR)
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for size in SIZES:
        agency = AGENCY_FOR_SIZE[size]
        for kind, fraction in (("valid", 0.0), ("bad", BAD_FRACTION)):
            rng = random.Random(f"{seed}:{agency}:{size}:{kind}")  # str seeds are hash-stable
            wb = make_plan(schema, agency, size, fraction, rng)
            name = f"fy{FISCAL_YEAR}-{agency}-{size:03d}-{kind}.xlsx"
            save_workbook(wb, out / name)
            manifest.append({"file": name, "agency": agency, "measures": size, "kind": kind,
                             "bad_rows": round(size * fraction)})
    (out / "manifest.json").write_text(json.dumps({"seed": seed, "files": manifest}, indent=2)
                                       + "\n")
    return manifest


def check_corpus(out: Path, manifest: list[dict]) -> bool:
    """Validate every file: valid ones must be clean; print what the bad ones yield."""
    from planvalidator.rules.validate import validate_workbook
    ok = True
    for entry in manifest:
        report = validate_workbook(out / entry["file"])
        codes = Counter(f.code for f in report.findings)
        line = (f"{entry['file']}: {report.errors} errors, {report.warnings} warnings, "
                f"{report.count('info')} infos")
        if entry["kind"] == "valid":
            clean = not report.findings
            ok &= clean
            print(f"{line} — {'clean' if clean else 'NOT CLEAN: ' + str(dict(codes))}")
        else:
            print(f"{line} ({entry['bad_rows']} bad rows) — "
                  + ", ".join(f"{c} {n}" for c, n in sorted(codes.items())))
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "corpus")
    parser.add_argument("--seed", type=int, default=2028)
    args = parser.parse_args(argv)
    manifest = build_corpus(args.out, args.seed)
    print(f"wrote {len(manifest)} workbooks to {args.out}")
    return 0 if check_corpus(args.out, manifest) else 1


if __name__ == "__main__":
    sys.exit(main())
