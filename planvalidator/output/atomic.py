"""Writing outputs: atomically (temp file + fsync + rename) and workbooks deterministically
(same content, same bytes). Every file planvalidator writes goes through write_atomic; a set of
files that belong together (open data) is written into a temporary folder swapped in whole.

A temporary file or folder is named `.<name>.<8 random letters>.tmp` (as tempfile names them)
beside its target and locked
(flock) while it is being written, so a later run can tell one left by a killed process (no
lock, not new) from one a concurrent run is writing, and removes only the former.

openpyxl stamps docProps with the current time and each zip entry with the clock; both are
pinned here, so a generated template or a consolidated plan can be compared byte for byte.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import io
import os
import re
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl.writer.excel import ExcelWriter

from ..errors import PlanValidatorError

try:
    import fcntl
except ImportError:  # Windows: a file being written can't be deleted anyway
    fcntl = None

FIXED_TIMESTAMP = datetime(2000, 1, 1)
AT_FDCWD, RENAME_EXCHANGE = -100, 2   # renameat2's
STALE_AFTER = 60   # seconds: a temporary file younger than this may still be getting its lock


class WriteError(PlanValidatorError):
    """An output could not be written. Raised as a subclass of the OSError that stopped it
    (FileNotFoundError, PermissionError, ...), whose filename is the file asked for, never the
    temporary file; str() is one sentence, without an errno."""

    def __str__(self):
        folder = Path(self.filename).parent
        if self.errno == errno.ENOENT and not folder.is_dir():
            return f"Cannot write {self.filename}: the folder {folder} does not exist."
        return f"Cannot write {self.filename}: {self.strerror}."


@functools.cache
def _write_error(kind: type[OSError]) -> type:
    return type("WriteError", (WriteError, kind), {})


def write_atomic(path, data: bytes, *, exclusive: bool = False, mode: int | None = None) -> bool:
    """Write `data` to `path` so that a reader finds the old file or the new one, never a part of
    one, even after a crash: a temporary file in the same folder is written, flushed and fsynced,
    then renamed over `path`. With exclusive=True it is linked instead, which fails rather than
    replace a file: then nothing is written and the answer is False. The temporary file never
    stays behind. `mode` defaults to the replaced file's, or 0o644. A failure is a WriteError."""
    staged = StagedFile(path, data, mode)
    try:
        return staged.commit(exclusive)
    finally:
        staged.discard()


class StagedFile:
    """`data` written and fsynced under a temporary name beside `path`, put in place by commit()
    (or removed by discard()), so that another output can be finished in between."""

    def __init__(self, path, data: bytes, mode: int | None = None):
        self.path = Path(path)
        self.tmp = None
        self._fd = None
        with self._as_write_error():
            if mode is None:   # mkstemp makes it 0o600
                mode = self.path.stat().st_mode & 0o777 if self.path.exists() else 0o644
            remove_stale(self.path)
            self._fd, self.tmp = tempfile.mkstemp(dir=self.path.parent,
                                                  prefix=f".{self.path.name}.", suffix=".tmp")
            _lock(self._fd)   # held until the file is closed, by us or by the kernel as we die
            os.chmod(self.tmp, mode)
            with os.fdopen(self._fd, "wb", closefd=False) as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())

    def commit(self, exclusive: bool = False) -> bool:
        with self._as_write_error():
            if exclusive:
                try:
                    os.link(self.tmp, self.path)
                except FileExistsError:
                    return False
            else:
                os.replace(self.tmp, self.path)
                self.tmp = None
            _fsync_dir(self.path.parent)   # the rename itself survives a crash
        return True

    def discard(self) -> None:
        """Remove the temporary file (after a link or a failure; nothing after a rename)."""
        if self.tmp is not None:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass
            self.tmp = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    @contextlib.contextmanager
    def _as_write_error(self):
        try:
            yield
        except OSError as e:
            self.discard()
            raise _write_error(type(e))(e.errno, e.strerror, str(self.path)) from e


class StagedFolder:
    """A folder written in full under a temporary name, then swapped in for `path` (commit) or
    removed (discard): a reader finds the old folder's files or the new ones, never a mix.

    The swap is one exchange of the two names (Linux renameat2 RENAME_EXCHANGE); elsewhere it is
    two renames (the old folder aside, the new one in), so a crash between them leaves no folder
    at `path` rather than a mixed one. The next write removes what a killed run left. With
    carry_over, files of the old folder that the new one does not write (the office's own) are
    kept; without it the new folder replaces the old one whole."""

    def __init__(self, path, carry_over: bool = True):
        self.path = Path(path)
        if self.path.is_symlink():
            self.path = self.path.resolve()   # swap the folder it points to, keep the link
        self.carry_over = carry_over
        self._fd = None
        try:
            if self.path.exists() and not self.path.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            remove_stale(self.path)
            self.tmp = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}.",
                                             suffix=".tmp"))
            self._fd = os.open(self.tmp, os.O_RDONLY)
            _lock(self._fd)
            mode = self.path.stat().st_mode & 0o777 if self.path.is_dir() else 0o755
            os.chmod(self.tmp, mode)   # mkdtemp makes it 0o700
        except OSError as e:
            raise _write_error(type(e))(e.errno, e.strerror, str(self.path)) from e

    def commit(self) -> None:
        try:
            _fsync_dir(self.tmp)
            old = self._swap_in()
        except OSError as e:
            self.discard()
            raise _write_error(type(e))(e.errno, e.strerror, str(self.path)) from e
        self._release()
        _fsync_dir(self.path.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _swap_in(self) -> Path | None:
        """Put the new folder at `path`; return where the old one is now (None: there was none)."""
        if not self.path.exists():
            os.rename(self.tmp, self.path)
            return None
        if self.carry_over:
            _carry_over(self.path, self.tmp)
        if _exchange(self.tmp, self.path):
            return self.tmp
        old = self.path.parent / f".{self.path.name}.{os.urandom(4).hex()}.tmp"
        os.rename(self.path, old)   # removed by commit (or, after a crash, as stale)
        try:
            os.rename(self.tmp, self.path)
        except OSError:
            os.rename(old, self.path)   # put the old folder back
            raise
        return old

    def discard(self) -> None:
        """Remove the temporary folder (after a failure; nothing once committed)."""
        if self._fd is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self._release()

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders' names in one step; False where the system can't."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError, TypeError):   # no renameat2; Windows: no CDLL(None)
        return False
    if renameat2(AT_FDCWD, os.fsencode(a), AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _carry_over(old: Path, new: Path) -> None:
    """Hard-link (or copy) into `new` what `old` holds that `new` lacks."""
    for entry in os.scandir(old):
        target = new / entry.name
        if os.path.lexists(target):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.copytree(entry.path, target, symlinks=True)
        elif entry.is_symlink():
            os.symlink(os.readlink(entry.path), target)
        else:
            try:
                os.link(entry.path, target)
            except OSError:
                shutil.copy2(entry.path, target)


def remove_stale(path: Path) -> None:
    """Remove the temporary files and folders of `path` (named as ours are, beside it) that a
    killed run left behind: unlocked and older than STALE_AFTER. Others' files are left alone."""
    # (.new and .old: the site folders publish named so before it wrote through StagedFolder)
    ours = re.compile(re.escape(f".{path.name}.") + r"[a-z0-9_]{8}\.(?:tmp|new|old)")
    try:
        entries = [e for e in os.scandir(path.parent) if ours.fullmatch(e.name)]
    except OSError:
        return   # no folder yet, or not readable: the write itself will say
    for entry in entries:
        try:
            if time.time() - entry.stat(follow_symlinks=False).st_mtime < STALE_AFTER:
                continue
            fd = os.open(entry.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if not _lock(fd):
                continue   # a live run's
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass
        finally:
            os.close(fd)


def _lock(fd: int) -> bool:
    """Take an exclusive lock on an open file or folder without waiting; False if another
    process holds it."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return   # not possible on every platform
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_workbook(wb, path, timestamp: datetime | None = None, transform=None) -> None:
    """Save `wb` to `path` atomically; the same workbook and timestamp always give the same bytes.
    `transform(part name, bytes) -> bytes` may rewrite parts on the way (see bigsheet.py)."""
    write_atomic(path, workbook_bytes(wb, timestamp, transform))


def workbook_bytes(wb, timestamp: datetime | None = None, transform=None,
                   compresslevel: int | None = None) -> bytes:
    """The .xlsx bytes of `wb`, with pinned document dates, zip dates and member order.
    `compresslevel`: zlib's deflate level (None: zlib's default, 6)."""
    when = timestamp or FIXED_TIMESTAMP
    if when.tzinfo is not None:  # docProps dates are UTC
        when = when.astimezone(timezone.utc)
    when = when.replace(microsecond=0, tzinfo=None)
    wb.properties.created = wb.properties.modified = when
    for ws in wb.worksheets:  # openpyxl settles outlineLevelCol while writing <cols>, after it
        if hasattr(ws, "column_dimensions"):  # wrote <sheetFormatPr>: settle it before the first save
            ws.column_dimensions.to_tree()
    parts = _Parts()
    # ExcelWriter directly: Workbook.save() would stamp `modified` with the current time.
    ExcelWriter(wb, parts).save()
    out = io.BytesIO()
    with ZipFile(out, "w", ZIP_DEFLATED) as dst:
        for name in sorted(parts.data, key=lambda n: (n != "[Content_Types].xml", n)):
            info = ZipInfo(name, date_time=(max(when.year, 1980),) + when.timetuple()[1:6])
            info.compress_type = ZIP_DEFLATED
            info.create_system, info.external_attr = 3, 0o644 << 16
            data = parts.data[name]
            dst.writestr(info, transform(name, data) if transform else data,
                         compresslevel=compresslevel)
    return out.getvalue()


class _Parts:
    """What openpyxl's ExcelWriter writes into, in place of a zip: each part's bytes, so that
    the workbook is compressed once, in its final order and with its final dates."""

    def __init__(self):
        self.data: dict[str, bytes] = {}

    def writestr(self, name: str, data) -> None:
        self.data[name] = data.encode("utf-8") if isinstance(data, str) else data

    def write(self, filename: str, arcname: str) -> None:   # a worksheet, from a temporary file
        with open(filename, "rb") as f:
            self.data[arcname] = f.read()

    def namelist(self) -> list[str]:
        return list(self.data)

    def close(self) -> None:
        pass
