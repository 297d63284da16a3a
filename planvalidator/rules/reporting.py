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
    given = col(df, "status")
    rows = np.flatnonzero(given != "")
    bad = np.zeros(len(given), bool)
    if not len(rows):   # a plan: no status given, nothing to compare
        return ok(df, bad)
    given = given[rows]
    computed = expected_status({k: col(df, k)[rows] for k in ("target", "prorate", "actual",
                                                               "direction")},
                               at_risk_within, statuses, directions)
    contradiction = (((given == on_track) & (computed == off_track))
                     | ((given == off_track) & (computed == on_track))
                     | ((given == no_data) & (computed != no_data))
                     | ((given != no_data) & (computed == no_data)))
    bad[rows] = (computed != "") & contradiction
    return ok(df, bad)


def _inconsistent_facts(plan, data, column, i, row) -> dict:
    prorated = bool(row["prorate"])
    target = row["target"] / 2 if prorated else row["target"]
    one_row = {k: np.array([v]) for k, v in row.items()}
    expected, no_data = schema_status(one_row, plan.schema)[0], plan.schema.roles.no_data
    variant = "no-actual" if expected == no_data else "prorated" if prorated else ""
    return {"variant": variant, "actual": row["actual"], "target": target,
            "direction": row["direction"].lower(), "no_data": no_data,
            "expected": expected}


def _empty_actual(code: str, stage: str) -> Rule:
    """An empty actual that the update of `stage` (a role: midyear, yearend) reports."""
    return empty_rule(code, facts=lambda plan, data, column, i, row: {
        "stage": getattr(plan.schema.roles, stage)})


def _at_risk_or_off_track(schema) -> dict:
    return {"statuses": [schema.roles.at_risk, schema.roles.off_track]}


def _thresholds(schema) -> dict:
    return {"at_risk_within": schema.at_risk_within, "statuses": list(schema.roles.statuses),
            "directions": list(schema.roles.directions)}


RULES = (
    _empty_actual("missing-midyear-actual", "midyear"),
    _empty_actual("missing-yearend-actual", "yearend"),
    Rule("missing-status-explanation", MEASURES, status_explained,
         lands_on="status_explanation", params=_at_risk_or_off_track,
         facts=lambda plan, data, column, i, row: {"status": row["status"]}),
    Rule("status-inconsistent", MEASURES, status_consistent, lands_on="status",
         params=_thresholds, facts=_inconsistent_facts),
)
