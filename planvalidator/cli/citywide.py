"""The commands about the citywide plan: merge, sync and diff."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .options import (BAD_INPUT, FOUND_ERRORS, OK, Failure, batch_collector, examples,
                      exit_code, file_progress, format_option, load_chosen_schema, make_folder,
                      quiet_option, schema_options, schemas_option, strict_option, workbook_output)


@click.command(epilog=examples(
    "planvalidator merge examples/ -o citywide.xlsx",
    "planvalidator merge examples/fy2027/ -o midyear.xlsx --stage 'Mid-Year Update'",
    "planvalidator merge 'submissions/*.xlsx' -o citywide.xlsx --jobs 2 --datapackage open-data/",
    "planvalidator merge --store submissions/ -o citywide.xlsx"))
@click.argument("sources", nargs=-1)
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              required=True, callback=workbook_output,
              help="The consolidated workbook to write (atomically).")
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Also merge the submissions in the add-in's submission store.")
@click.option("--stage", metavar="STAGE",
              help="The plan stage to consolidate (default: Plan if a Plan of the fiscal year "
                   "is among the inputs, else the latest stage present).")
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
@quiet_option
def merge(sources, out, store_dir, stage, jobs, reject_errors, datapackage, timestamp, fmt,
          fiscal_year, schema_file, strict, quiet):
    """Validate every submission and merge them into one citywide plan workbook.

    SOURCES are files, folders (their .xlsx files, any letter case; not their subfolders) or
    glob patterns, and/or the add-in's submission store (--store). Other spreadsheet files
    found there (.xlsm, .xls, .ods, .csv, Excel lock files) are named as not read.

    One fiscal year and one stage are consolidated: --fiscal-year (default: the latest among
    the inputs that has a schema) and --stage; submissions of other years or stages are named
    and left out, and so is a plan whose Fiscal Year has no schema (exit 2).
    The latest submission of each agency wins; the others are listed as superseded, with the
    reason.

    \b
    Which submission wins: a submission in the store wins over files of the same
    agency; among store submissions, the one received last; among files, the later
    Submission Date on the Agency sheet, then the later file modification time,
    then the later file name.

    Exit code: 2 if an input could not be read or states a fiscal year without a schema (the
    rest is still merged and written), else 1 if an accepted plan has errors (or warnings,
    with --strict), else 0.
    """
    import datetime as dt

    from ..citywide.consolidated.write import write_merge_outputs
    from ..citywide.merge import merge_files
    from ..citywide.summary import merge_json, merge_text
    from ..rules import validate as _   # noqa: F401 (pandas, pandera: imported before the freeze)
    batch_collector()

    cons = merge_files(sources, out, store_dir=store_dir,
                       schema=load_chosen_schema(fiscal_year, schema_file),
                       fiscal_year=fiscal_year, stage=stage, jobs=jobs,
                       progress=None if quiet else file_progress)
    make_folder(out.parent)
    stamp = dt.datetime.now(dt.timezone.utc) if timestamp else None
    write_merge_outputs(cons, out, datapackage, reject_errors=reject_errors, timestamp=stamp)
    if not quiet:
        click.echo(merge_json(cons, out) if fmt == "json" else merge_text(cons, out))
    reports = [s.report for s in cons.accepted]
    sys.exit(BAD_INPUT if cons.unreadable or cons.without_schema else exit_code(reports, strict))



@click.command("sync", epilog=examples(
    "planvalidator sync citywide-fy2027.xlsx midyear/ -o citywide-fy2027-midyear.xlsx",
    "planvalidator sync citywide-fy2027-midyear.xlsx 'yearend/*.xlsx' "
    "-o citywide-fy2027-yearend.xlsx --accept-target-changes",
    "planvalidator sync citywide-fy2027.xlsx --store submissions/ -o citywide-fy2027-midyear.xlsx"))
@click.argument("consolidated", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("updates", nargs=-1)
@click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Also apply the updates in the add-in's submission store "
                                  "(only the consolidated plan's fiscal year and its update "
                                  "stages are read).")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
              required=True, callback=workbook_output,
              help="The synced consolidated workbook to write (atomically); "
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
@quiet_option
def sync_command(consolidated, updates, store_dir, out, accept_target_changes, accept_added,
                 accept_removed, jobs, timestamp, schema_file, fmt, strict, quiet):
    """Apply Mid-Year and Year-End updates to a consolidated plan, by measure ID.

    UPDATES are files, folders (their .xlsx files) or glob patterns, and/or the add-in's
    submission store (--store). Actuals, statuses and
    status explanations are taken from each agency's latest update; an empty cell changes
    nothing. Targets are locked: a changed one is a target-changed error unless accepted.
    The Changes sheet lists every change; CONSOLIDATED is never modified.
    """
    import datetime as dt

    from ..citywide.consolidated.write import write_consolidated
    from ..citywide.summary import sync_json, sync_text
    from ..citywide.sync import sync_files
    from ..rules import validate as _   # noqa: F401 (pandas, pandera: imported before the freeze)
    batch_collector()

    if not updates and store_dir is None:
        raise Failure("Name the update files, folders or a --store to sync from.")
    result = sync_files(consolidated, updates, out, schema=load_chosen_schema(None, schema_file),
                        store_dir=store_dir,
                        accept_target_changes=accept_target_changes,
                        accept_added=accept_added, accept_removed=accept_removed,
                        jobs=jobs, progress=None if quiet else file_progress)
    make_folder(out.parent)
    stamp = dt.datetime.now(dt.timezone.utc) if timestamp else None
    write_consolidated(result.consolidation, out, timestamp=stamp)
    if not quiet:
        click.echo(sync_json(result, out) if fmt == "json" else sync_text(result, out))
    reports = [s.report for s in result.applied]
    sys.exit(BAD_INPUT if result.updates.unreadable else exit_code(reports, strict))



@click.command("diff", epilog=examples(
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
    from ..citywide.diff import diff_files
    from ..citywide.summary import diff_json, diff_text
    diff = diff_files(old, new)
    click.echo(diff_json(diff) if fmt == "json" else diff_text(diff))
    sys.exit(FOUND_ERRORS if fail_on_change and diff.differences else OK)
