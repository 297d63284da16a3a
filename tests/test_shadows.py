"""The sheet a person sees, our own outputs read back, workbook and open data from one run
(issue 10, items 4, 8 and 9). Every file is built by code; the hostile plans come from
tests/hostile_plans.py's "sheet a person sees" section.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import hostile_plans
from libreoffice import convert
from officejs import payload
from plans import fill_template, measure, sheets
from serving import INCLUDE, actions, call, shown
from planvalidator.cli import main
from planvalidator.read.plan import read_plan
from planvalidator.read.xlsx import UnreadableWorkbook, read_xlsx
from planvalidator.rules.validate import validate_plan, validate_workbook
from planvalidator.schema.loader import load_schema

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def built(name: str, folder: Path) -> Path:
    path = folder / f"{name}.xlsx"
    hostile_plans.BUILDERS[name](path)
    return path


def codes(report) -> list[tuple[str, str, str]]:
    return [(f.sheet, f.cell, f.code) for f in report.findings]


# --- item 4: the sheet a person sees is the sheet that is checked -------------------------------

SHADOWED = [("Measures", "", "duplicate-sheet"), ("Measures", "M5", "missing-target"),
            ("Measures ", "", "hidden-sheet")]


def test_a_very_hidden_shadow_does_not_replace_the_visible_measures_sheet(tmp_path):
    """Today the veryHidden 'Measures ' (all targets filled) is read instead of the visible
    Measures sheet: the missing target goes unreported, exit 0, "Accepted"."""
    path = built("shadow-measures-very-hidden", tmp_path)
    report = validate_workbook(path)
    assert codes(report) == SHADOWED
    [dup] = [f for f in report.findings if f.code == "duplicate-sheet"]
    assert "'Measures' was checked, not 'Measures ' (very hidden)" in dup.message
    result = run("validate", path)
    assert result.exit_code == 1, result.output
    assert "duplicate-sheet" in result.output and "missing-target" in result.output


def test_the_shadow_re_saved_by_libreoffice_is_caught_too(tmp_path):
    """LibreOffice keeps the shadow sheet but writes it as hidden (it has no very hidden)."""
    path = convert(built("shadow-measures-very-hidden", tmp_path), tmp_path / "lo")
    report = validate_workbook(path)
    assert codes(report) == SHADOWED
    assert "not 'Measures ' (hidden)" in report.findings[0].message


def test_the_add_in_reports_the_same_shadow_and_hidden_sheet(server, tmp_path):
    """The same rule in both doors: Office.js sends each sheet's visibility (tests/officejs.py,
    as xlwings-server's client does; 'Measures ' is not in the ribbon's include list, so it
    arrives without values), and Validate on a real server gives the file's findings."""
    for name, expected in (("shadow-measures-very-hidden", SHADOWED),
                           ("measures-hidden", [("Measures", "", "hidden-sheet")])):
        path = built(name, tmp_path)
        report = shown(actions(call(server, "validate", payload(path, INCLUDE))))["report"]
        assert [(f["sheet"], f["cell"], f["code"]) for f in report["findings"]] == expected, name
        assert codes(validate_workbook(path)) == expected, name


def test_a_hidden_sheet_submitted_through_the_add_in_is_reported_by_merge_store(server, tmp_path):
    """Both doors agree at merge too: the store keeps the sheets' visibility (it was lost, and
    with it hidden-sheet, between Submit and `merge --store`)."""
    import openpyxl
    path = built("measures-hidden", tmp_path)
    actions(call(server, "submit", payload(path, INCLUDE)))
    by_door = {}
    for door, source in (("store", ["--store", server.store]), ("file", [path])):
        out = tmp_path / f"{door}.xlsx"
        result = run("merge", *source, "-o", out)
        assert result.exit_code == 0, result.output
        findings = openpyxl.load_workbook(out)["Findings"].iter_rows(values_only=True)
        by_door[door] = [cell for row in findings for cell in row if cell == "hidden-sheet"]
    assert by_door["store"] == by_door["file"] == ["hidden-sheet"]


def test_a_hidden_plan_sheet_is_reported(tmp_path):
    path = built("measures-hidden", tmp_path)
    result = run("validate", path)
    assert result.exit_code == 0, result.output   # a warning: the sheet is still checked
    assert "hidden-sheet" in result.output and "The 'Measures' sheet is hidden" in result.output


def test_two_visible_sheets_of_one_name_are_an_error_naming_both():
    data = sheets([measure("BCFD-609-01", 609), measure("BCFD-602-01", 602, target=None)])
    clean = sheets()
    names = ["Agency", "Services", "Measures", "MEASURES"]
    values = {**data, "MEASURES": clean["Measures"]}
    report = validate_plan(read_plan(names, values, source="two.xlsx"))
    assert codes(report) == [("Measures", "", "duplicate-sheet"),
                             ("Measures", "M5", "missing-target")]
    assert "'Measures' was checked, not 'MEASURES'" in report.findings[0].message


def test_a_sheet_part_under_a_traversal_name_is_not_read(tmp_path):
    """Excel and LibreOffice resolve `xl/../../x.xml` outside the package and cannot find it;
    today calamine reads the member of that literal name and the plan is "Accepted"."""
    path = built("sheet-part-traversal", tmp_path)
    with pytest.raises(UnreadableWorkbook, match="damaged"):
        read_xlsx(path)
    result = run("validate", path)
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output


# --- item 8: the consolidated plan can always be read back --------------------------------------

FY2027 = load_schema(2027)


def _big_plan(path: Path, agency: str, services: range) -> None:
    """An FY2027 plan with 99 measures on each of `services` (numbers not in the catalog:
    warnings, no errors), written into the agency's real template."""
    from planvalidator.output.templates import build_workbook
    measures = [measure(f"{agency}-{svc}-{n:02d}", svc, target_y1=115, actual_y2=110)
                for svc in services for n in range(1, 100)]
    svc_rows = [(svc, f"Service {svc}", "Building Public Safety", 1_000_000, "") for svc in services]
    data = sheets(measures, services=svc_rows, schema=FY2027,
                  agency={"Agency Code": agency, "Fiscal Year": 2027})
    wb = build_workbook(FY2027, agency)
    fill_template(wb, data)
    wb.save(path)


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    """A consolidated FY2027 plan whose Measures sheet has 20,790 rows (more than a plan sheet
    may have), merged from two agencies' plans that are each within the plan caps."""
    folder = tmp_path_factory.mktemp("city")
    _big_plan(folder / "bcfd.xlsx", "BCFD", range(100, 250))   # 14,850 measures
    _big_plan(folder / "dot.xlsx", "DOT", range(300, 360))     # 5,940 measures
    out = folder / "citywide-fy2027.xlsx"
    result = run("merge", folder / "bcfd.xlsx", folder / "dot.xlsx", "-o", out, "-q")
    assert result.exit_code in (0, 1), result.output
    return out


def test_diff_reads_a_city_sized_consolidated_plan(city):
    result = run("diff", city, city, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["summary"]["changed_values"] == 0


def test_template_build_from_a_city_sized_consolidated_plan(city, tmp_path):
    result = run("template", "build", "-y", "2028", "--from", city, "-o", tmp_path, "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.xlsx")) == [
        "plan-fy2028-BCFD.xlsx", "plan-fy2028-DOT.xlsx"]


def test_sync_reads_a_city_sized_consolidated_plan(city, tmp_path):
    update = EXAMPLES / "fy2027" / "dot-midyear-fy2027-clean.xlsx"
    result = run("sync", city, update, "-o", tmp_path / "synced.xlsx", "-q")
    assert result.exit_code in (0, 1), result.output
    assert (tmp_path / "synced.xlsx").exists()


def test_our_outputs_are_still_guarded(tmp_path):
    """The bigger caps are still caps: a zip bomb named like a consolidated plan is refused
    with a plain sentence, not inflated."""
    import zipfile
    bomb = tmp_path / "citywide.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("_rels/.rels", "<Relationships/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 2**20))
    result = run("diff", bomb, bomb)
    assert result.exit_code == 2 and "far more data" in result.output, result.output


# --- item 9: workbook and open data from the same run -------------------------------------------

# `planvalidator merge` in a child process that kills itself (SIGKILL) at its n-th rename
# (os.replace, os.rename) in the output folder or below: stdlib functions are patched, not ours.
KILL_AT_RENAME = r"""
import os, signal, sys
n, folder = os.environ.pop("PV_KILL_AT").split(":", 1)
count = [0]
real = {"replace": os.replace, "rename": os.rename}

def moving(name):
    def move(src, dst, **kw):
        if os.path.abspath(dst).startswith(folder):
            count[0] += 1
            if count[0] == int(n):
                os.kill(os.getpid(), signal.SIGKILL)
        return real[name](src, dst, **kw)
    return move

os.replace, os.rename = moving("replace"), moving("rename")
from planvalidator.cli import main
main()
"""


def _merge_killed_at(n: int, sources: list, out: Path, package: Path):
    return subprocess.run(
        [sys.executable, "-c", KILL_AT_RENAME, "merge", *map(str, sources), "-o", str(out),
         "--datapackage", str(package), "-q"],
        env={**os.environ, "PV_KILL_AT": f"{n}:{out.parent}"},
        capture_output=True, text=True, timeout=300)


def _files(folder: Path) -> dict[str, bytes] | None:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else None


def test_a_kill_at_any_rename_never_leaves_a_mixed_workbook_and_open_data(tmp_path):
    """Kill the merge at its 1st, 2nd, ... rename until it finishes. After every kill the
    workbook is last run's or this run's, whole; the open-data folder is last run's or this
    run's, whole (or, between its two renames, absent); and a new workbook never sits beside
    last run's open data. Today the workbook is renamed first and the CSVs one by one after it."""
    first = [EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"]
    second = [EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx"]
    ref = tmp_path / "ref"
    for name, sources in (("old", first), ("new", second)):
        assert run("merge", *sources, "-o", ref / name / "citywide.xlsx",
                   "--datapackage", ref / name / "open-data", "-q").exit_code in (0, 1)
    old_wb, new_wb = ((ref / n / "citywide.xlsx").read_bytes() for n in ("old", "new"))
    old_data, new_data = (_files(ref / n / "open-data") for n in ("old", "new"))
    package = json.loads(new_data["datapackage.json"])
    assert package["sources"][0]["sha256"] == hashlib.sha256(new_wb).hexdigest()
    for resource in package["resources"]:
        assert resource["hash"] == "sha256:" + hashlib.sha256(new_data[resource["path"]]).hexdigest()

    n = 0
    while True:
        n += 1
        work = tmp_path / f"kill{n}"
        shutil.copytree(ref / "old", work)
        out, folder = work / "citywide.xlsx", work / "open-data"
        done = _merge_killed_at(n, second, out, folder)
        wb, data = out.read_bytes(), _files(folder)
        assert wb in (old_wb, new_wb), n
        assert data in (old_data, new_data, None), (n, sorted(data or {}))
        assert not (wb == new_wb and data != new_data), f"a new workbook beside old open data at {n}"
        if done.returncode >= 0:
            assert done.returncode == 1 and not done.stderr, done.stderr
            assert (wb, data) == (new_wb, new_data)
            break
        assert n < 30, "the merge never finished"
    assert n > 3   # the workbook, the package's files and its folder were each killed at least once


def test_the_next_run_removes_only_stale_temp_files_of_its_own_outputs(tmp_path):
    """A SIGKILL leaves `.citywide.xlsx.<random>.tmp` and a temporary open-data folder; the
    next merge removes them once they are old and unlocked, and leaves a live run's temp files,
    young ones, and the office's own files alone."""
    out, package = tmp_path / "citywide.xlsx", tmp_path / "open-data"
    sources = [EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"]
    killed = [_merge_killed_at(n, sources, out, package) for n in (1, 2)]   # the workbook, a CSV
    assert all(k.returncode < 0 for k in killed)
    stale = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
    assert any(s.startswith(".citywide.xlsx.") for s in stale), stale
    assert any(s.startswith(".open-data.") for s in stale), stale
    long_ago = time.time() - 3600
    for name in stale:
        os.utime(tmp_path / name, (long_ago, long_ago))
    young = tmp_path / ".citywide.xlsx.young123.tmp"
    young.write_bytes(b"a run killed a moment ago")
    mine = tmp_path / ".citywide.xlsx.my-notes.tmp"   # the office's own: not named as ours
    mine.write_bytes(b"kept")
    os.utime(mine, (long_ago, long_ago))
    live = tmp_path / ".citywide.xlsx.live1234.tmp"
    live.write_bytes(b"a concurrent run is writing this")
    os.utime(live, (long_ago, long_ago))
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()", live],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        (tmp_path / "notes.tmp").write_text("the office's own file")
        (package / "README.txt").parent.mkdir(exist_ok=True)
        (package / "README.txt").write_text("published by the office")
        result = run("merge", *sources, "-o", out, "--datapackage", package, "-q")
        assert result.exit_code == 0, result.output
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".citywide.xlsx.live1234.tmp", ".citywide.xlsx.my-notes.tmp", ".citywide.xlsx.young123.tmp",
         "citywide.xlsx", "notes.tmp", "open-data"])
    assert sorted(p.name for p in package.iterdir()) == [
        "README.txt", "datapackage.json", "measures.csv", "services.csv", "summary.csv"]


def test_a_failed_open_data_write_changes_neither_output(tmp_path, monkeypatch):
    """Disk full while an open-data file is written: the workbook and the package published
    before are both unchanged, and no temporary file or folder is left."""
    from planvalidator.output import atomic
    first = [EXAMPLES / "bcfd-plan-fy2028-clean.xlsx"]
    out, package = tmp_path / "citywide.xlsx", tmp_path / "open-data"
    assert run("merge", *first, "-o", out, "--datapackage", package, "-q").exit_code == 0
    before = (out.read_bytes(), _files(package))
    real = atomic.os.fsync

    def fsync(fd):
        if ".services.csv." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(28, "No space left on device")
        return real(fd)
    monkeypatch.setattr(atomic.os, "fsync", fsync)
    result = run("merge", *first, EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx",
                 "-o", out, "--datapackage", package, "-q")
    monkeypatch.undo()
    assert result.exit_code == 2 and "No space left on device" in result.output, result.output
    assert (out.read_bytes(), _files(package)) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["citywide.xlsx", "open-data"]
