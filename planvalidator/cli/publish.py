"""The publish command: the consolidated plan as a public website (and printable PDFs)."""

from __future__ import annotations

from pathlib import Path

import click

from .options import examples, quiet_option, schemas_option


@click.command("publish", epilog=examples(
    "planvalidator publish citywide.xlsx -o site/",
    "planvalidator publish citywide-fy2027-midyear.xlsx -o site/ --pdf"))
@click.argument("consolidated", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), required=True,
              help="The site's folder: new, empty or published before; it is replaced whole.")
@click.option("--pdf", is_flag=True,
              help="Also print each agency page and a citywide summary to PDF (pdf/ in the "
                   "site) with headless Chromium.")
@click.option("--timestamp", is_flag=True,
              help="Say on every page when it was published (default: no time, so the same "
                   "plan gives the same bytes).")
@schemas_option
@quiet_option
def publish_command(consolidated, out, pdf, timestamp, quiet):
    """Write a static website of a consolidated plan: an index, a page per agency and per
    pillar of the Mayor's Action Plan, the open data, and each agency's measures as CSV.

    Only plans without errors are published; the index names the agencies whose plan is
    still under revision. No server or JavaScript is needed: copy the folder to any web host.
    """
    import datetime as dt

    from ..publish import publish
    from ..publish.values import count_words

    done = publish(consolidated, out, pdf=pdf,
                   timestamp=dt.datetime.now(dt.timezone.utc) if timestamp else None)
    if quiet:
        return
    site = done.site
    measures = sum(len(a.measures) for a in site.agencies)
    click.echo(f"Published {count_words(len(site.agencies), 'agency', 'agencies')} "
               f"({count_words(measures, 'measure')}) of the FY{site.fiscal_year} plan to "
               f"{out}: {count_words(len(done.pages), 'page')}, open data"
               + (f", {count_words(len(done.pdfs), 'PDF')}" if done.pdfs else "") + ".")
    if site.under_revision:
        click.echo("Under revision, not published: "
                   + ", ".join(code for code, _ in site.under_revision) + ".")
