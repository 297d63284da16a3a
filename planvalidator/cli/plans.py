"""The commands about one plan: validate, codes, template build, schema check and export."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .options import (BAD_INPUT, Failure, batch_collector, examples, exit_code, format_option,
                      load_chosen_schema, make_folder, progress, quiet_option, schema_options,
                      schemas_option, strict_option, use_color)


@click.command(epilog=examples(
    "planvalidator validate examples/bcfd-plan-fy2028-clean.xlsx",
    "planvalidator validate --format json --annotate checked.xlsx plan.xlsx",
    "planvalidator validate 'submissions/*.xlsx' --annotate checked/"))
@click.argument("sources", nargs=-1, required=True)
@format_option("text", "json")
@click.option("--annotate", "annotate_to", type=click.Path(path_type=Path), metavar="OUT",
              help="Write a copy with failing cells marked and a Validation sheet (a folder "
                   "when several files are given). The input is never changed.")
@click.option("--stage", metavar="STAGE",
              help="Validate as this plan stage (one of the schema's stages) instead of the one "
                   "on the Agency sheet.")
@schema_options
@strict_option
@quiet_option
def validate(sources, fmt, annotate_to, stage, fiscal_year, schema_file, strict, quiet):
    """Check plan workbooks and list every finding at its cell.

    SOURCES are files, folders (their .xlsx files, any letter case; not their subfolders) or
    quoted glob patterns, as for merge. Other spreadsheet files found there (.xlsm, .xls,
    .ods, .csv, Excel lock files) are named on standard error as not read."""
    from ..output.render import json_reports, text
    from ..read.sources import collect
    from ..rules.validate import validate_files
    from ..safetext import printable
    from ..schema.loader import load_schema
    batch_collector()

    if "-" in sources:
        raise Failure("validate reads workbooks from files, not from standard input (-): "
                      "save the workbook and give its file name.")
    found = collect(sources)
    files = found.paths
    for path, why in found.not_read:
        click.echo(printable(f"Not read: {path.name} — {why}"), err=True)
    if annotate_to and len(files) > 1 and annotate_to.exists() and not annotate_to.is_dir():
        raise Failure(f"--annotate {annotate_to} must be a folder when several files are given.")
    seen: dict[str, Path] = {}   # one annotated copy per name: none may overwrite another
    for path in files if annotate_to and (len(files) > 1 or annotate_to.is_dir()) else ():
        first = seen.setdefault(path.stem.casefold(), path)
        if first != path:
            raise Failure(f"--annotate: {first} and {path} would both be written to "
                          f"{annotate_to / (path.stem + '.annotated.xlsx')}; validate them apart.")
    bar = progress if len(files) > 1 and not quiet else None
    schema = load_chosen_schema(fiscal_year, schema_file)
    reports = validate_files(files, schema=schema, stage=stage, progress=bar)
    if stage is not None:
        _check_stage(stage, [schema] if schema else
                     [load_schema(y) for y in sorted({r.fiscal_year for r in reports
                                                      if not r.unreadable})])
    unreadable = any(r.unreadable for r in reports)
    if annotate_to:
        from ..output.annotate import annotate_workbook   # openpyxl: only when writing
        for path, report in zip(files, reports):
            if report.unreadable:
                continue
            out = annotate_to
            if len(files) > 1 or annotate_to.is_dir():
                out = annotate_to / f"{path.stem}.annotated.xlsx"
            make_folder(out.parent)
            annotate_workbook(path, report, out)
    if not quiet:
        click.echo(json_reports(reports) if fmt == "json" else
                   "\n\n".join(text(r, color=use_color()) for r in reports))
    sys.exit(BAD_INPUT if unreadable else exit_code(reports, strict))



def _check_stage(stage: str, schemas) -> None:
    """Refuse a --stage that is not one of the plans' schema's stages (the office names them)."""
    for schema in schemas:
        if stage not in schema.stages:
            raise Failure(f"--stage {stage}: the FY{schema.fiscal_year} stages are "
                          f"{', '.join(schema.stages)}.")


@click.command(epilog=examples("planvalidator codes",
                             "planvalidator codes --format markdown > docs/findings.md"))
@format_option("text", "json", "markdown")
def codes(fmt):
    """List every finding code with its severity and meaning."""
    from ..output.render import catalogue_json, catalogue_markdown, catalogue_text
    click.echo({"text": catalogue_text, "json": catalogue_json,
                "markdown": catalogue_markdown}[fmt]())



@click.group(epilog=examples("planvalidator template build --fiscal-year 2028 -o out/"))
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
@quiet_option
def template_build(fiscal_year, agencies, all_agencies, from_plan, out_dir, quiet):
    """Write plan template workbooks from the schema."""
    from ..schema.loader import load_schema
    from ..output.templates import build_templates
    if all_agencies and agencies:
        raise Failure("--all builds a template for every agency of the catalog and --agency for "
                      "the ones named: give one of them, not both.")
    schema = load_schema(fiscal_year)
    if from_plan:
        return _roll_forward(schema, from_plan, agencies, all_agencies, out_dir, quiet)
    codes_ = list(schema.agencies) if all_agencies else list(agencies) or None
    for path in build_templates(schema, codes_, out_dir):
        if not quiet:
            click.echo(str(path))


def _roll_forward(schema, from_plan, agencies, all_agencies, out_dir, quiet):
    from ..citywide.summary import rollforward_text
    from ..citywide.rollforward import roll_forward
    result = roll_forward(from_plan, schema, out_dir, list(agencies) or None, all_agencies)
    if not quiet:
        click.echo(rollforward_text(result, schema))



@click.group(epilog=examples("planvalidator schema check schemas/fy2028.yaml"))
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
    from ..schema.loader import available_years, load_schema, schema_dir
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
@schemas_option
def schema_export(fiscal_year, fmt, table, stage, output):
    """Write a sheet's schema in pandera's own form, to validate a DataFrame with pandera alone."""
    from ..output.atomic import write_atomic
    from ..output.templates import HEADER_ROW
    from ..rules.tables import export
    from ..schema.loader import SchemaError, load_schema
    try:
        text = export(load_schema(fiscal_year), table, fmt, stage, HEADER_ROW)
    except SchemaError as e:
        raise Failure(str(e)) from None
    except ImportError:   # pandera formats scripts with black, which it doesn't require
        raise Failure("The python format needs black: pip install black "
                      "(or use --format yaml).") from None
    if output:
        write_atomic(output, text.encode("utf-8"))
    else:
        click.echo(text, nl=False)
