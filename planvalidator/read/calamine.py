"""The values, read by python-calamine, only after the zip guard and the sheet scan passed; the
error cells the scan found are put back where calamine returns ''.
"""

from __future__ import annotations

import io

from python_calamine import CalamineWorkbook

from .sheetscan import Scan
from .xlsx import PLAN, Limits, UnreadableWorkbook, damaged

def read_values(data: bytes, fname: str, names: list[str],
                scans: dict[str, Scan], limits: Limits = PLAN) -> dict[str, list[list]]:
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
        rows = [[None if v == "" else v for v in row] for row in raw]
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
        result[name] = rows
    return result
