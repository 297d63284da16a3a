"""Writing outputs: atomically (temp file + fsync + rename) and workbooks deterministically
(same content, same bytes). Every file planvalidator writes goes through write_atomic.

openpyxl stamps docProps with the current time and each zip entry with the clock; both are
pinned here, so a generated template or a consolidated plan can be compared byte for byte.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl.writer.excel import ExcelWriter

from ..errors import PlanValidatorError

FIXED_TIMESTAMP = datetime(2000, 1, 1)


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
    path = Path(path)
    try:
        return _write_atomic(path, data, exclusive, mode)
    except OSError as e:
        raise _write_error(type(e))(e.errno, e.strerror, str(path)) from e


def _write_atomic(path: Path, data: bytes, exclusive: bool, mode: int | None) -> bool:
    if mode is None:
        mode = path.stat().st_mode & 0o777 if path.exists() else 0o644  # mkstemp makes it 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            try:
                os.link(tmp, path)
            except FileExistsError:
                return False
        else:
            os.replace(tmp, path)
    finally:
        try:
            os.unlink(tmp)   # after a link or on failure; gone after a rename
        except FileNotFoundError:
            pass
    _fsync_dir(path.parent)   # the rename itself survives a crash
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


def workbook_bytes(wb, timestamp: datetime | None = None, transform=None) -> bytes:
    """The .xlsx bytes of `wb`, with pinned document dates, zip dates and member order."""
    when = timestamp or FIXED_TIMESTAMP
    if when.tzinfo is not None:  # docProps dates are UTC
        when = when.astimezone(timezone.utc)
    when = when.replace(microsecond=0, tzinfo=None)
    wb.properties.created = wb.properties.modified = when
    for ws in wb.worksheets:  # openpyxl settles outlineLevelCol while writing <cols>, after it
        if hasattr(ws, "column_dimensions"):  # wrote <sheetFormatPr>: settle it before the first save
            ws.column_dimensions.to_tree()
    raw = io.BytesIO()
    # ExcelWriter directly: Workbook.save() would stamp `modified` with the current time.
    ExcelWriter(wb, ZipFile(raw, "w", ZIP_DEFLATED, allowZip64=True)).save()
    out = io.BytesIO()
    with ZipFile(raw) as src, ZipFile(out, "w", ZIP_DEFLATED) as dst:
        names = sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
        for name in names:
            info = ZipInfo(name, date_time=(max(when.year, 1980),) + when.timetuple()[1:6])
            info.compress_type = ZIP_DEFLATED
            info.create_system, info.external_attr = 3, 0o644 << 16
            data = src.read(name)
            dst.writestr(info, transform(name, data) if transform else data)
    return out.getvalue()
