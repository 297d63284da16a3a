"""Reading a published site back as a visitor's browser would: the text and the <data> values
of every element that carries a data-field, per measure (an agency page's article, a pillar
page's table row: any element with a data-measure) and per page."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

VOID = {"meta", "link", "br", "img", "input", "hr", "rect"}


class Page(HTMLParser):
    """measures: measure id → {field: text}, numbers: measure id → {field: <data value>},
    fields: page-level fields (outside articles) → [text, ...], text: all visible text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.measures, self.numbers, self.fields = {}, {}, {}
        self.stack, self.open_fields, self.article, self.chunks = [], [], None, []
        self.article_depth = 0   # the stack depth of the open data-measure element
        self.tags = []   # (tag, attrs) of every start tag, in order
        self.feed(html)
        self.text = " ".join("".join(self.chunks).split())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag in VOID:
            return
        self.stack.append(tag)
        if "data-measure" in attrs:
            self.article, self.article_depth = attrs["data-measure"], len(self.stack)
            self.measures[self.article], self.numbers[self.article] = {}, {}
        if "data-field" in attrs:
            self.open_fields.append((len(self.stack), attrs["data-field"], []))
        if tag == "data" and self.open_fields and self.article:
            self.numbers[self.article][self.open_fields[-1][1]] = float(attrs["value"])

    def handle_endtag(self, tag):
        if tag in VOID or not self.stack:
            return
        depth = len(self.stack)
        self.stack.pop()
        if self.open_fields and self.open_fields[-1][0] == depth:
            _, name, parts = self.open_fields.pop()
            text = " ".join("".join(parts).split())
            if self.article:
                self.measures[self.article][name] = text
            else:
                self.fields.setdefault(name, []).append(text)
        if depth == self.article_depth:
            self.article, self.article_depth = None, 0

    def handle_data(self, data):
        if self.stack and self.stack[-1] in ("style", "title") and "svg" not in self.stack:
            return
        self.chunks.append(data)
        for _, _, parts in self.open_fields:
            parts.append(data)


def page(folder: Path, name: str) -> Page:
    return Page((Path(folder) / name).read_text(encoding="utf-8"))
