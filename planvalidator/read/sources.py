"""Which files a command reads: files, folders and glob patterns → plan workbooks.

One collector for `validate`, `merge` and `sync`, so that a folder or a quoted glob (cmd and
PowerShell don't expand `*`) means the same everywhere. A folder is not searched recursively.
From a folder or a glob, every `.xlsx` is taken whatever the letter case of its extension
(`.XLSX` from Windows); the other spreadsheet-like files there are not read, and each is named
with the reason, so that nothing is skipped in silence. A file named on its own is always read
(and refused with a plain sentence if it is not a workbook).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import MergeError

__all__ = ["Collected", "collect", "collect_sources"]

# Spreadsheet-like files a folder may hold besides the plans: why each is not read.
NOT_READ = {
    ".xlsm": "a macro-enabled workbook (.xlsm); save it as an Excel Workbook (.xlsx) to include it",
    ".xlsb": "a binary workbook (.xlsb); save it as an Excel Workbook (.xlsx) to include it",
    ".xls": "an Excel 97-2003 workbook (.xls); save it as an Excel Workbook (.xlsx) to include it",
    ".ods": "an OpenDocument spreadsheet (.ods); save it as an Excel Workbook (.xlsx) to "
            "include it",
    ".csv": "a CSV file, not a plan workbook (plans are .xlsx templates)",
}
LOCK_FILE = "Excel's lock file for a workbook that is open (close the workbook in Excel)"


@dataclass
class Collected:
    paths: list[Path] = field(default_factory=list)   # to read: in the order named, unique
    not_read: list[tuple[Path, str]] = field(default_factory=list)   # (file, why), sorted


def _why_not(path: Path) -> str | None:
    """None: a workbook to read; else why a file found in a folder or by a glob is not read
    (or "" for a file that is no spreadsheet at all, passed over without a word)."""
    if path.name.startswith("~$"):
        return LOCK_FILE
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return None
    return NOT_READ.get(suffix, "")


def _any_case(pattern: str) -> str:
    """A glob pattern ending in .xlsx that matches .XLSX (and .Xlsx) too."""
    if pattern.lower().endswith(".xlsx"):
        return pattern[:-5] + "." + "".join(f"[{c.lower()}{c.upper()}]" for c in "xlsx")
    return pattern


def collect(specs: Iterable[str | Path]) -> Collected:
    """Files, folders (their .xlsx files) and glob patterns → the files to read and the
    spreadsheet-like files not read. Raises MergeError when a spec finds no workbook at all."""
    paths: dict[Path, None] = {}   # ordered: files as named, a folder's or glob's by name
    not_read: dict[Path, str] = {}
    for spec in specs:
        spec = str(spec)
        p = Path(spec)
        if p.is_file():
            paths.setdefault(p.resolve())
            continue
        if p.is_dir():
            found = _files_in(p)
        elif not glob.has_magic(spec):
            raise MergeError(f"{spec}: there is no such file or folder.")
        else:
            found = {Path(f): Path(f).resolve() for f in glob.glob(_any_case(spec), recursive=True)
                     if Path(f).is_file()}
        taken = 0
        for f in sorted(found):
            why = _why_not(f)
            if why is None:
                paths.setdefault(found[f])
                taken += 1
            elif why:
                not_read[found[f]] = why
        if not taken:
            skipped = "; ".join(f"{f.name}: {not_read[found[f]]}" for f in sorted(found)
                                if found[f] in not_read)
            raise MergeError(f"No plan workbooks (.xlsx) found at '{spec}'."
                             + (f" Not read: {skipped}." if skipped else ""))
    return Collected(list(paths), sorted((f, why) for f, why in not_read.items()
                                           if f not in paths))


def _files_in(folder: Path) -> dict[Path, Path]:
    """A folder's files → their real paths. A file that is no link is the real folder's file of
    that name, known from the listing: resolving each one (a system call per part of its path)
    cost a 6,000-file merge a quarter of a second. A link is followed as Path follows it (one
    that leads nowhere is no file)."""
    real = folder.resolve()
    found = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            path = folder / entry.name
            if not entry.is_symlink():
                if entry.is_file():
                    found[path] = real / entry.name
            elif path.is_file():
                found[path] = path.resolve()
    return found


def collect_sources(specs: Iterable[str | Path]) -> list[Path]:
    """The files to read (see `collect`), sorted."""
    return sorted(collect(specs).paths)
