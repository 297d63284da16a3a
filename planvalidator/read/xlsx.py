"""Reading .xlsx workbooks safely: every submission is untrusted.

`read_xlsx` returns cell values for the sheets asked for and raises `UnreadableWorkbook`, with a
message written for an agency analyst, for anything that is not a safe, plausible plan workbook.

Values come from python-calamine (fast), but calamine aborts the whole process, uncatchably, on
some inputs: a sheet whose cells span a huge range (A1 and XFD1048576 in a 2 KB file), a zip
bomb, or a shared-strings part that announces billions of strings. So the file is checked
first, with limits on everything that costs memory or time:

1. The header: an OLE file is an encrypted workbook or a legacy .xls; anything else that is not
   a zip is not a workbook. The file size is capped.
2. The zip directory is parsed here, strictly (no zip64, no overlapping or duplicate members,
   deflate or stored only), and every member is inflated here while counting the bytes, since
   declared sizes can lie: the total and the compression ratio are capped.
3. Macro-enabled workbooks, binary workbooks, XML with a DOCTYPE, and workbooks with too many
   sheets are refused. Part names are resolved the way calamine resolves them.
4. Each sheet asked for is scanned for its real used range, from the cell references (not the
   `<dimension>` element, which can lie), and refused when it exceeds the caps. The same scan
   finds error cells and formulas with no saved value, which calamine returns as ''. For what
   Excel, LibreOffice and openpyxl write, a few regex searches prove the range is within the
   caps; anything unusual is parsed with expat, following calamine's own rules for placing
   cells (the last r attribute, or counting when there is none; cells without content are
   dropped).

Only then does calamine see the bytes, the very bytes that were checked (not the path again).
"""

from __future__ import annotations

import io
import os
import re
import struct
import zlib
from dataclasses import dataclass
from typing import Iterable

import pyexpat
from python_calamine import CalamineWorkbook

from ..errors import UnreadableWorkbook

__all__ = ["CellError", "UnreadableWorkbook", "read_xlsx"]

# Limits. A plan workbook is ~50 KB, a consolidated citywide one a few MB.
MAX_FILE_BYTES = 20 * 2**20
MAX_MEMBERS = 10_000            # zip members (parts)
MAX_INFLATED_BYTES = 100 * 2**20  # all parts together, counted while inflating
MAX_RATIO = 100                 # inflated : compressed, for members larger than RATIO_FLOOR
RATIO_FLOOR = 2**20
MAX_SHEETS = 250
MAX_ROWS = 20_000               # per sheet, from the real used range
MAX_COLUMNS = 200
MAX_CELLS = 4_000_000           # rows x columns, summed over the sheets returned
MAX_SHARED_STRINGS = 1_000_000  # the announced count calamine reserves memory for
MAX_ERROR_CELLS = 100_000       # error cells and formulas without a saved value, per sheet
MAX_EXACT_SCAN_BYTES = 25 * 2**20  # sheet XML too unusual for the quick scan is parsed, slowly


@dataclass(frozen=True)
class CellError:
    """A cell that shows an error in Excel, or a formula with no saved value."""

    text: str          # the error as Excel shows it: "#DIV/0!", "#N/A", ...; "" when a formula has no saved value
    formula: str = ""  # the formula text without "=", when the cell had one


def read_xlsx(path, wanted: Iterable[str] | None = None) -> tuple[list[str], dict[str, list[list]]]:
    """Return (all sheet names in workbook order, {sheet name: rows}) for the sheets whose names
    match `wanted` (compared with name.strip().casefold(); None = all sheets). rows is a list of
    rows, each a list of cell values: None for an empty cell, str, int/float, bool,
    datetime.datetime/date/time (datetime.timedelta for a duration format), or CellError.
    rows[r][c] is the cell at row r+1, column c+1; rows are padded to the same length.
    Trailing empty rows/columns may be dropped.
    Raises UnreadableWorkbook for anything that is not a safe, plausible plan workbook."""
    fname = os.path.basename(os.fspath(path)) or "The file"
    data = _read_file(path, fname)
    _check_header(data, fname)
    members = _read_zip_directory(data, fname)
    book = _Book(data, members, fname)
    names, parts = book.structure()
    if wanted is None:
        chosen = list(names)
    else:
        if isinstance(wanted, str):
            wanted = [wanted]
        keys = {w.strip().casefold() for w in wanted}
        chosen = [n for n in names if n.strip().casefold() in keys]
    sheet_xml = book.inflate_all(keep={parts[n] for n in chosen})

    scans = {}
    for n in chosen:
        try:
            scans[n] = _scan_sheet(sheet_xml[parts[n]], fname)
        except _Beyond as far:
            raise UnreadableWorkbook(
                f"Sheet '{n}' in {fname} has a cell at {_a1(*far.args)}, beyond what a plan sheet "
                f"may use ({MAX_ROWS:,} rows and {MAX_COLUMNS} columns); delete the rows and "
                "columns below and to the right of the plan, save and try again.") from None
        except _TooMuch:
            raise UnreadableWorkbook(
                f"Sheet '{n}' in {fname} holds far more than a plan sheet (huge or with very many "
                "formulas that have no saved value); send the plan as an Excel Workbook (.xlsx) "
                "saved from Excel.") from None
    return names, _read_values(data, fname, names, scans)


# ---------------------------------------------------------------------------------------------
# Messages

def _damaged(fname: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"{fname} is damaged or incomplete and cannot be opened; "
        "save it again from Excel as an Excel Workbook (.xlsx) and try again.")


def _not_excel(fname: str, what: str = "") -> UnreadableWorkbook:
    what = what or "not an Excel workbook"
    return UnreadableWorkbook(
        f"{fname} is {what}; save the plan from Excel as an Excel Workbook (.xlsx) and try again.")


def _too_big(fname: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"{fname} expands to far more data than a plan workbook holds, so it was not opened; "
        "save the plan from Excel as an Excel Workbook (.xlsx) and try again.")


def _macros(fname: str) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"{fname} contains macros, which are not accepted; save it as an Excel Workbook (.xlsx), "
        "not a macro-enabled workbook (.xlsm), and try again.")


# ---------------------------------------------------------------------------------------------
# File and header

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _read_file(path, fname: str) -> bytes:
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise UnreadableWorkbook(
                    f"{fname} is {size / 2**20:.0f} MB, larger than a plan workbook may be "
                    f"(the limit is {MAX_FILE_BYTES // 2**20} MB).")
            data = f.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UnreadableWorkbook(f"{fname} could not be found.") from None
    except IsADirectoryError:
        raise UnreadableWorkbook(f"{fname} is a folder, not an Excel workbook.") from None
    except OSError as exc:
        reason = exc.strerror or "read failed"
        raise UnreadableWorkbook(f"{fname} could not be opened ({reason}).") from exc
    if len(data) > MAX_FILE_BYTES:
        raise UnreadableWorkbook(
            f"{fname} is larger than a plan workbook may be "
            f"(the limit is {MAX_FILE_BYTES // 2**20} MB).")
    return data


def _utf16(s: str) -> bytes:
    return s.encode("utf-16-le")


def _check_header(data: bytes, fname: str) -> None:
    if not data:
        raise UnreadableWorkbook(f"{fname} is empty; save the plan from Excel and try again.")
    if data.startswith(_OLE_MAGIC):
        # An OLE compound file: Excel wraps a password-protected .xlsx in one, and a legacy
        # .xls is one. The stream names sit in the directory sectors in UTF-16LE.
        if _utf16("EncryptedPackage") in data or _utf16("EncryptionInfo") in data:
            raise UnreadableWorkbook(
                f"{fname} is protected with a password; remove the password (File > Info > "
                "Protect Workbook), save it as an Excel Workbook (.xlsx) and try again.")
        if _utf16("Workbook") in data or _utf16("Book") in data:
            raise UnreadableWorkbook(
                f"{fname} is a legacy Excel 97-2003 workbook (.xls); "
                "save it as an Excel Workbook (.xlsx) and try again.")
        raise _not_excel(fname, "an older Office file, not an Excel workbook")
    if not data.startswith(b"PK\x03\x04"):
        if data.startswith(b"PK\x05\x06"):
            raise _damaged(fname)
        if data.startswith(b"%PDF"):
            raise _not_excel(fname, "a PDF file, not an Excel workbook")
        raise _not_excel(fname)


# ---------------------------------------------------------------------------------------------
# Zip directory, parsed strictly here: what is checked is what calamine's zip reader will read.

@dataclass
class _Member:
    name: str
    flags: int
    method: int
    crc: int
    csize: int
    usize: int
    offset: int
    start: int = 0  # first byte of the compressed data


_EOCD = struct.Struct("<4s4H2LH")
_CDIR = struct.Struct("<4s6H3L5H2L")
_LOCAL = struct.Struct("<4s5H3L2H")
_ZIP64_OR_UNICODE_EXTRA = (0x0001, 0x7075)


def _read_zip_directory(data: bytes, fname: str) -> list[_Member]:
    n = len(data)
    p = data.rfind(b"PK\x05\x06", max(0, n - _EOCD.size - 0xFFFF))
    if p < 0 or p + _EOCD.size > n:
        raise _damaged(fname)
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = _EOCD.unpack_from(data, p)
    if p + _EOCD.size + comment_len != n or data.find(
            b"PK\x05\x06", max(0, n - _EOCD.size - 0xFFFF)) != p:
        raise _damaged(fname)  # trailing bytes, or a second end record
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise _too_big(fname)  # zip64: only needed beyond 4 GB
    if disk or cd_disk or n_disk != n_total or cd_offset + cd_size != p:
        raise _damaged(fname)
    if n_total > MAX_MEMBERS:
        raise UnreadableWorkbook(
            f"{fname} has {n_total:,} parts, far more than a plan workbook; "
            "send the plan as an Excel Workbook (.xlsx) with its plan sheets only.")
    members = []
    pos = cd_offset
    for _ in range(n_total):
        if pos + _CDIR.size > p:
            raise _damaged(fname)
        (sig, _made, _need, flags, method, _t, _d, crc, csize, usize, nlen, xlen, clen, _disk,
         _ia, _ea, offset) = _CDIR.unpack_from(data, pos)
        if sig != b"PK\x01\x02":
            raise _damaged(fname)
        raw_name = data[pos + 46:pos + 46 + nlen]
        extra = data[pos + 46 + nlen:pos + 46 + nlen + xlen]
        pos += 46 + nlen + xlen + clen
        if pos > p or flags & 0x1 or method not in (0, 8) or (method == 0 and csize != usize):
            raise _damaged(fname)  # encrypted member, unusual compression
        if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF or offset == 0xFFFFFFFF:
            raise _too_big(fname)
        e = 0
        while e + 4 <= len(extra):
            xid, xsize = struct.unpack_from("<2H", extra, e)
            if xid in _ZIP64_OR_UNICODE_EXTRA:
                raise _damaged(fname)  # sizes or names that other zip readers see differently
            e += 4 + xsize
        try:
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            raise _damaged(fname) from None
        members.append(_Member(name, flags, method, crc, csize, usize, offset))
    if pos != p:
        raise _damaged(fname)
    end = 0
    for m in sorted(members, key=lambda m: m.offset):
        if m.offset < end or m.offset + _LOCAL.size > cd_offset:
            raise _damaged(fname)  # overlapping members (a classic bomb) or out of range
        sig, *_, nlen, xlen = _LOCAL.unpack_from(data, m.offset)
        if sig != b"PK\x03\x04" or data[m.offset + 30:m.offset + 30 + nlen] != m.name.encode(
                "utf-8" if m.flags & 0x800 else "cp437"):
            raise _damaged(fname)
        m.start = m.offset + 30 + nlen + xlen
        end = m.start + m.csize
        if end > cd_offset:
            raise _damaged(fname)
    return members


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _zip_key(name: str) -> str:
    """How calamine finds a part: backslashes as slashes, ASCII case ignored."""
    return name.replace("\\", "/").translate(_ASCII_LOWER)


class _Book:
    """The zip members of one workbook, their inflated-size budget, and its structure."""

    def __init__(self, data: bytes, members: list[_Member], fname: str):
        self.data = data
        self.fname = fname
        self.by_key: dict[str, _Member] = {}
        self.by_name = {m.name: m for m in members}
        for m in members:
            key = _zip_key(m.name)
            if key in self.by_key:
                raise _damaged(fname)  # two parts calamine could confuse
            self.by_key[key] = m
        self.budget = MAX_INFLATED_BYTES
        if sum(m.usize for m in members) > MAX_INFLATED_BYTES or any(
                m.usize > max(RATIO_FLOOR, MAX_RATIO * m.csize) for m in members):
            raise _too_big(fname)  # as declared; the real sizes are counted while inflating
        self.inflated: dict[str, bytes | None] = {}  # name -> bytes kept (None: counted only)

    # -- members -------------------------------------------------------------------------------

    def find(self, path: str) -> _Member | None:
        """The member calamine reads for `path` (its cache lookup, then the exact name)."""
        return self.by_key.get(path.translate(_ASCII_LOWER)) or self.by_name.get(path)

    def inflate(self, m: _Member, keep: bool = True) -> bytes | None:
        if m.name in self.inflated:
            got = self.inflated[m.name]
            if got is not None or not keep:
                return got
            del self.inflated[m.name]
            self.budget += m.usize
        limit = min(self.budget, max(RATIO_FLOOR, MAX_RATIO * m.csize))
        raw = memoryview(self.data)[m.start:m.start + m.csize]
        if m.method == 0:
            if len(raw) > limit:
                raise _too_big(self.fname)
            out = bytes(raw) if keep else None
            size, crc = len(raw), zlib.crc32(raw)
        else:
            d = zlib.decompressobj(-15)
            chunks = []
            size = crc = 0
            pending = raw
            while True:
                try:
                    chunk = d.decompress(pending, min(limit - size + 1, 4 * 2**20))
                except zlib.error:
                    raise _damaged(self.fname) from None
                size += len(chunk)
                if size > limit:
                    raise _too_big(self.fname)
                crc = zlib.crc32(chunk, crc)
                if keep:
                    chunks.append(chunk)
                pending = d.unconsumed_tail
                if d.eof or (not pending and not chunk):
                    break
            if not d.eof:
                raise _damaged(self.fname)
            out = b"".join(chunks) if keep else None
        if size != m.usize or crc != m.crc:
            raise _damaged(self.fname)
        self.budget -= size
        self.inflated[m.name] = out
        return out

    def xml_part(self, path: str) -> bytes | None:
        m = self.find(path)
        if m is None:
            return None
        data = self.inflate(m)
        _check_xml(data, self.fname)
        return data

    def inflate_all(self, keep: set[str]) -> dict[str, bytes]:
        """Inflate every member, counting (a bomb can hide anywhere); return the kept parts."""
        members = {p: self.find(p) for p in keep}
        for p, m in members.items():
            if m is None:
                raise _damaged(self.fname)
        kept = {m.name for m in members.values()}
        for m in self.by_name.values():
            if m.name not in kept:
                self.inflate(m, keep=False)
        out = {}
        for p, m in members.items():
            out[p] = self.inflate(m)
            _check_xml(out[p], self.fname)
        return out

    # -- structure, resolved as calamine resolves it -------------------------------------------

    def structure(self) -> tuple[list[str], dict[str, str]]:
        fname = self.fname
        keys = self.by_key
        if "_rels/.rels" not in keys:
            if "mimetype" in keys and b"opendocument" in (self.inflate(keys["mimetype"]) or b""):
                raise _not_excel(fname, "an OpenDocument spreadsheet (.ods)")
            raise _not_excel(fname)
        if any(k.endswith("vbaproject.bin") for k in keys):
            raise _macros(fname)
        ct = self.xml_part("[Content_Types].xml")
        if ct is not None:
            low = ct.lower()
            if b"macroenabled" in low or b"vbaproject" in low or b"macrosheet" in low:
                raise _macros(fname)

        target = None
        for tag, attrs in _elements(self.xml_part("_rels/.rels"), fname):
            if tag == "Relationship" and attrs.get("Type", "").endswith(
                    "/relationships/officeDocument"):
                target = attrs.get("Target")
        if target is None:
            raise _not_excel(fname)
        leaf = target.lower().rsplit("/", 1)[-1]
        if leaf.endswith(".bin"):
            raise _not_excel(fname, "an Excel Binary Workbook (.xlsb)")
        if leaf == "document.xml":
            raise _not_excel(fname, "a Word document, not an Excel workbook")
        if leaf == "presentation.xml":
            raise _not_excel(fname, "a PowerPoint file, not an Excel workbook")
        i = target.rfind("/")
        xl_path = target[:i + 1].removeprefix("/") if i >= 0 else ""

        rels_xml = self.xml_part(xl_path + "_rels/workbook.xml.rels")
        if rels_xml is None:
            raise _damaged(fname)
        if b"&" in rels_xml:
            raise _damaged(fname)  # calamine does not unescape these targets; expat does
        rels = {}
        for tag, attrs in _elements(rels_xml, fname):
            if tag == "Relationship" and attrs.get("Id") is not None:
                rels[attrs["Id"]] = (attrs.get("Target", ""), attrs.get("Type", ""))

        wb = self.xml_part(xl_path + "workbook.xml")
        if wb is None:
            raise _not_excel(fname)
        n = len(_SHEET_TAG.findall(wb))
        if n > MAX_SHEETS:
            raise _too_many_sheets(fname, n)
        names: list[str] = []
        parts: dict[str, str] = {}
        for tag, attrs in _elements(wb, fname):
            if tag != "sheet":
                continue
            rid = None
            for k, v in attrs.items():  # calamine: the last attribute named id or *:id
                if k == "id" or k.endswith(":id"):
                    rid = v
            name = attrs.get("name", "")
            if rid not in rels or name in parts:
                raise _damaged(fname)
            target, typ = rels[rid]
            kind = typ.rsplit("/", 1)[-1]
            if kind == "macrosheet":
                raise _macros(fname)
            if kind not in ("worksheet", "chartsheet", "dialogsheet"):
                raise _damaged(fname)
            names.append(name)
            parts[name] = target[1:] if target.startswith("/") else xl_path + target
        if len(names) > MAX_SHEETS:
            raise _too_many_sheets(fname, len(names))

        # Parts calamine reads when it opens the workbook.
        shared = self.xml_part(xl_path + "sharedStrings.xml")
        if shared is not None:
            for value in _UNIQUE_COUNT.findall(shared):
                for digits in re.findall(rb"[0-9]+", value):
                    if len(digits) > 9 or int(digits) > MAX_SHARED_STRINGS:
                        raise _too_big(fname)
        self.xml_part(xl_path + "styles.xml")
        return names, parts


def _too_many_sheets(fname: str, n: int) -> UnreadableWorkbook:
    return UnreadableWorkbook(
        f"{fname} has {n:,} sheets, far more than a plan workbook (at most {MAX_SHEETS}); "
        "send the plan sheets only.")


_SHEET_TAG = re.compile(rb"<(?:[^\s<>/]*:)?sheet[\s/>]")
_UNIQUE_COUNT = re.compile(rb"uniqueCount\s*=\s*(\"[^\"]*\"|'[^']*')")


def _check_xml(data: bytes | None, fname: str) -> None:
    """Refuse what Excel never writes in a part we or calamine parse: a DTD (entity bombs and
    external entities live there), and UTF-16/32 text, which the byte scans here can't read."""
    if data is None:
        return
    if b"<!" in data and (b"<!DOCTYPE" in data or b"<!ENTITY" in data):
        raise UnreadableWorkbook(
            f"{fname} contains content that Excel never writes (an XML document type "
            "declaration), so it was not opened, to be safe; "
            "save the plan from Excel as an Excel Workbook (.xlsx) and try again.")
    if b"\x00" in data[:4] or data.startswith((b"\xfe\xff", b"\xff\xfe")):
        raise _damaged(fname)


def _elements(data: bytes | None, fname: str) -> list[tuple[str, dict]]:
    """(local name, attributes) of every element, in document order. Names are split at the
    first colon, as calamine's XML reader does; no namespace processing, no DTD (refused)."""
    if data is None:
        raise _damaged(fname)
    out = []

    def start(name, attrs):
        out.append((name.split(":", 1)[-1], attrs))

    def refuse(*args):
        raise _damaged(fname)

    parser = pyexpat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except (pyexpat.ExpatError, LookupError, UnicodeError):  # LookupError: unknown encoding
        raise _damaged(fname) from None
    return out


# ---------------------------------------------------------------------------------------------
# Sheet scan: the real used range, and the cells calamine returns as '' that are errors.

@dataclass
class _Scan:
    rows: int | None   # 1 + the largest row index of a cell with content; None: within the caps
    cols: int | None
    errors: dict       # (row, col) -> CellError


def _max_int_regex(n: int) -> bytes:
    """A regex for the integers 1..n written without leading zeros."""
    s = str(n)
    alts = [f"[1-9][0-9]{{0,{len(s) - 2}}}"] if len(s) > 1 else []
    for i, ch in enumerate(s):
        lo = 1 if i == 0 else 0
        if int(ch) > lo:
            alts.append(f"{s[:i]}[{lo}-{int(ch) - 1}][0-9]{{{len(s) - i - 1}}}")
    alts.append(s)
    return ("(?:" + "|".join(alts) + ")").encode()


def _max_col_regex(n: int) -> bytes:
    """A regex for the column letters of columns 1..n (n <= 702, two letters)."""
    if n <= 26:
        return f"[A-{chr(64 + n)}]".encode()
    first, second = divmod(n - 27, 26)
    alts = ["[A-Z]", f"{chr(65 + first)}[A-{chr(65 + second)}]"]
    if first:
        alts.insert(1, f"[A-{chr(64 + first)}][A-Z]")
    return ("(?:" + "|".join(alts) + ")").encode()


# The fast scan: the sheet is safe for calamine when every cell starts <c r="REF" with REF
# within the caps (or is an empty element), and no r attribute appears anywhere except right
# after "<c " or "<row ". (calamine places a cell by its last r attribute, or by counting when
# it has none, and drops cells without content.)
_IN_CAPS = _max_col_regex(MAX_COLUMNS) + _max_int_regex(MAX_ROWS)
_ODD_CELL = re.compile(rb'<c(?! r="' + _IN_CAPS + rb'")'
                       rb'(?! r="[A-Z]{1,3}[0-9]{1,7}"(?: [A-Za-z]+="[^"<>]*")*/>)[\s/>]')
# (the second lookahead lets through formatted empty cells anywhere: calamine drops them)
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_OTHER_R = re.compile(rb"r(?<=[\s\"']r)(?<!<c r)(?<!<row r)\s*=")
_T_ERR = re.compile(rb' t="e"')  # as the writers write it; a literal, so a fast search

_REF = re.compile(r"([A-Za-z]{0,3})([0-9]{1,7})")
_STRING_TYPES = ("str", "s", "inlineStr")


def _scan_sheet(xml: bytes, fname: str) -> _Scan:
    scan = _scan_fast(xml)
    if scan is None:  # irregular XML, or cells beyond the caps: look closer
        if len(xml) > MAX_EXACT_SCAN_BYTES:
            raise _TooMuch()
        scan = _scan_exact(xml, fname)
    return scan


def _scan_fast(xml: bytes) -> _Scan | None:
    """The common case (Excel, LibreOffice, openpyxl write cells as <c r="A1" ...>): a few
    regex searches over the part prove every cell is within the caps; None when they can't."""
    if _ODD_CELL.search(xml) or _PREFIXED_CELL.search(xml) or _OTHER_R.search(xml):
        return None
    errors = {}
    if b"<f" in xml or b't="e"' in xml:
        errors = _errors_fast(xml)
        if errors is None:
            return None
    return _Scan(None, None, errors)


# A formula with a saved value right after it, as Excel, LibreOffice and openpyxl write it, needs
# no closer look; the others (no value, an error, anything unusual) are parsed one by one.
_F_TO_LOOK_AT = re.compile(rb"<f(?=[\s/>])(?!(?:\s[^<>]*)?(?:/>|>[^<]*</f>)<v>[^<]+</v>)")
_F_EMPTY_TEXT = re.compile(rb"<f(?:\s[^<>]*)?(?:/>|>[^<]*</f>)<v></v>")
_C_OPEN = re.compile(rb'<c r="([A-Z]+)([0-9]+)"([^>]*?)(/?)>')
_F_OPEN = re.compile(rb"<f((?:\s[^>]*?)?)(/?)>")
_V_OPEN = re.compile(rb"<v(?:\s[^>]*?)?(/?)>")
_T_ATTR = re.compile(rb'\st="([^"]*)"')
_SI_ATTR = re.compile(rb'\ssi="([^"]*)"')
_SHARED_MASTER = re.compile(rb"<f(\s[^>]*)>")
_TAG_REACH = 1024       # how far back a cell's start tag may be from its <f> or t="e"
_CELL_REACH = 65536     # how long a cell's content may be (Excel: formulas up to 8,192 characters)


def _cell_at(xml: bytes, p: int) -> tuple[int, re.Match, int] | None:
    """The canonical cell around position p: (start, start-tag match, end); None if none.
    Every search is bounded, so hostile input can't make this quadratic."""
    q = xml.rfind(b"<c ", max(0, p - _TAG_REACH), p + 1)
    if q < 0:
        return None
    m = _C_OPEN.match(xml, q)
    if m is None:
        return None
    if m.group(4):
        return (q, m, m.end()) if m.end() > p else None
    limit = m.end() + _CELL_REACH
    following = xml.find(b"<c ", m.end(), limit)
    end = xml.find(b"</c>", m.end(), following if following >= 0 else limit)
    return (q, m, end) if end > p else None


def _errors_fast(xml: bytes) -> dict | None:
    """Error cells and formulas without a saved value, in a sheet whose cells all start
    <c r="A1" (checked by the caller). None when a cell is too unusual for this quick parse."""
    spots = []
    for found in (_F_TO_LOOK_AT.finditer(xml), _T_ERR.finditer(xml)):
        for m in found:
            spots.append(m.start())
            if len(spots) > MAX_ERROR_CELLS:
                return None  # let the exact scan count them
    cells = {}
    for p in spots:
        around = _cell_at(xml, p)
        if around is None:
            continue  # not inside a cell (a formula in validation or formatting rules)
        q, m, end = around
        if q in cells:
            continue
        if _F_EMPTY_TEXT.match(xml, p) and xml.find(b' t="str"', q, p) >= 0:
            continue  # a formula whose saved value is the empty string (LibreOffice)
        cell = _read_cell(m.group(3), xml[m.end():end] if not m.group(4) else b"")
        if cell is None:
            return None
        cells[q] = ((int(m.group(2)) - 1, _col_number(m.group(1)) - 1), cell)
    errors = {}
    masters = None
    for q in sorted(cells):
        pos, cell = cells[q]
        if cell.shared and not cell.formula:
            if masters is None:
                masters = _shared_masters(xml)
            if cell.si in masters:
                cell.formula = _translate(*masters[cell.si], pos)
        err = cell.error()
        if err is not None:
            errors[pos] = err
    return errors


def _read_cell(attrs: bytes, body: bytes) -> _Cell | None:
    t = _T_ATTR.search(attrs)
    cell = _Cell(t.group(1).decode("ascii", "replace") if t else "n")
    f = _F_OPEN.search(body)
    if f is not None:
        cell.has_f = True
        if not f.group(2):
            end = body.find(b"</f>", f.end())
            if end < 0 or b"<" in body[f.end():end]:
                return None  # CDATA or markup in the formula
            cell.formula = _unescape(body[f.end():end])
        fattrs = f.group(1)
        if b'"shared"' in fattrs:
            cell.shared = True
            si = _SI_ATTR.search(fattrs)
            cell.si = si.group(1).decode("ascii", "replace") if si else ""
    v = _V_OPEN.search(body)
    if v is not None:
        cell.has_v = True
        if not v.group(1):
            end = body.find(b"</v>", v.end())
            if end < 0 or b"<" in body[v.end():end]:
                return None
            cell.value = _unescape(body[v.end():end])
    cell.has_is = b"<is" in body
    return cell


def _shared_masters(xml: bytes) -> dict:
    """si -> (formula, position of the cell that holds it), for Excel's shared formulas."""
    masters = {}
    for m in _SHARED_MASTER.finditer(xml):
        attrs = m.group(1)
        if b'"shared"' not in attrs or b" ref=" not in attrs or attrs.endswith(b"/"):
            continue
        around = _cell_at(xml, m.start())
        si = _SI_ATTR.search(attrs)
        end = xml.find(b"</f>", m.end(), around[2]) if around else -1
        if end < 0 or si is None:
            continue
        c = around[1]
        pos = (int(c.group(2)) - 1, _col_number(c.group(1)) - 1)
        masters[si.group(1).decode("ascii", "replace")] = (_unescape(xml[m.end():end]), pos)
    return masters


class _Cell:
    __slots__ = ("t", "has_f", "formula", "shared", "si", "has_v", "value", "has_is")

    def __init__(self, t: str):
        self.t = t
        self.has_f = self.shared = self.has_v = self.has_is = False
        self.formula = self.si = self.value = ""

    def error(self) -> CellError | None:
        """What calamine returns as '' but is an error: an error value (t="e"), or a formula
        with no saved value (openpyxl writes none). A saved empty string is just empty."""
        if self.t == "e":
            text = self.value.strip()
            if text:
                return CellError(text, self.formula)
            return CellError("", self.formula) if self.has_f else None
        if self.has_f and not self.has_is and not (
                self.has_v and (self.value != "" or self.t in _STRING_TYPES)):
            return CellError("", self.formula)
        return None


def _translate(formula: str, origin: tuple[int, int], dest: tuple[int, int]) -> str:
    """The formula of a cell sharing the formula written at `origin` (Excel's shared formulas)."""
    from openpyxl.formula.tokenizer import TokenizerError  # rare: import lazily
    from openpyxl.formula.translate import Translator, TranslatorError
    try:
        return Translator("=" + formula, _a1(*origin)).translate_formula(_a1(*dest))[1:]
    except (TokenizerError, TranslatorError, ValueError):
        return ""


class _Beyond(Exception):
    """A cell with content beyond the caps, at 0-based (row, col)."""


class _TooMuch(Exception):
    """Too many error cells, or too much unusual XML, to look at closely."""


class _ExactScan:
    """Parse the sheet with expat and follow calamine's own rules for placing cells.

    Slower, so only for parts the fast scan declines. Malformed XML is refused (calamine reads
    some of it, differently from any parser). Cells with no content don't count towards the used
    range (calamine drops them), but they do advance calamine's column counter.
    """

    def __init__(self, fname: str):
        self.fname = fname
        self.row = self.col = 0
        self.rows = self.cols = 0
        self.cell: _Cell | None = None
        self.pos = (0, 0)
        self.has_child = self.master = False
        self.text: list[str] | None = None
        self.target = ""
        self.errors: dict = {}
        self.shared: dict = {}

    def start(self, name: str, attrs: dict):
        local = name.split(":", 1)[-1]
        if self.cell is not None:
            if local in ("c", "row"):
                raise _damaged(self.fname)
            self.has_child = True
            if local == "f":
                self.cell.has_f = True
                self.cell.shared = attrs.get("t") == "shared"
                self.cell.si = attrs.get("si", "")
                self.master = "ref" in attrs
                self.text, self.target = [], "f"
            elif local == "v":
                self.cell.has_v = True
                self.text, self.target = [], "v"
            elif local == "is":
                self.cell.has_is = True
        elif local == "row":
            if "r" in attrs:
                self.row = self._ref(attrs["r"], need_col=False)[0]
        elif local == "c":
            if "r" in attrs:
                self.pos = self._ref(attrs["r"], need_col=True)
                self.col = self.pos[1]
            else:
                self.pos = (self.row, self.col)
            self.cell = _Cell(attrs.get("t", "n"))
            self.has_child = self.master = False

    def end(self, name: str):
        local = name.split(":", 1)[-1]
        cell = self.cell
        if cell is not None and local == "c":
            row, col = self.pos
            if self.has_child:
                if row >= MAX_ROWS or col >= MAX_COLUMNS:
                    raise _Beyond(row, col)  # stop at the first one: no need to read on
                self.rows = max(self.rows, row + 1)
                self.cols = max(self.cols, col + 1)
            if cell.shared:
                if self.master and cell.formula:
                    self.shared[cell.si] = (cell.formula, self.pos)
                elif not cell.formula and cell.si in self.shared:
                    cell.formula = _translate(*self.shared[cell.si], self.pos)
            err = cell.error()
            if err is not None:
                self.errors[self.pos] = err
                if len(self.errors) > MAX_ERROR_CELLS:
                    raise _TooMuch()
            self.cell = None
            self.col = col + 1
        elif cell is not None and self.text is not None and local == self.target:
            setattr(cell, "formula" if self.target == "f" else "value", "".join(self.text))
            self.text = None
        elif cell is None and local == "row":
            self.row += 1
            self.col = 0
        if self.row > 2**31 or self.col > 2**31:
            raise _damaged(self.fname)

    def chars(self, data: str):
        if self.text is not None:
            self.text.append(data)

    def _ref(self, value: str, need_col: bool) -> tuple[int, int]:
        m = _REF.fullmatch(value)
        if m is None or (need_col and not m.group(1)) or int(m.group(2)) == 0:
            raise _damaged(self.fname)
        col = _col_number(m.group(1).upper().encode()) - 1 if m.group(1) else 0
        return int(m.group(2)) - 1, col


def _scan_exact(xml: bytes, fname: str) -> _Scan:
    scan = _ExactScan(fname)
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.chars
    try:
        parser.Parse(xml, True)
    except (pyexpat.ExpatError, LookupError, UnicodeError):  # LookupError: unknown encoding
        raise _damaged(fname) from None
    return _Scan(scan.rows, scan.cols, scan.errors)


def _col_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _a1(row: int, col: int) -> str:
    """A1 address of 0-based (row, col)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return f"{letters}{row + 1}"


_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _unescape(raw: bytes) -> str:
    """XML text as it reads (the five named entities and character references)."""
    s = raw.decode("utf-8", "replace")
    if "&" not in s:
        return s
    if "&#" not in s:
        return (s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
                .replace("&apos;", "'").replace("&amp;", "&"))

    def repl(m):
        if m.group(1):
            return _NAMED[m.group(1)]
        code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
        return chr(code) if 0 < code <= 0x10FFFF else "\ufffd"
    return _ENTITY.sub(repl, s)


# ---------------------------------------------------------------------------------------------
# Values, from calamine, only after every check above passed.

def _read_values(data: bytes, fname: str, names: list[str],
                 scans: dict[str, _Scan]) -> dict[str, list[list]]:
    out = {}
    try:
        with CalamineWorkbook.from_filelike(io.BytesIO(data)) as wb:
            if list(wb.sheet_names) != names:
                raise _damaged(fname)  # calamine resolved the parts differently from the checks
            total = 0
            for name in scans:
                out[name] = wb.get_sheet_by_name(name).to_python(skip_empty_area=False)
                total += len(out[name]) * (len(out[name][0]) if out[name] else 0)
                if total > MAX_CELLS:  # each sheet is within the caps, so this stays bounded
                    raise UnreadableWorkbook(
                        f"{fname} holds far more cells than a plan workbook; "
                        "send the plan sheets only, as an Excel Workbook (.xlsx).")
    except UnreadableWorkbook:
        raise
    except Exception as exc:  # calamine's errors (CalamineError and any other it raises)
        raise _damaged(fname) from exc
    except BaseException as exc:  # a Rust panic surfaces as pyo3's PanicException
        if type(exc).__name__ != "PanicException":
            raise
        raise _damaged(fname) from exc

    result = {}
    for name, scan in scans.items():
        raw = out.pop(name)
        height, width = len(raw), len(raw[0]) if raw else 0
        if scan.rows is None:
            most_rows, most_cols = MAX_ROWS, MAX_COLUMNS
        else:
            most_rows, most_cols = max(scan.rows, 1), max(scan.cols, 1)
        if height > most_rows or width > most_cols:
            raise _damaged(fname)  # calamine saw cells the scan did not: refuse, don't guess
        rows = [[None if v == "" else v for v in row] for row in raw]
        del raw
        for (r, c), err in scan.errors.items():
            if r >= MAX_ROWS or c >= MAX_COLUMNS:
                raise _damaged(fname)  # can't happen: the scans only report cells within caps
            while len(rows) <= r:
                rows.append([None] * width)
            if c >= width:
                for row in rows:
                    row.extend([None] * (c + 1 - width))
                width = c + 1
            rows[r][c] = err
        result[name] = rows
    return result
