"""A plain (non-editable) install works from any directory: the wheel carries the schemas, the
blank templates and publish's page templates, and the office's own schema folder is found with
--schemas or PLANVALIDATOR_SCHEMAS.

Slow (a fresh venv and an install from the package index): one venv for the whole module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from planvalidator.cli import main
from planvalidator.schema.loader import IDENTITY_SHEET

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
# What a wheel is built from; a copy, so no stale build/ folder of the checkout leaks in.
SOURCES = ("pyproject.toml", "README.md", "planvalidator", "schemas", "templates")
# Examples copied to another directory: one clean plan and two that hold errors on purpose.
COPIES = ("bcfd-plan-fy2028-clean.xlsx", "dpw-plan-fy2028-missing-targets.xlsx",
          "bpd-plan-fy2028-not-in-list.xlsx")


def test_every_package_of_the_source_tree_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    code = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "planvalidator").rglob("__init__.py")
            if "files" not in p.relative_to(ROOT).parts}   # addin/files/ is data
    assert listed == code | {"planvalidator.schemas", "planvalidator.templates"}


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    """A fresh venv with the wheel built from this checkout installed (not editable)."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", base / "dist", src], base)
    [wheel] = (base / "dist").glob("planvalidator-*.whl")
    env_dir = base / "venv"
    run([sys.executable, "-m", "venv", env_dir], base)
    run([env_dir / "bin" / "python", "-m", "pip", "install", "-q", wheel], base)
    return env_dir


def run(args, cwd, env=None, check=True):
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def environment(**extra):
    """This process's environment without what would point the installed package back here."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PLANVALIDATOR_SCHEMAS", "VIRTUAL_ENV")}
    return env | extra


def planvalidator(venv, cwd, *args, **env):
    return run([venv / "bin" / "planvalidator", *args], cwd, environment(**env), check=False)


@pytest.fixture
def workdir(tmp_path):
    """Another directory than the checkout, holding copies of some examples."""
    for name in COPIES:
        shutil.copy2(EXAMPLES / name, tmp_path / name)
    return tmp_path


def edited_schemas(folder: Path, version: str) -> Path:
    """A copy of the bundled schemas whose FY2028 template version the office changed."""
    shutil.copytree(ROOT / "schemas", folder)
    fy2028 = folder / "fy2028.yaml"
    text = fy2028.read_text()
    assert 'template_version: "2028.1"' in text
    fy2028.write_text(text.replace('template_version: "2028.1"', f'template_version: "{version}"'))
    return folder


def template_version(path: Path) -> str:
    return dict(openpyxl.load_workbook(path)[IDENTITY_SHEET].iter_rows(values_only=True))[
        "template_version"]


def test_the_installed_package_is_the_wheel_not_this_checkout(venv, tmp_path):
    code = ("import planvalidator, planvalidator.schema.loader as s, planvalidator.output.templates as t;"
            "print(planvalidator.__file__); print(s.SCHEMA_DIR); print(t.TEMPLATE_DIR)")
    result = run([venv / "bin" / "python", "-c", code], tmp_path, environment())
    module, schemas, templates = map(Path, result.stdout.split("\n")[:3])
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert module == site / "planvalidator" / "__init__.py"
    assert schemas == site / "planvalidator" / "schemas"
    assert templates == site / "planvalidator" / "templates"
    assert sorted(p.name for p in schemas.iterdir()) == [
        "catalog-fy2027.yaml", "catalog-fy2028.yaml", "fy2027.yaml", "fy2028.yaml"]
    assert sorted(p.name for p in templates.iterdir()) == [
        "plan-template-fy2027.xlsx", "plan-template-fy2028.xlsx"]


def test_template_build_uses_the_bundled_schema(venv, workdir):
    result = planvalidator(venv, workdir, "template", "build", "--fiscal-year", "2028", "-o", "out/")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["out/plan-template-fy2028.xlsx"]
    # the same bytes as the committed blank template: the bundled schema, unchanged
    assert (workdir / "out" / "plan-template-fy2028.xlsx").read_bytes() == \
        (ROOT / "templates" / "plan-template-fy2028.xlsx").read_bytes()


def test_validate_copies_of_examples(venv, workdir):
    clean = planvalidator(venv, workdir, "validate", "bcfd-plan-fy2028-clean.xlsx")
    assert clean.returncode == 0, clean.stderr
    assert "bcfd-plan-fy2028-clean.xlsx (BCFD FY2028 Plan): 0 errors" in clean.stdout
    missing = planvalidator(venv, workdir, "validate", "dpw-plan-fy2028-missing-targets.xlsx")
    assert missing.returncode == 1
    assert "missing-target" in missing.stdout


def test_merge_copies_of_examples_gives_the_same_bytes_as_this_checkout(venv, workdir):
    result = planvalidator(venv, workdir, "merge", *COPIES, "-o", "citywide.xlsx")
    assert result.returncode == 1, result.stderr   # two of the examples hold errors on purpose
    here = CliRunner().invoke(main, ["merge", *[str(workdir / s) for s in COPIES],
                                     "-o", str(workdir / "here.xlsx")])
    assert here.exit_code == 1
    assert (workdir / "citywide.xlsx").read_bytes() == (workdir / "here.xlsx").read_bytes()


def test_publish_finds_its_page_templates_and_stylesheet_in_the_wheel(venv, workdir):
    """The Jinja2 templates and site.css are package data: a wheel without them can't publish."""
    merged = planvalidator(venv, workdir, "merge", *COPIES, "-o", "citywide.xlsx", "-q")
    assert merged.returncode == 1, merged.stderr
    result = planvalidator(venv, workdir, "publish", "citywide.xlsx", "-o", "site")
    assert result.returncode == 0, result.stderr
    index = (workdir / "site" / "index.html").read_text(encoding="utf-8")
    assert '<a href="agency-bcfd.html">Baltimore City Fire Department (BCFD)</a>' in index
    stylesheet = ROOT / "planvalidator" / "publish" / "templates" / "site.css"
    assert (workdir / "site" / "site.css").read_bytes() == stylesheet.read_bytes()


def test_the_offices_schemas_by_option_and_by_environment(venv, workdir):
    by_option = edited_schemas(workdir / "option-schemas", "2028.7")
    by_env = edited_schemas(workdir / "env-schemas", "2028.8")
    build = ("template", "build", "-y", "2028", "--agency", "DOT")

    assert planvalidator(venv, workdir, *build, "--schemas", by_option, "-o", "a").returncode == 0
    assert template_version(workdir / "a" / "plan-fy2028-DOT.xlsx") == "2028.7"

    assert planvalidator(venv, workdir, *build, "-o", "b",
                         PLANVALIDATOR_SCHEMAS=str(by_env)).returncode == 0
    assert template_version(workdir / "b" / "plan-fy2028-DOT.xlsx") == "2028.8"

    assert planvalidator(venv, workdir, *build, "--schemas", by_option, "-o", "c",
                         PLANVALIDATOR_SCHEMAS=str(by_env)).returncode == 0
    assert template_version(workdir / "c" / "plan-fy2028-DOT.xlsx") == "2028.7"   # option wins

    # validate reads the workbook's own year from the office's folder: the bundled-version
    # example is now outdated
    result = planvalidator(venv, workdir, "validate", "--format", "json", "--schemas", by_option,
                           "bcfd-plan-fy2028-clean.xlsx")
    assert "template-outdated" in result.stdout


@pytest.mark.parametrize("args, env, message", [
    (("template", "build", "-y", "2031", "-o", "out"), {},
     "There is no schema for fiscal year 2031 (schemas exist for 2027, 2028)."),
    (("validate", "bcfd-plan-fy2028-clean.xlsx"), {"PLANVALIDATOR_SCHEMAS": "no-such-folder"},
     "The schema folder no-such-folder (from --schemas or PLANVALIDATOR_SCHEMAS) does not exist."),
    (("merge", ".", "-o", "citywide.xlsx", "--schemas", "empty"), {},
     "There is no schema (fyYEAR.yaml) in {workdir}/empty."),
], ids=["year", "env-folder", "empty-folder"])
def test_a_missing_schema_is_a_plain_sentence_and_exit_2(venv, workdir, args, env, message):
    (workdir / "empty").mkdir()
    result = planvalidator(venv, workdir, *args, **env)
    assert result.returncode == 2
    assert result.stderr.strip() == "Error: " + message.format(workdir=workdir.resolve())
    assert "Traceback" not in result.stderr + result.stdout
