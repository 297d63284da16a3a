"""The add-in's task pane in headless Chromium (tests/browser.py): the pictures in
docs/addin.md and the states tests/test_browser_taskpane.py checks.

    .venv/bin/python tests/taskpane_shots.py docs/

starts `planvalidator serve` on 127.0.0.1 with a fresh store, publishes DOT's FY2027 Plan to it
(publish) and writes taskpane-<state>.png for each state in STATES. The pane is the one the
server serves, run by Chromium with xlwings-server's real client and our main.js and
agency.js; only Excel is a stand-in: office.js is replaced by tests/js/fake_excel.mjs (the
in-memory workbook run_client.mjs uses) holding a workbook. A state is reached by clicking the
pane's buttons, so the requests, the server's answers (or refusals) and what the pane makes of
them are all real. Chromium runs in the city's time zone (TZ), as the analyst's PC does.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from pathlib import Path

import httpx
from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import browser   # noqa: E402  (tests/ is not a package)
import officejs  # noqa: E402
from plans import fy2027_plans  # noqa: E402
from serving import INCLUDE, OFFICE, TOKENS, actions, call, running, shown  # noqa: E402
from test_officejs_client import workbook_spec  # noqa: E402

EXAMPLES = HERE.parent / "examples"
TEMPLATES = HERE.parent / "templates"
PANE = 350      # Excel's default task pane width, in CSS px
OFFICE_JS = r"/static/vendor/office-js/.*/office\.js"
CITY = "America/New_York"   # the server's default time zone; Chromium runs in it (TZ)
REQUIREMENT_SETS = {"ExcelApi": "1.18", "SharedRuntime": "1.1", "DialogApi": "1.2",
                    "RibbonApi": "1.1", "ExcelApiOnline": "1.1"}

# state → (the buttons clicked, in order; the workbook open in Excel; the token saved in the
# pane). "opened" is the pane as it opens the first time, without a token (the token form is
# checked too). "got-plan" needs DOT's FY2027 Plan in the store: publish() puts it there.
FY2027 = EXAMPLES / "fy2027"
STATES = {
    "opened": ((), EXAMPLES / "bcfd-plan-fy2028-clean.xlsx", ""),
    "got-plan": (("get_my_plan",), TEMPLATES / "plan-template-fy2027.xlsx", TOKENS["DOT"]),
    "validated": (("validate",), FY2027 / "dot-midyear-fy2027-missing-actuals.xlsx",
                  TOKENS["DOT"]),
    "refused": (("submit",), EXAMPLES / "dpw-plan-fy2028-missing-targets.xlsx", TOKENS["DPW"]),
    "unauthorised": (("submit",), EXAMPLES / "bcfd-plan-fy2028-clean.xlsx",
                     "not-a-token-" + "z" * 20),
    "submitted": (("submit", "#pv-submissions-load"), EXAMPLES / "bcfd-plan-fy2028-clean.xlsx",
                  TOKENS["BCFD"]),
}

def fake_office(workbook: Path, token: str) -> str:
    """office.js for the page: fake_excel.mjs as a classic script (its exports made local),
    installed as the Excel and Office globals, holding `workbook`; `token` saved."""
    source = re.sub(r"^export ", "", (HERE / "js" / "fake_excel.mjs").read_text("utf-8"),
                    flags=re.M)
    return f"""(function () {{
  window.setImmediate = window.setImmediate || ((f, ...a) => setTimeout(f, 0, ...a));
  {source}
  new FakeExcelHost({json.dumps(workbook_spec(workbook))},
                    {{ origin: location.origin, requirementSets: {json.dumps(REQUIREMENT_SETS)} }})
    .install(window);
  localStorage.setItem("planvalidator.token", {json.dumps(token)});
}})();"""


def click(*buttons: str) -> str:
    """Clicks each button in turn (a name is the pane's data-pv-script button, else a CSS
    selector), waiting until it is enabled again (the pane disables it while the request
    runs), then for the page to settle."""
    selectors = [b if b.startswith("#") else f'[data-pv-script="{b}"]' for b in buttons]
    return f"""(async () => {{
  const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  for (let i = 0; i < 500 && !globalThis.callbacks?.planvalidatorShow; i++) await pause(20);
  for (const selector of {json.dumps(selectors)}) {{
    const button = document.querySelector(selector);
    button.click();
    await pause(50);
    for (let i = 0; i < 1500 && button.disabled; i++) await pause(20);
    await pause(200);
  }}
}})()"""


def staged(server_url: str, state: str) -> tuple[str, dict]:
    """The task pane's URL and the staging (browser.check's keywords) that brings it to
    `state`."""
    buttons, workbook, token = STATES[state]
    return (server_url.rstrip("/") + "/taskpane.html",
            {"replace": {OFFICE_JS: fake_office(workbook, token)},
             "after": click(*buttons) if buttons else None, "wait_for": "#pv-status"})


def publish(server_url: str, home: Path) -> None:
    """What the office has published before the pictures: DOT's FY2027 Plan, accepted in the
    store (Get my plan fills the template from it), as tests/test_twoway_cycle.py does."""
    plan = fy2027_plans(home / "plans") / "dot-plan-fy2027.xlsx"
    with httpx.Client(base_url=server_url, timeout=60) as client:
        assert shown(actions(call(client, "submit", officejs.payload(plan, INCLUDE),
                                  TOKENS["DOT"])))["receipt"]


def shoot(server_url: str, state: str, out: Path) -> browser.Check:
    """The pane in `state` at a task pane's width (saved as a full-height PNG at `out`, reduced
    to 64 colours so docs stay small) and at 320 px; the text shown and axe-core's violations
    are of the first."""
    url, staging = staged(server_url, state)
    with tempfile.TemporaryDirectory() as tmp:
        result = browser.check(url, views=[(PANE, 1), (browser.NARROW, 1)], shots=True,
                               out_dir=tmp, axe=True, text=True, **staging)
        with Image.open(result.views[0].png) as image:
            image.convert("RGB").quantize(64, dither=Image.Dither.NONE).save(out, optimize=True)
    return result


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["TZ"] = CITY
    with tempfile.TemporaryDirectory() as home, running(Path(home), TOKENS, OFFICE) as url:
        publish(url, Path(home))
        for state in STATES:
            out = out_dir / f"taskpane-{state}.png"
            result = shoot(url, state, out)
            print(out, *(["axe:", browser.summary(result.violations)] if result.violations
                         else []))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
