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
    Rule("unknown-service", MEASURES, known_service, lands_on="service_number"),
    Rule("agency-mismatch", MEASURES, id_matches_agency, lands_on="measure_id", facts=_agency),
    Rule("bad-measure-id", MEASURES, id_matches_service, lands_on="measure_id",
         facts=lambda plan, data, column, i, row: {
             "variant": "service", "service": int(row["service_number"])}),
    Rule("service-not-in-catalog", SERVICES, in_catalog, lands_on="service_number",
         params=_catalog,
         facts=lambda plan, data, column, i, row: {"agency": plan.agency_code,
                                                   "year": plan.schema.fiscal_year}),
    Rule("service-without-measures", SERVICES, has_measures, lands_on="service_number"),
    Rule("no-outcome-measure", SERVICES, has_outcome_measure, lands_on="service_number",
         facts=lambda plan, data, column, i, row: {
             "outcome_types": " or ".join(plan.schema.roles.outcome_types)}),
)
