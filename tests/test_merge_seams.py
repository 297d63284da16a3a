"""The seams of a merge (issue 9, items 1-3): which files it takes, which year and stage it
consolidates, which submission of an agency wins, and that nothing is skipped in silence."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from planvalidator.citywide import store
from planvalidator.citywide.consolidated.read import read_consolidated
from planvalidator.cli import main
from planvalidator.read.sources import collect
from plans import measure, plan_file, sheets

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BCFD = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"
DPW = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
DOT_MIDYEAR = EXAMPLES / "fy2027" / "dot-midyear-fy2027-clean.xlsx"
DOT_UNFINISHED = EXAMPLES / "fy2027" / "dot-midyear-fy2027-missing-actuals.xlsx"
OPI_YEAREND = EXAMPLES / "fy2027" / "opi-yearend-fy2027-clean.xlsx"
UTC = dt.timezone.utc


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def rows(path, sheet):
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def results(path) -> dict:
    """Sources: file → (Result, Superseded By, Reason)."""
    return {r[0]: r[8:11] for r in rows(path, "Sources")[1:]}


def folder(tmp_path, *files, name="in") -> Path:
    d = tmp_path / name
    d.mkdir()
    for f in files:
        shutil.copy(f, d)
    return d


def bcfd_plan(path, submitted: dt.date | None, target=120, agency="BCFD"):
    """A BCFD FY2028 Plan (or one labelled with another agency) with a typed Submission Date."""
    data = sheets([measure("BCFD-609-01", 609, target=target), measure("BCFD-602-01", 602)],
                  agency={"Agency Code": agency, "Submission Date": submitted})
    return plan_file(path, data, agency=agency)


def submit(store_dir, data: dict, agency: str, year: int, received: dt.datetime):
    """Put a submission in the store as the add-in does, received at `received`."""
    return store.store_submission(store_dir, list(data), data,
                                  {"agency": agency, "fiscal_year": year}, now=received).path.name


# ---- 1. one fiscal year and one stage per consolidated plan -----------------------------------

def test_merge_consolidates_the_latest_year_and_names_what_it_leaves_out(tmp_path):
    src = folder(tmp_path, BCFD, DPW, DOT_MIDYEAR, OPI_YEAREND)
    out = tmp_path / "citywide.xlsx"
    result = run("merge", src, "-o", out)
    assert result.exit_code == 1, result.output          # DPW's plan has errors
    lines = result.output.splitlines()
    assert lines[0] == ("Consolidating FY2028 (the latest fiscal year among the inputs), "
                        "stage Plan (a Plan of FY2028 is among the inputs)")
    assert lines[-3:] == [
        "Left out: dot-midyear-fy2027-clean.xlsx (DOT) — FY2027 Mid-Year Update, not FY2028 Plan",
        "Left out: opi-yearend-fy2027-clean.xlsx (OPI) — FY2027 Year-End Update, not FY2028 Plan",
        f"Wrote {out}"]
    assert "Superseded" not in result.output
    assert [(r[0], r[2], r[3]) for r in rows(out, "Summary")[2:-1]] == [
        ("BCFD", 2028, "Plan"), ("DPW", 2028, "Plan")]
    assert results(out) == {
        "bcfd-plan-fy2028-clean.xlsx": ("Accepted", None, None),
        "dot-midyear-fy2027-clean.xlsx": ("Left out: FY2027 Mid-Year Update", None, None),
        "dpw-plan-fy2028-missing-targets.xlsx": ("Needs revision", None, None),
        "opi-yearend-fy2027-clean.xlsx": ("Left out: FY2027 Year-End Update", None, None)}
    header = rows(out, "Measures")[0]
    assert "FY2028 Target" in header and not any("FY(Y" in str(h) for h in header)
    assert read_consolidated(out).schema.fiscal_year == 2028   # sync, diff, roll forward take it


def test_fiscal_year_and_stage_options_choose_and_json_says_so(tmp_path):
    src = folder(tmp_path, BCFD, DOT_MIDYEAR, DOT_UNFINISHED, OPI_YEAREND)
    out = tmp_path / "c.xlsx"
    result = run("merge", src, "-o", out, "-y", "2027", "--stage", "Mid-Year Update",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["fiscal_year"], data["stage"], data["chosen"]) == (
        2027, "Mid-Year Update", "FY2027 (--fiscal-year), stage Mid-Year Update (--stage)")
    assert [a["agency"] for a in data["agencies"]] == ["DOT"]
    assert data["left_out"] == [
        {"source": "bcfd-plan-fy2028-clean.xlsx", "agency": "BCFD", "fiscal_year": 2028,
         "stage": "Plan", "reason": "FY2028 Plan, not FY2027 Mid-Year Update"},
        {"source": "opi-yearend-fy2027-clean.xlsx", "agency": "OPI", "fiscal_year": 2027,
         "stage": "Year-End Update",
         "reason": "FY2027 Year-End Update, not FY2027 Mid-Year Update"}]
    assert data["superseded"] == [
        {"source": "dot-midyear-fy2027-missing-actuals.xlsx", "agency": "DOT",
         "superseded_by": "dot-midyear-fy2027-clean.xlsx",
         "reason": "later Submission Date 2027-02-04"}]


def test_without_a_plan_the_latest_stage_is_consolidated(tmp_path):
    result = run("merge", folder(tmp_path, DOT_MIDYEAR, OPI_YEAREND), "-o", tmp_path / "c.xlsx")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Consolidating FY2027 (the latest fiscal year among the inputs), stage Year-End Update "
        "(the latest stage among the FY2027 inputs; there is no FY2027 Plan)")
    assert [r[0] for r in rows(tmp_path / "c.xlsx", "Summary")[2:-1]] == ["OPI"]


def test_the_readme_main_job_is_one_fiscal_year(tmp_path):
    out = tmp_path / "citywide.xlsx"
    result = run("merge", EXAMPLES, "-o", out)
    assert result.exit_code == 1   # six of the seven FY2028 examples carry errors on purpose
    assert {(r[2], r[3]) for r in rows(out, "Summary")[2:-1]} == {(2028, "Plan")}
    assert {r[8] for r in rows(out, "Sources")[1:]} == {"Accepted", "Needs revision"}   # none superseded or left out
    assert len(rows(out, "Summary")) == 2 + 7 + 1   # title, header, agencies, Total


# ---- 2. the right submission wins -------------------------------------------------------------

def test_in_the_store_the_time_received_decides_not_the_typed_date(tmp_path):
    s = tmp_path / "store"
    stale = submit(s, sheets(agency={"Submission Date": dt.date(2027, 5, 2)}), "BCFD", 2028,
                   dt.datetime(2027, 5, 2, 10, 0, tzinfo=UTC))
    fixed = submit(s, sheets([measure(target=130), measure("BCFD-602-01", 602)],
                             agency={"Submission Date": dt.date(2027, 4, 1)}), "BCFD", 2028,
                   dt.datetime(2027, 5, 3, 9, 30, tzinfo=UTC))
    out = tmp_path / "c.xlsx"
    result = run("merge", "--store", s, "-o", out)
    assert result.exit_code == 0, result.output
    assert results(out) == {
        fixed: ("Accepted", None, None),
        stale: ("Superseded", fixed, "received later (2027-05-03 09:30:00 UTC)")}
    assert (f"Superseded: {stale} (BCFD) by {fixed} — received later (2027-05-03 09:30:00 UTC)"
            in result.output)


def test_another_year_or_stage_never_supersedes(tmp_path):
    src = folder(tmp_path, OPI_YEAREND)
    bcfd_plan(src / "opi-plan-fy2028.xlsx", dt.date(2027, 4, 2), agency="OPI")
    out = tmp_path / "c.xlsx"
    result = run("merge", src, "-o", out)
    assert "Superseded" not in result.output
    assert results(out) == {
        "opi-plan-fy2028.xlsx": ("Needs revision", None, None),
        "opi-yearend-fy2027-clean.xlsx": ("Left out: FY2027 Year-End Update", None, None)}


def test_files_later_typed_date_then_later_modification_shown_in_the_output(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    early = bcfd_plan(src / "a-early.xlsx", dt.date(2027, 4, 15))
    late = bcfd_plan(src / "b-late.xlsx", dt.date(2027, 5, 2), target=125)
    for path in (early, late):   # the later typed date wins even over a later modification
        stamp = dt.datetime(2027, 6 if path is early else 5, 1, tzinfo=UTC).timestamp()
        os.utime(path, (stamp, stamp))
    result = run("merge", src, "-o", tmp_path / "c.xlsx")
    assert ("Superseded: a-early.xlsx (BCFD) by b-late.xlsx — later Submission Date 2027-05-02"
            in result.output.splitlines())
    same = tmp_path / "same"
    same.mkdir()
    older, newer = bcfd_plan(same / "z.xlsx", None), bcfd_plan(same / "y.xlsx", None, 125)
    for path, hour in ((older, 8), (newer, 9)):
        stamp = dt.datetime(2027, 5, 3, hour, tzinfo=UTC).timestamp()
        os.utime(path, (stamp, stamp))
    result = run("merge", same, "-o", tmp_path / "d.xlsx")
    assert ("Superseded: z.xlsx (BCFD) by y.xlsx — same Submission Date, modified later "
            "(2027-05-03 09:00:00 UTC)") in result.output.splitlines()


def test_a_store_submission_wins_over_a_file_of_the_same_agency(tmp_path):
    s = tmp_path / "store"
    stored = submit(s, sheets(agency={"Submission Date": dt.date(2027, 4, 1)}), "BCFD", 2028,
                    dt.datetime(2027, 4, 1, 12, tzinfo=UTC))
    src = tmp_path / "in"
    src.mkdir()
    emailed = bcfd_plan(src / "bcfd-emailed.xlsx", dt.date(2027, 5, 2), target=125)
    out = tmp_path / "c.xlsx"
    result = run("merge", src, "--store", s, "-o", out)
    assert results(out) == {
        stored: ("Accepted", None, None),
        emailed.name: ("Superseded", stored, "a store submission wins over a file")}
    assert (f"Superseded: bcfd-emailed.xlsx (BCFD) by {stored} — a store submission wins over a "
            "file") in result.output.splitlines()


def test_supersession_across_worker_chunks_is_the_same_as_in_one(tmp_path):
    src = folder(tmp_path, DPW, OPI_YEAREND)
    for name, typed in (("bcfd-1.xlsx", dt.date(2027, 4, 1)), ("bcfd-2.xlsx", dt.date(2027, 5, 2)),
                        ("bcfd-3.xlsx", dt.date(2027, 4, 20))):
        bcfd_plan(src / name, typed, target=100 + typed.day)
    s = tmp_path / "store"   # DPW resubmitted through the add-in, with an earlier typed date
    dpw_stored = submit(s, sheets([measure("DPW-661-01", 661)],
                                  services=[(661, "Public Right-of-Way Cleaning",
                                             "Clean and Healthy Communities", 1, "")],
                                  agency={"Agency Code": "DPW", "Submission Date":
                                          dt.date(2027, 4, 1)}),
                        "DPW", 2028, dt.datetime(2027, 5, 4, 8, tzinfo=UTC))
    from planvalidator.citywide.merge import chunk_size
    assert chunk_size(6, jobs=2) == 1     # six files, two workers: six chunks of one file
    one, two = tmp_path / "one.xlsx", tmp_path / "two.xlsx"
    first = run("merge", src, "--store", s, "-o", one, "--jobs", "1")
    second = run("merge", src, "--store", s, "-o", two, "--jobs", "2")
    assert first.output.replace(str(one), "OUT") == second.output.replace(str(two), "OUT")
    assert two.read_bytes() == one.read_bytes()
    assert {f: r[0] for f, r in results(two).items()} == {
        "bcfd-1.xlsx": "Superseded", "bcfd-2.xlsx": "Accepted", "bcfd-3.xlsx": "Superseded",
        "dpw-plan-fy2028-missing-targets.xlsx": "Superseded", dpw_stored: "Accepted",
        "opi-yearend-fy2027-clean.xlsx": "Left out: FY2027 Year-End Update"}


# ---- 3. nothing skipped in silence -------------------------------------------------------------

def spreadsheet_folder(tmp_path) -> Path:
    """A folder as an office share holds it: plans in both letter cases and other files."""
    src = tmp_path / "share"
    src.mkdir()
    shutil.copy(BCFD, src / "BCFD-PLAN.XLSX")
    shutil.copy(DPW, src / "dpw.xlsx")
    shutil.copy(BCFD, src / "bpd-plan.xlsm")
    for name in ("old-plan.xls", "parks.ods", "figures.csv", "notes.txt"):
        (src / name).write_bytes(b"not read")
    shutil.copy(DPW, src / "~$dpw.xlsx")
    return src


NOT_READ = [
    "Not read: bpd-plan.xlsm — a macro-enabled workbook (.xlsm); save it as an Excel Workbook "
    "(.xlsx) to include it",
    "Not read: figures.csv — a CSV file, not a plan workbook (plans are .xlsx templates)",
    "Not read: old-plan.xls — an Excel 97-2003 workbook (.xls); save it as an Excel Workbook "
    "(.xlsx) to include it",
    "Not read: parks.ods — an OpenDocument spreadsheet (.ods); save it as an Excel Workbook "
    "(.xlsx) to include it",
    "Not read: ~$dpw.xlsx — Excel's lock file for a workbook that is open (close the workbook "
    "in Excel)"]


def test_merge_takes_xlsx_in_any_case_and_names_every_other_spreadsheet(tmp_path):
    src = spreadsheet_folder(tmp_path)
    out = tmp_path / "c.xlsx"
    result = run("merge", src, "-o", out)
    assert result.exit_code == 1, result.output   # DPW's errors; files not read don't count
    assert [r[0] for r in rows(out, "Summary")[2:-1]] == ["BCFD", "DPW"]
    assert result.output.splitlines()[-6:-1] == NOT_READ
    assert {f: r for f, r in results(out).items() if r[0] == "Not read"} == {
        "bpd-plan.xlsm": ("Not read", None, "a macro-enabled workbook (.xlsm); save it as an "
                                            "Excel Workbook (.xlsx) to include it"),
        "figures.csv": ("Not read", None, "a CSV file, not a plan workbook (plans are .xlsx "
                                          "templates)"),
        "old-plan.xls": ("Not read", None, "an Excel 97-2003 workbook (.xls); save it as an "
                                           "Excel Workbook (.xlsx) to include it"),
        "parks.ods": ("Not read", None, "an OpenDocument spreadsheet (.ods); save it as an "
                                        "Excel Workbook (.xlsx) to include it"),
        "~$dpw.xlsx": ("Not read", None, "Excel's lock file for a workbook that is open (close "
                                         "the workbook in Excel)")}
    globbed = run("merge", f"{src}/*.xlsx", "-o", tmp_path / "g.xlsx")
    assert [r[0] for r in rows(tmp_path / "g.xlsx", "Summary")[2:-1]] == ["BCFD", "DPW"]
    assert globbed.output.splitlines()[-2:-1] == NOT_READ[-1:]


def test_a_link_in_a_folder_is_the_file_it_points_to(tmp_path):
    """A folder's files are taken by their real paths: a link to a file of the same folder is
    that file, read once; a link to a file elsewhere is read from there; a link that leads
    nowhere is no file. (Only links are resolved one by one, so the test needs each kind beside
    plain files.)"""
    src = folder(tmp_path, BCFD)
    elsewhere = folder(tmp_path, DPW, name="kept")
    (src / "bcfd-again.xlsx").symlink_to(src / BCFD.name)
    (src / "dpw.xlsx").symlink_to(elsewhere / DPW.name)
    (tmp_path / "linked").symlink_to(src)
    (src / "loop.xlsx").symlink_to(src / "loop.xlsx")   # leads nowhere: no file, passed over
    for spec in (src, tmp_path / "linked", f"{src}/*.xlsx"):
        assert collect([spec]).paths == [(src / BCFD.name).resolve(),
                                         (elsewhere / DPW.name).resolve()], spec


def test_validate_takes_folders_and_quoted_globs_like_merge(tmp_path):
    src = spreadsheet_folder(tmp_path)
    for spec in (src, f"{src}/*.xlsx"):
        result = run("validate", spec, "--format", "json")
        assert result.exit_code == 1, result.output
        assert [r["source"] for r in json.loads(result.stdout)] == [
            "BCFD-PLAN.XLSX", "dpw.xlsx"]
    assert run("validate", src).stderr.splitlines() == NOT_READ


def test_an_unreadable_input_is_exit_2_in_merge_as_in_validate(tmp_path):
    src = folder(tmp_path, BCFD)
    (src / "minutes.xlsx").write_text("not a workbook")
    out = tmp_path / "c.xlsx"
    assert run("validate", src).exit_code == 2
    result = run("merge", src, "-o", out)
    assert result.exit_code == 2, result.output
    assert [r[0] for r in rows(out, "Summary")[2:-1]] == ["BCFD"]   # the rest is still written


def test_when_no_input_can_be_read_merge_says_so_in_one_sentence(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "minutes.xlsx").write_text("not a workbook")
    (src / "budget.xlsx").write_bytes(b"PK\x03\x04 cut short")
    out = tmp_path / "c.xlsx"
    result = run("merge", src, "-o", out)
    assert result.exit_code == 2, result.output   # not 1 with an IndexError (issue 10)
    assert result.output.strip() == (
        "Error: None of the inputs could be read (budget.xlsx, minutes.xlsx), so there is "
        "nothing to merge; `planvalidator validate` on them says why.")
    assert not out.exists()
