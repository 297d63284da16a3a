"""The command line: one door into the library, with the documented exit codes."""

import hashlib
import json
import os
import shutil
import subprocess
import sys
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
    assert refused.output == ("Error: The annotated copy must be written to another file than "
                              "bad.xlsx; choose a different output name.\n")
    assert hashlib.sha256(bad.read_bytes()).hexdigest() == before


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
    assert unknown.exit_code == 2 and "Traceback" not in unknown.output
    assert unknown.output.startswith("Error: Unknown agency code 'XYZ'. Valid codes for FY2028: BCFD,")
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


# ---- the error family: one place turns it into a sentence and exit code 2 --------------------

def test_every_error_the_library_raises_on_purpose_is_a_planvalidator_error():
    from planvalidator import errors
    from planvalidator.addin import config as server
    family = [errors.SchemaError, errors.UnreadableWorkbook, errors.PayloadError,
              errors.MergeError, errors.StoreError, errors.SyncError, errors.ConsolidatedError,
              errors.UnknownAgency, errors.RefusedInput, errors.ConfigError, errors.AddinError,
              server.BadRequest, server.Unauthorized, server.Forbidden, server.NotFound,
              server.Conflict, server.Unavailable]
    assert all(issubclass(cls, errors.PlanValidatorError) for cls in family)
    defined = {cls for cls in vars(errors).values() if isinstance(cls, type)}
    assert defined == set(family[:11]) | {errors.PlanValidatorError}
    assert not issubclass(errors.PayloadError, ValueError)   # no longer caught as a bad number


def test_the_old_names_still_import_from_where_they_are_raised():
    from planvalidator import errors
    from planvalidator.addin.config import AddinError, ConfigError
    from planvalidator.citywide.consolidated.read import ConsolidatedError
    from planvalidator.citywide.merge import MergeError
    from planvalidator.citywide.store import StoreError
    from planvalidator.citywide.sync import SyncError
    from planvalidator.read.payload import PayloadError
    from planvalidator.read.xlsx import UnreadableWorkbook
    from planvalidator.schema.loader import SchemaError
    assert [AddinError, ConfigError, ConsolidatedError, MergeError, StoreError, SyncError,
            PayloadError, UnreadableWorkbook, SchemaError] == [
        errors.AddinError, errors.ConfigError, errors.ConsolidatedError, errors.MergeError,
        errors.StoreError, errors.SyncError, errors.PayloadError, errors.UnreadableWorkbook,
        errors.SchemaError]


def schemas_copy(folder: Path, version: str) -> Path:
    shutil.copytree(ROOT / "schemas", folder)
    text = (folder / "fy2028.yaml").read_text()
    (folder / "fy2028.yaml").write_text(text.replace('template_version: "2028.1"',
                                                     f'template_version: "{version}"'))
    return folder


def test_schemas_option_beats_the_environment_beats_the_bundled_ones(tmp_path, monkeypatch):
    option, env = schemas_copy(tmp_path / "option", "2028.5"), schemas_copy(tmp_path / "env", "2028.6")
    assert "template version 2028.1," in run("schema", "check").output
    monkeypatch.setenv("PLANVALIDATOR_SCHEMAS", str(env))
    assert "template version 2028.6," in run("schema", "check").output
    checked = run("schema", "check", "--schemas", option)
    assert checked.exit_code == 0
    assert checked.output.splitlines() == [
        f"{option.resolve()}/fy2027.yaml: FY2027, template version 2027.2, 13 agencies, "
        f"126 services, 21 measure columns — OK",
        f"{option.resolve()}/fy2028.yaml: FY2028, template version 2028.5, 13 agencies, "
        f"125 services, 21 measure columns — OK"]
    assert os.environ["PLANVALIDATOR_SCHEMAS"] == str(env)   # the option's folder was for one command


@pytest.mark.parametrize("command", [
    ("validate", "{plan}"), ("merge", "{plan}", "-o", "{tmp}/city.xlsx"),
    ("sync", "{city}", "{other}", "-o", "{tmp}/city.xlsx"), ("diff", "{plan}", "{other}"),
    ("template", "build", "-y", "2028", "-o", "{tmp}/out"),
    ("template", "build", "-y", "2028", "--from", "{plan}", "-o", "{tmp}/out"),
    ("schema", "check"),
], ids=" ".join)
def test_a_missing_schema_folder_is_a_sentence_and_exit_2(command, clean, bad, tmp_path):
    city = tmp_path / "citywide.xlsx"
    if "{city}" in command:   # a consolidated plan, merged with the bundled schemas
        assert run("merge", clean, "-o", city).exit_code == 0
    (tmp_path / "no-schemas").mkdir()
    args = [a.format(plan=clean, other=bad, city=city, tmp=tmp_path) for a in command]
    result = run(*args, "--schemas", tmp_path / "no-schemas")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output == f"Error: There is no schema (fyYEAR.yaml) in {tmp_path.resolve()}/no-schemas.\n"


def test_a_schema_folder_named_by_the_environment_must_exist(clean, tmp_path):
    result = CliRunner(env={"PLANVALIDATOR_SCHEMAS": str(tmp_path / "gone")}).invoke(
        main, ["validate", str(clean)])
    assert result.exit_code == 2
    assert result.output == (f"Error: The schema folder {tmp_path / 'gone'} (from --schemas or "
                             f"PLANVALIDATOR_SCHEMAS) does not exist.\n")


def test_unreadable_consolidated_plans_for_sync_and_diff(clean, bad, tmp_path):
    notes = tmp_path / "citywide.xlsx"
    notes.write_text("meeting notes")
    not_a_workbook = ("Error: citywide.xlsx is not an Excel workbook; save the plan from Excel as "
                      "an Excel Workbook (.xlsx) and try again.\n")
    for args in (("sync", notes, clean, "-o", tmp_path / "out.xlsx"), ("diff", notes, clean)):
        result = run(*args)
        assert (result.exit_code, result.output) == (2, not_a_workbook), args
    plan_as_consolidated = run("sync", clean, bad, "-o", tmp_path / "o.xlsx")
    assert plan_as_consolidated.exit_code == 2
    assert plan_as_consolidated.output == ("Error: clean.xlsx is not a consolidated plan written by "
                                           "planvalidator merge: it has no Summary sheet.\n")
    assert not (tmp_path / "out.xlsx").exists() and not (tmp_path / "o.xlsx").exists()


def test_an_output_that_cannot_be_written_is_a_sentence_and_exit_2(clean, tmp_path):
    (tmp_path / "a-file").write_text("")
    result = run("merge", clean, "-o", tmp_path / "a-file" / "city.xlsx")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.startswith("Error: ") and "a-file" in result.output


def test_anything_else_is_a_bug_and_surfaces_as_one(clean, tmp_path, monkeypatch):
    import planvalidator.output.templates as templates

    def broken(*_args):   # a fault injected into the library: not a user's mistake
        raise KeyError("Measures")
    monkeypatch.setattr(templates, "build_templates", broken)
    result = run("template", "build", "-y", "2028", "-o", tmp_path)
    assert result.exit_code == 1 and isinstance(result.exception, KeyError)


# Runs the command with the `addin` extra's modules hidden from import, as if not installed.
WITHOUT_ADDIN = """
import sys
from importlib.machinery import PathFinder

class WithoutAddin(PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] in {"xlwings", "xlwings_server", "starlette", "uvicorn", "fastapi"}:
            return None
        return super().find_spec(name, path, target)

sys.meta_path = [WithoutAddin if f is PathFinder else f for f in sys.meta_path]
from planvalidator.cli import main
main(sys.argv[1:], prog_name="planvalidator")
"""


def test_serve_without_the_addin_extra_says_which_extra_to_install(tmp_path):
    result = subprocess.run([sys.executable, "-c", WITHOUT_ADDIN, "serve", "--port", "1"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 2, result.stderr
    assert result.stderr == ("Error: The add-in backend needs the 'addin' extra (xlwings is not "
                             "installed): pip install 'planvalidator[addin]'\n")
