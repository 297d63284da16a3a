"""merge: the consolidated citywide plan from the bundled examples, cell by cell."""

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from planvalidator.cli import main
from planvalidator.rules.validate import validate_workbook
from plans import measure, plan_file, sheets

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def merged(tmp_path_factory):
    out = tmp_path_factory.mktemp("merge") / "citywide.xlsx"
    result = run("merge", EXAMPLES, "-o", out, "--datapackage", out.parent / "open-data")
    assert result.exit_code == 1, result.output   # the examples hold errors on purpose
    return out, result.output


def rows(path, sheet):
    return list(openpyxl.load_workbook(path)[sheet].iter_rows(values_only=True))


def test_summary_cell_by_cell(merged):
    out, _ = merged
    d = dt.datetime
    assert rows(out, "Summary")[1:-1] == [   # under the title, above the Total row
        ("Agency Code", "Agency Name", "Fiscal Year", "Stage", "Services", "Measures",
         "Key Measures", "Missing Targets", "Errors", "Warnings", "Template Version",
         "Submission Date", "Source File", "Status"),
        ("BCFD", "Baltimore City Fire Department", 2028, "Plan", 4, 11, 6, 0, 0, 0, "2028.1",
         d(2027, 4, 14), "bcfd-plan-fy2028-clean.xlsx", "Accepted"),
        ("BCHD", "Baltimore City Health Department", 2028, "Plan", 3, 8, 3, 1, 2, 0, "2028.1",
         d(2027, 4, 11), "bchd-plan-fy2028-percent-as-text.xlsx", "Needs revision"),
        ("BCRP", "Baltimore City Department of Recreation and Parks", 2028, "Plan", 3, 9, 4, 0, 3,
         0, "2028.1", d(2027, 4, 9), "bcrp-plan-fy2028-duplicate-ids.xlsx", "Needs revision"),
        ("BPD", "Baltimore Police Department", 2028, "Plan", 3, 8, 4, 0, 3, 0, "2028.1",
         d(2027, 4, 16), "bpd-plan-fy2028-not-in-list.xlsx", "Needs revision"),
        ("DHCD", "Department of Housing and Community Development", 2028, "Plan", 3, 8, 5, 8, 4,
         0, "2027.2", d(2027, 4, 14), "dhcd-plan-fy2028-outdated-template.xlsx", "Needs revision"),
        ("DPW", "Department of Public Works", 2028, "Plan", 3, 10, 6, 4, 4, 0, "2028.1",
         d(2027, 4, 15), "dpw-plan-fy2028-missing-targets.xlsx", "Needs revision"),
        ("MOCFS", "Mayor's Office of Children and Family Success", 2028, "Plan", 4, 10, 4, 0, 2,
         0, "2028.1", d(2027, 4, 10), "mocfs-plan-fy2028-unknown-service.xlsx", "Needs revision"),
    ]


def test_findings_sheet_holds_exactly_what_validate_says(merged):
    out, _ = merged
    found = {}
    for row in rows(out, "Findings")[1:]:
        agency, source, location, severity, code, measure_id, column, value, message, hint, submission = row
        found.setdefault(source, []).append((location.split(" › ")[-1], code, message))
    expected = {}
    for path in sorted(EXAMPLES.glob("*.xlsx")):
        report = validate_workbook(path)
        if report.findings:
            expected[path.name] = [(f.location, f.code, f.message) for f in report.findings]
    assert found == expected


def test_sources_record_every_file_with_its_hash(merged):
    out, output = merged
    sources = {r[0]: r for r in rows(out, "Sources")[1:]}
    assert set(sources) == {p.name for p in EXAMPLES.glob("*.xlsx")}
    for path in EXAMPLES.glob("*.xlsx"):
        assert sources[path.name][1] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert sources[path.name][2] == path.stat().st_size
    # one FY2028 Plan per agency, none superseded; the Result is Summary's status
    assert {name: r[8] for name, r in sources.items()} == {
        name: "Accepted" if name == "bcfd-plan-fy2028-clean.xlsx" else "Needs revision"
        for name in sources}


def test_measures_sheet_and_open_data(merged):
    out, _ = merged
    measures = rows(out, "Measures")
    assert len(measures) == 1 + 64
    assert measures[0][:4] == ("Agency Code", "Agency Name", "Fiscal Year", "Measure ID")
    from frictionless import validate
    report = validate(str(out.parent / "open-data" / "datapackage.json"))
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type", "note"])


def test_a_reader_that_trusts_the_declared_size_sees_every_row(merged):
    """openpyxl's read-only mode, which pandas.read_excel uses, reads as many rows as a sheet's
    <dimension> declares: the big sheets (Measures: 64 measures under the header) must declare
    the rows they hold, not the prototype rows they were laid out with."""
    out, _ = merged
    book = openpyxl.load_workbook(out, read_only=True)
    for sheet in ("Measures", "Services", "Findings"):
        assert len(list(book[sheet].iter_rows(values_only=True))) == len(rows(out, sheet)), sheet
    assert len(list(book["Measures"].iter_rows(values_only=True))) == 1 + 64


def test_same_inputs_same_bytes_and_jobs_agree(merged, tmp_path):
    out, _ = merged
    again = tmp_path / "again.xlsx"
    run("merge", EXAMPLES, "-o", again, "--jobs", "2")
    assert again.read_bytes() == out.read_bytes()


def test_json_summary(tmp_path):
    result = run("merge", EXAMPLES, "-o", tmp_path / "c.xlsx", "--format", "json")
    data = json.loads(result.output)
    assert data["totals"] == {"measures": 64, "missing_targets": 13, "errors": 18, "warnings": 0}
    assert [a["agency"] for a in data["agencies"]][:2] == ["BCFD", "BCHD"]


def test_reject_errors_keeps_only_clean_agencies_in_measures(tmp_path):
    out = tmp_path / "c.xlsx"
    run("merge", EXAMPLES, "-o", out, "--reject-errors")
    assert {r[0] for r in rows(out, "Measures")[1:]} == {"BCFD"}
    assert len(rows(out, "Summary")) == 2 + 7 + 1   # title, header, agencies, Total


def test_unreadable_file_is_left_out_by_name(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", src)
    (src / "minutes.xlsx").write_text("not a workbook")
    result = run("merge", src, "-o", tmp_path / "c.xlsx")
    assert result.exit_code == 2   # an input that could not be read, as in validate
    assert "Left out, unreadable: minutes.xlsx" in result.output
    assert rows(tmp_path / "c.xlsx", "Sources")[2][8] == "Unreadable"


def test_measure_id_used_by_two_agencies(tmp_path):
    plan_file(tmp_path / "bcfd.xlsx")
    dot = sheets([measure("BCFD-609-01", 683), measure("DOT-684-01", 684)],
                 services=[(683, "Street Management", "Equitable Neighborhood Development", 1, ""),
                           (684, "Traffic Management", "Equitable Neighborhood Development", 1, "")],
                 agency={"Agency Code": "DOT", "Agency Name": "Department of Transportation"})
    plan_file(tmp_path / "dot.xlsx", dot, agency="DOT")
    out = tmp_path / "out" / "c.xlsx"
    out.parent.mkdir()
    assert run("merge", tmp_path / "*.xlsx", "-o", out).exit_code == 1
    codes = [(r[0], r[2], r[4]) for r in rows(out, "Findings")[1:]]
    assert ("BCFD", "BCFD › Measures!A4", "measure-id-collision") in codes
    assert ("DOT", "DOT › Measures!A4", "measure-id-collision") in codes


def test_refuses_to_overwrite_an_input(tmp_path):
    src = shutil.copy(EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", tmp_path)
    before = Path(src).read_bytes()
    result = run("merge", tmp_path, "-o", src)
    assert result.exit_code == 2 and "one of the inputs" in result.output
    assert Path(src).read_bytes() == before
    assert run("merge", tmp_path / "nothing-here", "-o", tmp_path / "x.xlsx").exit_code == 2


def test_formula_text_is_never_evaluated(tmp_path):
    data = sheets([measure(), measure("BCFD-602-01", 602, data_source="+1-2")])
    path = plan_file(tmp_path / "plan.xlsx", data)
    wb = openpyxl.load_workbook(path)
    name = wb["Measures"]["C4"]
    name.value, name.data_type = '=HYPERLINK("http://x","click")', "s"   # text, as Excel keeps it
    wb.save(path)
    out = tmp_path / "out" / "c.xlsx"
    assert run("merge", path, "-o", out, "--datapackage", tmp_path / "open").exit_code == 0
    ws = openpyxl.load_workbook(out)["Measures"]
    assert ws["F2"].value.startswith("=HYPERLINK") and ws["F2"].data_type == "s"
    csv = (tmp_path / "open" / "measures.csv").read_text()
    assert "'=HYPERLINK" in csv and ",'+1-2," in csv


# `planvalidator merge` in a child process whose os.fsync or os.replace (and os.rename) fail
# for files in one folder: the consolidated output's temp file is being synced (fsync) or put in
# place (replace) when the process kills itself with SIGKILL or gets "disk full". Stdlib
# functions are patched, not ours, so the test holds whichever atomic writer the package uses.
FAULTY_MERGE = r"""
import errno, os, signal
where, how, folder = os.environ.pop("PV_FAULT").split(":", 2)
real = {"fsync": os.fsync, "replace": os.replace, "rename": os.rename}

def fault():
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

def fsync(fd):
    if where == "fsync" and os.path.dirname(os.readlink(f"/proc/self/fd/{fd}")) == folder:
        fault()
    return real["fsync"](fd)

def moving(name):
    def move(src, dst, **kw):
        if where == "replace" and os.path.dirname(os.path.abspath(dst)) == folder:
            fault()
        return real[name](src, dst, **kw)
    return move

os.fsync, os.replace, os.rename = fsync, moving("replace"), moving("rename")
from planvalidator.cli import main
main()
"""


def faulty_merge(out: Path, where: str, how: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FAULTY_MERGE, "merge", str(EXAMPLES), "-o", str(out)],
                          env={**os.environ, "PV_FAULT": f"{where}:{how}:{out.parent}"},
                          capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_merge_killed_while_writing_leaves_the_previous_output_intact(tmp_path, merged, where):
    out = tmp_path / "out" / "citywide.xlsx"
    out.parent.mkdir()
    shutil.copy(merged[0], out)
    before = out.read_bytes()
    (out.parent / "notes.txt").write_text("the office's own file")
    done = faulty_merge(out, where, "kill")
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr
    assert out.read_bytes() == before
    # A SIGKILL runs no cleanup: the temp file (today .citywide.xlsx.<random>.tmp) stays beside
    # the output, hidden and not an .xlsx, so a merge of this folder would not take it for a
    # submission.
    [left] = [p.name for p in out.parent.iterdir() if p.name not in ("citywide.xlsx", "notes.txt")]
    assert left.startswith(".") and not left.endswith(".xlsx")
    # the next merge neither trips over the orphan nor removes it
    assert run("merge", EXAMPLES, "-o", out).exit_code == 1
    assert out.read_bytes() == before      # the same inputs give the same bytes
    assert sorted(p.name for p in out.parent.iterdir()) == sorted([left, "citywide.xlsx", "notes.txt"])


@pytest.mark.parametrize("where", ["fsync", "replace"])
def test_a_disk_full_while_writing_is_a_plain_message_and_changes_nothing(tmp_path, merged, where):
    out = tmp_path / "out" / "citywide.xlsx"
    out.parent.mkdir()
    shutil.copy(merged[0], out)
    before = out.read_bytes()
    done = faulty_merge(out, where, "raise")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "No space left on device" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert out.read_bytes() == before
    assert [p.name for p in out.parent.iterdir()] == ["citywide.xlsx"]   # no temp file left


def test_open_data_where_a_file_is_is_a_plain_message(tmp_path):
    out, site = tmp_path / "out" / "citywide.xlsx", tmp_path / "site"
    site.write_text("not a folder")
    for target in (site, site / "open-data"):   # refused by the option, then by the write
        result = run("merge", EXAMPLES, "-o", out, "--datapackage", target)
        assert result.exit_code == 2, result.output
        assert str(site) in result.output and "Traceback" not in result.output
        assert isinstance(result.exception, SystemExit)
        assert site.read_text() == "not a folder"
        assert not [p for p in tmp_path.rglob(".*")]     # no temp file anywhere


def test_a_failed_open_data_write_leaves_the_previous_package_whole(tmp_path, merged):
    """Disk full while the new package is put in place (every rename in the folder that holds
    it fails): exit 2, a plain message, the package published before is byte-identical, and
    neither the workbook nor a temp file is left beside it."""
    out, package = tmp_path / "citywide.xlsx", tmp_path / "open-data"
    shutil.copytree(merged[0].parent / "open-data", package)
    before = {p.name: p.read_bytes() for p in package.iterdir()}
    assert sorted(before) == ["datapackage.json", "measures.csv", "services.csv", "summary.csv"]
    done = subprocess.run([sys.executable, "-c", FAULTY_MERGE, "merge", str(EXAMPLES), "-o", str(out),
                           "--datapackage", str(package)],
                          env={**os.environ, "PV_FAULT": f"replace:raise:{tmp_path}"},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "No space left on device" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert {p.name: p.read_bytes() for p in package.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["open-data"]
