"""The add-in's task pane, served by `planvalidator serve`, in headless Chromium with
xlwings-server's real client and a stand-in Excel (taskpane_shots.py, the script that draws
docs/taskpane-*.png): in each state a click puts it in, the PNG is drawn, the pane says what
the state should say (its visible text, not pixels), fits a task pane's width and 320 px, and
has no WCAG 2.1 A/AA violations (axe-core)."""

from __future__ import annotations

import re

import pytest
from PIL import Image

import browser
from taskpane_shots import CITY, PANE, STATES, publish, shoot

# What the pane says in each state: the server's answer reached it.
SHOWS = {
    "opened": ["Click Validate"],
    "got-plan": ["Your plan is filled in.", "FY2027 plan of DOT, Mid-Year Update: 4 services",
                 "Targets are locked"],
    "validated": ["4 errors, 2 warnings, 0 info findings."],
    "refused": ["Not submitted: fix the errors below"],
    "unauthorised": ["The token was not accepted"],
    "submitted": ["Submitted: FY2028 plan of BCFD", "FY2028 submission(s) of BCFD",
                  "· Plan · accepted"],
}
# main.js's COMMANDS' busy lines: none may outlast its request, refused or not.
BUSY = ("Checking the plan…", "submitting the plan…", "Getting your plan…",
        "Clearing the highlights…")
TIME = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [A-Z]{3,4}"


@pytest.fixture(scope="module")
def office(server, tmp_path_factory):
    publish(str(server.base_url), tmp_path_factory.mktemp("published"))
    return server


@pytest.mark.parametrize("state", list(STATES))
def test_the_task_pane_says_what_each_state_should(office, state, tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", CITY)      # Chromium's local time: the analyst's PC in the city
    result = shoot(str(office.base_url), state, tmp_path / f"taskpane-{state}.png")
    for words in SHOWS[state]:
        assert words in result.text, result.text
    assert not any(busy in result.text for busy in BUSY), result.text
    assert result.violations == [], browser.summary(result.violations)
    for view in result.views:
        assert not view.scrolls, (view.width, view.widest)
    with Image.open(tmp_path / f"taskpane-{state}.png") as image:
        assert image.width == PANE and image.height > 300


def test_after_submit_the_receipt_and_my_submissions_give_one_time(office, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setenv("TZ", CITY)
    text = shoot(str(office.base_url), "submitted", tmp_path / "submitted.png").text
    [received] = re.findall(rf"Received: ({TIME})\n", text)
    assert re.search(rf"^{re.escape(received)} · Plan · accepted$", text, re.M), text
