"""The add-in's task pane, served by `planvalidator serve`, in headless Chromium: readable at
an Excel task pane's width and free of WCAG 2.1 A/AA violations (axe-core) in each state the
server can put it in. Only office.js is stubbed (browser.taskpane); what the pane shows is what
the server answered a real Validate or Submit."""

from __future__ import annotations

from pathlib import Path

import pytest

import browser
import officejs
from serving import INCLUDE, TOKENS, actions, call, shown

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PANE = 350          # Excel's default task pane width, in CSS px
PHONE = browser.NARROW


def answer(server, script, example, token):
    body = officejs.payload(EXAMPLES / example, INCLUDE)
    return shown(actions(call(server, script, body, token)))


@pytest.fixture(scope="module")
def states(server):
    """What the server hands the pane: nothing yet, a Validate with findings, a Submit refused
    for its errors, a Submit with its receipt."""
    return {
        "opened": None,
        "validated": answer(server, "validate", "dpw-plan-fy2028-missing-targets.xlsx",
                            TOKENS["DPW"]),
        "refused": answer(server, "submit", "dpw-plan-fy2028-missing-targets.xlsx",
                          TOKENS["DPW"]),
        "submitted": answer(server, "submit", "bcfd-plan-fy2028-clean.xlsx", TOKENS["BCFD"]),
    }


@pytest.mark.parametrize("state", ["opened", "validated", "refused", "submitted"])
def test_the_task_pane_has_no_wcag_a_or_aa_violations(server, states, state):
    url, staging = browser.taskpane(str(server.base_url), states[state])
    result = browser.check(url, views=[(PANE, 1), (PHONE, 1)], axe=True, text=True, **staging)
    # The pane shows the state asked for, not a page that failed to load.
    expected = {"opened": "Click Validate", "validated": "4 errors",
                "refused": "Not submitted", "submitted": "Fingerprint (SHA-256)"}[state]
    assert expected in result.text
    assert result.violations == [], browser.summary(result.violations)
    for view in result.views:
        assert not view.scrolls, (view.width, view.widest)
