"""planvalidator publish: the bundled examples' consolidated plans (after merge, and after the
DOT mid-year sync of the FY2027 cycle) as a website, read back like a browser would and compared
with the consolidated workbook cell by cell; untrusted text shown as text; the same plan gives
the same bytes; a failed write leaves the previous site as it was."""

from __future__ import annotations

import errno
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

import planvalidator.publish.site as site_writer
from planvalidator.cli import main
from planvalidator.schema.loader import load_schema
from plans import DOT_MIDYEAR, fy2027_plans, measure, plan_file, sheets
from published import page

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file under `folder`."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def examples_site(tmp_path_factory):
    """The bundled FY2028 examples merged, then published."""
    work = tmp_path_factory.mktemp("examples")
    assert run("merge", EXAMPLES, "-o", work / "citywide.xlsx", "-q").exit_code == 1
    result = run("publish", work / "citywide.xlsx", "-o", work / "site")
    assert result.exit_code == 0, result.output
    return work / "citywide.xlsx", work / "site", result.output


@pytest.fixture(scope="module")
def midyear_site(tmp_path_factory):
    """FY2027 plans merged, DOT's mid-year update synced, then published."""
    work = tmp_path_factory.mktemp("midyear")
    assert run("merge", fy2027_plans(work / "plans"), "-o", work / "citywide.xlsx").exit_code == 0
    synced = work / "citywide-midyear.xlsx"
    assert run("sync", work / "citywide.xlsx", DOT_MIDYEAR, "-o", synced).exit_code == 0
    result = run("publish", synced, "-o", work / "site")
    assert result.exit_code == 0, result.output
    return synced, work / "site", result.output


def workbook_measures(path: Path, agency: str) -> list[dict]:
    """The agency's rows of the consolidated Measures sheet, by header label."""
    rows = list(openpyxl.load_workbook(path)["Measures"].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, r)) for r in rows[1:] if r[header.index("Agency Code")] == agency]


TEXT_FIELDS = ("measure_name", "measure_type", "unit", "direction", "frequency", "data_source",
               "target_rationale", "status", "status_explanation")


def assert_page_matches_workbook(consolidated: Path, site: Path, agency: str, year: int):
    """Every measure of the agency's page against its row of the workbook, cell by cell."""
    schema = load_schema(year)
    label = {c.key: c.label for c in schema.measures.columns}
    shown = page(site, f"agency-{agency.lower()}.html")
    rows = workbook_measures(consolidated, agency)
    assert rows and sorted(shown.measures) == sorted(r["Measure ID"] for r in rows)
    for row in rows:
        mid = row["Measure ID"]
        fields, numbers = shown.measures[mid], shown.numbers[mid]
        for key in TEXT_FIELDS:
            cell = row[label[key]]
            assert fields.get(key) == (str(cell) if cell not in (None, "") else None), (mid, key)
        for c in schema.measures.columns:
            if c.type != "measure":
                continue
            cell = row[c.label]
            if cell is None:
                words = {"target": "no target set", "midyear_actual": "not reported",
                         "yearend_actual": "not reported"}.get(c.key)
                assert fields.get(c.key) == words, (mid, c.key)   # history: left out
            else:
                assert numbers[c.key] == pytest.approx(cell), (mid, c.key)
        assert ("key_measure" in fields) == (row["Key Measure"] == "Yes"), mid
        assert ("equity_focus" in fields) == (row["Equity Focus"] == "Yes"), mid


def test_examples_agency_page_matches_the_workbook(examples_site):
    consolidated, site, _ = examples_site
    assert_page_matches_workbook(consolidated, site, "BCFD", 2028)


def test_midyear_pages_match_the_workbook(midyear_site):
    consolidated, site, _ = midyear_site
    assert_page_matches_workbook(consolidated, site, "DOT", 2027)    # synced: actuals, statuses
    assert_page_matches_workbook(consolidated, site, "BCFD", 2027)   # still at Plan


def test_values_as_the_public_reads_them(examples_site, midyear_site):
    """Written out by hand from examples/build.py, not computed."""
    _, site, _ = examples_site
    bcfd = page(site, "agency-bcfd.html")
    assert bcfd.measures["BCFD-602-01"]["actual_y3"] == "81%"
    assert bcfd.measures["BCFD-602-03"]["actual_y2"] == "12,310"
    assert "Budget: $152.4M." in bcfd.text
    assert "fiscal year 2028 (July 1, 2027 to June 30, 2028)" in bcfd.text
    assert "submitted April 14, 2027" in bcfd.text
    assert bcfd.measures["BCFD-602-01"]["midyear_actual"] == "not reported"
    _, site, _ = midyear_site
    dot = page(site, "agency-dot.html").measures
    assert dot["DOT-683-01"]["midyear_actual"] == "91%"
    assert dot["DOT-683-02"]["midyear_actual"] == "13,620"
    assert dot["DOT-683-04"]["midyear_actual"] == "1.8 days"
    assert dot["DOT-683-03"]["status"] == "Off Track"


def test_index_names_agencies_under_revision(examples_site):
    _, site, output = examples_site
    index = page(site, "index.html")
    assert "Under revision, not published: BCHD, BCRP, BPD, DHCD, DPW, MOCFS." in output
    assert "Plans still under revision" in index.text
    for code in ("BCHD", "BCRP", "BPD", "DHCD", "DPW", "MOCFS"):
        assert f"({code})" in index.text
        assert not (site / f"agency-{code.lower()}.html").exists()
    assert sorted(p.name for p in site.glob("agency-*.html")) == ["agency-bcfd.html"]
    assert index.fields["measures"] == ["11"] and index.fields["services"] == ["4"]


def test_midyear_reports_status_mix_and_puts_off_track_first(midyear_site):
    consolidated, site, _ = midyear_site
    rows = workbook_measures(consolidated, "DOT")
    statuses = [r["Status"] for r in rows]
    index = page(site, "index.html")
    for status in ("On Track", "At Risk", "Off Track", "No Data"):
        assert f"{status}: {statuses.count(status)}" in index.text
    dot = page(site, "agency-dot.html")
    discuss = dot.text.index("Measures off track or at risk")
    first_service = dot.text.index("683 ")
    assert discuss < first_service
    listed = dot.text[discuss:first_service]
    off = [r for r in rows if r["Status"] == "Off Track"]
    risk = [r for r in rows if r["Status"] == "At Risk"]
    assert off and risk
    for r in off + risk:
        assert r["Status Explanation"] in listed
    assert listed.index(off[-1]["Measure Name"]) < listed.index(risk[0]["Measure Name"])
    bcfd = page(site, "agency-bcfd.html")   # a Plan: no statuses yet
    assert "Measures off track or at risk" not in bcfd.text


def test_pillar_pages_hold_every_agencys_measures_of_the_pillar(midyear_site):
    consolidated, site, _ = midyear_site
    wb = openpyxl.load_workbook(consolidated)
    services = {(r[0], r[3]): r[5] for r in wb["Services"].iter_rows(min_row=2, values_only=True)}
    index = page(site, "index.html")
    pillar_pages = [a["href"] for t, a in index.tags
                    if t == "a" and a.get("href", "").startswith("pillar-")]
    assert len(set(pillar_pages)) >= 2
    on_pages = set()
    for name in set(pillar_pages):
        shown = page(site, name)
        pillar = shown.text.split(" · ")[0]   # the <title>
        for mid in shown.measures:
            agency = mid.split("-")[0]
            row = next(r for r in workbook_measures(consolidated, agency) if r["Measure ID"] == mid)
            assert services[(agency, row["Service Number"])] in pillar
            on_pages.add(mid)
    every = {r["Measure ID"] for a in ("BCFD", "DOT", "OPI")
             for r in workbook_measures(consolidated, a)}
    assert on_pages == every


def test_every_page_links_the_open_data_and_the_agency_csv_holds_its_rows(midyear_site):
    consolidated, site, _ = midyear_site
    for html in site.glob("*.html"):
        hrefs = {a.get("href") for t, a in page(site, html.name).tags if t == "a"}
        assert "open-data/datapackage.json" in hrefs, html.name
        for href in hrefs:
            if href and not href.startswith(("#", "http")):
                assert (site / href.split("#")[0]).exists(), (html.name, href)
    csv_lines = (site / "downloads/dot-measures.csv").read_text().splitlines()
    assert csv_lines[0].startswith("agency_code,agency_name,fiscal_year,measure_id")
    assert len(csv_lines) - 1 == len(workbook_measures(consolidated, "DOT"))
    assert all(line.startswith("DOT,") for line in csv_lines[1:])
    assert (site / "open-data/datapackage.json").is_file()


HOSTILE_NAME = "<script>alert('name')</script> Calls answered"
HOSTILE_WHY = '"><img src=x onerror=alert(1)> crews were reassigned'


def test_html_in_a_cell_is_shown_as_text(tmp_path):
    data = sheets([measure("BCFD-609-01", 609, measure_name=HOSTILE_NAME,
                           target_rationale=HOSTILE_WHY),
                   measure("BCFD-602-01", 602)])
    plan_file(tmp_path / "bcfd.xlsx", data)
    assert run("merge", tmp_path / "bcfd.xlsx", "-o", tmp_path / "city.xlsx").exit_code == 0
    assert run("publish", tmp_path / "city.xlsx", "-o", tmp_path / "site").exit_code == 0
    # the agency page shows every text of a measure; a pillar page its name and numbers
    for name in ("agency-bcfd.html", "pillar-building-public-safety.html"):
        html = (tmp_path / "site" / name).read_text()
        assert "<script" not in html and "<img" not in html, name
        shown = page(tmp_path / "site", name)
        assert shown.measures["BCFD-609-01"]["measure_name"] == HOSTILE_NAME
        assert not [t for t, a in shown.tags if t in ("script", "img") or
                    any(k.startswith("on") for k in a)]
    rationale = page(tmp_path / "site", "agency-bcfd.html").measures["BCFD-609-01"]
    assert rationale["target_rationale"] == HOSTILE_WHY


def test_the_same_plan_gives_the_same_bytes(midyear_site, tmp_path):
    consolidated, site, _ = midyear_site
    assert run("publish", consolidated, "-o", tmp_path / "again").exit_code == 0
    assert snapshot(tmp_path / "again") == snapshot(site)
    assert run("publish", consolidated, "-o", tmp_path / "again").exit_code == 0   # over itself
    assert snapshot(tmp_path / "again") == snapshot(site)
    assert run("publish", consolidated, "-o", tmp_path / "stamped", "--timestamp").exit_code == 0
    assert "Published " in page(tmp_path / "stamped", "index.html").text
    assert "Published " not in page(site, "index.html").text


def test_a_failed_write_leaves_the_previous_site_intact(midyear_site, examples_site, tmp_path,
                                                        monkeypatch):
    consolidated, _, _ = midyear_site
    out = tmp_path / "site"
    assert run("publish", examples_site[0], "-o", out).exit_code == 0
    before = snapshot(out)
    real, calls = site_writer.write_atomic, []

    def disk_full_on_the_third_file(path, *args, **kwargs):   # the disk fills up mid-site
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(site_writer, "write_atomic", disk_full_on_the_third_file)
    result = run("publish", consolidated, "-o", out)
    assert result.exit_code == 2
    assert result.output.strip().endswith(f"{calls[2].name}: No space left on device.")
    assert "Traceback" not in result.output
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]   # no half-written folder


# `planvalidator publish` in a child process that kills itself (SIGKILL) as it puts its first
# page in place (os.replace, a stdlib function, is patched, not ours): the new site is half
# written in its temporary folder.
KILLED_AT_FIRST_PAGE = r"""
import os, signal
os.replace = lambda src, dst, **kw: os.kill(os.getpid(), signal.SIGKILL)
from planvalidator.cli import main
main()
"""


def test_a_killed_publish_leaves_a_folder_that_the_next_publish_removes(examples_site,
                                                                        tmp_path):
    consolidated, site, _ = examples_site
    out = tmp_path / "site"
    assert run("publish", consolidated, "-o", out).exit_code == 0
    done = subprocess.run([sys.executable, "-c", KILLED_AT_FIRST_PAGE, "publish",
                           str(consolidated), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert snapshot(out) == snapshot(site)
    [left] = [p for p in tmp_path.iterdir() if p.name != "site"]
    assert left.name.startswith(".site.") and left.is_dir()
    long_ago = time.time() - 3600   # as if the kill were an hour ago: no live run's folder
    os.utime(left, (long_ago, long_ago))
    (out / "agency-gone.html").write_text("a page of an agency no longer published")
    assert run("publish", consolidated, "-o", out).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]
    assert snapshot(out) == snapshot(site)


def test_the_folders_an_older_publish_left_are_removed_too(examples_site, tmp_path):
    """Before publish wrote through StagedFolder it named its folders .site.XXXXXXXX.new and
    .old; a killed run of it left them for good."""
    consolidated, site, _ = examples_site
    out = tmp_path / "site"
    left = [tmp_path / ".site.k2_9abcd.new", tmp_path / ".site.zz81qwer.old"]
    for folder in left:
        (folder / "site").mkdir(parents=True)
        (folder / "site" / "index.html").write_text("half a site")
        long_ago = time.time() - 3600
        os.utime(folder, (long_ago, long_ago))
    mine = tmp_path / ".site.notes.new"   # not a name publish ever made: left alone
    mine.mkdir()
    assert run("publish", consolidated, "-o", out).exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [".site.notes.new", "site"]
    assert snapshot(out) == snapshot(site)


def test_a_folder_publish_did_not_write_is_never_replaced(examples_site, tmp_path):
    consolidated = examples_site[0]
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    result = run("publish", consolidated, "-o", mine)
    assert result.exit_code == 2
    assert "holds files that publish did not write" in result.output
    assert (mine / "notes.txt").read_text() == "keep me" and len(list(mine.iterdir())) == 1
    inside = tmp_path / "site"
    assert run("publish", consolidated, "-o", inside).exit_code == 0
    (inside / "citywide.xlsx").write_bytes(consolidated.read_bytes())
    result = run("publish", inside / "citywide.xlsx", "-o", inside)
    assert result.exit_code == 2 and "is inside" in result.output
    assert (inside / "citywide.xlsx").exists()


def test_a_plan_that_is_not_consolidated_is_refused_in_a_sentence(tmp_path):
    result = run("publish", EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", "-o", tmp_path / "site")
    assert result.exit_code == 2
    assert result.output == ("Error: bcfd-plan-fy2028-clean.xlsx is not a consolidated plan "
                             "written by planvalidator merge: it has no Summary sheet.\n")
    assert not (tmp_path / "site").exists()
