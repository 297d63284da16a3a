"""The `planvalidator` command: a thin door into the library.

Each command parses its options, calls one library function, renders what it returns and
exits with the documented code: 0 no errors, 1 errors found, 2 unreadable input or misuse.
Heavy imports (pandas, pandera, openpyxl) happen inside the commands so `--help` stays fast.
The library's errors (planvalidator.errors) become a plain message and exit code 2 in one
place, `Commands.invoke`; any other exception is a bug and shows its traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from importlib.util import find_spec
from pathlib import Path

import click

from .errors import PlanValidatorError

OK, FOUND_ERRORS, BAD_INPUT = 0, 1, 2
ADDIN_MODULES = ("xlwings", "xlwings_server", "starlette", "uvicorn")   # the `addin` extra


class Failure(click.ClickException):
    """A plain-language error for the user; exit code 2."""
    exit_code = BAD_INPUT


class Commands(click.Group):
    """The library's errors and unreadable or unwritable files → their sentence, exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except PlanValidatorError as e:
            raise Failure(str(e)) from None
        except OSError as e:
            if e.errno == errno.EPIPE:   # output piped into `head`: click's own quiet exit
                raise
            raise Failure(f"{e.filename}: {e.strerror}" if e.filename else str(e)) from None


def schemas_option(fn):
    """--schemas DIR: the office's own folder of schemas, for every command that loads one."""
    return click.option("--schemas", type=click.Path(exists=True, file_okay=False, path_type=Path),
                        metavar="DIR", expose_value=False, callback=_use_schemas,
                        help="Folder of fyYEAR.yaml schemas to use instead of the bundled ones "
                             "(default: $PLANVALIDATOR_SCHEMAS if set).")(fn)


def _use_schemas(ctx, _param, directory):
    """The loader reads the folder from the environment, so worker processes see it too;
    the variable is restored when the command ends (for callers that stay, like tests)."""
    from .schema.loader import ENV_SCHEMAS
    if directory is not None:
        ctx.call_on_close(lambda before=os.environ.get(ENV_SCHEMAS): _setenv(ENV_SCHEMAS, before))
        os.environ[ENV_SCHEMAS] = str(directory.resolve())


def _setenv(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def schema_options(fn):
    """--fiscal-year, --schema (→ one `schema` argument; None: each workbook's own), --schemas."""
    fn = schemas_option(fn)
    fn = click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False,
                      path_type=Path), help="A schema YAML to use instead of schemas/fyYEAR.yaml "
                      "(for trying a draft schema).")(fn)
    return click.option("--fiscal-year", "-y", type=int, metavar="YEAR",
                        help="Fiscal year whose schema applies (default: the workbook's own, "
                             "else the latest).")(fn)


def load_chosen_schema(fiscal_year, schema_file):
    """The schema the options name, or None to let each workbook's fiscal year decide."""
    from .schema.loader import load_schema
    if not (fiscal_year or schema_file):
        return None
    return load_schema(fiscal_year, path=schema_file)


def strict_option(fn):
    return click.option("--strict", is_flag=True,
                        help="Treat warnings as errors for the exit code.")(fn)


def format_option(*choices):
    def deco(fn):
        return click.option("--format", "fmt", type=click.Choice(choices), default=choices[0],
                            show_default=True, help="Output format.")(fn)
    return deco


def examples(*lines: str) -> str:
    """A help epilog: every --help ends with examples."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def exit_code(reports, strict: bool) -> int:
    if any(r.errors or (strict and r.warnings) for r in reports):
        return FOUND_ERRORS
    return OK


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=examples("planvalidator validate examples/*.xlsx",
                             "planvalidator template build --fiscal-year 2028 -o templates/"))
@click.version_option(package_name="planvalidator")
def main():
    """Validate and merge agency performance-plan workbooks."""


@main.command(epilog=examples(
    "planvalidator validate examples/bcfd-plan-fy2028-clean.xlsx",
    "planvalidator validate --format json --annotate checked.xlsx plan.xlsx"))
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option("text", "json")
@click.option("--annotate", "annotate_to", type=click.Path(path_type=Path), metavar="OUT",
              help="Write a copy with failing cells marked and a Validation sheet (a folder "
                   "when several files are given). The input is never changed.")
@click.option("--stage", type=click.Choice(["Plan", "Mid-Year Update", "Year-End Update"]),
              help="Validate as this plan stage instead of the one on the Agency sheet.")
@schema_options
@strict_option
def validate(files, fmt, annotate_to, stage, fiscal_year, schema_file, strict):
    """Check plan workbooks and list every finding at its cell."""
    from .output.annotate import annotate_workbook
    from .output.render import json_reports, text
    from .rules.validate import validate_files

    if annotate_to and len(files) > 1 and annotate_to.exists() and not annotate_to.is_dir():
        raise Failure(f"--annotate {annotate_to} must be a folder when several files are given.")
    reports = validate_files(files, schema=load_chosen_schema(fiscal_year, schema_file),
                             stage=stage, progress=_progress if len(files) > 1 else None)
    unreadable = any(r.unreadable for r in reports)
    if annotate_to:
        for path, report in zip(files, reports):
            if report.unreadable:
                continue
            out = annotate_to
            if len(files) > 1 or annotate_to.is_dir():
                annotate_to.mkdir(parents=True, exist_ok=True)
                out = annotate_to / f"{path.stem}.annotated.xlsx"
            annotate_workbook(path, report, out)
    if fmt == "json":
        click.echo(json_reports(reports))
    else:
        color = sys.stdout.isatty()
        click.echo("\n\n".join(text(r, color=color) for r in reports))
    sys.exit(BAD_INPUT if unreadable else exit_code(reports, strict))


def _progress(items, label):
    """A progress bar on a terminal; silent when piped."""
    if not sys.stderr.isatty():
        return items
    return click.progressbar(items, label=label, file=sys.stderr)


@main.command(epilog=examples("planvalidator codes",
                             "planvalidator codes --format markdown > docs/findings.md"))
@format_option("text", "json", "markdown")
def codes(fmt):
    """List every finding code with its severity and meaning."""
    from .output.render import catalogue_json, catalogue_markdown, catalogue_text
    click.echo({"text": catalogue_text, "json": catalogue_json,
                "markdown": catalogue_markdown}[fmt]())


@main.command(epilog=examples(
    "planvalidator merge examples/ -o citywide.xlsx",
    "planvalidator merge 'submissions/*.xlsx' -o citywide.xlsx --jobs 2 --datapackage open-data/",
    "planvalidator merge --store submissions/ -o citywide.xlsx"))
@click.argument("sources", nargs=-1)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The consolidated workbook to write (atomically).")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Also merge the submissions in the add-in's submission store.")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for reading the submissions.")
@click.option("--reject-errors", is_flag=True,
              help="Leave agencies whose plans have errors out of the Measures sheet.")
@click.option("--datapackage", type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Also write open data: Measures and Services of the plans without errors, and "
                   "the Summary, as CSV with a Frictionless datapackage.json.")
@click.option("--timestamp", is_flag=True,
              help="Stamp the workbook with the current time (default: a fixed one, so the "
                   "same inputs give the same bytes).")
@format_option("text", "json")
@schema_options
@strict_option
def merge(sources, out, store_dir, jobs, reject_errors, datapackage, timestamp, fmt,
          fiscal_year, schema_file, strict):
    """Validate every submission and merge them into one citywide plan workbook.

    SOURCES are files, folders (their .xlsx files) or glob patterns, and/or the add-in's
    submission store (--store). The latest submission of each agency wins (Submission Date,
    then file or submission time); earlier ones are listed as superseded.
    """
    import datetime as dt

    from .citywide.consolidated.write import write_consolidated
    from .output.opendata import write_datapackage
    from .citywide.merge import merge_files
    from .citywide.summary import merge_json, merge_text

    cons = merge_files(sources, out, store_dir=store_dir,
                       schema=load_chosen_schema(fiscal_year, schema_file),
                       jobs=jobs, progress=_file_progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc) if timestamp else None
    write_consolidated(cons, out, reject_errors=reject_errors, timestamp=stamp)
    if datapackage:
        write_datapackage(cons, datapackage)
    click.echo(merge_json(cons, out) if fmt == "json" else merge_text(cons, out))
    reports = [s.report for s in cons.accepted]
    sys.exit(FOUND_ERRORS if cons.unreadable else exit_code(reports, strict))


def _file_progress(results, total):
    """A progress bar over the files on a terminal; silent when piped."""
    if not sys.stderr.isatty():
        return results
    return _iterate_with_bar(results, total)


def _iterate_with_bar(results, total):
    with click.progressbar(length=total, label="Merging", file=sys.stderr) as bar:
        for item in results:
            bar.update(1)
            yield item


@main.group(epilog=examples("planvalidator template build --fiscal-year 2028 -o out/"))
def template():
    """Build the plan templates the office distributes."""


@template.command("build", epilog=examples(
    "planvalidator template build --fiscal-year 2028 -o out/",
    "planvalidator template build -y 2028 --agency BCFD --agency DOT -o out/",
    "planvalidator template build -y 2028 --from citywide-fy2027.xlsx -o fy2028/"))
@click.option("--fiscal-year", "-y", type=int, metavar="YEAR", required=True,
              help="Fiscal year of the plan (its schema is fyYEAR.yaml).")
@click.option("--agency", "agencies", multiple=True, metavar="CODE",
              help="Pre-fill for this agency (repeatable). Without it: one blank template "
                   "(with --from: every agency of that plan).")
@click.option("--all", "all_agencies", is_flag=True, help="One template per catalog agency.")
@click.option("--from", "from_plan", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              metavar="CONSOLIDATED",
              help="Roll forward: pre-fill each agency's template from last year's consolidated "
                   "plan (services, measures, history shifted one year; targets empty).")
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              required=True, help="Folder to write the workbooks to (created if needed).")
@schemas_option
def template_build(fiscal_year, agencies, all_agencies, from_plan, out_dir):
    """Write plan template workbooks from the schema."""
    from .schema.loader import load_schema
    from .output.templates import build_templates
    schema = load_schema(fiscal_year)
    if from_plan:
        return _roll_forward(schema, from_plan, agencies, all_agencies, out_dir)
    codes_ = list(schema.agencies) if all_agencies else list(agencies) or None
    for path in build_templates(schema, codes_, out_dir):
        click.echo(str(path))


def _roll_forward(schema, from_plan, agencies, all_agencies, out_dir):
    from .citywide.summary import rollforward_text
    from .citywide.rollforward import roll_forward
    result = roll_forward(from_plan, schema, out_dir, list(agencies) or None, all_agencies)
    click.echo(rollforward_text(result, schema))


@main.command("sync", epilog=examples(
    "planvalidator sync citywide-fy2027.xlsx midyear/ -o citywide-fy2027-midyear.xlsx",
    "planvalidator sync citywide-fy2027-midyear.xlsx 'yearend/*.xlsx' "
    "-o citywide-fy2027-yearend.xlsx --accept-target-changes"))
@click.argument("consolidated", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("updates", nargs=-1, required=True)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The synced consolidated workbook to write (atomically); "
                                  "never one of the inputs.")
@click.option("--accept-target-changes", is_flag=True,
              help="Take changed targets from the updates (default: keep the approved target "
                   "and report target-changed).")
@click.option("--accept-added-measures", "accept_added", is_flag=True,
              help="Add measures the approved plan lacks (default: report measure-added).")
@click.option("--accept-removed-measures", "accept_removed", is_flag=True,
              help="Drop measures an update lacks (default: keep them, report measure-removed).")
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Worker processes for reading the updates.")
@click.option("--timestamp", is_flag=True,
              help="Stamp the workbook with the current time (default: a fixed one, so the "
                   "same inputs give the same bytes).")
@click.option("--schema", "schema_file", type=click.Path(exists=True, dir_okay=False,
              path_type=Path), help="A schema YAML to use instead of the plan year's "
                                    "schemas/fyYEAR.yaml (for trying a draft schema).")
@schemas_option
@format_option("text", "json")
@strict_option
def sync_command(consolidated, updates, out, accept_target_changes, accept_added, accept_removed,
                 jobs, timestamp, schema_file, fmt, strict):
    """Apply Mid-Year and Year-End updates to a consolidated plan, by measure ID.

    UPDATES are files, folders (their .xlsx files) or glob patterns. Actuals, statuses and
    status explanations are taken from each agency's latest update; an empty cell changes
    nothing. Targets are locked: a changed one is a target-changed error unless accepted.
    The Changes sheet lists every change; CONSOLIDATED is never modified.
    """
    import datetime as dt

    from .citywide.consolidated.write import write_consolidated
    from .citywide.summary import sync_json, sync_text
    from .citywide.sync import sync_files

    result = sync_files(consolidated, updates, out, schema=load_chosen_schema(None, schema_file),
                        accept_target_changes=accept_target_changes,
                        accept_added=accept_added, accept_removed=accept_removed,
                        jobs=jobs, progress=_file_progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc) if timestamp else None
    write_consolidated(result.consolidation, out, timestamp=stamp)
    click.echo(sync_json(result, out) if fmt == "json" else sync_text(result, out))
    reports = [s.report for s in result.applied]
    sys.exit(FOUND_ERRORS if result.updates.unreadable else exit_code(reports, strict))


@main.command("diff", epilog=examples(
    "planvalidator diff citywide-fy2027.xlsx citywide-fy2027-midyear.xlsx",
    "planvalidator diff --format json dot-plan-v1.xlsx dot-plan-v2.xlsx"))
@click.argument("old", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option("text", "json")
@click.option("--exit-code", "fail_on_change", is_flag=True,
              help="Exit with 1 when there are differences (as diff(1) does); default 0.")
@schemas_option
def diff_command(old, new, fmt, fail_on_change):
    """List the measures added, removed or changed between two plans or consolidated plans.

    Each of OLD and NEW is an agency's plan workbook or a consolidated plan; measures are
    matched by agency and measure ID. A plan against a consolidated plan compares that
    agency only.
    """
    from .citywide.diff import diff_files
    from .citywide.summary import diff_json, diff_text
    diff = diff_files(old, new)
    click.echo(diff_json(diff) if fmt == "json" else diff_text(diff))
    sys.exit(FOUND_ERRORS if fail_on_change and diff.differences else OK)


@main.group(epilog=examples("planvalidator schema check schemas/fy2028.yaml"))
def schema():
    """Check the schema YAML the office edits each cycle, or export it for pandera."""


@schema.command("check", epilog=examples("planvalidator schema check schemas/fy2028.yaml",
                                          "planvalidator schema check --schemas our-schemas/"))
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@schemas_option
def schema_check(paths):
    """Load schema YAML files strictly and report what each defines.

    Without PATHS: every fyYEAR.yaml of the schema folder (--schemas, $PLANVALIDATOR_SCHEMAS,
    else the bundled one)."""
    from .schema.loader import available_years, load_schema, schema_dir
    paths = paths or [schema_dir() / f"fy{year}.yaml" for year in available_years()]
    if not paths:
        raise Failure(f"There is no schema (fyYEAR.yaml) in {schema_dir()}.")
    for path in paths:
        s = load_schema(path=path)
        click.echo(f"{path}: FY{s.fiscal_year}, template version {s.template_version}, "
                   f"{len(s.agencies)} agencies, "
                   f"{sum(len(a.services) for a in s.agencies.values())} services, "
                   f"{len(s.measures.columns)} measure columns — OK")


@schema.command("export", epilog=examples(
    "planvalidator schema export --fiscal-year 2028 --format yaml -o measures.yaml",
    "planvalidator schema export -y 2028 --format python --table services"))
@click.option("--fiscal-year", "-y", type=int, required=True, metavar="YEAR",
              help="Fiscal year whose schema to export (schemas/fyYEAR.yaml).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "python"]), default="yaml",
              show_default=True, help="pandera's YAML (load with DataFrameSchema.from_yaml) or "
                                      "a Python script defining `schema`.")
@click.option("--table", type=click.Choice(["measures", "services", "agency"]),
              default="measures", show_default=True, help="Which sheet's schema.")
@click.option("--stage", metavar="STAGE", help="Plan stage whose required cells apply "
                                               "(default: the first, Plan).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
def schema_export(fiscal_year, fmt, table, stage, output):
    """Write a sheet's schema in pandera's own form, to validate a DataFrame with pandera alone."""
    from .output.templates import HEADER_ROW
    from .rules.tables import export
    from .schema.loader import SchemaError, load_schema
    try:
        text = export(load_schema(fiscal_year), table, fmt, stage, HEADER_ROW)
    except SchemaError as e:
        raise Failure(str(e)) from None
    except ImportError:   # pandera formats scripts with black, which it doesn't require
        raise Failure("The python format needs black: pip install black "
                      "(or use --format yaml).") from None
    try:
        with click.open_file(str(output) if output else "-", "w", encoding="utf-8",
                             atomic=bool(output)) as f:
            f.write(text)
    except OSError as e:
        raise Failure(f"Cannot write {output}: {e.strerror}.") from None


@main.command(epilog=examples(
    "XLWINGS_LICENSE_KEY=noncommercial planvalidator serve --config addin.yaml",
    "planvalidator serve --host 0.0.0.0 --port 8000 --store /srv/submissions --config addin.yaml"))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--store", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of the submission store (default: the config's, else ./submissions).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="YAML file with the agency tokens (token: AGENCY or office) and limits.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Server processes (more answer more analysts at once).")
@schemas_option
def serve(host, port, store, config_path, workers):
    """Run the Excel add-in backend: Validate, Submit and Clear highlights in Excel."""
    missing = next((name for name in ADDIN_MODULES if find_spec(name) is None), None)
    if missing:   # looked up, not imported: xlwings-server reads its settings when imported
        raise Failure(f"The add-in backend needs the 'addin' extra ({missing} is not installed): "
                      f"pip install 'planvalidator[addin]'")
    from .addin.server import serve as run_server
    run_server(host=host, port=port, store=store, config=config_path, workers=workers)
