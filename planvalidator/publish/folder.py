"""The folder publish writes: a web host serving `site/` finds the old site or the new one, never
half of one, because the site is written whole and swapped in (output/atomic.StagedFolder, which
also removes what a killed publish left). A folder that publish did not write is never
replaced: its files are not ours to delete.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import PlanValidatorError

GENERATOR = '<meta name="generator" content="planvalidator publish">'


class PublishError(PlanValidatorError):
    """The site can't be published (output folder not ours, no Chromium for --pdf, ...)."""


def check_target(target: Path, inputs: tuple[Path, ...] = ()) -> None:
    """Refuse a target that is a file, holds files publish did not write, or holds an input."""
    if target.exists() and not target.is_dir():
        raise PublishError(f"{target} is a file; publish writes a folder: give -o a folder name.")
    for path in inputs:
        if target.resolve() in path.resolve().parents:
            raise PublishError(f"{path} is inside {target}, which publish replaces; write the "
                               f"site to another folder.")
    if target.is_dir() and any(target.iterdir()) and not _ours(target):
        raise PublishError(f"{target} holds files that publish did not write; give -o a new or "
                           f"empty folder (or a site published before).")


def _ours(folder: Path) -> bool:
    index = folder / "index.html"
    try:
        return GENERATOR in index.read_text(encoding="utf-8", errors="replace")[:2000]
    except OSError:
        return False
