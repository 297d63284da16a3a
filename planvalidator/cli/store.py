"""The commands about the add-in's submission store: store list, show and verify."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..safetext import printable
from .options import FOUND_ERRORS, OK, Failure, examples, format_option


def store_option(fn):
    return click.option("--store", "store_dir", type=click.Path(file_okay=False, path_type=Path),
                        default="submissions", show_default=True, metavar="DIR",
                        help="Folder of the submission store (as given to `serve --store`).")(fn)


def timezone_option(fn):
    return click.option("--timezone", "tz", default="UTC", show_default=True, metavar="ZONE",
                        help="Show times of receipt in this time zone (e.g. America/New_York).")(fn)


@click.group(epilog=examples("planvalidator store list --store submissions/",
                             "planvalidator store verify --store submissions/ 9f86d081"))
def store():
    """See and check the submission store of the Excel add-in."""


@store.command("list", epilog=examples(
    "planvalidator store list --store submissions/",
    "planvalidator store list --store submissions/ --fiscal-year 2027 --agency DOT"))
@store_option
@click.option("--fiscal-year", "-y", type=int, metavar="YEAR", help="Only this fiscal year.")
@click.option("--agency", metavar="CODE", help="Only this agency.")
@click.option("--stage", metavar="STAGE", help="Only this stage (e.g. 'Mid-Year Update').")
@timezone_option
@format_option("text", "json")
def list_command(store_dir, fiscal_year, agency, stage, tz, fmt):
    """List the submissions: fiscal year, agency, stage, time received, fingerprint, file."""
    from ..citywide.store import list_submissions, local_time
    subs = [s for s in list_submissions(store_dir)
            if (fiscal_year is None or s.fiscal_year == fiscal_year)
            and (agency is None or s.agency == agency.upper())
            and (stage is None or s.stage.casefold() == stage.casefold())]
    if fmt == "json":
        click.echo(json.dumps([_entry(s, tz) for s in subs], indent=2))
        return
    for s in subs:
        click.echo(f"FY{s.fiscal_year}  {s.agency:<6} {s.stage or '(no stage)':<16} "
                   f"{local_time(s.submitted_at, tz)}  {s.sha256[:16]}  {s.path.name}")
    click.echo(f"{len(subs)} submission{'' if len(subs) == 1 else 's'} in {store_dir}.")


@store.command("show", epilog=examples(
    "planvalidator store show --store submissions/ 9f86d081",
    "planvalidator store show --store submissions/ 9f86d081 --format json"))
@click.argument("submission")
@store_option
@timezone_option
@format_option("text", "json")
def show_command(submission, store_dir, tz, fmt):
    """Show one submission: who sent it, when, its fingerprint and findings, whether intact.

    SUBMISSION is its file name or its fingerprint (SHA-256; the first 8 characters or more)."""
    from ..citywide.store import read_submission
    sub = _one(store_dir, submission)
    names, _, meta = read_submission(sub.path)
    entry = _entry(sub, tz) | {"sheets": names, "metadata": meta}
    if fmt == "json":
        click.echo(json.dumps(entry, indent=2, default=str))
        return
    found = meta.get("findings") or {}
    for label, value in [
            ("File", sub.path.name), ("Agency", sub.agency), ("Fiscal year", sub.fiscal_year),
            ("Stage", sub.stage), ("Received", entry["received"]),
            ("Fingerprint", sub.sha256), ("Workbook", meta.get("workbook", "")),
            ("Submitted by", meta.get("submitted_by", "")),
            ("Template", meta.get("template_version", "")),
            ("Findings", f"{found.get('errors', 0)} errors, {found.get('warnings', 0)} "
                         f"warnings, {found.get('infos', 0)} notes"),
            ("Sheets", ", ".join(names)), ("Intact", "yes (the fingerprint matches)")]:
        click.echo(f"{label + ':':<14}{printable(str(value))}")   # the submitter's text


@store.command("verify", epilog=examples(
    "planvalidator store verify --store submissions/",
    "planvalidator store verify --store submissions/ 9f86d081e884c7d659a2feaa0c55ad01"))
@click.argument("fingerprint", required=False)
@store_option
def verify_command(fingerprint, store_dir):
    """Check that submissions are intact: each file's contents still have the fingerprint
    it was received with.

    With FINGERPRINT (the SHA-256 on an agency's receipt, or its first 8 characters or more):
    check that the store holds that submission, intact. Exit code 1 when a submission is
    damaged or the fingerprint is not in the store."""
    from ..citywide.store import verify
    checked = verify(store_dir, fingerprint)
    if fingerprint and not checked:
        click.echo(f"No submission in {store_dir} has the fingerprint {fingerprint}.")
        sys.exit(FOUND_ERRORS)
    for sub, problem in checked:
        click.echo(f"{'damaged' if problem else 'intact':<8} {sub.path.name}"
                   + (f": {problem}" if problem else ""))
    bad = sum(1 for _, problem in checked if problem)
    click.echo(f"{len(checked) - bad} of {len(checked)} intact.")
    sys.exit(FOUND_ERRORS if bad else OK)


def _one(store_dir, submission: str):
    from ..citywide.store import find_submission
    found = find_submission(store_dir, submission)
    if not found:
        raise Failure(f"No submission in {store_dir} has the file name or fingerprint "
                      f"{submission}.")
    if len({s.sha256 for s in found}) > 1:
        raise Failure(f"{submission} is the start of several fingerprints; give more of it.")
    return found[-1]   # the same plan submitted twice: the latest


def _entry(sub, tz: str) -> dict:
    from ..citywide.store import local_time
    return {"file": sub.path.name, "agency": sub.agency, "fiscal_year": sub.fiscal_year,
            "stage": sub.stage, "received": local_time(sub.submitted_at, tz),
            "sha256": sub.sha256}
