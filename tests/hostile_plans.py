"""Plans built to break the tool (issue 10): each builder writes one hostile .xlsx with code,
inside a real plan template and within every documented cap.

`BUILDERS` maps a name to `build(path)`, `CODES` a name to the codes its report must hold. tests/test_hostile_limits.py runs every registered
plan through `validate`, `validate --format json`, `validate --annotate` and `merge` under a
memory and time limit, so a builder added here is covered by all four doors at once.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

BUILDERS: dict[str, Callable[[Path], None]] = {}
CODES: dict[str, tuple[str, ...]] = {}   # codes a plan's report must hold when it is read


def hostile(name: str, codes: tuple[str, ...] = ()):
    """Register a builder under `name`; `codes`: finding codes its report must hold when the
    plan is read (exit 0 or 1)."""
    def register(build: Callable[[Path], None]):
        BUILDERS[name] = build
        CODES[name] = codes
        return build
    return register


# --- bounded work (items 1, 2) ---
# Each fills the reader's row cap in the real BCFD template: its Measures sheet's data rows
# (row 4 to MAX_ROWS) are written into the sheet's XML (openpyxl takes ~1 min per such file).

def _cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value}</v></c>'
    if value.startswith("="):   # a formula never calculated: no saved value
        return f'<c r="{ref}"><f>{escape(value[1:])}</f></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'


def _measures(path: Path, rows) -> None:
    """The BCFD template with its two services and `rows` (measure() overrides) as measures,
    as many as the reader's row cap allows."""
    from planvalidator.a1 import column_letter
    from planvalidator.read.xlsx import MAX_ROWS
    from plans import SCHEMA, measure, plan_file
    keys = SCHEMA.measures.keys
    letters = [column_letter(n) for n in range(1, len(keys) + 1)]
    xml_rows = []
    for r, row in zip(range(4, MAX_ROWS + 1), rows):
        values = measure(**row)
        xml_rows.append(f'<row r="{r}">' + "".join(
            _cell(f"{x}{r}", values.get(k)) for x, k in zip(letters, keys)) + "</row>")
    template = path.with_suffix(".template.xlsx")
    plan_file(template)
    with zipfile.ZipFile(template) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            data = src.read(item)
            if re.search(rb"<t>FY\d+ Performance Plan \xe2\x80\x94 Measures</t>", data):
                data = re.sub(rb'<row r="4".*</sheetData>',
                              "".join(xml_rows).encode() + b"</sheetData>", data, flags=re.S)
            out.writestr(item, data)
    template.unlink()


def _forever(row: dict):
    while True:
        yield row


@hostile("duplicate-ids", codes=("duplicate-measure-id", "more-findings"))
def duplicate_ids(path: Path) -> None:
    """One measure ID on every row: a duplicate check listing the other rows is quadratic."""
    _measures(path, _forever({"mid": "BCFD-602-01", "svc": 602}))


@hostile("formulas-without-values", codes=("formula-error", "more-findings"))
def formulas_without_values(path: Path) -> None:
    """Five number columns of formulas never calculated (openpyxl saves no values): ~100,000
    formula-error cells, each a finding."""
    formula = "=1+1"
    _measures(path, ({"mid": f"BCFD-609-{n % 100:02d}", "actual_y3": formula,
                      "actual_y2": formula, "target_y1": formula, "midyear_y1": formula,
                      "target": formula} for n in range(10**6)))


@hostile("findings-on-every-cell", codes=("not-in-list", "more-findings", "too-many-findings"))
def findings_on_every_cell(path: Path) -> None:
    """Every cell of every measure is wrong in its own way: a plan of findings."""
    wrong = {"mid": "BCFD609-1", "svc": 999, "measure_name": None, "measure_type": "Output?",
             "unit": "Pounds", "direction": "Sideways", "frequency": "Hourly",
             "data_source": None, "actual_y3": "many", "actual_y2": -5, "target_y1": "TBD",
             "midyear_y1": "lots", "target": 0, "key_measure": "Maybe", "equity_focus": "?"}
    _measures(path, _forever(wrong))


# --- finite numbers and safe text (items 3, 5, 6) ---


# --- the sheet a person sees (item 4) ---
