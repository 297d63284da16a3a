"""Screenshots of the add-in's task pane for docs/, in headless Chromium (tests/browser.py).

    .venv/bin/python tests/taskpane_shots.py docs/

starts `planvalidator serve` on 127.0.0.1 with a fresh store, sends it a real Validate and
Submit (xlwings' Office.js payloads of the bundled examples), hands each answer to the pane as
xlwings' client does, and writes taskpane-<state>.png for each state in STATES. A new state
(e.g. after Get my plan) is one more entry there.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import httpx
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent))

import browser   # noqa: E402  (tests/ is not a package)
import officejs  # noqa: E402
from serving import INCLUDE, OFFICE, TOKENS, actions, call, running, shown  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PANE = 350      # Excel's default task pane width, in CSS px

# state → (script, example, agency) the server is asked; None: the pane as it opens.
STATES = {
    "opened": None,
    "validated": ("validate", "dpw-plan-fy2028-missing-targets.xlsx", "DPW"),
    "refused": ("submit", "dpw-plan-fy2028-missing-targets.xlsx", "DPW"),
    "submitted": ("submit", "bcfd-plan-fy2028-clean.xlsx", "BCFD"),
}


def answers(client: httpx.Client) -> dict[str, dict | None]:
    """What the server hands the pane in each state (the planvalidatorShow callback's data)."""
    result = {}
    for state, asked in STATES.items():
        if asked is None:
            result[state] = None
            continue
        script, example, agency = asked
        body = officejs.payload(EXAMPLES / example, INCLUDE)
        result[state] = shown(actions(call(client, script, body, TOKENS[agency])))
    return result


def shoot(server_url: str, shown_data: dict | None, out: Path, width: int = PANE) -> Path:
    """One full-height PNG of the pane, reduced to 64 colours (docs stay small)."""
    url, staging = browser.taskpane(server_url, shown_data)
    with tempfile.TemporaryDirectory() as tmp:
        [png] = browser.screenshots(url, tmp, widths=(width,), **staging).values()
        with Image.open(png) as image:
            image.convert("RGB").quantize(64, dither=Image.Dither.NONE).save(out, optimize=True)
    return out


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as home, \
            running(Path(home), TOKENS, OFFICE) as url, \
            httpx.Client(base_url=url, timeout=60) as client:
        for state, data in answers(client).items():
            print(shoot(url, data, out_dir / f"taskpane-{state}.png"))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
