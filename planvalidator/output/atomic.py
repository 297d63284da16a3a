"""Writing workbooks: atomically (temp file + rename) and deterministically (same content, same bytes).

openpyxl stamps docProps with the current time and each zip entry with the clock; both are
pinned here, so a generated template or a consolidated plan can be compared byte for byte.
"""

from __future__ import annotations

import io
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl.writer.excel import ExcelWriter

FIXED_TIMESTAMP = datetime(2000, 1, 1)


def save_workbook(wb, path, timestamp: datetime | None = None, transform=None) -> None:
    """Save `wb` to `path` atomically; the same workbook and timestamp always give the same bytes.
    `transform(part name, bytes) -> bytes` may rewrite parts on the way (see sheetxml.py)."""
    path = Path(path)
    data = workbook_bytes(wb, timestamp, transform)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644  # mkstemp makes it 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


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
