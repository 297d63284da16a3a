"""A folder written whole, then swapped in: a web host serving `site/` finds the old site or the
new one, never half of one (output/atomic.py does the same for single files).

The new site is written into a temporary folder beside the target; on success the two are
exchanged with one rename (Linux renameat2 RENAME_EXCHANGE; elsewhere two renames, with a
moment in between where the folder is absent but never partial) and the old one is removed.
On any failure the temporary folder is removed and the target is untouched. A folder that
publish did not write is never replaced: its files are not ours to delete.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ..errors import PlanValidatorError

GENERATOR = '<meta name="generator" content="planvalidator publish">'
AT_FDCWD, RENAME_EXCHANGE = -100, 2


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


@contextmanager
def new_folder(target: Path):
    """Yield an empty temporary folder beside `target`; swap it in when the block ends well."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".new"))
    try:
        os.chmod(tmp, 0o755)   # published: readable by the web server
        yield tmp
        _swap_in(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)   # the failed new site, or the old one swapped out


def _swap_in(new: Path, target: Path) -> None:
    if not target.exists():
        os.rename(new, target)
        return
    if not _exchange(new, target):
        old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".old"))
        os.rename(target, old / "site")
        os.rename(new, target)
        os.rename(old / "site", new)   # removed by new_folder
        old.rmdir()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False where the system can't."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))
