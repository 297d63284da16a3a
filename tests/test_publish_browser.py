"""The published site read in a real browser (Debian's chromium, tests/browser.py): the index, an
agency page and a pillar page of the bundled examples after merge and after DOT's mid-year sync,
at desktop and phone widths and zoomed to 200%. Each page shows what the consolidated workbook
says (counts and status words written down from the workbook, read from the browser's visible
text), never scrolls sideways, and axe-core finds no WCAG 2.x A or AA violation."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

import browser
from planvalidator.publish.model import slug
from published import page
from test_publish import examples_site, midyear_site, workbook_measures  # noqa: F401 (fixtures)

# The first view is where axe runs and the visible text is read: the narrowest phone.
VIEWS = ((browser.NARROW, 1), (browser.DESKTOP, 1), (browser.PHONE, 1), (browser.DESKTOP, 2))
STATUS_BACKGROUND = {"On Track": (0xe3, 0xf3, 0xe6), "Off Track": (0xfd, 0xe7, 0xe8)}
RULE_BLUE = (0x1d, 0x5c, 0x96)   # the h2 rule: a drawn page, not a blank one

# (site fixture, agency whose page is opened): BCFD's plan after merge; DOT after its mid-year
# update, with statuses.
SITES = {"examples": ("examples_site", "BCFD"), "midyear": ("midyear_site", "DOT")}


@pytest.fixture(scope="module", params=sorted(SITES))
def site(request):
    fixture, agency = SITES[request.param]
    consolidated, folder, _ = request.getfixturevalue(fixture)
    return consolidated, folder, agency


def workbook(consolidated: Path, agency: str) -> dict:
    """What a reader should find about `agency`, taken from the consolidated workbook."""
    wb = openpyxl.load_workbook(consolidated)
    services = [r for r in wb["Services"].iter_rows(min_row=2, values_only=True)
                if r[0] == agency]
    name = next(r[1] for r in wb["Services"].iter_rows(min_row=2, values_only=True)
                if r[0] == agency)
    pillars = {r[3]: r[5] for r in services}
    rows = workbook_measures(consolidated, agency)
    pillar = pillars[rows[0]["Service Number"]]
    in_pillar = [r for r in rows if pillars[r["Service Number"]] == pillar]
    return {"name": name, "measures": len(rows), "services": len(services),
            "key": sum(r["Key Measure"] == "Yes" for r in rows),
            "statuses": Counter(r["Status"] for r in rows if r["Status"]),
            "pillar": pillar, "in_pillar": in_pillar}


view_colours: dict = {}   # (page, width, zoom) → the colours of its screenshot


def opened(folder: Path, name: str, out_dir: Path) -> browser.Check:
    """The page in every view: no sideways scrolling, no axe violation, screenshots taken."""
    result = browser.check(folder / name, views=VIEWS, shots=True, out_dir=out_dir / name,
                           axe=True, text=True)
    assert result.violations == [], f"{name}:\n" + browser.summary(result.violations)
    for view in result.views:
        assert not view.scrolls, (name, view.width, view.zoom, view.scroll_width, view.widest)
        with Image.open(view.png) as image:
            assert image.width == view.width
            colours = {c for _, c in image.convert("RGB").getcolors(1 << 20)}
        assert RULE_BLUE in colours, (name, view.png)
        view_colours[(name, view.width, view.zoom)] = colours
    return result


def test_the_agency_page_reads_right_in_a_browser(site, tmp_path):
    consolidated, folder, agency = site
    expect = workbook(consolidated, agency)
    name = f"agency-{agency.lower()}.html"
    text = opened(folder, name, tmp_path).text
    assert f"{expect['name']} ({agency})" in text
    assert f"{expect['services']} services" in text
    assert f"{expect['measures']} measures" in text
    assert f"{expect['key']} key measures" in text
    for status, n in expect["statuses"].items():   # "Off Track: 2", in words, beside its colour
        assert f"{status}: {n}" in text
        if status in STATUS_BACKGROUND:
            for w, z in VIEWS:
                assert STATUS_BACKGROUND[status] in view_colours[(name, w, z)], (status, w, z)
    if not expect["statuses"]:
        assert "On Track" not in text and "Measures off track or at risk" not in text


def test_the_index_reads_right_in_a_browser(site, tmp_path):
    consolidated, folder, agency = site
    expect = workbook(consolidated, agency)
    text = opened(folder, "index.html", tmp_path).text
    card = text[text.index(f"{expect['name']} ({agency})"):]
    card = card[:card.index("Services:")]
    assert re.search(rf"Measures\s+{expect['measures']}\s", card), card
    assert re.search(rf"Services\s+{expect['services']}\s", card), card
    assert re.search(rf"Key measures\s+{expect['key']}\s", card), card
    for status, n in expect["statuses"].items():
        assert f"{status}: {n}" in text


def test_the_pillar_page_reads_right_in_a_browser(site, tmp_path):
    consolidated, folder, agency = site
    expect = workbook(consolidated, agency)
    index = page(folder, "index.html")
    [href] = {a["href"] for t, a in index.tags
              if t == "a" and a.get("href") == f"pillar-{slug(expect['pillar'])}.html"}
    text = opened(folder, href, tmp_path).text
    assert text.startswith(expect["pillar"]) or f"\n{expect['pillar']}\n" in text
    block = text[text.index(f"{expect['name']} ({agency})"):]
    n = len(expect["in_pillar"])
    assert f"{n} measure{'s' if n != 1 else ''}" in block[:400]
    for row in expect["in_pillar"]:
        assert row["Measure Name"] in block
        if row["Status"]:
            line = block[block.index(row["Measure Name"]):].split("\n")
            assert row["Status"] in " ".join(line[:6]), row["Measure ID"]
