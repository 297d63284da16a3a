"""Custom checks, registered with pandera so the compiled schemas stay declarative.

Each check is vectorized over a whole frame (one row per cell, per measure or per service,
possibly of many plans at once) and returns True where the data passes. Pandera costs a fixed
~0.3 ms per check and far more per failing check, so there are few of them and each yields one
finding code. The frames they run on are built in frames.py.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd
from pandera import extensions

_registered = False


def register() -> None:
    """Register the checks once (pandera keeps a global registry)."""
    global _registered
    if _registered:
        return
    _registered = True
    for fn, statistics in _CHECKS:
        extensions.register_check_method(statistics=statistics)(fn)


# Checks work on numpy arrays: pandas operations cost ~20 µs each, numpy's ~2 µs, and a
# check runs a dozen of them.

def _col(df, name) -> np.ndarray:
    return df[name].to_numpy()


def _ok(df, bad) -> pd.Series:
    return pd.Series(~bad, index=df.index)


def _isin(values, allowed) -> np.ndarray:
    allowed = set(allowed)
    return np.fromiter((v in allowed for v in values), bool, len(values))


def _where(mask: np.ndarray, values: np.ndarray, test) -> np.ndarray:
    """test(value) for the rows in mask (False elsewhere): Python work on those rows only."""
    out = np.zeros(len(mask), bool)
    rows = np.flatnonzero(mask)
    out[rows] = [test(v) for v in values[rows]]
    return out


# --- cells: one row per cell of the Agency, Services and Measures sheets --------------------

def filled(df, *, code):
    """Cells required at the plan's stage are not empty (reported as `code`)."""
    return _ok(df, _col(df, "required") & _col(df, "blank") & (_col(df, "missing_code") == code))


def no_formula_error(df):
    return _ok(df, _col(df, "error"))


def is_number(df, *, placeholders):
    return _ok(df, _col(df, "numeric") & _col(df, "unparsed") & ~_placeholder(df, placeholders))


def is_date(df):
    return _ok(df, (_col(df, "ctype") == "date") & _col(df, "unparsed"))


def in_list(df, *, allowed):
    """Closed-list cells hold one of the list's choices; `pair` is "list\x1fvalue" or ""."""
    pair, allowed = _col(df, "pair"), set(allowed)
    return _ok(df, _where(pair != "", pair, lambda v: v not in allowed))


def non_negative(df):
    return _ok(df, _col(df, "c_non_negative") & (_col(df, "number") < 0))


def percent_range(df):
    number = _col(df, "number")
    return _ok(df, _col(df, "is_percent") & ((number < 0) | (number > 1)))


def measure_id_format(df, *, pattern):
    match = re.compile(pattern).fullmatch
    text = _col(df, "text")
    ids = _col(df, "c_measure_id_format") & (text != None)  # noqa: E711 - elementwise
    return _ok(df, _where(ids, text, lambda t: not match(t)))


def unique_values(df):
    text = _col(df, "text")
    rows = np.flatnonzero(_col(df, "c_unique") & (text != None))  # noqa: E711 - elementwise
    keys = list(zip(_col(df, "plan")[rows], _col(df, "key")[rows], text[rows]))
    seen = Counter(keys)
    bad = np.zeros(len(df), bool)
    bad[rows] = [seen[k] > 1 for k in keys]
    return _ok(df, bad)


def real_target(df, *, placeholders):
    return _ok(df, _placeholder(df, placeholders))


def nonzero_target(df):
    return _ok(df, _col(df, "c_real_target") & (_col(df, "number") == 0))


def _placeholder(df, placeholders) -> np.ndarray:
    folded = {p.casefold() for p in placeholders}
    text = _col(df, "text")
    return _where(_col(df, "c_real_target") & (text != None), text,  # noqa: E711 - elementwise
                  lambda x: x.strip().casefold() in folded)


# --- measures: one row per measure --------------------------------------------------------

def known_service(df):
    return _ok(df, (_col(df, "service_number") > 0) & ~_col(df, "service_listed"))


def id_matches_agency(df):
    ids, agency = _col(df, "id_agency"), _col(df, "agency_code")
    return _ok(df, (ids != "") & (agency != "") & (ids != agency))


def id_matches_service(df):
    ids, svc = _col(df, "id_service"), _col(df, "service_number")
    return _ok(df, (ids > 0) & (svc > 0) & (ids != svc))


def target_vs_baseline(df):
    """A target is no worse than the last actual in the desired direction, or has a rationale."""
    direction, target, baseline = _col(df, "direction"), _col(df, "target"), _col(df, "baseline")
    worse = (((direction == "Increase") & (target < baseline))
             | ((direction == "Decrease") & (target > baseline)))
    return _ok(df, worse & ~_col(df, "has_rationale"))


def status_explained(df):
    status = _col(df, "status")
    return _ok(df, ((status == "At Risk") | (status == "Off Track")) & ~_col(df, "has_explanation"))


def status_consistent(df, *, at_risk_within):
    """Flags clear contradictions only: On Track vs Off Track either way, or a status that
    claims data there isn't (or denies data there is). At Risk is a judgement call."""
    computed = expected_status(df, at_risk_within)
    given = _col(df, "status")
    judged = (given != "") & (computed != "")
    contradiction = (((given == "On Track") & (computed == "Off Track"))
                     | ((given == "Off Track") & (computed == "On Track"))
                     | ((given == "No Data") & (computed != "No Data"))
                     | ((given != "No Data") & (computed == "No Data")))
    return _ok(df, judged & contradiction)


def expected_status(df, at_risk_within: float) -> np.ndarray:
    """On Track / At Risk / Off Track / No Data from actual, target and direction; "" when
    there is no target to judge against. Mid-year actuals of cumulative units (counts, dollars,
    hours) are compared with half the annual target."""
    target = np.where(_col(df, "prorate"), _col(df, "target") / 2, _col(df, "target"))
    actual, direction = _col(df, "actual"), _col(df, "direction")
    margin = at_risk_within * np.abs(target)
    maintain = direction == "Maintain"
    # gap: how far the actual is on the good side of the target (negative: short of it)
    gap = np.where(direction == "Decrease", target - actual, actual - target)
    gap = np.where(maintain, -np.abs(actual - target), gap)
    slack = np.where(maintain, margin, 0.0)
    with np.errstate(invalid="ignore"):
        status = np.select([np.isnan(target), np.isnan(actual), gap >= -slack,
                            gap >= -margin - slack],
                           ["", "No Data", "On Track", "At Risk"], "Off Track")
    return status.astype(object)


# --- services: one row per service --------------------------------------------------------

def in_catalog(df, *, catalog):
    """Services are in the agency's catalog ("AGENCY:number" pairs); unknown agencies are
    reported on the Agency sheet instead."""
    svc, agency = _col(df, "service_number"), _col(df, "agency_code")
    judged = (svc > 0) & _col(df, "agency_known")
    return _ok(df, judged & ~_isin([f"{a}:{s}" for a, s in zip(agency, svc)], catalog))


def has_measures(df):
    return _ok(df, (_col(df, "service_number") > 0) & (_col(df, "measure_count") == 0))


def has_outcome_measure(df):
    return _ok(df, (_col(df, "measure_count") > 0) & (_col(df, "outcome_count") == 0))


_CHECKS = [
    (filled, ["code"]), (no_formula_error, []), (is_number, ["placeholders"]), (is_date, []),
    (in_list, ["allowed"]), (non_negative, []), (percent_range, []),
    (measure_id_format, ["pattern"]), (unique_values, []), (real_target, ["placeholders"]),
    (nonzero_target, []),
    (known_service, []), (id_matches_agency, []), (id_matches_service, []),
    (target_vs_baseline, []), (status_explained, []), (status_consistent, ["at_risk_within"]),
    (in_catalog, ["catalog"]), (has_measures, []), (has_outcome_measure, []),
]
