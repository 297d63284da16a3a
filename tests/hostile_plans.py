"""Plans built to break the tool (issue 10): each builder writes one hostile .xlsx with code,
inside a real plan template and within every documented cap.

`BUILDERS` maps a name to `build(path)`. tests/test_hostile_limits.py runs every registered
plan through `validate`, `validate --format json`, `validate --annotate` and `merge` under a
memory and time limit, so a builder added here is covered by all four doors at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

BUILDERS: dict[str, Callable[[Path], None]] = {}


def hostile(name: str):
    """Register a builder under `name`."""
    def register(build: Callable[[Path], None]):
        BUILDERS[name] = build
        return build
    return register


# --- bounded work (items 1, 2) ---


# --- finite numbers and safe text (items 3, 5, 6) ---


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
