"""Printable reports: headless Chromium prints the site's own pages (their print stylesheet:
page breaks between services, repeated table headers, the plan's name and page numbers in the
@page margin boxes, which Chromium supports from version 131).

Each page is printed by its own Chromium process with a fresh profile, two at a time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .folder import PublishError

NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
ENV = "PLANVALIDATOR_CHROMIUM"
FLAGS = ("--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-pdf-header-footer")
TIMEOUT = 120   # seconds for one page: a hung browser must not hang the publish


def find_chromium() -> str:
    """The browser: $PLANVALIDATOR_CHROMIUM, else the first of NAMES on the PATH."""
    given = os.environ.get(ENV)
    found = shutil.which(given) if given else next(filter(None, map(shutil.which, NAMES)), None)
    if not found:
        raise PublishError(
            "--pdf prints the pages with headless Chromium, which was not found"
            + (f" at {given}" if given else " on the PATH")
            + ": install it (Debian: apt-get install chromium) or set PLANVALIDATOR_CHROMIUM "
              "to the browser's path.")
    return found


def print_pdfs(folder: Path, pages: list[tuple[str, str]], browser: str, jobs: int = 2) -> None:
    """Print each (page, pdf) of `folder` (names relative to it) with headless Chromium."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(lambda pair: _print(folder, *pair, browser), pages))


def _print(folder: Path, page: str, pdf: str, browser: str) -> None:
    out = folder / pdf
    out.parent.mkdir(parents=True, exist_ok=True)
    flags = list(FLAGS) + (["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else [])
    with tempfile.TemporaryDirectory(prefix="planvalidator-chromium-") as profile:
        try:
            done = subprocess.run(
                [browser, *flags, f"--user-data-dir={profile}", f"--print-to-pdf={out}",
                 (folder / page).resolve().as_uri()],
                capture_output=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise PublishError(f"Chromium did not print {page} within {TIMEOUT} seconds.") from None
        except OSError as e:
            raise PublishError(f"Chromium ({browser}) could not be started: {e.strerror}.") from None
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no message"]
        raise PublishError(f"Chromium could not print {page} (exit {done.returncode}): {said[0]}")
