"""The submission store: append-only, atomic, and it gives back exactly what was stored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import officejs
from planvalidator.read.payload import plan_sheets
from planvalidator.read.plan import read_plan
from planvalidator.citywide.store import (StoreError, list_submissions, read_submission, sheets_sha256,
                                 store_submission)
from planvalidator.rules.validate import validate_plan, validate_workbook
from planvalidator.read.xlsx import CellError, read_xlsx

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLAN_SHEETS = ["Agency", "Services", "Measures", "_planvalidator"]
NOW = dt.datetime(2027, 4, 15, 14, 30, 12, 123456, tzinfo=dt.timezone.utc)

EVERY_KIND = {"Measures": [
    ["text", None, 1.0, 0.85, 2028.0, True, False],
    [dt.date(2027, 4, 12), dt.datetime(2027, 4, 12, 9, 30), dt.time(12, 0),
     dt.timedelta(hours=30), CellError("#N/A"), CellError("", "SUM(A1:A3)"), "=cmd|' /c calc'!A0"],
]}


def meta(agency="BCFD", year=2028):
    return {"agency": agency, "fiscal_year": year, "stage": "Plan"}


def test_every_kind_of_value_comes_back_as_it_went_in(tmp_path):
    receipt = store_submission(tmp_path, ["Measures"], EVERY_KIND, meta(), now=NOW)
    assert receipt.path.name == f"FY2028-BCFD-Plan-20270415T143012.123456Z-{receipt.sha256}.json"
    names, sheets, stored_meta = read_submission(receipt.path)
    assert (names, sheets) == (["Measures"], EVERY_KIND)
    typed = lambda s: [[type(v) for v in row] for row in s["Measures"]]  # noqa: E731
    assert typed(sheets) == typed(EVERY_KIND)
    assert stored_meta["sha256"] == receipt.sha256 == sheets_sha256(["Measures"], EVERY_KIND)
    assert stored_meta["submitted_at"] == "2027-04-15T14:30:12.123456Z"
    assert receipt.as_dict()["submitted_at"] == "2027-04-15T14:30:12.123456Z"


def test_a_submission_is_never_overwritten(tmp_path):
    first = store_submission(tmp_path, ["Measures"], EVERY_KIND, meta(), now=NOW)
    again = store_submission(tmp_path, ["Measures"], EVERY_KIND, meta(), now=NOW)
    assert first.path != again.path and first.sha256 == again.sha256
    assert [s.path for s in list_submissions(tmp_path)] == [first.path, again.path]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]


def test_the_store_lists_submissions_in_order_and_ignores_other_files(tmp_path):
    later = store_submission(tmp_path, ["Measures"], EVERY_KIND, meta("DOT"),
                             now=NOW + dt.timedelta(days=1))
    earlier = store_submission(tmp_path, ["Measures"], {"Measures": [["x"]]}, meta("DOT"), now=NOW)
    other = store_submission(tmp_path, ["Measures"], EVERY_KIND, meta("BCFD", 2027), now=NOW)
    (tmp_path / "notes.txt").write_text("not a submission")
    (tmp_path / ".tmp-0123").write_text("{")
    listed = list_submissions(tmp_path)
    assert [s.path for s in listed] == [other.path, earlier.path, later.path]
    assert [(s.fiscal_year, s.agency) for s in listed] == [(2027, "BCFD"), (2028, "DOT"), (2028, "DOT")]
    assert listed[2].submitted_at == NOW + dt.timedelta(days=1)


def test_a_changed_or_damaged_file_is_refused(tmp_path):
    receipt = store_submission(tmp_path, ["Measures"], EVERY_KIND, meta(), now=NOW)
    doc = json.loads(receipt.path.read_text())
    doc["sheets"]["Measures"][0][2] = 2.0
    receipt.path.write_text(json.dumps(doc))
    with pytest.raises(StoreError, match="changed since it was submitted"):
        read_submission(receipt.path)
    receipt.path.write_text("{not json")
    with pytest.raises(StoreError, match="damaged"):
        read_submission(receipt.path)


@pytest.mark.parametrize("bad", [meta(agency=""), meta(agency="../x"), meta(year=None)])
def test_a_submission_needs_agency_and_year(tmp_path, bad):
    with pytest.raises(StoreError):
        store_submission(tmp_path, ["Measures"], EVERY_KIND, bad)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.xlsx")))
def test_a_stored_payload_reads_back_as_the_workbook_file(tmp_path, name):
    """What Submit stores from the add-in payload is the .xlsx reader's sheets, exactly, and it
    validates the same way as the file."""
    path = EXAMPLES / name
    names, sheets = plan_sheets(officejs.payload(path, PLAN_SHEETS), PLAN_SHEETS)
    receipt = store_submission(tmp_path, names, sheets, meta(), now=NOW)
    back_names, back, _ = read_submission(receipt.path)
    file_names, from_file = read_xlsx(path, wanted=PLAN_SHEETS)
    assert back_names == file_names
    typed = lambda s: {k: [[(type(v), v) for v in r] for r in rows] for k, rows in s.items()}  # noqa: E731
    assert typed(back) == typed(from_file)
    report = validate_plan(read_plan(back_names, back, source=path.name))
    assert report.as_dict() == validate_workbook(path).as_dict()
