"""Defects a reviewer found at the seams of merge, sync and the store (review items 1-9, 31,
32): each input is built here, and each test names what went wrong before the fix."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from planvalidator.citywide import store
from planvalidator.citywide.consolidated.read import read_consolidated
from planvalidator.citywide.merge import _failed, merge, merge_files
from planvalidator.citywide.sync import sync_files
from planvalidator.cli import main
from planvalidator.findings import COLUMN_CAP
from planvalidator.read.sources import collect
from plans import measure, plan_file, sheets

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BCFD = EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"
DPW = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"
UTC = dt.timezone.utc


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def plain_error(result, code=2):
    """Exit `code` with a sentence, not a traceback."""
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


def typo_plan(path, year=2082, agency="DOT"):
    """A FY2028 plan whose Fiscal Year was mistyped."""
    data = sheets([measure(f"{agency}-609-01", 609), measure(f"{agency}-602-01", 602)],
                  agency={"Agency Code": agency, "Fiscal Year": year})
    return plan_file(path, data, agency=agency)


def midyear(path, measures=None):
    """BCFD's FY2028 Mid-Year Update (of the bundled clean plan's agency)."""
    data = sheets(measures, agency={"Plan Stage": "Mid-Year Update"})
    return plan_file(path, data)


def update_folder(tmp_path, other: str, content: bytes) -> Path:
    """A folder of updates: BCFD's Mid-Year Update and one other file."""
    updates = tmp_path / "updates"
    updates.mkdir()
    midyear(updates / "bcfd-midyear.xlsx")
    (updates / other).write_bytes(content)
    return updates


def consolidated(tmp_path, *plans) -> Path:
    out = tmp_path / "citywide.xlsx"
    result = run("merge", *plans, "-o", out, "--quiet")
    assert result.exit_code in (0, 1), result.output
    return out


def submit(store_dir, data: dict, agency: str, year: int, stage: str = "Plan",
           minute: int = 0, **meta) -> Path:
    received = dt.datetime(2027, 4, 1, 9, minute, tzinfo=UTC)
    return store.store_submission(store_dir, list(data), data,
                                  {"agency": agency, "fiscal_year": year, "stage": stage, **meta},
                                  now=received).path


# --- 1. merge --stage with no input at that stage -------------------------------------------

def test_merge_stage_absent_among_the_inputs_is_a_plain_error(tmp_path):
    """Was an IndexError from the consolidated writer (no plan accepted, no schema to label)."""
    out = tmp_path / "c.xlsx"
    result = run("merge", BCFD, "--stage", "Year-End Update", "-o", out)
    plain_error(result)
    assert "None of the FY2028 inputs is a Year-End Update (they are: Plan)." in result.output
    assert not out.exists()


# --- 2. a Fiscal Year without a schema ------------------------------------------------------

def test_a_mistyped_fiscal_year_is_left_out_not_chosen(tmp_path):
    """Was "Consolidating FY2082", every real FY2028 plan left out, exit 1, and a workbook
    read_consolidated refuses."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(BCFD, folder)
    typo_plan(folder / "dot-typo.xlsx")
    out = tmp_path / "c.xlsx"
    result = run("merge", folder, "-o", out)
    plain_error(result)   # a plan left out for a year without a schema: exit 2, as unreadable
    assert result.output.startswith("Consolidating FY2028 ")
    assert "Left out: dot-typo.xlsx (DOT) — no FY2082 schema" in result.output
    city = read_consolidated(out)
    assert (city.schema.fiscal_year, sorted(city.agencies)) == (2028, ["BCFD"])


def test_only_mistyped_fiscal_years_is_a_plain_error(tmp_path):
    result = run("merge", typo_plan(tmp_path / "dot-typo.xlsx"), "-o", tmp_path / "c.xlsx")
    plain_error(result)
    assert "None of the inputs is for a fiscal year that has a schema (they are FY2082;" \
        in result.output


def test_the_store_default_year_has_a_schema(tmp_path):
    """merge --store took the store's latest year, 2082, and left every FY2028 plan out."""
    d = tmp_path / "store"
    submit(d, sheets(), "BCFD", 2028)
    submit(d, sheets(agency={"Agency Code": "DOT", "Fiscal Year": 2082}), "DOT", 2082, minute=1)
    result = run("merge", "--store", d, "-o", tmp_path / "c.xlsx")
    assert result.output.startswith("Consolidating FY2028 "), result.output
    assert "Not read: FY2082-DOT-" in result.output
    assert sorted(read_consolidated(tmp_path / "c.xlsx").agencies) == ["BCFD"]


# --- 3, 4, 8. sync: exit code, files not read, bounded findings -----------------------------

def test_sync_exits_2_for_an_unreadable_update(tmp_path):
    """Was exit 1 (FOUND_ERRORS); README: a file that can't be read → exit 2."""
    city = consolidated(tmp_path, BCFD)
    updates = update_folder(tmp_path, "broken.xlsx", b"not a workbook")
    result = run("sync", city, updates, "-o", tmp_path / "synced.xlsx")
    plain_error(result)
    assert "Left out, unreadable: broken.xlsx" in result.output
    assert (tmp_path / "synced.xlsx").exists()   # the rest is still synced and written


def test_sync_names_the_files_it_does_not_read(tmp_path):
    """An old.xlsm in an update folder, and the store's Plans, disappeared without a word."""
    city = consolidated(tmp_path, BCFD)
    updates = update_folder(tmp_path, "old.xlsm", b"macro workbook")
    d = tmp_path / "store"
    plan_json = submit(d, sheets(), "BCFD", 2028)
    data = sheets(agency={"Plan Stage": "Mid-Year Update"})
    submit(d, data, "BCFD", 2028, stage="Mid-Year Update", minute=5)
    result = run("sync", city, updates, "--store", d, "-o", tmp_path / "synced.xlsx",
                 "--format", "json")
    assert result.exit_code in (0, 1), result.output
    not_read = {n["source"]: n["reason"] for n in json.loads(result.output)["not_read"]}
    assert set(not_read) == {"old.xlsm", plan_json.name}
    text = run("sync", city, updates, "--store", d, "-o", tmp_path / "synced2.xlsx").output
    assert "Not read: old.xlsm — " in text
    assert f"Not read: {plan_json.name} — the FY2028 Plan in the store" in text


def test_sync_findings_are_bounded(tmp_path):
    """An update adding 600 measures listed 600 measure-added findings (cap: 500 a column)."""
    city = consolidated(tmp_path, BCFD)
    many = [measure(f"BCFD-609-{i:03d}", 609) for i in range(600)]
    update = midyear(tmp_path / "bcfd-midyear.xlsx", many)
    result = sync_files(city, [update], tmp_path / "synced.xlsx")
    findings = result.applied[0].report.findings
    added = [f for f in findings if f.code == "measure-added"]
    assert 0 < len(added) <= COLUMN_CAP   # (three more fall to the 2,000 in all)
    more = [f for f in findings if f.code == "more-findings" and "measure-added" in f.message]
    assert [f.value for f in more] == [600 - COLUMN_CAP]


# --- 5, 32. the store: names it did not give, renamed submissions ---------------------------

def test_an_impossible_time_in_a_store_name_is_a_stray_file(tmp_path):
    """strptime's ValueError was a traceback from store list, merge --store and sync --store."""
    d = tmp_path / "store"
    good = submit(d, sheets(), "BCFD", 2028)
    (d / f"FY2028-BCFD-Plan-20271399T000000.000000Z-{'0' * 64}.json").write_text("{}")
    result = run("store", "list", "--store", d)
    assert result.exit_code == 0, result.output
    assert [s.path for s in store.list_submissions(d)] == [good]
    result = run("merge", "--store", d, "-o", tmp_path / "c.xlsx")
    assert result.exit_code == 0, result.output


def test_verify_sees_a_submission_renamed_to_another_stage(tmp_path):
    """A Plan renamed to a Year-End Update passed verify, and merge --store took it as one."""
    d = tmp_path / "store"
    path = submit(d, sheets(), "BCFD", 2028)
    renamed = path.with_name(path.name.replace("-Plan-", "-Year-End_Update-"))
    path.rename(renamed)
    [(sub, problem)] = store.verify(d)
    assert problem == f"{renamed.name}: its name does not match its contents (it was renamed)."
    result = run("store", "verify", "--store", d)
    assert result.exit_code == 1 and "renamed" in result.output


def test_store_show_escapes_what_the_submitter_wrote(tmp_path):
    """Sheet names and metadata from the add-in client reached the terminal raw."""
    d = tmp_path / "store"
    data = sheets()
    data["Notes\x1b[2J"] = [["hi"]]
    path = submit(d, data, "BCFD", 2028, workbook="plan\u202exslx.exe",
                  submitted_by="dana\x1b]0;owned\x07")
    result = run("store", "show", path.name, "--store", d)
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert "Notes\\x1b[2J" in result.output
    assert "plan\\u202exslx.exe" in result.output


# --- 6. a consolidated plan whose Summary years have mixed types ----------------------------

def test_mixed_fiscal_year_cells_in_the_summary_are_a_plain_error(tmp_path):
    """sorted({2028, "2028x"}) was a TypeError traceback from diff, sync, publish."""
    city = consolidated(tmp_path, BCFD, DPW)
    wb = openpyxl.load_workbook(city)
    ws = wb["Summary"]
    header = next(r for r in ws.iter_rows() if any(c.value == "Fiscal Year" for c in r))
    column = next(c.column for c in header if c.value == "Fiscal Year")
    ws.cell(header[0].row + 2, column).value = "2028x"
    wb.save(city)
    result = run("diff", city, city)
    plain_error(result)
    assert "holds plans of fiscal years 2028 and 2028x" in result.output


# --- 7. a file that cannot be opened is left out, not the end of the merge ------------------

def test_a_file_gone_since_it_was_listed_is_left_out_and_named(tmp_path):
    """Its OSError escaped: "Cannot use …" and no consolidated plan at all."""
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(BCFD, folder)
    gone = plan_file(folder / "dot.xlsx", sheets(agency={"Agency Code": "DOT"}), agency="DOT")
    paths = sorted(collect([folder]).paths)
    gone.unlink()
    cons = merge(paths, one_plan=True)
    assert [s.agency for s in cons.accepted] == ["BCFD"]
    [lost] = cons.unreadable
    assert lost.name == "dot.xlsx"
    assert "dot.xlsx could not be opened (No such file or directory)" in \
        lost.report.findings[0].message


def test_a_failed_file_gone_since_is_still_named():
    """_failed re-opened the file to hash it; its OSError escaped the worker pool."""
    sub = _failed((Path("/nonexistent/dot.xlsx"), None), "its worker stopped")
    assert (sub.name, sub.sha256, sub.readable) == ("dot.xlsx", "", False)


def test_a_store_submission_without_its_time_of_receipt_is_unreadable(tmp_path):
    """A KeyError on metadata outside the fingerprint showed as "failed unexpectedly"."""
    d = tmp_path / "store"
    path = submit(d, sheets(), "BCFD", 2028)
    doc = json.loads(path.read_text())
    del doc["metadata"]["submitted_at"]
    path.write_text(json.dumps(doc))
    cons = merge_files([BCFD], tmp_path / "c.xlsx", store_dir=d)
    [bad] = cons.unreadable
    assert "does not say when it was received" in bad.report.findings[0].message


# --- 31. validate --annotate with two files of one name -------------------------------------

def test_annotate_refuses_two_files_that_would_share_a_copy(tmp_path):
    """b/plan.xlsx's annotated copy silently overwrote a/plan.xlsx's."""
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(DPW, tmp_path / name / "plan.xlsx")
    out = tmp_path / "out"
    result = run("validate", "--annotate", out, tmp_path / "a/plan.xlsx", tmp_path / "b/plan.xlsx")
    plain_error(result)
    assert "would both be written to" in result.output and "plan.annotated.xlsx" in result.output
    assert not (out / "plan.annotated.xlsx").exists()
