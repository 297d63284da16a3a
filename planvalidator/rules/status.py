"""A measure's status computed from its actual, target and desired direction: the one
computation behind the status-inconsistent rule and the consolidated plan's Computed Status."""

from __future__ import annotations

import numpy as np

from .frames import measures_frame


def expected_status(df, at_risk_within: float, statuses, directions) -> np.ndarray:
    """Per row of a measures frame (or a mapping of its columns to arrays): on track / at risk /
    off track / no data (the schema's `statuses` in that order), or "" when there is no target
    to judge against. `directions`: the values meaning increase, decrease and maintain.
    Mid-year actuals of cumulative units (counts, dollars, hours) are compared with half the
    annual target."""
    on_track, at_risk, off_track, no_data = statuses
    _, decrease, maintain = directions
    target = np.asarray(df["target"])
    target = np.where(np.asarray(df["prorate"]), target / 2, target)
    actual, direction = np.asarray(df["actual"]), np.asarray(df["direction"])
    margin = at_risk_within * np.abs(target)
    maintained = direction == maintain
    # gap: how far the actual is on the good side of the target (negative: short of it)
    gap = np.where(direction == decrease, target - actual, actual - target)
    gap = np.where(maintained, -np.abs(actual - target), gap)
    slack = np.where(maintained, margin, 0.0)
    with np.errstate(invalid="ignore"):
        status = np.select([np.isnan(target), np.isnan(actual), gap >= -slack,
                            gap >= -margin - slack],
                           ["", no_data, on_track, at_risk], off_track)
    return status.astype(object)


def schema_status(df, schema) -> np.ndarray:
    """expected_status with the schema's thresholds and roles."""
    return expected_status(df, schema.at_risk_within, schema.roles.statuses,
                           schema.roles.directions)


def computed_status(plans: list) -> list[list[str]]:
    """Per plan, per measure: its expected status ("" without a target), with each plan's
    schema; from the measures frame its validation built when there is one."""
    out: list[list[str]] = [[] for _ in plans]
    groups: dict = {}
    for n, plan in enumerate(plans):
        if plan.measure_columns is not None:
            out[n] = list(schema_status(plan.measure_columns, plan.schema))
        else:
            groups.setdefault(plan.schema, []).append(n)
    for schema, members in groups.items():
        columns = measures_frame([plans[n] for n in members]).columns
        for p, status in zip(columns["plan"], schema_status(columns, schema)):
            out[members[p]].append(status)
    return out
