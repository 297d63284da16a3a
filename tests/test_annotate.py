"""Annotating: a marked copy of a real plan workbook, the source untouched, LibreOffice happy."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter

from planvalidator.errors import RefusedInput
from planvalidator.output.annotate import SEPARATOR, annotate_workbook
from planvalidator.output.marks import NOTE_MARK
from planvalidator.findings import Report, finding
from planvalidator.schema.loader import load_schema
from planvalidator.output.templates import build_workbook
from planvalidator.rules.validate import validate_workbook

RED, AMBER = "FFC7CE", "FFEB9C"
AGENCY_NOTE = "Waiting on the FY2028 budget hearing."
OTHER_NOTE = "Wording agreed with the Mayor's Office."
HEADER = ["Severity", "Sheet", "Cell", "Code", "Measure", "Message", "How to fix"]
HEADER_ROW = 4

MEASURES = [  # columns A..P of the Measures sheet, from row 4
    ["BCFD-609-01", 609, "Percent of 911 EMS calls answered within 60 seconds", "Effectiveness",
     "Percent", "Increase", "Quarterly", "CAD", 0.88, 0.90, 0.90, 0.91, "95%", None, "Yes", "No"],
    ["BCFD-609-02", 609, "EMS patient transports", "Output", "Count", "Maintain", "Monthly",
     "ePCR", 61000, 62500, 62000, 31000, None, None, "No", "No"],
    ["BCFD-602-01", 602, "Percent of structure fires contained to the room of origin", "Outcome",
     "Percent", "Increase", "Annually", "NFIRS", 0.70, 0.72, 0.75, 0.73, "TBD", None, "Yes", "Yes"],
]
AGENCY = {8: "Dana Whitfield", 9: "dana.whitfield@baltimorecity.gov", 10: "410-396-0000",
          11: "Chief James Wallace", 12: "Yes"}


@pytest.fixture
def plan(tmp_path):
    """A BCFD plan: M4 '95%' (a note), M5 empty (missing target), M6 'TBD' with an agency note."""
    wb = build_workbook(load_schema(2028), "BCFD")
    for row, value in AGENCY.items():
        wb["Agency"].cell(row, 2, value)
    ws = wb["Measures"]
    for row, values in enumerate(MEASURES, start=4):
        for col, value in enumerate(values, start=1):
            ws.cell(row, col, value)
    ws["M6"].comment = Comment(AGENCY_NOTE, "Dana Whitfield")
    ws["C4"].comment = Comment(OTHER_NOTE, "Dana Whitfield")
    path = tmp_path / "plan-fy2028-BCFD.xlsx"
    wb.save(path)
    return path


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fill_of(cell) -> str | None:
    if cell.fill.fill_type != "solid":
        return None
    return cell.fill.fgColor.rgb[-6:].upper()


def validation_rows(wb) -> list[tuple]:
    ws = wb["Validation"]
    return [tuple(c.value for c in row[:7]) for row in ws.iter_rows(min_row=HEADER_ROW + 1)
            if row[0].value]


def marks(wb) -> dict:
    """Every note and fill outside the Validation sheet: sheet!cell -> (note, fill)."""
    return {f"{ws.title}!{c.coordinate}": (c.comment.text if c.comment else None, fill_of(c))
            for ws in wb.worksheets if ws.title != "Validation"
            for row in ws.iter_rows() for c in row if c.comment or fill_of(c) in (RED, AMBER)}


def note_sizes(path) -> dict[str, tuple[int, int]]:
    """cell -> (width, height) in px of every note drawn on the (only) sheet with notes."""
    sizes = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.endswith(".vml"):
                for shape in re.findall(r"<[^>]*shape [^>]*>.*?</[^>]*shape>", z.read(name).decode(), re.S):
                    w, h = re.search(r"width:(\d+)px;height:(\d+)px", shape).groups()
                    row = int(re.search(r"Row>(\d+)<", shape).group(1))
                    col = int(re.search(r"Column>(\d+)<", shape).group(1))
                    sizes[f"{get_column_letter(col + 1)}{row + 1}"] = (int(w), int(h))
    return sizes


def one(report: Report, cell: str, code: str):
    [f] = [f for f in report.findings if (f.sheet, f.cell, f.code) == ("Measures", cell, code)]
    return f


def test_source_is_untouched_and_target_cells_are_red_with_a_note(plan, tmp_path):
    before = sha(plan)
    report = validate_workbook(plan)
    missing, placeholder = one(report, "M5", "missing-target"), one(report, "M6", "placeholder-target")
    out = tmp_path / "annotated.xlsx"
    annotate_workbook(plan, report, out)
    assert sha(plan) == before

    ws = openpyxl.load_workbook(out)["Measures"]
    for f in (missing, placeholder):
        cell = ws[f.cell]
        assert fill_of(cell) == RED
        assert cell.comment.author == "planvalidator"
        assert f"[error] {f.message}\nFix: {f.hint}" in cell.comment.text
        width, height = note_sizes(out)[cell.coordinate]
        assert width > 144 and height >= 15 * (2 + len(cell.comment.text) // 60)   # sized to fit
    assert ws.protection.sheet   # the template's protection is kept; the marks are there anyway


def test_info_findings_get_a_note_but_no_fill(plan, tmp_path):
    report = validate_workbook(plan)
    interpreted = one(report, "M4", "value-interpreted")
    annotate_workbook(plan, report, tmp_path / "annotated.xlsx")
    cell = openpyxl.load_workbook(tmp_path / "annotated.xlsx")["Measures"]["M4"]
    assert fill_of(cell) is None
    assert cell.comment.text.startswith(f"{NOTE_MARK}\n[info] {interpreted.message}")


def test_agency_notes_are_kept(plan, tmp_path):
    report = validate_workbook(plan)
    annotate_workbook(plan, report, tmp_path / "annotated.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "annotated.xlsx")["Measures"]
    agency, ours = ws["M6"].comment.text.split(f"\n{SEPARATOR}\n")
    assert agency == AGENCY_NOTE
    assert ours.startswith(f"{NOTE_MARK}\n[error] {one(report, 'M6', 'placeholder-target').message}")
    assert ws["C4"].comment.text == OTHER_NOTE and fill_of(ws["C4"]) is None


def test_validation_sheet_lists_every_finding_with_a_link(plan, tmp_path):
    report = validate_workbook(plan)
    out = tmp_path / "annotated.xlsx"
    annotate_workbook(plan, report, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[0] == "Validation" and wb.active.title == "Validation"
    assert [ws.title for ws in wb.worksheets if ws.sheet_view.tabSelected] == ["Validation"]
    ws = wb["Validation"]
    assert ws["A1"].value == "Validation of plan-fy2028-BCFD.xlsx"
    assert ws["A2"].value.startswith(f"{report.errors} error")
    assert f"{report.warnings} warning" in ws["A2"].value
    assert [c.value for c in ws[HEADER_ROW]] == HEADER
    assert ws.freeze_panes == f"A{HEADER_ROW + 1}"
    assert ws.auto_filter.ref == f"A{HEADER_ROW}:G{HEADER_ROW + len(report.findings)}"

    assert validation_rows(wb) == [(f.severity, f.sheet, f.cell, f.code, f.measure_id or None,
                                    f.message, f.hint) for f in report.findings]
    for row, f in enumerate(report.findings, start=HEADER_ROW + 1):
        link = ws.cell(row, 3)
        assert link.hyperlink.location == f"'{f.sheet}'!{f.cell}"
        assert link.style == "Hyperlink"
        assert fill_of(ws.cell(row, 1)) == {"error": RED, "warning": AMBER}.get(f.severity, "DDEBF7")


def test_findings_without_a_cell_are_only_listed(plan, tmp_path):
    report = validate_workbook(plan)
    extra = [finding("missing-column",
                     {"sheet": "Measures", "label": "Equity Focus", "header_row": 3},
                     sheet="Measures", column="Equity Focus"),
             finding("missing-sheet", {"sheet": "Services 2"}, sheet="Services 2")]
    report = Report(source=report.source, findings=report.findings + extra)
    out = tmp_path / "annotated.xlsx"
    annotate_workbook(plan, report, out)
    wb = openpyxl.load_workbook(out)
    rows = validation_rows(wb)
    assert len(rows) == len(report.findings)
    ws = wb["Validation"]
    for row, f in enumerate(report.findings, start=HEADER_ROW + 1):
        if f in extra:
            assert ws.cell(row, 4).value == f.code and ws.cell(row, 3).hyperlink is None
    assert "Services 2" not in wb.sheetnames
    # the cells of the findings carry marks, plus the agency's own note on C4; nothing else
    assert set(marks(wb)) == {f"{f.sheet}!{f.cell}" for f in report.findings if f.cell} | {"Measures!C4"}


def test_annotating_an_annotated_copy_gives_the_same_marks(plan, tmp_path):
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    annotate_workbook(plan, validate_workbook(plan), first)
    report = validate_workbook(first)
    annotate_workbook(first, report, second)
    wb1, wb2 = openpyxl.load_workbook(first), openpyxl.load_workbook(second)
    assert [n.casefold() for n in wb2.sheetnames].count("validation") == 1
    assert wb2.sheetnames[0] == "Validation"
    assert validation_rows(wb2) == validation_rows(wb1)
    assert len(validation_rows(wb2)) == len(report.findings)
    assert marks(wb2) == marks(wb1)
    assert wb2["Measures"]["M6"].comment.text.count(SEPARATOR) == 1
    assert wb2["Measures"]["M6"].comment.text.startswith(AGENCY_NOTE + "\n")


def test_a_fixed_cell_loses_its_mark_when_annotated_again(plan, tmp_path):
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    annotate_workbook(plan, validate_workbook(plan), first)
    wb = openpyxl.load_workbook(first)
    wb["Measures"]["M5"] = 62000
    wb["Measures"]["M6"] = 0.78
    wb.save(first)
    annotate_workbook(first, validate_workbook(first), second)
    ws = openpyxl.load_workbook(second)["Measures"]
    assert ws["M5"].comment is None and fill_of(ws["M5"]) is None
    assert ws["M6"].comment.text == AGENCY_NOTE and fill_of(ws["M6"]) is None


def test_same_workbook_same_bytes(plan, tmp_path):
    report = validate_workbook(plan)
    annotate_workbook(plan, report, tmp_path / "a.xlsx")
    annotate_workbook(plan, report, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()


def test_the_annotated_copy_validates_like_the_source(plan, tmp_path):
    report = validate_workbook(plan)
    annotate_workbook(plan, report, tmp_path / "annotated.xlsx")
    again = validate_workbook(tmp_path / "annotated.xlsx")
    key = lambda f: (f.code, f.severity, f.sheet, f.cell, f.measure_id, f.message)  # noqa: E731
    assert [key(f) for f in again.findings] == [key(f) for f in report.findings]


def test_writing_over_the_source_is_refused(plan, tmp_path):
    before = sha(plan)
    report = validate_workbook(plan)
    for out in (plan, tmp_path / "." / plan.name, tmp_path / "sub" / ".." / plan.name):
        with pytest.raises(RefusedInput, match="another file"):
            annotate_workbook(plan, report, out)
    link = tmp_path / "link.xlsx"
    link.hardlink_to(plan)
    with pytest.raises(RefusedInput):
        annotate_workbook(plan, report, link)
    assert sha(plan) == before


def soffice(tmp_path, target: str, file, outdir) -> subprocess.CompletedProcess:
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    assert exe, "LibreOffice (soffice) is required for this test; CI installs it"
    profile = tmp_path / f"lo-profile-{target}"
    return subprocess.run([exe, f"-env:UserInstallation=file://{profile}", "--headless",
                           "--convert-to", target, "--outdir", str(outdir), str(file)],
                          capture_output=True, text=True, timeout=180)


def test_libreoffice_opens_the_annotated_copy(plan, tmp_path):
    report = validate_workbook(plan)
    out = tmp_path / "annotated.xlsx"
    annotate_workbook(plan, report, out)

    pdf_dir = tmp_path / "pdf"
    done = soffice(tmp_path, "pdf", out, pdf_dir)
    pdf = pdf_dir / "annotated.pdf"
    assert done.returncode == 0, done.stderr
    assert pdf.exists() and pdf.stat().st_size > 0, done.stdout + done.stderr

    # LibreOffice reads our fills and notes on the protected sheet and keeps them on re-save
    xlsx_dir = tmp_path / "resaved"
    done = soffice(tmp_path, "xlsx", out, xlsx_dir)
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(xlsx_dir / "annotated.xlsx")
    assert wb.sheetnames[0] == "Validation"
    ws = wb["Measures"]
    assert fill_of(ws["M5"]) == RED
    assert one(report, "M5", "missing-target").message in ws["M5"].comment.text
    assert ws["M6"].comment.text.startswith(AGENCY_NOTE)
