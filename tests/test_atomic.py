"""One atomic writer: an output is replaced whole or not at all, and no temporary file stays.

Faults are injected where a real write fails: the fsync (a full disk reports there) or the
rename. Each output the library writes is checked: the annotated copy, the open-data package,
a stored submission.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from planvalidator.citywide.merge import merge
from planvalidator.citywide.store import StoreError, list_submissions, store_submission
from planvalidator.output import atomic
from planvalidator.output.annotate import annotate_workbook
from planvalidator.output.atomic import write_atomic
from planvalidator.output.opendata import write_datapackage
from planvalidator.rules.validate import validate_workbook

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PLAN = EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"


def fail(*args):
    raise OSError(28, "No space left on device")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("step", ["fsync", "replace"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, step):
    out = tmp_path / "out.json"
    out.write_bytes(b"old")
    monkeypatch.setattr(atomic.os, step, fail)
    with pytest.raises(OSError):
        write_atomic(out, b"new, and longer than the old")
    monkeypatch.undo()
    assert snapshot(tmp_path) == {"out.json": b"old"}


def test_a_write_replaces_the_file_and_keeps_its_mode(tmp_path):
    new, old = tmp_path / "new.csv", tmp_path / "old.csv"
    old.write_bytes(b"old")
    old.chmod(0o640)
    assert write_atomic(new, b"a") and write_atomic(old, b"b")
    assert snapshot(tmp_path) == {"new.csv": b"a", "old.csv": b"b"}
    assert stat.S_IMODE(new.stat().st_mode) == 0o644   # not mkstemp's 0o600
    assert stat.S_IMODE(old.stat().st_mode) == 0o640


def test_an_exclusive_write_never_replaces_a_file(tmp_path):
    taken = tmp_path / "taken.json"
    taken.write_bytes(b"first")
    assert write_atomic(taken, b"second", exclusive=True) is False
    assert write_atomic(tmp_path / "free.json", b"third", exclusive=True, mode=0o640) is True
    assert snapshot(tmp_path) == {"free.json": b"third", "taken.json": b"first"}
    assert stat.S_IMODE((tmp_path / "free.json").stat().st_mode) == 0o640


def test_a_failed_annotated_copy_leaves_the_earlier_copy(tmp_path, monkeypatch):
    out = tmp_path / "annotated.xlsx"
    report = validate_workbook(PLAN)
    annotate_workbook(PLAN, report, out)
    before = snapshot(tmp_path)
    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(OSError):
        annotate_workbook(PLAN, report, out)
    monkeypatch.undo()
    assert snapshot(tmp_path) == before


def test_a_failed_open_data_write_leaves_the_earlier_package(tmp_path, monkeypatch):
    cons = merge([EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", PLAN])
    out = tmp_path / "open-data"
    write_datapackage(cons, out)
    before = snapshot(out)
    assert sorted(before) == ["datapackage.json", "measures.csv", "services.csv", "summary.csv"]
    monkeypatch.setattr(atomic.os, "replace", fail)
    with pytest.raises(OSError):
        write_datapackage(cons, out)
    monkeypatch.undo()
    assert snapshot(out) == before


def test_a_failed_submission_stores_nothing(tmp_path, monkeypatch):
    store = tmp_path / "submissions"
    meta = {"agency": "DPW", "fiscal_year": 2028}
    store_submission(store, ["Measures"], {"Measures": [["A"]]}, meta)
    before = snapshot(store)
    monkeypatch.setattr(atomic.os, "fsync", fail)
    with pytest.raises(StoreError, match="could not be saved"):
        store_submission(store, ["Measures"], {"Measures": [["B"]]}, meta)
    monkeypatch.undo()
    assert snapshot(store) == before
    assert len(list_submissions(store)) == 1
    assert [stat.S_IMODE(os.stat(p).st_mode) for p in store.iterdir()] == [0o640]
