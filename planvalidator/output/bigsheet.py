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

from ..a1 import column_letter

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_SPECIAL = re.compile(r"[&<>\x00-\x08\x0b\x0c\x0e-\x1f]")
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
    out = [header.decode()]
    for r, (values, variant, *own) in enumerate(sheet.rows, start=2):
        style = styles[variant]
        marked = own[0] if own else None
        if marked:
            style = list(style)
            for c, v in marked.items():
                style[c] = styles[v][c]
        out.append(f'<row r="{r}">')
        for c, v in enumerate(values):   # the common case inline: ~150,000 cells a city
            if type(v) is str and not _SPECIAL.search(v) and not (v[:1].isspace() or
                                                                   v[-1:].isspace()):
                out.append(f'<c r="{letters[c]}{r}"{style[c]} t="inlineStr"><is><t>{v}</t></is></c>')
            elif v is not None:
                out.append(_cell(f"{letters[c]}{r}", style[c], v))
            elif marked and c in marked:
                out.append(f'<c r="{letters[c]}{r}"{style[c]}/>')   # an empty cell with a mark
        out.append("</row>")
    last = f"{letters[-1]}{max(len(sheet.rows) + 1, 2)}"
    head = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}"/>'.encode(), head)
    return head + b"<sheetData>" + "".join(out).encode() + b"</sheetData>" + tail
