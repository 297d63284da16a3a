"""The add-in's task pane, served by `planvalidator serve`, in headless Chromium: readable at
an Excel task pane's width and at 320 px, and free of WCAG 2.1 A/AA violations (axe-core) in
each state the server can put it in. Only office.js is stubbed (browser.taskpane); what the
pane shows is what the server answered a real Validate or Submit (taskpane_shots.STATES)."""

from __future__ import annotations

import pytest

import browser
from taskpane_shots import PANE, STATES, answers, shoot

SHOWS = {"opened": "Click Validate", "validated": "4 errors", "refused": "Not submitted",
         "submitted": "Fingerprint (SHA-256)"}


@pytest.fixture(scope="module")
def shown(server):
    return answers(server)


@pytest.mark.parametrize("state", list(STATES))
def test_the_task_pane_has_no_wcag_a_or_aa_violations(server, shown, state):
    url, staging = browser.taskpane(str(server.base_url), shown[state])
    result = browser.check(url, views=[(PANE, 1), (browser.NARROW, 1)], axe=True, text=True,
                           **staging)
    assert SHOWS[state] in result.text      # the state asked for, not a page that failed
    assert result.violations == [], browser.summary(result.violations)
    for view in result.views:
        assert not view.scrolls, (view.width, view.widest)


def test_the_docs_screenshot_script_draws_the_pane(server, shown, tmp_path):
    png = shoot(str(server.base_url), shown["submitted"], tmp_path / "submitted.png")
    from PIL import Image
    with Image.open(png) as image:
        assert image.width == PANE and image.height > 300
        # Bootstrap's success alert (#d1e7dd) holds the receipt.
        assert (209, 231, 221) in {c for _, c in image.convert("RGB").getcolors(1 << 16)}
