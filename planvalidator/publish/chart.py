"""A measure's small chart as inline SVG: one bar per figure (history, target, reports), the
targets drawn hollow. role="img" with a <title> and a <desc> that reads out every figure, so a
screen reader hears the numbers; the same numbers are in the table beside it. Scales start at
zero, so bar lengths compare honestly. No script, no external resource.
"""

from __future__ import annotations

import functools

from markupsafe import Markup, escape

# Each figure takes two lines, its label above its bar, so the chart fits a 320 px phone at its
# own size (text is not shrunk): viewBox width, row height, bar room (the rest: the value)
WIDTH, ROW, BAR = 280, 36, 180
INK, PAPER = "#1d5c96", "#ffffff"             # 7.1:1 on white


def chart(anchor: str, name: str, figures) -> Markup:
    """The SVG of one measure's figures; empty when none of them is a number."""
    numbers = [f.number for f in figures if f.number is not None]
    if not numbers:
        return Markup("")
    top = max(max(numbers), 0) or 1
    height = ROW * len(figures) + 4
    ident = f"chart-{anchor}"
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="{ident}-t {ident}-d" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{ident}-t">Chart of the targets and actuals of {escape(name)}</title>',
        f'<desc id="{ident}-d">'
        + escape("; ".join(f"{f.label}: {f.text}" for f in figures)) + ".</desc>",
    ]
    for i, f in enumerate(figures):
        y = 4 + i * ROW
        parts.append(f'<text x="0" y="{y + 12}">{_label(f.label)}</text>')
        length = 0
        if f.number is not None and f.number > 0:
            length = max(1, round(BAR * f.number / top))
            parts.append(f'<rect x="0" y="{y + 17}" width="{length}" height="14" '
                         f'fill="{PAPER if f.is_target else INK}" stroke="{INK}" '
                         f'stroke-width="1.5"/>')
        parts.append(f'<text x="{length + 4}" y="{y + 29}">{escape(f.text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@functools.lru_cache(maxsize=256)
def _label(label: str) -> str:
    """A figure's label, escaped once: every measure of a schema shares the same few."""
    return escape(label)
