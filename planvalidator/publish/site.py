"""`planvalidator publish`: a consolidated plan → a static website (and printable PDFs).

Pages are rendered with Jinja2, autoescaping on: every cell of a plan is untrusted text. The
same consolidated plan gives the same bytes (no build time unless a timestamp is given); the
whole site is written into a new folder and swapped in (output/atomic.StagedFolder). The open
data beside it is the open-data package of the same plan (output/opendata.py), and each agency's
CSV holds that package's rows of the agency, so the two never disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..citywide.consolidated.read import read_consolidated
from ..citywide.merge import Consolidation
from ..output.atomic import StagedFolder, write_atomic
from ..output.opendata import write_datapackage
from .chart import chart
from .folder import check_target
from .model import Site, site_model, slug
from .pdf import find_chromium, print_pdfs
from .values import count_words, date_words

SUMMARY_PDF = "pdf/citywide-summary.pdf"


@dataclass
class Published:
    """What publish wrote, for the command's report."""
    folder: Path
    site: Site
    pages: list[str]
    pdfs: list[str]


def publish(consolidated, out, *, pdf: bool = False, timestamp: dt.datetime | None = None,
            schema=None) -> Published:
    """Publish the consolidated plan `consolidated` as a website in the folder `out`."""
    consolidated, out = Path(consolidated), Path(out)
    check_target(out, (consolidated,))
    browser = find_chromium() if pdf else None   # before any work: missing is a plain refusal
    city = read_consolidated(consolidated, schema)
    site = site_model(city)
    pages = render_pages(site, pdf=pdf, timestamp=timestamp)
    pdfs = []
    folder = StagedFolder(out, carry_over=False)   # an old site's pages are not kept
    try:
        tmp = folder.tmp
        for name, text in pages.items():
            write_atomic(tmp / name, text.encode("utf-8"))
        write_atomic(tmp / "site.css", (files(__package__) / "templates" / "site.css").read_bytes())
        write_datapackage(Consolidation(submissions=city.submissions), tmp / "open-data",
                          source=consolidated, created=timestamp)
        _agency_csvs(site, tmp)
        if browser:
            pdfs = [(f"agency-{a.slug}.html", f"pdf/agency-{a.slug}.pdf") for a in site.agencies]
            pdfs.append(("index.html", SUMMARY_PDF))
            print_pdfs(tmp, pdfs, browser)
        folder.commit()
    finally:
        folder.discard()
    return Published(folder=out, site=site, pages=sorted(pages), pdfs=[p for _, p in pdfs])


def render_pages(site: Site, pdf: bool = False, timestamp: dt.datetime | None = None
                 ) -> dict[str, str]:
    """File name → HTML of every page of the site."""
    env = environment()
    stamp = ""
    if timestamp:
        utc = timestamp.astimezone(dt.timezone.utc)
        stamp = f"{date_words(utc)} at {utc:%H:%M} UTC"
    common = {"site": site, "pdf": pdf, "published_at": stamp}
    head = f"{site.city} FY{site.fiscal_year} performance plans"

    def render(template, running_head, **kw):
        return env.get_template(template).render(running_head=running_head, **common, **kw)

    pages = {"index.html": render("index.html", f"{head}: citywide summary, {site.stage}")}
    for a in site.agencies:
        when = f", submitted {a.submitted}" if a.submitted else ""
        pages[f"agency-{a.slug}.html"] = render(
            "agency.html", f"{a.name}: FY{site.fiscal_year} {a.stage}{when}", agency=a)
    for p in site.used_pillars:
        pages[site.pillar_slug(p)] = render("pillar.html", f"{head}: {p}", pillar=p)
    return pages


def environment() -> Environment:
    env = Environment(loader=PackageLoader(__package__, "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(slug=slug, count_words=count_words, css_string=css_string)
    env.globals["chart"] = lambda m: chart(m.anchor, m.name, m.figures)
    return env


def css_string(text: str) -> Markup:
    """Text as a CSS string literal that no character can break out of (nor out of <style>):
    everything but letters, digits and spaces is written as a CSS hex escape."""
    return Markup('"' + "".join(c if c.isascii() and (c.isalnum() or c == " ")
                                else f"\\{ord(c):x} " for c in str(text)) + '"')


def _agency_csvs(site: Site, folder: Path) -> None:
    """downloads/<agency>-measures.csv: the open-data measures rows of each published agency."""
    with open(folder / "open-data" / "measures.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    by_agency: dict[str, list] = {}
    for r in rows[1:]:
        if r:
            by_agency.setdefault(r[0], []).append(r)
    (folder / "downloads").mkdir()
    for a in site.agencies:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([rows[0]] + by_agency.get(a.code, []))
        write_atomic(folder / "downloads" / f"{a.slug}-measures.csv", buf.getvalue().encode())
