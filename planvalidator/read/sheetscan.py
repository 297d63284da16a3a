"""The sheet scan: each sheet's real used range, from its cell references (not the <dimension>
element, which can lie), and the cells calamine returns as '' that are errors (error values,
formulas with no saved value, Excel's shared formulas).

A few regex searches over the bytes settle what Excel, LibreOffice and openpyxl write; anything
unusual is parsed with expat, following calamine's own rules for placing cells. The hot paths
stay on bytes (a decode per cell would cost more than the scan); a1.py does the arithmetic only
for the few cells looked at closely.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pyexpat

from ..a1 import address, column_letter, column_number
from .xlsx import MAX_ERROR_CELLS, PLAN, CellError, Limits, damaged

@dataclass
class Scan:
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
    last = column_letter(n)
    if len(last) == 1:
        return f"[A-{last}]".encode()
    first, second = last
    alts = ["[A-Z]", f"{first}[A-{second}]"]
    if first != "A":
        alts.insert(1, f"[A-{column_letter(column_number(first) - 1)}][A-Z]")
    return ("(?:" + "|".join(alts) + ")").encode()


# The fast scan: the sheet is safe for calamine when every cell starts <c r="REF" with REF
# within the caps (or is an empty element), and no r attribute appears anywhere except right
# after "<c " or "<row ". (calamine places a cell by its last r attribute, or by counting when
# it has none, and drops cells without content.)
@lru_cache(maxsize=4)
def _odd_cell(rows: int, cols: int) -> re.Pattern:
    in_caps = _max_col_regex(cols) + _max_int_regex(rows)
    return re.compile(rb'<c(?! r="' + in_caps + rb'")'
                      rb'(?! r="[A-Z]{1,3}[0-9]{1,7}"(?: [A-Za-z]+="[^"<>]*")*/>)[\s/>]')
    # (the second lookahead lets through formatted empty cells anywhere: calamine drops them)
_PREFIXED_CELL = re.compile(rb":c[\s/>]")
_OTHER_R = re.compile(rb"r(?<=[\s\"']r)(?<!<c r)(?<!<row r)\s*=")
_T_ERR = re.compile(rb' t="e"')  # as the writers write it; a literal, so a fast search
_F_TAG = re.compile(rb"<f[\s/>]")   # a cell's formula (not <formula> of formatting rules)

_REF = re.compile(r"([A-Za-z]{0,3})([0-9]{1,7})")
_STRING_TYPES = ("str", "s", "inlineStr")


def scan_sheet(xml: bytes, fname: str, limits: Limits = PLAN) -> Scan:
    scan = _scan_fast(xml, limits)
    if scan is None:  # irregular XML, or cells beyond the caps: look closer
        if len(xml) > limits.exact_scan_bytes:
            raise TooMuch()
        scan = _scan_exact(xml, fname, limits)
    return scan


def _scan_fast(xml: bytes, limits: Limits) -> Scan | None:
    """The common case (Excel, LibreOffice, openpyxl write cells as <c r="A1" ...>): a few
    regex searches over the part prove every cell is within the caps; None when they can't."""
    if _odd_cell(limits.rows, limits.columns).search(xml) or _PREFIXED_CELL.search(xml) or _OTHER_R.search(xml):
        return None
    errors = {}
    if b't="e"' in xml or _F_TAG.search(xml):
        errors = _errors_fast(xml)
        if errors is None:
            return None
    return Scan(None, None, errors)


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
# The cell a formula never calculated is, as openpyxl writes it: no value, nothing else to read.
_PLAIN_F = re.compile(rb'<c r="([A-Z]+)([0-9]+)"(?: [A-Za-z]+="[^"<>]*")*><f>([^<]*)</f></c>')
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
    plain_errors = {}   # formula text -> its error: one for the many cells a formula fills
    for p in spots:
        q = xml.rfind(b"<c ", max(0, p - _TAG_REACH), p + 1)
        plain = _PLAIN_F.match(xml, q) if q >= 0 else None
        if plain is not None and plain.start(3) == p + 3:   # the common case, at a glance
            letters, digits, formula = plain.groups()
            err = plain_errors.get(formula)
            if err is None:
                err = plain_errors[formula] = CellError("", _unescape(formula))
            cells[q] = ((int(digits) - 1, _column_index(letters)), err)
            continue
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
        cells[q] = ((int(m.group(2)) - 1, _column_index(m.group(1))), cell)
    errors = {}
    masters = None
    for q in sorted(cells):
        pos, cell = cells[q]
        if type(cell) is CellError:
            errors[pos] = cell
            continue
        if cell.shared and not cell.formula:
            if masters is None:
                masters = _shared_masters(xml)
            if cell.si in masters:
                cell.formula = _translate(*masters[cell.si], pos)
        err = cell.error()
        if err is not None:
            errors[pos] = err
    return errors


@lru_cache(maxsize=1024)
def _column_index(letters: bytes) -> int:
    """0-based column of a cell reference's letters."""
    return column_number(letters.decode("ascii")) - 1


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
        pos = (int(c.group(2)) - 1, column_number(c.group(1).decode("ascii")) - 1)
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
        return Translator("=" + formula, address(origin[0] + 1, origin[1] + 1)).translate_formula(
            address(dest[0] + 1, dest[1] + 1))[1:]
    except (TokenizerError, TranslatorError, ValueError):
        return ""


class Beyond(Exception):
    """A cell with content beyond the caps, at 0-based (row, col)."""


class TooMuch(Exception):
    """Too many error cells, or too much unusual XML, to look at closely."""


class _ExactScan:
    """Parse the sheet with expat and follow calamine's own rules for placing cells.

    Slower, so only for parts the fast scan declines. Malformed XML is refused (calamine reads
    some of it, differently from any parser). Cells with no content don't count towards the used
    range (calamine drops them), but they do advance calamine's column counter.
    """

    def __init__(self, fname: str, limits: Limits):
        self.fname = fname
        self.most = (limits.rows, limits.columns)
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
                raise damaged(self.fname)
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
                if row >= self.most[0] or col >= self.most[1]:
                    raise Beyond(row, col)  # stop at the first one: no need to read on
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
                    raise TooMuch()
            self.cell = None
            self.col = col + 1
        elif cell is not None and self.text is not None and local == self.target:
            setattr(cell, "formula" if self.target == "f" else "value", "".join(self.text))
            self.text = None
        elif cell is None and local == "row":
            self.row += 1
            self.col = 0
        if self.row > 2**31 or self.col > 2**31:
            raise damaged(self.fname)

    def chars(self, data: str):
        if self.text is not None:
            self.text.append(data)

    def _ref(self, value: str, need_col: bool) -> tuple[int, int]:
        m = _REF.fullmatch(value)
        if m is None or (need_col and not m.group(1)) or int(m.group(2)) == 0:
            raise damaged(self.fname)
        col = column_number(m.group(1)) - 1 if m.group(1) else 0
        return int(m.group(2)) - 1, col


def _scan_exact(xml: bytes, fname: str, limits: Limits) -> Scan:
    scan = _ExactScan(fname, limits)
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.chars
    try:
        parser.Parse(xml, True)
    except (pyexpat.ExpatError, LookupError, UnicodeError):  # LookupError: unknown encoding
        raise damaged(fname) from None
    return Scan(scan.rows, scan.cols, scan.errors)


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
