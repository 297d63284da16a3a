"""Fast rows for big sheets: openpyxl lays out the sheet, we write its rows.

openpyxl costs ~20 µs a cell; a consolidated city plan has ~200,000. So the consolidated
workbook is built with openpyxl as usual (header, column widths, frozen panes, tables, charts)
with one *prototype* row per style variant under the header, and on saving, each big sheet's
<sheetData> is replaced by rows written here as plain XML, column by column (~0.3 µs a cell),
each cell taking the style id its prototype got. Text is written as inline strings: never as a
formula.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape as _html_escape
from itertools import chain, zip_longest
from types import NoneType

from ..a1 import column_letter

_ILLEGAL_CHARS = "".join(map(chr, [*range(0x09), 0x0b, 0x0c, *range(0x0e, 0x20)]))   # not in XML
_ILLEGAL = re.compile(f"[{_ILLEGAL_CHARS}]")
_SPECIAL = re.compile(f"[&<>{_ILLEGAL_CHARS}]")   # escaped or dropped on writing
_SPECIAL_BYTES = f"&<>{_ILLEGAL_CHARS}".encode()   # the same, for bytes.translate
_NUMBERS = (int, float)   # written as they are (NaN: as no cell)
_CELL_STYLE = re.compile(rb'<c r="([A-Z]+)(\d+)"(?: s="(\d+)")?')


class _Blank:
    """BLANK: a value written as an empty cell that keeps its style (a blank cell marked with
    a finding's fill), where None writes no cell."""


BLANK = _Blank()


@dataclass
class BigSheet:
    """Rows for one sheet, added either row by row to `rows`: (values, variant) where variant
    picks the prototype row (0 = the first row under the header) whose styles the values take,
    or (values, variant, cells) where `cells` maps a column (0-based) to the variant that one
    cell takes instead (a cell marked with a fill, a fraction in a column of whole numbers);
    or column by column by `extend`, as a plan holds them (a sheet takes one or the other)."""
    ws: object                     # the openpyxl worksheet holding header + prototype rows
    width: int
    variants: int = 1
    rows: list = field(default_factory=list)
    columns: list = field(default_factory=list)         # by extend: each column's values
    cell_variants: list = field(default_factory=list)   # and each of its cells' variant

    def extend(self, columns: list, variants: list) -> None:
        """Add rows given column by column: each column's values and each of its cells'
        variant."""
        height = len(columns[0])
        assert all(len(c) == height for c in columns + variants), "columns of unequal length"
        if not self.columns:
            self.columns, self.cell_variants = [[] for _ in columns], [[] for _ in columns]
        for mine, values in zip(self.columns, columns, strict=True):
            mine += values
        for mine, cells in zip(self.cell_variants, variants, strict=True):
            mine += cells

    @property
    def height(self) -> int:
        """The number of rows."""
        return len(self.columns[0]) if self.columns else len(self.rows)

    @property
    def part(self) -> str:
        """The sheet's part in the package; known once openpyxl has numbered the sheets."""
        return self.ws.path.lstrip("/")


def escape(text: str) -> str:
    """&, < and > as entities (xml.sax.saxutils.escape, whose module imports urllib and http)."""
    return _html_escape(text, quote=False)


def _cell(ref: str, style: str, value) -> str:
    kind = type(value)
    if kind is str:   # the common case first; most text needs no escaping
        text = escape(_ILLEGAL.sub("", value)) if _SPECIAL.search(value) else value
    elif value is None or (kind is float and math.isnan(value)):
        return ""
    elif kind is bool:
        return f'<c r="{ref}"{style} t="b"><v>{int(value)}</v></c>'
    elif kind in (int, float):
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    elif value is BLANK:
        return f'<c r="{ref}"{style}/>'
    else:
        text = escape(_ILLEGAL.sub("", str(value)))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'


def splice(sheets: list[BigSheet]):
    """A `transform` for output.save_workbook that writes each BigSheet's rows."""
    def transform(name: str, data: bytes) -> bytes:
        sheet = next((s for s in sheets if s.part == name), None)
        return _rewrite(sheet, data) if sheet else data
    return transform


def _rewrite(sheet: BigSheet, xml: bytes) -> bytes:
    head, rest = xml.split(b"<sheetData>", 1)
    body, tail = rest.split(b"</sheetData>", 1)
    header_end = body.index(b"</row>") + len(b"</row>")
    header, prototypes = body[:header_end], body[header_end:]
    letters = [column_letter(c) for c in range(1, sheet.width + 1)]
    styles = [[""] * sheet.width for _ in range(sheet.variants)]
    for col, row, s in _CELL_STYLE.findall(prototypes):
        variant, c = int(row) - 2, letters.index(col.decode())
        if s and variant < sheet.variants:
            styles[variant][c] = f' s="{s.decode()}"'
    # The rows are written column by column: a column's letter is fixed, and mostly its style
    # and the kind of its values too, so most of its cells take one f-string each in one
    # comprehension; the rows are then the columns' cells zipped.
    n = sheet.height
    numbers = [str(r) for r in range(2, n + 2)]
    columns, variants = _by_column(sheet)
    by_column = list(zip(*styles))   # each column's style in each variant
    cells = [_column(letters[c], numbers, by_column[c], variants[c], values)
             for c, values in enumerate(columns)]
    opening = [f'<row r="{r}">' for r in numbers]
    rows = chain.from_iterable(zip(opening, *cells, ["</row>"] * n))
    last = f"{letters[-1]}{max(n + 1, 2)}"
    head = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}"/>'.encode(), head)
    data = "".join(chain([header.decode()], rows)).encode()
    return b"".join([head, b"<sheetData>", data, b"</sheetData>", tail])   # one copy of ~8 MB


def _by_column(sheet: BigSheet) -> tuple[list, list]:
    """Each column's values and each of its cells' variant. Rows added row by row are turned
    into columns: a row shorter than the others reads as ending in Nones, and a None that its
    row's `cells` marks becomes BLANK."""
    if not sheet.rows:
        return sheet.columns, sheet.cell_variants
    assert not sheet.columns, "a BigSheet takes its rows row by row or column by column"
    columns = [list(values) for values in zip_longest(*(row[0] for row in sheet.rows))]
    row_variants = [row[1] for row in sheet.rows]
    variants = [list(row_variants) for _ in columns]
    for i, (values, _, *own) in enumerate(sheet.rows):
        marked = own[0] if own else None
        for c, variant in (marked.items() if marked else ()):
            if c < len(values):   # a cell the row has
                variants[c][i] = variant
                if values[c] is None:
                    columns[c][i] = BLANK
    return columns, variants


def _plain(texts: list[str]) -> bool:
    """Whether _cell writes each of these texts as it is: nothing to escape or drop, and no
    space at either end (str.strip strips what str.isspace calls a space)."""
    joined = "".join(texts)
    encoded = joined.encode()   # UTF-8: _SPECIAL's characters stay single bytes, no others
    return (len(encoded.translate(None, _SPECIAL_BYTES)) == len(encoded)   # 5× _SPECIAL.search
            and len("".join(map(str.strip, texts))) == len(joined))


def _column(letter: str, numbers: list[str], styles: tuple[str, ...], variants: list[int],
            values: list) -> list[str]:
    """The cells of one column ("" where a value writes none), each with the style of its
    variant: text and numbers each by one f-string, the text when none of the column's needs
    escaping (checked all at once); anything else by _cell."""
    kinds = set(map(type, values)) - {NoneType}
    if not kinds:
        return [""] * len(values)
    plain = _plain(list(filter(None, values)) if kinds == {str} else
                   [v for v in values if type(v) is str] if str in kinds else [])
    if plain and kinds == {str}:   # the most common column: a plan's text
        return [f'<c r="{letter}{r}"{styles[s]} t="inlineStr"><is><t>{v}</t></is></c>'
                if v is not None else "" for r, s, v in zip(numbers, variants, values)]
    return [f'<c r="{letter}{r}"{styles[s]} t="inlineStr"><is><t>{v}</t></is></c>'
            if type(v) is str and plain else
            f'<c r="{letter}{r}"{styles[s]}><v>{v!r}</v></c>' if type(v) in _NUMBERS and v == v
            else "" if v is None else _cell(f"{letter}{r}", styles[s], v)
            for r, s, v in zip(numbers, variants, values)]
