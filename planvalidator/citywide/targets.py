"""The one definition of "a measure without a target", used by every count of them: the
consolidated workbook's Summary (and the Dashboard chart drawn from it) and By Pillar, and the
merge summary (text and JSON).

A measure is without a target when its plan-year target is not a number: the cell is empty,
holds a placeholder ('TBD'), text that is not a number ('about 40') or a formula error; and
every measure of a plan whose target column is missing is without one. A zero target is a
target (it has a warning of its own).
"""

from __future__ import annotations

import math

from ..read.plan import Plan

TARGET = "target"   # the schema key of the plan year's target


def has_target(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return not math.isnan(value)


def without_target(plan: Plan) -> list[bool]:
    """For each measure of `plan`, in sheet order: True when it has no target."""
    m = plan.measures
    targets = m.values.get(TARGET) or [None] * len(m.rows)
    return [not has_target(t) for t in targets]


def missing_targets(plan: Plan) -> int:
    """How many of `plan`'s measures have no target."""
    return sum(without_target(plan))
