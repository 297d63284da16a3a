"""The zip guard: the file's header, its zip directory parsed strictly, every member inflated
while counting, and the workbook's structure resolved the way calamine resolves it.

What is checked here is what calamine's zip reader will read; see xlsx.py for the whole story.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from dataclasses import dataclass

import pyexpat

from .xlsx import (MAX_MEMBERS, MAX_RATIO, MAX_SHEETS, PLAN, RATIO_FLOOR, Limits,
                   UnreadableWorkbook, damaged, macros, not_excel, too_big)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_file(path, fname: str, limits: Limits = PLAN) -> bytes:
    most = limits.file_bytes
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > most:
                raise UnreadableWorkbook(
                    f"{fname} is {size / 2**20:.0f} MB, larger than a plan workbook may be "
                    f"(the limit is {most // 2**20} MB).")
            data = f.read(most + 1)
    except FileNotFoundError:
        raise UnreadableWorkbook(f"{fname} could not be found.") from None
    except IsADirectoryError:
        raise UnreadableWorkbook(f"{fname} is a folder, not an Excel workbook.") from None
    except OSError as exc:
        reason = exc.strerror or "read failed"
        raise UnreadableWorkbook(f"{fname} could not be opened ({reason}).") from exc
    if len(data) > most:
        raise UnreadableWorkbook(
            f"{fname} is larger than a plan workbook may be "
            f"(the limit is {most // 2**20} MB).")
    return data


def _utf16(s: str) -> bytes:
    return s.encode("utf-16-le")


def check_header(data: bytes, fname: str) -> None:
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
        raise not_excel(fname, "an older Office file, not an Excel workbook")
    if not data.startswith(b"PK\x03\x04"):
        if data.startswith(b"PK\x05\x06"):
            raise damaged(fname)
        if data.startswith(b"%PDF"):
            raise not_excel(fname, "a PDF file, not an Excel workbook")
        raise not_excel(fname)


# ---------------------------------------------------------------------------------------------
# Zip directory, parsed strictly here: what is checked is what calamine's zip reader will read.

@dataclass
class Member:
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


def read_zip_directory(data: bytes, fname: str) -> list[Member]:
    n = len(data)
    p = data.rfind(b"PK\x05\x06", max(0, n - _EOCD.size - 0xFFFF))
    if p < 0 or p + _EOCD.size > n:
        raise damaged(fname)
    _, disk, cd_disk, n_disk, n_total, cd_size, cd_offset, comment_len = _EOCD.unpack_from(data, p)
    if p + _EOCD.size + comment_len != n or data.find(
            b"PK\x05\x06", max(0, n - _EOCD.size - 0xFFFF)) != p:
        raise damaged(fname)  # trailing bytes, or a second end record
    if n_total == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise too_big(fname)  # zip64: only needed beyond 4 GB
    if disk or cd_disk or n_disk != n_total or cd_offset + cd_size != p:
        raise damaged(fname)
    if n_total > MAX_MEMBERS:
        raise UnreadableWorkbook(
            f"{fname} has {n_total:,} parts, far more than a plan workbook; "
            "send the plan as an Excel Workbook (.xlsx) with its plan sheets only.")
    members = []
    pos = cd_offset
    for _ in range(n_total):
        if pos + _CDIR.size > p:
            raise damaged(fname)
        (sig, _made, _need, flags, method, _t, _d, crc, csize, usize, nlen, xlen, clen, _disk,
         _ia, _ea, offset) = _CDIR.unpack_from(data, pos)
        if sig != b"PK\x01\x02":
            raise damaged(fname)
        raw_name = data[pos + 46:pos + 46 + nlen]
        extra = data[pos + 46 + nlen:pos + 46 + nlen + xlen]
        pos += 46 + nlen + xlen + clen
        if pos > p or flags & 0x1 or method not in (0, 8) or (method == 0 and csize != usize):
            raise damaged(fname)  # encrypted member, unusual compression
        if csize == 0xFFFFFFFF or usize == 0xFFFFFFFF or offset == 0xFFFFFFFF:
            raise too_big(fname)
        e = 0
        while e + 4 <= len(extra):
            xid, xsize = struct.unpack_from("<2H", extra, e)
            if xid in _ZIP64_OR_UNICODE_EXTRA:
                raise damaged(fname)  # sizes or names that other zip readers see differently
            e += 4 + xsize
        try:
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError:
            raise damaged(fname) from None
        members.append(Member(name, flags, method, crc, csize, usize, offset))
    if pos != p:
        raise damaged(fname)
    end = 0
    for m in sorted(members, key=lambda m: m.offset):
        if m.offset < end or m.offset + _LOCAL.size > cd_offset:
            raise damaged(fname)  # overlapping members (a classic bomb) or out of range
        sig, *_, nlen, xlen = _LOCAL.unpack_from(data, m.offset)
        if sig != b"PK\x03\x04" or data[m.offset + 30:m.offset + 30 + nlen] != m.name.encode(
                "utf-8" if m.flags & 0x800 else "cp437"):
            raise damaged(fname)
        m.start = m.offset + 30 + nlen + xlen
        end = m.start + m.csize
        if end > cd_offset:
            raise damaged(fname)
    return members


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _zip_key(name: str) -> str:
    """How calamine finds a part: backslashes as slashes, ASCII case ignored."""
    return name.replace("\\", "/").translate(_ASCII_LOWER)


class Book:
    """The zip members of one workbook, their inflated-size budget, and its structure."""

    def __init__(self, data: bytes, members: list[Member], fname: str, limits: Limits = PLAN):
        self.data = data
        self.fname = fname
        self.by_key: dict[str, Member] = {}
        self.by_name = {m.name: m for m in members}
        for m in members:
            key = _zip_key(m.name)
            if key in self.by_key:
                raise damaged(fname)  # two parts calamine could confuse
            self.by_key[key] = m
        self.limits = limits
        self.budget = limits.inflated_bytes
        if sum(m.usize for m in members) > limits.inflated_bytes or any(
                m.usize > max(RATIO_FLOOR, MAX_RATIO * m.csize) for m in members):
            raise too_big(fname)  # as declared; the real sizes are counted while inflating
        self.inflated: dict[str, bytes | None] = {}  # name -> bytes kept (None: counted only)
        self.hidden: dict[str, str] = {}   # sheet name -> "hidden" or "veryHidden" (structure())

    # -- members -------------------------------------------------------------------------------

    def find(self, path: str) -> Member | None:
        """The member calamine reads for `path` (its cache lookup, then the exact name)."""
        return self.by_key.get(path.translate(_ASCII_LOWER)) or self.by_name.get(path)

    def inflate(self, m: Member, keep: bool = True) -> bytes | None:
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
                raise too_big(self.fname)
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
                    raise damaged(self.fname) from None
                size += len(chunk)
                if size > limit:
                    raise too_big(self.fname)
                crc = zlib.crc32(chunk, crc)
                if keep:
                    chunks.append(chunk)
                pending = d.unconsumed_tail
                if d.eof or (not pending and not chunk):
                    break
            if not d.eof:
                raise damaged(self.fname)
            out = b"".join(chunks) if keep else None
        if size != m.usize or crc != m.crc:
            raise damaged(self.fname)
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
                raise damaged(self.fname)
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
                raise not_excel(fname, "an OpenDocument spreadsheet (.ods)")
            raise not_excel(fname)
        if any(k.endswith("vbaproject.bin") for k in keys):
            raise macros(fname)
        ct = self.xml_part("[Content_Types].xml")
        if ct is not None:
            low = ct.lower()
            if b"macroenabled" in low or b"vbaproject" in low or b"macrosheet" in low:
                raise macros(fname)

        target = None
        for tag, attrs in _elements(self.xml_part("_rels/.rels"), fname):
            if tag == "Relationship" and attrs.get("Type", "").endswith(
                    "/relationships/officeDocument"):
                target = attrs.get("Target")
        if target is None:
            raise not_excel(fname)
        leaf = target.lower().rsplit("/", 1)[-1]
        if leaf.endswith(".bin"):
            raise not_excel(fname, "an Excel Binary Workbook (.xlsb)")
        if leaf == "document.xml":
            raise not_excel(fname, "a Word document, not an Excel workbook")
        if leaf == "presentation.xml":
            raise not_excel(fname, "a PowerPoint file, not an Excel workbook")
        i = target.rfind("/")
        xl_path = target[:i + 1].removeprefix("/") if i >= 0 else ""

        rels_xml = self.xml_part(xl_path + "_rels/workbook.xml.rels")
        if rels_xml is None:
            raise damaged(fname)
        if b"&" in rels_xml:
            raise damaged(fname)  # calamine does not unescape these targets; expat does
        rels = {}
        for tag, attrs in _elements(rels_xml, fname):
            if tag == "Relationship" and attrs.get("Id") is not None:
                rels[attrs["Id"]] = (attrs.get("Target", ""), attrs.get("Type", ""))

        wb = self.xml_part(xl_path + "workbook.xml")
        if wb is None:
            raise not_excel(fname)
        n = len(_SHEET_TAG.findall(wb))
        if n > MAX_SHEETS:
            raise too_many_sheets(fname, n)
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
                raise damaged(fname)
            target, typ = rels[rid]
            kind = typ.rsplit("/", 1)[-1]
            if kind == "macrosheet":
                raise macros(fname)
            if kind not in ("worksheet", "chartsheet", "dialogsheet"):
                raise damaged(fname)
            part = target[1:] if target.startswith("/") else xl_path + target
            if _traverses(part):
                raise damaged(fname)  # Excel and LibreOffice resolve it elsewhere, or nowhere
            names.append(name)
            parts[name] = part
            state = attrs.get("state", "visible")
            if state != "visible":
                self.hidden[name] = "veryHidden" if state == "veryHidden" else "hidden"
        if len(names) > MAX_SHEETS:
            raise too_many_sheets(fname, len(names))

        # Parts calamine reads when it opens the workbook.
        shared = self.xml_part(xl_path + "sharedStrings.xml")
        if shared is not None:
            for value in _UNIQUE_COUNT.findall(shared):
                for digits in re.findall(rb"[0-9]+", value):
                    if len(digits) > 9 or int(digits) > self.limits.shared_strings:
                        raise too_big(fname)
        self.xml_part(xl_path + "styles.xml")
        return names, parts


def _traverses(part: str) -> bool:
    """A part name with `.` or `..` segments: calamine opens the zip member of that literal
    name, Excel and LibreOffice the path it resolves to (outside the package for `xl/../../x.xml`),
    so the sheet one reads is not the sheet the other shows."""
    return any(seg in ("", ".", "..") for seg in part.replace("\\", "/").split("/"))


def too_many_sheets(fname: str, n: int) -> UnreadableWorkbook:
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
        raise damaged(fname)


def _elements(data: bytes | None, fname: str) -> list[tuple[str, dict]]:
    """(local name, attributes) of every element, in document order. Names are split at the
    first colon, as calamine's XML reader does; no namespace processing, no DTD (refused)."""
    if data is None:
        raise damaged(fname)
    out = []

    def start(name, attrs):
        out.append((name.split(":", 1)[-1], attrs))

    def refuse(*args):
        raise damaged(fname)

    parser = pyexpat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except (pyexpat.ExpatError, LookupError, UnicodeError):  # LookupError: unknown encoding
        raise damaged(fname) from None
    return out
