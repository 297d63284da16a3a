"""A1 addresses and column letters, in one place.

Columns and rows are numbered from 1, as Excel and openpyxl number them: column 1 is A, 26 is
Z, 27 is AA. This module imports nothing from planvalidator, so every layer may use it.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_ROW, MAX_COLUMN = 1_048_576, 16_384   # Excel's sheet: A1:XFD1048576

_FIRST_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([1-9][0-9]{0,6})(?::.*)?", re.DOTALL)


def column_letter(column: int) -> str:
    """1 → A, 26 → Z, 27 → AA."""
    letters = ""
    while column:
        column, rem = divmod(column - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


@lru_cache(maxsize=4096)   # the readers ask for the same few column letters again and again
def column_number(ref: str) -> int:
    """The column of a reference's leading letters (A → 1, "AA7" → 27); 0 when it has none."""
    n = 0
    for ch in ref:
        if not ch.isalpha():
            break
        n = n * 26 + ord(ch.upper()) - 64
    return n


def address(row: int, column: int) -> str:
    """(7, 3) → C7."""
    return f"{column_letter(column)}{row}"


def first_cell(ref: str) -> tuple[int, int] | None:
    """(row, column) of a cell reference, or of the first cell of a range ("$B$2:C9" → (2, 2));
    None for anything else (whole rows or columns, names, cells beyond Excel's sheet)."""
    m = _FIRST_CELL.fullmatch(ref)
    if m is None:
        return None
    row, column = int(m.group(2)), column_number(m.group(1))
    return (row, column) if row <= MAX_ROW and column <= MAX_COLUMN else None
