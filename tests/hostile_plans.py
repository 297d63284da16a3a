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


def _at_row_cap(path: Path, rows) -> None:
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
    _at_row_cap(path, _forever({"mid": "BCFD-602-01", "svc": 602}))


@hostile("formulas-without-values", codes=("formula-error", "more-findings"))
def formulas_without_values(path: Path) -> None:
    """Five number columns of formulas never calculated (openpyxl saves no values): ~100,000
    formula-error cells, each a finding."""
    formula = "=1+1"
    _at_row_cap(path, ({"mid": f"BCFD-609-{n % 100:02d}", "actual_y3": formula,
                      "actual_y2": formula, "target_y1": formula, "midyear_y1": formula,
                      "target": formula} for n in range(10**6)))


@hostile("findings-on-every-cell", codes=("not-in-list", "more-findings", "too-many-findings"))
def findings_on_every_cell(path: Path) -> None:
    """Every cell of every measure is wrong in its own way: a plan of findings."""
    wrong = {"mid": "BCFD609-1", "svc": 999, "measure_name": None, "measure_type": "Output?",
             "unit": "Pounds", "direction": "Sideways", "frequency": "Hourly",
             "data_source": None, "actual_y3": "many", "actual_y2": -5, "target_y1": "TBD",
             "midyear_y1": "lots", "target": 0, "key_measure": "Maybe", "equity_focus": "?"}
    _at_row_cap(path, _forever(wrong))


# --- finite numbers and safe text (items 3, 5, 6) ---

def _rewrite(path: Path, change: Callable[[str, bytes], bytes]) -> Path:
    """Rewrite the workbook at `path` in place, each part through change(name, body)."""
    import zipfile
    with zipfile.ZipFile(path) as z:
        parts = {i: z.read(i) for i in z.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, body in parts.items():
            z.writestr(info, change(info.filename, body))
    return path


def _planted(path: Path, data: dict, swaps: dict[str, str]) -> Path:
    """A real plan (the template filled with `data`), then each placeholder text in the sheet
    and string parts replaced by the hostile XML that no spreadsheet API will write."""
    from plans import plan_file

    def swap(name: str, body: bytes) -> bytes:
        if name.startswith("xl/") and name.endswith(".xml"):
            for old, new in swaps.items():
                body = body.replace(old.encode(), new.encode())
        return body
    return _rewrite(plan_file(path, data), swap)


def _measures(**first) -> dict:
    from plans import measure, sheets
    return sheets(measures=[measure("BCFD-609-01", 609, **first), measure("BCFD-602-01", 602)])


@hostile("nan-and-inf-numbers")
def nan_and_inf_numbers(path: Path) -> Path:
    """A NaN target, infinite actuals and 1e309 as saved number values."""
    return _planted(path, _measures(target=777001, actual_y2=777002, actual_y3=777003,
                                    target_y1=777004),
                    {"<v>777001</v>": "<v>NaN</v>", "<v>777002</v>": "<v>inf</v>",
                     "<v>777003</v>": "<v>-INF</v>", "<v>777004</v>": "<v>1e309</v>"})


@hostile("309-digit-target")
def digits_309(path: Path) -> Path:
    """A target typed as text of 400 digits: more than a float holds."""
    from plans import plan_file
    return plan_file(path, _measures(target="9" * 400))


@hostile("nan-and-negative-dates")
def nan_and_negative_dates(path: Path) -> Path:
    """Date serials that are no date: NaN and a negative day count, in date-formatted cells."""
    import datetime as dt
    from plans import sheets
    data = sheets(agency={"Approval Date": dt.date(2026, 3, 1),
                          "Submission Date": dt.date(2026, 3, 2)})
    return _planted(path, data, {"<v>46082</v>": "<v>NaN</v>", "<v>46083</v>": "<v>-5</v>"})


# text that would act on a terminal: clear the screen, reverse the line, forge a report line
ESCAPES = "\x1b[2J\x1b[31m"
BIDI = "\u202eevil\u202c \u2066x\u2069"
FORGED = "\n  error   Measures!A9  forged-line  this line is not ours"


@hostile("control-characters-in-text")
def control_characters(path: Path) -> Path:
    """Measure IDs and names carrying ANSI escapes, bidi overrides and newlines, raw in the
    shared strings as a careless writer leaves them (XML 1.0 does not allow them)."""
    return _planted(path, _measures(measure_id="PLANTED-ID", measure_name="PLANTED-NAME",
                                    data_source="PLANTED-SOURCE"),
                    {"PLANTED-ID": "BCFD" + ESCAPES + FORGED, "PLANTED-NAME": BIDI,
                     "PLANTED-SOURCE": "x\x07\x00y"})


@hostile("cell-over-32767-characters")
def long_cell(path: Path) -> Path:
    """A measure name of 40,000 characters, over Excel's 32,767 per cell (openpyxl would cut
    it, so it is planted in the XML)."""
    return _planted(path, _measures(measure_name="PLANTED-NAME"),
                    {"PLANTED-NAME": "long " * 8_000})


@hostile("doctype-in-a-sheet-not-read")
def doctype_elsewhere(path: Path) -> Path:
    """An extra sheet, which validate never reads, whose XML has a DOCTYPE declaring an
    entity (which openpyxl, through defusedxml, refuses)."""
    import openpyxl
    from plans import plan_file
    plan_file(path, _measures())
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("Notes")["A1"] = "PLANTED-NOTE"
    wb.save(path)
    notes = f"xl/worksheets/sheet{len(wb.sheetnames)}.xml"
    return _rewrite(path, lambda name, body: body.replace(
        b"<worksheet", b'<!DOCTYPE worksheet [<!ENTITY e "x">]><worksheet', 1)
        if name == notes else body)


# --- the sheet a person sees (item 4) ---

def _plan_workbook(data=None):
    """BCFD's template filled with a plan (tests/plans.py), as an openpyxl workbook."""
    from planvalidator.output.templates import build_workbook
    from plans import SCHEMA, fill_template, sheets
    wb = build_workbook(SCHEMA, "BCFD")
    fill_template(wb, data or sheets())
    return wb


def _missing_target_plan() -> dict:
    from plans import measure, sheets
    return sheets([measure("BCFD-609-01", 609), measure("BCFD-602-01", 602, target=None)])


@hostile("shadow-measures-very-hidden")
def shadow_measures(path: Path) -> None:
    """The visible Measures sheet misses a target; a veryHidden copy named 'Measures ' (a
    trailing space) right after it holds every target, so a reader that takes the last sheet
    matching the name checks what nobody sees."""
    from plans import sheets
    wb = _plan_workbook(_missing_target_plan())
    shadow = wb.copy_worksheet(wb["Measures"])
    shadow.title = "Measures "
    wb.move_sheet(shadow, wb.sheetnames.index("Measures") + 1 - wb.sheetnames.index("Measures "))
    for r, row in enumerate(sheets()["Measures"][3:], start=4):
        for c, value in enumerate(row, start=1):
            shadow.cell(r, c).value = value
    shadow.sheet_state = "veryHidden"
    wb.save(path)


@hostile("measures-hidden")
def measures_hidden(path: Path) -> None:
    """The one Measures sheet is hidden: checked, but not what the analyst sees."""
    wb = _plan_workbook()
    wb["Measures"].sheet_state = "hidden"
    wb.save(path)


@hostile("sheet-part-traversal")
def sheet_part_traversal(path: Path) -> None:
    """The Measures sheet's part stored as `xl/../../x.xml`: Excel and LibreOffice resolve the
    relationship to a path outside the package and cannot find it; calamine opens the member
    by its literal name."""
    import io
    import re
    import zipfile
    buf = io.BytesIO()
    _plan_workbook().save(buf)
    src = zipfile.ZipFile(buf)
    rid = re.search(rb'<sheet [^>]*name="Measures"[^>]*r:id="([^"]+)"',
                    src.read("xl/workbook.xml")).group(1)
    rels = src.read("xl/_rels/workbook.xml.rels")
    rel = next(m.group() for m in re.finditer(rb"<Relationship [^>]*>", rels)
               if b' Id="' + rid + b'"' in m.group())
    target = re.search(rb'Target="/?([^"]+)"', rel).group(1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data, name = src.read(info), info.filename
            if name == "xl/_rels/workbook.xml.rels":
                data = re.sub(rb'Target="/?' + re.escape(target) + rb'"',
                              b'Target="../../x.xml"', data)
            elif name == target.decode():
                name = "xl/../../x.xml"
            out.writestr(name, data)
