"""The headless-Chromium harness (tests/browser.py) on pages whose faults are known: it must
find exactly the faults a page has, and none on a clean page."""

from __future__ import annotations

import pytest
from PIL import Image

import browser

# Four known faults: no lang, an image without alt, low contrast (#bbb on white is 1.9:1) and
# a 600 px wide element, which makes a 320 px window scroll sideways.
FAULTY = """<!doctype html>
<html><head><meta charset="utf-8"><title>Four faults</title>
<style>
  body { margin: 0; font: 16px sans-serif; }
  .faint { color: #bbb; background: #fff; }
  .banner { width: 600px; height: 20px; background: #036; }
</style></head>
<body><main>
  <h1>Four faults</h1>
  <p class="faint">Low-contrast words.</p>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">
  <div class="banner" id="banner"></div>
</main></body></html>
"""

# The same content done right. A media query shows that 200% zoom lays the page out in 640 CSS
# px: "Wide layout" is shown in a 1280 px window and hidden in the same window at 200%.
CLEAN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>No faults</title>
<style>
  body { margin: 0; font: 16px sans-serif; color: #222; background: #fff; }
  .banner { max-width: 600px; height: 20px; background: #036; }
  @media (max-width: 700px) { .wide-only { display: none; } }
</style></head>
<body><main>
  <h1>No faults</h1>
  <p>Readable words.</p>
  <p class="wide-only">Wide layout</p>
  <p hidden>Hidden words</p>
  <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10" alt="A dot">
  <div class="banner"></div>
</main></body></html>
"""


@pytest.fixture
def faulty(tmp_path):
    path = tmp_path / "faulty.html"
    path.write_text(FAULTY, encoding="utf-8")
    return path


@pytest.fixture
def clean(tmp_path):
    path = tmp_path / "clean.html"
    path.write_text(CLEAN, encoding="utf-8")
    return path


def test_the_faulty_page_gives_exactly_its_three_axe_violations_and_scrolls_at_320(faulty):
    result = browser.check(faulty, views=[(browser.NARROW, 1), (browser.DESKTOP, 1)], axe=True)
    found = {v["id"]: [n["target"] for n in v["nodes"]] for v in result.violations}
    assert found == {"html-has-lang": [["html"]], "image-alt": [["img"]],
                     "color-contrast": [["p"]]}, browser.summary(result.violations)
    narrow, desktop = result.views
    assert (narrow.scroll_width, narrow.client_width, narrow.scrolls) == (600, 320, True)
    assert narrow.widest[0]["id"] == "banner"          # the culprit is named
    assert not desktop.scrolls and desktop.widest == []


def test_the_clean_page_gives_no_violations_and_never_scrolls_sideways(clean):
    result = browser.check(clean, views=browser.ACCEPTANCE, axe=True)
    assert result.violations == [], browser.summary(result.violations)
    assert [(v.width, v.zoom, v.scrolls) for v in result.views] == [
        (1280, 1, False), (375, 1, False), (320, 1, False), (1280, 2, False)]
    zoomed = result.views[-1]
    assert zoomed.client_width == 640


def test_200_percent_zoom_halves_the_css_viewport(clean, faulty):
    assert "Wide layout" in browser.visible_text(clean, 1280)
    assert "Wide layout" not in browser.visible_text(clean, 1280, zoom=2)
    # 600 px fits in 640 CSS px, but not in a 1000 px window at 200% (500 CSS px).
    assert not browser.zoomed_overflow(faulty).scrolls
    assert browser.zoomed_overflow(faulty, window=1000).scrolls


def test_screenshots_are_full_page_pngs_at_each_width(clean, tmp_path):
    shots = browser.screenshots(clean, tmp_path / "shots")
    assert sorted(shots) == [320, 375, 1280]
    for width, png in shots.items():
        with Image.open(png) as image:
            assert image.format == "PNG" and image.width == width
            # Not blank: the page's dark blue banner (#036) is in the picture.
            assert (0, 51, 102) in {c for _, c in image.convert("RGB").getcolors(1 << 16)}


def test_visible_text_leaves_out_hidden_text(clean):
    text = browser.visible_text(clean)
    assert "Readable words." in text and "No faults" in text
    assert "Hidden words" not in text


def test_no_chromium_skips_locally_and_fails_in_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-such-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium is not installed"):
        browser.require_chromium()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must install it"):
        browser.require_chromium()
