"""Submit → store → `merge --store` gives the same consolidated plan as merging the files."""

import datetime as dt
from pathlib import Path

import openpyxl
from click.testing import CliRunner

import officejs
from planvalidator.cli import main
from serving import INCLUDE, TOKENS, actions, call, shown

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CLEAN = {"BCFD": "bcfd-plan-fy2028-clean.xlsx", "DOT": "fy2027/dot-midyear-fy2027-clean.xlsx",
         "OPI": "fy2027/opi-yearend-fy2027-clean.xlsx"}
SOURCE_COLUMNS = {"Summary": "Source File", "Findings": "Source File"}


def sheets(path) -> dict:
    """Every sheet's rows, without what names the input files (Sources, Source File) and
    without the inputs of other years and stages (the store does not read them)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for ws in wb.worksheets:
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        if ws.title == "Sources":              # by file name, which differs: compare as a set
            rows = [rows[0][3:9]] + sorted(r[3:9] for r in rows[1:] if r[8] == "Accepted"
                                           or r[8] == "Superseded")
        elif ws.title in SOURCE_COLUMNS:
            top = 1 if ws.title == "Summary" else 0   # Summary's header is under its title
            c = rows[top].index(SOURCE_COLUMNS[ws.title])
            rows = [r[:c] + r[c + 1:] for r in rows]
        out[ws.title] = rows
    return out


def test_merge_of_the_store_equals_merge_of_the_files(server, tmp_path):
    for agency, name in CLEAN.items():
        receipt = shown(actions(call(server, "submit", officejs.payload(EXAMPLES / name, INCLUDE),
                                     TOKENS[agency])))["receipt"]
        assert receipt["agency"] == agency
    from_store, from_files = tmp_path / "store.xlsx", tmp_path / "files.xlsx"
    result = CliRunner().invoke(main, ["merge", "--store", str(server.store), "-o", str(from_store)])
    assert result.exit_code == 0, result.output
    files = [str(EXAMPLES / name) for name in CLEAN.values()]
    assert CliRunner().invoke(main, ["merge", *files, "-o", str(from_files)]).exit_code == 0
    assert sheets(from_store) == sheets(from_files)
    # one fiscal year and stage per merge: the FY2028 Plan; the store's FY2027 updates are not
    # read, and named with the reason
    assert [r[0] for r in sheets(from_store)["Summary"][2:-1]] == ["BCFD"]
    assert sheets(from_store)["Sources"][1:] == [
        ["BCFD", 2028, "Plan", "2028.1", dt.datetime(2027, 4, 14), "Accepted"]]
    not_read = sorted((r[0][:24], r[10]) for r in openpyxl.load_workbook(from_store)["Sources"]
                      .iter_rows(min_row=2, values_only=True) if r[8] == "Not read")
    assert not_read == [
        ("FY2027-DOT-Mid-Year_Upda", "the FY2027 Mid-Year Update in the store; this merge takes "
                                     "FY2028 Plan"),
        ("FY2027-OPI-Year-End_Upda", "the FY2027 Year-End Update in the store; this merge takes "
                                     "FY2028 Plan")]


def test_a_later_submission_supersedes_an_earlier_one(server, tmp_path):
    payload = officejs.payload(EXAMPLES / CLEAN["OPI"], INCLUDE)
    first = shown(actions(call(server, "submit", payload, TOKENS["OPI"])))["receipt"]
    second = shown(actions(call(server, "submit", payload, TOKENS["OPI"])))["receipt"]
    out = tmp_path / "c.xlsx"
    result = CliRunner().invoke(main, ["merge", "--store", str(server.store), "-o", str(out),
                                       "--stage", "Year-End Update"])   # the store holds others
    sources = {r[0]: r for r in openpyxl.load_workbook(out)["Sources"].iter_rows(values_only=True)}
    assert sources[second["file"]][8] == "Accepted"
    assert sources[first["file"]][8:10] == ("Superseded", second["file"])
    assert f"Superseded: {first['file']} (OPI) by {second['file']}" in result.output
