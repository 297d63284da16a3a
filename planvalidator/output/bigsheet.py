"""Fast rows for big sheets: openpyxl lays out the sheet, we write its rows.

openpyxl costs ~20 µs a cell; a consolidated city plan has ~200,000. So the consolidated
workbook is built with openpyxl as usual (header, column widths, frozen panes, tables, charts)
with one *prototype* row per style variant under the header, and on saving, each big sheet's
<sheetData> is replaced by rows written here as plain XML (~1 µs a cell), each cell taking the
style id its prototype got. Text is written as inline strings: never as a formula.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from html import escape as _html_escape
from itertools import chain, zip_longest
from types import NoneType

from ..a1 import column_letter

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
_NUMBERS = (int, float)   # written as they are (NaN: as no cell)
_CELL_STYLE = re.compile(rb'<c r="([A-Z]+)(\d+)"(?: s="(\d+)")?')


@dataclass
class BigSheet:
    """Rows for one sheet: `rows` are (values, variant) where variant picks the prototype row
    (0 = the first row under the header) whose styles the values take, or (values, variant,
    cells) where `cells` maps a column (0-based) to the variant that one cell takes instead
    (a cell marked with a fill, a fraction in a column of whole numbers)."""
    ws: object                     # the openpyxl worksheet holding header + prototype rows
    width: int
    variants: int = 1
    rows: list = field(default_factory=list)

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
    # comprehension (~0.1 µs a cell). A row shorter than others is as if it ended in Nones.
    n = len(sheet.rows)
    numbers = [str(r) for r in range(2, n + 2)]
    variants = [row[1] for row in sheet.rows]
    used = set(variants)
    column_styles = []   # each cell's style, column by column
    for c in range(sheet.width):
        distinct = {styles[variant][c] for variant in used}
        column_styles.append([styles[variant][c] for variant in variants] if len(distinct) > 1
                             else [*distinct] * n)
    empty_marked = []   # (column, row index) of a None with a mark: written as an empty cell
    for i, (values, _, *own) in enumerate(sheet.rows):
        marked = own[0] if own else None
        for c, variant in (marked.items() if marked else ()):
            column_styles[c][i] = styles[variant][c]
            if c < len(values) and values[c] is None:
                empty_marked.append((c, i))
    columns = list(zip_longest(*(row[0] for row in sheet.rows)))
    cells = [_column(letters[c], numbers, column_styles[c], values)
             for c, values in enumerate(columns)]
    for c, i in empty_marked:
        cells[c][i] = f'<c r="{letters[c]}{numbers[i]}"{column_styles[c][i]}/>'
    opening = [f'<row r="{r}">' for r in numbers]
    rows = chain.from_iterable(zip(opening, *cells, ["</row>"] * n))
    last = f"{letters[-1]}{max(n + 1, 2)}"
    head = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}"/>'.encode(), head)
    data = "".join(chain([header.decode()], rows)).encode()
    return b"".join([head, b"<sheetData>", data, b"</sheetData>", tail])   # one copy of ~8 MB


def _plain(texts: list[str]) -> bool:
    """Whether _cell writes each of these texts as it is: nothing to escape or drop, and no
    space at either end (str.strip strips what str.isspace calls a space)."""
    joined = "".join(texts)
    return not _SPECIAL.search(joined) and len("".join(map(str.strip, texts))) == len(joined)


def _column(letter: str, numbers: list[str], styles: list[str], values) -> list[str]:
    """The cells of one column ("" where a value writes none): text and numbers each by one
    f-string, the text when none of the column's needs escaping (checked all at once);
    anything else by _cell."""
    kinds = set(map(type, values)) - {NoneType}
    if not kinds:
        return [""] * len(values)
    plain = _plain(list(filter(None, values)) if kinds == {str} else
                   [v for v in values if type(v) is str])
    if plain and kinds == {str}:   # the most common column: a plan's text
        return [f'<c r="{letter}{r}"{s} t="inlineStr"><is><t>{v}</t></is></c>'
                if v is not None else "" for r, s, v in zip(numbers, styles, values)]
    return [f'<c r="{letter}{r}"{s} t="inlineStr"><is><t>{v}</t></is></c>'
            if type(v) is str and plain else
            f'<c r="{letter}{r}"{s}><v>{v!r}</v></c>' if type(v) in _NUMBERS and v == v else
            "" if v is None else _cell(f"{letter}{r}", s, v)
            for r, s, v in zip(numbers, styles, values)]
