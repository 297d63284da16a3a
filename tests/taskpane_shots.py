"""The add-in's task pane in headless Chromium (tests/browser.py), for docs screenshots and the
task pane's accessibility test.

    .venv/bin/python tests/taskpane_shots.py docs/

starts `planvalidator serve` on 127.0.0.1 with a fresh store and writes taskpane-<state>.png
for each state in STATES. The pane is the one the server serves, run by Chromium with
xlwings-server's real client and our main.js; only Excel is a stand-in: office.js is replaced
by tests/js/fake_excel.mjs (the in-memory workbook run_client.mjs uses) holding an example
workbook. A state is reached by clicking the pane's button, so the request, the server's
answer (or refusal) and what the pane makes of it are all real. A new state (e.g. after Get
my plan) is one more entry in STATES.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import browser   # noqa: E402  (tests/ is not a package)
from serving import OFFICE, TOKENS, running  # noqa: E402
from test_officejs_client import workbook_spec  # noqa: E402

EXAMPLES = HERE.parent / "examples"
PANE = 350      # Excel's default task pane width, in CSS px
OFFICE_JS = r"/static/vendor/office-js/.*/office\.js"
REQUIREMENT_SETS = {"ExcelApi": "1.18", "SharedRuntime": "1.1", "DialogApi": "1.2",
                    "RibbonApi": "1.1", "ExcelApiOnline": "1.1"}

# state → (button clicked, example workbook, the token saved in the pane); None: as it opens
# the first time, without a token (so the token form is open and checked too).
STATES = {
    "opened": None,
    "validated": ("validate", "dpw-plan-fy2028-missing-targets.xlsx", TOKENS["DPW"]),
    "refused": ("submit", "dpw-plan-fy2028-missing-targets.xlsx", TOKENS["DPW"]),
    "unauthorised": ("submit", "bcfd-plan-fy2028-clean.xlsx", "not-a-token-" + "z" * 20),
    "submitted": ("submit", "bcfd-plan-fy2028-clean.xlsx", TOKENS["BCFD"]),
}
OPENED_WITH = ("bcfd-plan-fy2028-clean.xlsx", "")


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


def click(button: str) -> str:
    """Clicks the pane's button and waits until it is enabled again (main.js disables it while
    the request runs), then for the page to settle."""
    return f"""(async () => {{
  const button = document.querySelector('[data-pv-script="{button}"]');
  for (let i = 0; i < 500 && !globalThis.callbacks?.planvalidatorShow; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  button.click();
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 0; i < 1500 && button.disabled; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  await new Promise((resolve) => setTimeout(resolve, 200));
}})()"""


def staged(server_url: str, state: str) -> tuple[str, dict]:
    """The task pane's URL and the staging (browser.check's keywords) that brings it to
    `state`."""
    button, example, token = STATES[state] or (None, *OPENED_WITH)
    return (server_url.rstrip("/") + "/taskpane.html",
            {"replace": {OFFICE_JS: fake_office(EXAMPLES / example, token)},
             "after": click(button) if button else None, "wait_for": "#pv-status"})


def shoot(server_url: str, state: str, out: Path, width: int = PANE) -> Path:
    """One full-height PNG of the pane in `state`, reduced to 64 colours (docs stay small)."""
    url, staging = staged(server_url, state)
    with tempfile.TemporaryDirectory() as tmp:
        [png] = browser.screenshots(url, tmp, widths=(width,), **staging).values()
        with Image.open(png) as image:
            image.convert("RGB").quantize(64, dither=Image.Dither.NONE).save(out, optimize=True)
    return out


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home, running(Path(home), TOKENS, OFFICE) as url:
        for state in STATES:
            print(shoot(url, state, out_dir / f"taskpane-{state}.png"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
