"""The add-in's task pane, served by `planvalidator serve`, in headless Chromium with
xlwings-server's real client and a stand-in Excel (taskpane_shots.py): readable at a task
pane's width and at 320 px, and free of WCAG 2.1 A/AA violations (axe-core) in each state a
click can put it in."""

from __future__ import annotations

import pytest
from PIL import Image

import browser
from taskpane_shots import PANE, STATES, shoot, staged

# What the pane says in each state: the server's answer reached it.
SHOWS = {"opened": "Click Validate", "validated": "4 errors, 0 warnings",
         "refused": "Not submitted", "unauthorised": "The token was not accepted",
         "submitted": "Fingerprint (SHA-256)"}


@pytest.mark.parametrize("state", list(STATES))
def test_the_task_pane_has_no_wcag_a_or_aa_violations(server, state):
    url, staging = staged(str(server.base_url), state)
    result = browser.check(url, views=[(PANE, 1), (browser.NARROW, 1)], axe=True, text=True,
                           **staging)
    assert SHOWS[state] in result.text
    assert result.violations == [], browser.summary(result.violations)
    for view in result.views:
        assert not view.scrolls, (view.width, view.widest)


def test_the_docs_screenshot_script_draws_the_pane_after_submit(server, tmp_path):
    png = shoot(str(server.base_url), "submitted", tmp_path / "submitted.png")
    with Image.open(png) as image:
        assert image.width == PANE and image.height > 300
        # Bootstrap's success alert (#d1e7dd) holds the receipt.
        assert (209, 231, 221) in {c for _, c in image.convert("RGB").getcolors(1 << 16)}
