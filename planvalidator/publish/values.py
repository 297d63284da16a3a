"""Values as the public reads them: 85%, $1.2M, 4.5 days, July 1, 2027.

A value that is not a number (an agency's typo in a plan that still has no errors, e.g. a
note in a history column) is shown as the text it is; an empty one says so in words.
"""

from __future__ import annotations

import datetime as dt

NO_TARGET = "no target set"
NOT_REPORTED = "not reported"
# units shown as a number and a word, singular for exactly 1
WORDS = {"Days": ("day", "days"), "Hours": ("hour", "hours"), "Minutes": ("minute", "minutes")}


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def number(value: float, decimals: int = 2) -> str:
    """1234.5 → "1,234.5", 3.0 → "3": commas, at most `decimals` decimals, no trailing zeros."""
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def money(value: float) -> str:
    """$1.2M and $3.4B for large amounts, whole dollars with commas below a million."""
    for size, letter in ((1e9, "B"), (1e6, "M")):
        if abs(value) >= size:
            return f"${number(value / size, 1)}{letter}"
    return f"${number(value, 0 if abs(value) >= 100 else 2)}"


def shown(value, unit: str, roles, missing: str = NOT_REPORTED) -> str:
    """A measure value in the unit's public form; `missing` when the cell is empty."""
    if value is None or value == "":
        return missing
    if not is_number(value):
        return str(value)
    if unit == roles.percent_unit:   # stored as a fraction: 0.85 is 85%
        return f"{number(value * 100, 1)}%"
    if unit == roles.dollars_unit:
        return money(value)
    if unit in WORDS:
        one, many = WORDS[unit]
        return f"{number(value, 1)} {one if value == 1 else many}"
    return number(value)


def date_words(value) -> str:
    """2027-07-01 → "July 1, 2027"; anything that is not a date is shown as it is."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return f"{value:%B} {value.day}, {value.year}"
    return "" if value is None else str(value)


def count_words(n: int, one: str, many: str | None = None) -> str:
    """3, "measure" → "3 measures"."""
    return f"{n:,} {one if n == 1 else (many or one + 's')}"
