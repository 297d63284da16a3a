"""Updates submitted through the add-in flow into sync; the office sees and checks the store
(`store list|show|verify`); an agency lists and downloads its own submissions."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import openpyxl
import pytest
from click.testing import CliRunner

import officejs
from planvalidator.cli import main
from planvalidator.citywide.store import list_submissions
from plans import fy2027_plans
from serving import INCLUDE, OFFICE, TOKENS, actions, call, running, shown
from test_store_merge import sheets

ROOT = Path(__file__).resolve().parent.parent
UPDATES = {"DOT": ROOT / "examples/fy2027/dot-midyear-fy2027-clean.xlsx",
           "OPI": ROOT / "examples/fy2027/opi-yearend-fy2027-clean.xlsx"}
BCFD_2028 = ROOT / "examples/bcfd-plan-fy2028-clean.xlsx"


@pytest.fixture(scope="module")
def office(tmp_path_factory):
    """A server whose config names the city's time zone, and the FY2027 consolidated plan."""
    home = tmp_path_factory.mktemp("twoway-store")
    citywide = home / "citywide-fy2027.xlsx"
    plans = fy2027_plans(home / "plans")
    assert CliRunner().invoke(main, ["merge", str(plans), "-o", str(citywide), "-q"]).exit_code == 0
    with running(home, TOKENS, OFFICE, "timezone: America/New_York\n") as url, \
            httpx.Client(base_url=url, timeout=60) as client:
        client.store, client.citywide, client.home = home / "submissions", citywide, home
        yield client


def submit(client, path: Path, agency: str) -> dict:
    return shown(actions(call(client, "submit", officejs.payload(path, INCLUDE),
                              TOKENS[agency])))["receipt"]


def test_sync_from_the_store_equals_sync_of_the_same_files(office, tmp_path):
    receipts = {agency: submit(office, path, agency) for agency, path in UPDATES.items()}
    submit(office, BCFD_2028, "BCFD")    # another year's Plan: sync --store must not read it
    assert {r["stage"] for r in receipts.values()} == {"Mid-Year Update", "Year-End Update"}
    from_store, from_files = tmp_path / "store.xlsx", tmp_path / "files.xlsx"
    result = CliRunner().invoke(main, ["sync", str(office.citywide), "--store", str(office.store),
                                       "-o", str(from_store)])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(main, ["sync", str(office.citywide), *map(str, UPDATES.values()),
                                     "-o", str(from_files)]).exit_code == 0
    store_sheets, file_sheets = sheets(from_store), sheets(from_files)
    for found in (store_sheets, file_sheets):   # its last column names the update file
        found["Changes"] = [row[:-1] for row in found["Changes"]]
    assert store_sheets == file_sheets
    changes = store_sheets["Changes"]
    assert {row[0] for row in changes[1:]} == {"DOT", "OPI"} and len(changes) > 10
    read = {r[0] for r in openpyxl.load_workbook(from_store)["Sources"].iter_rows(
        min_row=2, values_only=True)}
    assert {r["file"] for r in receipts.values()} <= read
    assert not any(name.startswith("FY2028") for name in read)


def test_a_changed_target_in_a_stored_update_is_still_target_changed(office, tmp_path):
    """Unlocking the sheet and typing a new target gets through Submit; sync refuses it."""
    changed = tmp_path / "dot-midyear.xlsx"
    shutil.copy(UPDATES["DOT"], changed)
    wb = openpyxl.load_workbook(changed)
    wb["Measures"]["M4"] = 0.5        # DOT-683-01's FY2027 Target was 0.9
    wb.save(changed)
    submit(office, changed, "DOT")
    out = tmp_path / "synced.xlsx"
    result = CliRunner().invoke(main, ["sync", str(office.citywide), "--store", str(office.store),
                                       "-o", str(out)])
    assert result.exit_code == 1
    assert re.search(r"error\s+DOT › Measures!M4\s+target-changed", result.output), result.output
    [row] = [r for r in openpyxl.load_workbook(out)["Measures"].iter_rows(values_only=True)
             if "DOT-683-01" in r]
    assert 0.9 in row and 0.5 not in row


def test_store_list_show_and_verify_a_receipts_fingerprint(office, tmp_path):
    receipt = submit(office, UPDATES["OPI"], "OPI")
    runner = CliRunner()
    listed = runner.invoke(main, ["store", "list", "--store", str(office.store), "--agency", "OPI",
                                  "--timezone", "America/New_York", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    mine = [s for s in json.loads(listed.output) if s["file"] == receipt["file"]]
    assert mine and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T", mine[0]["received"])
    shown_ = runner.invoke(main, ["store", "show", "--store", str(office.store),
                                  receipt["sha256"][:12]])
    assert shown_.exit_code == 0, shown_.output
    assert f"Fingerprint:  {receipt['sha256']}" in shown_.output
    assert "Stage:        Year-End Update" in shown_.output
    ok = runner.invoke(main, ["store", "verify", "--store", str(office.store), receipt["sha256"]])
    assert ok.exit_code == 0 and f"intact   {receipt['file']}" in ok.output
    unknown = runner.invoke(main, ["store", "verify", "--store", str(office.store), "0" * 64])
    assert unknown.exit_code == 1 and "No submission" in unknown.output
    # a stored copy changed afterwards no longer has the fingerprint the agency holds
    copy = tmp_path / "store"
    shutil.copytree(office.store, copy)
    doc = json.loads((copy / receipt["file"]).read_text())
    doc["sheets"]["Measures"][3][16] = 1
    (copy / receipt["file"]).write_text(json.dumps(doc))
    bad = runner.invoke(main, ["store", "verify", "--store", str(copy)])
    assert bad.exit_code == 1
    assert f"damaged  {receipt['file']}: {receipt['file']} has been changed since it was " \
           "submitted" in bad.output
    wrong = runner.invoke(main, ["store", "list", "--store", str(copy), "--timezone", "Mars/Base"])
    assert wrong.exit_code == 2 and "'Mars/Base' is not a time zone" in wrong.output


def test_an_agency_lists_and_downloads_only_its_own_submissions(office):
    receipt = submit(office, UPDATES["DOT"], "DOT")
    dot = {"Authorization": TOKENS["DOT"]}
    listed = office.get("/planvalidator/submissions", params={"fiscal_year": 2027}, headers=dot)
    assert listed.status_code == 200
    body = listed.json()
    assert (body["agency"], body["timezone"]) == ("DOT", "America/New_York")
    assert {s["fiscal_year"] for s in body["submissions"]} == {2027}
    mine = next(s for s in body["submissions"] if s["file"] == receipt["file"])
    assert (mine["stage"], mine["accepted"], mine["sha256"]) == (
        "Mid-Year Update", True, receipt["sha256"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[SD]T", mine["received"])
    copy = office.get(f"/planvalidator/submissions/{receipt['file']}", headers=dot)
    assert copy.content == (office.store / receipt["file"]).read_bytes()   # the exact copy
    opi = {"Authorization": TOKENS["OPI"]}
    assert office.get(f"/planvalidator/submissions/{receipt['file']}", headers=opi
                      ).status_code == 404
    assert office.get("/planvalidator/submissions", params={"agency": "DOT"}, headers=opi
                      ).status_code == 403
    assert office.get("/planvalidator/submissions").status_code == 401
    by_office = office.get("/planvalidator/submissions", params={"agency": "DOT"},
                           headers={"Authorization": OFFICE})
    assert receipt["file"] in {s["file"] for s in by_office.json()["submissions"]}
    assert {s.agency for s in list_submissions(office.store)} >= {"DOT"}
