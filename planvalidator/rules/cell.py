"""Rules about one cell on its own: filled, readable, in its list, in range, well formed.

They run on the cells frame (one row per cell of the Agency, Services and Measures sheets);
a finding lands on the failing cell itself.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from ..read.xlsx import MAX_CELL_TEXT
from .rule import CELLS, Rule, col, empty_rule, equals, ok, where
from .targets import placeholder


def no_formula_error(df):
    return ok(df, col(df, "error"))


def is_number(df, *, placeholders):
    # a placeholder target is reported as placeholder-target, not here
    return ok(df, col(df, "numeric") & col(df, "unparsed") & ~placeholder(df, placeholders))


def is_date(df):
    return ok(df, equals(col(df, "unparsed"), col(df, "ctype"), "date"))


def within_excel_limit(df):
    text = col(df, "text")
    rows = np.flatnonzero(col(df, "has_text"))
    too_long = np.zeros(len(text), bool)
    too_long[rows] = np.fromiter(map(len, text[rows]), np.int64, len(rows)) > MAX_CELL_TEXT
    return ok(df, too_long)


def in_list(df, *, allowed):
    """Closed-list cells hold one of their list's choices; `allowed`: each list's choices, in
    the order of the schema's lists, which the cells' `list_no` counts."""
    list_no, text = col(df, "list_no"), col(df, "text")
    listed = col(df, "has_text") & (list_no >= 0)
    bad = np.zeros(len(text), bool)
    for n in np.unique(list_no[listed]):
        rows = np.flatnonzero(listed & (list_no == n))
        bad[rows] = ~np.fromiter(map(set(allowed[n]).__contains__, text[rows]), bool, len(rows))
    return ok(df, bad)


def non_negative(df):
    return ok(df, col(df, "c_non_negative") & (col(df, "number") < 0))


def percent_range(df):
    number = col(df, "number")
    return ok(df, col(df, "is_percent") & ((number < 0) | (number > 1)))


def measure_id_format(df, *, pattern):
    match = re.compile(pattern).fullmatch
    ids = col(df, "c_measure_id_format") & col(df, "has_text")
    return ok(df, ids & ~where(ids, col(df, "text"), match))


def unique_values(df):
    text = col(df, "text")
    rows = np.flatnonzero(col(df, "c_unique") & col(df, "has_text"))
    keys = list(zip(col(df, "plan")[rows], col(df, "key")[rows], text[rows]))
    seen = Counter(keys)
    bad = np.zeros(len(df), bool)
    bad[rows] = [seen[k] > 1 for k in keys]
    return ok(df, bad)


def _formula_facts(plan, data, column, i, row):
    raw = data.raw[column.key][i]
    return {"variant": "error" if raw.text else "unsaved", "error": raw.text,
            "formula": raw.formula}


def _percent_facts(plan, data, column, i, row):
    # 1 < value <= 100: probably a percent typed as a number, such as 85 for 85%
    value = data.raw[column.key][i]
    meant = isinstance(value, (int, float)) and 1 < value <= 100
    return {"unit": plan.schema.roles.percent_unit, "variant": "did-you-mean" if meant else ""}


OTHERS_SHOWN = 10   # rows a duplicate's message names; the rest are counted
_last_column: tuple = (None, {})   # the column last asked about, and its rows by value


def _others(plan, data, column, i, row):
    """The other rows holding the value, at most OTHERS_SHOWN named. The column's rows by
    value are gathered once (kept for the next duplicate in the same column), so 20,000
    copies of one ID cost one pass, not 20,000."""
    global _last_column
    values = data.values[column.key]
    column_values, rows_by_value = _last_column   # one read: other threads may replace it
    if column_values is not values:
        rows_by_value = {}
        for j, v in enumerate(values):
            rows_by_value.setdefault(v, []).append(data.rows[j])
        _last_column = (values, rows_by_value)
    others = rows_by_value[values[i]]
    this = data.rows[i]
    shown = [r for r in others[:OTHERS_SHOWN + 1] if r != this][:OTHERS_SHOWN]
    rest = len(others) - 1 - len(shown)
    shown = ", ".join(map(str, shown))
    return {"others": f"{shown}, … and {rest:,} more" if rest > 0 else shown}


def _length(plan, data, column, i, row):
    return {"length": len(data.values[column.key][i]), "limit": MAX_CELL_TEXT}


def _placeholders(schema) -> dict:
    return {"placeholders": list(schema.placeholders)}


def _allowed(schema) -> dict:
    return {"allowed": [list(values) for values in schema.lists.values()]}


RULES = (
    empty_rule("required-missing"),
    Rule("formula-error", CELLS, no_formula_error, facts=_formula_facts),
    Rule("not-a-number", CELLS, is_number, params=_placeholders),
    Rule("not-a-date", CELLS, is_date),
    Rule("text-too-long", CELLS, within_excel_limit, facts=_length),
    Rule("not-in-list", CELLS, in_list, params=_allowed,
         facts=lambda plan, data, column, i, row: {
             "choices": ", ".join(plan.schema.lists[column.list])}),
    Rule("negative-value", CELLS, non_negative),
    Rule("percent-out-of-range", CELLS, percent_range, facts=_percent_facts),
    Rule("bad-measure-id", CELLS, measure_id_format,
         params=lambda schema: {"pattern": schema.roles.measure_id_pattern}),
    Rule("duplicate-measure-id", CELLS, unique_values, facts=_others),
)
