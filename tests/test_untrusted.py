"""Submissions are untrusted: every hostile file below is built here, in code, and must be
refused with a short plain message, quickly, and in bounded memory (a second run of each in a
child process limited to 1 GiB of address space; python-calamine aborting the process on one
of them would show up there as a signal)."""

from __future__ import annotations

import datetime
import io
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

import openpyxl
import pytest

from planvalidator.read.xlsx import (MAX_COLUMNS, MAX_FILE_BYTES, MAX_INFLATED_BYTES, MAX_ROWS,
                                     CellError, UnreadableWorkbook, read_xlsx)

ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Building workbooks by hand

NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = b'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
ROOT_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
             b'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
             + REL + b'officeDocument" Target="xl/workbook.xml"/></Relationships>')


def sheet_xml(cells: bytes, before: bytes = b"") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + NS + b">" + before
            + b"<sheetData>" + cells + b"</sheetData></worksheet>")


def workbook_parts(sheets: dict[str, bytes], main_type: bytes = b"sheet.main") -> dict[str, bytes]:
    """The parts of a minimal workbook whose sheets hold the given XML."""
    wb, rels, over = [], [], []
    for i, name in enumerate(sheets, 1):
        wb.append(b'<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (name.encode(), i, i))
        rels.append(b'<Relationship Id="rId%d" Type="%sworksheet" Target="worksheets/sheet%d.xml"/>'
                    % (i, REL, i))
        over.append(b'<Override PartName="/xl/worksheets/sheet%d.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' % i)
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            b'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="'
            b'application/vnd.openxmlformats-officedocument.spreadsheetml.' + main_type
            + b'+xml"/>' + b"".join(over) + b"</Types>"),
        "_rels/.rels": ROOT_RELS,
        "xl/workbook.xml": (b'<?xml version="1.0" encoding="UTF-8"?><workbook ' + NS + b" " + NS_R
                            + b"><sheets>" + b"".join(wb) + b"</sheets></workbook>"),
        "xl/_rels/workbook.xml.rels": (
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            b'openxmlformats.org/package/2006/relationships">' + b"".join(rels)
            + b"</Relationships>"),
    }
    for i, xml in enumerate(sheets.values(), 1):
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    return parts


def write_zip(path: Path, parts: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method, compresslevel=1) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def write_raw_zip(path: Path, members: list[tuple[str, bytes, int, int]]) -> Path:
    """A zip written byte by byte: (name, deflated data, crc, declared size), so sizes can lie."""
    out, central = io.BytesIO(), io.BytesIO()
    for name, data, crc, size in members:
        offset = out.tell()
        n = name.encode()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size,
                              len(n), 0) + n + data)
        central.write(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc,
                                  len(data), size, len(n), 0, 0, 0, 0, 0, offset) + n)
    start, cd = out.tell(), central.getvalue()
    count = len(members)
    out.write(cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(cd), start, 0))
    path.write_bytes(out.getvalue())
    return path


def deflate(data: bytes) -> tuple[bytes, int]:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush(), zlib.crc32(data)


@lru_cache(maxsize=None)
def zeros_deflated(megabytes: int) -> tuple[bytes, int]:
    """`megabytes` MB of zero bytes, deflated (~230:1), and their CRC; built in chunks."""
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunk, out, crc = bytes(2**20), [], 0
    for _ in range(megabytes):
        out.append(c.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    out.append(c.flush())
    return b"".join(out), crc


def openpyxl_workbook(path: Path, fill=None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Measures"
    if fill is None:
        ws.append(["Measure ID", "FY2028 Target"])
        ws.append(["DOT-609-01", 42])
    else:
        fill(wb, ws)
    wb.save(path)
    return path


# ---------------------------------------------------------------------------------------------
# Hostile files: each must be refused

def not_a_zip(tmp: Path) -> Path:
    p = tmp / "plan.xlsx"
    p.write_text("Measure ID,Target\nDOT-609-01,42\n")
    return p


OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16) + struct.pack("<5H", 0x3E, 3, 0xFFFE, 9, 6)


def ole_encrypted(tmp: Path) -> Path:
    p = tmp / "plan.xlsx"
    directory = b"".join(name.encode("utf-16-le").ljust(128, b"\0")
                         for name in ("Root Entry", "EncryptionInfo", "EncryptedPackage"))
    p.write_bytes(OLE_HEADER.ljust(512, b"\xff") + directory.ljust(4096, b"\0"))
    return p


def legacy_xls(tmp: Path) -> Path:
    p = tmp / "plan.xls"
    directory = b"".join(name.encode("utf-16-le").ljust(128, b"\0")
                         for name in ("Root Entry", "Workbook", "\x05SummaryInformation"))
    p.write_bytes(OLE_HEADER.ljust(512, b"\xff") + directory.ljust(4096, b"\0"))
    return p


def truncated(tmp: Path) -> Path:
    whole = openpyxl_workbook(tmp / "whole.xlsx").read_bytes()
    p = tmp / "plan.xlsx"
    p.write_bytes(whole[: len(whole) // 2])
    return p


def zip_bomb(tmp: Path) -> Path:
    """200 MB of zeros as the shared strings calamine reads on opening, sizes declared honestly."""
    data, crc = zeros_deflated(200)
    parts = workbook_parts({"Measures": sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    members = [(name, *deflate(xml), len(xml)) for name, xml in parts.items()]
    members.append(("xl/sharedStrings.xml", data, crc, 200 * 2**20))
    return write_raw_zip(tmp / "plan.xlsx", members)


def zip_bomb_lying(tmp: Path) -> Path:
    """The same bomb as the sheet itself, declaring 2 KB: only counting while inflating tells."""
    data, crc = zeros_deflated(200)
    parts = workbook_parts({"Measures": b""})
    members = [(name, *deflate(xml), len(xml)) for name, xml in parts.items() if xml]
    members.append(("xl/worksheets/sheet1.xml", data, crc, 2048))
    return write_raw_zip(tmp / "plan.xlsx", members)


def overlapping_members(tmp: Path) -> Path:
    """A non-recursive bomb: many directory entries pointing at the same compressed data."""
    parts = workbook_parts({"Measures": sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    raw = write_raw_zip(tmp / "ok.xlsx", [(n, *deflate(x), len(x)) for n, x in parts.items()])
    data = raw.read_bytes()
    eocd = data.rindex(b"PK\x05\x06")
    _, _, _, _, count, cd_size, cd_start, _ = struct.unpack_from("<4s4H2LH", data, eocd)
    first = data[cd_start:data.index(b"PK\x01\x02", cd_start + 4)]
    extra = b"".join(first.replace(b"[Content_Types].xml", b"[Content_Types].x%02d" % i)
                     for i in range(40))
    cd = data[cd_start:eocd] + extra
    n = count + 40
    p = tmp / "plan.xlsx"
    p.write_bytes(data[:cd_start] + cd + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, n, n,
                                                      len(cd), cd_start, 0))
    return p


def entity_bomb(tmp: Path) -> Path:
    lol = b'<!ENTITY lol0 "lol">' + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
    parts = workbook_parts({"Measures": sheet_xml(b"")})
    parts["xl/workbook.xml"] = (b'<?xml version="1.0"?><!DOCTYPE workbook [' + lol + b"]>"
                                + parts["xl/workbook.xml"].split(b"?>", 1)[1]
                                .replace(b'name="Measures"', b'name="&lol9;"'))
    return write_zip(tmp / "plan.xlsx", parts)


def a1_and_xfd1048576(tmp: Path) -> Path:
    cells = (b'<row r="1"><c r="A1"><v>1</v></c></row>'
             b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>')
    return write_zip(tmp / "plan.xlsx", workbook_parts(
        {"Measures": sheet_xml(cells, b'<dimension ref="A1"/>')}))


def rows_200_000(tmp: Path) -> Path:
    cells = b"".join(b'<row r="%d"><c r="A%d"><v>%d</v></c></row>' % (i, i, i)
                     for i in range(1, 200_001))
    return write_zip(tmp / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))


def cells_without_r(tmp: Path) -> Path:
    """No r attributes: calamine places cells by counting, so 300 in a row reach column 300."""
    cells = b"<row>" + b"<c><v>1</v></c>" * 300 + b"</row>"
    return write_zip(tmp / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))


def sheets_5000(tmp: Path) -> Path:
    small = sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row>')
    parts = workbook_parts({f"S{i}": small for i in range(5000)})
    return write_zip(tmp / "plan.xlsx", parts, zipfile.ZIP_STORED)


def macro_enabled(tmp: Path) -> Path:
    parts = workbook_parts({"Measures": sheet_xml(b"")}, main_type=b"sheet.macroEnabled.main")
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + bytes(512)
    return write_zip(tmp / "plan.xlsm", parts)


def huge_shared_string_count(tmp: Path) -> Path:
    """calamine reserves memory for the announced count before reading a single string."""
    parts = workbook_parts({"Measures": sheet_xml(b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>')})
    parts["xl/sharedStrings.xml"] = (b'<sst ' + NS + b' count="1" uniqueCount="99999999999999">'
                                     b"<si><t>x</t></si></sst>")
    return write_zip(tmp / "plan.xlsx", parts)


def duplicate_r(tmp: Path) -> Path:
    """calamine uses the last of two r attributes; a reader that takes the first is fooled."""
    cells = b'<row r="1"><c r="A1" r="XFD1048576"><v>1</v></c></row>'
    return write_zip(tmp / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))


HOSTILE = {
    "not a zip": (not_a_zip, "not an Excel workbook"),
    "OLE encrypted": (ole_encrypted, "password"),
    "legacy .xls": (legacy_xls, "legacy Excel 97-2003 workbook (.xls)"),
    "truncated": (truncated, "damaged or incomplete"),
    "zip bomb": (zip_bomb, "far more data"),
    "zip bomb, lying sizes": (zip_bomb_lying, "far more data"),
    "overlapping members": (overlapping_members, "damaged"),
    "entity bomb": (entity_bomb, "document type declaration"),
    "A1 and XFD1048576": (a1_and_xfd1048576, "XFD1048576"),
    "200,000 rows": (rows_200_000, "A20001"),
    "cells without r": (cells_without_r, "GS1"),
    "5,000 sheets": (sheets_5000, "5,000 sheets"),
    "macro-enabled": (macro_enabled, ".xlsm"),
    "huge shared-string count": (huge_shared_string_count, "far more data"),
    "duplicate r": (duplicate_r, "damaged"),
}


@pytest.fixture(params=list(HOSTILE), ids=list(HOSTILE))
def hostile(request, tmp_path):
    build, expected = HOSTILE[request.param]
    return build(tmp_path), expected


def assert_plain(message: str) -> None:
    assert message and len(message) < 320, message
    for word in ("Traceback", "Error:", "Exception", "None", "b'", "\\x", "python", "calamine"):
        assert word not in message, message


def test_hostile_file_is_refused_quickly_with_a_plain_message(hostile):
    path, expected = hostile
    start = time.perf_counter()
    with pytest.raises(UnreadableWorkbook) as caught:
        read_xlsx(path)
    assert time.perf_counter() - start < 10
    message = str(caught.value)
    assert_plain(message)
    assert expected in message
    assert message.startswith((path.name, "Sheet "))


CHILD = r"""
import sys
sys.path.insert(0, sys.argv[2])
from planvalidator.read.xlsx import UnreadableWorkbook, read_xlsx
try:
    read_xlsx(sys.argv[1])
except UnreadableWorkbook:
    sys.exit(3)
sys.exit(0)
"""


def run_bounded(path: Path) -> subprocess.CompletedProcess:
    """read_xlsx(path) in a child process that may use at most 1 GiB of address space."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
    return subprocess.run([sys.executable, "-c", CHILD, str(path), str(ROOT)],
                          preexec_fn=limit, capture_output=True, text=True, timeout=60)


def test_hostile_file_is_refused_in_bounded_memory(hostile):
    path, _ = hostile
    done = run_bounded(path)
    assert done.returncode == 3, (done.returncode, done.stderr[-2000:])  # < 0: killed by a signal


def run_measured(args: list[str], folder: Path) -> tuple[int, str, str, int]:
    """Run a command; return its exit code, stdout, stderr and its own peak memory in bytes
    (the rusage os.wait4 gives for this child alone, not the largest of every child reaped)."""
    with open(folder / "stdout", "w+") as out, open(folder / "stderr", "w+") as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, text=True, cwd=ROOT)
        timer = threading.Timer(60, proc.kill)   # a hang fails the test instead of hanging it
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        return proc.returncode, out.read(), err.read(), usage.ru_maxrss * 1024  # KiB on Linux


def test_the_validate_command_exits_2_with_the_plain_message(hostile, tmp_path):
    """The whole command, as an analyst runs it: exit 2, one plain sentence, no traceback,
    under 1 GiB at its peak (and not stuck: run_measured kills it after 60 s)."""
    path, expected = hostile
    code, stdout, stderr, peak = run_measured(
        [sys.executable, "-m", "planvalidator", "validate", str(path)], tmp_path)
    assert code == 2, stdout + stderr
    assert expected in stdout and path.name in stdout
    assert "Traceback" not in stdout + stderr
    assert peak < 2**30, f"peak {peak / 2**20:.0f} MiB"


def test_a_normal_workbook_reads_in_bounded_memory(tmp_path):
    done = run_bounded(openpyxl_workbook(tmp_path / "plan.xlsx"))
    assert done.returncode == 0, done.stderr[-2000:]


def with_picture(tmp: Path, data: bytes, crc: int, declared: int) -> Path:
    """A one-sheet workbook with a part no reader looks at (a picture, say) holding `data`."""
    parts = workbook_parts({"Measures": sheet_xml(b'<row r="1"><c r="A1"><v>1</v></c></row>')})
    members = [(name, *deflate(xml), len(xml)) for name, xml in parts.items()]
    members.append(("xl/media/image1.png", data, crc, declared))
    return write_raw_zip(tmp / "plan.xlsx", members)


@pytest.mark.parametrize("declared", ["honestly", "as 2 KB"])
def test_60_mb_at_230_to_1_is_refused_by_the_ratio_not_the_size(tmp_path, declared):
    """60 MB of zeros deflate to 270 KB (~230:1). 60 MB is under the cap on inflated bytes and
    270 KB far under the cap on files, so only the cap on the ratio can refuse it; whether the
    sizes are declared honestly or counted while inflating."""
    data, crc = zeros_deflated(60)
    assert 60 * 2**20 < MAX_INFLATED_BYTES and len(data) < MAX_FILE_BYTES
    assert 220 < 60 * 2**20 / len(data) < 240
    path = with_picture(tmp_path, data, crc, 60 * 2**20 if declared == "honestly" else 2048)
    with pytest.raises(UnreadableWorkbook, match="expands to far more data than a plan workbook") as caught:
        read_xlsx(path)
    assert_plain(str(caught.value))


def test_60_mb_at_50_to_1_is_read(tmp_path):
    """The same 60 MB at a ratio real workbooks reach is read: the size alone is no reason."""
    noise = random.Random(0)
    chunks = [noise.randbytes(2**14) + bytes(2**20 - 2**14) for _ in range(60)]
    whole = b"".join(chunks)
    data, crc = deflate(whole)
    assert 40 < len(whole) / len(data) < 70
    path = with_picture(tmp_path, data, crc, len(whole))
    assert read_xlsx(path)[1] == {"Measures": [[1]]}


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(UnreadableWorkbook, match="could not be found"):
        read_xlsx(tmp_path / "nowhere.xlsx")
    (tmp_path / "empty.xlsx").write_bytes(b"")
    with pytest.raises(UnreadableWorkbook, match="empty") as caught:
        read_xlsx(tmp_path / "empty.xlsx")
    assert_plain(str(caught.value))


def test_an_old_office_file_that_is_not_a_workbook(tmp_path):
    p = tmp_path / "plan.xlsx"
    p.write_bytes(OLE_HEADER.ljust(512, b"\xff") + "WordDocument".encode("utf-16-le").ljust(512, b"\0"))
    with pytest.raises(UnreadableWorkbook, match="older Office file"):
        read_xlsx(p)


# ---------------------------------------------------------------------------------------------
# Plausible workbooks: values, positions, errors

def test_values_formulas_and_positions_from_openpyxl(tmp_path):
    def fill(wb, ws):
        ws.append(["Measure ID", "FY2028 Target", "Key Measure", "Approval Date", "Ratio"])
        ws.append(["DOT-609-01", 42, True, datetime.datetime(2027, 7, 1), "=1/0"])
        ws.append(["DOT-609-02", 0.85, False, None, '=IF(B3>1,"a<b","")'])
        other = wb.create_sheet("Services ")
        other["B3"] = "starts at B3"
        other["D5"] = 7
    path = openpyxl_workbook(tmp_path / "plan.xlsx", fill)

    names, sheets = read_xlsx(path)
    assert names == ["Measures", "Services "]
    assert sheets["Measures"] == [
        ["Measure ID", "FY2028 Target", "Key Measure", "Approval Date", "Ratio"],
        ["DOT-609-01", 42, True, datetime.date(2027, 7, 1), CellError("", "1/0")],
        ["DOT-609-02", 0.85, False, None, CellError("", 'IF(B3>1,"a<b","")')],
    ]
    rows = sheets["Services "]
    assert rows[2][1] == "starts at B3" and rows[4][3] == 7
    assert rows[0] == [None] * 4 and len(rows) == 5

    # only the sheets asked for, by name ignoring case and surrounding spaces
    assert read_xlsx(path, ["  SERVICES"])[1].keys() == {"Services "}
    assert read_xlsx(path, "measures")[1].keys() == {"Measures"}
    assert read_xlsx(path, [])[1] == {}


def test_error_cells_written_by_hand(tmp_path):
    cells = (b'<row r="1"><c r="A1" t="e"><v>#DIV/0!</v></c>'
             b'<c r="B1" t="e"><f>VLOOKUP(A1,Lists!A:B,2,FALSE)</f><v>#N/A</v></c>'
             b'<c r="C1" t="str"><f>""</f><v></v></c>'
             b'<c r="D1"><f>SUM(A1:C1)&amp;"&lt;"</f></c>'
             b'<c r="E1" t="inlineStr"><is><t>#N/A</t></is></c></row>')
    path = write_zip(tmp_path / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))
    assert read_xlsx(path)[1]["Measures"] == [[
        CellError("#DIV/0!"),
        CellError("#N/A", "VLOOKUP(A1,Lists!A:B,2,FALSE)"),
        None,  # a formula whose saved value is the empty string
        CellError("", 'SUM(A1:C1)&"<"'),
        "#N/A",  # text that looks like an error is text
    ]]


def test_shared_formulas_as_excel_writes_them(tmp_path):
    cells = (b'<row r="1"><c r="A1"><v>0</v></c><c r="B1" t="e"><f t="shared" ref="B1:B3" si="0">'
             b'1/A1</f><v>#DIV/0!</v></c></row>'
             b'<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/><v>0.5</v></c></row>'
             b'<row r="3"><c r="A3"><v>0</v></c><c r="B3" t="e"><f t="shared" si="0"/>'
             b'<v>#DIV/0!</v></c></row>')
    path = write_zip(tmp_path / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))
    assert read_xlsx(path)[1]["Measures"] == [
        [0, CellError("#DIV/0!", "1/A1")],
        [2, 0.5],
        [0, CellError("#DIV/0!", "1/A3")],
    ]


def test_unusual_but_valid_xml_reads_like_the_usual(tmp_path):
    """Cells without r, single quotes, a namespace prefix: calamine reads them, so do we
    (through the slower exact scan), with the same values and error cells."""
    usual = (b'<row r="1"><c r="A1"><v>1</v></c><c r="B1" t="e"><f>1/0</f><v>#DIV/0!</v></c></row>'
             b'<row r="3"><c r="B3"><f>A1+1</f></c></row>')
    unusual = (b"<x:row r='1'><x:c><x:v>1</x:v></x:c><x:c t='e'><x:f>1/0</x:f><x:v>#DIV/0!</x:v>"
               b"</x:c></x:row><x:row r = '3'><x:c r='b3'><x:f>A1+1</x:f></x:c></x:row>")
    unusual = (b'<?xml version="1.0"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><x:sheetData>' + unusual + b"</x:sheetData></x:worksheet>")
    path = write_zip(tmp_path / "plan.xlsx", workbook_parts(
        {"Usual": sheet_xml(usual), "Unusual": unusual}))
    sheets = read_xlsx(path)[1]
    expected = [[1, CellError("#DIV/0!", "1/0")], [None, None], [None, CellError("", "A1+1")]]
    assert sheets["Usual"] == expected
    assert sheets["Unusual"] == expected


def test_the_dimension_element_is_not_trusted(tmp_path):
    cells = b'<row r="1"><c r="A1"><v>1</v></c></row><row r="5"><c r="C5"><v>2</v></c></row>'
    path = write_zip(tmp_path / "plan.xlsx", workbook_parts(
        {"Measures": sheet_xml(cells, b'<dimension ref="A1"/>')}))
    rows = read_xlsx(path)[1]["Measures"]
    assert len(rows) == 5 and rows[4][2] == 2


@pytest.mark.parametrize("ref, ok", [
    (f"GR{MAX_ROWS}", True), (f"GS{MAX_ROWS}", False), (f"A{MAX_ROWS + 1}", False)])
def test_the_caps_are_exact(tmp_path, ref, ok):
    assert MAX_COLUMNS == 200  # GR is column 200
    cells = b'<row r="1"><c r="A1"><v>1</v></c><c r="%s"><v>2</v></c></row>' % ref.encode()
    path = write_zip(tmp_path / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))
    if ok:
        rows = read_xlsx(path)[1]["Measures"]
        assert (len(rows), len(rows[0]), rows[-1][-1]) == (MAX_ROWS, MAX_COLUMNS, 2)
    else:
        with pytest.raises(UnreadableWorkbook, match=ref):
            read_xlsx(path)


def test_all_sheets_together_are_capped_too(tmp_path):
    """Each sheet within the caps, but together far more cells than a plan workbook holds
    (here two sheet entries share one large part)."""
    parts = workbook_parts({"A": sheet_xml(
        b'<row r="1"><c r="A1"><v>1</v></c><c r="GR%d"><v>2</v></c></row>' % MAX_ROWS), "B": b""})
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"sheet2.xml", b"sheet1.xml")
    del parts["xl/worksheets/sheet2.xml"]
    path = write_zip(tmp_path / "plan.xlsx", parts)
    assert read_xlsx(path, ["B"])[1]["B"][-1][-1] == 2
    with pytest.raises(UnreadableWorkbook, match="far more cells") as caught:
        read_xlsx(path)
    assert_plain(str(caught.value))


def test_very_many_formulas_without_values_are_refused(tmp_path):
    cells = b"".join(b'<row r="%d">' % r + b"".join(
        b'<c r="%c%d"><f>1/0</f></c>' % (col, r) for col in b"ABCDEF") + b"</row>"
        for r in range(1, 17_000))
    path = write_zip(tmp_path / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))
    with pytest.raises(UnreadableWorkbook, match="very many formulas") as caught:
        read_xlsx(path)
    assert_plain(str(caught.value))


def test_empty_formatted_cells_far_away_are_harmless(tmp_path):
    """Excel writes a formatted empty cell as <c r=".." s="1"/>; calamine ignores it."""
    cells = b'<row r="1"><c r="A1"><v>1</v></c><c r="XFD1" s="1"/></row>'
    path = write_zip(tmp_path / "plan.xlsx", workbook_parts({"Measures": sheet_xml(cells)}))
    assert read_xlsx(path)[1]["Measures"] == [[1]]


def test_libreoffice_resaved_workbook_keeps_the_error_and_its_formula(tmp_path):
    source = openpyxl_workbook(tmp_path / "plan.xlsx",
                               lambda wb, ws: ws.append(["Ratio", "=1/0", "text"]))
    out = tmp_path / "out"
    soffice = shutil.which("soffice") or "soffice"
    subprocess.run([soffice, f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=180)
    with zipfile.ZipFile(out / "plan.xlsx") as z:  # LibreOffice saves a cached error value
        assert b"#DIV/0!" in z.read("xl/worksheets/sheet1.xml")
    assert read_xlsx(out / "plan.xlsx")[1]["Measures"] == [
        ["Ratio", CellError("#DIV/0!", "1/0"), "text"]]


FUZZ_CHILD = r"""
import io, random, sys, zipfile
sys.path.insert(0, sys.argv[2])
from planvalidator.read.xlsx import UnreadableWorkbook, read_xlsx

seed = open(sys.argv[1], "rb").read()
inserts = [b'r="', b"<c>", b"</c>", b"</row><row>", b"<f>", b"<v>", b' t="e"', b'"', b">", b"<",
           b"&", b'<c r="XFD1048576"><v>1</v></c>', b"<c><v>1</v></c>" * 300, b' r="XFD9"',
           b'uniqueCount="99999999999"', b"<![CDATA[", b"<!--"]
for k in range(int(sys.argv[3])):
    rnd = random.Random(k)
    if k % 3 == 0:  # bytes flipped anywhere, zip structure included
        data = bytearray(seed)
        for _ in range(rnd.randint(1, 6)):
            data[rnd.randrange(len(data))] = rnd.randrange(256)
    else:  # markup inserted into or cut from the XML parts
        with zipfile.ZipFile(io.BytesIO(seed)) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        name = rnd.choice(sorted(parts))
        x, i = parts[name], rnd.randrange(len(parts[name]) + 1)
        parts[name] = x[:i] + rnd.choice(inserts) + x[i + rnd.randint(0, 8):]
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            for n, d in parts.items():
                z.writestr(n, d)
        data = out.getvalue()
    path = sys.argv[1] + ".case.xlsx"
    open(path, "wb").write(bytes(data))
    try:
        read_xlsx(path)
    except UnreadableWorkbook as exc:
        assert "Traceback" not in str(exc) and "Error:" not in str(exc), str(exc)
"""


def test_mutated_workbooks_give_values_or_a_plain_refusal(tmp_path):
    """Damaged copies of a real workbook: never an exception other than UnreadableWorkbook,
    never an abort (run bounded, like the hostile files)."""
    def fill(wb, ws):
        ws.append(["Measure ID", "FY2028 Target", "Ratio", "When"])
        ws.append(["DOT-609-01", 42, "=1/0", datetime.date(2027, 7, 1)])
        wb.create_sheet("Services")["B3"] = "x"
    seed = openpyxl_workbook(tmp_path / "seed.xlsx", fill)

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
    done = subprocess.run([sys.executable, "-c", FUZZ_CHILD, str(seed), str(ROOT), "300"],
                          preexec_fn=limit, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stderr[-3000:])
