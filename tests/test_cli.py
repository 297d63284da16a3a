"""The command line: one door into the library, with the documented exit codes."""

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from planvalidator.cli import main
from planvalidator.output.render import catalogue_markdown
from planvalidator.rules.validate import validate_workbook
from plans import measure, plan_file, sheets

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture
def clean(tmp_path):
    return plan_file(tmp_path / "clean.xlsx")


@pytest.fixture
def bad(tmp_path):
    return plan_file(tmp_path / "bad.xlsx", sheets([measure(target=None),
                                                     measure("BCFD-602-01", 602)]))


@pytest.fixture
def warned(tmp_path):
    return plan_file(tmp_path / "warned.xlsx", sheets([measure(target=0),
                                                        measure("BCFD-602-01", 602)]))


def test_json_output_equals_the_library_report(bad):
    result = run("validate", "--format", "json", bad)
    assert result.exit_code == 1
    assert json.loads(result.output) == json.loads(validate_workbook(bad).to_json())


def test_exit_codes(clean, bad, warned, tmp_path):
    assert run("validate", clean).exit_code == 0
    assert run("validate", bad).exit_code == 1
    assert run("validate", warned).exit_code == 0
    assert run("validate", "--strict", warned).exit_code == 1
    not_a_workbook = tmp_path / "notes.xlsx"
    not_a_workbook.write_text("meeting notes")
    result = run("validate", not_a_workbook)
    assert result.exit_code == 2
    assert "notes.xlsx" in result.output and "Traceback" not in result.output


def test_text_output_names_cell_code_and_message(bad):
    result = run("validate", bad)
    assert "bad.xlsx (BCFD FY2028 Plan): 1 error, 0 warnings" in result.output
    assert "Measures!M4" in result.output and "missing-target" in result.output


def test_several_files_and_one_unreadable(clean, bad, tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(clean.read_bytes()[:2000])
    result = run("validate", "--format", "json", clean, bad, broken)
    assert result.exit_code == 2
    reports = json.loads(result.output)
    assert [r["source"] for r in reports] == ["clean.xlsx", "bad.xlsx", "broken.xlsx"]
    assert [f["code"] for f in reports[2]["findings"]] == ["unreadable-workbook"]


def test_annotate_writes_a_copy_and_leaves_the_input_alone(bad, tmp_path):
    before = hashlib.sha256(bad.read_bytes()).hexdigest()
    out = tmp_path / "checked.xlsx"
    assert run("validate", "--annotate", out, bad).exit_code == 1
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == before
    assert [(f.sheet, f.cell, f.code) for f in validate_workbook(out).findings] == [
        ("Measures", "M4", "missing-target")]
    refused = run("validate", "--annotate", bad, bad)
    assert refused.exit_code == 2 and "Traceback" not in refused.output


def test_stage_override(clean):
    result = run("validate", "--format", "json", "--stage", "Mid-Year Update", clean)
    codes = {f["code"] for f in json.loads(result.output)["findings"]}
    assert codes == {"missing-midyear-actual", "required-missing"}


def test_codes_and_the_generated_docs_agree():
    result = run("codes", "--format", "json")
    assert result.exit_code == 0
    assert len(json.loads(result.output)) >= 25
    assert (ROOT / "docs" / "findings.md").read_text() == catalogue_markdown() + "\n", \
        "docs/findings.md is stale: run `planvalidator codes --format markdown > docs/findings.md`"


def test_template_build_and_its_errors(tmp_path):
    result = run("template", "build", "-y", "2028", "--agency", "DOT", "-o", tmp_path)
    assert result.exit_code == 0 and Path(result.output.strip()).exists()
    unknown = run("template", "build", "-y", "2028", "--agency", "XYZ", "-o", tmp_path)
    assert unknown.exit_code == 2 and "XYZ" in unknown.output
    no_year = run("template", "build", "-y", "1999", "-o", tmp_path)
    assert no_year.exit_code == 2 and "1999" in no_year.output


def test_schema_check_names_the_file_and_the_typo(tmp_path):
    text = (ROOT / "schemas" / "fy2028.yaml").read_text()
    for name in ("catalog-fy2028.yaml",):
        (tmp_path / name).write_text((ROOT / "schemas" / name).read_text())
    typo = tmp_path / "fy2028.yaml"
    typo.write_text(text.replace("required: true, missing_code: missing-target",
                                 "requried: true, missing_code: missing-target"))
    result = run("schema", "check", typo)
    assert result.exit_code == 2
    assert "fy2028.yaml" in result.output and "'requried'" in result.output
    assert run("schema", "check", ROOT / "schemas" / "fy2028.yaml").exit_code == 0


def all_commands(group, prefix=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from all_commands(command, prefix + (name,))
        else:
            yield prefix + (name,)


@pytest.mark.parametrize("command", list(all_commands(main)), ids=" ".join)
def test_every_command_has_help_ending_with_an_example(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    tail = result.output.strip().splitlines()
    assert any("Example" in line for line in tail) and tail[-1].strip().startswith("planvalidator")
