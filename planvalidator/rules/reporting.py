"""Rules of the Mid-Year and Year-End Updates: actuals reported, statuses explained and
consistent with the actuals."""

from __future__ import annotations

import numpy as np

from .rule import MEASURES, Rule, col, empty_rule, ok
from .status import expected_status, schema_status


def status_explained(df, *, statuses):
    """Measures whose status is one of `statuses` (at risk, off track) have an explanation."""
    status = col(df, "status")
    needs = np.logical_or.reduce([status == s for s in statuses])
    return ok(df, needs & ~col(df, "has_explanation"))


def status_consistent(df, *, at_risk_within, statuses, directions):
    """Flags clear contradictions only: on track vs off track either way, or a status that
    claims data there isn't (or denies data there is). At risk is a judgement call.
    `statuses`: on track, at risk, off track, no data; `directions` as in expected_status."""
    on_track, _, off_track, no_data = statuses
    computed = expected_status(df, at_risk_within, statuses, directions)
    given = col(df, "status")
    judged = (given != "") & (computed != "")
    contradiction = (((given == on_track) & (computed == off_track))
                     | ((given == off_track) & (computed == on_track))
                     | ((given == no_data) & (computed != no_data))
                     | ((given != no_data) & (computed == no_data)))
    return ok(df, judged & contradiction)


def _g(v) -> str:
    return "none" if v is None or v != v else f"{v:g}"


def _inconsistent_message(c) -> str:
    if c.extra["expected"] == c.extra["no_data"]:
        return (f"{c.location}: measure {c.measure_id} is marked {c.shown}, but it has no actual "
                f"to report, so its status is {c.extra['no_data']}.")
    half = " (half the annual target, at mid-year)" if c.extra["prorated"] else ""
    return (f"{c.location}: measure {c.measure_id} is marked {c.shown}, but its actual "
            f"{_g(c.extra['actual'])} against the target {_g(c.extra['target'])}{half} "
            f"for a measure meant to {c.extra['direction'].lower()} looks {c.extra['expected']}.")


def _inconsistent_facts(plan, data, column, i, row) -> dict:
    prorated = bool(row["prorate"].iat[0])
    target = row["target"].iat[0] / 2 if prorated else row["target"].iat[0]
    return {"actual": row["actual"].iat[0], "target": target, "prorated": prorated,
            "direction": row["direction"].iat[0], "no_data": plan.schema.roles.no_data,
            "expected": schema_status(row, plan.schema)[0]}


def _empty_actual(code: str, stage: str, what: str) -> Rule:
    """An empty actual that the update of `stage` (a role: midyear, yearend) reports."""
    return empty_rule(code, lambda c: (f"{c.location} ({c.subject}) is empty: a "
                                       f"{c.extra['stage']} reports every measure's {what}."),
                      facts=lambda plan, data, column, i, row: {
                          "stage": getattr(plan.schema.roles, stage)})


def _at_risk_or_off_track(schema) -> dict:
    return {"statuses": [schema.roles.at_risk, schema.roles.off_track]}


def _thresholds(schema) -> dict:
    return {"at_risk_within": schema.at_risk_within, "statuses": list(schema.roles.statuses),
            "directions": list(schema.roles.directions)}


RULES = (
    _empty_actual("missing-midyear-actual", "midyear", "mid-year actual"),
    _empty_actual("missing-yearend-actual", "yearend", "year-end actual"),
    Rule("missing-status-explanation", MEASURES, status_explained,
         lambda c: (f"{c.location} ({c.subject}) is empty while Status is {c.extra['status']}: "
                    f"explain what happened."),
         lands_on="status_explanation", params=_at_risk_or_off_track,
         facts=lambda plan, data, column, i, row: {"status": row["status"].iat[0]}),
    Rule("status-inconsistent", MEASURES, status_consistent, _inconsistent_message,
         lands_on="status", params=_thresholds, facts=_inconsistent_facts),
)
