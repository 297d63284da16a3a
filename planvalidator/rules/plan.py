"""Rules across the plan's sheets: measures belong to listed services of the catalog, measure
IDs name the plan's agency and the measure's service, services have (outcome) measures.

They run on the measures and services frames (one row per measure, per service); a finding
lands on the row's cell in the record's `lands_on` column.
"""

from __future__ import annotations

from .rule import MEASURES, SERVICES, Rule, col, isin, ok


def known_service(df):
    return ok(df, (col(df, "service_number") > 0) & ~col(df, "service_listed"))


def id_matches_agency(df):
    ids, agency = col(df, "id_agency"), col(df, "agency_code")
    return ok(df, (ids != "") & (agency != "") & (ids != agency))


def id_matches_service(df):
    ids, svc = col(df, "id_service"), col(df, "service_number")
    return ok(df, (ids > 0) & (svc > 0) & (ids != svc))


def in_catalog(df, *, catalog):
    """Services are in the agency's catalog ("AGENCY:number" pairs); unknown agencies are
    reported on the Agency sheet instead."""
    svc, agency = col(df, "service_number"), col(df, "agency_code")
    judged = (svc > 0) & col(df, "agency_known")
    return ok(df, judged & ~isin([f"{a}:{s}" for a, s in zip(agency, svc)], catalog))


def has_measures(df):
    return ok(df, (col(df, "service_number") > 0) & (col(df, "measure_count") == 0))


def has_outcome_measure(df):
    return ok(df, (col(df, "measure_count") > 0) & (col(df, "outcome_count") == 0))


def _agency(plan, data, column, i, row):
    return {"agency": plan.agency_code}


def _catalog(schema) -> dict:
    return {"catalog": [f"{a.code}:{n}" for a in schema.agencies.values() for n in a.services]}


RULES = (
    Rule("unknown-service", MEASURES, known_service,
         lambda c: (f"{c.location}: measure {c.measure_id or ''} belongs to service {c.shown}, "
                    f"which is not listed on the Services sheet."),
         lands_on="service_number"),
    Rule("agency-mismatch", MEASURES, id_matches_agency,
         lambda c: f"{c.location} holds {c.shown}, but the plan is for agency {c.extra['agency']}.",
         lands_on="measure_id", facts=_agency),
    Rule("bad-measure-id", MEASURES, id_matches_service,
         lambda c: (f"{c.location} holds the measure ID {c.shown}, which does not name service "
                    f"{c.extra['service']} given in Service Number."),
         lands_on="measure_id",
         facts=lambda plan, data, column, i, row: {"service": int(row["service_number"].iat[0])}),
    Rule("service-not-in-catalog", SERVICES, in_catalog,
         lambda c: (f"{c.location}: service {c.shown} is not one of {c.extra['agency']}'s "
                    f"services in the FY{c.extra['year']} service catalog."),
         lands_on="service_number", params=_catalog,
         facts=lambda plan, data, column, i, row: {"agency": plan.agency_code,
                                                   "year": plan.schema.fiscal_year}),
    Rule("service-without-measures", SERVICES, has_measures,
         lambda c: f"{c.location}: service {c.shown} has no measures.", lands_on="service_number"),
    Rule("no-outcome-measure", SERVICES, has_outcome_measure,
         lambda c: (f"{c.location}: service {c.shown} has no "
                    f"{' or '.join(c.extra['outcome_types'])} measure."),
         lands_on="service_number",
         facts=lambda plan, data, column, i, row: {
             "outcome_types": plan.schema.roles.outcome_types}),
)
