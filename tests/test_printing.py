"""Printing and the Dashboard: what the office hands to the Mayor.

Page setup is read back from the written files; the Dashboard's colours from the chart XML and,
after LibreOffice has printed it, from the pixels of the page.
"""

import re
import subprocess
import zipfile
import xml.etree.ElementTree as ET
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from PIL import Image

from libreoffice import convert
from planvalidator.cli import main
from planvalidator.output.annotate import annotate_workbook
from planvalidator.output.templates import build_workbook
from planvalidator.rules.validate import validate_workbook
from plans import SCHEMA, measure, plan_file, sheets

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CITYWIDE_SHEETS = ["Summary", "Measures", "Services", "Findings", "By Pillar", "Dashboard",
                   "Sources"]
# (status, measures with it) in BCFD's mid-year update below: each status a different count
STATUSES = [("On Track", 6), ("At Risk", 3), ("Off Track", 2), ("No Data", 1)]
COLOURS = {"On Track": (0x2E, 0x7D, 0x32), "At Risk": (0xFF, 0xB0, 0x00),
           "Off Track": (0xC6, 0x28, 0x28), "No Data": (0x9E, 0x9E, 0x9E)}


def merge(*args):
    result = CliRunner().invoke(main, ["merge", *map(str, args)])
    assert result.exit_code in (0, 1), result.output
    return result


@pytest.fixture(scope="module")
def citywide(tmp_path_factory):
    """The examples' FY2028 citywide plan (all at the Plan stage)."""
    out = tmp_path_factory.mktemp("citywide") / "citywide.xlsx"
    merge(*sorted(EXAMPLES.glob("*fy2028*.xlsx")), "-o", out)
    return out


@pytest.fixture(scope="module")
def midyear(tmp_path_factory):
    """A mid-year citywide plan: BCFD with measures in every status, and DOT's update, which
    needs revision."""
    folder = tmp_path_factory.mktemp("midyear")
    rows, n = [], 0
    for status, count in STATUSES:
        for _ in range(count):
            n += 1
            svc = 609 if n % 2 else 602
            rows.append(measure(f"BCFD-{svc}-{n:02d}", svc, midyear_actual=None if status == "No Data" else 70,
                                status=status, status_explanation="Explained."))
    plan_file(folder / "bcfd.xlsx", sheets(rows, agency={"Plan Stage": "Mid-Year Update"}))
    plan_file(folder / "dot.xlsx", sheets(agency={"Agency Code": "DOT",
                                                  "Agency Name": "Department of Transportation",
                                                  "Plan Stage": "Mid-Year Update"}),
              agency="DOT")
    out = folder / "citywide.xlsx"
    merge(folder / "bcfd.xlsx", folder / "dot.xlsx", "-o", out)
    return out


def page_setup(ws) -> dict:
    return {"orientation": ws.page_setup.orientation, "fitToWidth": ws.page_setup.fitToWidth,
            "fitToHeight": ws.page_setup.fitToHeight,
            "fitToPage": ws.sheet_properties.pageSetUpPr.fitToPage,
            "titles": ws.print_title_rows, "header": ws.oddHeader.center.text,
            "footer": (ws.oddFooter.left.text, ws.oddFooter.right.text)}


def printed(titles, header):
    return {"orientation": "landscape", "fitToWidth": 1, "fitToHeight": 0, "fitToPage": True,
            "titles": titles, "header": header, "footer": ("&A", "Page &P of &N")}


def test_every_consolidated_sheet_prints_landscape_one_page_wide_with_titles(citywide):
    wb = openpyxl.load_workbook(citywide)
    assert wb.sheetnames == CITYWIDE_SHEETS
    name = "FY2028 Citywide Performance Plan"
    for sheet in CITYWIDE_SHEETS:
        # the rows above the header's frozen pane: Summary's title and header; charts have none
        titles = {"Dashboard": None, "Summary": "$1:$2"}.get(sheet, "$1:$1")
        assert page_setup(wb[sheet]) == printed(titles, name), sheet


def test_templates_blank_and_prefilled_print_with_their_header_rows(tmp_path):
    for agency, name in ((None, "FY2028 Performance Plan"), ("BCFD", "FY2028 Performance Plan — BCFD")):
        path = tmp_path / f"{agency}.xlsx"
        build_workbook(SCHEMA, agency).save(path)
        wb = openpyxl.load_workbook(path)
        assert page_setup(wb["Instructions"]) == printed(None, name)
        assert page_setup(wb["Agency"]) == printed("$1:$3", name)
        assert page_setup(wb["Services"]) == printed("$1:$3", name)
        assert page_setup(wb["Measures"]) == printed("$1:$3", name)


def test_the_validation_sheet_prints_with_the_plan_name(tmp_path):
    source = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
    out = tmp_path / "annotated.xlsx"
    annotate_workbook(source, validate_workbook(source), out)
    ws = openpyxl.load_workbook(out)["Validation"]
    assert page_setup(ws) == printed("$1:$4", "Validation of dpw-plan-fy2028-missing-targets.xlsx")


NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
      "a": "http://schemas.openxmlformats.org/drawingml/2006/main"}


def chart(path, title: str) -> ET.Element:
    """The one chart of the workbook whose title starts with `title`."""
    with zipfile.ZipFile(path) as z:
        charts = [ET.fromstring(z.read(n)) for n in sorted(z.namelist())
                  if n.startswith("xl/charts/chart")]
    [found] = [c for c in charts if "".join(c.find("c:chart/c:title", NS).itertext()).startswith(title)]
    return found


def series(chart_: ET.Element) -> list[dict]:
    return [{"name": s.findtext("c:tx/c:v", namespaces=NS),
             "colour": s.find("c:spPr/a:solidFill/a:srgbClr", NS).get("val"),
             "categories": s.findtext("c:cat//c:f", namespaces=NS),
             "values": s.findtext("c:val//c:f", namespaces=NS)}
            for s in chart_.iter(f"{{{NS['c']}}}ser")]


def test_dashboard_status_series_are_coloured_by_meaning(midyear):
    status = chart(midyear, "Status of measures by agency")
    assert [(s["name"], s["colour"]) for s in series(status)] == [
        ("On Track", "2E7D32"), ("At Risk", "FFB000"), ("Off Track", "C62828"),
        ("No Data", "9E9E9E")]


def test_dashboard_title_and_agencies_from_the_top(midyear, citywide):
    ws = openpyxl.load_workbook(midyear)["Dashboard"]
    assert ws["A1"].value == "FY2028 Citywide Performance Plan — Dashboard (Mid-Year Update)"
    ws = openpyxl.load_workbook(citywide)["Dashboard"]
    assert ws["A1"].value == "FY2028 Citywide Performance Plan — Dashboard (Plan)"
    by_agency = chart(citywide, "Measures by agency")
    # category axis drawn maxMin: the first category (BCFD) at the top, then down the alphabet
    assert by_agency.find(".//c:catAx/c:scaling/c:orientation", NS).get("val") == "maxMin"
    assert [s["categories"] for s in series(by_agency)] == ["'Dashboard'!$O$5:$O$11"]
    agencies = [r[0] for r in openpyxl.load_workbook(citywide)["Dashboard"].iter_rows(
        min_row=5, max_row=11, min_col=15, max_col=15, values_only=True)]
    assert agencies == ["BCFD", "BCHD", "BCRP", "BPD", "DHCD", "DPW", "MOCFS"]


def test_missing_targets_have_their_own_chart_and_scale(citywide):
    """Missing targets drawn beside 11-measure bars were slivers; at 7,000 measures they
    vanished. Now: their own chart, only the agencies that have some (counted as Summary counts
    them: BCHD's "about 40", DHCD's missing target column, DPW's empty targets), an axis up to
    the largest."""
    missing = chart(citywide, "Measures without a target")
    assert [s["values"] for s in series(missing)] == ["'Dashboard'!$S$5:$S$7"]
    ws = openpyxl.load_workbook(citywide)["Dashboard"]
    assert [(ws[f"R{r}"].value, ws[f"S{r}"].value) for r in (5, 6, 7)] == [
        ("BCHD", 1), ("DHCD", 8), ("DPW", 4)]
    assert missing.find(".//c:valAx/c:scaling/c:max", NS).get("val") == "8"


def pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_image(pdf: Path, text: str, tmp_path: Path) -> Image.Image:
    """The first page of `pdf` whose text holds `text`, as a 60 dpi image."""
    for page in range(1, pages(pdf) + 1):
        words = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"],
                               capture_output=True, text=True, check=True).stdout
        if text in words:
            prefix = tmp_path / f"page{page}"
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", str(page), "-l", str(page),
                            str(pdf), str(prefix)], check=True)
            return Image.open(next(tmp_path.glob(f"page{page}*.png"))).convert("RGB")
    raise AssertionError(f"no page shows {text!r}")


def near(pixel, rgb, tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, rgb))


def count_colour(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 20) -> int:
    return sum(1 for pixel in image.get_flattened_data() if near(pixel, rgb, tolerance))


def count_colour_at(image: Image.Image, x: int, y: int, rgb) -> bool:
    return near(image.getpixel((x, y)), rgb, 20)


def test_libreoffice_prints_the_status_colours_on_the_dashboard(midyear, tmp_path):
    pdf = convert(midyear, tmp_path, "pdf")
    page = page_image(pdf, "Status of measures by agency", tmp_path)
    rows = [y for y in range(page.height)
            if any(count_colour_at(page, x, y, COLOURS["On Track"]) for x in range(page.width))]
    bar = page.crop((0, rows[0], page.width, rows[-1] + 1))   # the rows BCFD's bar spans
    area = {status: count_colour(bar, COLOURS[status]) for status, _ in STATUSES}
    # one stacked bar: each status's segment as long as its count (6, 3, 2, 1)
    assert area["On Track"] > area["At Risk"] > area["Off Track"] > area["No Data"] > 50, area
    summary = page_image(pdf, "Agency Code", tmp_path)
    needs_revision = count_colour(summary, (0xFF, 0xC7, 0xCE), tolerance=8)
    assert needs_revision > 50, "the Summary's Needs revision cell is not pink"


def test_the_examples_citywide_plan_prints_on_few_pages(citywide, tmp_path):
    """37 pages on main (columns cut across pages, portrait); one page wide now."""
    assert pages(convert(citywide, tmp_path, "pdf")) <= 15
