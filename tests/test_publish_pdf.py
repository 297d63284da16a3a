"""publish --pdf: each agency page and a citywide summary printed by headless Chromium (Debian's
`chromium`, which .ci/run installs), read back with pdftotext; and a plain refusal without it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvalidator.cli import main
from plans import DOT_MIDYEAR, fy2027_plans


def run(*args, **kw):
    return CliRunner().invoke(main, [str(a) for a in args], **kw)


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, whitespace collapsed."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    return [" ".join(p.split()) for p in text.split("\f") if p.strip()]


@pytest.fixture(scope="module")
def midyear(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("pdf")
    assert run("merge", fy2027_plans(work / "plans"), "-o", work / "citywide.xlsx").exit_code == 0
    synced = work / "citywide-midyear.xlsx"
    assert run("sync", work / "citywide.xlsx", DOT_MIDYEAR, "-o", synced).exit_code == 0
    return synced


def test_pdf_reports_put_off_track_and_at_risk_first(midyear, tmp_path):
    site = tmp_path / "site"
    result = run("publish", midyear, "-o", site, "--pdf")
    assert result.exit_code == 0, result.output
    assert "4 PDFs" in result.output
    assert sorted(p.name for p in (site / "pdf").iterdir()) == [
        "agency-bcfd.pdf", "agency-dot.pdf", "agency-opi.pdf", "citywide-summary.pdf"]
    pages = pdf_pages(site / "pdf/agency-dot.pdf")
    n = len(pages)
    assert n > 4   # a page break between services
    for i, text in enumerate(pages, start=1):   # @page margin boxes: the plan's name and date
        assert "Department of Transportation: FY2027 Mid-Year Update, submitted February 4, 2027" in text
        assert f"Page {i} of {n}" in text
    first = pages[0]
    assert first.index("Measures off track or at risk") < first.index("Off Track Lane miles resurfaced")
    assert first.index("Off Track Lane miles") < first.index("At Risk Potholes repaired")
    assert "two months late" in first   # with the explanation
    assert "Street Lighting" not in first   # services begin on the next page
    services = [i for i, text in enumerate(pages) if "Budget: $" in text]
    assert len(services) == 4 and all(pages[i].count("Budget: $") == 1 for i in services)
    summary = " ".join(pdf_pages(site / "pdf/citywide-summary.pdf"))
    for name in ("Baltimore City Fire Department (BCFD)", "Department of Transportation (DOT)"):
        assert name in summary
    assert "Off Track: 2" in summary
    links = (site / "agency-dot.html").read_text()
    assert 'href="pdf/agency-dot.pdf"' in links


def test_without_chromium_pdf_is_refused_in_a_sentence(midyear, tmp_path):
    result = run("publish", midyear, "-o", tmp_path / "site", "--pdf",
                 env={"PLANVALIDATOR_CHROMIUM": str(tmp_path / "no-such-browser")})
    assert result.exit_code == 2
    assert result.output.startswith("Error: --pdf prints the pages with headless Chromium, which "
                                    "was not found at ")
    assert "Traceback" not in result.output
    assert not (tmp_path / "site").exists()
