"""Pages in headless Chromium for the tests: screenshots, horizontal scrolling, axe-core, text.

One function per question, each taking a page (an http(s):// URL, a file:// URL or a Path):

    screenshots(page, out_dir)      -> {1280: Path, 375: Path, 320: Path}   (full-page PNGs)
    overflow(page, width=320)       -> View: scroll_width vs client_width, .scrolls, .widest
    zoomed_overflow(page)           -> View of a 1280 px window at 200% zoom (640 CSS px)
    axe_violations(page)            -> [{id, impact, help, tags, nodes}], WCAG 2.0/2.1 A and AA
    visible_text(page)              -> document.body.innerText (hidden text left out)

Each starts Chromium once (seconds on a busy machine); `check(page, views=..., axe=True,
text=True)` answers several questions in one start, e.g. all a public page is asked:

    result = check(page, views=ACCEPTANCE, shots=True, out_dir=tmp_path, axe=True, text=True)
    assert result.violations == [], summary(result.violations)
    assert not any(view.scrolls for view in result.views)

Keyword arguments `wait_for` (a CSS selector), `replace` ({URL regex: JavaScript served
instead}) and `after` (JavaScript run after load; a returned promise is awaited) let a test
stage a page, e.g. the add-in's task pane outside Excel (tests/taskpane_shots.py).

200% zoom is emulated as browser zoom lays a page out: the window's width in half as many CSS
pixels at a devicePixelRatio of 2 (1280 px → 640 CSS px), not with CSS `zoom`.

The work is done by tests/js/page_check.mjs: puppeteer-core driving Debian's chromium (never a
bundled browser) and axe-core, both pinned in tests/js/package-lock.json (`npm ci` in tests/js;
.ci/run does it). Without Chromium the calling test is skipped, except in CI (CI=true), where
that is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

JS = Path(__file__).resolve().parent / "js"
SCRIPT = JS / "page_check.mjs"
DESKTOP, PHONE, NARROW = 1280, 375, 320
WIDTHS = (DESKTOP, PHONE, NARROW)
# (window width, zoom): desktop, phones, and a desktop window zoomed to 200%.
ACCEPTANCE = ((DESKTOP, 1), (PHONE, 1), (NARROW, 1), (DESKTOP, 2))
TIMEOUT = 180   # seconds for one Chromium run; generous, the machine is shared


@dataclass(frozen=True)
class View:
    """The page in a window `width` px wide at `zoom`: the document's width against the
    viewport's (CSS px), the elements reaching furthest past its right edge, the screenshot."""
    width: int
    zoom: int
    scroll_width: int
    client_width: int
    widest: list[dict]
    png: Path | None = None

    @property
    def scrolls(self) -> bool:
        """True when the page scrolls sideways (WCAG 1.4.10 asks it not to at 320 px)."""
        return self.scroll_width > self.client_width


@dataclass(frozen=True)
class Check:
    views: list[View]
    violations: list[dict] | None
    text: str | None


def require_chromium() -> str:
    """Debian's chromium ($CHROMIUM or `chromium` on PATH); skips the test when it is absent,
    fails it in CI. Node.js and tests/js/node_modules are required outright."""
    exe = shutil.which(os.environ.get("CHROMIUM", "chromium"))
    if exe is None:
        reason = "Chromium is not installed (Debian: apt-get install -y chromium)"
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(reason + "; CI must install it (.ci/run does)")
        pytest.skip(reason)
    if shutil.which("node") is None:
        pytest.fail("These tests need Node.js (Debian: apt-get install -y nodejs).")
    if not (JS / "node_modules" / "puppeteer-core").is_dir():
        pytest.fail("puppeteer-core and axe-core are not installed: run `npm ci` in tests/js.")
    return exe


def check(page, *, views=((DESKTOP, 1),), shots=False, out_dir=None, axe=False, text=False,
          wait_for=None, replace=None, after=None) -> Check:
    """Opens `page` once per (width, zoom) in `views`; axe and text are taken in the first.
    With `shots`, each view is saved as a full-page PNG in `out_dir`."""
    spec = {"url": _url(page), "chromium": require_chromium(),
            "views": [{"width": w, "zoom": z, "shot": shots} for w, z in views],
            "outDir": str(out_dir) if out_dir else None, "axe": axe, "text": text,
            "waitFor": wait_for, "replace": replace, "after": after}
    proc = subprocess.run(["node", str(SCRIPT)], input=json.dumps(spec), capture_output=True,
                          text=True, cwd=JS, timeout=TIMEOUT)
    if proc.returncode != 0:
        raise AssertionError(f"page_check.mjs failed on {spec['url']}:\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout)
    return Check(
        views=[View(v["width"], v["zoom"], v["scrollWidth"], v["clientWidth"], v["widest"],
                    Path(v["png"]) if v.get("png") else None) for v in report["views"]],
        violations=report["violations"], text=report["text"])


def screenshots(page, out_dir, widths=WIDTHS, **staging) -> dict[int, Path]:
    """Full-page PNGs at each width, named <width>.png in `out_dir`."""
    result = check(page, views=[(w, 1) for w in widths], shots=True, out_dir=out_dir, **staging)
    return {v.width: v.png for v in result.views}


def overflow(page, width=NARROW, zoom=1, **staging) -> View:
    [view] = check(page, views=[(width, zoom)], **staging).views
    return view


def zoomed_overflow(page, window=DESKTOP, **staging) -> View:
    """A `window` px wide window zoomed to 200%."""
    return overflow(page, window, 2, **staging)


def axe_violations(page, width=DESKTOP, **staging) -> list[dict]:
    """axe-core's violations of WCAG 2.0 and 2.1, levels A and AA."""
    return check(page, views=[(width, 1)], axe=True, **staging).violations


def visible_text(page, width=DESKTOP, zoom=1, **staging) -> str:
    return check(page, views=[(width, zoom)], text=True, **staging).text


def summary(violations: list[dict]) -> str:
    """One line per violation and element, for assertion messages."""
    return "\n".join(f"{v['id']} ({v['impact']}): {' '.join(map(str, n['target']))}: {v['help']}"
                     for v in violations for n in v["nodes"])


def _url(page) -> str:
    return page.resolve().as_uri() if isinstance(page, Path) else str(page)

