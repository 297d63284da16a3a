"""The values, read by python-calamine, only after the zip guard and the sheet scan passed; the
error cells the scan found are put back where calamine returns ''.

calamine cuts text at Excel's 32,767 characters, so longer text (which Excel cannot have
written) is found in the XML too and given back whole, for the rules to report at its cell.
Numbers that are not finite become text (xlsx.finite_or_text). In a date-formatted cell
calamine turns them, and negative serials, into dates (NaN into 1899-12-30, -5 into
midnight), so those cells are found in the sheet XML and given back as the text they hold.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re

from python_calamine import CalamineWorkbook

from ..a1 import column_number
from .sheetscan import Scan
from .xlsx import PLAN, MAX_CELL_TEXT, Limits, UnreadableWorkbook, damaged, finite_or_text

# A saved value that is negative or has letters in it (NaN, inf, 1e309, #N/A, text); the
# rfind of "<c " before it gives its cell.
_ODD_VALUE = re.compile(rb"<v>\s*(-[^<]*|[^<]*[A-Za-z][^<]*)</v>")
_REF = re.compile(rb'<c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_DATE_TYPES = (dt.date, dt.time, dt.timedelta)
_NOT_FINITE = frozenset(map(finite_or_text, (math.nan, math.inf, -math.inf)))
# Text (inline, shared or a formula's) longer than a cell may hold; a shared string's index.
_LONG = re.compile(rb"<(t|v)\b[^>]*>([^<]{%d,})</\1>" % (MAX_CELL_TEXT + 1))
_SHARED_AT = re.compile(rb'<v>\s*([0-9]+)\s*</v>')


def _long_texts(xml: bytes):
    """The _LONG matches of xml. Text that long is a run of as many bytes between two '<'
    (XML escapes a '<' in text), and such a run holds a whole stretch of half its length
    starting at a multiple of that half. When every such stretch has a '<' (each search stops
    at the first tag: 3 µs for a 400-measure sheet) there is none, and the regex (0.5 ms
    there, as was numpy's look at every '<') need not run."""
    half = (MAX_CELL_TEXT + 2) // 2
    if all(xml.find(b"<", at, at + half) >= 0 for at in range(0, len(xml), half)):
        return ()
    return _LONG.finditer(xml)


def long_shared(xml: bytes) -> dict[int, str]:
    """Index → text of the shared strings longer than a cell may hold (plain ones, not rich
    text split into runs)."""
    found, index, at = {}, -1, 0
    for m in _long_texts(xml):
        index += xml.count(b"<si>", at, m.start()) + xml.count(b"<si ", at, m.start())
        at = m.start()
        text = html.unescape(m.group(2).decode("utf-8", "replace"))
        if len(text) > MAX_CELL_TEXT:
            found[index] = text
    return found


def _cell_at(xml: bytes, pos: int) -> tuple[int, int] | None:
    ref = _REF.match(xml, max(xml.rfind(b"<c ", 0, pos), 0))
    return (int(ref.group(2)) - 1, column_number(ref.group(1).decode()) - 1) if ref else None


def odd_cells(xml: bytes, shared: dict[int, str]) -> dict[tuple[int, int], str]:
    """(row, col) 0-based → the text as saved of every cell calamine does not give as it is:
    a number no date can be (negative, NaN, infinite), and text longer than a cell may hold
    (inline, or a shared string of `shared`). Cells without an r attribute are not found."""
    found = {}
    for m in _long_texts(xml):
        text = html.unescape(m.group(2).decode("utf-8", "replace"))
        if len(text) > MAX_CELL_TEXT and (cell := _cell_at(xml, m.start())):
            found[cell] = text
    if shared:
        for m in _SHARED_AT.finditer(xml):
            text = shared.get(int(m.group(1)))
            if text is not None and (cell := _cell_at(xml, m.start())):
                found[cell] = text
    for m in _ODD_VALUE.finditer(xml):
        text = m.group(1).decode("ascii", "replace").strip()
        try:
            number = float(text)
        except ValueError:
            continue
        if number >= 0 and math.isfinite(number):
            continue
        if cell := _cell_at(xml, m.start()):
            found[cell] = text
    return found


def _as_saved(value, text: str) -> bool:
    """Whether the cell's text as saved replaces calamine's value: text calamine cut short, or
    a number it made a date of (whatever the cell's format says) or that is not finite."""
    if len(text) > MAX_CELL_TEXT:
        return isinstance(value, str)
    return isinstance(value, _DATE_TYPES) or value in _NOT_FINITE


def read_values(data: bytes, fname: str, names: list[str], scans: dict[str, Scan],
                limits: Limits = PLAN, odd: dict[str, dict] | None = None) -> dict[str, list[list]]:
    """{sheet name: rows}; `odd` gives each sheet's odd_cells."""
    out = {}
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as wb:
            if list(wb.sheet_names) != names:
                raise damaged(fname)  # calamine resolved the parts differently from the checks
            total = 0
            for name in scans:
                out[name] = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                total += len(out[name]) * (len(out[name][0]) if out[name] else 0)
                if total > limits.cells:  # each sheet is within the caps, so this stays bounded
                    raise UnreadableWorkbook(
                        f"{fname} holds far more cells than a plan workbook; "
                        "send the plan sheets only, as an Excel Workbook (.xlsx).")
    except UnreadableWorkbook:
        raise
    except Exception as exc:  # calamine's errors (CalamineError and any other it raises)
        raise damaged(fname) from exc
    except BaseException as exc:  # a Rust panic surfaces as pyo3's PanicException
        if type(exc).__name__ != "PanicException":
            raise
        raise damaged(fname) from exc

    result = {}
    for name, scan in scans.items():
        raw = out.pop(name)
        height, width = len(raw), len(raw[0]) if raw else 0
        if scan.rows is None:
            most_rows, most_cols = limits.rows, limits.columns
        else:
            most_rows, most_cols = max(scan.rows, 1), max(scan.cols, 1)
        if height > most_rows or width > most_cols:
            raise damaged(fname)  # calamine saw cells the scan did not: refuse, don't guess
        rows = [[None if v == "" else v if type(v) is not float or math.isfinite(v)
                 else finite_or_text(v) for v in row] for row in raw]
        del raw
        for (r, c), err in scan.errors.items():
            if r >= limits.rows or c >= limits.columns:
                raise damaged(fname)  # can't happen: the scans only report cells within caps
            while len(rows) <= r:
                rows.append([None] * width)
            if c >= width:
                for row in rows:
                    row.extend([None] * (c + 1 - width))
                width = c + 1
            rows[r][c] = err
        for (r, c), text in (odd or {}).get(name, {}).items():
            if r < len(rows) and c < len(rows[r]) and _as_saved(rows[r][c], text):
                rows[r][c] = text
        result[name] = rows
    return result
