"""Rules about one cell on its own: filled, readable, in its list, in range, well formed.

They run on the cells frame (one row per cell of the Agency, Services and Measures sheets);
a finding lands on the failing cell itself.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from .rule import CELLS, Rule, col, empty_rule, ok, where
from .targets import placeholder


def no_formula_error(df):
    return ok(df, col(df, "error"))


def is_number(df, *, placeholders):
    # a placeholder target is reported as placeholder-target, not here
    return ok(df, col(df, "numeric") & col(df, "unparsed") & ~placeholder(df, placeholders))


def is_date(df):
    return ok(df, (col(df, "ctype") == "date") & col(df, "unparsed"))


def in_list(df, *, allowed):
    """Closed-list cells hold one of the list's choices; `pair` is "list\x1fvalue" or ""."""
    pair, allowed = col(df, "pair"), set(allowed)
    return ok(df, where(pair != "", pair, lambda v: v not in allowed))


def non_negative(df):
    return ok(df, col(df, "c_non_negative") & (col(df, "number") < 0))


def percent_range(df):
    number = col(df, "number")
    return ok(df, col(df, "is_percent") & ((number < 0) | (number > 1)))


def measure_id_format(df, *, pattern):
    match = re.compile(pattern).fullmatch
    text = col(df, "text")
    ids = col(df, "c_measure_id_format") & (text != None)  # noqa: E711 - elementwise
    return ok(df, where(ids, text, lambda t: not match(t)))


def unique_values(df):
    text = col(df, "text")
    rows = np.flatnonzero(col(df, "c_unique") & (text != None))  # noqa: E711 - elementwise
    keys = list(zip(col(df, "plan")[rows], col(df, "key")[rows], text[rows]))
    seen = Counter(keys)
    bad = np.zeros(len(df), bool)
    bad[rows] = [seen[k] > 1 for k in keys]
    return ok(df, bad)


def _formula_message(c):
    if c.extra.get("error"):
        return f"{c.location} ({c.subject}) holds a formula that shows {c.extra['error']}."
    return (f"{c.location} ({c.subject}) holds the formula ={c.extra.get('formula', '')} with no "
            f"saved result (the workbook was not recalculated and saved in Excel).")


def _formula_facts(plan, data, column, i, row):
    raw = data.raw[column.key][i]
    return {"error": raw.text, "formula": raw.formula}


def _percent_message(c):
    meant = (f" — did you mean {c.value:g}%?" if isinstance(c.value, (int, float))
             and 1 < c.value <= 100 else ".")
    return (f"{c.location} ({c.subject}) holds {c.shown} in a {c.extra['unit']} measure; "
            f"percents run from 0% to 100%" + meant)


def _others(plan, data, column, i, row):
    value = data.values[column.key][i]
    return {"others": [data.rows[j] for j, v in enumerate(data.values[column.key])
                       if v == value and j != i]}


def _placeholders(schema) -> dict:
    return {"placeholders": list(schema.placeholders)}


def _allowed(schema) -> dict:
    return {"allowed": [f"{name}\x1f{v}" for name, values in schema.lists.items() for v in values]}


RULES = (
    empty_rule("required-missing",
               lambda c: f"{c.location} ({c.subject}) is empty; it is required."),
    Rule("formula-error", CELLS, no_formula_error, _formula_message, facts=_formula_facts),
    Rule("not-a-number", CELLS, is_number,
         lambda c: f"{c.location} ({c.subject}) holds {c.shown}, which is not a number.",
         params=_placeholders),
    Rule("not-a-date", CELLS, is_date,
         lambda c: f"{c.location} ({c.subject}) holds {c.shown}, which is not a date."),
    Rule("not-in-list", CELLS, in_list,
         lambda c: (f"{c.location} ({c.subject}) holds {c.shown}, which is not one of the "
                    f"choices: {', '.join(c.extra['choices'])}."),
         params=_allowed,
         facts=lambda plan, data, column, i, row: {"choices": plan.schema.lists[column.list]}),
    Rule("negative-value", CELLS, non_negative,
         lambda c: f"{c.location} ({c.subject}) is negative ({c.shown})."),
    Rule("percent-out-of-range", CELLS, percent_range, _percent_message,
         facts=lambda plan, data, column, i, row: {"unit": plan.schema.roles.percent_unit}),
    Rule("bad-measure-id", CELLS, measure_id_format,
         lambda c: (f"{c.location} holds the measure ID {c.shown}, which is not in the form "
                    f"AGENCY-SERVICE-NN (for example BCFD-609-03)."),
         params=lambda schema: {"pattern": schema.roles.measure_id_pattern}),
    Rule("duplicate-measure-id", CELLS, unique_values,
         lambda c: (f"{c.location} holds the measure ID {c.shown}, which is also used on "
                    f"row(s) {', '.join(map(str, c.extra['others']))}."),
         facts=_others),
)
