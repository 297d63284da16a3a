"""Rules about a measure's target: present, a real number, not zero, ambitious enough."""

from __future__ import annotations

import numpy as np

from .rule import CELLS, MEASURES, Rule, col, empty_rule, ok, where


def placeholder(df, placeholders) -> np.ndarray:
    """Target cells holding placeholder text (TBD, N/A, ...), without case or spaces."""
    folded = {p.casefold() for p in placeholders}
    return where(col(df, "c_real_target") & col(df, "has_text"), col(df, "text"),
                 lambda x: x.strip().casefold() in folded)


def real_target(df, *, placeholders):
    return ok(df, placeholder(df, placeholders))


def nonzero_target(df):
    return ok(df, col(df, "c_real_target") & (col(df, "number") == 0))


def target_vs_baseline(df, *, directions):
    """A target is no worse than the last actual in the desired direction, or has a rationale.
    `directions`: the values meaning increase, decrease (and maintain), from the roles."""
    increase, decrease = directions[0], directions[1]
    direction, target, baseline = col(df, "direction"), col(df, "target"), col(df, "baseline")
    worse = (((direction == increase) & (target < baseline))
             | ((direction == decrease) & (target > baseline)))
    return ok(df, worse & ~col(df, "has_rationale"))


def _baseline(plan, data, column, i, row):
    return {"baseline": row["baseline"], "direction": row["direction"].lower()}


RULES = (
    empty_rule("missing-target"),
    Rule("placeholder-target", CELLS, real_target,
         params=lambda schema: {"placeholders": list(schema.placeholders)}),
    Rule("zero-target", CELLS, nonzero_target),
    Rule("target-below-baseline", MEASURES, target_vs_baseline, lands_on="target",
         params=lambda schema: {"directions": list(schema.roles.directions)},
         facts=_baseline),
)
